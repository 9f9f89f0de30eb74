// The IPv6 extension header walk the kernel uses for both the transport
// protocol (nft_set_pktinfo_ipv6) and `exthdr` matches: ipv6_find_hdr.
#include "internal.h"

namespace nfx::packet::detail {
namespace {

constexpr std::uint32_t kIpv6HdrLen = 40;

// ipv6_ext_hdr: the headers the walk steps over (NONE ends it).
bool is_ext_hdr(std::uint8_t nexthdr) {
  switch (nexthdr) {
    case kIpProtoHopopts:
    case kIpProtoRouting:
    case kIpProtoFragment:
    case kIpProtoAh:
    case kIpProtoNone:
    case kIpProtoDstopts: return true;
    default: return false;
  }
}

}  // namespace

int ipv6_find_hdr(const std::uint8_t* data, std::uint32_t nh_off, std::uint32_t end, int target,
                  std::uint32_t* offset, std::uint16_t* fragoff, bool* saw_frag,
                  bool stop_at_auth) {
  std::uint64_t start = std::uint64_t{nh_off} + kIpv6HdrLen;
  std::uint8_t nexthdr = data[nh_off + 6];
  if (fragoff != nullptr) *fragoff = 0;

  bool found = false;
  do {
    found = nexthdr == target;
    if (!is_ext_hdr(nexthdr) || nexthdr == kIpProtoNone) {
      if (target < 0 || found) break;
      return -1;
    }
    // Every extension header starts with next header and length bytes.
    if (!fits(start, 2, end)) return -1;
    const std::uint8_t* hp = data + start;
    std::uint64_t hdrlen = 0;

    // The routing header is read as its 4-byte fixed part even when it is
    // the target.
    if (nexthdr == kIpProtoRouting && !fits(start, 4, end)) return -1;

    if (nexthdr == kIpProtoFragment) {
      if (saw_frag != nullptr) *saw_frag = true;
      if (!fits(start, 4, end)) return -1;
      const auto frag_off = static_cast<std::uint16_t>(load_be16(hp + 2) & ~0x7u);
      if (frag_off != 0) {
        // A non-first fragment: what follows is not here. The search for
        // the last header succeeds only when the fragment header names a
        // final header; a search for the fragment header itself finds it
        // (`exthdr frag exists` matches a non-first fragment on the kernel).
        if (target < 0 && (!is_ext_hdr(hp[0]) || hp[0] == kIpProtoNone)) {
          if (fragoff != nullptr) *fragoff = frag_off;
          return hp[0];
        }
        if (!found) return -1;
        if (fragoff != nullptr) *fragoff = frag_off;
        break;
      }
      hdrlen = 8;
    } else if (nexthdr == kIpProtoAh) {
      if (stop_at_auth && target < 0) break;
      hdrlen = (std::uint64_t{hp[1]} + 2) << 2;
    } else {
      hdrlen = (std::uint64_t{hp[1]} + 1) << 3;
    }

    if (!found) {
      nexthdr = hp[0];
      start += hdrlen;
    }
  } while (!found);

  // Headers are read only where they start before `end` and are at most
  // 2 KiB long, so this can fail only for frames near 4 GiB.
  if (start > 0xffffffffu) return -1;
  *offset = static_cast<std::uint32_t>(start);
  return nexthdr;
}

}  // namespace nfx::packet::detail
