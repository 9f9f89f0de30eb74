#include "fold.h"

#include <algorithm>

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

// `a,b / c,d` parses as the list a, (b / c), d; nft reads it as the value
// list a,b under the mask list c,d. Regroup it into one Prefix.
static void regroup_value_mask_list(ExprPtr& rhs) {
  if (rhs->kind != ExprKind::List) return;
  size_t at = rhs->kids.size();
  for (size_t i = 0; i < rhs->kids.size(); i++) {
    const Expr& k = *rhs->kids[i];
    if (k.kind == ExprKind::Prefix && k.kids.size() == 2 && k.kids[1]->kind != ExprKind::Number) {
      if (at != rhs->kids.size()) return;  // two masks: not this form
      at = i;
    }
  }
  if (at == rhs->kids.size()) return;
  auto list = [&](std::vector<ExprPtr> items) {
    if (items.size() == 1) return items[0];
    auto l = std::make_shared<Expr>(*rhs);
    l->kids = std::move(items);
    return l;
  };
  const ExprPtr& split = rhs->kids[at];
  std::vector<ExprPtr> values(rhs->kids.begin(), rhs->kids.begin() + static_cast<long>(at));
  values.push_back(split->kids[0]);
  std::vector<ExprPtr> masks{split->kids[1]};
  masks.insert(masks.end(), rhs->kids.begin() + static_cast<long>(at) + 1, rhs->kids.end());
  auto prefix = std::make_shared<Expr>(*split);
  prefix->kids = {list(values), list(masks)};
  rhs = prefix;
}

// `sel & mask`, typed as the selector.
static ExprPtr masked(const SourceLoc& loc, const ExprPtr& sel, const ExprPtr& mask) {
  auto band = std::make_shared<Expr>();
  band->kind = ExprKind::Binop;
  band->loc = loc;
  band->binop = BinOp::And;
  band->dtype = sel->dtype;
  band->bits = sel->bits;
  band->kids = {sel, mask};
  return band;
}

