// Internals shared by the constraints_*.cc files. Not for use elsewhere.
#pragma once

#include <nfx/grammar.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "constraints.h"

namespace nfx::constraints_detail {

// The protocol context of a rule as nft's proto_ctx tracks it while it walks
// the statements: what each header layer is known to be, from the table
// family, from explicit protocol matches and from the dependencies nft adds
// for payload selectors.
struct ProtoCtx {
  std::string family;
  // Link layer: a stack ("ether", "vlan", "vlan"); "inet"/"netdev" are the
  // placeholders of those families; empty in ip/ip6/arp tables.
  std::vector<std::string> ll;
  // For each link layer entry, the protocol its type field was matched to
  // (explicitly or by a dependency nft generated); "" if free.
  std::vector<std::string> ll_next;
  std::string nh;                   // network protocol, "" unknown, "?" other value
  std::vector<std::string> th;      // transport protocols (more than one: ambiguous)
  int icmp_type = -1;               // icmp/icmpv6 type matched, -1 if none
  // `meta protocol` was matched (bridge/netdev): the link layer is then the
  // generic one, and no VLAN header can be stacked on it.
  bool meta_protocol = false;
};

void proto_init(ProtoCtx& pc, const std::string& family);

// Why a check failed: the location and message, as nft reports it.
struct Problem {
  SourceLoc loc;
  std::string message;
};
using Check = std::optional<Problem>;

inline Check problem(const SourceLoc& loc, std::string msg) { return Problem{loc, std::move(msg)}; }

// Checks the selectors of `e` (recursively) against the context and adds the
// dependencies nft would add. `in_concat`: e is part of a concatenation, a
// map key or a set lookup (where ct saddr needs ip/ip6).
Check proto_use(ProtoCtx& pc, const Expr& e, bool in_concat = false);
// Updates the context after an equality match `lhs == rhs` (nft's
// relational_expr_pctx_update).
void proto_match(ProtoCtx& pc, const Expr& lhs, const Expr& rhs);

// Statements after which nothing may follow (nft's STMT_F_TERMINAL).
bool is_terminal_stmt(const Stmt& s);
// Per-statement checks in statement order (userspace: evaluate.c).
Check check_stmt(EvalContext& ctx, ProtoCtx& pc, const Stmt& s);
// The kernel's validation against the chain (type, hook) and family.
Check check_kernel(EvalContext& ctx, const ChainDecl& chain, const Stmt& s, const SourceLoc& cmd_loc);

// --- small helpers --------------------------------------------------------

// The closed interval a constant key covers (a value, a range, a prefix),
// as big-endian bytes; false for anything else (concatenations...).
struct Interval {
  std::vector<uint8_t> lo, hi;
  SourceLoc loc;
};
bool interval_of(const Expr& k, Interval& out);
// Strips set element wrappers (timeouts, comments) off a key.
const Expr* unwrap_elem(const Expr* e);

// The value of a typed constant as a number (low 64 bits), if it is one.
std::optional<uint64_t> value_u64(const Expr& e);
// Calls f on every expression of the tree (pre-order).
template <class F>
void walk(const Expr& e, F&& f) {
  f(e);
  for (const auto& k : e.kids)
    if (k) walk(*k, f);
}
bool is_selector(const Expr& e, SelectorKind kind);
// Meta key of a meta selector ("" otherwise).
std::string meta_key(const Expr& e);

}  // namespace nfx::constraints_detail
