// `nft list ruleset` text for a whole ruleset (rule.c's *_print functions).
#include <fmt/format.h>

#include "print.h"
#include "selectors.h"

namespace nfx {

namespace {


std::string handle_suffix(const PrintOptions& o, uint64_t h) {
  return o.handles && h ? fmt::format(" # handle {}", h) : "";
}

// "filter", "filter + 5", "-150" ... as nft prints priorities.
std::string print_priority(const std::string& family, const std::string& hook, const Expr* prio,
                           const PrintOptions& o) {
  if (!prio) return "0";
  long value = 0;
  if (prio->kind == ExprKind::Number) {
    value = std::strtol(prio->text.c_str(), nullptr, 0);
  } else {
    int base = 0;
    if (!named_priority(family, hook, prio->text, base)) return prio->text;
    value = base;
    if (prio->path.size() == 2) {
      long off = std::strtol(prio->path[1].c_str(), nullptr, 0);
      value += prio->path[0] == "-" ? -off : off;
    }
  }
  if (o.numeric_priority) return fmt::format("{}", value);
  // nft prints the nearest standard name with an offset of up to 10
  static const char* names[] = {"raw", "mangle", "dstnat", "filter", "security", "srcnat", "out"};
  for (const char* n : names) {
    int base = 0;
    if (!named_priority(family, hook, n, base)) continue;
    long d = value - base;
    if (d == 0) return n;
    if (d > 0 && d <= 10) return fmt::format("{} + {}", n, d);
    if (d < 0 && d >= -10) return fmt::format("{} - {}", n, -d);
  }
  return fmt::format("{}", value);
}

std::string print_devices(const std::vector<std::string>& devs) {
  std::vector<std::string> q;
  for (auto& d : devs) q.push_back(d.size() && d[0] == '"' ? d : "\"" + d + "\"");
  return "{ " + join(q, ", ") + " }";
}

void print_chain(std::string& out, const TableDecl& t, const ChainDecl& c, const PrintOptions& o) {
  out += fmt::format("\tchain {} {{{}\n", c.name, handle_suffix(o, c.handle));
  if (c.comment) out += fmt::format("\t\tcomment \"{}\"\n", *c.comment);
  if (c.type) {
    out += fmt::format("\t\ttype {} hook {}", *c.type, c.hook.value_or(""));
    if (c.devices.size() == 1)
      out += fmt::format(" device \"{}\"", c.devices[0][0] == '"' ? c.devices[0].substr(1, c.devices[0].size() - 2)
                                                                   : c.devices[0]);
    else if (c.devices.size() > 1)
      out += " devices = " + print_devices(c.devices);
    out += " priority " + print_priority(t.family, c.hook.value_or(""), c.priority.get(), o) + ";";
    if (t.family != "netdev" || true) out += " policy " + c.policy.value_or("accept") + ";";
    out += "\n";
  }
  if (!c.flags.empty()) out += "\t\tflags " + join(c.flags, ",") + "\n";
  for (auto& r : c.rules) out += "\t\t" + print_rule(r, o) + handle_suffix(o, r.handle) + "\n";
  out += "\t}\n";
}

void print_set(std::string& out, const SetDecl& s, const PrintOptions& o) {
  out += fmt::format("\t{} {} {{{}\n", s.is_map ? "map" : "set", s.name, handle_suffix(o, s.handle));
  if (!s.key_typeof.empty()) {
    std::vector<std::string> k, d;
    for (auto& e : s.key_typeof) k.push_back(print_expr(*e, o));
    for (auto& e : s.data_typeof) d.push_back(print_expr(*e, o));
    out += "\t\ttypeof " + join(k, " . ");
    if (!d.empty()) out += std::string(" : ") + (s.data_interval ? "interval " : "") + join(d, " . ");
    else if (!s.data_types.empty()) out += " : " + join(s.data_types, " . ");
    out += "\n";
  } else {
    out += "\t\ttype " + join(s.key_types, " . ");
    if (!s.data_types.empty()) out += std::string(" : ") + (s.data_interval ? "interval " : "") + join(s.data_types, " . ");
    out += "\n";
  }
  // nft's declaration order: policy, size, flags, element statements,
  // timeout, gc-interval, auto-merge, comment, elements.
  if (s.policy) out += "\t\tpolicy " + *s.policy + "\n";
  if (s.size) {
    out += fmt::format("\t\tsize {}", *s.size);
    if (!s.elements.empty()) out += fmt::format("\t# count {}", s.elements.size());
    out += "\n";
  }
  if (!s.flags.empty()) out += "\t\tflags " + join(in_order(s.flags, {"constant", "dynamic", "interval", "timeout"}), ",") + "\n";
  // Set-level statements are templates for new elements: no counter values.
  PrintOptions templ = o;
  templ.stateless = true;
  for (auto& st : s.stmts) out += "\t\t" + print_stmt(*st, templ) + "\n";
  if (s.timeout) out += "\t\ttimeout " + *s.timeout + "\n";
  if (s.gc_interval) out += "\t\tgc-interval " + *s.gc_interval + "\n";
  if (s.auto_merge) out += "\t\tauto-merge\n";
  if (s.comment) out += "\t\tcomment \"" + *s.comment + "\"\n";
  if (!s.elements.empty() && !o.terse) out += "\t\telements = " + print_set_elements(s, o) + "\n";
  out += "\t}\n";
}

void print_obj(std::string& out, const ObjDecl& obj, const PrintOptions& o) {
  out += fmt::format("\t{} {} {{{}\n", obj.type, obj.name, handle_suffix(o, obj.handle));
  if (obj.comment) out += "\t\tcomment \"" + *obj.comment + "\"\n";
  auto get = [&](const char* k) { auto it = obj.opts.find(k); return it == obj.opts.end() ? std::string() : it->second; };
  auto has = [&](const char* k) { return obj.opts.count(k) > 0; };
  if (obj.type == "counter") {
    out += o.stateless ? "\n" : fmt::format("\t\tpackets {} bytes {}\n", has("packets") ? get("packets") : "0",
                                            has("bytes") ? get("bytes") : "0");
  } else if (obj.type == "quota") {
    out += "\t\t" + std::string(has("over") ? "over " : "") + get("bytes");
    if (has("used") && !o.stateless) out += " used " + get("used");
    out += "\n";
  } else if (obj.type == "limit") {
    out += "\t\trate " + std::string(has("over") ? "over " : "");
    std::string unit = get("unit");
    out += unit.find('/') != std::string::npos ? get("rate") + " " + unit : get("rate") + "/" + unit;
    if (has("burst") && !(get("burst_unit") == "packets" && get("burst") == "5") && get("burst") != "0")
      out += " burst " + get("burst") + " " + get("burst_unit");
    out += "\n";
  } else if (obj.type == "ct helper") {
    out += "\t\ttype " + get("type") + " protocol " + get("protocol") + "\n";
    out += "\t\tl3proto " + (has("l3proto") ? get("l3proto") : std::string("ip")) + "\n";
  } else if (obj.type == "ct timeout") {
    out += "\t\tprotocol " + get("protocol") + "\n";
    out += "\t\tl3proto " + (has("l3proto") ? get("l3proto") : std::string("ip")) + "\n";
    out += "\t\tpolicy = { " + get("policy") + " }\n";
  } else if (obj.type == "ct expectation") {
    out += "\t\tprotocol " + get("protocol") + "\n";
    out += "\t\tdport " + get("dport") + "\n";
    out += "\t\ttimeout " + get("timeout") + "\n";
    out += "\t\tsize " + get("size") + "\n";
    out += "\t\tl3proto " + (has("l3proto") ? get("l3proto") : std::string("ip")) + "\n";
  } else if (obj.type == "secmark") {
    out += "\t\t" + get("context") + "\n";
  } else if (obj.type == "synproxy") {
    if (has("mss")) out += "\t\tmss " + get("mss") + "\n";
    if (has("wscale")) out += "\t\twscale " + get("wscale") + "\n";
    std::vector<std::string> f;
    if (has("timestamp")) f.push_back("timestamp");
    if (has("sack-perm")) f.push_back("sack-perm");
    if (!f.empty()) out += "\t\t" + join(f, " ") + "\n";
  } else {
    for (auto& k : obj.order) out += "\t\t" + k + " " + get(k.c_str()) + "\n";
  }
  out += "\t}\n";
}

void print_flowtable(std::string& out, const TableDecl& t, const FlowtableDecl& f, const PrintOptions& o) {
  out += fmt::format("\tflowtable {} {{{}\n", f.name, handle_suffix(o, f.handle));
  if (f.comment) out += "\t\tcomment \"" + *f.comment + "\"\n";
  out += "\t\thook " + f.hook.value_or("ingress") + " priority " +
         print_priority(t.family, "flowtable", f.priority.get(), o) + "\n";
  if (!f.devices.empty()) out += "\t\tdevices = " + print_devices(f.devices) + "\n";
  std::vector<std::string> flags;
  bool counter = false;
  for (auto& fl : f.flags) (fl == "counter" ? counter = true : (flags.push_back(fl), false));
  if (!flags.empty()) out += "\t\tflags " + join(flags, ",") + "\n";
  if (counter) out += "\t\tcounter\n";
  out += "\t}\n";
}

}  // namespace

std::string print_ruleset(const Ruleset& rs, const PrintOptions& o) {
  std::string out;
  for (const auto& t : rs.tables) {
    out += fmt::format("table {} {} {{{}\n", t.family, t.name, handle_suffix(o, t.handle));
    bool need_blank = false;
    if (t.comment) { out += "\tcomment \"" + *t.comment + "\"\n"; need_blank = true; }
    if (!t.flags.empty()) { out += "\tflags " + join(t.flags, ",") + "\n"; need_blank = true; }
    auto item = [&](auto&& printer) {
      if (need_blank) out += "\n";
      printer();
      need_blank = true;
    };
    for (auto& obj : t.objs) item([&] { print_obj(out, obj, o); });
    for (auto& s : t.sets) item([&] { print_set(out, s, o); });
    for (auto& f : t.flowtables) item([&] { print_flowtable(out, t, f, o); });
    for (auto& c : t.chains) item([&] { print_chain(out, t, c, o); });
    out += "}\n";
  }
  return out;
}

}  // namespace nfx
