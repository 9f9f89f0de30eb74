// libnftables JSON statements into the grammar's AST (Stmt), built as the
// text parser builds them.
#include <fmt/format.h>

#include "json_internal.h"

namespace nfx::jsonio {

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
