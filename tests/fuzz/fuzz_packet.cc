// libFuzzer target for the packet model: arbitrary bytes parsed as a frame
// of every link type in every context, then every lookup, load and
// checksum helper, and reject's reply builders, run on it. Any read outside
// the bytes is a sanitizer finding; results that point outside the data
// abort.
#include <nfx/packet.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

using namespace nfx::packet;

void require(bool ok) {
  if (!ok) std::abort();
}

void exercise(const std::uint8_t* data, std::size_t size, LinkType link, Context ctx) {
  // An exact-size heap copy, so that an overread past the end is caught.
  std::vector<std::uint8_t> bytes(data, data + size);
  const std::span<const std::uint8_t> frame(bytes);
  const PacketLayout l = parse_layout(frame, link, ctx);
  require(l.end <= size);
  if (l.link_ok) require(l.nh_off <= l.end);
  if (l.l4_valid && l.protocol == kEthPIp) require(l.th_off <= l.end);
  const std::uint64_t end = l.end;

  // Lookup targets: the first byte picks extra ones, so every value gets tried.
  const std::uint8_t extra = size != 0 ? data[0] : 0;
  for (std::uint8_t t : {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{6},
                         std::uint8_t{8}, std::uint8_t{43}, std::uint8_t{44}, std::uint8_t{51},
                         std::uint8_t{59}, std::uint8_t{60}, kIpOptRr, kIpOptLsrr, kIpOptSsrr,
                         kIpOptRa, extra}) {
    if (auto o = find_ipv6_exthdr(frame, l, t)) require(l.link_ok);
    if (auto o = find_tcp_option(frame, l, t)) require(o->offset + std::uint64_t{o->length} <= end);
    if (auto o = find_ipv4_option(frame, l, t)) require(*o < end);
    if (auto o = find_sctp_chunk(frame, l, t)) require(o->offset + 4ull <= end);
  }

  std::uint8_t buf[256];
  for (PayloadBase b : {PayloadBase::Link, PayloadBase::Network, PayloadBase::Transport,
                        PayloadBase::Inner}) {
    const auto base = payload_base_offset(frame, l, b);
    for (std::uint32_t off : {0u, 2u, 9u, 16u, 40u, std::uint32_t{extra}}) {
      for (std::uint32_t len : {1u, 4u, 16u, 255u}) {
        if (payload_load(frame, l, b, off, len, buf)) {
          require(base.has_value() && *base + std::uint64_t{off} + len <= end);
        }
      }
    }
  }

  (void)compute_transport_checksum(frame, l);
  (void)transport_checksum_ok(frame, l);
  std::vector<std::uint8_t> copy = bytes;
  (void)fill_ipv4_header_checksum(copy, l);
  (void)fill_transport_checksum(copy, l);
  const std::uint8_t from[16] = {1, 2, 3, 4};
  const std::uint8_t to[16] = {4, 3, 2, 1};
  (void)l4_csum_update_pseudo(copy, l, std::span(from, 4), std::span(to, 4));
  (void)l4_csum_update_pseudo(copy, l, std::span(from), std::span(to));
  (void)sctp_checksum_recompute(copy, l);
  if (size >= 2) (void)csum_update(copy, size - 2, std::span(from, 2), std::span(to, 2),
                                   ZeroResult::Mangle);

  Frame f(frame);
  if (insert_vlan_tag(f, kEthP8021Q, extra)) require(remove_vlan_tag(f) && f.size() == size);

  // reject's replies from the network header on, as each family's chains
  // hand the packet over (the builders get exact-size spans of `bytes`).
  if (l.link_ok) {
    RejectRoute route;
    route.icmp_saddr[0] = extra;
    const auto pkt = frame.subspan(l.nh_off, l.end - l.nh_off);
    for (RejectVia via : {RejectVia::Stack, RejectVia::Device}) {
      if (auto r = reject_ipv4_tcp_reset(pkt, via, route)) require(r->size() == 40);
      if (auto r = reject_ipv4_unreach(pkt, extra, via, route)) require(r->size() <= 576);
      if (auto r = reject_ipv6_tcp_reset(pkt, via, route)) require(r->size() == 60);
      if (auto r = reject_ipv6_unreach(pkt, extra, via, route)) require(r->size() <= 1280);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (LinkType link : {LinkType::Ethernet, LinkType::RawIp})
    for (Context ctx : {Context::Validate, Context::IpStack}) exercise(data, size, link, ctx);
  return 0;
}
