// ARP and neighbour discovery: the neighbour cache, resolution of next hops
// with the frames that wait for it, answers to ARP requests for the
// element's addresses, and host unreachable when resolution fails.
#include "internal.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace nfx::router {

namespace {

Mac mac_at(const uint8_t* p) {
  Mac m;
  std::memcpy(m.data(), p, 6);
  return m;
}

}  // namespace

void Element::Impl::transmit(uint32_t port, const Addr& next_hop, packet::Frame& frame, uint32_t from_port,
                             const Mac& from_mac, uint64_t now_ns, const Sink& send) {
  transmit(port, neighbours[NeighbourKey{port, next_hop}], frame, from_port, from_mac, now_ns, send);
}

void Element::Impl::transmit(RouteDecision& route, packet::Frame& frame, uint32_t from_port, const Mac& from_mac,
                             uint64_t now_ns, const Sink& send) {
  if (!route.neighbour || route.neighbour_epoch != neighbours_forgotten) {
    route.neighbour = &neighbours[NeighbourKey{route.port, route.hop}];
    route.neighbour_epoch = neighbours_forgotten;
  }
  transmit(route.port, *route.neighbour, frame, from_port, from_mac, now_ns, send);
}

void Element::Impl::transmit(uint32_t port, Neighbour& n, packet::Frame& frame, uint32_t from_port,
                             const Mac& from_mac, uint64_t now_ns, const Sink& send) {
  if (n.state == Neighbour::State::Reachable || n.state == Neighbour::State::Stale) {
    if (frame.size() >= 12) {
      std::memcpy(frame.data(), n.mac.data(), 6);
      std::memcpy(frame.data() + 6, ports[port].mac.data(), 6);
    }
    emit(port, frame.bytes(), send);
    if (n.state == Neighbour::State::Reachable && now_ns - n.confirmed_ns > kReachableNs) {
      // used after its reachable time: confirm it again (the kernel's
      // DELAY/PROBE states), still sending to the known MAC meanwhile
      n.state = Neighbour::State::Stale;
      n.probes = 0;
      n.next_probe_ns = now_ns;
    }
    return;
  }
  if (n.state == Neighbour::State::Failed) {
    n.state = Neighbour::State::Incomplete;
    n.probes = 0;
  }
  if (n.queue.size() >= kMaxQueued) {
    n.queue.pop_front();
    drop("neighbour queue full");
  }
  n.queue.push_back(Neighbour::Waiting{std::move(frame), from_port, from_mac});
  if (n.probes == 0) {
    n.next_probe_ns = now_ns;
    neighbour_timers(now_ns, send);
  }
}

void Element::Impl::learn(uint32_t port, const Addr& addr, const Mac& mac, bool create, uint64_t now_ns,
                          const Sink& send) {
  auto it = neighbours.find(NeighbourKey{port, addr});
  if (it == neighbours.end()) {
    if (!create) return;
    it = neighbours.emplace(NeighbourKey{port, addr}, Neighbour{}).first;
  }
  Neighbour& n = it->second;
  n.mac = mac;
  n.state = Neighbour::State::Reachable;
  n.confirmed_ns = now_ns;
  n.probes = 0;
  while (!n.queue.empty()) {
    packet::Frame f = std::move(n.queue.front().frame);
    n.queue.pop_front();
    if (f.size() >= 12) {
      std::memcpy(f.data(), mac.data(), 6);
      std::memcpy(f.data() + 6, ports[port].mac.data(), 6);
    }
    emit(port, f.bytes(), send);
  }
}

void Element::Impl::solicit(uint32_t port, const Addr& addr, uint64_t now_ns, const Sink& send) {
  const PortConfig& pc = ports[port];
  if (addr.len == 4) {
    static const Bytes kAny(4, 0);
    const Bytes* src = own_address(port, false);
    arp_out(port, arp_frame(1, pc.mac, src ? *src : kAny, Mac{}, addr.span(), kBroadcast), now_ns, send);
    return;
  }
  const Bytes* src = own_address(port, true);
  if (!src) return;
  // neighbour solicitation to the solicited-node group, with our MAC
  Bytes body{135, 0, 0, 0, 0, 0, 0, 0};
  body.insert(body.end(), addr.bytes.begin(), addr.bytes.begin() + addr.len);
  body.insert(body.end(), {1, 1});
  body.insert(body.end(), pc.mac.begin(), pc.mac.end());
  Bytes group = solicited_node(addr.span());
  local_out(icmpv6_packet(*src, group, 255, body), now_ns, send, port, multicast_mac_v6(group));
}

