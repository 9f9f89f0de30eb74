// Seeded random Ethernet frames: mostly well-formed IPv4/IPv6/ARP traffic
// with the headers the rules read (VLAN tags, IP options, IPv6 extension
// headers, fragments, TCP options, UDP, UDP-Lite, ICMP, ICMPv6, SCTP, DCCP,
// GRE, ESP, AH, IGMP), plus edge and malformed frames (truncated, corrupted
// bytes, bad lengths and checksums).
#pragma once

#include "random_source.h"

namespace nfx::difftest {

// A frame for `path`: bridge frames go between two hosts; routed frames are
// addressed to the router's inside MAC and to a routable destination
// (forward) or to the router itself (input).
Bytes random_frame(Random& r, Path path);

// Internet checksum (RFC 1071) of `len` bytes, folded, not complemented.
uint32_t csum_add(const uint8_t* p, size_t len, uint32_t sum = 0);
uint16_t csum_fold(uint32_t sum);

}  // namespace nfx::difftest
