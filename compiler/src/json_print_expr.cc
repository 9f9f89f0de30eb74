// Expressions and typed values as libnftables JSON (json.c's *_expr_json and
// datatype_json), mirroring the text printer's decisions in print_expr.cc.
#include <fmt/format.h>

#include <cctype>

#include "json_internal.h"
#include "print.h"
#include "selectors.h"
#include "types.h"

namespace nfx::jsonio {

namespace {

bool is_bitmask(const Datatype* dt) {
  for (; dt; dt = dt->base)
    if (dt->is_bitmask) return true;
  return false;
}

bool has_symbols(const Datatype* dt) {
  for (; dt; dt = dt->base)
    if (!dt->symbols.empty()) return true;
  return false;
}

std::string strip_quotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

json integer_json(const Value& v) {
  if (v.fits_u64()) return v.to_u64();
  std::string hex;
  bool started = false;
  for (uint8_t b : v.be) {
    if (!started && b == 0) continue;
    hex += started ? fmt::format("{:02x}", b) : fmt::format("{:x}", b);
    started = true;
  }
  return "0x" + (hex.empty() ? std::string("0") : hex);
}

// One value of one datatype (a single flag for bitmasks), as datatype_json:
// the type's own JSON form, else its symbol table, else its printed text,
// walking down to the base type.
json one_value_json(const Datatype& dt, const Value& v, const PrintOptions& o) {
  for (const Datatype* d = &dt; d; d = d->base) {
    std::string_view n = d->name;
    if (n == "integer" || n == "xinteger" || n == "mark" || n == "uid" || n == "gid" || n == "inet_service" ||
        n == "icmp_code" || n == "icmpv6_code" || n == "icmpx_code" || n == "bitmask")
      return integer_json(v);
    if (n == "ct_label") {
      // a label's name, else its bit number
      std::string text = strip_quotes(print_value(*d, v, o));
      if (!text.empty() && !std::isdigit(static_cast<unsigned char>(text[0]))) return text;
      for (size_t i = 0; i < v.be.size(); ++i)
        for (unsigned b = 0; b < 8; ++b)
          if (v.be[v.be.size() - 1 - i] & (1u << b)) return i * 8 + b;
      return 0;
    }
    if (n == "boolean") return !v.is_zero();
    if (d == find_datatype("time")) return v.to_u64() / 1000;  // relative time, in seconds
    if (n == "string") return strip_quotes(print_value(*d, v, o));
    if (n == "verdict") return print_value(*d, v, o);
    if (n == "inet_proto" || n == "ct_label" || n == "realm" || n == "devgroup") {
      std::string text = strip_quotes(print_value(*d, v, o));
      if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) return integer_json(v);
      return text;
    }
    if (!d->symbols.empty()) {
      if (v.fits_u64() && !o.numeric) {
        uint64_t val = v.to_u64();
        for (const auto& s : d->symbols)
          if (s.value == val) return std::string(s.name);
      }
      // no symbol: the base type's JSON (an integer)
      return integer_json(v);
    }
    if (d->print) return strip_quotes(print_value(*d, v, o));
  }
  return integer_json(v);
}

}  // namespace

json value_json(const Expr& e, PrintCtx& ctx) {
  // nft names both the relative time and meta time's date "time"
  const Datatype* dt = e.dtype == "time" && e.bits == 64 ? find_datatype("date") : find_datatype(e.dtype);
  if (!dt) return e.text;
  Value v = Value::from_bytes(e.bytes, e.bits);
  if (ctx.integer || (ctx.range && e.dtype == "inet_proto")) return integer_json(v);
  if (is_bitmask(dt) && dt->name != std::string("ct_label") && has_symbols(dt)) {
    std::vector<Value> flags = split_bitmask(v);
    if (flags.size() > 1) {
      json arr = json::array();
      for (auto& f : flags) arr.push_back(one_value_json(*dt, f, ctx.opts));
      return json{{"|", arr}};
    }
  }
  return one_value_json(*dt, v, ctx.opts);
}

json type_names_json(const std::vector<std::string>& names) {
  if (names.size() == 1) return names[0];
  json arr = json::array();
  for (auto& n : names) arr.push_back(n);
  return arr;
}

