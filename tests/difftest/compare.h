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

std::vector<Mismatch> compare(const CaseResult& kernel, const CaseResult& nfx, Path path);

std::string hex(const Bytes& b);

}  // namespace nfx::difftest
