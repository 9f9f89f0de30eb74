// The element's own small IP stack: what is addressed to it after the input
// hook, and what it sends itself through the output hook.
//   ICMP / ICMPv6 echo requests get echo replies (it answers ping);
//   TCP segments get a reset (no port is open: tcp_v4_send_reset);
//   UDP datagrams get port unreachable, other IPv4 protocols protocol
//   unreachable, other IPv6 ones parameter problem (unknown next header);
//   neighbour solicitations for its addresses get adverts.
#include "internal.h"

#include <cstring>

namespace nfx::router {

namespace {


void fold_icmp_checksum(Bytes& icmp, uint32_t pseudo) {
  icmp[2] = icmp[3] = 0;
  uint16_t c = packet::csum_fold(packet::csum_partial(icmp, pseudo));
  icmp[2] = static_cast<uint8_t>(c >> 8);
  icmp[3] = static_cast<uint8_t>(c);
}

// The offset in `ip` (an IPv6 packet whose transport header is at `th`) of
// the Next Header field that names the transport protocol: the fixed
// header's, or the last extension header's first byte.
uint32_t next_header_field(std::span<const uint8_t> ip, uint32_t th) {
  uint32_t field = 6, at = 40;
  uint8_t next = ip[6];
  while (at < th && at + 2 <= ip.size()) {
    field = at;
    const uint32_t len = next == 44 ? 8 : next == 51 ? (ip[at + 1] + 2u) * 4u : (ip[at + 1] + 1u) * 8u;
    next = ip[at];
    at += len;
  }
  return field;
}

}  // namespace

void Element::Impl::local_in(uint32_t port, uint64_t now_ns, const Sink& send) {
  ++stats.local_in;
  const packet::PacketLayout& l = pkt.layout;
  std::span<const uint8_t> frame = pkt.frame.bytes();
  if (l.end > frame.size() || l.nh_off >= l.end) return;
  std::span<const uint8_t> ip = frame.subspan(l.nh_off, l.end - l.nh_off);
  bool v6 = l.protocol == packet::kEthPIpv6;
  std::span<const uint8_t> src = ip.subspan(v6 ? 8 : 12, v6 ? 16 : 4), dst = ip.subspan(v6 ? 24 : 16, v6 ? 16 : 4);
  uint32_t th = l.th_off - l.nh_off;
  if (l.fragoff != 0 || th >= ip.size()) return;
  packet::RejectRoute route;
  route.pkt_host = pkt.meta.pkttype == 0;
  std::memcpy(route.icmp_saddr, dst.data(), dst.size());
  if (!is_local(dst)) {
    // broadcast or multicast: only neighbour discovery is for the element
    if (v6 && l.l4proto == 58 && ip.size() >= th + 24 && (ip[th] == 135 || ip[th] == 136))
      nd_in(port, ip, th, now_ns, send);
    return;
  }
  std::optional<Bytes> reply;
  if (!v6) {
    switch (l.l4proto) {
      case 1:  // ICMP: echo request
        if (ip.size() >= th + 8 && ip[th] == 8 && ip[th + 1] == 0) {
          Bytes icmp(ip.begin() + th, ip.end());
          icmp[0] = 0;
          fold_icmp_checksum(icmp, 0);
          reply = ipv4_packet(dst, src, 1, 64, ip_id++, icmp);
        }
        break;
      case 6: reply = packet::reject_ipv4_tcp_reset(ip, packet::RejectVia::Stack, route); break;
      case 17: reply = packet::reject_ipv4_unreach(ip, 3, packet::RejectVia::Stack, route); break;
      default: reply = packet::reject_ipv4_unreach(ip, 2, packet::RejectVia::Stack, route); break;
    }
  } else {
    switch (l.l4proto) {
      case 58:
        if (ip.size() >= th + 8 && ip[th] == 128 && ip[th + 1] == 0) {
          Bytes body(ip.begin() + th, ip.end());
          body[0] = 129;
          reply = icmpv6_packet(dst, src, 64, body);
        } else if (ip.size() >= th + 24 && (ip[th] == 135 || ip[th] == 136)) {
          nd_in(port, ip, th, now_ns, send);
        }
        break;
      case 6: reply = packet::reject_ipv6_tcp_reset(ip, packet::RejectVia::Stack, route); break;
      case 17: reply = packet::reject_ipv6_unreach(ip, 4, packet::RejectVia::Stack, route); break;
      case 59: break;      // no next header: nothing follows, nothing to answer
      case 136: break;     // UDP-Lite: its checksum is not checked here; dropped
      default:
        // ip6_input_finish: no handler for the protocol, parameter problem
        // (unknown next header) pointing at the field that named it
        reply = packet::icmp_send_v6(ip, 4, 1, route, next_header_field(ip, th));
        break;
    }
  }
  // the stack's answers pass its ICMP rate limits (echo replies are not limited)
  if (reply && icmp_limit.allow(*reply, now_ns)) local_out(std::move(*reply), now_ns, send);
}

// Neighbour discovery (ndisc_recv_ns / ndisc_recv_na), after the input hook:
// a solicitation for an own address is answered with a solicited advert and
// teaches the sender's MAC; an advert confirms a neighbour being resolved.
void Element::Impl::nd_in(uint32_t port, std::span<const uint8_t> ip, uint32_t icmp_off, uint64_t now_ns,
                          const Sink& send) {
  if (ip[7] != 255 || ip[icmp_off + 1] != 0) return;  // RFC 4861 7.1.1: hop limit 255, code 0
  const uint8_t* icmp = ip.data() + icmp_off;
  Bytes target(icmp + 8, icmp + 24);
  Bytes src(ip.begin() + 8, ip.begin() + 24);
  bool src_unspecified = src == Bytes(16, 0);
  // the link-layer address option (source for NS, target for NA)
  std::optional<Mac> lladdr;
  for (size_t o = icmp_off + 24; o + 8 <= ip.size() && ip[o + 1] != 0; o += ip[o + 1] * 8u) {
    if ((ip[o] == 1 || ip[o] == 2) && ip[o + 1] == 1) {
      Mac m;
      std::memcpy(m.data(), &ip[o + 2], 6);
      lladdr = m;
    }
  }
  if (icmp[0] == 136) {
    if (lladdr) learn(port, Addr::of(target), *lladdr, false, now_ns, send);
    return;
  }
  if (!is_local(target)) return;
  if (!src_unspecified && lladdr) learn(port, Addr::of(src), *lladdr, true, now_ns, send);
  // the advert: router, solicited (unless answering DAD), override
  Bytes body{136, 0, 0, 0, static_cast<uint8_t>(src_unspecified ? 0xa0 : 0xe0), 0, 0, 0};
  body.insert(body.end(), target.begin(), target.end());
  body.insert(body.end(), {2, 1});
  body.insert(body.end(), ports[port].mac.begin(), ports[port].mac.end());
  static const Bytes kAllNodes{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const Bytes& to = src_unspecified ? kAllNodes : src;
  Mac to_mac = src_unspecified ? multicast_mac_v6(kAllNodes) : lladdr ? *lladdr : Mac{};
  if (!src_unspecified && !lladdr) {
    // no option: answer the frame's sender
    std::memcpy(to_mac.data(), pkt.frame.data() + 6, 6);
  }
  local_out(icmpv6_packet(target, to, 255, body), now_ns, send, port, to_mac);
}

void Element::Impl::local_out(Bytes ip, uint64_t now_ns, const Sink& send, std::optional<uint32_t> via_port,
                              std::optional<Mac> dst_mac) {
  if (ip.size() < 20) return;
  bool v6 = (ip[0] >> 4) == 6;
  std::span<const uint8_t> dst(ip.data() + (v6 ? 24 : 16), v6 ? 16 : 4);
  uint32_t port;
  Addr next_hop = Addr::of(dst);
  if (via_port) {
    port = *via_port;
  } else {
    const Route* r = lookup(dst);
    if (!r) {
      drop("local output: no route");
      return;
    }
    port = r->port;
    if (!r->gateway.empty()) next_hop = Addr::of(r->gateway);
  }
  ++stats.local_out;
  vm::Packet out;
  pipeline::PathResult r =
      output_path(port, ethernet(Mac{}, ports[port].mac, v6 ? packet::kEthPIpv6 : packet::kEthPIp, ip), now_ns, out);
  if (!r.accepted) return;
  std::vector<packet::Frame> frames;
  frames.push_back(std::move(out.frame));
  for (packet::Frame& f : r.more_fragments) frames.push_back(std::move(f));
  for (packet::Frame& f : frames) {
    if (dst_mac) {
      std::memcpy(f.data(), dst_mac->data(), 6);
      emit(port, f.bytes(), send);
    } else {
      transmit(port, next_hop, f, kNoPort, Mac{}, now_ns, send);
    }
  }
}

}  // namespace nfx::router