namespace {

json selector_json(const Expr& e, PrintCtx& ctx) {
  const auto& p = e.path;
  switch (e.selector) {
    case SelectorKind::Payload:
      if (e.text == "vxlan" || e.text == "geneve")  // headers nft reaches through the inner expression
        return {{"payload", {{"tunnel", e.text}, {"protocol", e.text}, {"field", p.at(0)}}}};
      return {{"payload", {{"protocol", e.text}, {"field", p.at(0)}}}};
    case SelectorKind::Inner:
      return {{"payload", {{"tunnel", e.text}, {"protocol", p.at(0)}, {"field", p.at(1)}}}};
    case SelectorKind::RawPayload:
      return {{"payload", {{"base", p.at(0)}, {"offset", e.args.at(0)}, {"len", e.args.at(1)}}}};
    case SelectorKind::Exthdr: {
      json root;
      if (e.text == "exthdr") {
        root["name"] = p.at(0);
      } else {
        root["name"] = e.text;
        root["field"] = p.at(0);
      }
      return {{"exthdr", root}};
    }
    case SelectorKind::TcpOption: {
      json root;
      if (p.at(0) == "@") {
        root = {{"base", e.args.at(0)}, {"offset", e.args.at(1)}, {"len", e.args.at(2)}};
      } else {
        const OptionDesc* d = find_option(OptionFamily::TcpOption, p.at(0));
        bool numeric = !p.at(0).empty() && std::isdigit(static_cast<unsigned char>(p.at(0)[0]));
        if (numeric && d && std::isdigit(static_cast<unsigned char>(d->name[0]))) d = nullptr;
        if (numeric && !d) {  // an unnamed kind: nft shows the raw option
          int kind = std::atoi(p.at(0).c_str());
          return {{"tcp option", {{"base", kind}, {"offset", 0}, {"len", 8}}}};
        }
        root["name"] = d ? std::string(d->name) : p.at(0);
        if (p.size() > 1) root["field"] = p[1];
      }
      return {{"tcp option", root}};
    }
    case SelectorKind::IpOption:
    case SelectorKind::SctpChunk: {
      json root;
      root["name"] = p.at(0);
      if (p.size() > 1) root["field"] = p[1];
      return {{e.selector == SelectorKind::IpOption ? "ip option" : "sctp chunk", root}};
    }
    case SelectorKind::Meta:
      return {{"meta", {{"key", p.at(0) == "secpath" ? "ipsec" : p.at(0)}}}};  // nft's token for secpath
    case SelectorKind::Ct: {
      json root;
      // nft's template token: "ip saddr" for ct original ip saddr
      root["key"] = p.size() == 3 ? p[1] + " " + p[2] : p.back();
      if (p.size() >= 2) root["dir"] = p[0];
      return {{"ct", root}};
    }
    case SelectorKind::Rt: {
      json root;
      root["key"] = p.back();
      if (p.size() == 2) root["family"] = p[0];
      return {{"rt", root}};
    }
    case SelectorKind::Fib: {
      json root;
      root["result"] = p.back() == "check" ? "oif" : p.back();  // nft keeps the old name in JSON
      json flags = json::array();
      for (size_t i = 0; i + 1 < p.size(); ++i) flags.push_back(p[i]);
      if (!flags.empty()) root["flags"] = flags;
      return {{"fib", root}};
    }
    case SelectorKind::Socket: {
      json root;
      root["key"] = p.at(0);
      if (!e.args.empty()) root["level"] = e.args[0];
      return {{"socket", root}};
    }
    case SelectorKind::Osf: {
      json root;
      root["key"] = p.at(0);
      if (p.size() > 1) root["ttl"] = p[1];
      return {{"osf", root}};
    }
    case SelectorKind::Ipsec: {
      json root;
      root["key"] = p.back();
      if (p.size() >= 3) root["family"] = p[p.size() - 2];
      root["dir"] = p.at(0);
      root["spnum"] = e.args.empty() ? 0 : e.args[0];
      return {{"ipsec", root}};
    }
    case SelectorKind::Numgen:
      return {{"numgen", {{"mode", p.at(0)}, {"mod", e.args.at(0)}, {"offset", e.args.at(1)}}}};
    case SelectorKind::Hash: {
      json root;
      root["mod"] = e.args.at(0);
      if (e.args.size() > 3 && e.args[3]) root["seed"] = e.args.at(1);
      if (e.args.size() > 2 && e.args[2]) root["offset"] = e.args.at(2);
      if (!e.kids.empty()) root["expr"] = expr_json(*e.kids[0], ctx);
      return {{e.text, root}};
    }
    case SelectorKind::Tunnel:
      return {{"tunnel", {{"key", p.at(0)}}}};
  }
  return e.text;
}


bool has_shift(const Expr& e) {
  if (e.kind != ExprKind::Binop) return false;
  if (e.binop == BinOp::Lshift || e.binop == BinOp::Rshift) return true;
  return has_shift(*e.kids[0]);
}

// nft flattens a chain of the same operator into one array.
void binop_operands(const Expr& e, BinOp op, PrintCtx& ctx, json& out) {
  if (e.kind == ExprKind::Binop && e.binop == op) {
    binop_operands(*e.kids[0], op, ctx, out);
    binop_operands(*e.kids[1], op, ctx, out);
    return;
  }
  json j = expr_json(e, ctx);
  // a multi-flag value inside "a | b" joins the flat list
  if (op == BinOp::Or && j.is_object() && j.size() == 1 && j.contains("|")) {
    for (auto& x : j["|"]) out.push_back(x);
    return;
  }
  out.push_back(std::move(j));
}

const char* rel_op_name(RelOp op) {
  switch (op) {
    case RelOp::Implicit:
    case RelOp::Eq: return "==";
    case RelOp::Ne: return "!=";
    case RelOp::Lt: return "<";
    case RelOp::Gt: return ">";
    case RelOp::Le: return "<=";
    case RelOp::Ge: return ">=";
    case RelOp::Neg: return "!";
  }
  return "==";
}

json verdict_json(const Expr& e, PrintCtx& ctx) {
  if (!e.kids.empty()) {
    const Expr& t = *e.kids[0];
    json target = t.kind == ExprKind::Value ? json(t.text.empty() ? print_expr(t, ctx.opts) : t.text) : json(t.text);
    if (t.kind == ExprKind::Value && t.text.empty()) target = print_expr(t, ctx.opts);
    return {{e.text, {{"target", target}}}};
  }
  return {{e.text, nullptr}};
}

// Element options wrap the value: {"elem": {"val": v, "timeout": s, ...}}.
json elem_options_json(const Expr& e, json val, PrintCtx& ctx);

}  // namespace

