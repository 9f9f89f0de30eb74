// The tests/shell dumps: each `dumps/*.nft` is what `nft list ruleset` printed
// after a test; loading it and printing it again must give it back byte for
// byte. Each `.json-nft` is the `nft -j list ruleset` form of the same ruleset.
#include <fmt/format.h>
#include <nfx/compiler.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "conformance.h"

namespace fs = std::filesystem;

namespace conformance {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// First differing line, for the failure report.
std::string first_difference(const std::string& want, const std::string& got) {
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int line = 1;; line++) {
    bool ha = static_cast<bool>(std::getline(a, la));
    bool hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) return "(differs only in the final newline)";
    if (!ha || !hb || la != lb)
      return fmt::format("line {}:\n  expected: {}\n  printed:  {}", line, ha ? la : "<end>", hb ? lb : "<end>");
  }
}

bool load_text(const std::string& text, const std::string& name, nfx::Ruleset& rs, std::string& err) {
  nfx::Diagnostics diags;
  nfx::Script script = nfx::parse_string(text, name, diags);
  if (!diags.has_errors()) nfx::apply_script(script, rs, diags);
  err = diags.has_errors() ? diags.format() : "";
  return err.empty();
}

void check_text_dump(const fs::path& p, const std::string& rel, Results& out) {
  std::string want = read_text(p);
  nfx::Ruleset rs;
  std::string err;
  if (!load_text(want, rel, rs, err)) {
    out["dump-nft"].failures.push_back({rel, err});
    return;
  }
  std::string got = nfx::print_ruleset(rs, {});
  if (got == want)
    out["dump-nft"].passed++;
  else
    out["dump-nft"].failures.push_back({rel, first_difference(want, got)});
}

// The JSON dump is checked from the text dump beside it (text in, JSON out),
// and read back as input (JSON in, text out).
void check_json_dump(const fs::path& p, const std::string& rel, Results& out) {
  fs::path text_dump = p;
  text_dump.replace_extension(".nft");
  std::string want = read_text(p);
  if (fs::exists(text_dump)) {
    nfx::Ruleset rs;
    std::string err;
    if (!load_text(read_text(text_dump), text_dump.string(), rs, err)) {
      out["dump-json"].failures.push_back({rel, "text dump does not load:\n" + err});
    } else {
      nfx::PrintOptions po;
      po.json = true;
      std::string got = nfx::print_ruleset_json(rs, po);
      if (got == want || got == want + "\n" || got + "\n" == want)
        out["dump-json"].passed++;
      else
        out["dump-json"].failures.push_back({rel, first_difference(want, got)});
    }
  }

  nfx::Diagnostics diags;
  nfx::Script script = nfx::parse_json(want, rel, diags);
  nfx::Ruleset rs;
  if (!diags.has_errors()) nfx::apply_script(script, rs, diags);
  if (diags.has_errors()) {
    out["dump-json-in"].failures.push_back({rel, diags.format()});
    return;
  }
  if (!fs::exists(text_dump)) return;
  std::string want_text = read_text(text_dump);
  std::string got = nfx::print_ruleset(rs, {});
  if (got == want_text)
    out["dump-json-in"].passed++;
  else
    out["dump-json-in"].failures.push_back({rel, first_difference(want_text, got)});
}

}  // namespace

void run_dump_suite(const fs::path& shell_dir, const std::string& filter, Results& out) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(shell_dir)) {
    if (!e.is_regular_file() || e.path().parent_path().filename() != "dumps") continue;
    auto ext = e.path().extension();
    if (ext == ".nft" || ext == ".json-nft") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    std::string rel = "shell/" + fs::relative(p, shell_dir).string();
    if (!filter.empty() && rel.find(filter) == std::string::npos) continue;
    if (p.extension() == ".nft")
      check_text_dump(p, rel, out);
    else
      check_json_dump(p, rel, out);
  }
  for (const char* g : {"dump-nft", "dump-json", "dump-json-in"}) out[g];
}

// Splits `body` at top-level ", " (outside nested braces and quotes).
static std::vector<std::string> split_elements(const std::string& body) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < body.size(); i++) {
    char c = body[i];
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == '{' || c == '[')) depth++;
    if (!quoted && (c == '}' || c == ']')) depth--;
    if (!quoted && depth == 0 && c == ',') {
      out.push_back(cur);
      cur.clear();
      while (i + 1 < body.size() && body[i + 1] == ' ') i++;
      continue;
    }
    cur += c;
  }
  out.push_back(cur);
  return out;
}

// nft-test.py compares set elements with their blanks removed, and the .t
// files rely on it: `25:accept` / `25 : accept`, `::dddd: drop`, `8888 - 8999`,
// `10.0.0.0/24  . 80`. Blanks around ':' and '-' go, runs of blanks become
// one; quoted text is kept as written.
static std::string squeeze_element(const std::string& e) {
  std::string out;
  bool quoted = false;
  for (size_t i = 0; i < e.size(); i++) {
    char c = e[i];
    if (c == '"') quoted = !quoted;
    if (!quoted && c == ' ') {
      size_t j = e.find_first_not_of(' ', i);
      bool glued = j == std::string::npos || e[j] == ':' || e[j] == '-' || out.empty() || out.back() == ':' ||
                   out.back() == '-';
      if (!glued) out += ' ';
      i = (j == std::string::npos ? e.size() : j) - 1;
      continue;
    }
    out += c;
  }
  return out;
}

std::string normalize_anonymous_sets(const std::string& rule) {
  std::string out;
  for (size_t i = 0; i < rule.size(); i++) {
    if (rule[i] != '{') {
      out += rule[i];
      continue;
    }
    int depth = 0;
    size_t j = i;
    for (; j < rule.size(); j++) {
      if (rule[j] == '{') depth++;
      if (rule[j] == '}' && --depth == 0) break;
    }
    if (j >= rule.size()) {
      out += rule.substr(i);
      break;
    }
    std::string inner = rule.substr(i + 1, j - i - 1);
    auto elems = split_elements(inner);
    for (auto& e : elems) {
      size_t b = e.find_first_not_of(' '), t = e.find_last_not_of(' ');
      e = b == std::string::npos ? "" : normalize_anonymous_sets(e.substr(b, t - b + 1));
      e = squeeze_element(e);
    }
    std::sort(elems.begin(), elems.end());
    out += "{ ";
    for (size_t k = 0; k < elems.size(); k++) out += (k ? ", " : "") + elems[k];
    out += " }";
    i = j;
  }
  return out;
}

}  // namespace conformance
