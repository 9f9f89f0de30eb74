// The frames the element builds itself: Ethernet headers, ARP, IPv4 and
// ICMPv6 packets.
#include "internal.h"

#include <cstring>

namespace nfx::router {

namespace {

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

}  // namespace

Bytes ethernet(const Mac& dst, const Mac& src, uint16_t type, std::span<const uint8_t> payload) {
  Bytes f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  put16(f, type);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

Bytes arp_frame(uint16_t op, const Mac& src_mac, std::span<const uint8_t> src_ip, const Mac& dst_mac,
                std::span<const uint8_t> dst_ip, const Mac& eth_dst) {
  Bytes a;
  put16(a, 1);       // ARPHRD_ETHER
  put16(a, 0x0800);  // ETH_P_IP
  a.push_back(6);
  a.push_back(4);
  put16(a, op);
  a.insert(a.end(), src_mac.begin(), src_mac.end());
  a.insert(a.end(), src_ip.begin(), src_ip.end());
  a.insert(a.end(), dst_mac.begin(), dst_mac.end());
  a.insert(a.end(), dst_ip.begin(), dst_ip.end());
  return ethernet(eth_dst, src_mac, packet::kEthPArp, a);
}

Bytes ipv4_packet(std::span<const uint8_t> src, std::span<const uint8_t> dst, uint8_t proto, uint8_t ttl,
                  uint16_t id, std::span<const uint8_t> payload) {
  Bytes p;
  p.push_back(0x45);
  p.push_back(0);
  put16(p, static_cast<uint16_t>(20 + payload.size()));
  put16(p, id);
  put16(p, 0);
  p.push_back(ttl);
  p.push_back(proto);
  put16(p, 0);
  p.insert(p.end(), src.begin(), src.end());
  p.insert(p.end(), dst.begin(), dst.end());
  uint16_t check = packet::ipv4_header_checksum({p.data(), 20});
  p[10] = static_cast<uint8_t>(check >> 8);
  p[11] = static_cast<uint8_t>(check);
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

Bytes icmpv6_packet(std::span<const uint8_t> src, std::span<const uint8_t> dst, uint8_t hop_limit,
                    std::span<const uint8_t> body) {
  Bytes p{0x60, 0, 0, 0};
  put16(p, static_cast<uint16_t>(body.size()));
  p.push_back(58);
  p.push_back(hop_limit);
  p.insert(p.end(), src.begin(), src.end());
  p.insert(p.end(), dst.begin(), dst.end());
  p.insert(p.end(), body.begin(), body.end());
  p[42] = p[43] = 0;
  uint32_t sum = packet::pseudo_header_sum_ipv6(src.data(), dst.data(), 58, static_cast<uint32_t>(body.size()));
  uint16_t check = packet::csum_fold(packet::csum_partial({p.data() + 40, body.size()}, sum));
  p[42] = static_cast<uint8_t>(check >> 8);
  p[43] = static_cast<uint8_t>(check);
  return p;
}

Bytes solicited_node(std::span<const uint8_t> addr) {
  Bytes s{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, addr[13], addr[14], addr[15]};
  return s;
}

Mac multicast_mac_v6(std::span<const uint8_t> addr) { return {0x33, 0x33, addr[12], addr[13], addr[14], addr[15]}; }

}  // namespace nfx::router