json expr_json(const Expr& e, PrintCtx& ctx) {
  switch (e.kind) {
    case ExprKind::Value:
      return value_json(e, ctx);
    case ExprKind::Number: {
      try {
        size_t pos = 0;
        unsigned long long v = std::stoull(e.text, &pos, 0);
        if (pos == e.text.size()) return v;
      } catch (...) {
      }
      return e.text;
    }
    case ExprKind::Symbol:
    case ExprKind::String:
    case ExprKind::Variable:
      return e.text;
    case ExprKind::Selector:
      return selector_json(e, ctx);
    case ExprKind::Unary:
      return expr_json(*e.kids[0], ctx);
    case ExprKind::Binop: {
      json arr = json::array();
      binop_operands(*e.kids[0], e.binop, ctx, arr);
      // a shift makes the result a plain integer: so are the constants after it
      bool saved = ctx.integer;
      if (e.binop == BinOp::Lshift || e.binop == BinOp::Rshift || has_shift(*e.kids[0])) ctx.integer = true;
      binop_operands(*e.kids[1], e.binop, ctx, arr);
      ctx.integer = saved;
      return {{binop_text(e.binop), arr}};
    }
    case ExprKind::Relational: {
      const Expr& l = *e.kids[0];
      const Expr& r = *e.kids[1];
      const Expr* left = &l;
      const Expr* right = &r;
      json jleft;
      // "tcp flags fin,syn / fin,syn,ack" reads as the list fin | (syn / fin) | syn | ack
      const Expr* mask_at = nullptr;
      if (r.kind == ExprKind::List)
        for (auto& k : r.kids)
          if (k->kind == ExprKind::Prefix && k->kids.size() == 2 && k->kids[1]->kind != ExprKind::Number)
            mask_at = k.get();
      if (mask_at) {
        json value = json::array(), mask = json::array();
        bool after = false;
        auto add = [&](json& to, json j) {
          if (j.is_object() && j.size() == 1 && j.contains("|"))
            for (auto& x : j["|"]) to.push_back(x);
          else if (j.is_array())
            for (auto& x : j) to.push_back(x);
          else
            to.push_back(std::move(j));
        };
        for (auto& k : r.kids) {
          if (k.get() == mask_at) {
            add(value, expr_json(*k->kids[0], ctx));
            add(mask, expr_json(*k->kids[1], ctx));
            after = true;
          } else {
            add(after ? mask : value, expr_json(*k, ctx));
          }
        }
        auto one_or_or = [](json a) { return a.size() == 1 ? a[0] : json{{"|", a}}; };
        json m;
        m["op"] = rel_op_name(e.rel);
        m["left"] = json{{"&", json::array({expr_json(l, ctx), one_or_or(mask)})}};
        m["right"] = one_or_or(value);
        return {{"match", m}};
      }
      // "tcp flags syn / syn,ack" is a masked compare
      if (r.kind == ExprKind::Prefix && r.kids.size() == 2 && r.kids[1]->kind != ExprKind::Number) {
        json arr = json::array();
        arr.push_back(expr_json(l, ctx));
        arr.push_back(expr_json(*r.kids[1], ctx));
        if (arr[1].is_array()) arr[1] = arr[1].size() == 1 ? arr[1][0] : json{{"|", arr[1]}};
        jleft = json{{"&", arr}};
        right = r.kids[0].get();
      } else {
        jleft = expr_json(*left, ctx);
      }
      std::string op = rel_op_name(e.rel);
      bool set_like = right->kind == ExprKind::Set || right->kind == ExprKind::SetRef;
      const Datatype* ldt = find_datatype(left->dtype);
      if (e.rel == RelOp::Implicit && !set_like && right->kind != ExprKind::Range && is_bitmask(ldt) &&
          has_symbols(ldt) && !jleft.contains("&"))
        op = "in";
      json jright = expr_json(*right, ctx);
      // a multi-flag value right of a flag compare is a list
      if (jright.is_object() && jright.size() == 1 && jright.contains("|") && op == "in") jright = jright["|"];
      json m;
      m["op"] = op;
      m["left"] = std::move(jleft);
      m["right"] = std::move(jright);
      return {{"match", m}};
    }
    case ExprKind::Range: {
      bool saved = ctx.range;
      ctx.range = true;
      json r = {{"range", json::array({expr_json(*e.kids[0], ctx), expr_json(*e.kids[1], ctx)})}};
      ctx.range = saved;
      return r;
    }
    case ExprKind::Prefix:
      if (e.kids[1]->kind != ExprKind::Number) {
        json arr = json::array({expr_json(*e.kids[0], ctx), expr_json(*e.kids[1], ctx)});
        return {{"&", arr}};
      }
      return {{"prefix", {{"addr", expr_json(*e.kids[0], ctx)}, {"len", e.number}}}};
    case ExprKind::Concat: {
      json arr = json::array();
      for (auto& k : e.kids) arr.push_back(expr_json(*k, ctx));
      return {{"concat", arr}};
    }
    case ExprKind::List: {
      json arr = json::array();
      for (auto& k : e.kids) {
        json j = expr_json(*k, ctx);
        if (j.is_object() && j.size() == 1 && j.contains("|"))
          for (auto& x : j["|"]) arr.push_back(x);
        else
          arr.push_back(std::move(j));
      }
      return arr;
    }
    case ExprKind::Set: {
      json arr = json::array();
      for (auto& k : e.kids) arr.push_back(elem_json(*k, ctx));
      return {{"set", arr}};
    }
    case ExprKind::SetRef:
      return "@" + e.text;
    case ExprKind::Map: {
      json m;
      m["key"] = expr_json(*e.kids[0], ctx);
      m["data"] = expr_json(*e.kids[1], ctx);
      return {{"map", m}};
    }
    case ExprKind::Mapping:
      return json::array({expr_json(*e.kids[0], ctx), expr_json(*e.kids[1], ctx)});
    case ExprKind::SetElem:
      return elem_options_json(e, expr_json(*e.kids[0], ctx), ctx);
    case ExprKind::Verdict:
      return verdict_json(e, ctx);
    case ExprKind::Wildcard:
      return "*";
  }
  return e.text;
}

