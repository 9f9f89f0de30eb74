// Lowering: a checked ruleset (the listing-form AST) to the IR, adding back
// the implicit protocol dependencies nft adds when it generates bytecode
// (meta nfproto in inet, meta protocol in bridge/netdev, meta l4proto before
// transport fields, meta iiftype before ether fields).
#pragma once

#include <nfx/compiler.h>
#include <nfx/ir.h>

#include <map>
#include <set>
#include <string>

namespace nfx::lower {

struct Context {
  Diagnostics& diags;
  const TableDecl& table;
  ir::Table& out;
  std::map<std::string, int> set_index, chain_index, object_index;
  // Anonymous sets created while lowering rules get fresh names.
  int anon_sets = 0;
  // The rule being lowered: selectors inside statement arguments (`meta mark
  // set ip ttl`, map keys) get their dependencies added to it, as nft does.
  struct RuleState* rule = nullptr;
  std::vector<ir::Stmt>* rule_stmts = nullptr;
};

// A selector lowered to a byte-aligned value, plus how the field sits in it.
struct Field {
  ir::ValuePtr load;      // byte-aligned load (payload, meta, ct, ...)
  unsigned bits = 0;      // the field's width
  unsigned shift = 0;     // bits between the field's LSB and the load's LSB
  ir::Bytes mask;         // non-empty when the field does not fill the load
  std::string dtype;
  std::string proto;      // payload protocol, for dependencies ("" if none)
  std::string field;      // the payload field's name ("type", "mtu", ...)
  bool string = false;    // string-typed (ifname): compared as bytes, prefix wildcards
};

// Per-rule state: which dependencies are already matched.
struct RuleState {
  std::set<std::string> deps;
};

// Selectors (lower_value.cc). Returns false after reporting an error.
bool lower_selector(Context& ctx, const Expr& sel, Field& out);
// The field's value on its own: masked and shifted down to its natural width
// (what set lookups, map keys and statement values use).
ir::ValuePtr field_value(const Field& f);
// Any value expression usable as a statement argument or lookup key.
ir::ValuePtr lower_value(Context& ctx, const Expr& e, const Field* target);
// A typed constant as `f` holds it: shifted into place and in the load's order.
ir::Bytes field_constant(const Field& f, const Expr& value);
// A constant as the field's own value (unshifted), in the field's order.
ir::Bytes plain_constant(const Field& f, const Expr& value);
ir::ValuePtr make_const(ir::Bytes b, ir::Order order = ir::Order::Big);
// A constant folded to big-endian bytes: values, `a | b` chains and comma
// lists of flags (lower_match.cc). False if `e` is not constant.
bool constant_bytes(const Expr& e, ir::Bytes& out);

// Dependencies (lower_deps.cc): matches that must precede a use of `f`.
void add_dependencies(Context& ctx, RuleState& st, const Field& f, std::vector<ir::Stmt>& out);

// Matches and statements (lower_match.cc, lower_stmt.cc).
bool lower_match(Context& ctx, RuleState& st, const Expr& rel, std::vector<ir::Stmt>& out);
bool lower_stmt(Context& ctx, RuleState& st, const Stmt& s, std::vector<ir::Stmt>& out);

// Sets (lower_sets.cc): a named set, or an anonymous one made from `{...}`.
bool lower_set_decl(Context& ctx, const SetDecl& decl, ir::Set& out);
int lower_anonymous_set(Context& ctx, const Expr& set, const std::vector<Field>& key, const Field* data,
                        bool verdicts);
// The key fields of a lookup expression (one per concatenation member).
bool lower_key(Context& ctx, RuleState& st, const Expr& e, std::vector<Field>& fields, ir::ValuePtr& key,
               std::vector<ir::Stmt>& deps);

// `KEY map @m` / `KEY map { k : v, ... }` as a statement argument whose
// target is `target` (the map's data lands in it).
ir::ValuePtr lower_map_lookup(Context& ctx, const Expr& e, const Field* target);

// accept/drop/continue/return/jump NAME/goto NAME, for statements and vmap elements.
bool lower_verdict_expr(Context& ctx, const Expr& e, ir::Verdict& v);

// limit/quota options (of a statement or a named object) as a Limit/Quota statement.
void lower_limit(const std::map<std::string, std::string>& opts, ir::Stmt& out);
void lower_quota(const std::map<std::string, std::string>& opts, ir::Stmt& out);

// "1h30m" / "30s" / a bare number of seconds, in milliseconds.
bool parse_time_ms(const std::string& text, uint64_t& ms);

// Errors for what the interpreter cannot execute.
bool unsupported(Context& ctx, const SourceLoc& loc, const std::string& what);

}  // namespace nfx::lower
