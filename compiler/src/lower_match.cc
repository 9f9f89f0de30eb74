// Relational expressions to IR predicates, with nft's meaning of each form:
//   sel V          equality, or a flag test when sel's type is a bitmask
//   sel ! V        none of the flags set
//   sel == V, !=, <, >, <=, >=
//   sel A-B, sel P/n, sel { ... }, sel @set  (each negatable with !=)
#include <fmt/format.h>

#include "lower.h"
#include "types.h"

namespace nfx::lower {

// A constant right-hand side folded to bytes: values, `a | b` chains and
// comma lists of flags.
bool constant_bytes(const Expr& e, ir::Bytes& out) {
  switch (e.kind) {
    case ExprKind::Value:
      out = e.bytes;
      return true;
    case ExprKind::Binop:
    case ExprKind::List: {
      ir::Bytes acc;
      for (size_t i = 0; i < e.kids.size(); ++i) {
        ir::Bytes b;
        if (!constant_bytes(*e.kids[i], b)) return false;
        if (i == 0) {
          acc = b;
          continue;
        }
        size_t n = std::max(acc.size(), b.size());
        acc = ir::be_resize(acc, n);
        b = ir::be_resize(b, n);
        BinOp op = e.kind == ExprKind::List ? BinOp::Or : e.binop;
        for (size_t j = 0; j < n; ++j) {
          if (op == BinOp::And) acc[j] &= b[j];
          else if (op == BinOp::Or) acc[j] |= b[j];
          else if (op == BinOp::Xor) acc[j] ^= b[j];
          else return false;
        }
      }
      out = acc;
      return true;
    }
    default:
      return false;
  }
}

namespace {

using ir::Bytes;

bool is_bitmask_type(const std::string& dtype) {
  const Datatype* dt = find_datatype(dtype);
  for (; dt; dt = dt->base)
    if (dt->is_bitmask) return true;
  return false;
}



// How the left side is compared: its value and the layout constants take.
struct Lhs {
  ir::ValuePtr value;
  Field field;           // for a plain selector: constants shift into the load
  bool plain = false;    // a selector on its own
  bool bitmask = false;
  bool string = false;
};

Bytes layout(const Lhs& l, const Expr& constant) {
  Bytes raw;
  constant_bytes(constant, raw);
  Expr tmp = constant;
  tmp.kind = ExprKind::Value;
  tmp.bytes = raw;
  if (l.plain) return field_constant(l.field, tmp);
  if (l.string) {
    Bytes b = raw;
    b.resize(l.value->len, 0);
    return b;
  }
  return ir::from_big(ir::be_resize(raw, l.value->len), l.value->order);
}

// The innermost selector of `sel & m`, `sel >> n`...: its Field types constants.
const Expr* inner_selector(const Expr& e) {
  if (e.kind == ExprKind::Selector) return &e;
  if (e.kind == ExprKind::Binop) return inner_selector(*e.kids[0]);
  return nullptr;
}

bool lower_lhs(Context& ctx, RuleState& st, const Expr& e, Lhs& l, std::vector<ir::Stmt>& out) {
  l.bitmask = is_bitmask_type(e.dtype);
  if (e.kind == ExprKind::Selector) {
    if (!lower_selector(ctx, e, l.field)) return false;
    add_dependencies(ctx, st, l.field, out);
    l.plain = true;
    l.string = l.field.string;
    l.value = l.field.load;
    if (!l.field.mask.empty()) {
      auto b = std::make_shared<ir::Value>();
      b->kind = ir::ValueKind::Bitwise;
      b->len = l.value->len;
      b->order = l.value->order;
      b->data = l.field.mask;
      b->xor_data = Bytes(b->len, 0);
      b->args = {l.value};
      l.value = b;
    }
    return true;
  }
  if (const Expr* sel = inner_selector(e)) {
    Field f;
    if (!lower_selector(ctx, *sel, f)) return false;
    add_dependencies(ctx, st, f, out);
    l.string = f.string;
  }
  l.value = lower_value(ctx, e, nullptr);
  return l.value != nullptr;
}

// `iifname "eth*"`: the bytes before the star must match.
bool wildcard_prefix(const Bytes& s, uint32_t& bits) {
  size_t n = 0;
  while (n < s.size() && s[n]) ++n;
  if (n == 0 || s[n - 1] != '*' || (n >= 2 && s[n - 2] == '\\')) return false;
  bits = static_cast<uint32_t>((n - 1) * 8);
  return true;
}

ir::CmpOp cmp_of(RelOp op) {
  switch (op) {
    case RelOp::Ne: return ir::CmpOp::Ne;
    case RelOp::Lt: return ir::CmpOp::Lt;
    case RelOp::Gt: return ir::CmpOp::Gt;
    case RelOp::Le: return ir::CmpOp::Le;
    case RelOp::Ge: return ir::CmpOp::Ge;
    default: return ir::CmpOp::Eq;
  }
}

// Prefix v/n as the first n bits of a value laid out like `l`.
void prefix_predicate(const Lhs& l, const Expr& rhs, ir::Predicate& p) {
  p.kind = ir::PredKind::Prefix;
  p.value = layout(l, *rhs.kids[0]);
  p.prefix = static_cast<uint32_t>(rhs.number);
  if (l.plain && l.field.load->kind == ir::ValueKind::Payload) {
    // a prefix of a field narrower than its load starts at the field's first
    // bit; the bits before it are masked to zero on both sides
    p.prefix += l.field.load->len * 8 - l.field.bits - l.field.shift;
  }
}

// A byte-aligned prefix of a whole payload field becomes a compare of just
// its bytes, as nft emits it (`ip saddr 10.0.0.0/8`: a 1-byte load), so a
// packet cut short after those bytes still matches, as on the kernel.
void shorten_prefix(const Lhs& l, ir::Predicate& p) {
  const ir::Value& load = *l.field.load;
  if (!l.plain || load.kind != ir::ValueKind::Payload || !l.field.mask.empty() || load.order != ir::Order::Big ||
      p.prefix == 0 || p.prefix % 8 != 0 || p.prefix / 8 >= load.len)
    return;
  uint32_t n = p.prefix / 8;
  auto shorter = std::make_shared<ir::Value>(load);
  shorter->len = n;
  p.kind = ir::PredKind::Cmp;
  p.op = p.negate ? ir::CmpOp::Ne : ir::CmpOp::Eq;  // a compare carries its own negation
  p.negate = false;
  p.lhs = shorter;
  p.value.resize(n);
  p.prefix = 0;
}

}  // namespace

bool lower_match(Context& ctx, RuleState& st, const Expr& rel, std::vector<ir::Stmt>& out) {
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2)
    return unsupported(ctx, rel.loc, "this match");
  const Expr& lhs_e = *rel.kids[0];
  const Expr& rhs = *rel.kids[1];
  ir::Stmt s;
  s.kind = ir::StmtKind::Match;
  ir::Predicate& p = s.pred;
  bool negate = rel.rel == RelOp::Ne;