void Element::Impl::arp_out(uint32_t port, const Bytes& frame, uint64_t now_ns, const Sink& send) {
  // arp_send: through the arp output hook
  vm::Packet out;
  if (output_path(port, frame, now_ns, out).accepted) emit(port, out.frame.bytes(), send);
}

void Element::Impl::neighbour_timers(uint64_t now_ns, const Sink& send) {
  for (auto it = neighbours.begin(); it != neighbours.end();) {
    const uint32_t port = it->first.port;
    const Addr addr = it->first.addr;
    Neighbour& n = it->second;
    bool probing = n.state == Neighbour::State::Incomplete || n.state == Neighbour::State::Stale;
    if (probing && n.next_probe_ns <= now_ns) {
      if (n.probes >= kMaxProbes) {
        n.state = Neighbour::State::Failed;
        n.confirmed_ns = now_ns;
        std::deque<Neighbour::Waiting> waiting;
        waiting.swap(n.queue);
        for (Neighbour::Waiting& w : waiting) {
          drop("neighbour unresolved");
          host_unreachable(w, now_ns, send);
        }
      } else {
        ++n.probes;
        n.next_probe_ns = now_ns + kRetransNs;
        solicit(port, addr, now_ns, send);  // may add entries: the map's iterators stay valid
      }
    }
    bool forget = (n.state == Neighbour::State::Failed && now_ns - n.confirmed_ns > 3 * kRetransNs) ||
                  (n.state == Neighbour::State::Stale && n.queue.empty() && now_ns - n.confirmed_ns > kStaleGcNs);
    if (forget) ++neighbours_forgotten;
    it = forget ? neighbours.erase(it) : std::next(it);
  }
}

void Element::Impl::host_unreachable(Neighbour::Waiting& w, uint64_t now_ns, const Sink& send) {
  if (w.from_port == kNoPort || w.frame.size() < 14) return;
  // the error goes back the way the packet came, to its sender
  vm::Packet about;
  about.frame = std::move(w.frame);
  std::memcpy(about.frame.data(), ports[w.from_port].mac.data(), 6);
  std::memcpy(about.frame.data() + 6, w.from_mac.data(), 6);
  about.layout.link = packet::LinkType::Ethernet;
  about.meta.now_ns = now_ns;
  bool v6 = about.frame.size() > 14 && (about.frame.data()[14] >> 4) == 6;
  std::vector<std::string> logs;
  for (const packet::Frame& f : pipeline::icmp_error(*vm, about, ifaces[w.from_port], v6 ? 1 : 3, v6 ? 3 : 1, 0, &logs,
                                                          &icmp_limit))
    emit(w.from_port, f.bytes(), send);
  write_logs(logs);
}

void Element::Impl::arp_in(uint32_t port, uint64_t now_ns, const Sink& send) {
  pipeline::PathResult& r = result;
  pipeline::run_path(r, *vm, pipeline::Path::Input, pkt, ifaces[port], ifaces[port]);
  count(r);
  send_replies(port, r, send);
  if (!r.accepted) return;
  // arp_process: Ethernet/IPv4 only
  std::span<const uint8_t> f = pkt.frame.bytes();
  if (f.size() < 14 + 28) return;
  const uint8_t* a = f.data() + 14;
  if (a[0] != 0 || a[1] != 1 || a[2] != 8 || a[3] != 0 || a[4] != 6 || a[5] != 4) return;
  uint16_t op = static_cast<uint16_t>(a[6] << 8 | a[7]);
  Mac sha = mac_at(a + 8);
  Bytes sip(a + 14, a + 18), tip(a + 24, a + 28);
  if (sip[0] >= 224 || sip[0] == 127) return;  // multicast or loopback senders are ignored
  bool for_us = is_local(tip);
  bool unspecified = sip == Bytes(4, 0);
  if (op == 1 && for_us) {
    if (!unspecified) learn(port, Addr::of(sip), sha, true, now_ns, send);
    arp_out(port, arp_frame(2, ports[port].mac, tip, sha, sip, sha), now_ns, send);
    return;
  }
  // replies, and requests for others, only refresh what is known (arp_accept=0)
  if (!unspecified) learn(port, Addr::of(sip), sha, false, now_ns, send);
}

}  // namespace nfx::router
