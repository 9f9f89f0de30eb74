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

ExprPtr E(ExprKind k, ParseCtx& ctx, std::string text = {}) { return make_expr(k, ctx.loc, std::move(text)); }

StmtPtr S(StmtKind k, ParseCtx& ctx, std::string name = {}) {
  auto s = std::make_shared<Stmt>();
  s->kind = k;
  s->loc = ctx.loc;
  s->name = std::move(name);
  return s;
}

ExprPtr sel(SelectorKind sk, ParseCtx& ctx, std::string fam, std::vector<std::string> path) {
  auto e = E(ExprKind::Selector, ctx, std::move(fam));
  e->selector = sk;
  e->path = std::move(path);
  return e;
}

// The single "key": value pair of a statement/expression object.
bool single_key(const json& j, std::string& key, const json*& val, ParseCtx& ctx, const char* what) {
  if (!j.is_object() || j.size() != 1) {
    ctx.error(fmt::format("Malformed {} (expected an object with one property): '{}'", what, json_brief(j)));
    return false;
  }
  key = j.begin().key();
  val = &j.begin().value();
  return true;
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool get_string(const json& obj, const char* key, std::string& out, ParseCtx& ctx, bool required = true) {
  const json* v = member(obj, key);
  if (!v) {
    if (required) ctx.error(fmt::format("Missing property '{}' in '{}'", key, json_brief(obj)));
    return false;
  }
  if (!v->is_string()) {
    ctx.error(fmt::format("Property '{}' must be a string, got '{}'", key, json_brief(*v)));
    return false;
  }
  out = v->get<std::string>();
  return true;
}

bool get_int(const json& obj, const char* key, int64_t& out, ParseCtx& ctx, bool required = true) {
  const json* v = member(obj, key);
  if (!v) {
    if (required) ctx.error(fmt::format("Missing property '{}' in '{}'", key, json_brief(obj)));
    return false;
  }
  if (!v->is_number_integer()) {
    ctx.error(fmt::format("Property '{}' must be an integer, got '{}'", key, json_brief(*v)));
    return false;
  }
  out = v->get<int64_t>();
  return true;
}

std::string int_text(const json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_string()) return v.get<std::string>();
  return json_brief(v);
}

// Number text for an option, or an error.
bool opt_int(const json& obj, const char* key, std::string& out, ParseCtx& ctx, bool required = true) {
  int64_t v = 0;
  if (!get_int(obj, key, v, ctx, required)) return false;
  out = std::to_string(v);
  return true;
}

bool is_true(const json* v) { return v && v->is_boolean() && v->get<bool>(); }

std::vector<std::string> string_list(const json* v, ParseCtx& ctx, const char* what) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (auto& x : *v) {
      if (!x.is_string()) {
        ctx.error(fmt::format("Invalid {} '{}': expected strings", what, json_brief(x)));
        return {};
      }
      out.push_back(x.get<std::string>());
    }
  } else {
    ctx.error(fmt::format("Invalid {} '{}'", what, json_brief(*v)));
  }
  return out;
}

ExprPtr parse_verdict(const std::string& key, const json& val, ParseCtx& ctx) {
  auto v = E(ExprKind::Verdict, ctx, key);
  if (key == "jump" || key == "goto") {
    std::string target;
    if (!get_string(val, "target", target, ctx)) return nullptr;
    v->kids = {E(ExprKind::Symbol, ctx, target)};
  } else if (!val.is_null() && !(val.is_object() && val.empty())) {
    ctx.error(fmt::format("Verdict '{}' takes no value, got '{}'", key, json_brief(val)));
    return nullptr;
  }
  return v;
}

bool is_verdict_key(const std::string& k) {
  return k == "accept" || k == "drop" || k == "continue" || k == "return" || k == "jump" || k == "goto";
}

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

}  // namespace

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

