// nfx vm: the execution contract and the reference interpreter.
//
// This is the one public header of the vm library. The interpreter runs an
// IR program (nfx/ir.h) over packets seen as the kernel sees them
// (nfx/packet.h), with the kernel's semantics: base chains ordered by
// priority across tables, accept ending a chain and drop ending the packet,
// a jump stack of 16, NFT_BREAK when a load falls outside the packet, and
// the kernel's counters, limits, quotas, numgen, jhash and sets.
#pragma once

#include <nfx/conntrack.h>
#include <nfx/ir.h>
#include <nfx/nat.h>
#include <nfx/packet.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <array>
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
  // The output interface's addresses: what masquerade translates to.
  std::vector<uint8_t> oif_addr4, oif_addr6;
  // The input interface's MAC (6 bytes, or empty: not known), the source of
  // the replies the IP stack sends back through it.
  std::vector<uint8_t> iif_mac;
};

struct Packet {
  packet::Frame frame;
  packet::PacketLayout layout;
  PacketMeta meta;
  // Its connection (skb->_nfct): set by the pipeline's conntrack step, or
  // Untracked by `notrack` before it; what `ct` expressions read.
  conntrack::Tracked ct;
  // The zone `ct zone set` gave the packet before it was tracked (the
  // kernel's template connection): conntrack looks it up in that zone.
  std::optional<uint16_t> ct_zone;
  // A datagram defragmentation put together: how it was cut (the payload
  // bytes of each fragment, the largest fragment's length), so it leaves
  // cut the same way.
  std::vector<uint32_t> fragment_sizes;
  uint16_t fragment_max_size = 0;
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
  ir::Family hook_family = ir::Family::Ip;  // the hook that ran: its family and hook
  Hook hook = Hook::Prerouting;
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
// `types`: all of them, those not of type nat, or only the nat chains
// (which the kernel runs together at its NAT hook, whatever their own
// priorities, and only until one of them binds the connection).
enum class ChainTypes : uint8_t { All, NotNat, Nat };
struct PriorityRange {
  int first = INT32_MIN, last = INT32_MAX;
  ChainTypes types = ChainTypes::All;
};

// ------------------------------------------------------------------ native code
//
// The contract between the interpreter and native code compiled from the
// same program (compiler/jit). A native chain function runs one chain of the
// interpreter's program over one packet: it reads the packet through
// NativeCtx, keeps the interpreter's counters in place (counter_cell), and
// calls back into the vm through the C ABI below for whatever it does not
// compile itself. It returns the chain's outcome:
//   >= 0  a final verdict (ir::VerdictCode Drop, Accept, Stolen; a queue
//         verdict already turned into accept or drop as the interpreter
//         does), with the deciding rule's handle in `handle`;
//   -1    the chain ended without one (fell through or `return`): the
//         caller goes on after its jump, or applies the base chain's policy.
// User chains are functions too: jump is a call, goto a tail call.
struct NativeCtx {
  const uint8_t* data = nullptr;  // the frame's bytes (rewrites show at once)
  uint32_t end = 0;               // one past the last byte a load may read
  int32_t link_off = -1;          // base of link-layer loads; -1: they break
  int32_t nh_off = -1;            // base of network-header loads; -1: they break
  int32_t th_off = -1;            // base of transport loads; -1: they break
  int32_t th_fast_off = -1;       // base of aligned 1/2/4-byte transport loads (the
                                  // kernel's fast path reads non-first fragments); -1: break
  uint32_t skb_len = 0;           // meta len, and what counters add
  uint16_t protocol = 0;          // skb->protocol, host order
  uint8_t l4proto = 0;
  uint8_t l4_valid = 0;
  uint8_t vlan_present = 0;       // link loads of bytes 16..17 then read skb->protocol
  uint8_t nfproto = 0;            // meta nfproto
  uint8_t hook = 0;               // vm::Hook
  uint8_t pad = 0;
  uint32_t iif = 0, oif = 0;
  // The packet's conntrack::Info byte, read where `ct state` is compiled:
  // through a pointer, as a statement the chain calls out for may change it.
  const uint8_t* ct_info = nullptr;
  void* exec = nullptr;           // the interpreter's context, for the C ABI
  uint64_t handle = 0;            // out: the rule that gave the verdict
};
using NativeChainFn = int32_t (*)(NativeCtx*);

// Native code for a program: one function per chain, or none for a chain the
// interpreter keeps. Owned by the interpreter once installed.
class NativeCode {
 public:
  virtual ~NativeCode() = default;
  virtual NativeChainFn chain(size_t table, size_t chain) const = 0;
};

// A first-match packet classifier over numeric fields, the decision
// structure the JIT compiles runs of pure match rules into. Rule i matches
// the keys when lo <= keys[field] <= hi for every range it has (a field it
// has no range for matches anything). Field values are at most 32 bits wide;
// kAbsent marks a field whose load broke, which no range contains.
class Classifier {
 public:
  static constexpr uint64_t kAbsent = ~uint64_t{0};
  struct Range {
    uint32_t field = 0;
    uint64_t lo = 0, hi = 0;
  };
  // rules[i]: rule i's ranges (at most one per field).
  static std::unique_ptr<Classifier> build(uint32_t fields, const std::vector<std::vector<Range>>& rules);
  // The same answers by scanning the rules in order (no build cost, slow
  // lookups): for keys only odd packets produce.
  static std::unique_ptr<Classifier> build_linear(uint32_t fields, const std::vector<std::vector<Range>>& rules);
  virtual ~Classifier() = default;
  // The lowest-numbered rule that matches `keys` (`fields` values), or -1.
  virtual int32_t lookup(const uint64_t* keys) const = 0;
  virtual size_t memory_bytes() const = 0;
  virtual std::string describe() const = 0;  // shape, for `nfx compile --emit=ir` and benches
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
  // The same into `d`, whose buffers (and strings, when the same chain
  // decides again) are reused: a packet loop's form.
  void run_hook(Decision& d, ir::Family family, Hook hook, Packet& pkt,
                const std::function<void(const TraceEvent&)>& trace = {}, PriorityRange priorities = {});
  // Whether any base chain sits on `family`'s `hook` (run_hook would run one).
  // Inline: the packet path asks for every hook a packet passes.
  bool has_chains(ir::Family family, Hook hook) const {
    const unsigned i = static_cast<unsigned>(family) * 8 + static_cast<unsigned>(hook);
    return i < 128 && (chain_hooks_[i / 64] >> (i % 64) & 1);
  }