void fold_flag_relational(Expr& rel) {
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2) return;
  regroup_value_mask_list(rel.kids[1]);
  Expr& lhs = *rel.kids[0];
  ExprPtr rhs = rel.kids[1];
  // sel V / M: the value/mask form.
  if (rhs->kind == ExprKind::Prefix && rhs->kids.size() == 2 && rhs->kids[1]->kind != ExprKind::Number) {
    rel.kids = {masked(rel.loc, rel.kids[0], list_to_or_chain(rhs->kids[1])), list_to_or_chain(rhs->kids[0])};
    if (rel.rel == RelOp::Implicit) rel.rel = RelOp::Eq;
    return;
  }
  // sel V/n on a non-address type: the kernel's `sel & mask == V`.
  if (rhs->kind == ExprKind::Prefix && rhs->kids.size() == 2 && rhs->kids[1]->kind == ExprKind::Number &&
      rhs->kids[0]->kind == ExprKind::Value && lhs.kind == ExprKind::Selector && lhs.dtype != "ipv4_addr" &&
      lhs.dtype != "ipv6_addr" && lhs.bits > 0 && rhs->number <= lhs.bits) {
    const Expr& v = *rhs->kids[0];
    auto mask = std::make_shared<Expr>(v);
    std::fill(mask->bytes.begin(), mask->bytes.end(), 0);
    unsigned width = std::min<unsigned>(lhs.bits, static_cast<unsigned>(mask->bytes.size() * 8));
    for (unsigned bit = width - static_cast<unsigned>(rhs->number); bit < width; bit++)
      mask->bytes[mask->bytes.size() - 1 - bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
    rel.kids = {masked(rel.loc, rel.kids[0], mask), rhs->kids[0]};
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

static bool is_constant_tree(const Expr& e) {
  if (e.kind == ExprKind::Value) return true;
  if (e.kind != ExprKind::Binop) return false;
  return is_constant_tree(*e.kids[0]) && is_constant_tree(*e.kids[1]);
}

static bool fits_u64(const std::vector<uint8_t>& b) {
  for (size_t i = 0; i + 8 < b.size(); i++)
    if (b[i]) return false;
  return true;
}

static uint64_t to_u64(const std::vector<uint8_t>& b) {
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return v;
}

// `c1 << c2` / `c1 >> c2` on constants, widening the value when the result
// needs more bytes (nft computes it in the wider statement context).
static bool fold_shift(Expr& e) {
  const Expr& a = *e.kids[0];
  const Expr& b = *e.kids[1];
  if (a.kind != ExprKind::Value || b.kind != ExprKind::Value || !fits_u64(a.bytes) || !fits_u64(b.bytes)) return false;
  uint64_t n = to_u64(b.bytes);
  if (n >= 64) return false;
  uint64_t v = to_u64(a.bytes);
  if (e.binop == BinOp::Lshift && (v >> (63 - n)) > 1) return false;  // would overflow 64 bits
  v = e.binop == BinOp::Lshift ? v << n : v >> n;
  size_t need = 1;
  while (need < 8 && (v >> (8 * need)) != 0) need++;
  ExprPtr lhs = e.kids[0];
  SourceLoc loc = e.loc;
  e = *lhs;
  e.loc = loc;
  size_t size = std::max(e.bytes.size(), need);
  e.bytes.assign(size, 0);
  for (size_t i = 0; i < size && i < 8; i++) e.bytes[size - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  e.bits = std::max<unsigned>(e.bits, static_cast<unsigned>(8 * need));
  return true;
}

// Folds constant subtrees. Inside an expression that reads the packet, an
// OR of flag values stays as written (`tcp flags & (fin | syn)`), as nft
// lists it; a wholly constant expression folds to one value.
static void fold_binop(Expr& e, bool whole_constant) {
  if (e.kind != ExprKind::Binop) return;
  fold_binop(*e.kids[0], whole_constant);
  fold_binop(*e.kids[1], whole_constant);
  // A constant on the left of a commutative operator goes to the right.
  if (e.binop != BinOp::Lshift && e.binop != BinOp::Rshift && e.kids[0]->kind == ExprKind::Value &&
      e.kids[1]->kind != ExprKind::Value)
    std::swap(e.kids[0], e.kids[1]);
  if (e.binop == BinOp::Lshift || e.binop == BinOp::Rshift) {
    fold_shift(e);
    return;
  }
  if (!same_width_values(*e.kids[0], *e.kids[1])) return;
  if (!whole_constant && e.binop == BinOp::Or && is_bitmask(e.kids[0]->dtype)) return;
  ExprPtr lhs = e.kids[0], rhs = e.kids[1];
  BinOp op = e.binop;
  SourceLoc loc = e.loc;
  e = *lhs;
  e.loc = loc;
  combine(e.bytes, rhs->bytes, op);
}

void fold_constant_binop(Expr& e) { fold_binop(e, is_constant_tree(e)); }

// The value of a constant tree of and/or/xor over same-width values.
static bool constant_bytes(const Expr& e, std::vector<uint8_t>& out) {
  if (e.kind == ExprKind::Value) {
    out = e.bytes;
    return true;
  }
  if (e.kind != ExprKind::Binop || e.binop == BinOp::Lshift || e.binop == BinOp::Rshift) return false;
  std::vector<uint8_t> rhs;
  if (!constant_bytes(*e.kids[0], out) || !constant_bytes(*e.kids[1], rhs) || rhs.size() != out.size()) return false;
  combine(out, rhs, e.binop);
  return true;
}

void fold_full_mask(Expr& rel) {
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2) return;
  if (rel.rel != RelOp::Eq && rel.rel != RelOp::Ne && rel.rel != RelOp::Implicit) return;
  const Expr& lhs = *rel.kids[0];
  if (lhs.kind != ExprKind::Binop || lhs.binop != BinOp::And || lhs.kids[0]->kind != ExprKind::Selector) return;
  const ExprPtr& sel = lhs.kids[0];
  std::vector<uint8_t> mask, value;
  if (sel->bits == 0 || sel->bits % 8 || !constant_bytes(*lhs.kids[1], mask) || mask.size() != sel->bits / 8) return;
  for (uint8_t b : mask)
    if (b != 0xff) return;
  if (!constant_bytes(*rel.kids[1], value) || value.size() != mask.size()) return;
  auto v = std::make_shared<Expr>();
  v->kind = ExprKind::Value;
  v->kids.clear();
  v->loc = rel.kids[1]->loc;
  v->dtype = sel->dtype;
  v->bits = sel->bits;
  v->bytes = value;
  if (is_bitmask(v->dtype) && split_bitmask(Value::from_bytes(value, v->bits)).size() != 1) v->dtype = "xinteger";
  ExprPtr keep = sel;
  rel.kids = {keep, v};
  if (rel.rel == RelOp::Implicit) rel.rel = RelOp::Eq;
}

// `v << n` as a big-endian number of `size` bytes.
static std::vector<uint8_t> shifted_left(const std::vector<uint8_t>& v, unsigned n, size_t size) {
  std::vector<uint8_t> out(size, 0);
  for (size_t i = 0; i < v.size(); i++)
    for (unsigned bit = 0; bit < 8; bit++) {
      if (!(v[v.size() - 1 - i] & (1u << bit))) continue;
      size_t at = i * 8 + bit + n;
      if (at < size * 8) out[size - 1 - at / 8] |= static_cast<uint8_t>(1u << (at % 8));
    }
  return out;
}

void widen_raw_payload(Expr& rel) {
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2 || rel.kids[1]->kind != ExprKind::Value) return;
  if (rel.rel != RelOp::Eq && rel.rel != RelOp::Ne && rel.rel != RelOp::Implicit) return;
  const Expr& raw = *rel.kids[0];
  if (raw.kind != ExprKind::Selector || raw.selector != SelectorKind::RawPayload || raw.args.size() < 2) return;
  auto off = static_cast<uint64_t>(raw.args[0]), len = static_cast<uint64_t>(raw.args[1]);
  if (len == 0 || (off % 8 == 0 && len % 8 == 0)) return;
  // nft's payload_expr_trim_force lists the field as written when the mask
  // does not reach the loaded bytes' top bit and the offset stays small.
  uint64_t rounded_off = (off + 7) / 8 * 8;
  if (off % 8 != 0 && rounded_off <= 255) return;
  uint64_t start = off / 8 * 8, end = (off + len + 7) / 8 * 8;
  auto width = static_cast<unsigned>(end - start), shift = static_cast<unsigned>(end - off - len);
  auto wide = std::make_shared<Expr>(raw);
  wide->args[0] = static_cast<int64_t>(start);
  wide->args[1] = width;
  wide->bits = width;
  auto constant = [&](std::vector<uint8_t> bytes) {
    auto v = std::make_shared<Expr>(*rel.kids[1]);
    v->dtype = "xinteger";
    v->bits = width;
    v->bytes = std::move(bytes);
    return v;
  };
  std::vector<uint8_t> ones((len + 7) / 8, 0);
  for (uint64_t b = 0; b < len; b++) ones[ones.size() - 1 - b / 8] |= static_cast<uint8_t>(1u << (b % 8));
  auto mask = constant(shifted_left(ones, shift, width / 8));
  auto value = constant(shifted_left(rel.kids[1]->bytes, shift, width / 8));
  rel.kids = {masked(rel.loc, wide, mask), value};
  if (rel.rel == RelOp::Implicit) rel.rel = RelOp::Eq;
}

void range_to_prefix(ExprPtr& e) {
  if (e->kind != ExprKind::Range || e->kids.size() != 2 || !same_width_values(*e->kids[0], *e->kids[1])) return;
  const auto& lo = e->kids[0]->bytes;
  const auto& hi = e->kids[1]->bytes;
  // host bits: the trailing bits where lo is 0 and hi is 1; above them both agree
  unsigned width = static_cast<unsigned>(lo.size() * 8), host = 0;
  while (host < width) {
    size_t byte = lo.size() - 1 - host / 8;
    uint8_t bit = static_cast<uint8_t>(1u << (host % 8));
    if ((lo[byte] & bit) || !(hi[byte] & bit)) break;
    host++;
  }
  if (host == 0) return;
  for (unsigned b = host; b < width; b++) {
    size_t byte = lo.size() - 1 - b / 8;
    uint8_t bit = static_cast<uint8_t>(1u << (b % 8));
    if ((lo[byte] & bit) != (hi[byte] & bit)) return;
  }
  auto prefix = std::make_shared<Expr>();
  prefix->kind = ExprKind::Prefix;
  prefix->loc = e->loc;
  prefix->number = width - host;
  auto len = std::make_shared<Expr>();
  len->kind = ExprKind::Number;
  len->loc = e->loc;
  len->number = prefix->number;
  len->text = std::to_string(prefix->number);
  prefix->kids = {e->kids[0], len};
  e = prefix;
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