// Left-hand side and statement arguments: selectors, binops, concats, maps...
ExprPtr parse_expr(const json& j, ParseCtx& ctx) {
  DepthGuard guard(ctx);
  if (guard.too_deep()) return nullptr;
  if (!ctx.ok) return nullptr;
  if (!j.is_object()) return parse_value_expr(j, ctx);
  if (ExprPtr s = parse_selector(j, ctx)) return s;
  if (!ctx.ok) return nullptr;
  std::string key;
  const json* val = nullptr;
  if (!single_key(j, key, val, ctx, "expression")) return nullptr;
  bool handled = false;
  ExprPtr e = parse_common(key, *val, ctx, true, handled);
  if (handled) return e;
  ctx.error(fmt::format("Unknown expression type '{}'", key));
  return nullptr;
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
    case json::value_t::object: {
      if (ExprPtr s = parse_selector(j, ctx)) return s;
      if (!ctx.ok) return nullptr;
      std::string key;
      const json* val = nullptr;
      if (!single_key(j, key, val, ctx, "expression")) return nullptr;
      bool handled = false;
      ExprPtr e = parse_common(key, *val, ctx, false, handled);
      if (handled) return e;
      ctx.error(fmt::format("Unknown expression type '{}'", key));
      return nullptr;
    }
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

namespace {

RelOp rel_op_of(const std::string& op, bool& ok) {
  ok = true;
  if (op == "==") return RelOp::Eq;
  if (op == "in") return RelOp::Implicit;
  if (op == "!=") return RelOp::Ne;
  if (op == "<") return RelOp::Lt;
  if (op == ">") return RelOp::Gt;
  if (op == "<=") return RelOp::Le;
  if (op == ">=") return RelOp::Ge;
  if (op == "!") return RelOp::Neg;
  ok = false;
  return RelOp::Implicit;
}

bool is_objref_type(const std::string& k) {
  return k == "counter" || k == "quota" || k == "limit" || k == "synproxy" || k == "ct helper" ||
         k == "ct timeout" || k == "ct expectation" || k == "secmark" || k == "tunnel";
}

// An object reference: a name, or a map lookup of names.
StmtPtr objref(const std::string& type, const json& v, ParseCtx& ctx) {
  auto s = S(StmtKind::ObjRef, ctx, type);
  if (v.is_string()) {
    s->exprs = {E(ExprKind::String, ctx, v.get<std::string>())};
    return s;
  }
  const json* m = member(v, "map");
  if (!m || v.size() != 1) {
    ctx.error(fmt::format("Invalid {} reference '{}'", type, json_brief(v)));
    return nullptr;
  }
  const json* k = member(*m, "key");
  const json* d = member(*m, "data");
  if (!k || !d) {
    ctx.error(fmt::format("Map expression needs 'key' and 'data': '{}'", json_brief(*m)));
    return nullptr;
  }
  ExprPtr kk = parse_expr(*k, ctx);
  ExprPtr dd;
  if (d->is_object() && d->contains("set")) {
    dd = E(ExprKind::Set, ctx);
    const json& arr = (*d)["set"];
    if (!arr.is_array()) {
      ctx.error("Anonymous set needs an array");
      return nullptr;
    }
    for (auto& x : arr) {
      ExprPtr el = parse_elem(x, ctx, true);
      if (!el) return nullptr;
      dd->kids.push_back(el);
    }
  } else {
    dd = parse_value_expr(*d, ctx);
  }
  if (!kk || !dd) return nullptr;
  auto map = E(ExprKind::Map, ctx);
  map->kids = {kk, dd};
  s->exprs = {map};
  return s;
}

// snat/dnat/masquerade/redirect and tproxy targets
bool nat_target(const json& v, Stmt& s, ParseCtx& ctx) {
  const json* addr = member(v, "addr");
  const json* port = member(v, "port");
  ExprPtr a = addr ? parse_expr(*addr, ctx) : nullptr;
  if (addr && !a) return false;
  if (port) {
    ExprPtr p = parse_expr(*port, ctx);
    if (!p) return false;
    auto m = E(ExprKind::Mapping, ctx, "port");
    m->kids = {a, p};
    s.exprs = {m};
  } else if (a) {
    s.exprs = {a};
  }
  std::string fam;
  if (get_string(v, "family", fam, ctx, false)) {
    if (fam != "ip" && fam != "ip6") {
      ctx.error(fmt::format("Invalid family '{}'", fam));
      return false;
    }
    s.opts["family"] = fam;
  }
  return ctx.ok;
}

StmtPtr set_stmt(const std::string& key, const json& v, ParseCtx& ctx) {
  bool is_map = key == "map";
  if (!only_keys(v, {"op", "elem", "data", "set", "map", "stmt"}, is_map ? "map statement" : "set statement", ctx))
    return nullptr;
  std::string op, name;
  if (!get_string(v, "op", op, ctx) || !get_string(v, is_map ? "map" : "set", name, ctx)) return nullptr;
  if (op != "add" && op != "update" && op != "delete") {
    ctx.error(fmt::format("Unknown set statement op '{}'", op));
    return nullptr;
  }
  auto s = S(is_map ? StmtKind::MapStmt : StmtKind::SetStmt, ctx, op);
  if (!name.empty() && name[0] == '@') name = name.substr(1);
  const json* el = member(v, "elem");
  if (!el) {
    ctx.error(fmt::format("Missing property 'elem' in '{}'", json_brief(v)));
    return nullptr;
  }
  ExprPtr key_expr;
  if (el->is_object() && el->size() == 1 && el->contains("elem")) {
    const json& inner = (*el)["elem"];
    const json* val = member(inner, "val");
    if (!val) {
      ctx.error("Set element needs 'val'");
      return nullptr;
    }
    key_expr = parse_expr(*val, ctx);
    for (auto& [k, x] : inner.items()) {
      if (k == "val") continue;
      if (k == "timeout" && x.is_number_integer()) {
        auto t = S(StmtKind::Counter, ctx, "timeout");
        t->opts["timeout"] = time_text(x.get<uint64_t>() * 1000);
        s->inner.push_back(t);
      } else {
        StmtPtr st = parse_stmt(json{{k, x}}, ctx);
        if (!st) return nullptr;
        s->inner.push_back(st);
      }
    }
  } else {
    key_expr = parse_expr(*el, ctx);
  }
  if (!key_expr) return nullptr;
  s->exprs = {E(ExprKind::SetRef, ctx, name), key_expr};
  if (is_map) {
    const json* d = member(v, "data");
    if (!d) {
      ctx.error(fmt::format("Missing property 'data' in '{}'", json_brief(v)));
      return nullptr;
    }
    ExprPtr data = parse_expr(*d, ctx);
    if (!data) return nullptr;
    s->exprs.push_back(data);
  }
  if (const json* st = member(v, "stmt")) {
    if (!st->is_array()) {
      ctx.error("'stmt' must be an array");
      return nullptr;
    }
    for (auto& x : *st) {
      StmtPtr i = parse_stmt(x, ctx);
      if (!i) return nullptr;
      s->inner.push_back(i);
    }
  }
  return s;
}

}  // namespace

StmtPtr parse_stmt(const json& j, ParseCtx& ctx) {
  DepthGuard guard(ctx);
  if (guard.too_deep()) return nullptr;
  if (!ctx.ok) return nullptr;
  std::string key;
  const json* pv = nullptr;
  if (!single_key(j, key, pv, ctx, "statement")) return nullptr;
  const json& v = *pv;
  if (key == "match") {
    if (!only_keys(v, {"op", "left", "right"}, "match", ctx)) return nullptr;
    std::string op = "==";
    if (member(v, "op") && !get_string(v, "op", op, ctx)) return nullptr;
    const json* l = member(v, "left");
    const json* r = member(v, "right");
    if (!l || !r) {
      ctx.error(fmt::format("Match needs 'left' and 'right': '{}'", json_brief(v)));
      return nullptr;
    }
    bool ok = false;
    RelOp rel = rel_op_of(op, ok);
    if (!ok) {
      ctx.error(fmt::format("Unknown relational op '{}'", op));
      return nullptr;
    }
    ExprPtr le = parse_expr(*l, ctx), re = parse_value_expr(*r, ctx);
    if (!le || !re) return nullptr;
    // nft lists "fib ... check exists" as result "oif" compared with a boolean
    if (le->kind == ExprKind::Selector && le->selector == SelectorKind::Fib && r->is_boolean() &&
        !le->path.empty() && le->path.back() == "oif")
      le->path.back() = "check";
    auto rel_e = E(ExprKind::Relational, ctx);
    rel_e->kids = {le, re};
    rel_e->rel = rel;
    auto s = S(StmtKind::Match, ctx);
    s->exprs = {rel_e};
    return s;
  }
  if (is_verdict_key(key)) {
    ExprPtr e = parse_verdict(key, v, ctx);
    if (!e) return nullptr;
    auto s = S(StmtKind::Verdict, ctx);
    s->exprs = {e};
    return s;
  }
  if (key == "vmap") {
    bool handled = false;
    ExprPtr m = parse_common("map", v, ctx, true, handled);
    if (!m) return nullptr;
    auto s = S(StmtKind::Verdict, ctx, "vmap");
    s->exprs = {m};
    return s;
  }
  if (key == "counter") {
    if (v.is_null()) return S(StmtKind::Counter, ctx);
    if (v.is_object() && !v.contains("map")) {
      auto s = S(StmtKind::Counter, ctx);
      std::string n;
      if (opt_int(v, "packets", n, ctx, false)) s->opts["packets"] = n;
      if (opt_int(v, "bytes", n, ctx, false)) s->opts["bytes"] = n;
      return ctx.ok ? s : nullptr;
    }
    return objref(key, v, ctx);
  }
  if (key == "quota") {
    if (v.is_object() && !v.contains("map")) {
      auto s = S(StmtKind::Quota, ctx);
      std::string n;
      if (!opt_int(v, "val", n, ctx)) return nullptr;
      s->opts["bytes"] = n;
      s->opts["unit"] = v.value("val_unit", std::string("bytes"));
      if (is_true(member(v, "inv"))) s->opts["over"] = "1";
      if (opt_int(v, "used", n, ctx, false) && n != "0") {
        s->opts["used"] = n;
        s->opts["used_unit"] = v.value("used_unit", std::string("bytes"));
      }
      return ctx.ok ? s : nullptr;
    }
    return objref(key, v, ctx);
  }
  if (key == "limit") {
    if (v.is_object() && !v.contains("map")) {
      auto s = S(StmtKind::Limit, ctx);
      std::string n;
      if (!opt_int(v, "rate", n, ctx)) return nullptr;
      s->opts["rate"] = n;
      std::string per = v.value("per", std::string("second"));
      std::string rate_unit;
      get_string(v, "rate_unit", rate_unit, ctx, false);
      bool bytes = !rate_unit.empty() && rate_unit != "packets";
      s->opts["unit"] = bytes ? rate_unit + "/" + per : per;
      if (is_true(member(v, "inv"))) s->opts["over"] = "1";
      if (opt_int(v, "burst", n, ctx, false)) {
        s->opts["burst"] = n;
        std::string bu;
        if (!get_string(v, "burst_unit", bu, ctx, false)) bu = bytes ? "bytes" : "packets";
        s->opts["burst_unit"] = bu;
      }
      return ctx.ok ? s : nullptr;
    }
    return objref(key, v, ctx);
  }
  if (key == "synproxy") {
    if (v.is_null()) return S(StmtKind::Synproxy, ctx);
    if (v.is_object() && !v.contains("map")) {
      auto s = S(StmtKind::Synproxy, ctx);
      std::string n;
      if (opt_int(v, "mss", n, ctx, false)) s->opts["mss"] = n;
      if (opt_int(v, "wscale", n, ctx, false)) s->opts["wscale"] = n;
      s->flags = string_list(member(v, "flags"), ctx, "synproxy flags");
      return ctx.ok ? s : nullptr;
    }
    return objref(key, v, ctx);
  }
  if (key == "secmark" && v.is_string()) {
    auto s = S(StmtKind::Assign, ctx);
    s->exprs = {sel(SelectorKind::Meta, ctx, "meta", {"secmark"}), E(ExprKind::String, ctx, v.get<std::string>())};
    return s;
  }
  if (key == "ct helper" || key == "ct timeout" || key == "ct expectation" || key == "secmark")
    return objref(key, v, ctx);
  if (key == "ct count") {
    auto s = S(StmtKind::Match, ctx, "ct count");
    std::string n;
    if (!opt_int(v, "val", n, ctx)) return nullptr;
    s->opts["count"] = n;
    if (is_true(member(v, "inv"))) s->opts["over"] = "1";
    return s;
  }
  if (key == "mangle") {
    if (!only_keys(v, {"key", "value"}, "mangle", ctx)) return nullptr;
    const json* k = member(v, "key");
    const json* val = member(v, "value");
    if (!k || !val) {
      ctx.error(fmt::format("Mangle needs 'key' and 'value': '{}'", json_brief(v)));
      return nullptr;
    }
    ExprPtr lhs = parse_expr(*k, ctx), rhs = parse_expr(*val, ctx);
    if (!lhs || !rhs) return nullptr;
    if (lhs->kind != ExprKind::Selector) {
      ctx.error(fmt::format("Invalid mangle key '{}'", json_brief(*k)));
      return nullptr;
    }
    auto s = S(StmtKind::Assign, ctx);
    s->exprs = {lhs, rhs};
    return s;
  }
  if (key == "log") {
    auto s = S(StmtKind::Log, ctx);
    if (v.is_null()) return s;
    if (!v.is_object()) {
      ctx.error(fmt::format("Invalid log statement '{}'", json_brief(v)));
      return nullptr;
    }
    for (auto& [k, x] : v.items()) {
      if (k == "prefix" || k == "level") {
        if (!x.is_string()) {
          ctx.error(fmt::format("Log {} must be a string", k));
          return nullptr;
        }
        s->opts[k] = x.get<std::string>();
      } else if (k == "group" || k == "snaplen" || k == "queue-threshold") {
        if (!x.is_number_integer()) {
          ctx.error(fmt::format("Log {} must be an integer", k));
          return nullptr;
        }
        s->opts[k] = int_text(x);
      } else if (k == "flags") {
        // the text form joins the tcp flags: "tcp sequence,options"
        std::string tcp;
        for (auto& f : string_list(&x, ctx, "log flags")) {
          if (f.rfind("tcp ", 0) == 0) {
            tcp += (tcp.empty() ? "tcp " : ",") + f.substr(4);
            continue;
          }
          if (!tcp.empty()) {
            s->flags.push_back(tcp);
            tcp.clear();
          }
          s->flags.push_back(f);
        }
        if (!tcp.empty()) s->flags.push_back(tcp);
      } else {
        ctx.error(fmt::format("Unknown log property '{}'", k));
        return nullptr;
      }
    }
    return ctx.ok ? s : nullptr;
  }
  if (key == "reject") {
    auto s = S(StmtKind::Reject, ctx);
    if (v.is_null() || (v.is_object() && v.empty())) return s;
    std::string type;
    get_string(v, "type", type, ctx, false);
    if (!ctx.ok) return nullptr;
    if (type == "tcp reset") {
      s->name = "tcp";
      s->opts["type"] = "reset";
      return s;
    }
    const json* ex = member(v, "expr");
    std::string code = ex ? int_text(*ex) : "port-unreachable";
    if (type.empty()) type = "icmpx";
    if (type != "icmp" && type != "icmpv6" && type != "icmpx") {
      ctx.error(fmt::format("Unknown reject type '{}'", type));
      return nullptr;
    }
    // nft lists the default code as a bare "reject"
    if (code == "port-unreachable") return s;
    s->name = type;
    s->opts["type"] = code;
    return s;
  }
  if (key == "snat" || key == "dnat" || key == "masquerade" || key == "redirect") {
    if (!only_keys(v, {"family", "addr", "port", "flags", "type_flags"}, "nat statement", ctx)) return nullptr;
    auto s = S(StmtKind::Nat, ctx, key);
    if (v.is_null()) return s;
    if (!v.is_object()) {
      ctx.error(fmt::format("Invalid {} statement '{}'", key, json_brief(v)));
      return nullptr;
    }
    if (!nat_target(v, *s, ctx)) return nullptr;
    s->flags = string_list(member(v, "flags"), ctx, "nat flags");
    for (auto& tf : string_list(member(v, "type_flags"), ctx, "nat type flags")) {
      if (tf == "prefix") s->opts["prefix"] = "1";
      else if (tf == "interval") s->opts["interval"] = "1";
    }
    if (s->opts.count("prefix"))  // implied by the prefix mapping; not written in nft's text
      std::erase(s->flags, std::string("netmap"));
    return ctx.ok ? s : nullptr;
  }
  if (key == "tproxy") {
    auto s = S(StmtKind::Tproxy, ctx);
    if (!v.is_object() || !nat_target(v, *s, ctx)) {
      if (ctx.ok) ctx.error(fmt::format("Invalid tproxy statement '{}'", json_brief(v)));
      return nullptr;
    }
    if (s->exprs.empty()) {
      ctx.error("tproxy needs 'addr' or 'port'");
      return nullptr;
    }
    return s;
  }
  if (key == "queue") {
    if (!only_keys(v, {"num", "flags"}, "queue", ctx)) return nullptr;
    auto s = S(StmtKind::Queue, ctx);
    if (v.is_null()) return s;
    if (const json* n = member(v, "num")) {
      ExprPtr e = parse_expr(*n, ctx);
      if (!e) return nullptr;
      s->exprs = {e};
    }
    s->flags = string_list(member(v, "flags"), ctx, "queue flags");
    return ctx.ok ? s : nullptr;
  }
  if (key == "dup") {
    auto s = S(StmtKind::Dup, ctx);
    const json* a = member(v, "addr");
    if (!a) {
      ctx.error("dup needs 'addr'");
      return nullptr;
    }
    ExprPtr addr = parse_expr(*a, ctx);
    if (!addr) return nullptr;
    s->exprs = {addr};
    if (const json* d = member(v, "dev")) {
      ExprPtr dev = parse_expr(*d, ctx);
      if (!dev) return nullptr;
      s->exprs.push_back(dev);
    }
    return s;
  }
  if (key == "fwd") {
    auto s = S(StmtKind::Fwd, ctx);
    const json* d = member(v, "dev");
    if (!d) {
      ctx.error("fwd needs 'dev'");
      return nullptr;
    }
    ExprPtr dev = parse_expr(*d, ctx);
    if (!dev) return nullptr;
    if (const json* a = member(v, "addr")) {
      ExprPtr addr = parse_expr(*a, ctx);
      if (!addr) return nullptr;
      std::string fam;
      if (!get_string(v, "family", fam, ctx)) return nullptr;
      s->opts["family"] = fam;
      s->exprs = {addr, dev};
    } else {
      s->exprs = {dev};
    }
    return s;
  }
  if (key == "notrack") return S(StmtKind::Notrack, ctx);
  if (key == "last") {
    auto s = S(StmtKind::Last, ctx);
    if (const json* u = member(v, "used"); u && u->is_number_integer())
      s->opts["used"] = time_text(u->get<uint64_t>());
    return s;
  }
  if (key == "set" || key == "map") return set_stmt(key, v, ctx);
  if (key == "flow") {
    std::string ft;
    if (!get_string(v, "flowtable", ft, ctx)) return nullptr;
    auto s = S(StmtKind::FlowOffload, ctx);
    s->opts["table"] = !ft.empty() && ft[0] == '@' ? ft.substr(1) : ft;
    return s;
  }
  if (key == "meter") {
    // a meter is listed as a dynamic set updated from the rule
    std::string name;
    if (!get_string(v, "name", name, ctx)) return nullptr;
    const json* k = member(v, "key");
    const json* st = member(v, "stmt");
    if (!k || !st) {
      ctx.error("meter needs 'key' and 'stmt'");
      return nullptr;
    }
    auto s = S(StmtKind::SetStmt, ctx, "update");
    ExprPtr ke = parse_expr(*k, ctx);
    StmtPtr in = parse_stmt(*st, ctx);
    if (!ke || !in) return nullptr;
    s->exprs = {E(ExprKind::SetRef, ctx, name), ke};
    s->inner = {in};
    return s;
  }
  if (key == "xt") {
    std::string name;
    if (!get_string(v, "name", name, ctx)) return nullptr;
    auto s = S(StmtKind::Xt, ctx, name);
    std::string type;
    if (get_string(v, "type", type, ctx, false)) s->opts["type"] = type;
    return s;
  }
  if (is_objref_type(key)) return objref(key, v, ctx);
  ctx.error(fmt::format("Unknown statement object '{}'", key));
  return nullptr;
}

}  // namespace nfx::jsonio
