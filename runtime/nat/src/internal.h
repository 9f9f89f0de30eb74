// What the NAT sources share.
#pragma once

#include <nfx/nat.h>

namespace nfx::nat {

inline constexpr uint8_t kIpprotoIcmp = 1, kIpprotoTcp = 6, kIpprotoUdp = 17, kIpprotoDccp = 33, kIpprotoGre = 47,
                         kIpprotoIcmpv6 = 58, kIpprotoSctp = 132, kIpprotoUdplite = 136;

inline size_t addr_len(uint8_t l3) { return l3 == conntrack::kNfprotoIpv4 ? 4 : 16; }

// The status bit that says a packet of `dir` is rewritten for `m`
// (nf_nat_packet: a reply of a source-translated connection gets its
// destination rewritten, and the other way round).
uint32_t status_bit(Manip m, conntrack::Dir dir);

// nf_nat_ipv4_manip_pkt / nf_nat_ipv6_manip_pkt: the IP packet at `nh`
// (bounded by `pkt`'s end) gets `target`'s source (Src) or destination
// (Dst) address and transport id; `l4` is what the transport header is
// read as (target.l4 unless the caller overrides it, as for the outer
// header of an ICMP error).
bool manip_pkt(std::span<uint8_t> pkt, size_t nh, const conntrack::Tuple& target, Manip m);

}  // namespace nfx::nat
