#include "eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "dependencies.h"
#include "fold.h"
#include "payload_merge.h"
#include "selectors.h"

namespace nfx {

namespace {

using TypeList = std::vector<std::pair<const Datatype*, unsigned>>;

const Datatype* dt_or_null(const char* name) { return name ? find_datatype(name) : nullptr; }

const Datatype* key_type(EvalContext& ctx, KeyFamily fam, const std::string& what, const std::string& name,
                         const SourceLoc& loc, unsigned& bits) {
  const KeyDesc* k = find_key(fam, name);
  if (!k) {
    ctx.diags.error(loc, fmt::format("syntax error, unknown {} key '{}'", what, name));
    return nullptr;
  }
  const Datatype* dt = dt_or_null(k->dtype);
  bits = k->bits ? k->bits : (dt ? dt->bits : 0);
  return dt;
}

const Datatype* field_type(EvalContext& ctx, const std::string& proto, const std::string& field,
                           const SourceLoc& loc, unsigned& bits) {
  const ProtoDesc* p = find_proto(proto);
  if (!p) {
    ctx.diags.error(loc, fmt::format("syntax error, unknown protocol '{}'", proto));
    return nullptr;
  }
  const FieldDesc* f = find_field(*p, field);
  if (!f) {
    ctx.diags.error(loc, fmt::format("syntax error, unexpected {} field '{}'", proto, field));
    return nullptr;
  }
  bits = f->bits;
  return dt_or_null(f->dtype);
}

const Datatype* option_type(EvalContext& ctx, OptionFamily fam, const std::string& what, const Expr& sel,
                            const std::string& name, const std::string* field, unsigned& bits) {
  const OptionDesc* o = find_option(fam, name);
  if (!o) {
    ctx.diags.error(sel.loc, fmt::format("syntax error, unknown {} '{}'", what, name));
    return nullptr;
  }
  if (!field) {  // presence test: exists / missing
    bits = 1;
    return find_datatype("boolean");
  }
  for (const auto& f : o->fields)
    if (*field == f.name) {
      bits = f.bits;
      return dt_or_null(f.dtype);
    }
  ctx.diags.error(sel.loc, fmt::format("syntax error, unknown {} {} field '{}'", what, name, *field));
  return nullptr;
}

void collect_types(EvalContext& ctx, Expr& e, TypeList& out);

// Whether an expression reads packet or state data anywhere (else it is a
// constant: 0x1 | 0x2, new | related).
bool has_selector(const Expr& e) {
  if (e.kind == ExprKind::Selector || e.kind == ExprKind::Map) return true;
  for (const auto& k : e.kids)
    if (k && has_selector(*k)) return true;
  return false;
}

}  // namespace

const Datatype* selector_type(EvalContext& ctx, Expr& s, unsigned& bits) {
  bits = 0;
  const Datatype* dt = nullptr;
  auto& p = s.path;
  complete_transport_selector(ctx, s);
  switch (s.selector) {
    case SelectorKind::Payload:
      dt = field_type(ctx, s.text, p.at(0), s.loc, bits);
      break;
    case SelectorKind::Inner:
      dt = field_type(ctx, p.at(0), p.at(1), s.loc, bits);
      break;
    case SelectorKind::RawPayload:
      bits = s.args.size() > 1 ? static_cast<unsigned>(s.args[1]) : 0;
      dt = find_datatype("xinteger");  // raw payload values list in hex
      break;
    case SelectorKind::Exthdr:
      if (s.text == "exthdr") {
        dt = option_type(ctx, OptionFamily::Exthdr, "extension header", s, p.at(0), nullptr, bits);
      } else if (s.text == "rt" && !find_option(OptionFamily::Exthdr, "rt")) {
        dt = key_type(ctx, KeyFamily::Rt, "rt", p.at(0), s.loc, bits);
      } else {
        const OptionDesc* o = find_option(OptionFamily::Exthdr, s.text);
        bool is_field = false;
        if (o)
          for (auto& f : o->fields) is_field |= p.at(0) == f.name;
        if (s.text == "rt" && !is_field && find_key(KeyFamily::Rt, p.at(0))) {
          s.selector = SelectorKind::Rt;
          return selector_type(ctx, s, bits);
        } else {
          dt = option_type(ctx, OptionFamily::Exthdr, "extension header", s, s.text, &p.at(0), bits);
        }
      }
      break;
    case SelectorKind::TcpOption:
      if (p.at(0) == "@") {  // tcp option @kind,offset,length: a raw integer
        bits = s.args.size() > 2 ? static_cast<unsigned>(s.args[2]) : 0;
        dt = find_datatype("integer");
        break;
      }
      dt = option_type(ctx, OptionFamily::TcpOption, "tcp option", s, p.at(0), p.size() > 1 ? &p[1] : nullptr, bits);
      // `sack0` is nft's input alias of the first sack block, listed as `sack`.
      if (dt && p.at(0) == "sack0") p.at(0) = "sack";
      // A known option given by number lists by name (`tcp option 2` -> maxseg).
      if (const OptionDesc* o = find_option(OptionFamily::TcpOption, p.at(0)); dt && o && o->name[0] != '<' &&
          !p.at(0).empty() && std::isdigit(static_cast<unsigned char>(p.at(0)[0])))
        p.at(0) = o->name;
      break;
    case SelectorKind::IpOption:
      dt = option_type(ctx, OptionFamily::IpOption, "ip option", s, p.at(0), p.size() > 1 ? &p[1] : nullptr, bits);
      break;
    case SelectorKind::SctpChunk:
      dt = option_type(ctx, OptionFamily::SctpChunk, "sctp chunk", s, p.at(0), p.size() > 1 ? &p[1] : nullptr, bits);
      break;
    case SelectorKind::Meta:
      dt = key_type(ctx, KeyFamily::Meta, "meta", p.at(0), s.loc, bits);
      break;
    case SelectorKind::Ct: {
      complete_family_key(ctx, s);
      const std::string& key = p.back();
      dt = key_type(ctx, KeyFamily::Ct, "ct", key, s.loc, bits);
      // The kernel keeps no direction for protocol/l3proto (both directions
      // agree), so `ct original protocol` lists as `ct protocol`.
      if (dt && p.size() == 2 && (key == "protocol" || key == "l3proto") && (p[0] == "original" || p[0] == "reply")) {
        p.erase(p.begin());
        break;
      }
      if (dt && (key == "saddr" || key == "daddr")) {
        // ct original saddr: the address family comes from "ip"/"ip6" or the table
        std::string fam = p.size() == 3 ? p[1] : ctx.nh;
        if (fam == "ip") { dt = find_datatype("ipv4_addr"); bits = 32; }
        else if (fam == "ip6") { dt = find_datatype("ipv6_addr"); bits = 128; }
      }
      break;
    }
    case SelectorKind::Rt:
      complete_family_key(ctx, s);
      dt = key_type(ctx, KeyFamily::Rt, "rt", p.back(), s.loc, bits);
      if (dt && p.back() == "nexthop" && p.size() == 2) {
        if (p[0] == "ip") { dt = find_datatype("ipv4_addr"); bits = 32; }
        else { dt = find_datatype("ipv6_addr"); bits = 128; }
      }
      break;
    case SelectorKind::Fib:
      dt = key_type(ctx, KeyFamily::FibResult, "fib result", p.back(), s.loc, bits);
      break;
    case SelectorKind::Socket:
      dt = key_type(ctx, KeyFamily::Socket, "socket", p.at(0), s.loc, bits);
      break;
    case SelectorKind::Osf:
      dt = key_type(ctx, KeyFamily::Osf, "osf", p.at(0), s.loc, bits);
      break;
    case SelectorKind::Ipsec:
      dt = key_type(ctx, KeyFamily::Ipsec, "ipsec", p.back(), s.loc, bits);
      if (dt && (p.back() == "saddr" || p.back() == "daddr") && p.size() >= 3) {
        if (p[p.size() - 2] == "ip6") { dt = find_datatype("ipv6_addr"); bits = 128; }
        else { dt = find_datatype("ipv4_addr"); bits = 32; }
      }
      break;
    case SelectorKind::Tunnel:
      dt = key_type(ctx, KeyFamily::Tunnel, "tunnel", p.at(0), s.loc, bits);
      break;
    case SelectorKind::Numgen:
    case SelectorKind::Hash:
      dt = find_datatype("integer");
      bits = 32;
      if (s.kids.size() == 1) {
        TypeList ignored;
        collect_types(ctx, *s.kids[0], ignored);
      }
      break;
  }
  if (dt) {
    s.dtype = dt->name;
    s.bits = bits;
  }
  return dt;
}

namespace {

void collect_types(EvalContext& ctx, Expr& e, TypeList& out) {
  switch (e.kind) {
    case ExprKind::Selector: {
      unsigned bits = 0;
      const Datatype* dt = selector_type(ctx, e, bits);
      out.emplace_back(dt, bits);
      return;
    }
    case ExprKind::Concat: {
      bool outer = ctx.in_concat;
      ctx.in_concat = true;
      for (auto& k : e.kids) collect_types(ctx, *k, out);
      ctx.in_concat = outer;
      return;
    }
    case ExprKind::Binop: {
      // nft moves a constant to the right of a commutative operator
      // (`0x1 | ct mark` lists as `ct mark | 0x00000001`).
      if (e.binop != BinOp::Lshift && e.binop != BinOp::Rshift && !has_selector(*e.kids[0]) &&
          has_selector(*e.kids[1]))
        std::swap(e.kids[0], e.kids[1]);
      // the left side decides the type; the right side is a constant of it
      TypeList left;
      collect_types(ctx, *e.kids[0], left);
      if (left.size() == 1 && !has_selector(*e.kids[1])) {
        // In a statement wider than the field (`meta mark set ip6 dscp | 0x40`)
        // nft computes in the statement's width.
        unsigned bits = std::max(left[0].second, ctx.stmt_bits);
        if (e.binop == BinOp::Lshift || e.binop == BinOp::Rshift)
          eval_constant(ctx, *e.kids[1], find_datatype("integer"), 32);
        else
          eval_constant(ctx, *e.kids[1], left[0].first, bits);
      } else if (has_selector(*e.kids[1])) {
        TypeList right;
        collect_types(ctx, *e.kids[1], right);
      }
      // A shifted value is a plain number: what is combined with it after
      // the shift is typed as a (hex) integer, not as the field's type.
      if ((e.binop == BinOp::Lshift || e.binop == BinOp::Rshift) && left.size() == 1)
        left[0].first = find_datatype("xinteger");
      out.insert(out.end(), left.begin(), left.end());
      if (!left.empty()) { e.dtype = left[0].first ? left[0].first->name : ""; e.bits = left[0].second; }
      return;
    }
    case ExprKind::Map: {
      TypeList key;
      collect_types(ctx, *e.kids[0], key);
      out.emplace_back(nullptr, 0);  // the data type is the context's
      return;
    }
    default:
      out.emplace_back(nullptr, 0);
      return;
  }
}

bool eval_typed(EvalContext& ctx, Expr& e, const TypeList& types);

bool eval_one(EvalContext& ctx, Expr& e, const Datatype* dt, unsigned bits) {
  return eval_constant(ctx, e, dt, bits);
}

bool eval_typed(EvalContext& ctx, Expr& e, const TypeList& types) {
  if (types.size() <= 1) {
    auto [dt, bits] = types.empty() ? std::pair<const Datatype*, unsigned>{nullptr, 0} : types[0];
    return eval_one(ctx, e, dt, bits);
  }
  switch (e.kind) {
    case ExprKind::Concat: {
      if (e.kids.size() != types.size()) {
        ctx.diags.error(e.loc, fmt::format("datatype mismatch, expected concatenation of {} values, got {}",
                                           types.size(), e.kids.size()));
        return false;
      }
      bool ok = true;
      for (size_t i = 0; i < e.kids.size(); ++i) ok &= eval_one(ctx, *e.kids[i], types[i].first, types[i].second);
      return ok;
    }
    case ExprKind::Set:
    case ExprKind::List: {
      bool ok = true;
      for (auto& k : e.kids) ok &= eval_typed(ctx, *k, types);
      return ok;
    }
    case ExprKind::SetElem:
      return eval_typed(ctx, *e.kids[0], types);
    case ExprKind::Mapping:
      return eval_typed(ctx, *e.kids[0], types);
    case ExprKind::SetRef:
    case ExprKind::Wildcard:
      return true;
    default:
      ctx.diags.error(e.loc, "datatype mismatch, expected concatenation");
      return false;
  }
}

bool eval_stmt_rhs(EvalContext& ctx, Expr& e, const Datatype* dt, unsigned bits) {
  if (e.kind == ExprKind::Selector || e.kind == ExprKind::Binop || e.kind == ExprKind::Concat) {
    bool constant = e.kind != ExprKind::Selector;
    if (e.kind == ExprKind::Binop && !has_selector(e)) return eval_constant(ctx, e, dt, bits);
    if (e.kind == ExprKind::Concat) {
      for (auto& k : e.kids) constant &= k->kind != ExprKind::Selector;
      if (constant) return eval_constant(ctx, e, dt, bits);
    }
    TypeList t;
    size_t before = ctx.diags.all().size();
    collect_types(ctx, e, t);
    return ctx.diags.all().size() == before;
  }
  if (e.kind == ExprKind::Map) {
    TypeList key;
    size_t before = ctx.diags.all().size();
    collect_types(ctx, *e.kids[0], key);
    Expr& m = *e.kids[1];
    if (m.kind == ExprKind::Set) {
      for (auto& el : m.kids) {
        if (el->kind == ExprKind::Mapping) {
          eval_typed(ctx, *el->kids[0], key);
          eval_one(ctx, *el->kids[1], dt, bits);
        } else {
          ctx.diags.error(el->loc, "map element needs a value (key : value)");
        }
      }
    }
    return ctx.diags.all().size() == before;
  }
  return eval_constant(ctx, e, dt, bits);
}

}  // namespace

bool eval_constant(EvalContext& ctx, Expr& e, const Datatype* dt, unsigned bits) {
  switch (e.kind) {
    case ExprKind::Symbol:
    case ExprKind::Number:
    case ExprKind::String: {
      if (!dt) return true;
      ParseResult r = parse_value(*dt, e.text, bits);
      if (!r.value) {
        ctx.diags.error(e.loc, r.error.empty() ? fmt::format("Could not parse {}", dt->desc) : r.error);
        return false;
      }
      e.kind = ExprKind::Value;
      e.dtype = dt->name;
      e.bytes = r.value->be;
      e.bits = r.value->bits;
      return true;
    }
    case ExprKind::Value:
      return true;
    case ExprKind::Range:
    {
      // Both sides are checked so that each reports its own error.
      bool lhs_ok = eval_constant(ctx, *e.kids[0], dt, bits);
      bool rhs_ok = eval_constant(ctx, *e.kids[1], dt, bits);
      return lhs_ok && rhs_ok;
    }
    case ExprKind::Prefix: {
      bool ok = eval_constant(ctx, *e.kids[0], dt, bits);
      Expr& len = *e.kids[1];
      if (len.kind != ExprKind::Number) {
        // a mask such as "tcp flags syn / syn,ack" is typed like the value
        return ok & eval_constant(ctx, len, dt, bits);
      }
      errno = 0;
      uint64_t n = std::strtoull(len.text.c_str(), nullptr, 0);
      if (errno == ERANGE) n = UINT64_MAX;  // reported as invalid just below
      unsigned width = bits ? bits : (dt ? dt->bits : 0);
      if (width && n > width) {
        ctx.diags.error(e.loc, fmt::format("Prefix length {} is invalid for type of {} bits width", n, width));
        return false;
      }
      e.number = n;
      return ok;
    }
    case ExprKind::Set:
    case ExprKind::List: {
      bool ok = true;
      for (auto& k : e.kids) ok &= eval_constant(ctx, *k, dt, bits);
      return ok;
    }
    case ExprKind::SetElem:
      return eval_constant(ctx, *e.kids[0], dt, bits);
    case ExprKind::Mapping:
      return eval_constant(ctx, *e.kids[0], dt, bits);
    case ExprKind::Binop:
    {
      // Both sides are checked so that each reports its own error.
      bool lhs_ok = eval_constant(ctx, *e.kids[0], dt, bits);
      bool rhs_ok = eval_constant(ctx, *e.kids[1], dt, bits);
      return lhs_ok && rhs_ok;
    }
    case ExprKind::Unary:
      return eval_constant(ctx, *e.kids[0], dt, bits);
    case ExprKind::Concat: {
      bool ok = true;
      for (auto& k : e.kids) ok &= eval_constant(ctx, *k, nullptr, 0);
      return ok;
    }
    case ExprKind::SetRef: {
      if (ctx.table) {
        for (auto& s : ctx.table->sets)
          if (s.name == e.text) return true;
        ctx.diags.error(e.loc, fmt::format("Set '{}' does not exist", e.text));
        return false;
      }
      return true;
    }
    case ExprKind::Selector:
      ctx.diags.error(e.loc, "syntax error, a constant value is expected here");
      return false;
    default:
      return true;
  }
}

const Datatype* lookup_type(EvalContext& ctx, const std::string& name, const SourceLoc& loc) {
  const Datatype* dt = find_datatype(name);
  if (!dt) ctx.diags.error(loc, fmt::format("unknown datatype {}", name));
  return dt;
}

namespace {

bool eval_match(EvalContext& ctx, Expr& rel) {
  // `fib daddr oif exists` is nft's older spelling of `fib daddr check exists`.
  Expr& lhs = *rel.kids[0];
  const Expr& rhs = *rel.kids[1];
  if (lhs.kind == ExprKind::Selector && lhs.selector == SelectorKind::Fib && !lhs.path.empty() &&
      lhs.path.back() == "oif" && rhs.kind == ExprKind::Symbol && (rhs.text == "exists" || rhs.text == "missing"))
    lhs.path.back() = "check";
  TypeList types;
  size_t before = ctx.diags.all().size();
  collect_types(ctx, *rel.kids[0], types);
  if (ctx.diags.all().size() != before) return false;
  if (!eval_typed(ctx, *rel.kids[1], types)) return false;
  fold_flag_list(*rel.kids[1]);
  flatten_nested_sets(*rel.kids[1]);
  merge_set_intervals(*rel.kids[1]);
  fold_xor_relational(rel);
  fold_flag_relational(rel);
  fold_full_mask(rel);
  widen_raw_payload(rel);
  complete_raw_payload(ctx, rel.kids[0], rel.kids[1].get());
  return true;
}

const Datatype* nat_addr_type(EvalContext& ctx, const Stmt& s, unsigned& bits) {
  std::string fam = s.opts.count("family") ? s.opts.at("family") : ctx.family;
  if (fam == "ip6") { bits = 128; return find_datatype("ipv6_addr"); }
  if (fam == "ip") { bits = 32; return find_datatype("ipv4_addr"); }
  bits = 0;
  return nullptr;
}

bool eval_stmt(EvalContext& ctx, Stmt& s) {
  size_t before = ctx.diags.all().size();
  switch (s.kind) {
    case StmtKind::Match:
      if (!s.exprs.empty()) eval_match(ctx, *s.exprs[0]);
      break;
    case StmtKind::Verdict:
      if (!s.exprs.empty() && s.exprs[0]->kind == ExprKind::Map) {
        Expr& m = *s.exprs[0];
        TypeList key;
        collect_types(ctx, *m.kids[0], key);
        if (ctx.diags.all().size() == before && m.kids[1]->kind == ExprKind::Set)
          for (auto& el : m.kids[1]->kids) {
            if (el->kind != ExprKind::Mapping) {
              ctx.diags.error(el->loc, "verdict map element needs a verdict (key : verdict)");
              continue;
            }
            eval_typed(ctx, *el->kids[0], key);
          }
      }
      break;
    case StmtKind::Assign: {
      Expr& lhs = *s.exprs[0];
      if (lhs.kind == ExprKind::Selector && lhs.selector == SelectorKind::Ct &&
          (lhs.path.back() == "helper" || lhs.path.back() == "timeout" || lhs.path.back() == "expectation") &&
          lhs.path.size() == 1) {
        s.kind = StmtKind::ObjRef;
        s.name = "ct " + lhs.path.back();
        s.exprs = {s.exprs[1]};
        break;
      }
      if (lhs.kind != ExprKind::Selector) {
        ctx.diags.error(lhs.loc, "syntax error, the left side of 'set' must be a selector");
        break;
      }
      unsigned bits = 0;
      const Datatype* dt = selector_type(ctx, lhs, bits);
      ctx.stmt_bits = bits;
      bool ok = ctx.diags.all().size() == before && eval_stmt_rhs(ctx, *s.exprs[1], dt, bits);
      ctx.stmt_bits = 0;
      if (ok) {
        fold_constant_binop(*s.exprs[1]);
        fold_flag_list(*s.exprs[1]);
        complete_raw_payload(ctx, s.exprs[0], s.exprs[1]->kind == ExprKind::Value ? s.exprs[1].get() : nullptr);
      }
      break;
    }
    case StmtKind::Nat:
    case StmtKind::Tproxy: {
      if (s.exprs.empty()) break;
      // tproxy in an ip or ip6 table lists without the (redundant) family.
      if (s.kind == StmtKind::Tproxy && (ctx.family == "ip" || ctx.family == "ip6") && s.opts.count("family") &&
          s.opts["family"] == ctx.family)
        s.opts.erase("family");
      // In inet, nat to an address takes its family from the network
      // protocol the rule matched (`ip saddr 10.1.1.1 snat to ...` lists `snat ip to`).
      Expr& t = *s.exprs[0];
      bool has_addr = !(t.kind == ExprKind::Mapping && t.text == "port" && !t.kids[0]);
      if (s.kind == StmtKind::Nat && ctx.family == "inet" && !s.opts.count("family") && has_addr &&
          (ctx.nh == "ip" || ctx.nh == "ip6"))
        s.opts["family"] = ctx.nh;
      unsigned bits = 0;
      const Datatype* addr = nat_addr_type(ctx, s, bits);
      if (t.kind == ExprKind::Mapping && t.text == "port") {
        if (t.kids[0]) eval_stmt_rhs(ctx, *t.kids[0], addr, bits);
        eval_stmt_rhs(ctx, *t.kids[1], find_datatype("inet_service"), 16);
        if (s.kind == StmtKind::Nat && t.kids[0] && addr) range_to_prefix(t.kids[0]);
      } else {
        eval_stmt_rhs(ctx, t, addr, bits);
        if (s.kind == StmtKind::Nat && addr) range_to_prefix(s.exprs[0]);
      }
      break;
    }
    case StmtKind::Dup:
    case StmtKind::Fwd: {
      unsigned bits = 0;
      const Datatype* addr = nat_addr_type(ctx, s, bits);
      if (!s.exprs.empty()) eval_stmt_rhs(ctx, *s.exprs[0], s.exprs.size() == 1 && !addr ? find_datatype("ifname") : addr,
                                          s.exprs.size() == 1 && !addr ? 128 : bits);
      if (s.exprs.size() > 1) eval_stmt_rhs(ctx, *s.exprs[1], find_datatype("ifname"), 128);
      break;
    }
    case StmtKind::SetStmt:
    case StmtKind::MapStmt: {
      TypeList key;
      for (size_t i = 1; i < s.exprs.size(); ++i) {
        Expr& e = *s.exprs[i];
        if (e.kind == ExprKind::Selector || e.kind == ExprKind::Concat || e.kind == ExprKind::Binop)
          collect_types(ctx, e, key);
      }
      eval_constant(ctx, *s.exprs[0], nullptr, 0);  // @set must exist
      // a constant map value takes the map's data type (JSON gives 2 for 0x00000002)
      if (s.kind == StmtKind::MapStmt && s.exprs.size() > 2 && ctx.table &&
          (s.exprs[2]->kind == ExprKind::Number || s.exprs[2]->kind == ExprKind::Symbol)) {
        for (const auto& set : ctx.table->sets) {
          if (set.name != s.exprs[0]->text) continue;
          const Datatype* dt = nullptr;
          unsigned bits = 0;
          if (set.data_types.size() == 1 && (dt = find_datatype(set.data_types[0]))) bits = dt->bits;
          else if (set.data_typeof.size() == 1 && (dt = find_datatype(set.data_typeof[0]->dtype)))
            bits = set.data_typeof[0]->bits;
          if (dt && dt->name != std::string("verdict")) eval_constant(ctx, *s.exprs[2], dt, bits);
        }
      }
      break;
    }
    case StmtKind::Queue:
      if (!s.exprs.empty() && s.exprs[0]->kind != ExprKind::Selector && s.exprs[0]->kind != ExprKind::Map)
        eval_constant(ctx, *s.exprs[0], find_datatype("integer"), 16);
      else if (!s.exprs.empty())
        eval_stmt_rhs(ctx, *s.exprs[0], find_datatype("integer"), 16);
      break;
    case StmtKind::OptionReset: {
      unsigned bits = 0;
      selector_type(ctx, *s.exprs.at(0), bits);  // an unknown option is an error
      break;
    }
    default:
      break;
  }
  return ctx.diags.all().size() == before;
}

}  // namespace

bool eval_rule(EvalContext& ctx, Rule& rule) {
  bool ok = true;
  reset_protocols(ctx);
  for (size_t i = 0; i < rule.stmts.size(); ++i) {
    ctx.stmt_index = i;
    ok &= eval_stmt(ctx, *rule.stmts[i]);
    note_protocols(ctx, *rule.stmts[i]);
  }
  // dependencies a later selector states (meta nfproto before ct original saddr)
  std::sort(ctx.implied.begin(), ctx.implied.end());
  ctx.implied.erase(std::unique(ctx.implied.begin(), ctx.implied.end()), ctx.implied.end());
  for (auto it = ctx.implied.rbegin(); ok && it != ctx.implied.rend(); ++it)
    rule.stmts.erase(rule.stmts.begin() + static_cast<long>(*it));
  if (ok)
    for (size_t i : add_icmp_type_dependencies(rule)) ok &= eval_stmt(ctx, *rule.stmts[i]);
  if (ok) order_merged_payloads(rule, ctx.family);
  if (ok) elide_redundant_dependencies(rule, ctx.family);
  if (ok)
    for (auto& s : rule.stmts) normalize_reject(*s, ctx.family);
  if (ok) resolve_reject_family(rule, ctx.family);
  if (ok && add_reject_l4_dependency(rule, ctx.family)) ok &= eval_stmt(ctx, *rule.stmts[0]);
  return ok;
}

bool eval_elements(EvalContext& ctx, const SetDecl& set, std::vector<ExprPtr>& elems) {
  TypeList key, data;
  for (auto& t : set.key_types) {
    const Datatype* dt = lookup_type(ctx, t, set.loc);
    key.emplace_back(dt, dt ? dt->bits : 0);
  }
  for (auto& e : set.key_typeof) collect_types(ctx, *e, key);
  for (auto& t : set.data_types) {
    const Datatype* dt = (t == "verdict" || t == "counter" || t == "quota" || t == "limit" || t == "ct helper" ||
                              t == "ct timeout" || t == "ct expectation" || t == "synproxy" || t == "secmark" ||
                              t == "queue" || t == "tunnel")
                             ? nullptr
                             : lookup_type(ctx, t, set.loc);
    data.emplace_back(dt, dt ? dt->bits : 0);
  }
  for (auto& e : set.data_typeof) collect_types(ctx, *e, data);
  size_t before = ctx.diags.all().size();
  for (auto& el : elems) {
    if (el->kind == ExprKind::Mapping) {
      eval_typed(ctx, *el->kids[0], key);
      if (el->kids[1]->kind != ExprKind::Verdict) eval_typed(ctx, *el->kids[1], data);
    } else {
      eval_typed(ctx, *el, key);
    }
  }
  return ctx.diags.all().size() == before;
}

bool eval_set(EvalContext& ctx, SetDecl& set) { return eval_elements(ctx, set, set.elements); }

}  // namespace nfx