namespace {

// "counter packets 1 bytes 2", "quota 10 mbytes used 1 kbytes", "last used 1s",
// "limit rate 10/second" as element statement JSON.
json elem_stmt_json(const std::string& text, PrintCtx& ctx) {
  StmtPtr s = elem_stmt_from_text(text);
  if (!s) return text;
  return stmt_json(*s, ctx);
}

json elem_options_json(const Expr& e, json val, PrintCtx& ctx) {
  const auto& eo = e.elem;
  if (!eo.timeout && !eo.expires && !eo.comment && eo.stmts.empty()) return val;
  json root;
  root["val"] = std::move(val);
  if (eo.timeout) {
    auto ms = time_ms(*eo.timeout);
    root["timeout"] = ms ? json(*ms / 1000) : json(*eo.timeout);
  }
  if (eo.expires) {
    auto ms = time_ms(*eo.expires);
    root["expires"] = ms ? json(*ms / 1000) : json(*eo.expires);
  }
  if (eo.comment) root["comment"] = *eo.comment;
  for (const auto& text : eo.stmts) {
    json s = elem_stmt_json(text, ctx);
    if (s.is_object())
      for (auto& [k, v] : s.items())
        if (!root.contains(k)) root[k] = v;
  }
  return {{"elem", root}};
}

}  // namespace

json elem_json(const Expr& e, PrintCtx& ctx) {
  if (e.kind == ExprKind::Mapping) {
    json key = elem_json(*e.kids[0], ctx);
    return json::array({std::move(key), expr_json(*e.kids[1], ctx)});
  }
  return expr_json(e, ctx);
}

}  // namespace nfx::jsonio
