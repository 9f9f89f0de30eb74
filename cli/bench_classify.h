// `nfx bench classify RULESET TRACE`: classification speed of the
// interpreter and the JIT on IPv4 frames built from a ClassBench trace.
#pragma once

#include <nfx/compiler.h>

#include <string>

namespace nfx::cli {

struct BenchOptions {
  std::string trace;
  int passes = 5;             // best of
  double interp_pass_s = 0.5; // the interpreter runs as many packets as fit in this per pass
};

int run_bench_classify(const Ruleset& rs, const BenchOptions& o);

}  // namespace nfx::cli
