// libnftables JSON input: a {"nftables": [...]} document of commands
// ({"add": {"table": {...}}}) and bare objects (list output, meaning add),
// read into the same Script the text parser produces.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "json_internal.h"

namespace nfx {

namespace jsonio {

namespace {

std::optional<uint64_t> get_uint(const json& obj, const char* key, ParseCtx& ctx) {
  const json* v = member(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() || (v->is_number_integer() && !v->is_number_unsigned() && v->get<int64_t>() < 0)) {
    ctx.error(fmt::format("Property '{}' must be a non-negative integer, got '{}'", key, json_brief(*v)));
    return std::nullopt;
  }
  return v->get<uint64_t>();
}

std::vector<std::string> strings(const json* v, ParseCtx& ctx, const char* what) {
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) return {v->get<std::string>()};
  if (!v->is_array()) {
    ctx.error(fmt::format("Invalid {} '{}'", what, json_brief(*v)));
    return out;
  }
  for (auto& x : *v) {
    if (!x.is_string()) {
      ctx.error(fmt::format("Invalid {} '{}': expected strings", what, json_brief(x)));
      return {};
    }
    out.push_back(x.get<std::string>());
  }
  return out;
}

bool check_family(const std::string& f, ParseCtx& ctx) {
  static const std::set<std::string> families = {"ip", "ip6", "inet", "arp", "bridge", "netdev"};
  if (families.count(f)) return true;
  ctx.error(fmt::format("Invalid family '{}'", f));
  return false;
}

std::string seconds_text(const json& v, ParseCtx& ctx, const char* what) {
  if (!v.is_number_integer()) {
    ctx.error(fmt::format("Property '{}' must be an integer (seconds), got '{}'", what, json_brief(v)));
    return {};
  }
  return time_text(v.get<uint64_t>() * 1000);
}

// Bytes as the text grammar keeps an object's amount: "25 mbytes".
std::string bytes_text(uint64_t n) {
  static const char* units[] = {"bytes", "kbytes", "mbytes", "gbytes"};
  int u = 0;
  while (u < 3 && n && n % 1024 == 0) {
    n /= 1024;
    ++u;
  }
  return fmt::format("{} {}", n, units[u]);
}

bool is_object_type(const std::string& k) {
  return k == "counter" || k == "quota" || k == "limit" || k == "secmark" || k == "synproxy" ||
         k == "ct helper" || k == "ct timeout" || k == "ct expectation" || k == "tunnel";
}

// The selector a map's data type most likely came from when the key was
// declared with typeof: JSON keeps only the data's type name, nft's text
// shows the typeof expression.
ExprPtr guess_typeof_data(const std::string& type, ParseCtx& ctx) {
  static const std::map<std::string, std::pair<const char*, const char*>> guesses = {
      {"mark", {"meta", "mark"}}, {"classid", {"meta", "priority"}}};
  auto it = guesses.find(type);
  if (it == guesses.end()) return nullptr;
  auto e = make_expr(ExprKind::Selector, ctx.loc, it->second.first);
  e->selector = SelectorKind::Meta;
  e->path = {it->second.second};
  return e;
}

class Reader {
 public:
  Reader(ParseCtx& ctx, Script& script) : ctx_(ctx), script_(script) {}

  void command(const json& item, size_t index);

 private:
  bool object(Verb verb, const std::string& what, const json& body);
  bool table(Command& cmd, const json& b);
  bool chain(Command& cmd, const json& b);
  bool rule(Command& cmd, const json& b);
  bool set(Command& cmd, const json& b, bool is_map);
  bool element(Command& cmd, const json& b);
  bool obj(Command& cmd, const std::string& type, const json& b);
  bool flowtable(Command& cmd, const json& b);
  bool elements(const json& v, std::vector<ExprPtr>& out, bool objmap);

  bool family(Command& cmd, const json& b) {
    std::string f = "ip";
    if (member(b, "family") && !get_string(b, "family", f, ctx_)) return false;
    if (!check_family(f, ctx_)) return false;
    cmd.family = f;
    ctx_.family = f;
    return true;
  }
  std::string set_key(const Command& cmd, const std::string& name) const {
    return cmd.family + " " + cmd.table + " " + name;
  }

