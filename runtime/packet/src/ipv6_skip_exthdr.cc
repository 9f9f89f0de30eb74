// ipv6_skip_exthdr as conntrack and NAT walk IPv6 extension headers.
#include <nfx/packet.h>

namespace nfx::packet {

std::optional<Ipv6Skip> ipv6_skip_exthdr(std::span<const std::uint8_t> pkt, std::size_t at, std::uint8_t next) {
  constexpr std::uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kAuth = 51, kNoNext = 59, kDestOpts = 60;
  while (next == kHopByHop || next == kRouting || next == kFragment || next == kAuth || next == kDestOpts ||
         next == kNoNext) {
    if (next == kNoNext || pkt.size() < at + 2) return std::nullopt;
    std::size_t len;
    if (next == kFragment) {
      if (pkt.size() < at + 4) return std::nullopt;
      if (((pkt[at + 2] << 8 | pkt[at + 3]) & ~0x7) != 0) return Ipv6Skip{at, next, true};
      len = 8;
    } else if (next == kAuth) {
      len = (pkt[at + 1] + 2u) * 4u;
    } else {
      len = (pkt[at + 1] + 1u) * 8u;
    }
    next = pkt[at];
    at += len;
  }
  return Ipv6Skip{at, next, false};
}

}  // namespace nfx::packet
