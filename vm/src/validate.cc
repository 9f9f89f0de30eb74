// Load-time checks: the interpreter refuses, by name, anything it cannot
// execute, and rulesets the kernel itself refuses (jump loops, jumps deeper
// than its stack of 16).
#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include <nfx/helpers.h>

#include "state.h"

namespace nfx::vm {

namespace {

constexpr int kJumpStackSize = 16;  // NFT_JUMP_STACK_SIZE

const char* meta_supported(uint32_t key) {
  switch (key) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 12:
    case 15: case 16: case 19: case 20: case 21: case 22: case 24: case 30: case 31: case 32:
      return nullptr;
    case 10: return "meta skuid";
    case 11: return "meta skgid";
    case 13: return "meta rtclassid";
    case 14: return "meta secmark";
    case 17: return "meta ibrname";
    case 18: return "meta obrname";
    case 23: return "meta cgroup";
    default: return "this meta key";
  }
}

std::string check_value(const ir::Value& v) {
  switch (v.kind) {
    case ir::ValueKind::Ct:
      if (const char* what = ct_key_unsupported(v.key)) return what;
      break;
    case ir::ValueKind::Rt: return "rt expressions";
    case ir::ValueKind::Fib: return "fib lookups";
    case ir::ValueKind::Socket: return "socket expressions";
    case ir::ValueKind::Meta:
      if (const char* what = meta_supported(v.key)) return what;
      break;
    default: break;
  }
  for (const auto& a : v.args)
    if (std::string why = check_value(*a); !why.empty()) return why;
  return {};
}

std::string check_stmt(const ir::Stmt& s) {
  switch (s.kind) {
    case ir::StmtKind::Match: return s.pred.lhs ? check_value(*s.pred.lhs) : std::string{};
    case ir::StmtKind::Verdict:
    case ir::StmtKind::Counter:
    case ir::StmtKind::Log:
    case ir::StmtKind::Last:
      return {};
    case ir::StmtKind::Limit:
    case ir::StmtKind::Quota:
      return {};
    case ir::StmtKind::MetaSet:
      if (s.key != 2 && s.key != 3 && s.key != 12 && s.key != 19) return "setting this meta key";
      return check_value(*s.value);
    case ir::StmtKind::VerdictMap:
    case ir::StmtKind::PayloadSet:
      return check_value(*s.value);
    case ir::StmtKind::SetUpdate: {
      if (std::string why = check_value(*s.value); !why.empty()) return why;
      for (const auto& i : s.inner)
        if (std::string why = check_stmt(i); !why.empty()) return why;
      return {};
    }
    case ir::StmtKind::CtSet:
      if (s.key != 3 && s.key != 17) return "setting this ct key (ct mark and ct zone can be set)";
      if (s.key == 17 && s.dir != ir::CtDir::None) return "ct original/reply zone set (directional zones)";
      return check_value(*s.value);
    case ir::StmtKind::Nat:
      if (s.nat_flags & 0x40) return "nat with the prefix (netmap) flag";
      for (const ir::ValuePtr* v : {&s.addr_min, &s.addr_max, &s.port_min, &s.port_max})
        if (*v)
          if (std::string why = check_value(**v); !why.empty()) return why;
      return {};
    case ir::StmtKind::Reject:
      if (s.reject_type > 2) return fmt::format("reject type {} (the kernel refuses it: Invalid argument)", s.reject_type);
      if (s.reject_type == 2 && s.reject_code > 3)
        return fmt::format("reject with icmpx code {} (the kernel refuses it: Invalid argument)", s.reject_code);
      return {};  // where: check_reject_hooks
    case ir::StmtKind::Notrack: return {};
    case ir::StmtKind::ObjRef: return s.name == "ct helper" ? std::string() : s.name;
    case ir::StmtKind::Dup: return "dup";
    case ir::StmtKind::Fwd: return "fwd";
    case ir::StmtKind::ExthdrSet: return "exthdr set";
  }
  return "this statement";
}

// Longest jump chain from `c`; -1 on a loop.
int jump_depth(const ir::Table& t, int c, std::vector<int>& state, std::vector<int>& depth) {
  if (state[c] == 1) return -1;
  if (state[c] == 2) return depth[c];
  state[c] = 1;
  int best = 0;
  auto visit = [&](int target) {
    int d = jump_depth(t, target, state, depth);
    if (d < 0 || best < 0) best = -1;
    else best = std::max(best, d + 1);
  };
  for (const ir::Rule& r : t.chains[c].rules)
    for (const ir::Stmt& s : r.stmts) {
      if (s.kind == ir::StmtKind::Verdict && s.verdict.chain >= 0) visit(s.verdict.chain);
      if (s.kind == ir::StmtKind::VerdictMap)
        for (const ir::Element& e : t.sets[s.set].elements)
          if (e.verdict.chain >= 0) visit(e.verdict.chain);
    }
  state[c] = 2;
  depth[c] = best;
  return best;
}

// The chains reachable from `c` by jump, goto and verdict maps.
void reachable(const ir::Table& t, int c, std::vector<bool>& seen) {
  if (seen[c]) return;
  seen[c] = true;
  for (const ir::Rule& r : t.chains[c].rules)
    for (const ir::Stmt& s : r.stmts) {
      if (s.kind == ir::StmtKind::Verdict && s.verdict.chain >= 0) reachable(t, s.verdict.chain, seen);
      if (s.kind == ir::StmtKind::VerdictMap)
        for (const ir::Element& e : t.sets[s.set].elements)
          if (e.verdict.chain >= 0) reachable(t, e.verdict.chain, seen);
    }
}

// The hooks whose chains may reject (the validate functions of
// nft_reject_{ipv4,ipv6,inet,netdev,bridge}); nullptr if the family has no
// reject at all, with the reason in `why`.
const std::vector<std::string>* reject_hooks(ir::Family f, const KernelFeatures& k, std::string& why) {
  static const std::vector<std::string> ip = {"prerouting", "input", "forward", "output"};
  static const std::vector<std::string> inet = {"prerouting", "input", "forward", "output", "ingress"};
  static const std::vector<std::string> netdev = {"ingress"};
  static const std::vector<std::string> bridge = {"prerouting", "input"};
  switch (f) {
    case ir::Family::Ip:
    case ir::Family::Ip6: return &ip;
    case ir::Family::Inet: return &inet;
    case ir::Family::Netdev: return &netdev;
    case ir::Family::Bridge:
      if (k.bridge_reject) return &bridge;
      why = "the kernel has no bridge reject (CONFIG_NFT_BRIDGE_REJECT is off: nft fails with "
            "'No such file or directory')";
      return nullptr;
    default:
      why = "the kernel has no reject in this family";
      return nullptr;
  }
}

// nft_chain_validate_hooks, as the kernel applies it through jumps: a
// reject anywhere a base chain at another hook can reach is refused.
std::string check_reject_hooks(const ir::Table& t, const KernelFeatures& k) {
  std::string errors, why;
  const std::vector<std::string>* hooks = reject_hooks(t.family, k, why);
  auto each_reject = [&](int c, auto&& f) {
    for (const ir::Rule& r : t.chains[c].rules)
      for (const ir::Stmt& s : r.stmts)
        if (s.kind == ir::StmtKind::Reject) f(r);
  };
  auto where = [&](const ir::Rule& r, int c) {
    return fmt::format("{}: reject (rule handle {} in chain {} {} {})", r.source.empty() ? "<ruleset>" : r.source,
                       r.handle, ir::family_name(t.family), t.name, t.chains[c].name);
  };
  if (!hooks) {
    for (size_t c = 0; c < t.chains.size(); ++c)
      each_reject(static_cast<int>(c), [&](const ir::Rule& r) {
        errors += fmt::format("{}: {}\n", where(r, static_cast<int>(c)), why);
      });
    return errors;
  }
  std::vector<bool> reported(t.chains.size(), false);
  for (size_t b = 0; b < t.chains.size(); ++b) {
    const ir::Chain& base = t.chains[b];
    if (!base.base || std::find(hooks->begin(), hooks->end(), base.hook) != hooks->end()) continue;
    std::vector<bool> seen(t.chains.size(), false);
    reachable(t, static_cast<int>(b), seen);
    for (size_t c = 0; c < t.chains.size(); ++c) {
      if (!seen[c] || reported[c]) continue;
      each_reject(static_cast<int>(c), [&](const ir::Rule& r) {
        reported[c] = true;
        errors += fmt::format("{}: not allowed at hook {} (base chain {}): the kernel refuses it with "
                              "'Operation not supported'\n",
                              where(r, static_cast<int>(c)), base.hook, base.name);
      });
    }
  }
  return errors;
}

bool value_uses_ct(const ir::Value& v) {
  if (v.kind == ir::ValueKind::Ct) return true;
  for (const auto& a : v.args)
    if (value_uses_ct(*a)) return true;
  return false;
}

// Whether a statement reads or changes the packet's connection.
bool uses_ct(const ir::Stmt& s) {
  if (s.kind == ir::StmtKind::CtSet || s.kind == ir::StmtKind::Notrack || s.kind == ir::StmtKind::Nat ||
      (s.kind == ir::StmtKind::ObjRef && s.name == "ct helper"))
    return true;
  if (s.kind == ir::StmtKind::Match) return s.pred.lhs && value_uses_ct(*s.pred.lhs);
  if (s.value && value_uses_ct(*s.value)) return true;
  for (const auto& i : s.inner)
    if (uses_ct(i)) return true;
  return false;
}

}  // namespace

