// libnftables JSON expressions and statements into the grammar's AST, built
// as the text parser (grammar/parser.y.in) builds them, so evaluation and
// printing treat both inputs alike.
#include <fmt/format.h>

#include <cctype>
#include <set>

#include "json_internal.h"

namespace nfx::jsonio {

void ParseCtx::error(const std::string& msg) {
  // the first error explains; the rest follow from it
  if (ok) diags.error(loc, where.empty() ? msg : where + ": " + msg);
  ok = false;
}

std::string json_brief(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

bool only_keys(const json& obj, std::initializer_list<const char*> allowed, const char* what, ParseCtx& ctx) {
  if (!obj.is_object()) return true;
  for (auto& [k, v] : obj.items()) {
    bool known = false;
    for (const char* a : allowed) known |= k == a;
    if (!known) {
      ctx.error(fmt::format("Unknown property '{}' in {}", k, what));
      return false;
    }
  }
  return true;
}

namespace {

ExprPtr binop_chain(BinOp op, const json& arr, ParseCtx& ctx, bool lhs) {
  if (!arr.is_array() || arr.size() < 2) {
    ctx.error(fmt::format("Binary operation needs an array of at least two operands, got '{}'", json_brief(arr)));
    return nullptr;
  }
  ExprPtr acc = lhs ? parse_expr(arr[0], ctx) : parse_value_expr(arr[0], ctx);
  for (size_t i = 1; i < arr.size() && acc; ++i) {
    ExprPtr r = parse_value_expr(arr[i], ctx);
    if (!r) return nullptr;
    auto b = E(ExprKind::Binop, ctx);
    b->binop = op;
    b->kids = {acc, r};
    acc = b;
  }
  return acc;
}

bool looks_like_name(const std::string& s) {
  if (s.empty() || s[0] == '@' || s == "*") return false;
  if (std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return s.find(':') == std::string::npos;
}

std::optional<BinOp> binop_of(const std::string& k) {
  if (k == "&") return BinOp::And;
  if (k == "|") return BinOp::Or;
  if (k == "^") return BinOp::Xor;
  if (k == "<<") return BinOp::Lshift;
  if (k == ">>") return BinOp::Rshift;
  return std::nullopt;
}

}  // namespace

// Structural expressions shared by both sides: concat, set, map, prefix,
// range, elem, binops, verdicts. Returns nullptr with ok still set when `key`
// is not one of them.
ExprPtr parse_common(const std::string& key, const json& val, ParseCtx& ctx, bool lhs, bool& handled) {
  handled = true;
  if (auto op = binop_of(key)) return binop_chain(*op, val, ctx, lhs);
  if (key == "concat") {
    if (!val.is_array() || val.empty()) {
      ctx.error(fmt::format("Concatenation needs an array, got '{}'", json_brief(val)));
      return nullptr;
    }
    auto c = E(ExprKind::Concat, ctx);
    for (auto& x : val) {
      if (lhs && x.is_string() && looks_like_name(x.get<std::string>())) {
        // a constant name inside a selector concatenation is written quoted
        c->kids.push_back(E(ExprKind::String, ctx, x.get<std::string>()));
        continue;
      }
      ExprPtr k = lhs ? parse_expr(x, ctx) : parse_value_expr(x, ctx);
      if (!k) return nullptr;
      c->kids.push_back(k);
    }
    return c;
  }
  if (key == "set") {
    auto s = E(ExprKind::Set, ctx);
    if (val.is_array()) {
      for (auto& x : val) {
        ExprPtr k = parse_elem(x, ctx, false);
        if (!k) return nullptr;
        s->kids.push_back(k);
      }
    } else {
      ExprPtr k = parse_elem(val, ctx, false);
      if (!k) return nullptr;
      s->kids.push_back(k);
    }
    return s;
  }
  if (key == "map") {
    const json* k = member(val, "key");
    const json* d = member(val, "data");
    if (!k || !d) {
      ctx.error(fmt::format("Map expression needs 'key' and 'data': '{}'", json_brief(val)));
      return nullptr;
    }
    ExprPtr kk = parse_expr(*k, ctx);
    ExprPtr dd = parse_value_expr(*d, ctx);
    if (!kk || !dd) return nullptr;
    auto m = E(ExprKind::Map, ctx);
    m->kids = {kk, dd};
    return m;
  }
  if (key == "prefix") {
    const json* a = member(val, "addr");
    int64_t len = 0;
    if (!a) {
      ctx.error(fmt::format("Prefix needs 'addr': '{}'", json_brief(val)));
      return nullptr;
    }
    if (!get_int(val, "len", len, ctx)) return nullptr;
    if (len < 0) {
      ctx.error(fmt::format("Prefix length {} is invalid", len));
      return nullptr;
    }
    ExprPtr addr = parse_value_expr(*a, ctx);
    if (!addr) return nullptr;
    auto p = E(ExprKind::Prefix, ctx);
    p->kids = {addr, E(ExprKind::Number, ctx, std::to_string(len))};
    p->number = static_cast<uint64_t>(len);
    return p;
  }
  if (key == "range") {
    if (!val.is_array() || val.size() != 2) {
      ctx.error(fmt::format("Range needs an array of two values, got '{}'", json_brief(val)));
      return nullptr;
    }
    ExprPtr lo = parse_value_expr(val[0], ctx), hi = parse_value_expr(val[1], ctx);
    if (!lo || !hi) return nullptr;
    auto r = E(ExprKind::Range, ctx);
    r->kids = {lo, hi};
    return r;
  }
  if (key == "elem") return parse_elem(json{{"elem", val}}, ctx, false);
  if (is_verdict_key(key)) return parse_verdict(key, val, ctx);
  handled = false;
  return nullptr;
}

ExprPtr parse_selector(const json& j, ParseCtx& ctx) {
  if (!j.is_object() || j.size() != 1) return nullptr;
  const std::string& key = j.begin().key();
  const json& v = j.begin().value();
  std::string s1, s2;
  int64_t n1 = 0, n2 = 0, n3 = 0;
  if (key == "payload") {
    if (!only_keys(v, {"protocol", "field", "tunnel", "base", "offset", "len"}, "payload", ctx)) return nullptr;
    if (member(v, "base")) {
      if (!get_string(v, "base", s1, ctx) || !get_int(v, "offset", n1, ctx) || !get_int(v, "len", n2, ctx))
        return nullptr;
      static const std::set<std::string> bases = {"ll", "nh", "th", "ih"};
      if (!bases.count(s1)) {
        ctx.error(fmt::format("Invalid payload base '{}'", s1));
        return nullptr;
      }
      auto e = sel(SelectorKind::RawPayload, ctx, "@", {s1});
      e->args = {n1, n2};
      return e;
    }
    if (!get_string(v, "protocol", s1, ctx) || !get_string(v, "field", s2, ctx)) return nullptr;
    std::string tunnel;
    // the tunnel's own header ("geneve vni") names the tunnel twice
    if (get_string(v, "tunnel", tunnel, ctx, false) && tunnel != s1)
      return sel(SelectorKind::Inner, ctx, tunnel, {s1, s2});
    return sel(SelectorKind::Payload, ctx, s1, {s2});
  }
  if (key == "exthdr") {
    if (!only_keys(v, {"name", "field", "offset"}, "exthdr", ctx)) return nullptr;
    if (!get_string(v, "name", s1, ctx)) return nullptr;
    if (get_string(v, "field", s2, ctx, false)) return sel(SelectorKind::Exthdr, ctx, s1, {s2});
    return sel(SelectorKind::Exthdr, ctx, "exthdr", {s1});
  }
  if (key == "tcp option" || key == "ip option" || key == "sctp chunk") {
    SelectorKind k = key == "tcp option" ? SelectorKind::TcpOption
                     : key == "ip option" ? SelectorKind::IpOption : SelectorKind::SctpChunk;
    std::string fam = key == "tcp option" ? "tcp" : key == "ip option" ? "ip" : "sctp";
    if (k == SelectorKind::TcpOption && member(v, "base")) {
      if (!get_int(v, "base", n1, ctx) || !get_int(v, "offset", n2, ctx) || !get_int(v, "len", n3, ctx))
        return nullptr;
      // kind only (offset 0, length 8) is a presence test: "tcp option 255 exists"
      if (n2 == 0 && n3 == 8) return sel(k, ctx, fam, {std::to_string(n1)});
      auto e = sel(k, ctx, fam, {"@"});
      e->args = {n1, n2, n3};
      return e;
    }
    if (!get_string(v, "name", s1, ctx)) return nullptr;
    if (get_string(v, "field", s2, ctx, false)) return sel(k, ctx, fam, {s1, s2});
    return sel(k, ctx, fam, {s1});
  }
  if (key == "meta") {
    if (!only_keys(v, {"key"}, "meta", ctx)) return nullptr;
    if (!get_string(v, "key", s1, ctx)) return nullptr;
    return sel(SelectorKind::Meta, ctx, "meta", {s1});
  }
  if (key == "ct") {
    if (!only_keys(v, {"key", "dir", "family"}, "ct", ctx)) return nullptr;
    if (!get_string(v, "key", s1, ctx)) return nullptr;
    std::vector<std::string> path;
    if (get_string(v, "dir", s2, ctx, false)) path.push_back(s2);
    std::string fam;
    if (get_string(v, "family", fam, ctx, false)) path.push_back(fam);
    // nft's key token carries the family: "ip saddr"
    auto sp = s1.find(' ');
    if (sp != std::string::npos && fam.empty()) {
      path.push_back(s1.substr(0, sp));
      s1 = s1.substr(sp + 1);
    }
    path.push_back(s1);
    return sel(SelectorKind::Ct, ctx, "ct", path);
  }
  if (key == "rt") {
    if (!only_keys(v, {"key", "family"}, "rt", ctx)) return nullptr;
    if (!get_string(v, "key", s1, ctx)) return nullptr;
    if (get_string(v, "family", s2, ctx, false)) return sel(SelectorKind::Rt, ctx, "rt", {s2, s1});
    return sel(SelectorKind::Rt, ctx, "rt", {s1});
  }
  if (key == "fib") {
    if (!only_keys(v, {"result", "flags"}, "fib", ctx)) return nullptr;
    if (!get_string(v, "result", s1, ctx)) return nullptr;
    std::vector<std::string> path = string_list(member(v, "flags"), ctx, "fib flags");
    path.push_back(s1);
    return sel(SelectorKind::Fib, ctx, "fib", path);
  }
  if (key == "socket") {
    if (!get_string(v, "key", s1, ctx)) return nullptr;
    auto e = sel(SelectorKind::Socket, ctx, "socket", {s1});
    if (get_int(v, "level", n1, ctx, false)) e->args = {n1};
    return e;
  }
  if (key == "osf") {
    if (!get_string(v, "key", s1, ctx)) return nullptr;
    if (get_string(v, "ttl", s2, ctx, false)) return sel(SelectorKind::Osf, ctx, "osf", {s1, s2});
    return sel(SelectorKind::Osf, ctx, "osf", {s1});
  }
  if (key == "ipsec") {
    if (!only_keys(v, {"key", "dir", "family", "spnum"}, "ipsec", ctx)) return nullptr;
    if (!get_string(v, "key", s1, ctx) || !get_string(v, "dir", s2, ctx)) return nullptr;
    std::vector<std::string> path{s2};
    std::string fam;
    if (get_string(v, "family", fam, ctx, false)) path.push_back(fam);
    path.push_back(s1);
    auto e = sel(SelectorKind::Ipsec, ctx, "ipsec", path);
    if (get_int(v, "spnum", n1, ctx, false) && n1) e->args = {n1};
    return e;
  }
  if (key == "numgen") {
    if (!only_keys(v, {"mode", "mod", "offset"}, "numgen", ctx)) return nullptr;
    if (!get_string(v, "mode", s1, ctx) || !get_int(v, "mod", n1, ctx)) return nullptr;
    get_int(v, "offset", n2, ctx, false);
    auto e = sel(SelectorKind::Numgen, ctx, "numgen", {s1});
    e->args = {n1, n2};
    return e;
  }
  if (key == "jhash" || key == "symhash") {
    if (!only_keys(v, {"mod", "seed", "offset", "expr"}, "hash", ctx)) return nullptr;
    if (!get_int(v, "mod", n1, ctx)) return nullptr;
    bool has_seed = get_int(v, "seed", n2, ctx, false);
    get_int(v, "offset", n3, ctx, false);
    auto e = sel(SelectorKind::Hash, ctx, key, {});
    e->args = {n1, n2, n3, has_seed ? 1 : 0};
    if (key == "jhash") {
      const json* x = member(v, "expr");
      if (!x) {
        ctx.error("jhash needs 'expr'");
        return nullptr;
      }
      ExprPtr in = parse_expr(*x, ctx);
      if (!in) return nullptr;
      e->kids = {in};
    }
    return e;
  }
  if (key == "tunnel") {
    if (!get_string(v, "key", s1, ctx)) return nullptr;
    return sel(SelectorKind::Tunnel, ctx, "tunnel", {s1});
  }
  return nullptr;
}

// A `{"kind": ...}` expression: a selector or one of the common forms.
static ExprPtr parse_object_expr(const json& j, ParseCtx& ctx, bool lhs_context) {
  if (ExprPtr s = parse_selector(j, ctx)) return s;
  if (!ctx.ok) return nullptr;
  std::string key;
  const json* val = nullptr;
  if (!single_key(j, key, val, ctx, "expression")) return nullptr;
  bool handled = false;
  ExprPtr e = parse_common(key, *val, ctx, lhs_context, handled);
  if (handled) return e;
  ctx.error(fmt::format("Unknown expression type '{}'", key));
  return nullptr;
}

// Left-hand side and statement arguments: selectors, binops, concats, maps...
ExprPtr parse_expr(const json& j, ParseCtx& ctx) {
  DepthGuard guard(ctx);
  if (guard.too_deep()) return nullptr;
  if (!ctx.ok) return nullptr;
  if (!j.is_object()) return parse_value_expr(j, ctx);
  return parse_object_expr(j, ctx, true);
}

ExprPtr parse_value_expr(const json& j, ParseCtx& ctx) {
  DepthGuard guard(ctx);
  if (guard.too_deep()) return nullptr;
  if (!ctx.ok) return nullptr;
  switch (j.type()) {
    case json::value_t::string: {
      std::string s = j.get<std::string>();
      if (!s.empty() && s[0] == '@') return E(ExprKind::SetRef, ctx, s.substr(1));
      if (s == "*") return E(ExprKind::Wildcard, ctx, "*");
      return E(ExprKind::Symbol, ctx, s);
    }
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      auto e = E(ExprKind::Number, ctx, int_text(j));
      if (j.is_number_unsigned() || j.get<int64_t>() >= 0) e->number = j.get<uint64_t>();
      return e;
    }
    case json::value_t::boolean:
      return E(ExprKind::Symbol, ctx, j.get<bool>() ? "exists" : "missing");
    case json::value_t::array: {
      // a flag list: ["established", "related"]
      if (j.empty()) {
        ctx.error("Empty array is not a value");
        return nullptr;
      }
      if (j.size() == 1) return parse_value_expr(j[0], ctx);
      auto l = E(ExprKind::List, ctx);
      for (auto& x : j) {
        ExprPtr k = parse_value_expr(x, ctx);
        if (!k) return nullptr;
        l->kids.push_back(k);
      }
      return l;
    }
    case json::value_t::object:
      return parse_object_expr(j, ctx, false);
    default:
      ctx.error(fmt::format("Unexpected JSON value '{}' for an expression", json_brief(j)));
      return nullptr;
  }
}

namespace {

// Element statements as the text grammar keeps them ("counter packets 1 bytes 2").
std::optional<std::string> elem_stmt_text(const std::string& key, const json& v, ParseCtx& ctx) {
  StmtPtr s = parse_stmt(json{{key, v}}, ctx);
  if (!s) return std::nullopt;
  auto text = elem_stmt_to_text(*s);
  if (!text) ctx.error(fmt::format("Statement '{}' is not valid on a set element", key));
  return text;
}

}  // namespace

ExprPtr parse_elem(const json& j, ParseCtx& ctx, bool is_objmap) {
  DepthGuard guard(ctx);
  if (guard.too_deep()) return nullptr;
  if (!ctx.ok) return nullptr;
  if (j.is_array() && j.size() == 2) {
    ExprPtr k = parse_elem(j[0], ctx, false);
    ExprPtr v;
    if (is_objmap && j[1].is_string())
      v = E(ExprKind::String, ctx, j[1].get<std::string>());
    else
      v = parse_value_expr(j[1], ctx);
    if (!k || !v) return nullptr;
    auto m = E(ExprKind::Mapping, ctx);
    m->kids = {k, v};
    return m;
  }
  if (j.is_object() && j.size() == 1 && j.contains("elem")) {
    const json& el = j["elem"];
    if (!only_keys(el, {"val", "timeout", "expires", "comment", "counter", "quota", "limit", "last", "ct count"},
                   "set element", ctx))
      return nullptr;
    const json* val = member(el, "val");
    if (!val) {
      ctx.error(fmt::format("Set element needs 'val': '{}'", json_brief(el)));
      return nullptr;
    }
    ExprPtr key = parse_value_expr(*val, ctx);
    if (!key) return nullptr;
    auto e = E(ExprKind::SetElem, ctx);
    e->kids = {key};
    for (auto& [k, v] : el.items()) {
      if (k == "val") continue;
      if (k == "timeout" || k == "expires") {
        if (!v.is_number_integer()) {
          ctx.error(fmt::format("Element '{}' must be an integer (seconds)", k));
          return nullptr;
        }
        std::string t = time_text(v.get<uint64_t>() * 1000);
        (k == "timeout" ? e->elem.timeout : e->elem.expires) = t;
      } else if (k == "comment") {
        if (!v.is_string()) {
          ctx.error("Element comment must be a string");
          return nullptr;
        }
        e->elem.comment = v.get<std::string>();
      } else {
        auto s = elem_stmt_text(k, v, ctx);
        if (!s) return nullptr;
        e->elem.stmts.push_back(*s);
      }
    }
    if (!e->elem.timeout && !e->elem.expires && !e->elem.comment && e->elem.stmts.empty()) return key;
    return e;
  }
  return parse_value_expr(j, ctx);
}

}  // namespace nfx::jsonio
