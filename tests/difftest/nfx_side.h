// Runs a case through nfx: the front end, lowering and the reference
// interpreter along the pipeline's path, in process.
#pragma once

#include <nfx/ir.h>
#include <nfx/pipeline.h>

#include "case_result.h"

namespace nfx::difftest {

// The front end and lowering of a ruleset file; false with the diagnostics
// in `error` when nfx refuses it.
bool lower_file(const std::string& ruleset_file, ir::Program& out, std::string& error);

// The oracle's interfaces as nfx eval is given them: tap0 (where frames come
// in, replies leave) and tap1 (where forwarded frames leave).
const pipeline::Interface& tap0();
const pipeline::Interface& tap1();
pipeline::Path pipeline_path(Path p);

// A frame as the i-th packet of a case (its timestamp as write_pcap gives it).
vm::Packet make_packet(const Bytes& frame, size_t index);

CaseResult run_nfx(const std::string& ruleset_file, const std::vector<Bytes>& frames, Path path);

// The trace of one frame through a fresh interpreter (after frames before it
// ran), for reporting a mismatch.
std::string trace_frame(const std::string& ruleset_file, const std::vector<Bytes>& frames, size_t index, Path path);
std::string trace_frame(const std::string& ruleset_file, const std::vector<Bytes>& frames, size_t index,
                        pipeline::Path path);

}  // namespace nfx::difftest
