// Packet rewriting (nf_nat_proto.c): addresses and transport ids replaced
// by a connection's translated tuple, checksums updated incrementally as
// the kernel does, ICMP errors translated inside and out.
#include <cstring>

#include "internal.h"

namespace nfx::nat {

using conntrack::Dir;
using conntrack::Entry;
using conntrack::Tuple;

namespace {

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// inet_proto_csum_replace2 of the 16-bit field at `field` to `value`, on
// the checksum at `check`.
void replace16(std::span<uint8_t> pkt, size_t check, size_t field, uint16_t value) {
  uint8_t to[2];
  store16(to, value);
  packet::csum_update(pkt, check, pkt.subspan(field, 2), to, packet::ZeroResult::Keep);
}

// nf_nat_ipv4_csum_update / nf_nat_ipv6_csum_update: the pseudo header's
// address (of the IP header at `nh`) replaced in the checksum at `check`.
void pseudo_update(std::span<uint8_t> pkt, size_t nh, size_t check, const Tuple& target, Manip m) {
  const bool v4 = target.l3 == conntrack::kNfprotoIpv4;
  const size_t at = nh + (v4 ? (m == Manip::Src ? 12 : 16) : (m == Manip::Src ? 8 : 24));
  const auto& addr = m == Manip::Src ? target.src : target.dst;
  const size_t n = v4 ? 4 : 16;
  packet::csum_update(pkt, check, pkt.subspan(at, n), std::span<const uint8_t>(addr.data(), n),
                      packet::ZeroResult::Keep);
}

// The per-protocol part (nf_nat_l4proto_manip_pkt) of the packet whose IP
// header is at `nh` and transport header at `th`.
bool manip_l4(std::span<uint8_t> pkt, size_t nh, size_t th, const Tuple& target, Manip m) {
  const size_t len = pkt.size();
  const uint16_t port = m == Manip::Src ? target.sport : target.dport;
  const size_t port_at = th + (m == Manip::Src ? 0 : 2);
  switch (target.l4) {
    case kIpprotoTcp: {
      // an ICMP error may carry only 8 bytes of it: then the ports alone
      const size_t hdr = len >= th + 20 ? 20 : 8;
      if (len < th + hdr) return false;
      if (hdr == 20) {
        pseudo_update(pkt, nh, th + 16, target, m);
        replace16(pkt, th + 16, port_at, port);
      }
      store16(&pkt[port_at], port);
      return true;
    }
    case kIpprotoUdp:
    case kIpprotoUdplite: {
      if (len < th + 8) return false;
      if (target.l4 == kIpprotoUdplite || load16(&pkt[th + 6]) != 0) {
        pseudo_update(pkt, nh, th + 6, target, m);
        replace16(pkt, th + 6, port_at, port);
        if (load16(&pkt[th + 6]) == 0) store16(&pkt[th + 6], 0xffff);  // CSUM_MANGLED_0
      }
      store16(&pkt[port_at], port);
      return true;
    }
    case kIpprotoSctp: {
      const size_t hdr = len >= th + 12 ? 12 : 8;
      if (len < th + hdr) return false;
      store16(&pkt[port_at], port);
      if (hdr == 12) {
        // the CRC32c over the whole SCTP packet, stored little-endian
        std::memset(&pkt[th + 8], 0, 4);
        uint32_t crc = packet::crc32c(pkt.subspan(th));
        for (int i = 0; i < 4; ++i) pkt[th + 8 + i] = static_cast<uint8_t>(crc >> (8 * i));
      }
      return true;
    }
    case kIpprotoIcmp: {
      if (len < th + 8) return false;
      const uint8_t type = pkt[th];
      // echo, timestamp, information and address mask requests and replies
      // carry the id; other types have none to change
      if (type != 0 && type != 8 && type != 13 && type != 14 && type != 15 && type != 16 && type != 17 &&
          type != 18)
        return true;
      replace16(pkt, th + 2, th + 4, target.sport);
      store16(&pkt[th + 4], target.sport);
      return true;
    }
    case kIpprotoIcmpv6: {
      if (len < th + 8) return false;
      pseudo_update(pkt, nh, th + 2, target, m);
      if (pkt[th] == 128 || pkt[th] == 129) {
        replace16(pkt, th + 2, th + 4, target.sport);
        store16(&pkt[th + 4], target.sport);
      }
      return true;
    }
    case kIpprotoGre: {
      if (len < th + 8) return false;
      if (m != Manip::Dst) return true;  // the source key is not in the packet
      switch (pkt[th + 1] & 0x07) {
        case 0: return true;  // GREv0 is not translated beyond its addresses
        case 1: store16(&pkt[th + 6], target.dport); return true;  // PPTP's call id
        default: return false;
      }
    }
    default:
      return true;
  }
}

}  // namespace

bool manip_pkt(std::span<uint8_t> pkt, size_t nh, const Tuple& target, Manip m) {
  if (target.l3 == conntrack::kNfprotoIpv4) {
    if (pkt.size() < nh + 20) return false;
    const size_t th = nh + (pkt[nh] & 0x0f) * 4u;
    if (!manip_l4(pkt, nh, th, target, m)) return false;
    const size_t at = nh + (m == Manip::Src ? 12 : 16);
    const auto& addr = m == Manip::Src ? target.src : target.dst;
    packet::csum_update(pkt, nh + 10, pkt.subspan(at, 4), std::span<const uint8_t>(addr.data(), 4),
                        packet::ZeroResult::Keep);
    std::memcpy(&pkt[at], addr.data(), 4);
    return true;
  }
  if (pkt.size() < nh + 40) return false;
  // the transport header, if the extension headers can be walked and this
  // is not a later fragment; the addresses in any case
  std::optional<packet::Ipv6Skip> skip = packet::ipv6_skip_exthdr(pkt, nh + 40, pkt[nh + 6]);
  if (skip && !skip->later_fragment && !manip_l4(pkt, nh, skip->at, target, m)) return false;
  const size_t at = nh + (m == Manip::Src ? 8 : 24);
  std::memcpy(&pkt[at], (m == Manip::Src ? target.src : target.dst).data(), 16);
  return true;
}

bool translate(std::span<uint8_t> frame, const packet::PacketLayout& layout, const Entry& ct, Dir dir, Hook hook) {
  const Manip m = manip_of(hook);
  if (!(ct.status & status_bit(m, dir))) return true;
  // nf_nat_manip_pkt: the packet is made to look like the inverse of the
  // other direction's tuple
  std::optional<Tuple> target = conntrack::invert(ct.tuple[dir == Dir::Original ? 1 : 0]);
  if (!target) return true;
  std::span<uint8_t> pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  return manip_pkt(pkt, layout.nh_off, *target, m);
}

bool is_icmp(std::span<const uint8_t> frame, const packet::PacketLayout& layout) {
  std::span<const uint8_t> pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  const size_t nh = layout.nh_off;
  if (layout.protocol == packet::kEthPIp) return pkt.size() >= nh + 20 && pkt[nh + 9] == kIpprotoIcmp;
  if (layout.protocol != packet::kEthPIpv6 || pkt.size() < nh + 40) return false;
  std::optional<packet::Ipv6Skip> skip = packet::ipv6_skip_exthdr(pkt, nh + 40, pkt[nh + 6]);
  return skip && skip->next == kIpprotoIcmpv6 && !skip->later_fragment;
}

bool translate_icmp_error(std::span<uint8_t> frame, const packet::PacketLayout& layout, const Entry& ct, Dir dir,
                          Hook hook) {
  const Manip m = manip_of(hook);
  std::span<uint8_t> pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  const size_t nh = layout.nh_off;
  const bool v4 = layout.protocol == packet::kEthPIp;
  size_t th;
  if (v4) {
    if (pkt.size() < nh + 20) return false;
    th = nh + (pkt[nh] & 0x0f) * 4u;
  } else {
    std::optional<packet::Ipv6Skip> skip =
        pkt.size() >= nh + 40 ? packet::ipv6_skip_exthdr(pkt, nh + 40, pkt[nh + 6]) : std::nullopt;
    if (!skip) return false;
    th = skip->at;
  }
  // the ICMP header and the carried packet's IP header must be there
  if (pkt.size() < th + 8 + (v4 ? 20 : 40)) return false;
  const uint8_t type = pkt[th];
  const uint32_t nat_done = conntrack::kSrcNatDone | conntrack::kDstNatDone;
  const uint32_t nat = conntrack::kSrcNat | conntrack::kDstNat;
  // a redirect is translated only for a connection bound both ways without
  // any translation
  if (v4 && type == 5 && ((ct.status & nat_done) != nat_done || (ct.status & nat))) return false;
  if (!v4 && type == 137 && ((ct.status & nat_done) != nat_done || (ct.status & nat))) return false;
  if (!(ct.status & status_bit(m, dir))) return true;

  // the carried packet went the other way: it gets the other manip, to the
  // other direction's tuple as it is
  const Tuple& inner_target = ct.tuple[dir == Dir::Original ? 1 : 0];
  const Manip inner_manip = m == Manip::Src ? Manip::Dst : Manip::Src;
  if (!manip_pkt(pkt, th + 8, inner_target, inner_manip)) return false;

  // the ICMP checksum over the whole message again
  pkt[th + 2] = pkt[th + 3] = 0;
  uint32_t sum = packet::csum_partial(pkt.subspan(th));
  if (!v4)
    sum = packet::csum_add(sum, packet::pseudo_header_sum_ipv6(&pkt[nh + 8], &pkt[nh + 24], kIpprotoIcmpv6,
                                                              static_cast<uint32_t>(pkt.size() - th)));
  store16(&pkt[th + 2], packet::csum_fold(sum));

  // the outer header as a reply to the connection
  std::optional<Tuple> outer = conntrack::invert(inner_target);
  if (!outer) {
    // an inner ICMP type without an answer: only the addresses matter
    outer = inner_target;
    std::swap(outer->src, outer->dst);
  }
  outer->l4 = v4 ? kIpprotoIcmp : kIpprotoIcmpv6;
  return manip_pkt(pkt, nh, *outer, m);
}

}  // namespace nfx::nat
