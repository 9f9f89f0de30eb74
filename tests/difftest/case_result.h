// What one side (the kernel or nfx) did with a case: per frame, whether it
// got through and the frames that left; after the run, the rules' counters.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "random_source.h"

namespace nfx::difftest {

struct FrameOutcome {
  bool accepted = false;
  std::vector<Bytes> out;      // frames that left (bridge and forward paths)
  std::vector<Bytes> replies;  // frames sent back out of the input port (reject, ICMP errors)
};

// family, table, chain, handle -> packets, bytes of the rule's first counter
using CounterKey = std::tuple<std::string, std::string, std::string, uint64_t>;
using Counters = std::map<CounterKey, std::pair<uint64_t, uint64_t>>;

struct CaseResult {
  std::vector<FrameOutcome> frames;
  Counters counters;
  std::string error;  // non-empty: the side could not run the case
};

// The frames, one per pcap record, and back.
void write_pcap(const std::string& path, const std::vector<Bytes>& frames);
std::vector<Bytes> read_pcap(const std::string& path, std::vector<long>* seconds = nullptr);

}  // namespace nfx::difftest