namespace {

bool value_reads_ct_counters(const ir::Value& v) {
  if (v.kind == ir::ValueKind::Ct && (v.key == 14 || v.key == 15 || v.key == 16)) return true;
  for (const auto& a : v.args)
    if (value_reads_ct_counters(*a)) return true;
  return false;
}

bool stmt_reads_ct_counters(const ir::Stmt& s) {
  for (const ir::ValuePtr* v : {&s.pred.lhs, &s.value, &s.data})
    if (*v && value_reads_ct_counters(**v)) return true;
  for (const auto& i : s.inner)
    if (stmt_reads_ct_counters(i)) return true;
  return false;
}

}  // namespace

bool table_reads_ct_counters(const ir::Table& t) {
  for (const ir::Chain& c : t.chains)
    for (const ir::Rule& r : c.rules)
      for (const ir::Stmt& s : r.stmts)
        if (stmt_reads_ct_counters(s)) return true;
  return false;
}

bool table_uses_ct(const ir::Table& t) {
  for (const ir::Chain& c : t.chains)
    for (const ir::Rule& r : c.rules)
      for (const ir::Stmt& s : r.stmts)
        if (uses_ct(s)) return true;
  return false;
}

namespace {

// The families whose packets the pipeline tracks (ip, ip6, inet); bridge
// conntrack (nf_conntrack_bridge) is not there yet.
bool tracked_family(ir::Family f) {
  return f == ir::Family::Ip || f == ir::Family::Ip6 || f == ir::Family::Inet;
}

}  // namespace

