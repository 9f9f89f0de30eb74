// nfx router: the network element `nfx run` is.
//
// This is the one public header of the router library. An Element owns
// ports (numbered from 0) and runs every frame that arrives on one through
// the hook pipeline (nfx/pipeline.h) with the loaded ruleset:
//  - Router mode: addresses per port (IPv4 and IPv6), ARP and neighbour
//    discovery for them (answers, a neighbour cache, resolution of next hops
//    with queued packets), connected and static routes (longest prefix
//    wins), TTL / hop limit, ICMP errors (time exceeded, unreachable,
//    fragmentation needed / packet too big), and a small local stack for
//    what is addressed to the element itself: echo replies, TCP resets,
//    port unreachable.
//  - Bridge mode: a bump in the wire between two ports, through the bridge
//    family's hooks.
// It does no I/O: frames leave through the Sink given to each call, so the
// same element runs under TAP devices (nfx run) and in unit tests.
// Not thread-safe: one caller at a time.
#pragma once

#include <nfx/pipeline.h>
#include <nfx/vm.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace nfx::router {

// An address with its prefix length: 4 bytes (IPv4) or 16 (IPv6).
struct Prefix {
  std::vector<uint8_t> addr;
  uint8_t len = 0;
  bool v6() const { return addr.size() == 16; }
};
// "192.168.1.1/24", "fd00:1::1/64" (a bare address is a host prefix).
bool parse_prefix(const std::string& text, Prefix& out, std::string& error);
std::string format_address(const std::vector<uint8_t>& addr);

struct PortConfig {
  std::string name;
  std::vector<Prefix> addrs;     // the element's own addresses on this port
  std::array<uint8_t, 6> mac{};  // the element's MAC on this wire
  uint32_t index = 0;            // the interface index rules see (iif, oif)
  uint32_t mtu = 1500;
};

// A static route: to `dst` via `gateway` (an address on a connected
// network), or straight out of the port named `dev` when there is none.
struct RouteConfig {
  Prefix dst;
  std::vector<uint8_t> gateway;
  std::string dev;
};
// "default=203.0.113.1", "default6=fd00:2::1", "10.0.0.0/8=192.168.1.254",
// "10.0.0.0/8=dev:lan0".
bool parse_route(const std::string& text, RouteConfig& out, std::string& error);

enum class Mode : uint8_t { Router, Bridge };

struct PortStats {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, rx_dropped = 0, tx_dropped = 0;
};
struct Stats {
  std::vector<PortStats> ports;
  uint64_t forwarded = 0, local_in = 0, local_out = 0, dropped = 0;
  // ICMP errors the stack held back: over the budget of all destinations,
  // over one destination's (the kernel's RATELIMITGLOBAL, RATELIMITHOST).
  uint64_t icmp_limited_global = 0, icmp_limited_host = 0;
  // Packets each hook of each family saw ("ip forward", "inet ..." is
  // counted under the hook's own family: ip/ip6/arp/bridge/netdev).
  std::map<std::string, uint64_t> hooks;
  // Drops by cause: "ip filter forward (policy)", "ip_forward (ttl)",
  // "neighbour unresolved", ...
  std::map<std::string, uint64_t> drops;
};

// Where a frame leaves: the port, and the Ethernet frame.
using Sink = std::function<void(uint32_t port, std::span<const uint8_t> frame)>;
using LogSink = std::function<void(const std::string& line)>;

class Element {
 public:
  // Throws std::invalid_argument when a route names no port or its gateway
  // is on no connected network, or bridge mode has not exactly two ports.
  Element(Mode mode, std::vector<PortConfig> ports, std::vector<RouteConfig> routes);
  ~Element();

  // The ruleset that runs from the next frame on. A later one (a reload)
  // takes over the connection tracking table and NAT bindings of the
  // running one, as the kernel keeps conntrack across `nft -f`.
  void set_ruleset(std::shared_ptr<vm::Interpreter> vm);
  const std::shared_ptr<vm::Interpreter>& ruleset() const;

  // A frame arrived on `port` at `now_ns` (ns since the epoch).
  void receive(uint32_t port, std::span<const uint8_t> frame, uint64_t now_ns, const Sink& send);
  // Timers: neighbour probes, retries and failures. Call about every 100 ms.
  void tick(uint64_t now_ns, const Sink& send);
  // `log` statement lines, in the kernel's format.
  void set_log(LogSink log);

  Mode mode() const;
  size_t port_count() const;
  const PortConfig& port(uint32_t p) const;
  // The neighbour cache as `ip neigh` shows it.
  std::vector<std::string> neighbours(uint64_t now_ns) const;
  Stats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nfx::router
