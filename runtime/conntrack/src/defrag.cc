// nf_ct_frag6_gather's look at an IPv6 packet before it queues it: what it
// leaves to the stack (no fragment header where it looks, a jumbogram, a
// first fragment cut short of its upper-layer header) and where the
// fragment lies in its datagram.
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

Ipv6Fragment ipv6_fragment(std::span<const uint8_t> pkt, uint32_t nh) {
  Ipv6Fragment f;
  if (pkt.size() < size_t{nh} + 40) return f;
  const uint32_t payload_len = static_cast<uint32_t>(pkt[nh + 4] << 8 | pkt[nh + 5]);
  if (payload_len == 0) return f;  // a jumbogram has no fragment header

  // find_prev_fhdr: the fragment header and the next-header byte before it
  uint32_t prev = nh + 6, at = nh + 40;
  uint8_t next = pkt[prev];
  while (next != kFragment) {
    if (next != kHopByHop && next != kRouting && next != kDestOpts && next != kAuth) return f;
    if (pkt.size() < size_t{at} + 2) return f;
    const uint32_t len = next == kAuth ? (pkt[at + 1] + 2u) * 4u : (pkt[at + 1] + 1u) * 8u;
    prev = at;
    next = pkt[at];
    at += len;
  }
  if (at > pkt.size()) return f;
  // ipv6frag_thdr_truncated: a first fragment without all of its upper-layer
  // header is left to the stack
  if (first_fragment_truncated(pkt, at)) return f;
  f.what = Ipv6Fragment::Drop;
  if (pkt.size() < size_t{at} + 8) {
    f.why = "fragment header cut short";
    return f;
  }
  const uint16_t frag_off = static_cast<uint16_t>(pkt[at + 2] << 8 | pkt[at + 3]);
  f.prev = prev;
  f.at = at;
  f.offset = frag_off & ~0x7u;
  f.more = frag_off & 1;
  f.id = uint32_t{pkt[at + 4]} << 24 | uint32_t{pkt[at + 5]} << 16 | uint32_t{pkt[at + 6]} << 8 | pkt[at + 7];
  f.payload_len = static_cast<uint16_t>(payload_len);
  // nf_ct_frag6_queue: where this fragment's data ends in the datagram
  const int64_t end = int64_t{f.offset} + int64_t{payload_len} - int64_t{at + 8 - (nh + 40)};
  if (end > 65535) {
    f.why = "fragment offset too large";
    return f;
  }
  f.end = static_cast<uint32_t>(end < 0 ? 0 : end);
  f.what = Ipv6Fragment::Queue;
  return f;
}

}  // namespace nfx::conntrack
