// Runs a case through nfx: the front end, lowering and the reference
// interpreter along the pipeline's path, in process.
#pragma once

#include "case_result.h"

namespace nfx::difftest {

CaseResult run_nfx(const std::string& ruleset_file, const std::vector<Bytes>& frames, Path path);

// The trace of one frame through a fresh interpreter (after frames before it
// ran), for reporting a mismatch.
std::string trace_frame(const std::string& ruleset_file, const std::vector<Bytes>& frames, size_t index, Path path);

}  // namespace nfx::difftest
