// ICMP type dependencies as nft adds them: a match on an icmp/icmpv6 field
// that only exists for some message types (icmp id, icmpv6 taddr, ...) makes
// nft add `icmp type { ... }` before it when the rule has not fixed the type.
// A dependency with several types is a set lookup, which nft's listing keeps;
// one with a single type is an equality that the listing drops again (see
// elide_redundant_dependencies), so only the former is added here.
#include <string>

#include "dependencies.h"
#include "selectors.h"

namespace nfx {
namespace {

// The icmp/icmpv6 payload selector a match statement tests, or null.
const Expr* icmp_selector(const Stmt& s) {
  if (s.kind != StmtKind::Match || s.exprs.empty() || !s.exprs[0]) return nullptr;
  const Expr& rel = *s.exprs[0];
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2 || !rel.kids[0]) return nullptr;
  const Expr* lhs = rel.kids[0].get();
  while (lhs && lhs->kind == ExprKind::Binop && !lhs->kids.empty()) lhs = lhs->kids[0].get();
  if (!lhs || lhs->kind != ExprKind::Selector || lhs->selector != SelectorKind::Payload) return nullptr;
  if ((lhs->text != "icmp" && lhs->text != "icmpv6") || lhs->path.empty()) return nullptr;
  return lhs;
}

StmtPtr make_type_dependency(const Expr& sel, const std::vector<uint8_t>& types) {
  auto type = make_expr(ExprKind::Selector, sel.loc, sel.text);
  type->selector = SelectorKind::Payload;
  type->path = {"type"};
  auto set = make_expr(ExprKind::Set, sel.loc);
  for (uint8_t t : types) {
    auto n = make_expr(ExprKind::Number, sel.loc, std::to_string(t));
    n->number = t;
    set->kids.push_back(n);
  }
  auto rel = make_expr(ExprKind::Relational, sel.loc);
  rel->kids = {type, set};
  return make_match_stmt(rel, sel.loc);
}

}  // namespace

std::vector<size_t> add_icmp_type_dependencies(Rule& rule) {
  std::vector<size_t> added;
  auto& st = rule.stmts;
  for (size_t i = 0; i < st.size(); ++i) {
    const Expr* sel = icmp_selector(*st[i]);
    if (!sel) continue;
    if (sel->path[0] == "type") return added;  // the rule fixes the type itself
    const auto* types = icmp_field_types(sel->text, sel->path[0]);
    if (!types) continue;
    if (types->size() > 1) {
      st.insert(st.begin() + static_cast<long>(i), make_type_dependency(*sel, *types));
      added.push_back(i);
    }
    return added;  // one dependency per rule
  }
  return added;
}

bool elides_icmp_type(const Expr& dep, uint64_t value, const Expr& next) {
  if (dep.selector != SelectorKind::Payload || next.selector != SelectorKind::Payload) return false;
  if ((dep.text != "icmp" && dep.text != "icmpv6") || dep.text != next.text) return false;
  if (dep.path.empty() || dep.path[0] != "type" || next.path.empty()) return false;
  const auto* types = icmp_field_types(next.text, next.path[0]);
  return types && types->size() == 1 && types->front() == value;
}

}  // namespace nfx
