// nfx pipeline: the path a frame takes through the netfilter hooks, as the
// kernel's receive, forward, local-output and bridge paths call them.
//
// This is the one public header of the pipeline library. It knows hooks and
// their order, not rule syntax: the interpreter (nfx/vm.h) runs the chains.
#pragma once

#include <nfx/vm.h>

#include <array>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace nfx::pipeline {

enum class Path : uint8_t {
  Input,    // netdev ingress, prerouting, input (arp: input)
  Forward,  // netdev ingress, prerouting, forward, postrouting, netdev egress
  Output,   // output, postrouting, netdev egress
  Bridge,   // netdev ingress, bridge prerouting, forward, postrouting, netdev egress
};
bool path_from_name(const std::string& name, Path& out);

struct Interface {
  std::string name;
  uint32_t index = 0;
  // The interface's own IPv4 (4 bytes) and IPv6 (16 bytes) address, if any:
  // the source of the ICMP errors the host sends back through it for packets
  // that are not its own (see vm::PacketMeta).
  std::vector<uint8_t> addr4, addr6;
  std::vector<uint8_t> mac;  // 6 bytes, or empty: not known
  // The neighbour routed packets leave to through this interface (the next
  // hop's MAC): with `mac`, the Ethernet header neigh_output gives a routed
  // frame. Empty: not known, the frame keeps the header it came with.
  std::vector<uint8_t> peer_mac;
  // The largest IP packet the interface sends (0: no limit). Forwarding a
  // larger one cuts it (IPv4 without DF) or answers fragmentation needed /
  // packet too big.
  uint32_t mtu = 0;
};

// The sysctls of the stack's ICMP rate limits, with the kernel's defaults.
struct IcmpLimits {
  uint32_t ratelimit_ms = 1000;  // net.ipv4.icmp_ratelimit
  uint32_t ratemask = 0x1818;    // net.ipv4.icmp_ratemask: unreachable, source quench, time exceeded, parameter problem
  // net.ipv6.icmp.ratelimit, for a destination routed by a /128; a wider
  // route's prefix halves it per 32 bits (icmpv6_xrlim_allow)
  uint32_t ratelimit6_ms = 100;
  std::array<uint64_t, 4> ratemask6 = {~uint64_t{4}, ~uint64_t{0}, 0, 0};  // net.ipv6.icmp.ratemask: 0-1,3-127
  uint32_t msgs_per_sec = 1000;  // net.ipv4.icmp_msgs_per_sec (IPv4 and IPv6)
  uint32_t msgs_burst = 50;      // net.ipv4.icmp_msgs_burst
  size_t max_peers = 65536;      // destinations remembered; past that a new one has no bucket of its own
};

// The limits the kernel's IP stack puts on the ICMP and ICMPv6 errors it
// sends (icmp_send, icmp6_send), with its defaults: per destination a
// token bucket of `ratelimit_ms` a message and a burst of six
// (inet_peer_xrlim_allow), and over all destinations `msgs_per_sec` with a
// burst of `msgs_burst` (icmp_global_allow). Types outside the rate masks
// (echo replies, fragmentation needed, packet too big, ...) always go.
class IcmpRateLimit {
 public:
  IcmpRateLimit() = default;
  explicit IcmpRateLimit(IcmpLimits limits) : config_(limits) {}

  // The prefix length of the route to an IPv6 destination (128 if unset).
  std::function<unsigned(std::span<const uint8_t> dst)> prefix_len6;

  // Whether the IP stack may send `ip` (an IPv4 or IPv6 packet) at
  // `now_ns`: true for anything but an ICMP(v6) error over its limits.
  bool allow(std::span<const uint8_t> ip, uint64_t now_ns);
  // Destinations whose bucket has filled again are forgotten (as good as new).
  void forget_idle(uint64_t now_ns);

  uint64_t limited_global() const { return limited_global_; }  // ICMP_MIB_RATELIMITGLOBAL
  uint64_t limited_host() const { return limited_host_; }      // ICMP_MIB_RATELIMITHOST
  size_t peers() const { return peers_.size(); }

 private:
  struct Peer {
    uint64_t tokens_ns = 0;
    uint64_t last_ns = 0;
  };
  bool global_allow(uint64_t now_ns);