  // nft turns an anonymous set of one prefix into a prefix match (what
  // matters for a truncated packet: a byte-aligned prefix loads only its
  // own bytes, see shorten_prefix).
  if (rhs.kind == ExprKind::Set && rhs.kids.size() == 1 && rhs.kids[0]->kind == ExprKind::Prefix &&
      lhs_e.kind != ExprKind::Concat && (rel.rel == RelOp::Implicit || rel.rel == RelOp::Eq)) {
    Lhs l;
    if (!lower_lhs(ctx, st, lhs_e, l, out)) return false;
    p.lhs = l.value;
    prefix_predicate(l, *rhs.kids[0], p);
    shorten_prefix(l, p);
    out.push_back(std::move(s));
    return true;
  }

  // Set membership: the key is built by the set code (concatenations too).
  if (rhs.kind == ExprKind::Set || rhs.kind == ExprKind::SetRef) {
    std::vector<Field> fields;
    ir::ValuePtr key;
    if (!lower_key(ctx, st, lhs_e, fields, key, out)) return false;
    int set = rhs.kind == ExprKind::SetRef ? (ctx.set_index.count(rhs.text) ? ctx.set_index[rhs.text] : -1)
                                            : lower_anonymous_set(ctx, rhs, fields, nullptr, false);
    if (set < 0) return rhs.kind == ExprKind::SetRef ? unsupported(ctx, rhs.loc, "set @" + rhs.text) : false;
    p.kind = ir::PredKind::Lookup;
    p.lhs = key;
    p.set = set;
    p.negate = negate;
    out.push_back(std::move(s));
    return true;
  }

