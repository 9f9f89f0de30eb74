// The JIT against the interpreter (`nfx_difftest --against jit`): a case
// runs through two interpreters loaded from the same program, one of them
// with the program compiled to native code (compiler/jit) installed, along
// the same pipeline path, and everything either side shows is compared.
#pragma once

#include <nfx/jit.h>
#include <nfx/pipeline.h>

#include <string>
#include <vector>

#include "compare.h"

namespace nfx::difftest {

// The JIT options a case is compiled with. Generated cases rotate through
// the variants; a given ruleset runs under all of them.
struct JitVariant {
  int opt_level = -1;  // -1: the JIT picks by size
  bool classify = true;
  size_t classify_min_rules = 12;
  std::string name() const;
};
constexpr int kJitVariants = 4;
// 0: the defaults (the -O level picked by size); 1: -O2 with every run of
// pure match rules a classifier (from one rule on); 2: -O0 with classifiers
// from 4 rules; 3: no classifiers at -O3.
JitVariant jit_variant(int k);

const char* pipeline_path_name(pipeline::Path p);

struct JitCaseResult {
  std::string error;                // non-empty: the case could not run
  std::vector<Mismatch> mismatches;
  uint64_t frames = 0, accepted = 0, hooks = 0, counters = 0, native_hooks = 0;
  jit::Stats stats;                 // the compile's
};

// Runs `frames` through both sides and compares, per frame: whether the
// frame got through (and why not, before any hook), every hook's decision
// (verdict, policy or the deciding base chain and rule handle, log lines),
// the frame's bytes after the path (rewrites), its mark, priority, pkttype
// and nftrace, and the replies; after every frame, every counter statement
// of every rule (named counters included). `seed` is both interpreters'
// load seed (meta random, numgen random, symhash).
JitCaseResult run_jit_case(const std::string& ruleset_file, const std::vector<Bytes>& frames, pipeline::Path path,
                           const JitVariant& variant, uint64_t seed = 0);

}  // namespace nfx::difftest
