// Semantic analysis of expressions and statements (nft's evaluate.c role):
// resolves selectors against the tables, types constants by the left-hand
// side's datatype, checks ranges, and records the result in the AST nodes.
#pragma once

#include <nfx/compiler.h>

#include "types.h"

namespace nfx {

struct EvalContext {
  Diagnostics& diags;
  const TableDecl* table = nullptr;  // for @set lookups and named objects
  std::string family;                // table family
  unsigned stmt_bits = 0;            // width of the `set` statement's target while its value is typed
};

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
