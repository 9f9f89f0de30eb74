// IPv4 packet info: what nft_set_pktinfo_ipv4(_validate) records, and
// whether ip_rcv_core would pass the packet up to prerouting.
#include <nfx/packet.h>

#include "internal.h"

namespace nfx::packet::detail {
namespace {

constexpr std::uint32_t kIpHdrLen = 20;
constexpr std::uint16_t kIpOffsetMask = 0x1fff;  // IP_OFFSET
constexpr std::uint16_t kIpMoreFragments = 0x2000;

// ip_rcv_core's checks, in its order, on `avail` bytes from the header.
RcvError check_ip_rcv(const std::uint8_t* iph, std::uint32_t avail) {
  if (avail < kIpHdrLen) return RcvError::HeaderTruncated;
  const std::uint32_t ihl = iph[0] & 0x0f;
  if (ihl < 5 || (iph[0] >> 4) != 4) return RcvError::BadVersion;
  if (avail < ihl * 4) return RcvError::HeaderTruncated;
  if (!ipv4_header_checksum_ok({iph, ihl * 4})) return RcvError::BadChecksum;
  const std::uint32_t tot_len = load_be16(iph + 2);
  if (avail < tot_len) return RcvError::Truncated;
  if (tot_len < ihl * 4) return RcvError::BadLength;
  return RcvError::Ok;
}

}  // namespace

void parse_ipv4(const std::uint8_t* data, PacketLayout& l) {
  const std::uint8_t* iph = data + l.nh_off;
  const std::uint32_t avail = l.end - l.nh_off;

  l.rcv_error = check_ip_rcv(iph, avail);
  l.ip_rcv_ok = l.rcv_error == RcvError::Ok;

  // __nft_set_pktinfo_ipv4_validate's conditions. At the IP hooks
  // nft_set_pktinfo_ipv4 trusts the header because ip_rcv_core checked the
  // same things, so one test serves both contexts.
  if (avail < kIpHdrLen) return;
  const std::uint32_t ihl = iph[0] & 0x0f;
  if (ihl < 5 || (iph[0] >> 4) != 4) return;
  const std::uint32_t tot_len = load_be16(iph + 2);
  l.l3_len = tot_len;
  if (avail < tot_len || tot_len < ihl * 4) return;

  // ip_rcv_core trims the trailing bytes (Ethernet padding) before the IP
  // hooks; netdev and bridge chains see them.
  if (l.context == Context::IpStack) l.end = l.nh_off + tot_len;

  const std::uint16_t frag = load_be16(iph + 6);
  l.l4_valid = true;
  l.l4proto = iph[9];
  l.th_off = l.nh_off + ihl * 4;
  l.fragoff = frag & kIpOffsetMask;
  l.fragment = (frag & (kIpOffsetMask | kIpMoreFragments)) != 0;
}

}  // namespace nfx::packet::detail
