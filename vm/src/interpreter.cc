// The chain walk (nft_do_chain) and the hook (nf_hook_slow): base chains of
// a hook in priority order across tables; accept moves on to the next base
// chain, drop ends the packet, a base chain that falls through applies its
// policy; jump pushes a return point on a stack of 16, goto does not.
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <sstream>

#include "state.h"

namespace nfx::vm {

namespace {

struct Frame {
  int chain;
  size_t rule;
};

const char* verdict_name(ir::VerdictCode c) {
  switch (c) {
    case ir::VerdictCode::Accept: return "accept";
    case ir::VerdictCode::Drop: return "drop";
    case ir::VerdictCode::Queue: return "queue";
    case ir::VerdictCode::Stolen: return "stolen";
    case ir::VerdictCode::Continue: return "continue";
    case ir::VerdictCode::Break: return "break";
    case ir::VerdictCode::Jump: return "jump";
    case ir::VerdictCode::Goto: return "goto";
    case ir::VerdictCode::Return: return "return";
  }
  return "?";
}

struct ChainRun {
  ir::VerdictCode verdict = ir::VerdictCode::Accept;
  bool by_policy = false;
  uint64_t handle = 0;
};

ChainRun run_chain(Exec& x, int base, const std::function<void(const TraceEvent&)>& trace) {
  const ir::Table& t = x.t;
  std::vector<Frame> stack;
  int chain = base;
  size_t rule = 0;
  uint64_t walk = ++x.st.walks;
  auto emit = [&](TraceEvent::Kind kind, int c, uint64_t handle, std::string verdict) {
    if (!trace) return;
    TraceEvent ev;
    ev.kind = kind;
    ev.nftrace = x.pkt.meta.nftrace;
    ev.walk = walk;
    ev.mark = x.pkt.meta.mark;
    ev.family = ir::family_name(t.family);
    ev.table = t.name;
    ev.chain = t.chains[c].name;
    ev.handle = handle;
    ev.verdict = std::move(verdict);
    trace(ev);
  };
  for (;;) {
    const ir::Chain& c = t.chains[chain];
    if (rule >= c.rules.size()) {
      if (!stack.empty()) {  // end of a user chain: implicit return
        emit(TraceEvent::Return, chain, 0, "return");
        chain = stack.back().chain;
        rule = stack.back().rule;
        stack.pop_back();
        continue;
      }
      ChainRun r;
      r.by_policy = true;
      r.verdict = t.chains[base].policy_drop ? ir::VerdictCode::Drop : ir::VerdictCode::Accept;
      emit(TraceEvent::Policy, base, 0, verdict_name(r.verdict));
      return r;
    }
    const ir::Rule& r = c.rules[rule++];
    ir::Verdict v;
    bool has_verdict = false, matched = true;
    for (const ir::Stmt& s : r.stmts) {
      if (!exec_stmt(s, x, v, has_verdict)) {
        matched = false;
        break;
      }
      if (has_verdict) break;
    }
    if (!matched) continue;
    if (!has_verdict) {
      emit(TraceEvent::Rule, chain, r.handle, "");
      continue;
    }
    std::string vtext = verdict_name(v.code);
    if (v.chain >= 0) vtext += " " + t.chains[v.chain].name;
    emit(TraceEvent::Rule, chain, r.handle, vtext);
    switch (v.code) {
      case ir::VerdictCode::Continue:
      case ir::VerdictCode::Break:
        continue;
      case ir::VerdictCode::Jump:
        stack.push_back({chain, rule});
        chain = v.chain;
        rule = 0;
        continue;
      case ir::VerdictCode::Goto:
        chain = v.chain;
        rule = 0;
        continue;
      case ir::VerdictCode::Return:
        if (stack.empty()) {
          // return with nothing to return to (in the base chain, or in a
          // chain reached by goto from it): the base chain's policy
          chain = base;
          rule = t.chains[base].rules.size();
          continue;
        }
        chain = stack.back().chain;
        rule = stack.back().rule;
        stack.pop_back();
        continue;
      default: {
        ChainRun out;
        out.verdict = v.code;
        out.handle = r.handle;
        if (v.code == ir::VerdictCode::Queue && v.queue_bypass) out.verdict = ir::VerdictCode::Accept;
        else if (v.code == ir::VerdictCode::Queue) out.verdict = ir::VerdictCode::Drop;  // no queue listener
        return out;
      }
    }
  }
}

bool hook_matches(const std::string& hook, Hook h) { return hook == hook_name(h); }

// A base chain run by native code: the packet as NativeCtx shows it, then
// the chain's function; the policy when it ends without a verdict.
ChainRun run_native(Exec& x, NativeChainFn fn, int base) {
  NativeCtx ctx;
  fill_native_ctx(x, ctx);
  int32_t v = fn(&ctx);
  ChainRun r;
  if (v < 0) {
    r.by_policy = true;
    r.verdict = x.t.chains[static_cast<size_t>(base)].policy_drop ? ir::VerdictCode::Drop : ir::VerdictCode::Accept;
    return r;
  }
  r.verdict = static_cast<ir::VerdictCode>(v);
  r.handle = ctx.handle;
  return r;
}

}  // namespace

const char* hook_name(Hook h) {
  switch (h) {
    case Hook::Prerouting: return "prerouting";
    case Hook::Input: return "input";
    case Hook::Forward: return "forward";
    case Hook::Output: return "output";
    case Hook::Postrouting: return "postrouting";
    case Hook::Ingress: return "ingress";
    case Hook::Egress: return "egress";
  }
  return "?";
}

void Packet::reparse() {
  layout = packet::parse_layout(frame.bytes(), layout.link, layout.context);
}

Interpreter::Interpreter() : state_(std::make_unique<State>()) {}
Interpreter::~Interpreter() = default;

std::unique_ptr<Interpreter> Interpreter::load(ir::Program program, std::vector<std::string>& errors,
                                               uint64_t random_seed, KernelFeatures features) {
  std::string why = check_program(program, features);
  if (!why.empty()) {
    std::istringstream in(why);
    for (std::string line; std::getline(in, line);) errors.push_back(line);
    return nullptr;
  }
  std::unique_ptr<Interpreter> vm(new Interpreter());
  State& st = *vm->state_;
  st.prog = std::move(program);
  st.rng.seed(static_cast<std::mt19937::result_type>(random_seed));
  uint8_t seed_bytes[8];
  for (int i = 0; i < 8; ++i) seed_bytes[i] = static_cast<uint8_t>(random_seed >> (8 * i));
  st.hash_key = jhash(seed_bytes, sizeof(seed_bytes), 0);
  for (const ir::Table& t : st.prog.tables) {
    auto& sets = st.sets.emplace_back(t.sets.size());
    for (size_t i = 0; i < t.sets.size(); ++i) set_init(sets[i], t.sets[i]);
    auto& objs = st.objects.emplace_back(t.objects.size());
    for (size_t i = 0; i < t.objects.size(); ++i) objs[i].packets = t.objects[i].packets, objs[i].bytes = t.objects[i].bytes;
    for (const ir::Chain& c : t.chains)
      for (const ir::Rule& r : c.rules)
        for (const ir::Stmt& s : r.stmts)
          if (s.kind == ir::StmtKind::Counter && s.obj < 0) st.stmts[&s] = StmtState{s.packets, s.bytes};
          // Every statement's state exists from the start: the packet path
          // then only looks entries up, never inserts, so a JIT compiling on
          // another thread (counter_cell) may read the map meanwhile.
          else if ((s.kind == ir::StmtKind::Limit || s.kind == ir::StmtKind::Quota) && s.obj < 0) st.stmts[&s];
  }
  for (const ir::Table& t : st.prog.tables) {
    const bool v4 = t.family == ir::Family::Ip || t.family == ir::Family::Inet;
    const bool v6 = t.family == ir::Family::Ip6 || t.family == ir::Family::Inet;
    const bool nat = std::any_of(t.chains.begin(), t.chains.end(),
                                 [](const ir::Chain& c) { return c.base && c.type == "nat"; });
    if (table_uses_ct(t) || nat) {
      st.track_ipv4 |= v4;
      st.track_ipv6 |= v6;
    }
    st.nat_ipv4 |= nat && v4;
    st.nat_ipv6 |= nat && v6;
    st.ct_accounting |= table_reads_ct_counters(t);
  }
  if (st.ct_accounting) st.conntrack->set_accounting(true);
  index_hooks(st);
  for (ir::Family f : kHookFamilies)
    for (int h = 0; h <= static_cast<int>(Hook::Egress); ++h) {
      if (st.hooks[hook_slot(f, static_cast<Hook>(h))].empty()) continue;
      const unsigned bit = static_cast<unsigned>(f) * 8 + static_cast<unsigned>(h);
      vm->chain_hooks_[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  vm->track_ipv4_ = st.track_ipv4;
  vm->track_ipv6_ = st.track_ipv6;
  vm->nat_ipv4_ = st.nat_ipv4;
  vm->nat_ipv6_ = st.nat_ipv6;
  return vm;
}

// The base chains of every (family, hook), in the order they run: by
// priority, and equal priorities in reverse registration order
// (nf_hook_entries_grow puts a new hook before the first one of equal or
// higher priority; measured with nfx_difftest: of two bridge forward chains
// at -300 in tables t and t2, t2's runs first). Which of them a packet meets
// also depends on its devices and, for inet tables at netdev ingress, its
// protocol: checked per packet.
static std::vector<HookChain> hook_chains(const ir::Program& prog, ir::Family family, Hook hook) {
  std::vector<HookChain> chains;
  for (size_t ti = 0; ti < prog.tables.size(); ++ti) {
    const ir::Table& t = prog.tables[ti];
    if (t.dormant) continue;
    bool inet_ingress = t.family == ir::Family::Inet && family == ir::Family::Netdev && hook == Hook::Ingress;
    if (t.family != family && !inet_ingress) {
      if (t.family != ir::Family::Inet) continue;
      if (family != ir::Family::Ip && family != ir::Family::Ip6) continue;
      if (hook == Hook::Ingress) continue;
    }
    for (size_t ci = 0; ci < t.chains.size(); ++ci) {
      const ir::Chain& c = t.chains[ci];
      if (!c.base || !hook_matches(c.hook, hook)) continue;
      chains.push_back({ti, static_cast<int>(ci), c.priority, inet_ingress, c.type == "nat"});
    }
  }
  std::reverse(chains.begin(), chains.end());
  std::stable_sort(chains.begin(), chains.end(),
                   [](const HookChain& a, const HookChain& b) { return a.priority < b.priority; });
  return chains;
}

void index_hooks(Interpreter::State& st) {
  for (ir::Family f : kHookFamilies)
    for (int h = 0; h <= static_cast<int>(Hook::Egress); ++h)
      st.hooks[hook_slot(f, static_cast<Hook>(h))] = hook_chains(st.prog, f, static_cast<Hook>(h));
}


Decision Interpreter::run_hook(ir::Family family, Hook hook, Packet& pkt,
                               const std::function<void(const TraceEvent&)>& trace, PriorityRange priorities) {
  Decision d;
  run_hook(d, family, hook, pkt, trace, priorities);
  return d;
}

namespace {

void assign_if_changed(std::string& to, std::string_view from) {
  if (to != from) to.assign(from);
}

}  // namespace

void Interpreter::run_hook(Decision& d, ir::Family family, Hook hook, Packet& pkt,
                           const std::function<void(const TraceEvent&)>& trace, PriorityRange priorities) {
  State& st = *state_;
  const NativeTable* native = trace || !st.use_native ? nullptr : st.native.load(std::memory_order_acquire);
  d.hook_family = family;
  d.hook = hook;
  d.verdict = ir::VerdictCode::Accept;
  d.by_policy = false;
  d.handle = 0;
  d.log.clear();
  d.replies.clear();
  const ir::Table* decided_table = nullptr;
  const ir::Chain* decided_chain = nullptr;
  for (const HookChain& e : st.hooks[hook_slot(family, hook)]) {
    if (e.priority < priorities.first || e.priority > priorities.last) continue;
    if ((priorities.types == ChainTypes::Nat && !e.nat) || (priorities.types == ChainTypes::NotNat && e.nat)) continue;
    if (e.inet_ingress && pkt.layout.protocol != packet::kEthPIp && pkt.layout.protocol != packet::kEthPIpv6) continue;
    const ir::Table& t = st.prog.tables[e.table];
    const ir::Chain& c = t.chains[static_cast<size_t>(e.chain)];
    if (hook == Hook::Ingress || hook == Hook::Egress) {
      const std::string& dev = hook == Hook::Ingress ? pkt.meta.iifname : pkt.meta.oifname;
      if (std::find(c.devices.begin(), c.devices.end(), dev) == c.devices.end()) continue;
    }
    ir::Family nfproto = family;
    if (family == ir::Family::Netdev && t.family == ir::Family::Inet)
      nfproto = pkt.layout.protocol == packet::kEthPIp ? ir::Family::Ip : ir::Family::Ip6;
    Exec x{st, e.table, t, pkt, nfproto, hook, d};
    NativeChainFn fn = native ? (*native)[e.table][static_cast<size_t>(e.chain)] : nullptr;
    ChainRun r = fn ? run_native(x, fn, e.chain) : run_chain(x, e.chain, trace);
    d.verdict = r.verdict;
    d.by_policy = r.by_policy;
    d.handle = r.handle;
    decided_table = &t;
    decided_chain = &c;
    if (r.verdict != ir::VerdictCode::Accept) break;
    // nf_nat_inet_fn: the first nat chain that binds the connection ends the walk
    if (e.nat && pkt.ct.entry &&
        nat::initialized(*pkt.ct.entry, hook == Hook::Prerouting || hook == Hook::Output ? nat::Manip::Dst
                                                                                         : nat::Manip::Src))
      break;
  }
  if (decided_chain) {
    assign_if_changed(d.family, ir::family_name(decided_table->family));
    assign_if_changed(d.table, decided_table->name);
    assign_if_changed(d.chain, decided_chain->name);
  } else {
    d.family.clear();
    d.table.clear();
    d.chain.clear();
  }
}

std::vector<Interpreter::CounterValue> Interpreter::rule_counters(size_t table, size_t chain, size_t rule) const {
  std::vector<CounterValue> out;
  const ir::Rule& r = state_->prog.tables.at(table).chains.at(chain).rules.at(rule);
  for (const ir::Stmt& s : r.stmts) {
    if (s.kind != ir::StmtKind::Counter) continue;
    const StmtState* st = nullptr;
    if (s.obj >= 0) st = &state_->objects.at(table).at(static_cast<size_t>(s.obj));
    else if (auto it = state_->stmts.find(&s); it != state_->stmts.end()) st = &it->second;
    out.push_back(st ? CounterValue{st->packets, st->bytes} : CounterValue{});
  }
  return out;
}

void Interpreter::start_clock(uint64_t now_ns) {
  for (auto& table : state_->sets)
    for (SetState& s : table) set_start_clock(s, now_ns);
}

// A quota's state starts at its `used` when a packet first meets it.
std::vector<uint64_t> Interpreter::rule_quotas_used(size_t table, size_t chain, size_t rule) const {
  std::vector<uint64_t> out;
  const ir::Rule& r = state_->prog.tables.at(table).chains.at(chain).rules.at(rule);
  for (const ir::Stmt& s : r.stmts) {
    if (s.kind != ir::StmtKind::Quota) continue;
    if (s.obj >= 0) {
      out.push_back(object_quota_used(table, static_cast<size_t>(s.obj)));
      continue;
    }
    auto it = state_->stmts.find(&s);
    out.push_back(it != state_->stmts.end() && it->second.limit_init ? it->second.consumed : s.quota_used);
  }
  return out;
}

uint64_t Interpreter::object_quota_used(size_t table, size_t object) const {
  const StmtState& st = state_->objects.at(table).at(object);
  return st.limit_init ? st.consumed : state_->prog.tables.at(table).objects.at(object).quota_used;
}

Interpreter::CounterValue Interpreter::object_counter(size_t table, size_t object) const {
  const StmtState& st = state_->objects.at(table).at(object);
  return CounterValue{st.packets, st.bytes};
}

std::vector<Interpreter::SetElementValue> Interpreter::set_elements(size_t table, size_t set, uint64_t now_ns) const {
  std::vector<SetElementValue> out;
  SetState& s = state_->sets.at(table).at(set);
  set_start_clock(s, now_ns);
  for (const SetElem& e : s.elems) {
    if (e.expires_ns && now_ns >= e.expires_ns) continue;
    SetElementValue v{e.key, e.key_end, e.data, e.verdict, e.catchall, e.expires_ns, e.timeout_ms, {}, e.exprs};
    if (e.exprs)
      for (size_t i = 0; i < e.exprs->size() && i < e.stmt_state.size(); ++i)
        if ((*e.exprs)[i].kind == ir::StmtKind::Counter) v.counters.push_back({e.stmt_state[i].packets, e.stmt_state[i].bytes});
    out.push_back(std::move(v));
  }
  return out;
}

const ir::Program& Interpreter::program() const { return state_->prog; }

conntrack::Table& Interpreter::conntrack() { return *state_->conntrack; }


nat::Nat& Interpreter::nat() { return *state_->nat; }


void Interpreter::share_conntrack(std::shared_ptr<conntrack::Table> table, std::shared_ptr<nat::Nat> nat) {
  if (!table) throw std::invalid_argument("share_conntrack: no table");
  state_->conntrack = std::move(table);
  if (state_->ct_accounting) state_->conntrack->set_accounting(true);
  if (nat) state_->nat = std::move(nat);
}

void Interpreter::take_conntrack_of(Interpreter& running) {
  share_conntrack(running.state_->conntrack, running.state_->nat);
}

}  // namespace nfx::vm
