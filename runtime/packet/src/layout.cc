// The link layer of a frame as the kernel's receive path leaves it before
// the netfilter hooks: eth_type_trans, skb_vlan_untag, or a TUN device's
// version sniffing; then the network layer by protocol.
#include <nfx/packet.h>

#include <limits>

#include "internal.h"

namespace nfx::packet {
namespace {

constexpr std::uint32_t kEthHdrLen = 14;
constexpr std::uint32_t kVlanHdrLen = 4;

// Ethertypes below 0x600 are 802.3 lengths; the two bytes after the header
// then tell raw 802.3 (0xffff, Novell) from 802.2 LLC, as eth_type_trans
// and vlan_set_encap_proto decide.
std::uint16_t protocol_from_type(std::uint16_t type, const std::uint8_t* after,
                                 std::size_t after_len) {
  if (type >= 0x0600) return type;
  if (after_len >= 2 && after[0] == 0xff && after[1] == 0xff) return kEthP8023;
  return kEthP8022;
}

bool is_vlan_proto(std::uint16_t proto) { return proto == kEthP8021Q || proto == kEthP8021AD; }

bool parse_ethernet(const std::uint8_t* d, std::size_t len, PacketLayout& l) {
  // tun_get_user refuses TAP frames shorter than the Ethernet header.
  if (len < kEthHdrLen) return false;
  l.mac_off = 0;
  l.nh_off = kEthHdrLen;
  l.protocol = protocol_from_type(detail::load_be16(d + 12), d + kEthHdrLen, len - kEthHdrLen);
  if (!is_vlan_proto(l.protocol)) return true;

  // skb_vlan_untag pulls the tag plus the two bytes vlan_set_encap_proto
  // may look at, and frees the frame if they are not there. It takes one
  // tag only: an inner tag stays in the data.
  if (len - kEthHdrLen < kVlanHdrLen + 2) return false;
  const std::uint8_t* tag = d + kEthHdrLen;
  l.vlan_present = true;
  l.vlan_proto = l.protocol;
  l.vlan_tci = detail::load_be16(tag);
  l.nh_off = kEthHdrLen + kVlanHdrLen;
  l.protocol = protocol_from_type(detail::load_be16(tag + 2), d + l.nh_off, len - l.nh_off);
  return true;
}

bool parse_raw_ip(const std::uint8_t* d, std::size_t len, PacketLayout& l) {
  // A TUN device without packet information: tun_get_user maps the version
  // nibble to the protocol and drops anything else. The MAC header is set
  // at the network header, so its length is 0.
  l.mac_off = -1;
  l.nh_off = 0;
  if (len == 0) return false;
  switch (d[0] >> 4) {
    case 4: l.protocol = kEthPIp; return true;
    case 6: l.protocol = kEthPIpv6; return true;
    default: return false;
  }
}

}  // namespace

PacketLayout parse_layout(const std::uint8_t* data, std::size_t len, LinkType link,
                          Context context) {
  PacketLayout l;
  l.link = link;
  l.context = context;
  if (data == nullptr || len > std::numeric_limits<std::uint32_t>::max()) len = 0;
  l.end = static_cast<std::uint32_t>(len);

  const bool ok = link == LinkType::Ethernet ? parse_ethernet(data, len, l)
                                             : parse_raw_ip(data, len, l);
  if (!ok) {
    l.link_ok = false;
    l.th_off = l.nh_off;
    return l;
  }
  l.link_ok = true;
  l.th_off = l.nh_off;

  switch (l.protocol) {
    case kEthPIp: detail::parse_ipv4(data, l); break;
    case kEthPIpv6: detail::parse_ipv6(data, l); break;
    default: break;
  }
  return l;
}

}  // namespace nfx::packet
