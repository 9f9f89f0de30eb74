// The reject statement: nft_reject_ipv4/ipv6/inet (the reply made and sent
// by the IP stack), nft_reject_netdev and nft_reject_bridge (the reply built
// whole for the input device). The packet itself is always dropped; the
// reply, when the kernel sends one, goes to the decision for the pipeline
// to send. The replies are built by nfx/packet.h's reject builders.
#include <cstring>

#include "state.h"

namespace nfx::vm {

namespace {

constexpr uint8_t kRejectIcmpUnreach = 0, kRejectTcpRst = 1, kRejectIcmpxUnreach = 2;

using Bytes = std::vector<uint8_t>;

bool ipv4_multi(const uint8_t* a) {  // multicast or the limited broadcast
  return (a[0] & 0xf0) == 0xe0 || (a[0] == 0xff && a[1] == 0xff && a[2] == 0xff && a[3] == 0xff);
}

// The Ethernet header of a reply: to the original's source, from `src` or
// else the original's destination.
Bytes ether_header(std::span<const uint8_t> frame, uint16_t type, const std::vector<uint8_t>& src = {}) {
  Bytes h(14);
  std::memcpy(&h[0], &frame[6], 6);
  std::memcpy(&h[6], src.size() == 6 ? src.data() : &frame[0], 6);
  h[12] = static_cast<uint8_t>(type >> 8);
  h[13] = static_cast<uint8_t>(type);
  return h;
}

void emit(Exec& x, Bytes l2, const Bytes& ip, Reply::Via via) {
  l2.insert(l2.end(), ip.begin(), ip.end());
  x.d.replies.push_back(Reply{packet::Frame(std::span<const uint8_t>(l2)), via});
}

std::optional<Bytes> build(bool v6, uint8_t type, uint8_t code, std::span<const uint8_t> pkt, packet::RejectVia via,
                           const packet::RejectRoute& route) {
  if (type == kRejectTcpRst)
    return v6 ? packet::reject_ipv6_tcp_reset(pkt, via, route) : packet::reject_ipv4_tcp_reset(pkt, via, route);
  if (type == kRejectIcmpxUnreach) code = v6 ? packet::reject_icmpx_code_v6(code) : packet::reject_icmpx_code_v4(code);
  return v6 ? packet::reject_ipv6_unreach(pkt, code, via, route) : packet::reject_ipv4_unreach(pkt, code, via, route);
}

// ip, ip6 and inet tables (inet ingress included): nf_send_reset(6) and
// nf_send_unreach(6).
void stack_reject(const ir::Stmt& s, Exec& x) {
  const Packet& p = x.pkt;
  const packet::PacketLayout& l = p.layout;
  bool v6 = x.family == ir::Family::Ip6;
  if (!v6 && x.family != ir::Family::Ip) return;
  // nft_reject_ipv4 / nft_reject_ipv6 know no icmpx: they only drop.
  if (s.reject_type == kRejectIcmpxUnreach && x.t.family != ir::Family::Inet) return;
  std::span<const uint8_t> frame = p.frame.bytes();
  uint32_t end = std::min<uint32_t>(l.end, static_cast<uint32_t>(frame.size()));
  if (!l.link_ok || l.nh_off > end) return;
  std::span<const uint8_t> pkt = frame.subspan(l.nh_off, end - l.nh_off);
  if (pkt.size() < (v6 ? 40u : 20u)) return;

  packet::RejectRoute route;
  route.pkt_host = p.meta.pkttype == 0;
  const uint8_t* saddr = &pkt[v6 ? 8 : 12];
  const uint8_t* daddr = &pkt[v6 ? 24 : 16];
  if (!v6) {
    // Before routing (prerouting, ingress) the kernel routes towards the
    // source to send the reply, and an all-zeroes source routes to the
    // host itself: nothing leaves then.
    bool before_routing = x.hook == Hook::Prerouting || x.hook == Hook::Ingress;
    if (before_routing && std::memcmp(saddr, "\0\0\0\0", 4) == 0) return;
    route.bcast_mcast = ipv4_multi(before_routing ? saddr : daddr);
    bool own = x.hook == Hook::Input || p.meta.iif_addr4.size() != 4;
    // For a packet delivered locally icmp_send answers from its destination,
    // as it now reads: rewritten to an address the host does not have, the
    // route back cannot be found and nothing is sent (measured: `ip daddr
    // set 8.8.8.8 reject` at input).
    // (A reset is routed with any source: ip_route_me_harder's FLOWI_FLAG_ANYSRC.)
    if (s.reject_type != kRejectTcpRst && x.hook == Hook::Input && p.meta.iif_addr4.size() == 4 &&
        std::memcmp(daddr, p.meta.iif_addr4.data(), 4) != 0)
      return;
    std::memcpy(route.icmp_saddr, own ? daddr : p.meta.iif_addr4.data(), 4);
  } else {
    // icmp6_send answers from the destination only when it is the host's
    // own (ipv6_chk_addr); otherwise from the interface's address.
    bool known = p.meta.iif_addr6.size() == 16;
    bool own = known ? std::memcmp(daddr, p.meta.iif_addr6.data(), 16) == 0 : p.meta.local;
    std::memcpy(route.icmp_saddr, own || !known ? daddr : p.meta.iif_addr6.data(), 16);
  }
  std::optional<Bytes> ip = build(v6, s.reject_type, s.reject_code, pkt, packet::RejectVia::Stack, route);
  if (!ip) return;
  // The kernel routes the reply; nfx has no routing table yet, so it goes
  // back to the neighbour the packet came from: to the packet's source MAC,
  // from the input interface's MAC (when not known, the MAC the frame was
  // sent to, which is the same for a frame to this host's MAC).
  Bytes l2;
  if (l.link == packet::LinkType::Ethernet && l.mac_off >= 0 && frame.size() >= 14)
    l2 = ether_header(frame, v6 ? packet::kEthPIpv6 : packet::kEthPIp, p.meta.iif_mac);
  emit(x, std::move(l2), *ip, Reply::Via::IpOutput);
}

// bridge and netdev tables: nft_reject_bridge_eval / nft_reject_netdev_eval.
void device_reject(const ir::Stmt& s, Exec& x, bool bridge) {
  const Packet& p = x.pkt;
  const packet::PacketLayout& l = p.layout;
  std::span<const uint8_t> frame = p.frame.bytes();
  if (!l.link_ok || l.link != packet::LinkType::Ethernet || frame.size() < 14) return;
  if (frame[0] & 1) return;  // broadcast or multicast destination: no reply
  bool v6 = l.protocol == packet::kEthPIpv6;
  if (!v6 && l.protocol != packet::kEthPIp) return;  // "no explicit way to reject this protocol"
  if (l.nh_off > frame.size()) return;
  // skb->len: everything from the network header, padding included.
  std::span<const uint8_t> pkt = frame.subspan(l.nh_off);
  std::optional<Bytes> ip = build(v6, s.reject_type, s.reject_code, pkt, packet::RejectVia::Device, {});
  if (!ip) return;
  // dev_hard_header with the original's addresses swapped and its protocol.
  // The bridge puts the original's VLAN tag on the reply (it leaves the port
  // tagged); netdev does not.
  Bytes l2 = ether_header(frame, l.protocol);
  if (bridge && l.vlan_present) {
    uint8_t tag[4] = {static_cast<uint8_t>(l.vlan_proto >> 8), static_cast<uint8_t>(l.vlan_proto),
                      static_cast<uint8_t>(l.vlan_tci >> 8), static_cast<uint8_t>(l.vlan_tci)};
    l2.insert(l2.begin() + 12, tag, tag + 4);
  }
  emit(x, std::move(l2), *ip, bridge ? Reply::Via::BridgeOutput : Reply::Via::Device);
}

}  // namespace

void exec_reject(const ir::Stmt& s, Exec& x) {
  switch (x.t.family) {
    case ir::Family::Ip:
    case ir::Family::Ip6:
    case ir::Family::Inet: stack_reject(s, x); break;
    case ir::Family::Bridge: device_reject(s, x, true); break;
    case ir::Family::Netdev: device_reject(s, x, false); break;
    default: break;  // refused at load time
  }
}

}  // namespace nfx::vm
