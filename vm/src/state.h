// Interpreter internals: per-statement and per-set state, and the context of
// one packet's walk through a table's chains.
#pragma once

#include <nfx/vm.h>

#include <array>
#include <atomic>
#include <map>
#include <random>
#include <unordered_map>

namespace nfx::vm {

using ir::Bytes;

// Stateful statement state: counter, limit bucket, quota, numgen.
struct StmtState {
  uint64_t packets = 0, bytes = 0;  // counter
  bool limit_init = false;
  uint64_t tokens = 0, last_ns = 0;  // limit (nanoseconds of credit)
  uint64_t consumed = 0;             // quota
};

struct SetElem {
  Bytes key, key_end, data;
  ir::Verdict verdict;
  bool catchall = false;
  uint64_t expires_ns = 0;  // 0: never
  std::optional<uint64_t> timeout_ms;  // its timeout, for listings
  // An element of the ruleset file with a timeout: it expires this long
  // after the set's clock starts (set_start_clock), as the kernel's after
  // its insertion.
  uint64_t expires_after_ns = 0;
  // A dynamic element's own stateful statements: those of the statement that
  // created it (an element made by `add @s { k }` has none, and a later
  // `update @s { k limit ... }` evaluates nothing for it, as the kernel's
  // nft_set_elem_update_expr), and their state.
  const std::vector<ir::Stmt>* exprs = nullptr;
  std::vector<StmtState> stmt_state;
};

struct SetState {
  const ir::Set* set = nullptr;
  std::vector<SetElem> elems;
  std::unordered_map<std::string, size_t> exact;  // key bytes -> elems index (non-interval sets)
  bool clock_started = false;  // expires_after_ns turned into expires_ns
};

// A base chain on a hook, in run order (interpreter.cc: index_hooks).
struct HookChain {
  size_t table;
  int chain;
  int priority;
  bool inet_ingress;  // an inet chain at netdev ingress: IPv4 and IPv6 packets only
  bool nat;           // a chain of type nat
};
constexpr size_t kHookSlots = 8 * 8;
inline constexpr ir::Family kHookFamilies[] = {ir::Family::Ip, ir::Family::Ip6, ir::Family::Inet, ir::Family::Arp,
                                               ir::Family::Bridge, ir::Family::Netdev};
inline size_t hook_slot(ir::Family f, Hook h) {
  size_t family = 0;
  switch (f) {
    case ir::Family::Ip: family = 0; break;
    case ir::Family::Ip6: family = 1; break;
    case ir::Family::Inet: family = 2; break;
    case ir::Family::Arp: family = 3; break;
    case ir::Family::Bridge: family = 4; break;
    case ir::Family::Netdev: family = 5; break;
  }
  return family * 8 + static_cast<size_t>(h);
}

// Native chain functions by [table][chain] (null: the interpreter runs it).
using NativeTable = std::vector<std::vector<NativeChainFn>>;

struct Interpreter::State {
  ir::Program prog;
  std::map<const ir::Stmt*, StmtState> stmts;
  std::vector<std::vector<SetState>> sets;       // [table][set]
  std::vector<std::vector<StmtState>> objects;   // [table][object]
  std::map<const ir::Value*, uint32_t> numgen;
  std::mt19937 rng;
  uint32_t hash_key = 0;  // symhash's key, from the load seed
  uint64_t walks = 0;     // base-chain walks so far, for TraceEvent::walk
  std::array<std::vector<HookChain>, kHookSlots> hooks;
  // Native code: installed once by another thread, read per packet.
  std::atomic<const NativeTable*> native{nullptr};
  std::vector<std::unique_ptr<NativeCode>> native_code;
  std::vector<std::unique_ptr<NativeTable>> native_tables;
  bool use_native = true;
  // NAT's state first: the table's expectations may refer to it
  std::shared_ptr<nat::Nat> nat = std::make_shared<nat::Nat>();
  std::shared_ptr<conntrack::Table> conntrack = std::make_shared<conntrack::Table>();
  bool track_ipv4 = false, track_ipv6 = false;  // some ip/inet (ip6/inet) table uses ct
  bool nat_ipv4 = false, nat_ipv6 = false;      // some ip/inet (ip6/inet) table has a nat chain
  bool ct_accounting = false;                   // some rule reads ct packets, bytes or avgpkt
};

// One packet in one table.
struct Exec {
  Interpreter::State& st;
  size_t table;
  const ir::Table& t;
  Packet& pkt;
  ir::Family family;  // the hook's family (for meta nfproto)
  Hook hook;
  Decision& d;
  uint32_t skb_len() const;
};

// interpreter.cc: the base chains of each hook, in run order.
void index_hooks(Interpreter::State& st);

// native.cc: the packet as native code reads it.
void fill_native_ctx(Exec& x, NativeCtx& ctx);

// values.cc: evaluates a value; false means NFT_BREAK.
bool eval_value(const ir::Value& v, Exec& x, Bytes& out);
bool eval_predicate(const ir::Predicate& p, Exec& x);
// Numeric compare of equal-length values in `order`.
int compare(const Bytes& a, const Bytes& b, ir::Order order);

// symhash.cc: the symmetric flow hash (not the kernel's key; see there).
uint32_t symhash(const Packet& pkt, uint32_t key);

// sets.cc
SetState& set_state(Exec& x, int set);
// The element matching `key` (canonical bytes), or nullptr.
SetElem* set_lookup(SetState& s, const Bytes& key, uint64_t now_ns);
// Inserts (add/update) or deletes; returns the element for add/update.
SetElem* set_update(SetState& s, const Bytes& key, const Bytes* data, ir::SetOp op,
                    std::optional<uint64_t> timeout_ms, uint64_t now_ns, const std::vector<ir::Stmt>& inner);
void set_init(SetState& s, const ir::Set& set);
// Starts the expiry of the ruleset's own elements at `now_ns` (once; the
// first packet to meet the set does it when the loader did not).
inline void set_start_clock(SetState& s, uint64_t now_ns) {
  if (s.clock_started) return;
  s.clock_started = true;
  for (SetElem& e : s.elems)
    if (e.expires_after_ns) e.expires_ns = now_ns + e.expires_after_ns;
}
// Forgets the expired elements (they hold room a full set needs).
void set_collect(SetState& s, uint64_t now_ns);

// statements.cc: runs a statement; returns false on NFT_BREAK. Verdicts go to `v`.
bool exec_stmt(const ir::Stmt& s, Exec& x, ir::Verdict& v, bool& has_verdict, StmtState* own = nullptr);

// reject.cc: nft_reject_*_eval: the reply (if the kernel sends one) goes to
// the decision's replies; the verdict is drop.
void exec_reject(const ir::Stmt& s, Exec& x);

// ct.cc: ct expressions, ct set and notrack on the packet's connection.
bool eval_ct(const ir::Value& v, Exec& x, Bytes& out);
bool exec_ct_set(const ir::Stmt& s, Exec& x);
void exec_notrack(Exec& x);
// `ct helper set`: the named ct helper object's helper for a new connection.
void exec_ct_helper_set(const ir::Stmt& s, Exec& x);

// nat.cc: snat, dnat, masquerade, redirect: a binding for the packet's new
// connection; the verdict (accept, or drop when none can be made) goes to `v`.
bool exec_nat(const ir::Stmt& s, Exec& x, ir::Verdict& v);
const char* ct_key_unsupported(uint32_t key);  // nullptr: eval_ct reads it

// validate.cc: why the interpreter cannot run something ("" if it can).
std::string check_program(const ir::Program& p, const KernelFeatures& features);
// Whether a table's rules read or change connections (nf_ct_netns_get).
bool table_uses_ct(const ir::Table& t);
// Whether a table's rules read ct packets, bytes or avgpkt (nft_ct_get_init
// then turns connection accounting on).
bool table_reads_ct_counters(const ir::Table& t);

}  // namespace nfx::vm
