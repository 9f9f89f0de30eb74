// libFuzzer target: arbitrary bytes as libnftables JSON input.
#include <nfx/compiler.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nfx::Diagnostics diags;
  nfx::Script script = nfx::parse_json(text, "<fuzz>", diags);
  nfx::Ruleset rs;
  if (!diags.has_errors() && nfx::apply_script(script, rs, diags)) (void)nfx::print_ruleset(rs, {});
  (void)diags.format();
  return 0;
}
