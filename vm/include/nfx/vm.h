// nfx vm: the execution contract and the reference interpreter.
//
// This is the one public header of the vm library. The interpreter runs an
// IR program (nfx/ir.h) over packets seen as the kernel sees them
// (nfx/packet.h), with the kernel's semantics: base chains ordered by
// priority across tables, accept ending a chain and drop ending the packet,
// a jump stack of 16, NFT_BREAK when a load falls outside the packet, and
// the kernel's counters, limits, quotas, numgen, jhash and sets.
#pragma once

#include <nfx/ir.h>
#include <nfx/packet.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace nfx::vm {

enum class Hook : uint8_t { Prerouting, Input, Forward, Output, Postrouting, Ingress, Egress };
const char* hook_name(Hook h);

// What a hook knows besides the frame: devices, marks, the clock.
struct PacketMeta {
  uint32_t iif = 0, oif = 0;        // interface indexes (0: none)
  std::string iifname, oifname;
  uint16_t iiftype = 1, oiftype = 1;  // ARPHRD_ETHER
  uint32_t iifgroup = 0, oifgroup = 0;
  uint32_t mark = 0;
  uint32_t priority = 0;
  uint8_t pkttype = 0;              // PACKET_HOST
  bool nftrace = false;
  uint32_t cpu = 0;
  uint64_t now_ns = 0;              // the packet's time (ns since the epoch): limits, timeouts, meta time
  int32_t tz_minuteswest = 0;       // the kernel's sys_tz (settimeofday); only meta day applies it
  // For reject: the addresses of the input interface, which the kernel's
  // route back to the sender selects as the source of the ICMP errors it
  // sends for packets that are not its own (empty: not known, the original
  // destination is used), and whether the packet is addressed to this host
  // (the input path), whose errors come from the original destination.
  std::vector<uint8_t> iif_addr4, iif_addr6;
  bool local = false;
  // The input interface's MAC (6 bytes, or empty: not known), the source of
  // the replies the IP stack sends back through it.
  std::vector<uint8_t> iif_mac;
};

struct Packet {
  packet::Frame frame;
  packet::PacketLayout layout;
  PacketMeta meta;
  // Re-parse after a rewrite that may move headers.
  void reparse();
};

// One step of a trace, as nft_trace_notify reports it to `nft monitor trace`.
struct TraceEvent {
  enum Kind { Rule, Policy, Return } kind = Rule;
  std::string family, table, chain;
  uint64_t handle = 0;              // Rule: the rule that matched to its end or gave a verdict
  std::string verdict;              // "accept", "drop", "jump x", "continue", "" (rule without verdict)
  bool nftrace = false;             // the packet's nf_trace at this step: the kernel reports only then
  uint64_t walk = 0;                // which base-chain walk (nft_do_chain) of this interpreter; the
                                    // kernel dumps the packet's headers once per walk
  uint32_t mark = 0;                // the packet's mark at this step
};

// A frame a rule made the host send because of a packet: the replies of
// `reject`. `frame` has the link layer of the packet it answers (Ethernet
// or raw IP). How it leaves decides which hooks it meets on the way out.
struct Reply {
  enum class Via : uint8_t {
    IpOutput,      // ip/ip6/inet reject: routed and sent by the IP stack (output, postrouting, egress)
    BridgeOutput,  // bridge reject: br_forward out of the input port (bridge output, postrouting, egress)
    Device,        // netdev reject: dev_queue_xmit on the input device (egress)
  };
  packet::Frame frame;
  Via via = Via::IpOutput;
};

// The outcome of a hook for a packet.
struct Decision {
  ir::VerdictCode verdict = ir::VerdictCode::Accept;
  bool by_policy = false;
  std::string family, table, chain;  // the base chain that decided (empty: no chain ran)
  uint64_t handle = 0;               // the rule that decided (when !by_policy)
  std::vector<std::string> log;      // log statement lines, in order
  std::vector<Reply> replies;        // frames sent back (reject), in order
};

// What the kernel the interpreter stands for can load.
struct KernelFeatures {
  // nft_reject_bridge (CONFIG_NFT_BRIDGE_REJECT). The kernel nfx is checked
  // against has none: nft fails with "No such file or directory" on a
  // bridge reject, and so does load() unless this is set.
  bool bridge_reject = false;
};

// The interpreter: an IR program plus its mutable state (counters, sets,
// limit buckets, quotas, numgen counters). Not thread-safe.
// Base chain priorities [first, last], both included.
struct PriorityRange {
  int first = INT32_MIN, last = INT32_MAX;
};

class Interpreter {
 public:
  // Checks that every expression and statement can execute; on failure the
  // reasons (naming the construct and the rule) are in `errors`.
  static std::unique_ptr<Interpreter> load(ir::Program program, std::vector<std::string>& errors,
                                           uint64_t random_seed = 0, KernelFeatures features = {});
  ~Interpreter();

  // Runs the base chains of `family`'s `hook` in priority order. `family` is
  // the hook's family: ip/ip6 (inet tables join them), bridge, netdev, arp.
  // `priorities` limits the run to the base chains whose priority lies in
  // [first, last] (the kernel's own hooks sit between chains: the pipeline
  // runs a hook in parts around them).
  Decision run_hook(ir::Family family, Hook hook, Packet& pkt,
                    const std::function<void(const TraceEvent&)>& trace = {}, PriorityRange priorities = {});

  // Counter values of a rule's counter statements, and named counters.
  struct CounterValue {
    uint64_t packets = 0, bytes = 0;
  };
  std::vector<CounterValue> rule_counters(size_t table, size_t chain, size_t rule) const;
  const ir::Program& program() const;

  struct State;

 private:
  Interpreter();
  std::unique_ptr<State> state_;
};

// The kernel's jhash (lookup3) of `len` bytes with `seed`.
uint32_t jhash(const uint8_t* data, size_t len, uint32_t seed);

}  // namespace nfx::vm
