// Entry point of the rule constraints (see constraints.h) and the kernel's
// side of them: what nf_tables refuses when the rule is added to a chain of a
// given family, type and hook (the expressions' validate and init callbacks),
// reported as nft reports a netlink error ("Could not process rule: ...").
// Errors of an expression's init point at that expression or statement;
// errors of the chain validation point at the whole command, as nft does.
#include "constraints.h"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>

#include "constraints_internal.h"
#include "selectors.h"

namespace nfx::constraints_detail {

namespace {

const char* kNotSupported = "Could not process rule: Operation not supported";
const char* kNoEntry = "Could not process rule: No such file or directory";

bool base_chain(const ChainDecl& c) { return c.type.has_value() && c.hook.has_value(); }

bool hook_in(const ChainDecl& c, std::initializer_list<const char*> hooks) {
  if (!c.hook) return true;
  for (const char* h : hooks)
    if (*c.hook == h) return true;
  return false;
}

// Meta keys only the bridge family's meta expression knows.
bool bridge_only_meta(const std::string& key) {
  return key == "ibrname" || key == "obrname" || key == "ibrpvid" || key == "ibrvproto" || key == "broute" ||
         key == "ibrhwaddr";
}

bool fib_flag(const Expr& e, const char* flag) {
  for (size_t i = 0; i + 1 < e.path.size(); ++i)
    if (e.path[i] == flag) return true;
  return false;
}

// nft_fib_validate: which hooks can answer the lookup.
bool fib_hook_ok(const ChainDecl& c, const Expr& e) {
  const std::string result = e.path.empty() ? "" : e.path.back();
  if (result == "oif" || result == "oifname")
    return hook_in(c, {"prerouting", "input", "forward", "ingress"});
  if (result == "type") {
    if (fib_flag(e, "iif")) return hook_in(c, {"prerouting", "input", "forward", "ingress"});
    if (fib_flag(e, "oif")) return hook_in(c, {"output", "postrouting", "forward"});
  }
  return true;
}

Check check_exprs(EvalContext& ctx, const ChainDecl& chain, const Stmt& s, const SourceLoc& cmd_loc) {
  Check found;
  auto visit = [&](const Expr& e) {
    if (found || e.kind != ExprKind::Selector) return;
    // refused when the expression is created: nft points at the expression
    if (e.selector == SelectorKind::Meta && ctx.family != "bridge" && bridge_only_meta(meta_key(e)))
      found = problem(e.loc, kNotSupported);
    else if (e.selector == SelectorKind::Fib && base_chain(chain) && !fib_hook_ok(chain, e))
      found = problem(cmd_loc, kNotSupported);
  };
  for (const auto& e : s.exprs)
    if (e) walk(*e, visit);
  return found;
}

bool object_exists(const TableDecl& t, const std::string& type, const std::string& name) {
  return std::any_of(t.objs.begin(), t.objs.end(),
                     [&](const ObjDecl& o) { return o.type == type && o.name == name; });
}

}  // namespace

Check check_kernel(EvalContext& ctx, const ChainDecl& chain, const Stmt& s, const SourceLoc& cmd_loc) {
  if (auto c = check_exprs(ctx, chain, s, cmd_loc)) return c;
  const bool base = base_chain(chain);
  switch (s.kind) {
    case StmtKind::Nat: {
      if (!base) return std::nullopt;
      if (*chain.type != "nat") return problem(cmd_loc, kNotSupported);
      bool ok = true;
      if (s.name == "snat") ok = hook_in(chain, {"postrouting", "input"});
      else if (s.name == "dnat" || s.name == "redirect") ok = hook_in(chain, {"prerouting", "output"});
      else if (s.name == "masquerade") ok = hook_in(chain, {"postrouting"});
      if (!ok) return problem(cmd_loc, kNotSupported);
      return std::nullopt;
    }
    case StmtKind::Tproxy:
      if (base && !hook_in(chain, {"prerouting"})) return problem(cmd_loc, kNotSupported);
      return std::nullopt;
    case StmtKind::Reject: {
      if (!base) return std::nullopt;
      bool ok = true;
      if (ctx.family == "bridge") ok = hook_in(chain, {"prerouting", "input"});
      else if (ctx.family == "netdev") ok = hook_in(chain, {"ingress"});
      else ok = hook_in(chain, {"prerouting", "input", "forward", "output", "ingress"});
      if (!ok) return problem(cmd_loc, kNotSupported);
      return std::nullopt;
    }
    case StmtKind::Assign: {
      if (s.exprs.empty() || !s.exprs[0]) return std::nullopt;
      const Expr& lhs = *s.exprs[0];
      std::string key = meta_key(lhs);
      if (key.empty()) return std::nullopt;
      const KeyDesc* k = find_key(KeyFamily::Meta, key);
      if (k && !(k->flags & kSettable)) return problem(s.loc, kNotSupported);
      if (key == "broute" && base && !hook_in(chain, {"prerouting"})) return problem(cmd_loc, kNotSupported);
      if (key == "pkttype" && base) {  // nft_meta_set_validate
        bool ok = ctx.family == "netdev" ? hook_in(chain, {"ingress"})
                  : ctx.family == "arp"  ? false
                                         : hook_in(chain, {"prerouting"});
        if (!ok) return problem(cmd_loc, kNotSupported);
      }
      return std::nullopt;
    }
    case StmtKind::ObjRef: {
      if (!ctx.table || s.exprs.empty() || !s.exprs[0]) return std::nullopt;
      const Expr& name = *s.exprs[0];
      if (name.kind != ExprKind::String && name.kind != ExprKind::Symbol && name.kind != ExprKind::Value)
        return std::nullopt;
      if (name.text.empty()) return std::nullopt;
      if (!object_exists(*ctx.table, s.name, name.text)) return problem(name.loc, kNoEntry);
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace nfx::constraints_detail

namespace nfx {

bool check_rule_constraints(EvalContext& ctx, const ChainDecl& chain, const Rule& rule, const SourceLoc& cmd_loc) {
  using namespace constraints_detail;
  ProtoCtx pc;
  proto_init(pc, ctx.family);
  const Stmt* terminal = nullptr;
  for (const auto& s : rule.stmts) {
    if (!s) continue;
    if (terminal) {
      ctx.diags.error(s->loc, "Statement after terminal statement has no effect");
      return false;
    }
    if (auto p = check_stmt(ctx, pc, *s)) {
      ctx.diags.error(p->loc, p->message);
      return false;
    }
    if (is_terminal_stmt(*s)) terminal = s.get();
  }
  for (const auto& s : rule.stmts) {
    if (!s) continue;
    if (auto p = check_kernel(ctx, chain, *s, cmd_loc)) {
      ctx.diags.error(p->loc, p->message);
      return false;
    }
  }
  return true;
}

}  // namespace nfx
