#include "compile.h"

#include <nfx/jit.h>

#include <cstdio>
#include <stdexcept>

namespace nfx::cli {

int run_compile(const Ruleset& rs, const std::string& emit, bool stats, const jit::Options& options) {
  ir::Program prog;
  Diagnostics diags;
  bool ok = lower_ruleset(rs, prog, diags);
  if (!diags.all().empty()) std::fputs(diags.format().c_str(), stderr);
  if (!ok) return 1;
  std::string out;
  if (emit == "ir" && !stats) {
    out = ir::print_program(prog);
  } else {
    std::vector<std::string> errors;
    auto vm = vm::Interpreter::load(std::move(prog), errors);
    if (!vm) {
      for (const auto& e : errors) std::fprintf(stderr, "Error: %s\n", e.c_str());
      return 1;
    }
    try {
      if (emit == "ir") out = ir::print_program(vm->program());
      else out = jit::emit(*vm, emit == "llvm" ? jit::Emit::Llvm : jit::Emit::Asm, options);
      if (stats) {
        jit::Stats s;
        jit::compile(*vm, options, &s);
        std::fprintf(stderr, "%s\n", s.summary().c_str());
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "Error: %s\n", e.what());
      return 1;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace nfx::cli
