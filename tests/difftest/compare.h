// Compares what the kernel and nfx did with a case, frame by frame.
#pragma once

#include <string>
#include <vector>

#include "case_result.h"

namespace nfx::difftest {

struct Mismatch {
  size_t frame = 0;  // 0-based; SIZE_MAX for counters
  std::string what;
};

// `frames` are the case's input frames (replies are compared only where the
// ruleset, not the host's own stack, can have caused them).
std::vector<Mismatch> compare(const CaseResult& kernel, const CaseResult& nfx, Path path,
                              const std::vector<Bytes>& frames);

std::string hex(const Bytes& b);

}  // namespace nfx::difftest
