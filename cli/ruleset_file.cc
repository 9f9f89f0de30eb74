#include "ruleset_file.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace nfx::cli {

namespace {

bool looks_like_json(const std::string& path) {
  std::ifstream in(path);
  char c = 0;
  while (in.get(c))
    if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
  return false;
}

}  // namespace

bool load_ruleset_file(const std::string& path, const ParseOptions& opts, Ruleset& rs, std::string& errors) {
  Diagnostics diags;
  Script script;
  if (looks_like_json(path)) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    script = parse_json(ss.str(), path, diags);
  } else {
    script = parse_file(path, diags, opts);
  }
  // apply_script changes nothing when it fails
  if (!diags.has_errors()) apply_script(script, rs, diags);
  errors = diags.all().empty() ? "" : diags.format();
  return !diags.has_errors();
}

}  // namespace nfx::cli
