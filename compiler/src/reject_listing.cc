// The reject statement as nft lists it: numeric codes by name, and the
// family's default (icmp port-unreachable in ip, icmpv6 in ip6, icmpx in
// inet, bridge and netdev) as a bare `reject`.
#include <nfx/compiler.h>

#include "dependencies.h"
#include "types.h"

namespace nfx {

void normalize_reject(Stmt& s, const std::string& family) {
  if (s.kind != StmtKind::Reject) return;
  const std::string kind = s.name;
  if (kind != "icmp" && kind != "icmpv6" && kind != "icmpx") return;
  auto it = s.opts.find("type");
  if (it == s.opts.end()) return;
  const Datatype* dt = find_datatype("reject_" + kind + "_code");
  if (!dt) return;
  ParseResult r = parse_value(*dt, it->second, dt->bits);
  if (!r.value) return;  // left for the constraint check to report
  it->second = print_value(*dt, *r.value, PrintOptions{});
  bool family_default = (family == "ip" && kind == "icmp") || (family == "ip6" && kind == "icmpv6") ||
                        ((family == "inet" || family == "bridge" || family == "netdev") && kind == "icmpx");
  if (family_default && it->second == "port-unreachable") {
    s.name.clear();
    s.opts.erase(it);
  }
}

}  // namespace nfx

namespace nfx {
namespace {

bool multi_family(const std::string& family) { return family == "inet" || family == "bridge" || family == "netdev"; }

const Expr* match_selector(const Stmt& s, const Expr** rhs) {
  if (s.kind != StmtKind::Match || s.exprs.empty() || !s.exprs[0]) return nullptr;
  const Expr& rel = *s.exprs[0];
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2 || !rel.kids[0]) return nullptr;
  if (rel.rel != RelOp::Implicit && rel.rel != RelOp::Eq) return nullptr;
  *rhs = rel.kids[1].get();
  return rel.kids[0]->kind == ExprKind::Selector ? rel.kids[0].get() : nullptr;
}

uint64_t value_of(const Expr* v) {
  uint64_t out = 0;
  if (!v || v->kind != ExprKind::Value || v->bytes.empty() || v->bytes.size() > 8) return ~0ull;
  for (uint8_t b : v->bytes) out = (out << 8) | b;
  return out;
}

// "ip"/"ip6" if the match fixes the network protocol; `dep` tells whether it
// is only a protocol key (meta nfproto, meta protocol, ether type) nft drops.
std::string l3_of(const Stmt& s, bool& dep) {
  const Expr* rhs = nullptr;
  const Expr* sel = match_selector(s, &rhs);
  dep = false;
  if (!sel || sel->path.empty()) return {};
  if (sel->selector == SelectorKind::Payload) {
    if (sel->text == "ip" || sel->text == "icmp") return "ip";
    if (sel->text == "ip6" || sel->text == "icmpv6") return "ip6";
  }
  uint64_t v = value_of(rhs);
  bool key = (sel->selector == SelectorKind::Meta && (sel->path[0] == "nfproto" || sel->path[0] == "protocol")) ||
             (sel->selector == SelectorKind::Payload && sel->text == "ether" && sel->path[0] == "type");
  if (!key) return {};
  dep = true;
  if (v == 2 || v == 0x0800) return "ip";
  if (v == 10 || v == 0x86dd) return "ip6";
  dep = false;
  return {};
}

}  // namespace

void resolve_reject_family(Rule& rule, const std::string& family) {
  if (!multi_family(family)) return;
  auto& st = rule.stmts;
  for (size_t r = 0; r < st.size(); ++r) {
    Stmt& rej = *st[r];
    if (rej.kind != StmtKind::Reject) continue;
    if (!rej.name.empty() && rej.name != "icmp" && rej.name != "icmpv6") return;
    for (size_t i = 0; i < r; ++i) {
      bool dep = false;
      std::string l3 = l3_of(*st[i], dep);
      if (l3.empty()) continue;
      std::string kind = l3 == "ip" ? "icmp" : "icmpv6";
      if (rej.name.empty()) {
        rej.name = kind;
        rej.opts["type"] = "port-unreachable";
      }
      if (dep && rej.name == kind) st.erase(st.begin() + static_cast<long>(i));
      return;
    }
    return;
  }
}

bool add_reject_l4_dependency(Rule& rule, const std::string& family) {
  if (!multi_family(family)) return false;
  bool reset = false;
  for (const auto& s : rule.stmts) {
    if (s->kind == StmtKind::Reject && s->name == "tcp") reset = true;
    const Expr* sel = s->kind == StmtKind::Match && !s->exprs.empty() && s->exprs[0] &&
                              s->exprs[0]->kind == ExprKind::Relational && !s->exprs[0]->kids.empty()
                          ? s->exprs[0]->kids[0].get()
                          : nullptr;
    if (!sel || sel->kind != ExprKind::Selector) continue;
    if (sel->selector == SelectorKind::Meta && !sel->path.empty() && sel->path[0] == "l4proto") return false;
    if (sel->selector == SelectorKind::Payload &&
        ((sel->text == "ip" && !sel->path.empty() && sel->path[0] == "protocol") ||
         (sel->text == "ip6" && !sel->path.empty() && sel->path[0] == "nexthdr") || sel->text == "tcp" ||
         sel->text == "th"))
      return false;
  }
  if (!reset) return false;
  auto l4 = make_expr(ExprKind::Selector, rule.loc, "meta");
  l4->selector = SelectorKind::Meta;
  l4->path = {"l4proto"};
  auto six = make_expr(ExprKind::Number, rule.loc, "6");
  six->number = 6;
  auto rel = make_expr(ExprKind::Relational, rule.loc);
  rel->kids = {l4, six};
  rule.stmts.insert(rule.stmts.begin(), make_match_stmt(rel, rule.loc));
  return true;
}

}  // namespace nfx