std::string check_program(const ir::Program& p, const KernelFeatures& features) {
  std::string errors;
  for (const ir::Table& t : p.tables)
    for (const ir::Object& o : t.objects)
      if (o.type == "ct helper" && (!helpers::find(o.helper) || helpers::find(o.helper)->l4proto != o.l4proto))
        errors += fmt::format("{} {}: ct helper {} of type \"{}\" for protocol {}: nfx has the ftp (tcp) and tftp "
                              "(udp) helpers\n",
                              ir::family_name(t.family), t.name, o.name, o.helper, o.l4proto);
  for (const ir::Table& t : p.tables) {
    for (const ir::Chain& c : t.chains) {
      if (c.base && c.type == "nat" && !tracked_family(t.family))
        errors += fmt::format("{} {} {}: nat chains in {} tables are not supported\n", ir::family_name(t.family),
                              t.name, c.name, ir::family_name(t.family));
      // nft_nat_validate, nft_masq_validate, nft_redir_validate: only in nat
      // chains, source NAT where the source is translated, destination NAT
      // where the destination is
      for (const ir::Rule& r : c.rules)
        for (const ir::Stmt& s : r.stmts) {
          if (s.kind != ir::StmtKind::Nat || !c.base) continue;
          const bool src = s.nat == ir::NatType::Snat || s.nat == ir::NatType::Masquerade;
          const bool hook_ok = src ? c.hook == "postrouting" || c.hook == "input"
                                   : c.hook == "prerouting" || c.hook == "output";
          if (c.type != "nat" || !hook_ok)
            errors += fmt::format("{} {} {}: nat statements belong in nat chains of the {} hooks (the kernel "
                                  "refuses this rule: Operation not supported, rule handle {})\n",
                                  ir::family_name(t.family), t.name, c.name,
                                  src ? "postrouting and input" : "prerouting and output", r.handle);
        }
      for (const ir::Rule& r : c.rules)
        for (const ir::Stmt& s : r.stmts)
          if (std::string why = check_stmt(s); why.empty() && uses_ct(s) && !tracked_family(t.family))
            errors += fmt::format("{}: the interpreter cannot execute connection tracking in {} tables yet (rule "
                                  "handle {} in chain {} {} {})\n",
                                  r.source.empty() ? "<ruleset>" : r.source, ir::family_name(t.family), r.handle,
                                  ir::family_name(t.family), t.name, c.name);
          else if (!why.empty())
            errors += fmt::format("{}: the interpreter cannot execute {} (rule handle {} in chain {} {} {})\n",
                                  r.source.empty() ? "<ruleset>" : r.source, why, r.handle, ir::family_name(t.family),
                                  t.name, c.name);
    }
    errors += check_reject_hooks(t, features);
    std::vector<int> state(t.chains.size(), 0), depth(t.chains.size(), 0);
    for (size_t c = 0; c < t.chains.size(); ++c) {
      int d = jump_depth(t, static_cast<int>(c), state, depth);
      if (d < 0) errors += fmt::format("table {} {}: chain {} jumps into a loop\n", ir::family_name(t.family), t.name, t.chains[c].name);
      else if (d > kJumpStackSize)
        errors += fmt::format("table {} {}: jumps from chain {} nest {} deep, more than the kernel's 16\n",
                              ir::family_name(t.family), t.name, t.chains[c].name, d);
    }
  }
  return errors;
}

}  // namespace nfx::vm
