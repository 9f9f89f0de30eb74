// Seeded random rulesets for the JIT differential test (--against jit):
// shaped for the JIT's own paths rather than for the kernel's acceptance.
// Long runs of pure match rules ending in accept or drop (which the JIT
// compiles into classifiers: prefixes, ranges, comparisons, contradictions,
// raw loads of odd lengths, link-layer fields), constant sets and verdict
// maps (exact, interval, concatenated, with catch-all elements), jumps,
// gotos and returns into regular chains, verdict maps that jump and goto,
// and, between them, the statements the JIT leaves to the interpreter
// (rewrites, marks, quotas, limits, numgen, dynamic sets, log, reject).
#pragma once

#include <nfx/pipeline.h>

#include <string>

#include "random_source.h"

namespace nfx::difftest {

std::string random_jit_ruleset(Random& r, pipeline::Path path);

// A ruleset ruleset_gen made for the forward path with its forward and
// prerouting chains moved to the output hook (the oracle has no output
// path; the JIT mode runs it).
std::string output_hooks(std::string forward_ruleset);

}  // namespace nfx::difftest