  Lhs l;
  if (!lower_lhs(ctx, st, lhs_e, l, out)) return false;
  p.lhs = l.value;
  // A rule that names its network protocol itself (`meta nfproto ipv6`,
  // `meta protocol ip`, `ether type ip`) gets no dependency for it later:
  // `meta nfproto ipv6 icmp type echo-request` matches ICMP over IPv6.
  // Likewise the transport protocol (`ip protocol ipv6-icmp icmpv6 type x`
  // loads no meta l4proto and names no network protocol for icmpv6). An
  // ether type of 802.1Q only says where the protocol is: the tag's field.
  if (lhs_e.kind == ExprKind::Selector && !lhs_e.path.empty() && !negate && rhs.kind == ExprKind::Value) {
    const std::string& field = lhs_e.path[0];
    bool meta = lhs_e.selector == SelectorKind::Meta, payload = lhs_e.selector == SelectorKind::Payload;
    uint64_t v = ir::be_to_u64(rhs.bytes);
    if (payload && lhs_e.text == "ether" && field == "type" && (v == 0x8100 || v == 0x88a8))
      st.deps.insert("ethertype" + std::to_string(0x8100));
    else if ((meta && (field == "nfproto" || field == "protocol")) || (payload && lhs_e.text == "ether" && field == "type"))
      st.deps.insert("network fixed");
    else if ((meta && field == "l4proto") || (payload && lhs_e.text == "ip" && field == "protocol") ||
             (payload && lhs_e.text == "ip6" && field == "nexthdr"))
      st.deps.insert("transport fixed");
  }
  switch (rhs.kind) {
    case ExprKind::Range:
      p.kind = ir::PredKind::Range;
      p.value = layout(l, *rhs.kids[0]);
      p.hi = layout(l, *rhs.kids[1]);
      p.negate = negate;
      // nft swaps a meta hour range that crosses midnight once converted to
      // UTC ("17:00"-"19:00" at UTC-5 is 22:00-00:00) and inverts the match:
      // `range neq 0 79200`. The swapped ends themselves fall outside, as in nft.
      if (l.field.dtype == "hour" && ir::to_big(p.value, p.lhs->order) > ir::to_big(p.hi, p.lhs->order)) {
        std::swap(p.value, p.hi);
        p.negate = !p.negate;
      }
      break;
    case ExprKind::Prefix:
      prefix_predicate(l, rhs, p);
      p.negate = negate;
      shorten_prefix(l, p);
      break;
    case ExprKind::Value:
    case ExprKind::Binop:
    case ExprKind::List: {
      Bytes v;
      if (!constant_bytes(rhs, v)) return unsupported(ctx, rhs.loc, "a non-constant right-hand side");
      p.value = layout(l, rhs);
      uint32_t bits = 0;
      if (l.string && (rel.rel == RelOp::Implicit || rel.rel == RelOp::Eq || rel.rel == RelOp::Ne) &&
          wildcard_prefix(p.value, bits)) {
        p.kind = ir::PredKind::Prefix;
        p.prefix = bits;
        p.negate = negate;
        break;
      }
      if (rel.rel == RelOp::Neg) {
        p.kind = ir::PredKind::Flags;
        p.negate = true;
      } else if (rel.rel == RelOp::Implicit && (l.bitmask || rhs.kind == ExprKind::List) &&
                 lhs_e.kind != ExprKind::Binop) {
        // `tcp flags syn` tests the bit; `tcp flags & (fin|syn) syn`, whose
        // left side already masks, is an equality (nft: cmp eq).
        p.kind = ir::PredKind::Flags;
      } else {
        p.kind = ir::PredKind::Cmp;
        p.op = cmp_of(rel.rel);
      }
      break;
    }
    default:
      return unsupported(ctx, rhs.loc, "this right-hand side");
  }
  out.push_back(std::move(s));
  return true;
}

}  // namespace nfx::lower
