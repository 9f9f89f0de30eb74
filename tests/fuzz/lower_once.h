// The fuzz targets' rulesets: checked and lowered once, aborting on an error
// (a target whose ruleset does not load would fuzz nothing).
#pragma once

#include <nfx/compiler.h>

#include <cstdlib>

inline nfx::ir::Program lower_or_abort(const char* text) {
  nfx::Diagnostics diags;
  nfx::Script script = nfx::parse_string(text, "<fuzz>", diags);
  nfx::Ruleset rs;
  nfx::ir::Program p;
  if (diags.has_errors() || !nfx::apply_script(script, rs, diags) || !nfx::lower_ruleset(rs, p, diags)) std::abort();
  return p;
}
