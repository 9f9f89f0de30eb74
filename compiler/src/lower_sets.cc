// Sets and maps in the IR. Keys and data are stored canonically: each field
// a big-endian number (strings as bytes), concatenation fields padded to 4
// bytes as the kernel's registers lay them out. Lookups convert host-order
// fields to big-endian first, as nft does for interval sets.
#include <fmt/format.h>

#include "lower.h"
#include "types.h"

namespace nfx::lower {

namespace {

using ir::Bytes;

uint32_t natural_len(const Field& f) { return f.string ? f.load->len : (f.bits + 7) / 8; }
uint32_t padded(uint32_t n) { return (n + 3) / 4 * 4; }

ir::ValuePtr canonical(const Field& f) {
  ir::ValuePtr v = field_value(f);
  if (v->order == ir::Order::Host && !f.string && v->len > 1) {
    auto b = std::make_shared<ir::Value>();
    b->kind = ir::ValueKind::ByteOrder;
    b->len = v->len;
    b->hton = true;
    b->size = v->len;
    b->args = {v};
    return b;
  }
  return v;
}

// One field of an element: its low and high bounds (equal for a value).
bool element_field(Context& ctx, const Expr& e, const Field& f, Bytes& lo, Bytes& hi, bool& interval) {
  uint32_t n = natural_len(f);
  auto value = [&](const Expr& v) {
    if (f.string) {
      Bytes b = v.bytes;
      b.resize(n, 0);
      return b;
    }
    return ir::be_resize(v.bytes, n);
  };
  switch (e.kind) {
    case ExprKind::Value:
      lo = hi = value(e);
      return true;
    case ExprKind::Range:
      if (e.kids[0]->kind != ExprKind::Value || e.kids[1]->kind != ExprKind::Value) break;
      lo = value(*e.kids[0]);
      hi = value(*e.kids[1]);
      interval = true;
      return true;
    case ExprKind::Prefix: {
      if (e.kids[0]->kind != ExprKind::Value) break;
      Bytes v = value(*e.kids[0]);
      lo = hi = v;
      unsigned width = f.string ? n * 8 : f.bits, keep = static_cast<unsigned>(e.number);
      for (unsigned bit = 0; bit + keep < width; ++bit) {  // host bits, from the LSB
        uint8_t m = static_cast<uint8_t>(1u << (bit % 8));
        size_t at = n - 1 - bit / 8;
        lo[at] &= static_cast<uint8_t>(~m);
        hi[at] |= m;
      }
      interval = true;
      return true;
    }
    default:
      break;
  }
  return unsupported(ctx, e.loc, "this set element");
}

bool element_key(Context& ctx, const Expr& e, const std::vector<Field>& key, ir::Element& el, bool& interval) {
  if (key.size() == 1) return element_field(ctx, e, key[0], el.key, el.key_end, interval);
  if (e.kind != ExprKind::Concat || e.kids.size() != key.size())
    return unsupported(ctx, e.loc, "an element that does not match the set's concatenation");
  for (size_t i = 0; i < key.size(); ++i) {
    Bytes lo, hi;
    if (!element_field(ctx, *e.kids[i], key[i], lo, hi, interval)) return false;
    lo.resize(padded(static_cast<uint32_t>(lo.size())), 0);
    hi.resize(padded(static_cast<uint32_t>(hi.size())), 0);
    el.key.insert(el.key.end(), lo.begin(), lo.end());
    el.key_end.insert(el.key_end.end(), hi.begin(), hi.end());
  }
  return true;
}

// Elements of `{ ... }` or a named set's element list.
bool lower_elements(Context& ctx, const std::vector<ExprPtr>& elems, const std::vector<Field>& key, const Field* data,
                    ir::Set& set) {
  for (const ExprPtr& item : elems) {
    const Expr* e = item.get();
    ir::Element el;
    if (e->kind == ExprKind::SetElem) {
      uint64_t ms = 0;
      if (e->elem.timeout) {
        if (!parse_time_ms(*e->elem.timeout, ms)) return unsupported(ctx, e->loc, "this element timeout");
        el.timeout_ms = ms;
      }
      if (e->elem.expires) {
        if (!parse_time_ms(*e->elem.expires, ms)) return unsupported(ctx, e->loc, "this element expiry");
        el.expires_ms = ms;
      }
      e = e->kids.at(0).get();
    }
    const Expr* value = nullptr;
    if (e->kind == ExprKind::Mapping) {
      value = e->kids[1].get();
      e = e->kids[0].get();
      if (e->kind == ExprKind::SetElem) e = e->kids.at(0).get();
    }
    if (e->kind == ExprKind::Wildcard) {
      el.catchall = true;
    } else if (!element_key(ctx, *e, key, el, set.interval)) {
      return false;
    }
    if (set.verdict_map) {
      if (!value || !lower_verdict_expr(ctx, *value, el.verdict)) return value ? false : unsupported(ctx, e->loc, "a map element without data");
    } else if (set.is_map) {
      if (!value || value->kind != ExprKind::Value || !data)
        return unsupported(ctx, value ? value->loc : e->loc, "this map data");
      Bytes d = data->string ? value->bytes : ir::be_resize(value->bytes, natural_len(*data));
      el.data = d;
    }
    set.elements.push_back(std::move(el));
  }
  return true;
}

}  // namespace

bool lower_key(Context& ctx, RuleState& st, const Expr& e, std::vector<Field>& fields, ir::ValuePtr& key,
               std::vector<ir::Stmt>& deps) {
  std::vector<const Expr*> parts;
  if (e.kind == ExprKind::Concat)
    for (auto& k : e.kids) parts.push_back(k.get());
  else
    parts.push_back(&e);
  auto concat = std::make_shared<ir::Value>();
  concat->kind = ir::ValueKind::Concat;
  for (const Expr* p : parts) {
    Field f;
    if (p->kind != ExprKind::Selector) return unsupported(ctx, p->loc, "this lookup key");
    if (!lower_selector(ctx, *p, f)) return false;
    add_dependencies(ctx, st, f, deps);
    ir::ValuePtr v = canonical(f);
    concat->len += padded(v->len);
    concat->args.push_back(v);
    fields.push_back(f);
  }
  key = parts.size() == 1 ? concat->args[0] : concat;
  return true;
}

ir::ValuePtr lower_map_lookup(Context& ctx, const Expr& e, const Field* target) {
  if (!ctx.rule || !target) return unsupported(ctx, e.loc, "a map lookup here"), nullptr;
  std::vector<Field> fields;
  ir::ValuePtr key;
  if (!lower_key(ctx, *ctx.rule, *e.kids[0], fields, key, *ctx.rule_stmts)) return nullptr;
  const Expr& m = *e.kids[1];
  int set = -1;
  if (m.kind == ExprKind::SetRef) {
    auto it = ctx.set_index.find(m.text);
    if (it == ctx.set_index.end()) return unsupported(ctx, m.loc, "map @" + m.text), nullptr;
    set = it->second;
  } else {
    set = lower_anonymous_set(ctx, m, fields, target, false);
    if (set < 0) return nullptr;
  }
  const ir::Set& s = ctx.out.sets[static_cast<size_t>(set)];
  if (!s.is_map || s.verdict_map) return unsupported(ctx, m.loc, "a lookup in a set that holds no data"), nullptr;
  auto v = std::make_shared<ir::Value>();
  v->kind = ir::ValueKind::MapLookup;
  v->len = s.data_len;
  v->set = set;
  v->args = {key};
  // Map data is stored big-endian; a host-order target (mark, priority)
  // gets it in host order, as the kernel's element holds it.
  if (target->load->order == ir::Order::Host && !target->string && s.data_len > 1) {
    auto b = std::make_shared<ir::Value>();
    b->kind = ir::ValueKind::ByteOrder;
    b->len = s.data_len;
    b->order = ir::Order::Host;
    b->hton = false;
    b->size = s.data_len;
    b->args = {v};
    return b;
  }
  return v;
}

int lower_anonymous_set(Context& ctx, const Expr& set, const std::vector<Field>& key, const Field* data, bool verdicts) {
  ir::Set s;
  s.name = fmt::format("__set{}", ctx.anon_sets++);
  s.anonymous = true;
  s.is_map = data != nullptr || verdicts;
  s.verdict_map = verdicts;
  for (const Field& f : key) {
    uint32_t n = natural_len(f);
    s.field_len.push_back(n);
    s.key_len += key.size() > 1 ? padded(n) : n;
  }
  if (data) s.data_len = natural_len(*data);
  if (!lower_elements(ctx, set.kids, key, data, s)) return -1;
  ctx.out.sets.push_back(std::move(s));
  return static_cast<int>(ctx.out.sets.size()) - 1;
}

bool lower_set_decl(Context& ctx, const SetDecl& decl, ir::Set& out) {
  out.name = decl.name;
  out.handle = decl.handle;
  out.is_map = decl.is_map || !decl.data_types.empty() || !decl.data_typeof.empty() || decl.data_verdict_or_obj;
  out.verdict_map = decl.data_verdict_or_obj && *decl.data_verdict_or_obj == "verdict";
  if (!decl.data_types.empty() && decl.data_types[0] == "verdict") out.verdict_map = true;
  for (const auto& f : decl.flags) {
    if (f == "interval") out.interval = true;
    if (f == "dynamic") out.dynamic = true;
    if (f == "timeout") out.has_timeout = true;
  }
  if (decl.timeout) {
    uint64_t ms = 0;
    if (!parse_time_ms(*decl.timeout, ms)) return unsupported(ctx, decl.loc, "this set timeout");
    out.timeout_ms = ms;
    out.has_timeout = true;
  }
  if (decl.size) out.size = *decl.size;
  // Key fields from `type a . b` or `typeof expr . expr`.
  std::vector<Field> key;
  auto add_type = [&](const std::string& name) {
    const Datatype* dt = find_datatype(name);
    if (!dt || (!dt->bits && name != "ifname" && name != "string")) return false;
    Field f;
    auto v = std::make_shared<ir::Value>();
    v->kind = ir::ValueKind::Const;
    f.string = name == "ifname" || name == "string";
    f.bits = dt->bits ? dt->bits : 128;
    v->len = (f.bits + 7) / 8;
    f.load = v;
    f.dtype = name;
    key.push_back(f);
    return true;
  };
  for (const auto& t : decl.key_types)
    if (!add_type(t)) return unsupported(ctx, decl.loc, "sets of type " + t);
  for (const auto& e : decl.key_typeof) {
    Field f;
    if (e->kind != ExprKind::Selector || !lower_selector(ctx, *e, f)) return unsupported(ctx, e->loc, "this typeof key");
    key.push_back(f);
  }
  Field data;
  bool has_data = false;
  if (out.is_map && !out.verdict_map) {
    if (decl.data_types.size() == 1 && add_type(decl.data_types[0])) {
      data = key.back();
      key.pop_back();
      has_data = true;
    } else if (decl.data_typeof.size() == 1 && decl.data_typeof[0]->kind == ExprKind::Selector &&
               lower_selector(ctx, *decl.data_typeof[0], data)) {
      has_data = true;
    } else {
      return unsupported(ctx, decl.loc, "this map's data type");
    }
    out.data_len = natural_len(data);
  }
  for (const Field& f : key) {
    uint32_t n = natural_len(f);
    out.field_len.push_back(n);
    out.key_len += key.size() > 1 ? padded(n) : n;
  }
  return lower_elements(ctx, decl.elements, key, has_data ? &data : nullptr, out);
}

}  // namespace nfx::lower
