// libFuzzer target: arbitrary bytes as an nft script through the parser,
// semantic checks and the printer. Any crash, hang, leak or UB is a bug.
#include <nfx/compiler.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nfx::Diagnostics diags;
  nfx::ParseOptions opts;  // no include path: `include` of arbitrary names must fail cleanly
  nfx::Script script = nfx::parse_string(text, "<fuzz>", diags, opts);
  nfx::Ruleset rs;
  if (!diags.has_errors() && nfx::apply_script(script, rs, diags)) {
    (void)nfx::print_ruleset(rs, {});
    nfx::PrintOptions po;
    po.json = true;
    (void)nfx::print_ruleset_json(rs, po);
  }
  (void)diags.format();
  return 0;
}
