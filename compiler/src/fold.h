// Constant folding nft does during evaluation, so the ruleset prints (and
// later executes) in the shape the kernel gets: flag lists become one
// bitmask, constant binops become one value, `x ^ c1 == c2` becomes
// `x == c1 ^ c2`.
#pragma once

#include <nfx/grammar.h>

namespace nfx {

// `established,related` (typed List of bitmask Values) -> one Value.
void fold_flag_list(Expr& e);
// A Binop of two typed Values (and, or, xor) -> one Value; recursive.
void fold_constant_binop(Expr& e);
// Relational `sel ^ c1 OP c2` -> `sel OP (c1 ^ c2)` for == and !=.
void fold_xor_relational(Expr& rel);

// The flag-test forms, as the kernel's bitwise+cmp round-trips them:
//   sel & M != 0   -> sel M            (any of the flags)
//   sel & M == 0   -> sel ! M          (none of the flags)
//   sel V / M      -> sel & M == V     (with `a,b` lists as `a | b`)
void fold_flag_relational(Expr& rel);

// A range of two values that covers exactly one prefix (`10.0.0.0-10.0.0.255`)
// -> that prefix (`10.0.0.0/24`), as nft lists nat address ranges.
void range_to_prefix(ExprPtr& e);

// `sel & M == V` with M all ones over the field -> `sel == V`, as the kernel's
// round trip drops the no-op mask; a V that is not one named flag lists in hex.
void fold_full_mask(Expr& rel);

// A raw payload match the kernel cannot load as written (not whole bytes)
// comes back from it widened to whole bytes under a mask, unless nft can
// trim it back: `@ll,0,1 1` lists as `@ll,0,8 & 0x80 == 0x80`.
void widen_raw_payload(Expr& rel);

// Anonymous sets (fold_sets.cc): `{ { a, b }, c }` -> `{ a, b, c }`, and
// nft's automerge of an interval set's overlapping or adjacent elements.
void flatten_nested_sets(Expr& set);
void merge_set_intervals(Expr& set);

}  // namespace nfx
