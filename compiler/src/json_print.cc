// `nft -j list ruleset`: the libnftables JSON schema (json.c's
// table_print_json_full and friends), pretty-printed as the shell dumps store it.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "json_internal.h"
#include "print.h"
#include "selectors.h"
#include "types.h"

namespace nfx {

namespace jsonio {

std::optional<uint64_t> time_ms(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const Datatype* dt = find_datatype("time");
  if (!dt) return std::nullopt;
  ParseResult r = parse_value(*dt, text, 64);
  if (!r.value) {
    // plain seconds beyond 32 bits, or a unit-less number
    try {
      size_t pos = 0;
      unsigned long long v = std::stoull(text, &pos, 10);
      if (pos == text.size()) return v * 1000;
    } catch (...) {
    }
    return std::nullopt;
  }
  return r.value->to_u64();
}

std::string time_text(uint64_t ms) {
  static const struct { uint64_t ms; const char* unit; } units[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  std::string out;
  for (auto& u : units) {
    if (ms >= u.ms) {
      out += fmt::format("{}{}", ms / u.ms, u.unit);
      ms %= u.ms;
    }
  }
  if (ms) out += fmt::format("{}ms", ms);
  return out.empty() ? "0s" : out;
}

std::optional<uint64_t> bytes_with_unit(const std::string& number, const std::string& unit) {
  uint64_t n = 0;
  try {
    size_t pos = 0;
    n = std::stoull(number, &pos, 10);
    if (pos != number.size()) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  if (unit.empty() || unit == "bytes") return n;
  if (unit == "kbytes") return n * 1024;
  if (unit == "mbytes") return n * 1024 * 1024;
  if (unit == "gbytes") return n * 1024 * 1024 * 1024;
  return std::nullopt;
}

namespace {

json num(const std::string& t) {
  try {
    size_t pos = 0;
    long long v = std::stoll(t, &pos, 0);
    if (pos == t.size()) return v;
  } catch (...) {
  }
  return t;
}

// nft -j always has handles; the shell dumps store them as 0, as we print
// them unless -a asks for the real ones.
uint64_t handle_of(uint64_t h, const PrintOptions& po) { return po.handles ? h : 0; }

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

json devices_json(const std::vector<std::string>& devs) {
  if (devs.size() == 1) return unquote(devs[0]);
  json arr = json::array();
  for (auto& d : devs) arr.push_back(unquote(d));
  return arr;
}

json table_json(const TableDecl& t, const PrintOptions& po) {
  json j;
  j["family"] = t.family;
  j["name"] = t.name;
  j["handle"] = handle_of(t.handle, po);
  if (!t.flags.empty()) {
    json f = json::array();
    for (auto& x : t.flags) f.push_back(x);
    j["flags"] = f;
  }
  if (t.comment) j["comment"] = *t.comment;
  return {{"table", j}};
}

json chain_json(const TableDecl& t, const ChainDecl& c, const PrintOptions& po) {
  json j;
  j["family"] = t.family;
  j["table"] = t.name;
  j["name"] = c.name;
  j["handle"] = handle_of(c.handle, po);
  if (c.comment) j["comment"] = *c.comment;
  if (c.type) {
    if (!c.devices.empty()) j["dev"] = devices_json(c.devices);
    j["type"] = *c.type;
    j["hook"] = c.hook.value_or("");
    j["prio"] = chain_priority_value(t.family, c.hook.value_or(""), c.priority.get());
    j["policy"] = c.policy.value_or("accept");
  }
  return {{"chain", j}};
}

json obj_json(const TableDecl& t, const ObjDecl& o, const PrintOptions& po) {
  auto get = [&](const char* k) { auto it = o.opts.find(k); return it == o.opts.end() ? std::string() : it->second; };
  auto has = [&](const char* k) { return o.opts.count(k) > 0; };
  // "25 mbytes" -> bytes
  auto amount = [&](const char* k) -> json {
    std::string v = get(k);
    auto sp = v.find(' ');
    auto b = bytes_with_unit(v.substr(0, sp), sp == std::string::npos ? "" : v.substr(sp + 1));
    return b ? json(*b) : json(0);
  };
  json j;
  j["family"] = t.family;
  j["name"] = o.name;
  j["table"] = t.name;
  j["handle"] = handle_of(o.handle, po);
  if (o.comment) j["comment"] = *o.comment;
  std::string l3 = has("l3proto") ? get("l3proto") : std::string("ip");
  if (o.type == "counter") {
    j["packets"] = po.stateless ? json(0) : num(has("packets") ? get("packets") : "0");
    j["bytes"] = po.stateless ? json(0) : num(has("bytes") ? get("bytes") : "0");
  } else if (o.type == "quota") {
    j["bytes"] = amount("bytes");
    j["used"] = po.stateless ? json(0) : amount("used");
    j["inv"] = has("over");
  } else if (o.type == "limit") {
    std::string unit = get("unit");
    std::string rate_unit, per = unit;
    auto slash = unit.find('/');
    if (slash != std::string::npos) {
      rate_unit = unit.substr(0, slash);
      per = unit.substr(slash + 1);
    }
    j["rate"] = num(get("rate"));
    j["per"] = per;
    if (has("over")) j["inv"] = true;
    if (!rate_unit.empty()) j["rate_unit"] = rate_unit;
    std::string burst = has("burst") ? get("burst") : (rate_unit.empty() ? "5" : "0");
    if (burst != "0") {
      j["burst"] = num(burst);
      if (!rate_unit.empty()) j["burst_unit"] = has("burst_unit") ? get("burst_unit") : "bytes";
    }
  } else if (o.type == "ct helper") {
    j["type"] = unquote(get("type"));
    j["protocol"] = get("protocol");
    j["l3proto"] = l3;
  } else if (o.type == "ct timeout") {
    j["protocol"] = get("protocol");
    j["l3proto"] = l3;
    json pol = json::object();
    std::string text = get("policy");
    size_t pos = 0;
    while (pos < text.size()) {
      size_t comma = text.find(',', pos);
      if (comma == std::string::npos) comma = text.size();
      std::string item = text.substr(pos, comma - pos);
      pos = comma + 1;
      auto colon = item.find(':');
      if (colon == std::string::npos) continue;
      auto trim = [](std::string s) {
        size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
        return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
      };
      std::string k = trim(item.substr(0, colon)), v = trim(item.substr(colon + 1));
      auto ms = time_ms(v);
      pol[k] = ms ? json(*ms / 1000) : json(v);
    }
    j["policy"] = pol.empty() ? json(nullptr) : pol;
  } else if (o.type == "ct expectation") {
    j["protocol"] = get("protocol");
    j["dport"] = num(get("dport"));
    auto ms = time_ms(get("timeout"));
    j["timeout"] = ms ? json(*ms) : json(0);
    j["size"] = num(get("size"));
    j["l3proto"] = l3;
  } else if (o.type == "secmark") {
    j["context"] = unquote(get("context"));
  } else if (o.type == "synproxy") {
    j["mss"] = num(has("mss") ? get("mss") : "0");
    j["wscale"] = num(has("wscale") ? get("wscale") : "0");
    json f = json::array();
    if (has("timestamp")) f.push_back("timestamp");
    if (has("sack-perm")) f.push_back("sack-perm");
    if (!f.empty()) j["flags"] = f;
  } else {
    for (auto& k : o.order) j[k] = num(get(k.c_str()));
  }
  return {{o.type, j}};
}

// Map data of a set declaration: "verdict", "ct helper", ["a", "b"]...
json map_data_json(const SetDecl& s) {
  if (s.data_verdict_or_obj) return *s.data_verdict_or_obj;
  if (!s.data_typeof.empty()) {
    if (s.data_typeof.size() == 1) {
      const Expr& d = *s.data_typeof[0];
      if (d.kind == ExprKind::Selector && d.selector == SelectorKind::Ct && d.path.size() == 1 &&
          (d.path[0] == "helper" || d.path[0] == "timeout" || d.path[0] == "expectation"))
        return "ct " + d.path[0];
    }
    std::vector<std::string> names;
    for (auto& e : s.data_typeof) {
      std::string n = e->dtype.empty() ? print_expr(*e, {}) : e->dtype;
      names.push_back(n);
    }
    return type_names_json(names);
  }
  return type_names_json(s.data_types);
}

json set_json(const TableDecl& t, const SetDecl& s, PrintCtx& ctx) {
  json j;
  j["family"] = t.family;
  j["name"] = s.name;
  j["table"] = t.name;
  if (!s.key_typeof.empty()) {
    json key;
    if (s.key_typeof.size() == 1) {
      key = expr_json(*s.key_typeof[0], ctx);
    } else {
      json arr = json::array();
      for (auto& e : s.key_typeof) arr.push_back(expr_json(*e, ctx));
      key = json{{"concat", arr}};
    }
    j["type"] = json{{"typeof", key}};
  } else {
    j["type"] = type_names_json(s.key_types);
  }
  j["handle"] = handle_of(s.handle, ctx.opts);
  if (s.comment) j["comment"] = *s.comment;
  if (s.is_map) j["map"] = map_data_json(s);
  bool constant = std::find(s.flags.begin(), s.flags.end(), "constant") != s.flags.end();
  if (!constant) {
    if (s.policy && *s.policy != "performance") j["policy"] = *s.policy;
    if (s.size) j["size"] = *s.size;
  }
  static const char* order[] = {"constant", "interval", "timeout", "dynamic"};
  json flags = json::array();
  auto has_flag = [&](const char* f) { return std::find(s.flags.begin(), s.flags.end(), f) != s.flags.end(); };
  for (const char* f : order) {
    // a set timeout implies the timeout flag, which nft's text leaves out
    bool implied = std::string_view(f) == "timeout" && s.timeout && time_ms(*s.timeout).value_or(0) != 0;
    if (has_flag(f) || implied) flags.push_back(f);
  }
  for (auto& f : s.flags)
    if (std::find(std::begin(order), std::end(order), f) == std::end(order)) flags.push_back(f);
  if (!flags.empty()) j["flags"] = flags;
  if (s.timeout) {
    auto ms = time_ms(*s.timeout);
    j["timeout"] = ms ? json(*ms / 1000) : json(*s.timeout);
  }
  if (s.gc_interval) {
    auto ms = time_ms(*s.gc_interval);
    j["gc-interval"] = ms ? json(*ms / 1000) : json(*s.gc_interval);
  }
  if (s.auto_merge) j["auto-merge"] = true;
  if (!ctx.opts.terse && !s.elements.empty()) {
    json arr = json::array();
    for (auto& e : s.elements) arr.push_back(elem_json(*e, ctx));
    j["elem"] = arr;
  }
  if (!s.stmts.empty()) {
    PrintOptions stateless = ctx.opts;
    stateless.stateless = true;
    PrintCtx sctx{stateless, ctx.family};
    json arr = json::array();
    for (auto& st : s.stmts) arr.push_back(stmt_json(*st, sctx));
    j["stmt"] = arr;
  }
  return {{s.is_map ? "map" : "set", j}};
}

json flowtable_json(const TableDecl& t, const FlowtableDecl& f, const PrintOptions& po) {
  json j;
  j["family"] = t.family;
  j["name"] = f.name;
  j["table"] = t.name;
  j["handle"] = handle_of(f.handle, po);
  j["hook"] = f.hook.value_or("ingress");
  j["prio"] = chain_priority_value(t.family, "flowtable", f.priority.get());
  if (!f.devices.empty()) j["dev"] = devices_json(f.devices);
  return {{"flowtable", j}};
}

json rule_json(const TableDecl& t, const ChainDecl& c, const Rule& r, PrintCtx& ctx) {
  json j;
  j["family"] = t.family;
  j["table"] = t.name;
  j["chain"] = c.name;
  j["handle"] = handle_of(r.handle, ctx.opts);
  if (r.comment) j["comment"] = *r.comment;
  json exprs = rule_stmts_json(r, ctx);
  if (!exprs.empty()) j["expr"] = exprs;
  return {{"rule", j}};
}

}  // namespace

}  // namespace jsonio

std::string print_ruleset_json(const Ruleset& rs, const PrintOptions& opts) {
  using jsonio::json;
  json list = json::array();
  json meta;
  meta["version"] = "VERSION";
  meta["release_name"] = "RELEASE_NAME";
  meta["json_schema_version"] = 1;
  list.push_back(json{{"metainfo", meta}});
  for (const auto& t : rs.tables) {
    jsonio::PrintCtx ctx{opts, t.family};
    list.push_back(jsonio::table_json(t, opts));
    // both maps and rules may refer to chains: nft lists them first
    for (auto& c : t.chains) list.push_back(jsonio::chain_json(t, c, opts));
    for (auto& o : t.objs) list.push_back(jsonio::obj_json(t, o, opts));
    for (auto& s : t.sets) list.push_back(jsonio::set_json(t, s, ctx));
    for (auto& f : t.flowtables) list.push_back(jsonio::flowtable_json(t, f, opts));
    for (auto& c : t.chains)
      for (auto& r : c.rules) list.push_back(jsonio::rule_json(t, c, r, ctx));
  }
  json root{{"nftables", list}};
  try {
    return root.dump(2) + "\n";
  } catch (const std::exception&) {
    // invalid UTF-8 in a name or comment: replace rather than fail
    return root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  }
}

}  // namespace nfx
