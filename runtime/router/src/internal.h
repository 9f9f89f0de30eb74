// The element's parts, shared by its source files.
#pragma once

#include <nfx/router.h>

#include <array>
#include <deque>
#include <algorithm>
#include <map>
#include <optional>

namespace nfx::router {

using Mac = std::array<uint8_t, 6>;
using Bytes = std::vector<uint8_t>;

inline constexpr Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Whether `addr` lies in `p`.
bool in_prefix(const Prefix& p, std::span<const uint8_t> addr);

// A route resolved to a port: where a destination leaves and the neighbour
// the frame is sent to.
struct Route {
  Prefix dst;
  Bytes gateway;  // empty: the destination itself is the next hop
  uint32_t port = 0;
};

// The neighbour cache (the kernel's arp_tbl / nd_tbl): per port and
// address, the MAC and its state, with the frames waiting for resolution.
struct Neighbour {
  enum class State : uint8_t { Incomplete, Reachable, Stale, Failed } state = State::Incomplete;
  Mac mac{};
  uint64_t confirmed_ns = 0;   // when the neighbour last answered
  uint64_t next_probe_ns = 0;  // Incomplete: when the next solicitation goes
  int probes = 0;
  struct Waiting {
    packet::Frame frame;  // the frame to send, its link header still to write
    uint32_t from_port = 0;  // where it came in (for the host unreachable), or kNoPort
    Mac from_mac{};          // its sender's MAC there
  };
  std::deque<Waiting> queue;
};
inline constexpr uint32_t kNoPort = ~0u;
// Kernel defaults: 3 multicast solicitations 1 s apart (mcast_solicit,
// retrans_time), reachable for 30 s after confirmation (base_reachable_time),
// a failed entry forgotten after 3 s, and a bounded queue of unresolved
// packets (unres_qlen).
inline constexpr int kMaxProbes = 3;
inline constexpr uint64_t kRetransNs = 1'000'000'000ull;
inline constexpr uint64_t kReachableNs = 30'000'000'000ull;
inline constexpr uint64_t kStaleGcNs = 60'000'000'000ull;
inline constexpr size_t kMaxQueued = 101;

// An IPv4 or IPv6 address held in place (a neighbour's key, a next hop):
// the packet path copies these without allocating.
struct Addr {
  std::array<uint8_t, 16> bytes{};
  uint8_t len = 0;
  static Addr of(std::span<const uint8_t> a) {
    Addr x;
    x.len = static_cast<uint8_t>(std::min<size_t>(a.size(), 16));
    std::copy(a.begin(), a.begin() + x.len, x.bytes.begin());
    return x;
  }
  std::span<const uint8_t> span() const { return {bytes.data(), len}; }
  Bytes vec() const { return Bytes(bytes.begin(), bytes.begin() + len); }
  auto operator<=>(const Addr&) const = default;
};

struct NeighbourKey {
  uint32_t port;
  Addr addr;
  auto operator<=>(const NeighbourKey&) const = default;
};

// A destination's routing decision after prerouting. Routes and the
// element's addresses are fixed for its life, so a destination's decision
// is too: the forward path keeps the recent ones (RouteCache).
struct RouteDecision {
  enum class Kind : uint8_t { Empty, Local, Unreachable, Forward } kind = Kind::Empty;
  Addr dst;
  uint32_t port = 0;
  Addr hop;  // the neighbour it is sent to
  // That neighbour's cache entry, while no entry has been forgotten since
  // (Impl::neighbours_forgotten): std::map entries stay put until erased.
  Neighbour* neighbour = nullptr;
  uint64_t neighbour_epoch = 0;
};
using RouteCache = std::array<RouteDecision, 256>;  // direct-mapped by a hash of the destination

struct Element::Impl {
  Mode mode = Mode::Router;
  std::vector<PortConfig> ports;
  std::vector<pipeline::Interface> ifaces;
  std::vector<Route> routes;  // longest prefix first
  std::map<NeighbourKey, Neighbour> neighbours;
  std::shared_ptr<vm::Interpreter> vm;
  LogSink log;
  Stats stats;  // all but the hook counts, which live in hook_packets
  vm::Packet pkt;  // the frame in flight, reused
  uint16_t ip_id = 1;
  // The choice of the last route lookup of the forward path (an entry of
  // route_cache), or nullptr: the packet is not forwarded.
  RouteDecision* chosen = nullptr;
  uint64_t neighbours_forgotten = 0;  // entries erased from `neighbours` so far
  pipeline::PathResult result;  // the forward, bridge and ARP paths' result, reused
  pipeline::IcmpRateLimit icmp_limit;  // the stack's ICMP errors, the kernel's defaults
  RouteCache route_cache;
  std::array<std::array<uint64_t, 8>, 16> hook_packets{};  // [family][hook]