  ParseCtx& ctx_;
  Script& script_;
  std::set<std::string> objmaps_;  // object maps declared so far (their data are names)
  bool listed_ = false;            // reading a bare (list output) object
};

void Reader::command(const json& item, size_t index) {
  ctx_.where = fmt::format("nftables[{}]", index);
  if (!item.is_object() || item.size() != 1) {
    ctx_.error(fmt::format("expected an object with one command, got '{}'", json_brief(item)));
    return;
  }
  const std::string& key = item.begin().key();
  const json& body = item.begin().value();
  static const std::map<std::string, Verb> verbs = {
      {"add", Verb::Add},         {"create", Verb::Create}, {"insert", Verb::Insert}, {"replace", Verb::Replace},
      {"delete", Verb::Delete},   {"destroy", Verb::Destroy}, {"flush", Verb::Flush}, {"rename", Verb::Rename},
      {"reset", Verb::Reset},     {"list", Verb::List}};
  if (key == "metainfo") {
    if (!only_keys(body, {"version", "release_name", "json_schema_version"}, "metainfo", ctx_)) return;
    if (const json* v = member(body, "json_schema_version")) {
      if (!v->is_number_integer() || v->get<int64_t>() > 1)
        ctx_.error(fmt::format("Schema version {} not supported", json_brief(*v)));
    }
    return;
  }
  auto vit = verbs.find(key);
  if (vit != verbs.end()) {
    if (!body.is_object() || body.size() != 1) {
      ctx_.error(fmt::format("'{}' needs an object with one property, got '{}'", key, json_brief(body)));
      return;
    }
    object(vit->second, body.begin().key(), body.begin().value());
    return;
  }
  // a bare object as `nft -j list` prints it: add it (its handles are the
  // listed ones, not positions)
  listed_ = true;
  object(Verb::Add, key, body);
  listed_ = false;
}

bool Reader::object(Verb verb, const std::string& what, const json& body) {
  Command cmd;
  cmd.loc = ctx_.loc;
  cmd.verb = verb;
  if (what == "ruleset" || what == "tables" || what == "chains" || what == "sets" || what == "maps" ||
      what == "flowtables" || what == "counters" || what == "quotas" || what == "limits") {
    if (verb != Verb::Flush && verb != Verb::List && verb != Verb::Reset) {
      ctx_.error(fmt::format("'{}' is not valid for this command", what));
      return false;
    }
    cmd.what = what == "ruleset" ? ObjKind::Ruleset : what == "tables" ? ObjKind::Tables
               : what == "chains" ? ObjKind::Chains : what == "sets" ? ObjKind::Sets
               : what == "maps" ? ObjKind::Maps : what == "flowtables" ? ObjKind::Flowtables : ObjKind::Objs;
    if (body.is_object() && member(body, "family")) {
      std::string f;
      if (!get_string(body, "family", f, ctx_) || !check_family(f, ctx_)) return false;
      cmd.family = f;
    } else if (!body.is_null() && !(body.is_object() && body.empty())) {
      ctx_.error(fmt::format("Unexpected value for '{}': '{}'", what, json_brief(body)));
      return false;
    }
    script_.commands.push_back(std::move(cmd));
    return true;
  }
  if (!body.is_object()) {
    ctx_.error(fmt::format("'{}' needs an object, got '{}'", what, json_brief(body)));
    return false;
  }
  bool ok = false;
  if (what == "table") ok = table(cmd, body);
  else if (what == "chain") ok = chain(cmd, body);
  else if (what == "rule") ok = rule(cmd, body);
  else if (what == "set") ok = set(cmd, body, false);
  else if (what == "map") ok = set(cmd, body, true);
  else if (what == "element") ok = element(cmd, body);
  else if (what == "flowtable") ok = flowtable(cmd, body);
  else if (is_object_type(what)) ok = obj(cmd, what, body);
  else {
    ctx_.error(fmt::format("Unknown object '{}'", what));
    return false;
  }
  if (!ok || !ctx_.ok) return false;
  script_.commands.push_back(std::move(cmd));
  return true;
}

bool Reader::table(Command& cmd, const json& b) {
  if (!only_keys(b, {"family", "name", "handle", "flags", "comment"}, "table", ctx_)) return false;
  cmd.what = ObjKind::Table;
  if (!family(cmd, b)) return false;
  std::string name;
  bool by_handle = (cmd.verb == Verb::Delete || cmd.verb == Verb::Destroy) && member(b, "handle");
  if (!get_string(b, "name", name, ctx_, !by_handle) && !ctx_.ok) return false;
  if (by_handle) cmd.handle = get_uint(b, "handle", ctx_);
  cmd.table = name;
  TableDecl t;
  t.loc = ctx_.loc;
  t.family = cmd.family;
  t.name = name;
  t.flags = strings(member(b, "flags"), ctx_, "table flags");
  std::string comment;
  if (get_string(b, "comment", comment, ctx_, false)) t.comment = comment;
  cmd.table_decl = std::move(t);
  return ctx_.ok;
}

bool Reader::chain(Command& cmd, const json& b) {
  if (!only_keys(b, {"family", "table", "name", "newname", "handle", "type", "hook", "prio", "dev", "policy", "comment"}, "chain", ctx_))
    return false;
  cmd.what = ObjKind::Chain;
  if (!family(cmd, b) || !get_string(b, "table", cmd.table, ctx_)) return false;
  bool by_handle = (cmd.verb == Verb::Delete || cmd.verb == Verb::Destroy) && member(b, "handle");
  if (!get_string(b, "name", cmd.chain, ctx_, !by_handle) && !ctx_.ok) return false;
  if (by_handle) cmd.handle = get_uint(b, "handle", ctx_);
  if (cmd.verb == Verb::Rename && !get_string(b, "newname", cmd.name, ctx_)) return false;
  ChainDecl c;
  c.loc = ctx_.loc;
  c.name = cmd.chain;
  std::string s;
  if (get_string(b, "type", s, ctx_, false)) c.type = s;
  if (get_string(b, "hook", s, ctx_, false)) c.hook = s;
  if (get_string(b, "policy", s, ctx_, false)) c.policy = s;
  if (get_string(b, "comment", s, ctx_, false)) c.comment = s;
  if (!ctx_.ok) return false;
  if (const json* p = member(b, "prio")) {
    if (p->is_number_integer()) {
      c.priority = make_expr(ExprKind::Number, ctx_.loc, int_text(*p));
    } else if (p->is_string()) {
      c.priority = make_expr(ExprKind::Symbol, ctx_.loc, p->get<std::string>());
    } else {
      ctx_.error(fmt::format("Invalid chain priority '{}'", json_brief(*p)));
      return false;
    }
    c.has_priority = true;
  }
  c.devices = strings(member(b, "dev"), ctx_, "chain devices");
  if (c.type && (!c.hook || !c.priority)) {
    ctx_.error(fmt::format("Base chain '{}' needs 'type', 'hook' and 'prio'", c.name));
    return false;
  }
  cmd.chain_decl = std::move(c);
  return ctx_.ok;
}

bool Reader::rule(Command& cmd, const json& b) {
  if (!only_keys(b, {"family", "table", "chain", "expr", "handle", "index", "comment"}, "rule", ctx_)) return false;
  cmd.what = ObjKind::Rule;
  if (!family(cmd, b) || !get_string(b, "table", cmd.table, ctx_) || !get_string(b, "chain", cmd.chain, ctx_))
    return false;
  std::optional<uint64_t> handle = get_uint(b, "handle", ctx_);
  if (!ctx_.ok) return false;
  if (cmd.verb == Verb::Delete || cmd.verb == Verb::Destroy || cmd.verb == Verb::Replace) {
    if (!handle) {
      ctx_.error(fmt::format("Rule {} needs a 'handle'", cmd.verb == Verb::Replace ? "replacement" : "deletion"));
      return false;
    }
    cmd.handle = handle;
    if (cmd.verb != Verb::Replace) return true;
  } else if (handle && *handle && !listed_) {
    cmd.position = handle;  // add/insert relative to this rule
  }
  if (auto idx = get_uint(b, "index", ctx_)) cmd.index = idx;
  if (!ctx_.ok) return false;
  const json* exprs = member(b, "expr");
  if (!exprs || !exprs->is_array()) {
    ctx_.error(fmt::format("Rule needs an 'expr' array: '{}'", json_brief(b)));
    return false;
  }
  Rule r;
  r.loc = ctx_.loc;
  for (auto& x : *exprs) {
    StmtPtr s = parse_stmt(x, ctx_);
    if (!s) return false;
    r.stmts.push_back(s);
  }
  if (r.stmts.empty()) {
    ctx_.error("Rule has no statements");
    return false;
  }
  std::string comment;
  if (get_string(b, "comment", comment, ctx_, false)) r.comment = comment;
  cmd.rule = std::move(r);
  return ctx_.ok;
}

bool Reader::elements(const json& v, std::vector<ExprPtr>& out, bool objmap) {
  if (v.is_array()) {
    for (auto& x : v) {
      ExprPtr e = parse_elem(x, ctx_, objmap);
      if (!e) return false;
      out.push_back(e);
    }
    return true;
  }
  ExprPtr e = parse_elem(v, ctx_, objmap);
  if (!e) return false;
  out.push_back(e);
  return true;
}

bool Reader::set(Command& cmd, const json& b, bool is_map) {
  if (!only_keys(b, {"family", "table", "name", "handle", "type", "map", "policy", "flags", "elem", "timeout", "gc-interval", "size", "comment", "stmt", "auto-merge"}, is_map ? "map" : "set", ctx_))
    return false;
  cmd.what = is_map ? ObjKind::Map : ObjKind::Set;
  if (!family(cmd, b) || !get_string(b, "table", cmd.table, ctx_)) return false;
  bool by_handle = (cmd.verb == Verb::Delete || cmd.verb == Verb::Destroy) && member(b, "handle");
  if (!get_string(b, "name", cmd.set, ctx_, !by_handle) && !ctx_.ok) return false;
  if (by_handle) cmd.handle = get_uint(b, "handle", ctx_);
  if (cmd.verb != Verb::Add && cmd.verb != Verb::Create) return ctx_.ok;
  SetDecl s;
  s.loc = ctx_.loc;
  s.is_map = is_map;
  s.name = cmd.set;
  const json* type = member(b, "type");
  if (!type) {
    ctx_.error(fmt::format("Set '{}' needs a 'type'", s.name));
    return false;
  }
  if (type->is_object()) {
    const json* t = member(*type, "typeof");
    if (!t || type->size() != 1) {
      ctx_.error(fmt::format("Invalid set type '{}'", json_brief(*type)));
      return false;
    }
    ExprPtr k = parse_expr(*t, ctx_);
    if (!k) return false;
    if (k->kind == ExprKind::Concat) s.key_typeof = k->kids;
    else s.key_typeof = {k};
  } else {
    s.key_types = strings(type, ctx_, "set type");
    if (s.key_types.empty() && ctx_.ok) ctx_.error(fmt::format("Set '{}' has an empty type", s.name));
  }
  bool objmap = false;
  if (const json* m = member(b, "map")) {
    if (!is_map) {
      ctx_.error(fmt::format("Set '{}' has a 'map' property; declare it as a map", s.name));
      return false;
    }
    if (m->is_object() && member(*m, "typeof")) {
      ExprPtr d = parse_expr((*m)["typeof"], ctx_);
      if (!d) return false;
      if (d->kind == ExprKind::Concat) s.data_typeof = d->kids;
      else s.data_typeof = {d};
    } else {
      s.data_types = strings(m, ctx_, "map type");
      if (s.data_types.size() == 1) {
        objmap = is_object_type(s.data_types[0]);
        if (!s.key_typeof.empty() && !objmap && s.data_types[0] != "verdict") {
          if (ExprPtr d = guess_typeof_data(s.data_types[0], ctx_)) {
            s.data_types.clear();
            s.data_typeof = {d};
          }
        }
      }
    }
  } else if (is_map) {
    ctx_.error(fmt::format("Map '{}' needs a 'map' data type", s.name));
    return false;
  }
  if (objmap) objmaps_.insert(set_key(cmd, s.name));
  s.flags = strings(member(b, "flags"), ctx_, "set flags");
  if (const json* t = member(b, "timeout")) s.timeout = seconds_text(*t, ctx_, "timeout");
  if (const json* t = member(b, "gc-interval")) s.gc_interval = seconds_text(*t, ctx_, "gc-interval");
  if (auto sz = get_uint(b, "size", ctx_)) s.size = *sz;
  // nft's text order; a lone timeout flag comes from the timeout itself and
  // nft's text leaves it out
  {
    std::vector<std::string> ordered;
    for (const char* f : {"constant", "interval", "dynamic", "timeout"})
      if (std::find(s.flags.begin(), s.flags.end(), f) != s.flags.end()) ordered.push_back(f);
    for (auto& f : s.flags)
      if (std::find(ordered.begin(), ordered.end(), f) == ordered.end()) ordered.push_back(f);
    if (s.timeout && ordered.size() == 1 && ordered[0] == "timeout") ordered.clear();
    s.flags = std::move(ordered);
  }
  std::string str;
  if (get_string(b, "policy", str, ctx_, false)) s.policy = str;
  if (get_string(b, "comment", str, ctx_, false)) s.comment = str;
  if (const json* am = member(b, "auto-merge")) s.auto_merge = am->is_boolean() && am->get<bool>();
  if (!ctx_.ok) return false;
  if (const json* el = member(b, "elem"))
    if (!elements(*el, s.elements, objmap)) return false;
  if (const json* st = member(b, "stmt")) {
    if (!st->is_array()) {
      ctx_.error("Set 'stmt' must be an array");
      return false;
    }
    for (auto& x : *st) {
      StmtPtr p = parse_stmt(x, ctx_);
      if (!p) return false;
      s.stmts.push_back(p);
    }
  }
  cmd.set_decl = std::move(s);
  return ctx_.ok;
}

bool Reader::element(Command& cmd, const json& b) {
  if (!only_keys(b, {"family", "table", "name", "elem"}, "element", ctx_)) return false;
  cmd.what = ObjKind::Element;
  if (!family(cmd, b) || !get_string(b, "table", cmd.table, ctx_) || !get_string(b, "name", cmd.set, ctx_))
    return false;
  const json* el = member(b, "elem");
  if (!el) {
    ctx_.error(fmt::format("Element command needs 'elem': '{}'", json_brief(b)));
    return false;
  }
  return elements(*el, cmd.elements, objmaps_.count(set_key(cmd, cmd.set)) > 0);
}

bool Reader::obj(Command& cmd, const std::string& type, const json& b) {
  cmd.what = ObjKind::Obj;
  cmd.obj_type = type;
  if (!family(cmd, b) || !get_string(b, "table", cmd.table, ctx_)) return false;
  bool by_handle = (cmd.verb == Verb::Delete || cmd.verb == Verb::Destroy) && member(b, "handle");
  if (!get_string(b, "name", cmd.name, ctx_, !by_handle) && !ctx_.ok) return false;
  if (by_handle) cmd.handle = get_uint(b, "handle", ctx_);
  static const std::map<std::string, std::vector<const char*>> extra = {
      {"counter", {"packets", "bytes"}},
      {"quota", {"bytes", "used", "inv"}},
      {"limit", {"rate", "per", "burst", "rate_unit", "burst_unit", "inv"}},
      {"ct helper", {"type", "protocol", "l3proto"}},
      {"ct timeout", {"protocol", "l3proto", "policy"}},
      {"ct expectation", {"protocol", "dport", "timeout", "size", "l3proto"}},
      {"secmark", {"context"}},
      {"synproxy", {"mss", "wscale", "flags"}},
  };
  for (auto& [k, v] : b.items()) {
    static const std::set<std::string> common = {"family", "table", "name", "handle", "comment"};
    auto it = extra.find(type);
    bool known = common.count(k) > 0;
    if (it != extra.end())
      for (const char* a : it->second) known |= k == a;
    if (!known) {
      ctx_.error(fmt::format("Unknown property '{}' in {}", k, type));
      return false;
    }
  }
  ObjDecl o;
  o.loc = ctx_.loc;
  o.type = type;
  o.name = cmd.name;
  auto set = [&](const std::string& k, const std::string& v) {
    if (!o.opts.count(k)) o.order.push_back(k);
    o.opts[k] = v;
  };
  std::string s;
  if (get_string(b, "comment", s, ctx_, false)) o.comment = s;
  if (!ctx_.ok) return false;
  if (cmd.verb != Verb::Add && cmd.verb != Verb::Create) {
    cmd.obj_decl = std::move(o);
    return true;
  }
  auto uint_of = [&](const char* k) -> std::optional<uint64_t> { return get_uint(b, k, ctx_); };
  if (type == "counter") {
    set("packets", std::to_string(uint_of("packets").value_or(0)));
    set("bytes", std::to_string(uint_of("bytes").value_or(0)));
  } else if (type == "quota") {
    const json* inv = member(b, "inv");
    if (inv && inv->is_boolean() && inv->get<bool>()) set("over", "1");
    set("bytes", bytes_text(uint_of("bytes").value_or(0)));
    if (auto used = uint_of("used"); used && *used) set("used", bytes_text(*used));
  } else if (type == "limit") {
    const json* inv = member(b, "inv");
    if (inv && inv->is_boolean() && inv->get<bool>()) set("over", "1");
    set("rate", std::to_string(uint_of("rate").value_or(0)));
    std::string per = "second", rate_unit;
    get_string(b, "per", per, ctx_, false);
    get_string(b, "rate_unit", rate_unit, ctx_, false);
    bool bytes = !rate_unit.empty() && rate_unit != "packets";
    set("unit", bytes ? rate_unit + "/" + per : per);
    if (auto burst = uint_of("burst")) {
      set("burst", std::to_string(*burst));
      std::string bu = bytes ? "bytes" : "packets";
      get_string(b, "burst_unit", bu, ctx_, false);
      set("burst_unit", bu);
    }
  } else if (type == "ct helper") {
    if (!get_string(b, "type", s, ctx_)) return false;
    set("type", "\"" + s + "\"");
    if (!get_string(b, "protocol", s, ctx_)) return false;
    set("protocol", s);
    if (get_string(b, "l3proto", s, ctx_, false)) set("l3proto", s);
  } else if (type == "ct timeout") {
    if (!get_string(b, "protocol", s, ctx_)) return false;
    set("protocol", s);
    if (get_string(b, "l3proto", s, ctx_, false)) set("l3proto", s);
    if (const json* pol = member(b, "policy"); pol && pol->is_object()) {
      std::string text;
      for (auto& [k, v] : pol->items()) {
        if (!v.is_number_integer()) {
          ctx_.error(fmt::format("ct timeout policy '{}' must be an integer (seconds)", k));
          return false;
        }
        if (!text.empty()) text += ", ";
        text += k + " : " + time_text(v.get<uint64_t>() * 1000);
      }
      set("policy", text);
    }
  } else if (type == "ct expectation") {
    if (!get_string(b, "protocol", s, ctx_)) return false;
    set("protocol", s);
    if (const json* d = member(b, "dport")) set("dport", int_text(*d));
    if (auto t = uint_of("timeout")) set("timeout", time_text(*t));
    if (auto sz = uint_of("size")) set("size", std::to_string(*sz));
    if (get_string(b, "l3proto", s, ctx_, false)) set("l3proto", s);
  } else if (type == "secmark") {
    if (!get_string(b, "context", s, ctx_)) return false;
    set("context", "\"" + s + "\"");
  } else if (type == "synproxy") {
    if (auto v = uint_of("mss")) set("mss", std::to_string(*v));
    if (auto v = uint_of("wscale")) set("wscale", std::to_string(*v));
    for (auto& f : strings(member(b, "flags"), ctx_, "synproxy flags")) set(f, "1");
  } else {
    ctx_.error(fmt::format("Objects of type '{}' are not supported in JSON input", type));
    return false;
  }
  cmd.obj_decl = std::move(o);
  return ctx_.ok;
}

bool Reader::flowtable(Command& cmd, const json& b) {
  if (!only_keys(b, {"family", "table", "name", "handle", "hook", "prio", "dev", "flags", "comment"}, "flowtable", ctx_))
    return false;
  cmd.what = ObjKind::Flowtable;
  if (!family(cmd, b) || !get_string(b, "table", cmd.table, ctx_)) return false;
  bool by_handle = (cmd.verb == Verb::Delete || cmd.verb == Verb::Destroy) && member(b, "handle");
  if (!get_string(b, "name", cmd.name, ctx_, !by_handle) && !ctx_.ok) return false;
  if (by_handle) cmd.handle = get_uint(b, "handle", ctx_);
  FlowtableDecl f;
  f.loc = ctx_.loc;
  f.name = cmd.name;
  std::string s;
  if (get_string(b, "hook", s, ctx_, false)) f.hook = s;
  if (const json* p = member(b, "prio")) {
    if (!p->is_number_integer()) {
      ctx_.error(fmt::format("Invalid flowtable priority '{}'", json_brief(*p)));
      return false;
    }
    f.priority = make_expr(ExprKind::Number, ctx_.loc, int_text(*p));
  }
  f.devices = strings(member(b, "dev"), ctx_, "flowtable devices");
  f.flags = strings(member(b, "flags"), ctx_, "flowtable flags");
  if (get_string(b, "comment", s, ctx_, false)) f.comment = s;
  cmd.flowtable_decl = std::move(f);
  return ctx_.ok;
}

}  // namespace

}  // namespace jsonio

