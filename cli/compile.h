// `nfx compile FILE --emit=ir|llvm|asm`: each stage of the compiler.
#pragma once

#include <nfx/compiler.h>
#include <nfx/jit.h>

#include <string>

namespace nfx::cli {

int run_compile(const Ruleset& rs, const std::string& emit, bool stats, const jit::Options& options);

}  // namespace nfx::cli
