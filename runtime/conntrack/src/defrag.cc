// What nf_defrag_ipv4 / nf_defrag_ipv6 do with a fragment before conntrack
// sees it. nfx keeps no fragment queues yet: a fragment the kernel would
// queue is held for good, which is what the kernel shows for a datagram
// whose other fragments never come. What the kernel lets through unqueued
// (nf_ct_frag6_gather's early returns and -EPROTO) passes unchanged, and an
// IPv6 datagram that is whole in one fragment (offset 0, no more fragments)
// is "reassembled": its fragment header taken out.
#include "internal.h"

namespace nfx::conntrack {

namespace {

constexpr uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kAuth = 51, kDestOpts = 60;

// From the fragment header at `at` (ipv6_skip_exthdr): whether this is a
// first fragment that ends before its upper-layer header does (TCP 20
// bytes, UDP 8, ICMPv6 8, anything else 1).
bool first_fragment_truncated(std::span<const uint8_t> pkt, size_t at) {
  std::optional<Ipv6Skip> skip = ipv6_skip_exthdr(pkt, at, kFragment);
  if (!skip || skip->later_fragment) return false;
  const size_t need = skip->next == 6 ? 20 : skip->next == 17 ? 8 : skip->next == 58 ? 8 : 1;
  return skip->at + need > pkt.size();
}

}  // namespace

Defrag defrag(std::span<const uint8_t> frame, const packet::PacketLayout& layout) {
  if (!layout.fragment) return Defrag{};
  if (layout.protocol == packet::kEthPIp) return Defrag::held("IPv4 fragments go to a Reassembler");
  if (layout.protocol != packet::kEthPIpv6) return Defrag{};

  const auto pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  const uint32_t nh = layout.nh_off;
  if (pkt.size() < size_t{nh} + 40) return Defrag{};
  const uint32_t payload_len = static_cast<uint32_t>(pkt[nh + 4] << 8 | pkt[nh + 5]);
  if (payload_len == 0) return Defrag{};  // a jumbogram has no fragment header

  // find_prev_fhdr: the fragment header and the next-header byte before it
  uint32_t prev = nh + 6, at = nh + 40;
  uint8_t next = pkt[prev];
  while (next != kFragment) {
    if (next != kHopByHop && next != kRouting && next != kDestOpts && next != kAuth) return Defrag{};
    if (pkt.size() < size_t{at} + 2) return Defrag{};
    const uint32_t len = next == kAuth ? (pkt[at + 1] + 2u) * 4u : (pkt[at + 1] + 1u) * 8u;
    prev = at;
    next = pkt[at];
    at += len;
  }
  if (at > pkt.size()) return Defrag{};
  // ipv6frag_thdr_truncated: a first fragment without all of its upper-layer
  // header is left to the stack
  if (first_fragment_truncated(pkt, at)) return Defrag{};
  if (pkt.size() < size_t{at} + 8) return Defrag::held("fragment header cut short");
  const uint16_t frag_off = static_cast<uint16_t>(pkt[at + 2] << 8 | pkt[at + 3]);
  const uint32_t offset = frag_off & ~0x7u;
  const bool more = frag_off & 1;
  // nf_ct_frag6_queue: where this fragment's data ends in the datagram
  const int64_t end = int64_t{offset} + int64_t{payload_len} - int64_t{at + 8 - (nh + 40)};
  if (end > 65535) return Defrag::held("fragment offset too large");
  if (more && (end & 7)) return Defrag{};  // -EPROTO: left to the stack
  if (end <= int64_t{offset}) return Defrag::held("empty fragment");
  if (offset != 0 || more) return Defrag::held("fragment queued for reassembly");

  // the whole datagram in one fragment: without its fragment header
  Defrag whole;
  whole.action = Defrag::Replace;
  whole.frame.assign(frame.begin(), frame.end());
  whole.frame[prev] = pkt[at];  // the header before takes the fragment header's next header
  whole.frame.erase(whole.frame.begin() + at, whole.frame.begin() + at + 8);
  const uint32_t len = payload_len - 8;
  whole.frame[nh + 4] = static_cast<uint8_t>(len >> 8);
  whole.frame[nh + 5] = static_cast<uint8_t>(len);
  return whole;
}

}  // namespace nfx::conntrack
