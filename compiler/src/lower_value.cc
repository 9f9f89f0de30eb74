// Selectors and constants to IR values: where each field lives in the packet
// or the packet's metadata, and how a typed constant is laid out to compare
// with it (shifted into the loaded bytes, in the load's byte order).
#include <fmt/format.h>

#include "lower.h"
#include "selectors.h"

namespace nfx::lower {

namespace {

using ir::Bytes;
using ir::Order;
using ir::Value;
using ir::ValueKind;

std::shared_ptr<Value> make(ValueKind kind, uint32_t len, Order order = Order::Big) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  v->len = len;
  v->order = order;
  return v;
}

// A bit field at `offset`/`bits` from a base: the covering byte load, and the
// mask and shift that isolate the field.
void place_bits(Field& f, std::shared_ptr<Value> load, unsigned offset, unsigned bits) {
  unsigned first = offset / 8, end = (offset + bits + 7) / 8;
  load->offset += first;
  load->len = end - first;
  f.bits = bits;
  f.shift = end * 8 - (offset + bits);
  if (f.shift || offset % 8) {
    Bytes ones = ir::be_from_u64(0, load->len);
    for (unsigned i = 0; i < bits; ++i) {
      unsigned bit = f.shift + i;  // from the LSB
      ones[load->len - 1 - bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
    }
    f.mask = ones;
  }
  f.load = load;
}

bool string_type(const std::string& dtype) {
  return dtype == "ifname" || dtype == "string";
}

bool lower_payload(Context& ctx, const Expr& sel, Field& f) {
  const ProtoDesc* p = find_proto(sel.text);
  const FieldDesc* fd = p ? find_field(*p, sel.path.at(0)) : nullptr;
  if (!fd) return unsupported(ctx, sel.loc, fmt::format("payload field {} {}", sel.text, sel.path.at(0)));
  auto load = make(ValueKind::Payload, 0);
  load->base = static_cast<ir::PayloadBase>(p->base);
  unsigned offset = fd->offset;
  // The vlan header follows the ethernet addresses and type at the link base.
  if (sel.text == "vlan") offset += 112;
  place_bits(f, load, offset, fd->bits);
  f.proto = sel.text;
  f.field = sel.path.at(0);
  return true;
}

bool lower_raw_payload(Context& ctx, const Expr& sel, Field& f) {
  static const std::pair<const char*, ir::PayloadBase> bases[] = {
      {"ll", ir::PayloadBase::Link}, {"nh", ir::PayloadBase::Network},
      {"th", ir::PayloadBase::Transport}, {"ih", ir::PayloadBase::Inner}};
  auto load = make(ValueKind::Payload, 0);
  bool found = false;
  for (auto& [name, base] : bases)
    if (sel.path.at(0) == name) {
      load->base = base;
      found = true;
    }
  if (!found || sel.args.size() < 2 || sel.args[1] <= 0)
    return unsupported(ctx, sel.loc, "raw payload base " + sel.path.at(0));
  place_bits(f, load, static_cast<unsigned>(sel.args[0]), static_cast<unsigned>(sel.args[1]));
  return true;
}

// meta/ct/rt/socket keys: a register-sized value in the key's byte order.
bool lower_key(Context& ctx, const Expr& sel, KeyFamily fam, ValueKind kind, const std::string& name, Field& f) {
  KeyExtra extra;
  if (!key_extra(fam, name, extra)) return unsupported(ctx, sel.loc, fmt::format("{} key {}", sel.text, name));
  unsigned bits = sel.bits;
  if (!bits) {
    const KeyDesc* kd = find_key(fam, name);
    bits = kd ? kd->bits : 32;
  }
  bool str = string_type(sel.dtype);
  auto v = make(kind, (bits + 7) / 8, extra.big_endian || str ? Order::Big : Order::Host);
  v->key = static_cast<uint32_t>(extra.kernel_id);
  v->dtype = sel.dtype;
  f.load = v;
  f.bits = bits;
  f.string = str;
  return true;
}

bool lower_ct(Context& ctx, const Expr& sel, Field& f) {
  const auto& p = sel.path;
  std::string key = p.back();
  ir::CtDir dir = ir::CtDir::None;
  if (p.size() >= 2 && p[0] == "original") dir = ir::CtDir::Original;
  if (p.size() >= 2 && p[0] == "reply") dir = ir::CtDir::Reply;
  if (!lower_key(ctx, sel, KeyFamily::Ct, ValueKind::Ct, key, f)) return false;
  auto v = std::make_shared<Value>(*f.load);
  v->dir = dir;
  // ct saddr/daddr take their width from the address family in use.
  if (key == "saddr" || key == "daddr" || key == "ip saddr" || key == "ip daddr")
    v->len = (sel.bits + 7) / 8, v->order = Order::Big;
  f.load = v;
  return true;
}

bool lower_option(Context& ctx, const Expr& sel, OptionFamily fam, ir::ExthdrOp op, const std::string& name,
                  const std::string* field, Field& f) {
  const OptionDesc* o = find_option(fam, name);
  if (!o) return unsupported(ctx, sel.loc, fmt::format("{} {}", sel.text, name));
  auto load = make(ValueKind::Exthdr, 1);
  load->exthdr = op;
  load->type = o->type;
  // IPv6 extension headers and IPv4 options depend on their network
  // protocol (the kernel walks whatever the network header holds); TCP
  // options and SCTP chunks check the transport protocol themselves.
  if (op == ir::ExthdrOp::Ipv6) f.proto = "ip6 exthdr";
  if (op == ir::ExthdrOp::Ipv4) f.proto = "ip option";
  if (!field) {
    load->present = true;  // `exthdr hbh exists`, `tcp option sack exists`
    f.load = load;
    f.bits = 1;
    return true;
  }
  for (const FieldDesc& fd : o->fields)
    if (*field == fd.name) {
      place_bits(f, load, fd.offset, fd.bits);
      return true;
    }
  // `tcp option sack exists` style: the field is "exists"-like boolean
  return unsupported(ctx, sel.loc, fmt::format("{} {} {}", sel.text, name, *field));
}

}  // namespace

ir::ValuePtr make_const(Bytes b, Order order) {
  auto v = make(ValueKind::Const, static_cast<uint32_t>(b.size()), order);
  v->data = std::move(b);
  return v;
}

bool unsupported(Context& ctx, const SourceLoc& loc, const std::string& what) {
  ctx.diags.error(loc, fmt::format("nfx cannot execute {} yet", what));
  return false;
}

bool lower_selector(Context& ctx, const Expr& sel, Field& f) {
  f = Field{};
  f.dtype = sel.dtype;
  const auto& p = sel.path;
  switch (sel.selector) {
    case SelectorKind::Payload: return lower_payload(ctx, sel, f);
    case SelectorKind::RawPayload: return lower_raw_payload(ctx, sel, f);
    case SelectorKind::Meta:
      if (p.at(0) == "secpath" || p.at(0) == "ipsec")
        return unsupported(ctx, sel.loc, "meta " + p.at(0));
      return lower_key(ctx, sel, KeyFamily::Meta, ValueKind::Meta, p.at(0), f);
    case SelectorKind::Ct: return lower_ct(ctx, sel, f);
    case SelectorKind::Exthdr: {
      if (sel.text == "exthdr") return lower_option(ctx, sel, OptionFamily::Exthdr, ir::ExthdrOp::Ipv6, p.at(0), nullptr, f);
      return lower_option(ctx, sel, OptionFamily::Exthdr, ir::ExthdrOp::Ipv6, sel.text, &p.at(0), f);
    }
    case SelectorKind::TcpOption:
      if (p.at(0) == "@") return unsupported(ctx, sel.loc, "raw tcp option");
      return lower_option(ctx, sel, OptionFamily::TcpOption, ir::ExthdrOp::TcpOpt, p.at(0), p.size() > 1 ? &p[1] : nullptr, f);
    case SelectorKind::IpOption:
      return lower_option(ctx, sel, OptionFamily::IpOption, ir::ExthdrOp::Ipv4, p.at(0), p.size() > 1 ? &p[1] : nullptr, f);
    case SelectorKind::SctpChunk:
      return lower_option(ctx, sel, OptionFamily::SctpChunk, ir::ExthdrOp::Sctp, p.at(0), p.size() > 1 ? &p[1] : nullptr, f);
    case SelectorKind::Numgen: {
      auto v = make(ValueKind::Numgen, 4, Order::Host);
      v->flags = p.at(0) == "random" ? 1 : 0;
      v->modulus = static_cast<uint32_t>(sel.args.at(0));
      v->add = static_cast<uint32_t>(sel.args.at(1));
      f.load = v;
      f.bits = 32;
      return true;
    }
    case SelectorKind::Hash: {
      auto v = make(ValueKind::Hash, 4, Order::Host);
      v->symmetric = sel.text == "symhash";
      v->modulus = static_cast<uint32_t>(sel.args.at(0));
      v->seed = static_cast<uint32_t>(sel.args.at(1));
      v->add = static_cast<uint32_t>(sel.args.at(2));
      if (!sel.kids.empty()) {
        ir::ValuePtr in = lower_value(ctx, *sel.kids[0], nullptr);
        if (!in) return false;
        v->args.push_back(in);
      }
      f.load = v;
      f.bits = 32;
      return true;
    }
    case SelectorKind::Rt: return unsupported(ctx, sel.loc, "rt expressions");
    case SelectorKind::Fib: return unsupported(ctx, sel.loc, "fib lookups");
    case SelectorKind::Socket: return unsupported(ctx, sel.loc, "socket expressions");
    case SelectorKind::Osf: return unsupported(ctx, sel.loc, "osf");
    case SelectorKind::Ipsec: return unsupported(ctx, sel.loc, "ipsec expressions");
    case SelectorKind::Tunnel: return unsupported(ctx, sel.loc, "tunnel expressions");
    case SelectorKind::Inner: return unsupported(ctx, sel.loc, "inner tunnel headers");
  }
  return unsupported(ctx, sel.loc, "this selector");
}

ir::ValuePtr field_value(const Field& f) {
  ir::ValuePtr v = f.load;
  if (!f.mask.empty()) {
    auto b = make(ValueKind::Bitwise, v->len, v->order);
    b->data = f.mask;
    b->xor_data = Bytes(v->len, 0);
    b->args = {v};
    v = b;
  }
  if (f.shift) {
    auto s = make(ValueKind::Shift, (f.bits + 7) / 8, v->order);
    s->left = false;
    s->shift = f.shift;
    s->args = {v};
    v = s;
  } else if (!f.mask.empty() && (f.bits + 7) / 8 < v->len) {
    auto s = make(ValueKind::Shift, (f.bits + 7) / 8, v->order);  // narrow only
    s->args = {v};
    v = s;
  }
  return v;
}

Bytes plain_constant(const Field& f, const Expr& value) {
  size_t len = (f.bits + 7) / 8;
  if (f.string) {
    Bytes b = value.bytes;
    b.resize(f.load->len, 0);
    return b;
  }
  Bytes b = ir::be_resize(value.bytes, len);
  return ir::from_big(b, f.load->order);
}

Bytes field_constant(const Field& f, const Expr& value) {
  if (f.string) return plain_constant(f, value);
  Bytes b = ir::be_resize(value.bytes, f.load->len);
  if (f.shift) b = ir::be_shift_left(b, f.shift);
  return ir::from_big(b, f.load->order);
}

ir::ValuePtr lower_value(Context& ctx, const Expr& e, const Field* target) {
  switch (e.kind) {
    case ExprKind::Value: {
      if (target) return make_const(plain_constant(*target, e), target->load->order);
      return make_const(ir::be_resize(e.bytes, (e.bits + 7) / 8));
    }
    case ExprKind::Selector: {
      Field f;
      if (!lower_selector(ctx, e, f)) return nullptr;
      if (ctx.rule) add_dependencies(ctx, *ctx.rule, f, *ctx.rule_stmts);
      return field_value(f);
    }
    case ExprKind::Concat: {
      auto c = make(ValueKind::Concat, 0);
      for (auto& k : e.kids) {
        ir::ValuePtr part = lower_value(ctx, *k, nullptr);
        if (!part) return nullptr;
        c->len += (part->len + 3) / 4 * 4;
        c->args.push_back(part);
      }
      return c;
    }
    case ExprKind::Binop: {
      ir::ValuePtr lhs = lower_value(ctx, *e.kids[0], target);
      if (!lhs) return nullptr;
      const Expr& r = *e.kids[1];
      if (e.binop == BinOp::Lshift || e.binop == BinOp::Rshift) {
        if (r.kind != ExprKind::Value) return unsupported(ctx, r.loc, "a shift by a non-constant"), nullptr;
        auto s = make(ValueKind::Shift, lhs->len, lhs->order);
        s->left = e.binop == BinOp::Lshift;
        s->shift = static_cast<uint32_t>(ir::be_to_u64(r.bytes));
        s->args = {lhs};
        return s;
      }
      ir::ValuePtr rhs;
      Bytes folded;
      if (r.kind == ExprKind::Value || constant_bytes(r, folded)) {  // `& (fin|syn)`, `& fin,syn` fold
        Bytes c = ir::be_resize(r.kind == ExprKind::Value ? r.bytes : folded, lhs->len);
        rhs = make_const(ir::from_big(c, lhs->order), lhs->order);
      } else {
        rhs = lower_value(ctx, r, target);
      }
      if (!rhs) return nullptr;
      if (rhs->kind == ValueKind::Const) {
        // the kernel's bitwise: (x & mask) ^ xor covers and, or and xor
        auto b = make(ValueKind::Bitwise, lhs->len, lhs->order);
        const Bytes& k = rhs->data;
        Bytes ones(lhs->len, 0xff), zero(lhs->len, 0);
        switch (e.binop) {
          case BinOp::And: b->data = k, b->xor_data = zero; break;
          case BinOp::Or: {
            Bytes m(lhs->len);
            for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(~k[i]);
            b->data = m, b->xor_data = k;
            break;
          }
          default: b->data = ones, b->xor_data = k; break;
        }
        b->args = {lhs};
        return b;
      }
      auto b = make(ValueKind::Binop, lhs->len, lhs->order);
      b->op = e.binop == BinOp::And ? ir::BinOp::And : e.binop == BinOp::Or ? ir::BinOp::Or : ir::BinOp::Xor;
      b->args = {lhs, rhs};
      return b;
    }
    case ExprKind::Map: return lower_map_lookup(ctx, e, target);
    default:
      return unsupported(ctx, e.loc, "this expression as a value"), nullptr;
  }
}

}  // namespace nfx::lower
