// nfx pipeline: the path a frame takes through the netfilter hooks, as the
// kernel's receive, forward, local-output and bridge paths call them.
//
// This is the one public header of the pipeline library. It knows hooks and
// their order, not rule syntax: the interpreter (nfx/vm.h) runs the chains.
#pragma once

#include <nfx/vm.h>

#include <array>
#include <functional>
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
  // Empties it for the next packet, keeping its buffers (and record_hooks).
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
std::vector<packet::Frame> icmp_error(vm::Interpreter& vm, vm::Packet& about, const Interface& iif, uint8_t type,
                                      uint8_t code, uint32_t info, std::vector<std::string>* log = nullptr);

}  // namespace nfx::pipeline
