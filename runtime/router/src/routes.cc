// Routing: connected networks from the ports' addresses, static routes,
// longest prefix first, and the addresses that are the element's own.
#include "internal.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace nfx::router {

bool in_prefix(const Prefix& p, std::span<const uint8_t> addr) {
  if (addr.size() != p.addr.size()) return false;
  unsigned full = p.len / 8, rest = p.len % 8;
  if (!std::equal(p.addr.begin(), p.addr.begin() + full, addr.begin())) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (p.addr[full] & mask) == (addr[full] & mask);
}

namespace {

void sort_routes(std::vector<Route>& routes) {
  std::stable_sort(routes.begin(), routes.end(), [](const Route& a, const Route& b) { return a.dst.len > b.dst.len; });
}

}  // namespace

void Element::Impl::add_connected_routes() {
  for (uint32_t p = 0; p < ports.size(); ++p)
    for (const Prefix& a : ports[p].addrs) {
      Route r{a, {}, p};
      // the network itself: host bits cleared
      for (unsigned bit = a.len; bit < a.addr.size() * 8; ++bit)
        r.dst.addr[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
      routes.push_back(std::move(r));
    }
  sort_routes(routes);
}

void Element::Impl::add_static(const RouteConfig& rc) {
  Route r{rc.dst, rc.gateway, 0};
  std::string dst = format_address(rc.dst.addr) + "/" + std::to_string(rc.dst.len);
  if (!rc.dev.empty()) {
    auto it = std::find_if(ports.begin(), ports.end(), [&](const PortConfig& p) { return p.name == rc.dev; });
    if (it == ports.end()) throw std::invalid_argument(fmt::format("route {}: no port named '{}'", dst, rc.dev));
    r.port = static_cast<uint32_t>(it - ports.begin());
  } else {
    // the gateway must be on a connected network (ip route: "Nexthop has invalid gateway")
    const Route* via = lookup(rc.gateway);
    if (!via || !via->gateway.empty())
      throw std::invalid_argument(fmt::format("route {}: gateway {} is on no connected network", dst,
                                              format_address(rc.gateway)));
    r.port = via->port;
  }
  routes.push_back(std::move(r));
  sort_routes(routes);
}

const Route* Element::Impl::lookup(std::span<const uint8_t> dst) const {
  for (const Route& r : routes)
    if (in_prefix(r.dst, dst)) return &r;
  return nullptr;
}

bool Element::Impl::is_local(std::span<const uint8_t> dst) const {
  for (const PortConfig& p : ports)
    for (const Prefix& a : p.addrs)
      if (a.addr.size() == dst.size() && std::equal(a.addr.begin(), a.addr.end(), dst.begin())) return true;
  return false;
}

const Bytes* Element::Impl::own_address(uint32_t port, bool v6) const {
  for (const Prefix& a : ports.at(port).addrs)
    if (a.v6() == v6) return &a.addr;
  return nullptr;
}

// After prerouting: this host's own addresses, broadcasts and multicast are
// delivered locally; others are routed, or unreachable.
RouteDecision Element::Impl::decide_route(std::span<const uint8_t> dst) const {
  RouteDecision d;
  d.dst = Addr::of(dst);
  d.kind = RouteDecision::Kind::Local;
  if (is_local(dst)) return d;
  bool v6 = dst.size() == 16;
  if (v6 ? dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80)
         : (dst[0] & 0xf0) == 0xe0 || (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255))
    return d;  // multicast, link-local, limited broadcast: for this host, never forwarded
  if (!v6) {
    // a connected network's broadcast address
    for (const PortConfig& port : ports)
      for (const Prefix& a : port.addrs) {
        if (a.v6() || a.len >= 31 || !in_prefix(a, dst)) continue;
        bool all_ones = true;
        for (unsigned bit = a.len; bit < 32; ++bit) all_ones &= (dst[bit / 8] >> (7 - bit % 8)) & 1;
        if (all_ones) return d;
      }
  }
  const Route* r = lookup(dst);
  if (!r) {
    d.kind = RouteDecision::Kind::Unreachable;
    return d;
  }
  d.kind = RouteDecision::Kind::Forward;
  d.port = r->port;
  d.hop = r->gateway.empty() ? Addr::of(dst) : Addr::of(r->gateway);
  return d;
}

namespace {

size_t cache_slot(std::span<const uint8_t> dst) {
  uint64_t h = 0;
  for (size_t i = 0; i < dst.size(); i += 4) {
    uint32_t w;
    std::memcpy(&w, dst.data() + i, 4);
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
  }
  return static_cast<size_t>(h >> 56);
}

}  // namespace

// The decision for the packet's destination, from the cache when it holds it.
const pipeline::Interface* Element::Impl::route_for(const vm::Packet& p) {
  chosen = nullptr;
  const packet::PacketLayout& l = p.layout;
  const uint8_t* nh = p.frame.data() + l.nh_off;
  bool v6 = l.protocol == packet::kEthPIpv6;
  std::span<const uint8_t> dst(nh + (v6 ? 24 : 16), v6 ? 16 : 4);
  RouteDecision& d = route_cache[cache_slot(dst)];
  if (d.kind == RouteDecision::Kind::Empty || d.dst.len != dst.size() ||
      std::memcmp(d.dst.bytes.data(), dst.data(), dst.size()) != 0)
    d = decide_route(dst);
  switch (d.kind) {
    case RouteDecision::Kind::Forward:
      chosen = &d;
      return &ifaces[d.port];
    case RouteDecision::Kind::Unreachable: return &pipeline::unreachable();
    default: return nullptr;
  }
}

}  // namespace nfx::router