Script parse_json(const std::string& text, const std::string& name, Diagnostics& diags) {
  using jsonio::json;
  Script script;
  auto file = std::make_shared<const std::string>(name);
  SourceLoc loc;
  loc.file = file;
  loc.first_line = loc.last_line = 1;
  loc.first_col = loc.last_col = 1;
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // point at the offending byte
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    int line = 1, col = 1;
    for (size_t i = 0; i < byte && i < text.size(); ++i) {
      if (text[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    auto src = std::make_shared<SourceBuffer>();
    src->name = name;
    src->text = text;
    diags.add_source(src);
    SourceLoc at = loc;
    at.first_line = at.last_line = line;
    at.first_col = at.last_col = col;
    std::string msg = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    auto colon = msg.find(": ");
    diags.error(at, "Invalid JSON: " + (colon == std::string::npos ? msg : msg.substr(colon + 2)));
    return script;
  } catch (const json::exception& e) {
    // Other reader failures, e.g. a number too large for any JSON number type.
    std::string msg = e.what();
    auto bracket = msg.find("] ");
    diags.error(loc, "Invalid JSON: " + (bracket == std::string::npos ? msg : msg.substr(bracket + 2)));
    return script;
  }
  jsonio::ParseCtx ctx{diags, loc, "ip", {}, 0, true};
  if (!doc.is_object() || !doc.contains("nftables")) {
    ctx.error("JSON input must be an object with an 'nftables' array");
    return script;
  }
  const json& list = doc["nftables"];
  if (!list.is_array()) {
    ctx.error("'nftables' must be an array");
    return script;
  }
  try {
    jsonio::Reader reader(ctx, script);
    for (size_t i = 0; i < list.size() && ctx.ok; ++i) reader.command(list[i], i);
  } catch (const std::exception& e) {
    // type errors from unexpected shapes are reported, never thrown out
    ctx.error(fmt::format("Malformed JSON input: {}", e.what()));
  }
  if (!ctx.ok) script.commands.clear();
  return script;
}

}  // namespace nfx