  // element.cc
  void count(const pipeline::PathResult& r);
  void drop(const std::string& why);
  void emit(uint32_t port, std::span<const uint8_t> frame, const Sink& send);
  void bridge(uint32_t port, uint64_t now_ns, const Sink& send);
  void route_in(uint32_t port, uint64_t now_ns, const Sink& send);
  void send_replies(uint32_t port, pipeline::PathResult& r, const Sink& send);
  void write_logs(const std::vector<std::string>& lines);
  // A frame the element sends itself from `port`, through the output path
  // (output, postrouting, egress) into `out`; counted and logged.
  pipeline::PathResult output_path(uint32_t port, std::span<const uint8_t> frame, uint64_t now_ns, vm::Packet& out);

  // routes.cc
  void add_connected_routes();
  void add_static(const RouteConfig& rc);
  const Route* lookup(std::span<const uint8_t> dst) const;
  bool is_local(std::span<const uint8_t> dst) const;
  // The element's address on `port` of the family of `like`, for a source.
  const Bytes* own_address(uint32_t port, bool v6) const;
  RouteDecision decide_route(std::span<const uint8_t> dst) const;
  const pipeline::Interface* route_for(const vm::Packet& p);

  // neighbour.cc
  void transmit(uint32_t port, const Addr& next_hop, packet::Frame& frame, uint32_t from_port, const Mac& from_mac,
                uint64_t now_ns, const Sink& send);
  // The same to the neighbour of a route decision, found through its cache.
  void transmit(RouteDecision& route, packet::Frame& frame, uint32_t from_port, const Mac& from_mac, uint64_t now_ns,
                const Sink& send);
  void transmit(uint32_t port, Neighbour& n, packet::Frame& frame, uint32_t from_port, const Mac& from_mac,
                uint64_t now_ns, const Sink& send);
  void learn(uint32_t port, const Addr& addr, const Mac& mac, bool create, uint64_t now_ns, const Sink& send);
  void solicit(uint32_t port, const Addr& addr, uint64_t now_ns, const Sink& send);
  void arp_in(uint32_t port, uint64_t now_ns, const Sink& send);
  // An ARP frame the element sends, through the arp output hook.
  void arp_out(uint32_t port, const Bytes& frame, uint64_t now_ns, const Sink& send);
  void neighbour_timers(uint64_t now_ns, const Sink& send);
  void host_unreachable(Neighbour::Waiting& w, uint64_t now_ns, const Sink& send);

  // local.cc: what is addressed to the element itself
  void local_in(uint32_t port, uint64_t now_ns, const Sink& send);
  void nd_in(uint32_t port, std::span<const uint8_t> ip, uint32_t icmp_off, uint64_t now_ns, const Sink& send);
  // Sends an IP packet the element originates: routed by its destination,
  // through output and postrouting, then to the neighbour.
  void local_out(Bytes ip, uint64_t now_ns, const Sink& send, std::optional<uint32_t> via_port = std::nullopt,
                 std::optional<Mac> dst_mac = std::nullopt);
};

// Frame builders (frames.cc).
Bytes ethernet(const Mac& dst, const Mac& src, uint16_t type, std::span<const uint8_t> payload);
Bytes arp_frame(uint16_t op, const Mac& src_mac, std::span<const uint8_t> src_ip, const Mac& dst_mac,
                std::span<const uint8_t> dst_ip, const Mac& eth_dst);
// An IPv4 header for `payload` (protocol, TTL, id, no DF) with its checksum.
Bytes ipv4_packet(std::span<const uint8_t> src, std::span<const uint8_t> dst, uint8_t proto, uint8_t ttl,
                  uint16_t id, std::span<const uint8_t> payload);
// An IPv6 packet carrying ICMPv6 `body` (type, code, zeroed checksum, ...),
// its checksum filled in.
Bytes icmpv6_packet(std::span<const uint8_t> src, std::span<const uint8_t> dst, uint8_t hop_limit,
                    std::span<const uint8_t> body);
// ff02::1:ffXX:XXXX and its 33:33:ff:XX:XX:XX MAC.
Bytes solicited_node(std::span<const uint8_t> addr);
Mac multicast_mac_v6(std::span<const uint8_t> addr);

}  // namespace nfx::router
