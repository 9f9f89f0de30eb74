// Shared by the vm tests: a program from ruleset text, and frames run
// through the hook pipeline at a chosen time.
#pragma once

#include <gtest/gtest.h>
#include <nfx/compiler.h>
#include <nfx/pipeline.h>

#include <memory>
#include <string>

#include "../packet/frame_builder.h"

namespace nfx::vmtest {

using packet::testing::Bytes;

inline std::unique_ptr<vm::Interpreter> compile(const std::string& text, std::string* error = nullptr,
                                                uint64_t seed = 0) {
  Diagnostics diags;
  Script script = parse_string(text, "<test>", diags);
  Ruleset rs;
  EXPECT_TRUE(!diags.has_errors() && apply_script(script, rs, diags)) << diags.format();
  ir::Program prog;
  if (!lower_ruleset(rs, prog, diags)) {
    if (error) *error = diags.format();
    return nullptr;
  }
  std::vector<std::string> errors;
  auto vm = vm::Interpreter::load(std::move(prog), errors, seed);
  if (!vm && error)
    for (auto& e : errors) *error += e + "\n";
  return vm;
}

struct Outcome {
  pipeline::PathResult result;
  Bytes out;
};

// Runs `frame` on `path` with the given packet metadata (now_ns, sys_tz...).
inline Outcome run_meta(vm::Interpreter& vm, const Bytes& frame, const vm::PacketMeta& meta,
                        pipeline::Path path = pipeline::Path::Input) {
  vm::Packet pkt;
  pkt.frame = packet::Frame(frame.data(), frame.size());
  pkt.meta = meta;
  Outcome r;
  r.result = pipeline::run_path(vm, path, pkt, {"eth0", 2, {}, {}, {}, {}}, {"eth1", 3, {}, {}, {}, {}});
  r.out.assign(pkt.frame.data(), pkt.frame.data() + pkt.frame.size());
  return r;
}

inline Outcome run(vm::Interpreter& vm, const Bytes& frame, pipeline::Path path = pipeline::Path::Input,
                   uint64_t now_ns = 1) {
  vm::PacketMeta meta;
  meta.now_ns = now_ns;
  return run_meta(vm, frame, meta, path);
}

}  // namespace nfx::vmtest
