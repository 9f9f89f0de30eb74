// The tests/py suite: `.t` files of rule lines, each checked in every table
// and chain that the file's header lines declare.
//
// Line kinds:
//   :chain;type filter hook input priority 0      chain declaration
//   *family;table;chain1,chain2                    table using those chains
//   !name type ipv4_addr [flags ...][timeout ...];ok|fail   named set/map
//   ?name elem, elem;ok|fail                       elements for a set
//   %name type counter|quota ...|ct helper {...};ok|fail    stateful object
//   rule;ok[;listing]  rule;fail                   rule lines
//   - rule;ok                                      skipped upstream (counted apart)
#include <fmt/format.h>
#include <nfx/compiler.h>

#include <algorithm>
#include <sstream>

#include "conformance.h"

namespace fs = std::filesystem;

namespace conformance {
namespace {

struct ChainSpec {
  std::string name, decl;
};

struct TableState {
  std::string family, name;
  std::vector<std::string> chains;
  nfx::Ruleset rs;  // the table with its chains, sets, objects and elements so far
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// Applies nft command text to a copy of `rs`; returns the errors (empty on success).
std::string apply_text(nfx::Ruleset& rs, const std::string& text) {
  nfx::Diagnostics diags;
  nfx::Script script = nfx::parse_string(text, "<cmdline>", diags);
  if (!diags.has_errors()) {
    nfx::Ruleset next = rs;
    if (nfx::apply_script(script, next, diags)) rs = std::move(next);
  }
  return diags.has_errors() ? diags.format() : std::string();
}

// The rule lines printed inside `chain` of the listing.
std::vector<std::string> chain_rules(const std::string& listing, const std::string& chain) {
  std::vector<std::string> rules;
  std::istringstream in(listing);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside) {
      inside = line == "\tchain " + chain + " {";
      continue;
    }
    if (line == "\t}") break;
    if (line.rfind("\t\t", 0) != 0) continue;
    std::string body = line.substr(2);
    if (body.rfind("type ", 0) == 0 || body.rfind("comment ", 0) == 0 || body.rfind("policy ", 0) == 0 ||
        body.rfind("devices ", 0) == 0 || body.rfind("flags ", 0) == 0)
      continue;
    rules.push_back(body);
  }
  return rules;
}

// `!name type X [flags Y] [timeout Z]` -> `add set|map F T name { type X; flags Y; timeout Z; }`
std::string set_command(const TableState& t, const std::string& spec) {
  std::istringstream in(spec);
  std::string name;
  in >> name;
  std::string rest;
  std::getline(in, rest);
  rest = trim(rest);
  for (const char* kw : {" flags ", " timeout ", " size "}) {
    size_t p = rest.find(kw);
    if (p != std::string::npos) rest.replace(p, 1, "; ");
  }
  // A map's key and data are split by " : " outside any set braces.
  bool is_map = rest.find(" : ") != std::string::npos;
  return fmt::format("add {} {} {} {} {{ {}; }}", is_map ? "map" : "set", t.family, t.name, name, rest);
}

// `%name type quota 25 mbytes` -> `add quota F T name 25 mbytes`
std::string object_command(const TableState& t, const std::string& spec) {
  std::istringstream in(spec);
  std::string name, type_kw;
  in >> name >> type_kw;
  std::string rest;
  std::getline(in, rest);
  rest = trim(rest);
  std::string type;
  if (rest.rfind("ct ", 0) == 0) {
    size_t sp = rest.find(' ', 3);
    type = rest.substr(0, sp);
    rest = sp == std::string::npos ? "" : rest.substr(sp + 1);
  } else {
    size_t sp = rest.find(' ');
    type = rest.substr(0, sp);
    rest = sp == std::string::npos ? "" : rest.substr(sp + 1);
  }
  return fmt::format("add {} {} {} {} {}", type, t.family, t.name, name, rest);
}

std::string element_command(const TableState& t, const std::string& spec) {
  std::istringstream in(spec);
  std::string name;
  in >> name;
  std::string rest;
  std::getline(in, rest);
  return fmt::format("add element {} {} {} {{ {} }}", t.family, t.name, name, trim(rest));
}

class PyFile {
 public:
  PyFile(const fs::path& path, std::string rel, Results& out) : path_(path), rel_(std::move(rel)), out_(out) {}

  void run() {
    std::istringstream in(read_text(path_));
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      lineno++;
      line = trim(line);
      if (line.empty() || line[0] == '#') continue;
      where_ = fmt::format("{}:{}", rel_, lineno);
      switch (line[0]) {
        case ':': chain_line(line.substr(1)); break;
        case '*': table_line(line.substr(1)); break;
        case '!': decl_line(line.substr(1), &set_command); break;
        case '%': decl_line(line.substr(1), &object_command); break;
        case '?': decl_line(line.substr(1), &element_command); break;
        case '-': rule_line(trim(line.substr(1)), true); break;
        default: rule_line(line, false); break;
      }
    }
  }