  // Counter values of a rule's counter statements, and named counters.
  struct CounterValue {
    uint64_t packets = 0, bytes = 0;
  };
  std::vector<CounterValue> rule_counters(size_t table, size_t chain, size_t rule) const;
  // A named counter object's values (program().tables[table].objects[object]).
  CounterValue object_counter(size_t table, size_t object) const;
  // Bytes used of a rule's quota statements (in order), and of a named quota.
  std::vector<uint64_t> rule_quotas_used(size_t table, size_t chain, size_t rule) const;
  uint64_t object_quota_used(size_t table, size_t object) const;
  // An element of a set (program().tables[table].sets[set]) as it stands,
  // for `nft list`: those the packet path added too, expired ones not.
  struct SetElementValue {
    ir::Bytes key, key_end, data;
    ir::Verdict verdict;
    bool catchall = false;
    uint64_t expires_ns = 0;              // 0: never
    std::optional<uint64_t> timeout_ms;   // the timeout it was given (or took from the set)
    std::vector<CounterValue> counters;   // its own counter statements, in order
    // the per-element statements of the statement that made it (an IR
    // SetUpdate's `inner`), or nullptr
    const std::vector<ir::Stmt>* stmts = nullptr;
  };
  std::vector<SetElementValue> set_elements(size_t table, size_t set, uint64_t now_ns) const;
  // The ruleset's set elements with a timeout (their own or their set's)
  // expire that long after `now_ns`, the time it was loaded (as the
  // kernel's after `nft -f`). Without a call, after the first packet that
  // meets their set.
  void start_clock(uint64_t now_ns);
  const ir::Program& program() const;

  // The connection tracking table the pipeline tracks this program's
  // packets in (one per interpreter unless shared: a reloaded ruleset keeps
  // the running one's connections).
  conntrack::Table& conntrack();
  // NAT's state beside the table (source bindings), shared with it.
  nat::Nat& nat();
  void share_conntrack(std::shared_ptr<conntrack::Table> table, std::shared_ptr<nat::Nat> nat = nullptr);
  // A reload: this interpreter tracks in `running`'s table, with its NAT
  // bindings, from now on.
  void take_conntrack_of(Interpreter& running);
  // Whether packets of `family` (ip or ip6) are tracked: as in the kernel,
  // only once a rule of an ip/inet (ip6/inet) table uses connection tracking.
  bool tracks(ir::Family family) const {
    return family == ir::Family::Ip ? track_ipv4_ : family == ir::Family::Ip6 ? track_ipv6_ : false;
  }
  // Whether NAT runs for `family` (ip or ip6): once an ip/inet (ip6/inet)
  // table has a nat chain, the kernel's NAT hooks bind and translate every
  // tracked packet of the family, whichever hook the chains are on.
  bool nats(ir::Family family) const {
    return family == ir::Family::Ip ? nat_ipv4_ : family == ir::Family::Ip6 ? nat_ipv6_ : false;
  }

  // The {packets, bytes} cells of a counter statement of table `table` (its
  // own, or its named counter's), which native code increments in place.
  uint64_t* counter_cell(size_t table, const ir::Stmt& counter);

  // Hands the packet path over to native code: from the next run_hook on,
  // every chain `code` has a function for runs natively (a run with a trace
  // callback stays in the interpreter, which alone reports each step).
  // Safe to call while another thread is inside run_hook: the switch is one
  // atomic store, and the interpreter keeps `code` alive until it dies.
  void install_native(std::unique_ptr<NativeCode> code);
  bool native_installed() const;
  // Turns native execution off (or on again) for this interpreter.
  void use_native(bool on);

  struct State;

 private:
  Interpreter();
  std::unique_ptr<State> state_;
  // Copies of what load() found, for the inline questions above: bit
  // family * 8 + hook is set when a base chain sits there.
  std::array<uint64_t, 2> chain_hooks_{};
  bool track_ipv4_ = false, track_ipv6_ = false, nat_ipv4_ = false, nat_ipv6_ = false;
};

// The C ABI native code calls back into, with the NativeCtx's `exec` and IR
// nodes of the interpreter's own program (pointers into program()).
extern "C" {
// Evaluates a value into `out` (value->len bytes); 0: NFT_BREAK.
int nfx_native_value(void* exec, const void* value, uint8_t* out);
// Evaluates a predicate; 1 when it holds.
int nfx_native_match(void* exec, const void* predicate);
// Runs a statement: 0 NFT_BREAK, 1 go on, 2 it gave a verdict (code and
// jump/goto chain in *code and *chain).
int nfx_native_stmt(void* exec, const void* stmt, int32_t* code, int32_t* chain);
// Classifier::lookup.
int32_t nfx_native_classify(const void* classifier, const uint64_t* keys);
}

// The kernel's jhash, for the hash expression and symhash.
using packet::jhash;

}  // namespace nfx::vm
