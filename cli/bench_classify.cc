#include "bench_classify.h"

#include <fmt/format.h>
#include <nfx/jit.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace nfx::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct TraceLine {
  uint32_t src, dst;
  uint16_t sport, dport;
  uint8_t proto;
};

// One packet a line: `src dst sport dport proto`, decimal (dpdk-test-acl's
// trace format; anything after the fifth field is ignored).
bool read_trace(const std::string& path, std::vector<TraceLine>& out) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "Error: %s: cannot open\n", path.c_str());
    return false;
  }
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    unsigned long long src, dst, sport, dport, proto;
    if (!(f >> src >> dst >> sport >> dport >> proto) || src > UINT32_MAX || dst > UINT32_MAX || sport > 65535 ||
        dport > 65535 || proto > 255) {
      std::fprintf(stderr, "%s:%zu: expected `src dst sport dport proto` as decimal integers\n", path.c_str(), n);
      return false;
    }
    out.push_back({static_cast<uint32_t>(src), static_cast<uint32_t>(dst), static_cast<uint16_t>(sport),
                   static_cast<uint16_t>(dport), static_cast<uint8_t>(proto)});
  }
  return true;
}

void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v));
}

// Ethernet, IPv4 (no options), then a TCP header, a UDP header, or for other
// protocols 8 bytes that start with the two ports (where rte_acl reads them).
vm::Packet make_packet(const TraceLine& t) {
  size_t l4 = t.proto == 6 ? 20 : 8;
  std::vector<uint8_t> b(14 + 20 + l4, 0);
  b[0] = 0x02, b[5] = 0x02, b[6] = 0x02, b[11] = 0x01;
  put16(b, 12, 0x0800);
  b[14] = 0x45;
  put16(b, 16, static_cast<uint16_t>(20 + l4));
  b[22] = 64;
  b[23] = t.proto;
  put32(b, 26, t.src);
  put32(b, 30, t.dst);
  uint32_t sum = 0;
  for (size_t i = 14; i < 34; i += 2) sum += static_cast<uint32_t>(b[i] << 8 | b[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(b, 24, static_cast<uint16_t>(~sum));
  put16(b, 34, t.sport);
  put16(b, 36, t.dport);
  if (t.proto == 6) b[46] = 0x50;
  if (t.proto == 17) put16(b, 38, 8);
  vm::Packet p;
  p.frame = packet::Frame(std::span<const uint8_t>(b.data(), b.size()));
  p.layout = packet::parse_layout(p.frame.bytes(), packet::LinkType::Ethernet, packet::Context::IpStack);
  p.meta.iif = 2, p.meta.iifname = "eth0";
  p.meta.oif = 3, p.meta.oifname = "eth1";
  return p;
}

struct Outcome {
  ir::VerdictCode verdict;
  uint64_t handle;
  bool operator==(const Outcome&) const = default;
};

// Best ns per packet over `passes` runs of the first `n` packets.
double time_passes(vm::Interpreter& vm, std::vector<vm::Packet>& pkts, size_t n, int passes, std::vector<Outcome>& seen) {
  double best = 1e300;
  seen.assign(n, {});
  for (int p = 0; p < passes; ++p) {
    auto t0 = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      vm::Decision d = vm.run_hook(ir::Family::Ip, vm::Hook::Forward, pkts[i]);
      seen[i] = {d.verdict, d.handle};
    }
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / static_cast<double>(n);
    best = std::min(best, ns);
  }
  return best;
}

}  // namespace

int run_bench_classify(const Ruleset& rs, const BenchOptions& o) {
  ir::Program prog;
  Diagnostics diags;
  bool lowered = lower_ruleset(rs, prog, diags);
  if (!diags.all().empty()) std::fputs(diags.format().c_str(), stderr);
  if (!lowered) return 1;
  size_t rules = 0;
  for (const auto& t : prog.tables)
    for (const auto& c : t.chains) rules += c.rules.size();
  std::vector<std::string> errors;
  auto vm = vm::Interpreter::load(std::move(prog), errors);
  if (!vm) {
    for (const auto& e : errors) std::fprintf(stderr, "Error: %s\n", e.c_str());
    return 1;
  }
  std::vector<TraceLine> trace;
  if (!read_trace(o.trace, trace)) return 1;
  if (trace.empty()) {
    std::fprintf(stderr, "Error: %s: no packets\n", o.trace.c_str());
    return 1;
  }
  std::vector<vm::Packet> pkts;
  pkts.reserve(trace.size());
  for (const TraceLine& t : trace) pkts.push_back(make_packet(t));

  // The interpreter: as many packets as fit in a pass of interp_pass_s.
  std::vector<Outcome> interp, jit;
  size_t probe = std::min<size_t>(pkts.size(), 64);
  double probe_ns = time_passes(*vm, pkts, probe, 1, interp);
  size_t n_interp = std::clamp<size_t>(static_cast<size_t>(o.interp_pass_s * 1e9 / std::max(probe_ns, 1.0)), probe, pkts.size());
  double interp_ns = time_passes(*vm, pkts, n_interp, o.passes, interp);

  auto t0 = Clock::now();
  jit::Stats stats;
  vm->install_native(jit::compile(*vm, {}, &stats));
  double compile_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  double jit_ns = time_passes(*vm, pkts, pkts.size(), o.passes, jit);

  size_t mismatches = 0, accepted = 0;
  for (size_t i = 0; i < pkts.size(); ++i) {
    if (i < n_interp && !(interp[i] == jit[i])) ++mismatches;
    accepted += jit[i].verdict == ir::VerdictCode::Accept;
  }
  std::printf(
      "{\"rules\": %zu, \"packets\": %zu, \"interp_ns_per_packet\": %.2f, \"jit_ns_per_packet\": %.2f, "
      "\"compile_ms\": %.2f, \"interp_packets\": %zu, \"accepted\": %zu, \"mismatches\": %zu, \"classifiers\": %zu, "
      "\"classified_rules\": %zu, \"classifier_bytes\": %zu, \"codegen_ms\": %.2f, \"optimize_ms\": %.2f, "
      "\"native_ms\": %.2f}\n",
      rules, pkts.size(), interp_ns, jit_ns, compile_ms, n_interp, accepted, mismatches, stats.classifiers,
      stats.classified_rules, stats.classifier_bytes, stats.codegen_ms, stats.optimize_ms, stats.native_ms);
  if (mismatches) {
    std::fprintf(stderr, "Error: the JIT and the interpreter disagree on %zu packets\n", mismatches);
    return 1;
  }
  return 0;
}

}  // namespace nfx::cli