 private:
  void chain_line(const std::string& s) {
    auto f = split(s, ';');
    chains_.push_back({trim(f[0]), f.size() > 1 ? trim(f[1]) : ""});
  }

  void table_line(const std::string& s) {
    auto f = split(s, ';');
    if (f.size() < 3) return;
    TableState t;
    t.family = trim(f[0]);
    t.name = trim(f[1]);
    for (auto& c : split(f[2], ',')) t.chains.push_back(trim(c));
    std::string cmds = fmt::format("add table {} {}\n", t.family, t.name);
    for (const auto& c : t.chains) {
      auto it = std::find_if(chains_.begin(), chains_.end(), [&](const ChainSpec& cs) { return cs.name == c; });
      std::string decl = it != chains_.end() ? it->decl : "";
      cmds += fmt::format("add chain {} {} {} {{ {}; }}\n", t.family, t.name, c, decl);
    }
    std::string err = apply_text(t.rs, cmds);
    if (!err.empty()) {
      out_["py-decl"].failures.push_back({where_, "table setup failed:\n" + cmds + err});
      return;
    }
    tables_.push_back(std::move(t));
  }

  // Sets, objects and elements: applied to every table; counted in py-decl.
  void decl_line(const std::string& s, std::string (*make)(const TableState&, const std::string&)) {
    size_t semi = s.rfind(';');
    if (semi == std::string::npos) return;
    std::string spec = trim(s.substr(0, semi));
    bool want_ok = trim(s.substr(semi + 1)) == "ok";
    std::string problems;
    for (auto& t : tables_) {
      std::string cmd = make(t, spec);
      std::string err = apply_text(t.rs, cmd);
      if (want_ok && !err.empty()) problems += cmd + "\n" + err;
      if (!want_ok && err.empty()) problems += cmd + "\n  accepted, but must be rejected\n";
    }
    record("py-decl", problems);
  }

  void rule_line(const std::string& s, bool skipped) {
    auto f = split(s, ';');
    if (f.size() < 2) return;
    std::string rule = trim(f[0]);
    std::string status = trim(f[1]);
    std::string expect = f.size() > 2 ? trim(s.substr(f[0].size() + f[1].size() + 2)) : rule;
    if (expect.empty()) expect = rule;
    bool want_ok = status == "ok";
    std::string group = skipped ? "py-skipped" : want_ok ? "py-ok" : "py-fail";
    std::string problems;
    for (const auto& t : tables_) {
      for (const auto& chain : t.chains) {
        nfx::Ruleset rs = t.rs;
        std::string cmd = fmt::format("add rule {} {} {} {}", t.family, t.name, chain, rule);
        std::string err = apply_text(rs, cmd);
        if (!want_ok) {
          if (err.empty()) problems += fmt::format("{}\n  accepted, but must be rejected\n", cmd);
          continue;
        }
        if (!err.empty()) {
          problems += cmd + "\n" + err;
          continue;
        }
        // nft-test.py lists stateless (counters, quotas and `last` without
        // their values) and with numeric protocols (`ip protocol 6`).
        nfx::PrintOptions po;
        po.stateless = true;
        po.numeric_protocol = true;
        auto rules = chain_rules(nfx::print_ruleset(rs, po), chain);
        std::string got = rules.empty() ? "<no rule listed>" : rules.back();
        if (normalize_anonymous_sets(got) != normalize_anonymous_sets(expect))
          problems += fmt::format("{}\n  expected: {}\n  listed:   {}\n", cmd, expect, got);
      }
    }
    record(group, problems);
  }

  void record(const std::string& group, const std::string& problems) {
    if (problems.empty())
      out_[group].passed++;
    else
      out_[group].failures.push_back({where_, problems});
  }

  fs::path path_;
  std::string rel_;
  Results& out_;
  std::string where_;
  std::vector<ChainSpec> chains_;
  std::vector<TableState> tables_;
};

}  // namespace

void run_py_suite(const fs::path& py_dir, const std::string& filter, Results& out) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(py_dir))
    if (e.is_regular_file() && e.path().extension() == ".t") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    std::string rel = fs::relative(p, py_dir).string();
    if (!filter.empty() && rel.find(filter) == std::string::npos) continue;
    PyFile(p, "py/" + rel, out).run();
  }
  for (const char* g : {"py-ok", "py-fail", "py-skipped", "py-decl"}) out[g];
}

}  // namespace conformance
