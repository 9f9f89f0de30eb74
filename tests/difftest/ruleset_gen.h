// Seeded random nft rulesets for the differential test: stateless rules
// over the headers frame_gen.h builds, in the families and hooks of one
// oracle path, with named sets and maps, verdict maps, jumps and gotos,
// counters, limits, quotas, dynamic sets, numgen/jhash and payload/meta
// rewrites. Every construct is one that both nft and the interpreter take.
#pragma once

#include <string>

#include "random_source.h"

namespace nfx::difftest {

std::string random_ruleset(Random& r, Path path);

}  // namespace nfx::difftest
