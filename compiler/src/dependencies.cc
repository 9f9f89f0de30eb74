#include "dependencies.h"

#include "types.h"

namespace nfx {
namespace {

// The match statement's relational `sel VALUE` with an implicit/== op, or null.
const Expr* simple_match(const Stmt& s) {
  if (s.kind != StmtKind::Match || s.exprs.empty() || !s.exprs[0]) return nullptr;
  const Expr& rel = *s.exprs[0];
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2) return nullptr;
  if (rel.rel != RelOp::Implicit && rel.rel != RelOp::Eq) return nullptr;
  return &rel;
}

const Expr* selector_of(const Expr& rel) {
  const Expr* lhs = rel.kids[0].get();
  while (lhs && lhs->kind == ExprKind::Concat && !lhs->kids.empty()) lhs = lhs->kids[0].get();
  return lhs && lhs->kind == ExprKind::Selector ? lhs : nullptr;
}

bool is(const Expr* sel, SelectorKind kind, const char* family, const char* field) {
  return sel && sel->selector == kind && sel->text == family && !sel->path.empty() && sel->path[0] == field;
}

// The constant of a dependency match as a small integer, if it is one.
bool small_value(const Expr& rel, uint64_t& out) {
  const Expr& v = *rel.kids[1];
  if (v.kind != ExprKind::Value || v.bytes.empty() || v.bytes.size() > 8) return false;
  out = 0;
  for (uint8_t b : v.bytes) out = (out << 8) | b;
  return true;
}

// IP protocol number a transport header selector needs (0: none).
uint64_t transport_protocol(const Expr* sel) {
  if (!sel || sel->selector != SelectorKind::Payload) return 0;
  static const std::pair<const char*, uint64_t> protos[] = {
      {"icmp", 1},  {"igmp", 2},  {"tcp", 6},    {"udp", 17},  {"dccp", 33}, {"gre", 47},
      {"esp", 50},  {"ah", 51},   {"icmpv6", 58}, {"comp", 108}, {"udplite", 136}, {"sctp", 132}};
  for (auto& [name, num] : protos)
    if (sel->text == name) return num;
  return 0;
}

bool is_network_selector(const Expr* sel, const char* proto) {
  return sel && sel->selector == SelectorKind::Payload && sel->text == proto;
}

// True if `dep` is only the dependency that `next` implies in `family`.
bool implied_by(const Expr& dep_rel, const Expr& next_rel, const std::string& family) {
  const Expr* dep = selector_of(dep_rel);
  const Expr* next = selector_of(next_rel);
  if (!dep || !next || dep_rel.kids[0].get() != dep) return false;
  uint64_t v = 0;
  if (!small_value(dep_rel, v)) return false;

  bool l4_dep = is(dep, SelectorKind::Meta, "meta", "l4proto") ||
                (family == "ip" && is(dep, SelectorKind::Payload, "ip", "protocol")) ||
                (family == "ip6" && is(dep, SelectorKind::Payload, "ip6", "nexthdr"));
  if (l4_dep) return transport_protocol(next) == v;

  if (family == "inet" && is(dep, SelectorKind::Meta, "meta", "nfproto"))
    return (v == 2 && (is_network_selector(next, "ip") || is_network_selector(next, "icmp"))) ||
           (v == 10 && (is_network_selector(next, "ip6") || is_network_selector(next, "icmpv6")));

  if ((family == "bridge" || family == "netdev") && is(dep, SelectorKind::Meta, "meta", "protocol"))
    return (v == 0x0800 && is_network_selector(next, "ip")) || (v == 0x86dd && is_network_selector(next, "ip6"));

  // In an ip or ip6 table the family's own `meta protocol` is implied by any payload match.
  if (is(dep, SelectorKind::Meta, "meta", "protocol") && next->selector == SelectorKind::Payload)
    return (family == "ip" && v == 0x0800) || (family == "ip6" && v == 0x86dd);

  if (is(dep, SelectorKind::Payload, "ether", "type") && v == 0x8100) return is_network_selector(next, "vlan");

  if (is(dep, SelectorKind::Meta, "meta", "iiftype") && v == 1) return is_network_selector(next, "ether");
  return elides_icmp_type(*dep, v, *next);
}

}  // namespace

StmtPtr make_match_stmt(ExprPtr rel, const SourceLoc& loc) {
  auto stmt = std::make_shared<Stmt>();
  stmt->kind = StmtKind::Match;
  stmt->loc = loc;
  stmt->exprs = {std::move(rel)};
  return stmt;
}

void elide_redundant_dependencies(Rule& rule, const std::string& family) {
  auto& st = rule.stmts;
  for (size_t i = 0; i + 1 < st.size();) {
    const Expr* dep = simple_match(*st[i]);
    const Expr* next = simple_match(*st[i + 1]);
    if (dep && next && implied_by(*dep, *next, family))
      st.erase(st.begin() + static_cast<long>(i));
    else
      i++;
  }
  // `meta iiftype ether` is the link-layer dependency of any later ether
  // match, with other headers' matches in between.
  for (size_t i = 0; i < st.size(); ++i) {
    const Expr* dep = simple_match(*st[i]);
    uint64_t v = 0;
    const Expr* key = dep ? selector_of(*dep) : nullptr;  // `meta iiftype` or bare `iiftype`
    if (!key || key->selector != SelectorKind::Meta || key->path.empty() || key->path[0] != "iiftype" ||
        !small_value(*dep, v) || v != 1)
      continue;
    for (size_t j = i + 1; j < st.size(); ++j) {
      const Expr* later = simple_match(*st[j]);
      if (later && is_network_selector(selector_of(*later), "ether")) {
        st.erase(st.begin() + static_cast<long>(i));
        break;
      }
    }
    break;
  }
}

}  // namespace nfx
