// Semantic analysis of expressions and statements (nft's evaluate.c role):
// resolves selectors against the tables, types constants by the left-hand
// side's datatype, checks ranges, and records the result in the AST nodes.
#pragma once

#include <nfx/compiler.h>

#include <vector>

#include "types.h"

namespace nfx {

struct EvalContext {
  Diagnostics& diags;
  const TableDecl* table = nullptr;  // for @set lookups and named objects
  std::string family;                // table family
  unsigned stmt_bits = 0;            // width of the `set` statement's target while its value is typed
  bool in_concat = false;            // typing a concatenation's (or map key's) parts

  // What the rule has fixed so far about the packet's protocols (the part
  // of nft's proto_ctx the listing depends on), set by note_protocols():
  std::string nh{}, th{};            // network / transport protocol, "" unknown
  long nh_nfproto = -1;              // index of the `meta nfproto` match nh came from
  size_t stmt_index = 0;             // statement being evaluated
  std::vector<size_t> implied{};     // matches a later selector makes redundant
};

// eval_context.cc: the protocol context of a rule as it is evaluated.
void reset_protocols(EvalContext& ctx);
// Updates ctx.nh / ctx.th after statement `s` (protocol matches, and the
// headers its selectors imply).
void note_protocols(EvalContext& ctx, const Stmt& s);
// nft types a family-less `ct original saddr` / `rt nexthop` from the network
// protocol in context (ctx.nh) and lists it with that family; false if unknown.
bool complete_family_key(EvalContext& ctx, Expr& sel);
// A payload selector completed from the context as nft's listing does:
// `@th,16,16` is `th dport`, and `th dport` after `meta l4proto tcp` is
// `tcp dport` (before the value is typed).
void complete_transport_selector(EvalContext& ctx, Expr& sel);
// A raw payload that is exactly a field of the protocol in context lists as
// that field (`@nh,192,32` in arp: `arp daddr ip`); `value` (the typed
// constant it is compared with or set to) takes the field's type.
void complete_raw_payload(EvalContext& ctx, ExprPtr& sel, Expr* value);

// Datatype and width of a selector expression; nullptr after reporting an error.
const Datatype* selector_type(EvalContext& ctx, Expr& sel, unsigned& bits);

// Evaluates a rule in place; false if it reported errors.
bool eval_rule(EvalContext& ctx, Rule& rule);
// Evaluates set elements against the set's key and data types.
bool eval_set(EvalContext& ctx, SetDecl& set);
bool eval_elements(EvalContext& ctx, const SetDecl& set, std::vector<ExprPtr>& elems);

// Types a constant expression (symbol, number, string, range, prefix, set,
// list, concat) as `dt` of `bits` width. Reports errors at the constant.
bool eval_constant(EvalContext& ctx, Expr& e, const Datatype* dt, unsigned bits);

// Datatype of a set/map declared with `type a . b`.
const Datatype* lookup_type(EvalContext& ctx, const std::string& name, const SourceLoc& loc);

}  // namespace nfx