  IcmpLimits config_;
  std::map<std::array<uint8_t, 17>, Peer> peers_;  // family byte, then the address
  int64_t credit_ = 0;
  uint64_t stamp_ns_ = 0;
  bool started_ = false;
  uint64_t limited_global_ = 0, limited_host_ = 0;
};

struct PathResult {
  bool accepted = false;       // the frame reached the end of the path
  bool local = false;          // ... and that end was local delivery (input)
  // Where an accepted packet that is not for this host leaves.
  const Interface* out_interface = nullptr;
  // A reassembled datagram leaves cut again (ip_fragment): the packet's
  // frame is the first piece, these are the others, in order, each past the
  // egress hook.
  std::vector<packet::Frame> more_fragments;
  vm::Decision decision;       // the last hook's decision (or the one that dropped)
  vm::Decision hook_decision;  // without record_hooks: the buffer each hook's run reuses
  // Every hook run on the way, in order, each with the base chain and rule
  // that decided it (replies moved out): what a differential test of two
  // executors compares hook by hook.
  std::vector<vm::Decision> hooks;
  // Off: `hooks` stays empty (a packet loop that only counts keeps `ran`).
  bool record_hooks = true;
  // The hooks the packet passed (with or without chains to run there):
  // bit family * 8 + hook, as vm::Interpreter::has_chains numbers them.
  std::array<uint64_t, 2> ran{};
  void mark_ran(ir::Family family, vm::Hook hook) {
    const unsigned i = static_cast<unsigned>(family) * 8 + static_cast<unsigned>(hook);
    if (i < 128) ran[i / 64] |= uint64_t{1} << (i % 64);
  }
  std::string dropped_before;  // why the stack dropped it before any hook ("" if not)
  std::vector<std::string> log;
  // Frames sent back out of the input interface because of the packet
  // (reject), in order, after the hooks they meet on the way out (ip output
  // and postrouting, bridge output and postrouting, netdev egress) let them
  // go. On the output path they are for this host and not listed.
  std::vector<packet::Frame> replies;
  // The ICMP errors the stack sends on the way (for the packet, or a
  // reject of ip/ip6/inet chains) pass this limit; nullptr: none is limited.
  IcmpRateLimit* icmp_limit = nullptr;
  // Empties it for the next packet, keeping its buffers (and record_hooks, icmp_limit).
  void clear();
};

// The routing decision for a received packet after prerouting (which may
// have translated its destination): the interface it leaves by, or nullptr
// when it is for this host.
// A route may also answer unreachable(): no route, the packet is dropped and
// the sender told (ICMP network unreachable, ICMPv6 no route).
using Route = std::function<const Interface*(const vm::Packet&)>;
const Interface& unreachable();

// Runs `pkt` (a received Ethernet frame, or a locally sent one for Output)
// along `path`. `iif` is where replies leave. Packets the IP stack would drop before prerouting (ip_rcv /
// ipv6_rcv checks) are dropped with `dropped_before` saying why. On the
// forward path, `route` (if given) picks the output interface instead of
// `oif`, or delivers the packet locally.
PathResult run_path(vm::Interpreter& vm, Path path, vm::Packet& pkt, const Interface& iif, const Interface& oif,
                    const std::function<void(const vm::TraceEvent&)>& trace = {}, const Route& route = {});
// The same into `out`, whose buffers a packet loop reuses.
void run_path(PathResult& out, vm::Interpreter& vm, Path path, vm::Packet& pkt, const Interface& iif,
              const Interface& oif, const std::function<void(const vm::TraceEvent&)>& trace = {},
              const Route& route = {});

// The ICMP (ICMPv6) error the IP stack sends about `about` (a received
// Ethernet frame) back out of `iif`, through output, postrouting and egress:
// the frames that leave (none when icmp_send would not answer, or a hook
// dropped it). `log` collects the log lines of those hooks.
// `limit`, if given, may hold it back.
std::vector<packet::Frame> icmp_error(vm::Interpreter& vm, vm::Packet& about, const Interface& iif, uint8_t type,
                                      uint8_t code, uint32_t info, std::vector<std::string>* log = nullptr,
                                      IcmpRateLimit* limit = nullptr);

}  // namespace nfx::pipeline
