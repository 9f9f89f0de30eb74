#include "nfx_side.h"

#include <fmt/format.h>
#include <nfx/compiler.h>
#include <nfx/pipeline.h>

#include <memory>

namespace nfx::difftest {

pipeline::Path pipeline_path(Path p) {
  switch (p) {
    case Path::Bridge: return pipeline::Path::Bridge;
    case Path::Forward: return pipeline::Path::Forward;
    case Path::Input: return pipeline::Path::Input;
  }
  return pipeline::Path::Bridge;
}

namespace {

// The oracle's interfaces: lo 1, tap0 2, tap1 3; tap0's MAC and, on the
// routed paths, its addresses (tests/oracle/README.md).
const pipeline::Interface kTap0{"tap0", 2, {198, 18, 0, 1},
                                {0xfd, 0x6e, 0x66, 0x78, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                                {0x02, 0x6e, 0x66, 0x78, 0x00, 0x01}, {0x02, 0x6e, 0x66, 0x78, 0x00, 0x04}};
// Routed frames leave tap1 for the outside gateway 02:6e:66:78:00:03.
const pipeline::Interface kTap1{"tap1", 3, {198, 18, 1, 1}, {}, {0x02, 0x6e, 0x66, 0x78, 0x00, 0x02},
                                {0x02, 0x6e, 0x66, 0x78, 0x00, 0x03}};

std::unique_ptr<vm::Interpreter> load(const std::string& file, std::string& error) {
  ir::Program prog;
  if (!lower_file(file, prog, error)) return nullptr;
  std::vector<std::string> errors;
  auto vm = vm::Interpreter::load(std::move(prog), errors);
  for (const auto& e : errors) error += e + "\n";
  return vm;
}

Counters counters_of(const vm::Interpreter& vm) {
  Counters out;
  const ir::Program& p = vm.program();
  for (size_t t = 0; t < p.tables.size(); ++t)
    for (size_t c = 0; c < p.tables[t].chains.size(); ++c)
      for (size_t r = 0; r < p.tables[t].chains[c].rules.size(); ++r) {
        const ir::Rule& rule = p.tables[t].chains[c].rules[r];
        auto values = vm.rule_counters(t, c, r);
        size_t k = 0;
        for (const ir::Stmt& s : rule.stmts) {
          if (s.kind != ir::StmtKind::Counter) continue;
          if (s.obj < 0) {  // the rule's first anonymous counter, as the oracle reports it
            out[{ir::family_name(p.tables[t].family), p.tables[t].name, p.tables[t].chains[c].name, rule.handle}] = {
                values[k].packets, values[k].bytes};
            break;
          }
          ++k;
        }
      }
  return out;
}

}  // namespace

bool lower_file(const std::string& file, ir::Program& prog, std::string& error) {
  Diagnostics diags;
  Script script = parse_file(file, diags);
  Ruleset rs;
  if (!diags.has_errors()) apply_script(script, rs, diags);
  if (!diags.has_errors()) lower_ruleset(rs, prog, diags);
  if (diags.has_errors()) {
    error = diags.format();
    return false;
  }
  return true;
}

const pipeline::Interface& tap0() { return kTap0; }
const pipeline::Interface& tap1() { return kTap1; }

vm::Packet make_packet(const Bytes& frame, size_t index) {
  vm::Packet pkt;
  pkt.frame = packet::Frame(frame.data(), frame.size());
  pkt.layout.link = packet::LinkType::Ethernet;
  pkt.meta.now_ns = 1000000000ull + static_cast<uint64_t>(index) * 1000ull;  // as write_pcap stamps it
  return pkt;
}

CaseResult run_nfx(const std::string& ruleset_file, const std::vector<Bytes>& frames, Path path) {
  CaseResult res;
  auto vm = load(ruleset_file, res.error);
  if (!vm) return res;
  for (size_t i = 0; i < frames.size(); ++i) {
    vm::Packet pkt = make_packet(frames[i], i);
    pipeline::PathResult r = pipeline::run_path(*vm, pipeline_path(path), pkt, kTap0, kTap1);
    FrameOutcome o;
    o.accepted = r.accepted;
    if (r.accepted && path != Path::Input) o.out.emplace_back(pkt.frame.data(), pkt.frame.data() + pkt.frame.size());
    for (const packet::Frame& f : r.replies) o.replies.emplace_back(f.data(), f.data() + f.size());
    res.frames.push_back(std::move(o));
  }
  res.counters = counters_of(*vm);
  return res;
}

std::string trace_frame(const std::string& ruleset_file, const std::vector<Bytes>& frames, size_t index, Path path) {
  return trace_frame(ruleset_file, frames, index, pipeline_path(path));
}

std::string trace_frame(const std::string& ruleset_file, const std::vector<Bytes>& frames, size_t index,
                        pipeline::Path path) {
  std::string error;
  auto vm = load(ruleset_file, error);
  if (!vm) return error;
  std::string text;
  for (size_t i = 0; i <= index && i < frames.size(); ++i) {
    vm::Packet pkt = make_packet(frames[i], i);
    std::function<void(const vm::TraceEvent&)> trace;
    if (i == index)
      trace = [&](const vm::TraceEvent& ev) {
        text += fmt::format("    {} {} {}: ", ev.family, ev.table, ev.chain);
        if (ev.kind == vm::TraceEvent::Rule) text += fmt::format("rule handle {} ({})\n", ev.handle, ev.verdict.empty() ? "continue" : ev.verdict);
        else if (ev.kind == vm::TraceEvent::Policy) text += fmt::format("policy {}\n", ev.verdict);
        else text += "return\n";
      };
    pipeline::PathResult r = pipeline::run_path(*vm, path, pkt, kTap0, kTap1, trace);
    if (i == index && !r.dropped_before.empty()) text += "    dropped before the hooks: " + r.dropped_before + "\n";
  }
  return text;
}

}  // namespace nfx::difftest
