// Statements as libnftables JSON (json.c's *_stmt_json), mirroring the text
// printer's decisions in print_expr.cc.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "json_internal.h"
#include "print.h"
#include "types.h"

namespace nfx::jsonio {

namespace {

std::string opt(const Stmt& s, const char* key, const std::string& dflt = {}) {
  auto it = s.opts.find(key);
  return it == s.opts.end() ? dflt : it->second;
}

json number_or_text(const std::string& t) {
  try {
    size_t pos = 0;
    unsigned long long v = std::stoull(t, &pos, 0);
    if (pos == t.size()) return v;
  } catch (...) {
  }
  return t;
}

json flags_json(const std::vector<std::string>& flags) {
  json arr = json::array();
  for (auto& f : flags) arr.push_back(f);
  return arr;
}

json limit_json(const Stmt& s) {
  std::string unit = opt(s, "unit", "second");
  std::string rate_unit, per = unit;
  auto slash = unit.find('/');
  if (slash != std::string::npos) {
    rate_unit = unit.substr(0, slash);
    per = unit.substr(slash + 1);
  }
  bool bytes = !rate_unit.empty();
  json l;
  l["rate"] = number_or_text(opt(s, "rate", "0"));
  std::string burst_unit = opt(s, "burst_unit", bytes ? "bytes" : "packets");
  if (burst_unit == "packets") burst_unit.clear();
  l["burst"] = number_or_text(opt(s, "burst", bytes ? "0" : "5"));
  l["per"] = per;
  if (s.opts.count("over")) l["inv"] = true;
  if (bytes) {
    l["rate_unit"] = rate_unit;
    l["burst_unit"] = burst_unit.empty() ? "bytes" : burst_unit;
  }
  return {{"limit", l}};
}

json quota_json(const Stmt& s, PrintCtx& ctx) {
  json q;
  q["val"] = number_or_text(opt(s, "bytes", "0"));
  q["val_unit"] = opt(s, "unit", "bytes");
  if (s.opts.count("over")) q["inv"] = true;
  if (s.opts.count("used") && !ctx.opts.stateless && opt(s, "used") != "0") {
    q["used"] = number_or_text(opt(s, "used"));
    q["used_unit"] = opt(s, "used_unit", "bytes");
  }
  return {{"quota", q}};
}

json log_json(const Stmt& s) {
  json l = json::object();
  if (s.opts.count("prefix")) l["prefix"] = opt(s, "prefix");
  if (s.opts.count("group")) l["group"] = number_or_text(opt(s, "group"));
  if (s.opts.count("snaplen")) l["snaplen"] = number_or_text(opt(s, "snaplen"));
  if (s.opts.count("queue-threshold")) l["queue-threshold"] = number_or_text(opt(s, "queue-threshold"));
  if (s.opts.count("level") && opt(s, "level") != "warn") l["level"] = opt(s, "level");
  if (!s.flags.empty()) {
    // text flags: "tcp sequence,options", "ip options", "skuid", "ether", "all"
    std::set<std::string> have;
    std::string proto;
    for (const auto& f : s.flags) {
      size_t pos = 0;
      while (pos <= f.size()) {
        size_t comma = f.find(',', pos);
        if (comma == std::string::npos) comma = f.size();
        std::string w = f.substr(pos, comma - pos);
        pos = comma + 1;
        while (!w.empty() && w.front() == ' ') w.erase(0, 1);
        while (!w.empty() && w.back() == ' ') w.pop_back();
        if (w.empty()) continue;
        auto sp = w.find(' ');
        if (sp != std::string::npos) {
          proto = w.substr(0, sp);
          have.insert(w);
        } else if ((w == "sequence" || w == "options") && !proto.empty()) {
          have.insert(proto + " " + w);
        } else {
          have.insert(w);
        }
      }
    }
    static const char* order[] = {"tcp sequence", "tcp options", "ip options", "skuid", "ether"};
    bool all = have.count("all") > 0;
    if (!all) {
      all = true;
      for (const char* f : order) all &= have.count(f) > 0;
    }
    json arr = json::array();
    if (all) {
      arr.push_back("all");
    } else {
      for (const char* f : order)
        if (have.count(f)) arr.push_back(f);
    }
    l["flags"] = arr;
  }
  if (l.empty()) return {{"log", nullptr}};
  return {{"log", l}};
}

// The address family a bare `reject` in this rule resolves to.
std::string rule_l3(const Rule* rule, const std::string& family) {
  if (family == "ip" || family == "ip6") return family;
  if (!rule) return {};
  for (auto& st : rule->stmts) {
    if (st->kind != StmtKind::Match || st->exprs.empty()) continue;
    const Expr& rel = *st->exprs[0];
    if (rel.kind != ExprKind::Relational) continue;
    std::vector<const Expr*> stack{rel.kids[0].get()};
    while (!stack.empty()) {
      const Expr* e = stack.back();
      stack.pop_back();
      if (!e) continue;
      if (e->kind == ExprKind::Selector && e->selector == SelectorKind::Payload) {
        if (e->text == "ip" || e->text == "icmp") return "ip";
        if (e->text == "ip6" || e->text == "icmpv6") return "ip6";
      }
      if (e->kind == ExprKind::Selector && e->selector == SelectorKind::Meta &&
          (e->path.at(0) == "nfproto" || e->path.at(0) == "protocol")) {
        std::string v = print_expr(*rel.kids[1], {});
        if (v == "ipv4" || v == "ip") return "ip";
        if (v == "ipv6" || v == "ip6") return "ip6";
      }
      if (e->kind == ExprKind::Selector && e->selector == SelectorKind::Payload &&
          (e->text == "ether" || e->text == "vlan") && e->path.at(0) == "type") {
        std::string v = print_expr(*rel.kids[1], {});
        if (v == "ip") return "ip";
        if (v == "ip6") return "ip6";
      }
      for (auto& k : e->kids) stack.push_back(k.get());
    }
  }
  return {};
}

json reject_json(const Stmt& s, PrintCtx& ctx, const Rule* rule) {
  json r;
  if (s.name == "tcp") {
    r["type"] = "tcp reset";
    return {{"reject", r}};
  }
  std::string type = s.name;
  std::string code = opt(s, "type");
  if (type.empty()) {
    std::string l3 = rule_l3(rule, ctx.family);
    type = l3 == "ip" ? "icmp" : l3 == "ip6" ? "icmpv6" : "icmpx";
    code = "port-unreachable";
  }
  r["type"] = type;
  // codes given as numbers list by name
  json jcode = code;
  if (const Datatype* dt = find_datatype("reject_" + type + "_code")) {
    ParseResult pr = parse_value(*dt, code, dt->bits);
    jcode = pr.value ? json(print_value(*dt, *pr.value, ctx.opts)) : number_or_text(code);
  }
  r["expr"] = jcode;
  return {{"reject", r}};
}

json nat_json(const Stmt& s, PrintCtx& ctx) {
  json n = json::object();
  if (s.opts.count("family")) n["family"] = opt(s, "family");
  if (!s.exprs.empty()) {
    const Expr& t = *s.exprs[0];
    if (t.kind == ExprKind::Mapping && t.text == "port") {
      if (t.kids[0]) n["addr"] = expr_json(*t.kids[0], ctx);
      n["port"] = expr_json(*t.kids[1], ctx);
    } else {
      n["addr"] = expr_json(t, ctx);
    }
  }
  // nft's bit order; a prefix mapping is a netmap
  std::vector<std::string> flags;
  for (const char* f : {"random", "fully-random", "persistent", "netmap"})
    if (std::find(s.flags.begin(), s.flags.end(), f) != s.flags.end() ||
        (std::string_view(f) == "netmap" && s.opts.count("prefix")))
      flags.push_back(f);
  if (!flags.empty()) n["flags"] = flags_json(flags);
  if (s.opts.count("prefix")) n["type_flags"] = json::array({"prefix"});
  if (n.empty()) return {{s.name, nullptr}};
  return {{s.name, n}};
}

json set_stmt_json(const Stmt& s, PrintCtx& ctx) {
  json root;
  root["op"] = s.name;
  json elem = expr_json(*s.exprs.at(1), ctx);
  std::optional<std::string> timeout;
  json stmts = json::array();
  PrintOptions stateless = ctx.opts;
  stateless.stateless = true;
  PrintCtx sctx{stateless, ctx.family};
  for (auto& i : s.inner) {
    if (i->name == "timeout") {
      timeout = opt(*i, "timeout");
      continue;
    }
    stmts.push_back(stmt_json(*i, sctx));
  }
  if (timeout) {
    auto ms = time_ms(*timeout);
    json e;
    e["val"] = std::move(elem);
    e["timeout"] = ms ? json(*ms / 1000) : json(*timeout);
    elem = json{{"elem", e}};
  }
  root["elem"] = std::move(elem);
  if (s.kind == StmtKind::MapStmt) {
    root["data"] = expr_json(*s.exprs.at(2), ctx);
    root["map"] = "@" + s.exprs.at(0)->text;
  } else {
    root["set"] = "@" + s.exprs.at(0)->text;
  }
  if (!stmts.empty()) root["stmt"] = stmts;
  return {{s.kind == StmtKind::MapStmt ? "map" : "set", root}};
}

json stmt_json_in_rule(const Stmt& s, PrintCtx& ctx, const Rule* rule) {
  switch (s.kind) {
    case StmtKind::Match:
      if (s.name == "ct count") {
        json c;
        c["val"] = number_or_text(opt(s, "count"));
        if (s.opts.count("over")) c["inv"] = true;
        return {{"ct count", c}};
      }
      return expr_json(*s.exprs.at(0), ctx);
    case StmtKind::Verdict: {
      const Expr& v = *s.exprs.at(0);
      if (v.kind == ExprKind::Map) {
        json m;
        m["key"] = expr_json(*v.kids[0], ctx);
        m["data"] = expr_json(*v.kids[1], ctx);
        return {{"vmap", m}};
      }
      return expr_json(v, ctx);
    }
    case StmtKind::Counter:
      if (ctx.opts.stateless) return {{"counter", nullptr}};
      return {{"counter", {{"packets", number_or_text(opt(s, "packets", "0"))},
                           {"bytes", number_or_text(opt(s, "bytes", "0"))}}}};
    case StmtKind::ObjRef:
      return {{s.name, expr_json(*s.exprs.at(0), ctx)}};
    case StmtKind::Limit:
      return limit_json(s);
    case StmtKind::Quota:
      return quota_json(s, ctx);
    case StmtKind::Last: {
      std::string used = opt(s, "used", "never");
      if (ctx.opts.stateless || used == "never") return {{"last", nullptr}};
      auto ms = time_ms(used);
      return {{"last", {{"used", ms ? json(*ms) : json(used)}}}};
    }
    case StmtKind::Log:
      return log_json(s);
    case StmtKind::Reject:
      return reject_json(s, ctx, rule);
    case StmtKind::Nat:
      return nat_json(s, ctx);
    case StmtKind::Queue: {
      json q = json::object();
      q["num"] = s.exprs.empty() ? json(0) : expr_json(*s.exprs[0], ctx);
      std::vector<std::string> flags;
      for (const char* f : {"bypass", "fanout"})
        if (std::find(s.flags.begin(), s.flags.end(), f) != s.flags.end()) flags.push_back(f);
      if (!flags.empty()) q["flags"] = flags_json(flags);
      return {{"queue", q}};
    }
    case StmtKind::Dup: {
      json d;
      d["addr"] = expr_json(*s.exprs.at(0), ctx);
      if (s.exprs.size() > 1) d["dev"] = expr_json(*s.exprs[1], ctx);
      return {{"dup", d}};
    }
    case StmtKind::Fwd: {
      json f;
      if (s.exprs.size() > 1) {
        f["dev"] = expr_json(*s.exprs[1], ctx);
        f["family"] = opt(s, "family", ctx.family);
        f["addr"] = expr_json(*s.exprs[0], ctx);
      } else {
        f["dev"] = expr_json(*s.exprs.at(0), ctx);
      }
      return {{"fwd", f}};
    }
    case StmtKind::Tproxy: {
      json t = json::object();
      if (s.opts.count("family") && ctx.family == "inet") t["family"] = opt(s, "family");
      const Expr& e = *s.exprs.at(0);
      if (e.kind == ExprKind::Mapping && e.text == "port") {
        if (e.kids[0]) t["addr"] = expr_json(*e.kids[0], ctx);
        t["port"] = expr_json(*e.kids[1], ctx);
      } else {
        t["addr"] = expr_json(e, ctx);
      }
      return {{"tproxy", t}};
    }
    case StmtKind::Synproxy: {
      json p = json::object();
      if (s.opts.count("mss")) p["mss"] = number_or_text(opt(s, "mss"));
      if (s.opts.count("wscale")) p["wscale"] = number_or_text(opt(s, "wscale"));
      if (!s.flags.empty()) p["flags"] = flags_json(s.flags);
      if (p.empty()) return {{"synproxy", nullptr}};
      return {{"synproxy", p}};
    }
    case StmtKind::Notrack:
      return {{"notrack", nullptr}};
    case StmtKind::OptionReset:
      return {{"reset", expr_json(*s.exprs.at(0), ctx)}};
    case StmtKind::SetStmt:
    case StmtKind::MapStmt:
      return set_stmt_json(s, ctx);
    case StmtKind::Assign: {
      const Expr& lhs = *s.exprs.at(0);
      const Expr& rhs = *s.exprs.at(1);
      if (lhs.kind == ExprKind::Selector && lhs.selector == SelectorKind::Meta && lhs.path.at(0) == "secmark" &&
          rhs.kind == ExprKind::String)
        return {{"secmark", rhs.text}};
      json m;
      m["key"] = expr_json(lhs, ctx);
      json value = expr_json(rhs, ctx);
      // a flag combination set as one constant is a list (ct event set new,related)
      if ((rhs.kind == ExprKind::Value || rhs.kind == ExprKind::List) && value.is_object() && value.size() == 1 &&
          value.contains("|"))
        value = value["|"];
      m["value"] = std::move(value);
      return {{"mangle", m}};
    }
    case StmtKind::FlowOffload:
      return {{"flow", {{"op", "add"}, {"flowtable", "@" + opt(s, "table")}}}};
    case StmtKind::Xt:
      return {{"xt", {{"type", opt(s, "type", "match")}, {"name", s.name}}}};
  }
  return nullptr;
}

}  // namespace

json stmt_json(const Stmt& s, PrintCtx& ctx) { return stmt_json_in_rule(s, ctx, nullptr); }

json rule_stmts_json(const Rule& r, PrintCtx& ctx) {
  json arr = json::array();
  for (auto& s : r.stmts) arr.push_back(stmt_json_in_rule(*s, ctx, &r));
  return arr;
}

}  // namespace nfx::jsonio
