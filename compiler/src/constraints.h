// nft's semantic rejections that need a whole rule, its chain and its table:
// statement placement (nothing after a terminal statement), the protocol
// context of a rule (conflicting protocols, dependencies of nat, tproxy and
// reject), value and shape checks that nft's evaluate.c makes beyond typing,
// and the kernel's validation of expressions against the chain's family,
// type and hook (what the kernel refuses with EOPNOTSUPP or ENOENT).
#pragma once

#include <nfx/grammar.h>

#include <vector>

#include "eval.h"

namespace nfx {

// Runs after eval_rule() has typed `rule`. Reports the first problem of the
// rule as nft would (userspace checks in statement order, then the kernel's);
// `cmd_loc` is where nft points the kernel's errors (the whole command, or
// the rule inside a table block). False if an error was reported.
bool check_rule_constraints(EvalContext& ctx, const ChainDecl& chain, const Rule& rule,
                            const SourceLoc& cmd_loc);

// Elements about to be added to `set` (already evaluated): intervals of a
// set without auto-merge may not overlap each other or the set's elements.
bool check_element_constraints(EvalContext& ctx, const SetDecl& set, const std::vector<ExprPtr>& elems);

// Stateful object declarations: ct helper l3proto vs the table family, ct
// timeout policy states of the protocol, ct expectation's required options.
bool check_obj_constraints(EvalContext& ctx, const ObjDecl& obj);

}  // namespace nfx
