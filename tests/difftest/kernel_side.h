// Runs a case through the kernel with nfx_kernel_oracle (tests/oracle).
#pragma once

#include "case_result.h"

namespace nfx::difftest {

// `dir` holds the case files (ruleset.nft, frames.pcap); outputs go there too.
CaseResult run_kernel(const std::string& oracle, const std::string& dir, Path path);

}  // namespace nfx::difftest
