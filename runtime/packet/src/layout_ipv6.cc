// IPv6 packet info: what nft_set_pktinfo_ipv6(_validate) records, and
// whether ip6_rcv_core would pass the packet up to prerouting.
#include <nfx/packet.h>

#include "internal.h"

namespace nfx::packet::detail {
namespace {

constexpr std::uint32_t kIpv6HdrLen = 40;
constexpr std::uint32_t kMaxPayload = 65535;  // IPV6_MAXPLEN
constexpr std::uint32_t kMaxHbhOpts = 8;      // net.ipv6.max_hbh_opts_number default

constexpr std::uint8_t kTlvPad1 = 0;
constexpr std::uint8_t kTlvPadN = 1;
constexpr std::uint8_t kTlvRouterAlert = 5;
constexpr std::uint8_t kTlvCalipso = 7;
constexpr std::uint8_t kTlvIoam = 0x31;
constexpr std::uint8_t kTlvJumbo = 0xc2;

bool is_loopback(const std::uint8_t* a) {
  for (int i = 0; i < 15; ++i)
    if (a[i] != 0) return false;
  return a[15] == 1;
}

bool is_multicast(const std::uint8_t* a) { return a[0] == 0xff; }
unsigned mc_scope(const std::uint8_t* a) { return a[1] & 0x0f; }

// Where ip6_rcv_core answers a dropped packet with an ICMPv6 parameter
// problem: the code and the offset it points at (0: nothing is sent).
struct ParamProblem {
  std::uint8_t code = 0;
  std::uint32_t pointer = 0;
};

// One hop-by-hop option as ip6_parse_tlv's handlers judge it, `off` from the
// network header. False drops the packet (and may set `pp`).
bool hop_option_ok(const std::uint8_t* nh, std::uint32_t off, std::uint32_t* avail, ParamProblem& pp) {
  const std::uint8_t type = nh[off];
  const std::uint8_t len = nh[off + 1];
  switch (type) {
    case kTlvRouterAlert:  // ipv6_hop_ra
      return len == 2;
    case kTlvIoam:  // ipv6_hop_ioam: misaligned is dropped, else ignored (ioam6_enabled = 0)
      return (off & 3) == 0;
    case kTlvJumbo: {  // ipv6_hop_jumbo
      if (len != 4 || (off & 3) != 2) return false;
      const std::uint32_t jumbo = load_be32(nh + off + 2);
      if (jumbo <= kMaxPayload) return pp = {0, off + 2}, false;  // ICMPV6_HDR_FIELD
      if (load_be16(nh + 4) != 0) return pp = {0, off}, false;
      if (jumbo > *avail - kIpv6HdrLen) return false;
      *avail = jumbo + kIpv6HdrLen;  // pskb_trim_rcsum
      return true;
    }
    case kTlvCalipso:  // ipv6_hop_calipso: calipso_validate finds no DOI
      return false;
    default:
      // ip6_tlvopt_unknown: the two high bits say skip (0) or discard;
      // 2 answers with a parameter problem, 3 too unless the destination
      // is multicast.
      if ((type >> 6) == 2 || ((type >> 6) == 3 && !is_multicast(nh + 24))) pp = {2, off};  // ICMPV6_UNK_OPTION
      return (type >> 6) == 0;
  }
}

// ipv6_parse_hopopts / ip6_parse_tlv on the hop-by-hop header right after
// the fixed header, in a packet of *avail bytes (a Jumbo option trims it).
bool hopopts_ok(const std::uint8_t* nh, std::uint32_t* avail, ParamProblem& pp) {
  if (*avail < kIpv6HdrLen + 8) return false;
  std::uint32_t len = (std::uint32_t{nh[kIpv6HdrLen + 1]} + 1) * 8;
  if (*avail < kIpv6HdrLen + len) return false;

  std::uint32_t off = kIpv6HdrLen + 2;
  len -= 2;
  std::uint32_t padlen = 0;
  std::uint32_t count = 0;
  while (len > 0) {
    if (nh[off] == kTlvPad1) {
      // RFC 4942 2.1.9.5: padding never needs more than 7 bytes in a row.
      if (++padlen > 7) return false;
      ++off;
      --len;
      continue;
    }
    if (len < 2) return false;
    const std::uint32_t optlen = std::uint32_t{nh[off + 1]} + 2;
    if (optlen > len) return false;
    if (nh[off] == kTlvPadN) {
      padlen += optlen;
      if (padlen > 7) return false;
      for (std::uint32_t i = 2; i < optlen; ++i)
        if (nh[off + i] != 0) return false;
    } else {
      if (++count > kMaxHbhOpts) return false;
      if (!hop_option_ok(nh, off, avail, pp)) return false;
      padlen = 0;
    }
    off += optlen;
    len -= optlen;
  }
  return true;
}

// ip6_rcv_core's checks, in its order, for a frame received on an ordinary
// (non-loopback) device. *trimmed gets the length it trims the packet to.
RcvError check_ipv6_rcv(const std::uint8_t* nh, std::uint32_t avail, std::uint32_t* trimmed, ParamProblem& pp) {
  *trimmed = avail;
  if (avail < kIpv6HdrLen) return RcvError::HeaderTruncated;
  if ((nh[0] >> 4) != 6) return RcvError::BadVersion;
  const std::uint8_t* saddr = nh + 8;
  const std::uint8_t* daddr = nh + 24;
  if (is_loopback(saddr) || is_loopback(daddr)) return RcvError::LoopbackAddress;
  if (is_multicast(daddr) && mc_scope(daddr) == 1) return RcvError::MulticastScope;
  if (is_multicast(daddr) && mc_scope(daddr) == 0) return RcvError::MulticastScope;
  if (is_multicast(saddr)) return RcvError::MulticastSource;

  const std::uint32_t pkt_len = load_be16(nh + 4);
  const std::uint8_t nexthdr = nh[6];
  // A zero payload length with a hop-by-hop header may be a jumbogram.
  if (pkt_len != 0 || nexthdr != kIpProtoHopopts) {
    if (pkt_len + kIpv6HdrLen > avail) return RcvError::Truncated;
    *trimmed = pkt_len + kIpv6HdrLen;
  }
  if (nexthdr == kIpProtoHopopts && !hopopts_ok(nh, trimmed, pp)) return RcvError::BadHopByHop;
  return RcvError::Ok;
}

}  // namespace

void parse_ipv6(const std::uint8_t* data, PacketLayout& l) {
  const std::uint8_t* nh = data + l.nh_off;
  const std::uint32_t avail = l.end - l.nh_off;

  std::uint32_t rcv_len = avail;
  ParamProblem pp;
  l.rcv_error = check_ipv6_rcv(nh, avail, &rcv_len, pp);
  if (l.rcv_error == RcvError::BadHopByHop && pp.pointer != 0) {
    l.rcv_param_problem = pp.pointer;
    l.rcv_param_code = pp.code;
  }
  l.ipv6_rcv_ok = l.rcv_error == RcvError::Ok;

  if (avail < kIpv6HdrLen || (nh[0] >> 4) != 6) return;
  const std::uint32_t payload_len = load_be16(nh + 4);
  l.l3_len = payload_len + kIpv6HdrLen;

  if (l.context == Context::Validate) {
    // __nft_set_pktinfo_ipv6_validate: no trim, the walk may run into the
    // trailing bytes.
    if (l.l3_len > avail) return;
  } else if (payload_len != 0 || nh[6] != kIpProtoHopopts) {
    if (l.l3_len > avail) return;
    l.end = l.nh_off + l.l3_len;
  } else if (l.ipv6_rcv_ok) {
    l.end = l.nh_off + rcv_len;  // a jumbogram, trimmed to its Jumbo length
  }

  // nft_set_pktinfo_ipv6: ipv6_find_hdr with IP6_FH_F_AUTH from a thoff of
  // 0 (the network header), which a non-first fragment leaves as it is.
  std::uint32_t thoff = l.nh_off;
  std::uint16_t fragoff = 0;
  bool saw_frag = false;
  const int proto = ipv6_find_hdr(data, l.nh_off, l.end, -1, &thoff, &fragoff, &saw_frag, true);
  l.fragment = saw_frag;
  if (proto < 0 || thoff - l.nh_off > 0xffff) return;

  l.l4_valid = true;
  l.l4proto = static_cast<std::uint8_t>(proto);
  l.th_off = thoff;
  l.fragoff = fragoff;
}

}  // namespace nfx::packet::detail
