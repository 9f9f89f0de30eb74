#include "fold.h"

#include "types.h"

namespace nfx {
namespace {

bool is_bitmask(const std::string& dtype) {
  for (const Datatype* d = find_datatype(dtype); d; d = d->base)
    if (d->is_bitmask) return true;
  return false;
}

bool same_width_values(const Expr& a, const Expr& b) {
  return a.kind == ExprKind::Value && b.kind == ExprKind::Value && a.bytes.size() == b.bytes.size();
}

void combine(std::vector<uint8_t>& into, const std::vector<uint8_t>& with, BinOp op) {
  for (size_t i = 0; i < into.size(); i++) {
    switch (op) {
      case BinOp::And: into[i] &= with[i]; break;
      case BinOp::Or: into[i] |= with[i]; break;
      case BinOp::Xor: into[i] ^= with[i]; break;
      default: break;
    }
  }
}

// `a,b,c` -> `a | b | c` (left-nested, printed flat).
ExprPtr list_to_or_chain(const ExprPtr& e) {
  if (e->kind != ExprKind::List || e->kids.empty()) return e;
  ExprPtr acc = e->kids[0];
  for (size_t i = 1; i < e->kids.size(); i++) {
    auto b = std::make_shared<Expr>();
    b->kind = ExprKind::Binop;
    b->loc = e->loc;
    b->binop = BinOp::Or;
    b->dtype = acc->dtype;
    b->kids = {acc, e->kids[i]};
    acc = b;
  }
  return acc;
}

bool is_zero_value(const Expr& e) {
  if (e.kind != ExprKind::Value) return false;
  for (uint8_t b : e.bytes)
    if (b) return false;
  return true;
}

}  // namespace

void fold_flag_relational(Expr& rel) {
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2) return;
  Expr& lhs = *rel.kids[0];
  ExprPtr rhs = rel.kids[1];
  // sel V / M: the value/mask form.
  if (rhs->kind == ExprKind::Prefix && rhs->kids.size() == 2 && rhs->kids[1]->kind != ExprKind::Number) {
    auto band = std::make_shared<Expr>();
    band->kind = ExprKind::Binop;
    band->loc = rel.loc;
    band->binop = BinOp::And;
    band->dtype = lhs.dtype;
    band->bits = lhs.bits;
    band->kids = {rel.kids[0], list_to_or_chain(rhs->kids[1])};
    rel.kids[0] = band;
    rel.kids[1] = list_to_or_chain(rhs->kids[0]);
    if (rel.rel == RelOp::Implicit) rel.rel = RelOp::Eq;
    return;
  }
  // sel & M ==/!= 0 with a flag-typed mask.
  if (lhs.kind != ExprKind::Binop || lhs.binop != BinOp::And || !is_zero_value(*rhs)) return;
  if (!is_bitmask(rhs->dtype)) return;
  if (rel.rel != RelOp::Eq && rel.rel != RelOp::Ne) return;
  ExprPtr mask = lhs.kids[1];
  fold_constant_binop(*mask);
  if (mask->kind != ExprKind::Value) return;
  rel.rel = rel.rel == RelOp::Eq ? RelOp::Neg : RelOp::Implicit;
  ExprPtr sel = lhs.kids[0];
  rel.kids = {sel, mask};
}

void fold_flag_list(Expr& e) {
  if (e.kind != ExprKind::List || e.kids.empty()) return;
  const Expr& first = *e.kids[0];
  if (first.kind != ExprKind::Value || !is_bitmask(first.dtype)) return;
  for (const auto& k : e.kids)
    if (!same_width_values(first, *k)) return;
  ExprPtr folded = e.kids[0];
  std::vector<uint8_t> bytes = folded->bytes;
  for (size_t i = 1; i < e.kids.size(); i++) combine(bytes, e.kids[i]->bytes, BinOp::Or);
  SourceLoc loc = e.loc;
  e = *folded;
  e.loc = loc;
  e.bytes = std::move(bytes);
}

void fold_constant_binop(Expr& e) {
  if (e.kind != ExprKind::Binop) return;
  fold_constant_binop(*e.kids[0]);
  fold_constant_binop(*e.kids[1]);
  if (e.binop == BinOp::Lshift || e.binop == BinOp::Rshift) return;
  if (!same_width_values(*e.kids[0], *e.kids[1])) return;
  ExprPtr lhs = e.kids[0], rhs = e.kids[1];
  BinOp op = e.binop;
  SourceLoc loc = e.loc;
  e = *lhs;
  e.loc = loc;
  combine(e.bytes, rhs->bytes, op);
}

void fold_xor_relational(Expr& rel) {
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2) return;
  if (rel.rel != RelOp::Eq && rel.rel != RelOp::Ne && rel.rel != RelOp::Implicit) return;
  Expr& lhs = *rel.kids[0];
  Expr& rhs = *rel.kids[1];
  if (lhs.kind != ExprKind::Binop || lhs.binop != BinOp::Xor) return;
  if (!same_width_values(*lhs.kids[1], rhs)) return;
  combine(rhs.bytes, lhs.kids[1]->bytes, BinOp::Xor);
  ExprPtr sel = lhs.kids[0];
  rel.kids[0] = sel;
}

}  // namespace nfx
