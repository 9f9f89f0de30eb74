// Tuples from packets and their inverses (nf_ct_get_tuple,
// nf_ct_invert_tuple and each protocol's pkt_to_tuple / invert_tuple).
#include <nfx/conntrack.h>

#include <cstring>

#include "internal.h"

namespace nfx::conntrack {

namespace {

// ICMP types with an answer, and the answer (icmp.c's invmap, shifted by one
// so that 0 means "none").
uint8_t icmp_answer(uint8_t type) {
  switch (type) {
    case 8: return 0 + 1;    // echo -> echo reply
    case 0: return 8 + 1;
    case 13: return 14 + 1;  // timestamp
    case 14: return 13 + 1;
    case 15: return 16 + 1;  // information
    case 16: return 15 + 1;
    case 17: return 18 + 1;  // address mask
    case 18: return 17 + 1;
    default: return 0;
  }
}

uint8_t icmpv6_answer(uint8_t type) {
  switch (type) {
    case 128: return 129 + 1;  // echo
    case 129: return 128 + 1;
    case 139: return 140 + 1;  // node information
    case 140: return 139 + 1;
    default: return 0;
  }
}

}  // namespace

std::optional<Tuple> tuple_at(std::span<const uint8_t> pkt, uint32_t nh, uint32_t th, uint8_t l3, uint8_t l4) {
  Tuple t;
  t.l3 = l3;
  t.l4 = l4;
  if (l3 == kNfprotoIpv4) {
    if (pkt.size() < size_t{nh} + 20) return std::nullopt;
    std::memcpy(t.src.data(), &pkt[nh + 12], 4);
    std::memcpy(t.dst.data(), &pkt[nh + 16], 4);
  } else {
    if (pkt.size() < size_t{nh} + 40) return std::nullopt;
    std::memcpy(t.src.data(), &pkt[nh + 8], 16);
    std::memcpy(t.dst.data(), &pkt[nh + 24], 16);
  }
  auto have = [&](uint32_t n) { return pkt.size() >= size_t{th} + n; };
  auto be16 = [&](uint32_t at) { return static_cast<uint16_t>(pkt[at] << 8 | pkt[at + 1]); };
  switch (l4) {
    case kIpprotoTcp:
    case kIpprotoUdp:
    case kIpprotoUdplite:
    case kIpprotoSctp:
      // nf_ct_get_tuple_ports: the first 4 bytes
      if (!have(4)) return std::nullopt;
      t.sport = be16(th);
      t.dport = be16(th + 2);
      return t;
    case kIpprotoIcmp:
    case kIpprotoIcmpv6:
      // icmp_pkt_to_tuple: the 8-byte header; type, code and the echo id
      if (!have(8)) return std::nullopt;
      t.dport = be16(th);
      t.sport = be16(th + 4);
      return t;
    case kIpprotoGre:
      // Without the PPTP helper GRE is tracked without keys (gre_pkt_to_tuple
      // finds no keymap): the 4 base bytes must be there.
      if (!have(4)) return std::nullopt;
      return t;
    default:
      return t;  // generic: addresses and protocol only
  }
}

std::optional<packet::PacketLayout> conntrack_view(std::span<const uint8_t> frame, const packet::PacketLayout& layout) {
  const auto pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  const uint32_t nh = layout.nh_off;
  packet::PacketLayout view = layout;
  view.l4_valid = true;
  if (layout.protocol == packet::kEthPIp) {
    // ipv4_get_l4proto: a non-first fragment, or a header longer than the
    // packet, has no transport header
    if (pkt.size() < size_t{nh} + 20) return std::nullopt;
    if (((pkt[nh + 6] & 0x1f) << 8 | pkt[nh + 7]) != 0) return std::nullopt;
    view.th_off = nh + (pkt[nh] & 0x0fu) * 4;
    view.l4proto = pkt[nh + 9];
    if (view.th_off > pkt.size()) return std::nullopt;
    return view;
  }
  if (layout.protocol != packet::kEthPIpv6 || pkt.size() < size_t{nh} + 40) return std::nullopt;
  // ipv6_skip_exthdr walks through AH, where nft's ipv6_find_hdr stops
  std::optional<Ipv6Skip> skip = ipv6_skip_exthdr(pkt, nh + 40, pkt[nh + 6]);
  if (!skip || skip->later_fragment) return std::nullopt;
  view.th_off = static_cast<uint32_t>(skip->at);
  view.l4proto = skip->next;
  return view;
}

std::optional<Tuple> packet_tuple(std::span<const uint8_t> frame, const packet::PacketLayout& layout) {
  std::optional<packet::PacketLayout> view = conntrack_view(frame, layout);
  if (!view) return std::nullopt;
  const uint8_t l3 = layout.protocol == packet::kEthPIp ? kNfprotoIpv4 : kNfprotoIpv6;
  return tuple_at(frame.first(std::min<size_t>(frame.size(), layout.end)), view->nh_off, view->th_off, l3,
                  view->l4proto);
}

std::optional<Tuple> invert(const Tuple& t) {
  Tuple r = t;
  r.src = t.dst;
  r.dst = t.src;
  switch (t.l4) {
    case kIpprotoIcmp:
    case kIpprotoIcmpv6: {
      const uint8_t answer = t.l4 == kIpprotoIcmp ? icmp_answer(t.icmp_type()) : icmpv6_answer(t.icmp_type());
      if (!answer) return std::nullopt;
      r.dport = static_cast<uint16_t>((answer - 1) << 8 | t.icmp_code());
      r.sport = t.sport;
      return r;
    }
    case kIpprotoGre:
    default:
      r.sport = t.dport;
      r.dport = t.sport;
      return r;
  }
}

}  // namespace nfx::conntrack
