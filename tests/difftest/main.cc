// nfx_difftest: the differential test of nfx's interpreter against the
// kernel. For each case (a ruleset and a list of Ethernet frames) it runs
// the frames through the kernel with nfx_kernel_oracle and through nfx's
// pipeline and interpreter, and compares, frame by frame, whether the frame
// got through and the bytes that left, then every rule's counter.
//
//   nfx_difftest --oracle PATH [--path bridge|forward|input|all]
//                [--seed S] [--rulesets N] [--frames M] [--work DIR]
//   nfx_difftest --oracle PATH --ruleset R.nft [--pcap IN.pcap | --frames M]
//                --path ...          (one given ruleset)
//
// With --against jit the other side is not the kernel but the same
// interpreter with the program compiled to native code (compiler/jit): no
// oracle and no root; the output path too; see jit_side.h.
//
//   nfx_difftest --against jit [--path bridge|forward|input|output|all]
//                [--gen kernel|jit|both] [--seed S] [--rulesets N] [--frames M]
//   nfx_difftest --against jit --ruleset R.nft [--pcap IN.pcap | --frames M]
//                [--path ...|all] [--jit-variant K|all]
//
// Generated cases are seeded: case k of seed S is reproducible from S and k
// alone. A mismatching case is kept in the work directory with the command
// that replays it. Exit status 1 on any mismatch or on a case either side
// cannot run. See README.md for what is compared and the named differences.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "compare.h"
#include "frame_gen.h"
#include "jit_gen.h"
#include "jit_side.h"
#include "kernel_side.h"
#include "nfx_side.h"
#include "ruleset_gen.h"

namespace fs = std::filesystem;
using namespace nfx::difftest;
namespace pipeline = nfx::pipeline;

namespace {

struct Options {
  std::string oracle, path = "all", work, ruleset, pcap;
  std::string against = "kernel", gen = "both", jit_variant = "all";
  uint64_t seed = 1;
  int rulesets = 50;
  int frames = 10000;
  int show = 8;
};

Path path_from(const std::string& s) {
  if (s == "forward") return Path::Forward;
  if (s == "input") return Path::Input;
  return Path::Bridge;
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p);
  f << s;
}

struct Totals {
  uint64_t cases = 0, frames = 0, accepted = 0, out_frames = 0, counters = 0, mismatches = 0, failed = 0;
};

// Whether the counters of both sides agree after the first `n` frames.
bool counters_agree_after(const Options& o, const fs::path& dir, const std::vector<Bytes>& frames, size_t n, Path path) {
  fs::path sub = dir / "bisect";
  fs::create_directories(sub);
  fs::copy_file(dir / "ruleset.nft", sub / "ruleset.nft", fs::copy_options::overwrite_existing);
  std::vector<Bytes> head(frames.begin(), frames.begin() + static_cast<long>(n));
  write_pcap((sub / "frames.pcap").string(), head);
  CaseResult k = run_kernel(o.oracle, sub.string(), path);
  CaseResult x = run_nfx((sub / "ruleset.nft").string(), head, path);
  return k.error.empty() && x.error.empty() && k.counters == x.counters;
}

// The first frame after which the counters differ (verdicts and outputs
// agreeing, a counter mismatch names no frame): a binary search over
// prefixes of the case, each run on both sides.
size_t first_counter_divergence(const Options& o, const fs::path& dir, const std::vector<Bytes>& frames, Path path) {
  size_t lo = 0, hi = frames.size();  // agree after lo frames, differ after hi
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (counters_agree_after(o, dir, frames, mid, path)) lo = mid;
    else hi = mid;
  }
  return hi - 1;
}

// Runs one case in `dir` (ruleset.nft, frames.pcap written). Returns false
// on any mismatch.
bool run_case(const Options& o, const fs::path& dir, const std::vector<Bytes>& frames, Path path,
              const std::string& label, Totals& tot) {
  ++tot.cases;
  CaseResult k = run_kernel(o.oracle, dir.string(), path);
  CaseResult n = run_nfx((dir / "ruleset.nft").string(), frames, path);
  std::string replay = fmt::format("replay: {} --oracle {} --ruleset {} --pcap {} --path {}", "nfx_difftest", o.oracle,
                                   (dir / "ruleset.nft").string(), (dir / "frames.pcap").string(), path_name(path));
  if (!k.error.empty() || !n.error.empty()) {
    ++tot.failed;
    fmt::print("{}: cannot run the case\n  kernel: {}\n  nfx: {}\n  {}\n", label, k.error.empty() ? "ok" : k.error,
               n.error.empty() ? "ok" : n.error, replay);
    return false;
  }
  std::vector<Mismatch> ms = compare(k, n, path, frames);
  size_t accepted = 0, outs = 0;
  for (const auto& f : k.frames) accepted += f.accepted, outs += f.out.size();
  tot.frames += frames.size();
  tot.accepted += accepted;
  tot.out_frames += outs;
  tot.counters += k.counters.size();
  tot.mismatches += ms.size();
  fmt::print("{}: {} frames, kernel accepted {}, {} left, {} counters compared, {} mismatches\n", label, frames.size(),
             accepted, outs, k.counters.size(), ms.size());
  int shown = 0;
  for (const Mismatch& m : ms) {
    if (shown++ == o.show) {
      fmt::print("  ... {} more\n", ms.size() - static_cast<size_t>(o.show));
      break;
    }
    if (m.frame == SIZE_MAX) {
      fmt::print("  {}\n", m.what);
      continue;
    }
    fmt::print("  frame {}: {}\n    bytes {}\n", m.frame + 1, m.what, hex(frames[m.frame]));
    fmt::print("{}", trace_frame((dir / "ruleset.nft").string(), frames, m.frame, path));
  }
  bool frame_named = false;
  for (const Mismatch& m : ms) frame_named |= m.frame != SIZE_MAX;
  if (!ms.empty() && !frame_named) {
    size_t f = first_counter_divergence(o, dir, frames, path);
    fmt::print("  counters first differ after frame {}\n    bytes {}\n", f + 1, hex(frames[f]));
    fmt::print("{}", trace_frame((dir / "ruleset.nft").string(), frames, f, path));
  }
  if (!ms.empty()) fmt::print("  {}\n", replay);
  return ms.empty();
}

int run(const Options& o) {
  if (geteuid() != 0) {
    std::fputs("nfx_difftest: needs root (the kernel oracle creates network namespaces and TAP devices)\n", stderr);
    return 2;
  }
  fs::path work = o.work.empty() ? fs::temp_directory_path() / fmt::format("nfx-difftest-{}", getpid()) : fs::path(o.work);
  fs::create_directories(work);
  Totals tot;
  bool ok = true;
  auto start = std::chrono::steady_clock::now();
  if (!o.ruleset.empty()) {
    Path path = path_from(o.path);
    fs::path dir = work / "given";
    fs::create_directories(dir);
    fs::copy_file(o.ruleset, dir / "ruleset.nft", fs::copy_options::overwrite_existing);
    std::vector<Bytes> frames;
    if (!o.pcap.empty()) frames = read_pcap(o.pcap);
    else {
      Random r(o.seed);
      for (int i = 0; i < o.frames; ++i) frames.push_back(random_frame(r, path));
    }
    write_pcap((dir / "frames.pcap").string(), frames);
    ok = run_case(o, dir, frames, path, o.ruleset, tot);
  } else {
    static const Path all[] = {Path::Bridge, Path::Forward, Path::Input};
    for (int c = 0; c < o.rulesets; ++c) {
      Path path = o.path == "all" ? all[c % 3] : path_from(o.path);
      // Case c of seed S: its own generator, so any case replays alone.
      Random r(o.seed * 1000003 + static_cast<uint64_t>(c));
      fs::path dir = work / fmt::format("case-{}-{}-{}", o.seed, c, path_name(path));
      fs::create_directories(dir);
      write_text(dir / "ruleset.nft", random_ruleset(r, path));
      std::vector<Bytes> frames;
      for (int i = 0; i < o.frames; ++i) frames.push_back(random_frame(r, path));
      write_pcap((dir / "frames.pcap").string(), frames);
      bool case_ok = run_case(o, dir, frames, path, fmt::format("seed {} case {} ({})", o.seed, c, path_name(path)), tot);
      if (case_ok) fs::remove_all(dir);
      ok &= case_ok;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("total: {} cases, {} frames ({} accepted by the kernel, {} frames left), {} counters, {} mismatches, "
             "{} cases not run, {:.1f} s\n",
             tot.cases, tot.frames, tot.accepted, tot.out_frames, tot.counters, tot.mismatches, tot.failed, secs);
  if (ok && o.work.empty()) fs::remove_all(work);
  else if (!ok) fmt::print("failing cases are kept in {}\n", work.string());
  return ok ? 0 : 1;
}


// ------------------------------------------------------------------ --against jit

pipeline::Path jit_path_from(const std::string& s) {
  pipeline::Path p = pipeline::Path::Bridge;
  pipeline::path_from_name(s, p);
  return p;
}

// Frames for a JIT case: mostly the path's own (as the kernel mode draws
// them), a fifth from the other paths' generators (VLAN tags, ARP and
// multicast on the routed paths, frames not addressed to the router): the
// interpreter defines what happens to them, and the JIT must agree. Output
// frames are forwarding frames sent by the host itself.
std::vector<Bytes> jit_frames(Random& r, pipeline::Path path, int n) {
  static const Path all[] = {Path::Bridge, Path::Forward, Path::Input};
  Path own = path == pipeline::Path::Bridge ? Path::Bridge : path == pipeline::Path::Input ? Path::Input : Path::Forward;
  std::vector<Bytes> frames;
  for (int i = 0; i < n; ++i) frames.push_back(random_frame(r, r.chance(80) ? own : all[r.between(0, 2)]));
  return frames;
}

std::vector<Bytes> named_frames(const std::string& ruleset) {
  std::vector<Bytes> out;
  std::ifstream in(ruleset);
  static const std::string tag = "# nfx-frame:";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(tag, 0) != 0) continue;
    Bytes f;
    std::string hex;
    for (char ch : line.substr(tag.size()))
      if (std::isxdigit(static_cast<unsigned char>(ch))) hex += ch;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) f.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    out.push_back(std::move(f));
  }
  return out;
}

struct JitTotals {
  uint64_t cases = 0, frames = 0, accepted = 0, hooks = 0, counters = 0, mismatches = 0, failed = 0;
  uint64_t classifiers = 0, classified_rules = 0, rules = 0, inlined_preds = 0, abi_preds = 0, const_sets = 0;
};

std::string jit_replay(const fs::path& dir, pipeline::Path path, int variant) {
  return fmt::format("replay: nfx_difftest --against jit --ruleset {} --pcap {} --path {} --jit-variant {}",
                     (dir / "ruleset.nft").string(), (dir / "frames.pcap").string(), pipeline_path_name(path), variant);
}

// Runs one case (ruleset.nft and frames.pcap written in `dir`) under JIT
// variant `variant`; false on any mismatch or if it cannot run.
bool run_jit_case_in(const Options& o, const fs::path& dir, const std::vector<Bytes>& frames, pipeline::Path path,
                     int variant, const std::string& label, JitTotals& tot) {
  ++tot.cases;
  const JitVariant v = jit_variant(variant);
  JitCaseResult res = run_jit_case((dir / "ruleset.nft").string(), frames, path, v, o.seed);
  if (!res.error.empty()) {
    ++tot.failed;
    fmt::print("{} [{}]: cannot run the case\n  {}\n  {}\n", label, v.name(), res.error, jit_replay(dir, path, variant));
    return false;
  }
  tot.frames += res.frames;
  tot.accepted += res.accepted;
  tot.hooks += res.hooks;
  tot.counters += res.counters;
  tot.mismatches += res.mismatches.size();
  tot.rules += res.stats.rules;
  tot.classifiers += res.stats.classifiers;
  tot.classified_rules += res.stats.classified_rules;
  tot.inlined_preds += res.stats.inlined_preds;
  tot.abi_preds += res.stats.abi_preds;
  tot.const_sets += res.stats.const_sets;
  fmt::print("{} [{}]: {} frames, {} got through, {} hooks, {} counters, {} rules ({} in {} classifiers, "
             "compiled at -O{} in {:.0f} ms), {} mismatches\n",
             label, v.name(), res.frames, res.accepted, res.hooks, res.counters, res.stats.rules,
             res.stats.classified_rules, res.stats.classifiers, res.stats.opt_level, res.stats.total_ms(),
             res.mismatches.size());
  int shown = 0;
  size_t traced = SIZE_MAX;
  for (const Mismatch& m : res.mismatches) {
    if (shown++ == o.show) {
      fmt::print("  ... {} more\n", res.mismatches.size() - static_cast<size_t>(o.show));
      break;
    }
    if (m.frame == SIZE_MAX) {
      fmt::print("  {}\n", m.what);
      continue;
    }
    fmt::print("  frame {}: {}\n", m.frame + 1, m.what);
    if (m.frame != traced) {
      fmt::print("    bytes {}\n    the interpreter's trace:\n{}", hex(frames[m.frame]),
                 trace_frame((dir / "ruleset.nft").string(), frames, m.frame, path));
      traced = m.frame;
    }
  }
  if (!res.mismatches.empty()) fmt::print("  {}\n", jit_replay(dir, path, variant));
  return res.mismatches.empty();
}

int run_jit(const Options& o) {
  fs::path work = o.work.empty() ? fs::temp_directory_path() / fmt::format("nfx-jitdiff-{}", getpid()) : fs::path(o.work);
  fs::create_directories(work);
  JitTotals tot;
  bool ok = true;
  auto start = std::chrono::steady_clock::now();
  std::vector<int> variants;
  if (o.jit_variant == "all")
    for (int k = 0; k < kJitVariants; ++k) variants.push_back(k);
  else
    variants.push_back(std::stoi(o.jit_variant));
  if (!o.ruleset.empty()) {
    std::vector<pipeline::Path> paths;
    if (o.path == "all") paths = {pipeline::Path::Bridge, pipeline::Path::Forward, pipeline::Path::Input, pipeline::Path::Output};
    else paths = {jit_path_from(o.path)};
    for (pipeline::Path path : paths) {
      fs::path dir = work / fmt::format("given-{}", pipeline_path_name(path));
      fs::create_directories(dir);
      fs::copy_file(o.ruleset, dir / "ruleset.nft", fs::copy_options::overwrite_existing);
      std::vector<Bytes> frames;
      if (!o.pcap.empty()) frames = read_pcap(o.pcap);
      else {
        // A regression case names the frames that show its bug
        // (`# nfx-frame: HEX` lines); random ones follow.
        frames = named_frames(o.ruleset);
        Random r(o.seed);
        std::vector<Bytes> more = jit_frames(r, path, o.frames);
        frames.insert(frames.end(), more.begin(), more.end());
      }
      write_pcap((dir / "frames.pcap").string(), frames);
      bool case_ok = true;
      for (int v : variants)
        case_ok &= run_jit_case_in(o, dir, frames, path, v, fmt::format("{} ({})", o.ruleset, pipeline_path_name(path)), tot);
      if (case_ok && o.work.empty()) fs::remove_all(dir);
      ok &= case_ok;
    }
  } else {
    static const pipeline::Path all[] = {pipeline::Path::Bridge, pipeline::Path::Forward, pipeline::Path::Input,
                                         pipeline::Path::Output};
    for (int c = 0; c < o.rulesets; ++c) {
      // Case c of seed S: its own generator, so any case replays alone. The
      // generators alternate (--gen both), each over the four paths in turn.
      // Every 32 cases meet each generator, path and variant together.
      bool jit_gen = o.gen == "jit" || (o.gen == "both" && c % 2 == 1);
      int k = o.gen == "both" ? c / 2 : c;
      pipeline::Path path = o.path == "all" ? all[k % 4] : jit_path_from(o.path);
      int variant = o.jit_variant == "all" ? (k + k / 4) % kJitVariants : variants[0];
      Random r(o.seed * 1000003 + static_cast<uint64_t>(c));
      fs::path dir = work / fmt::format("case-{}-{}-{}", o.seed, c, pipeline_path_name(path));
      fs::create_directories(dir);
      std::string text;
      if (jit_gen) text = random_jit_ruleset(r, path);
      else if (path == pipeline::Path::Output) text = output_hooks(random_ruleset(r, Path::Forward));
      else text = random_ruleset(r, path == pipeline::Path::Bridge ? Path::Bridge
                                 : path == pipeline::Path::Input  ? Path::Input
                                                                  : Path::Forward);
      write_text(dir / "ruleset.nft", text);
      std::vector<Bytes> frames = jit_frames(r, path, o.frames);
      write_pcap((dir / "frames.pcap").string(), frames);
      bool case_ok = run_jit_case_in(o, dir, frames, path, variant,
                                     fmt::format("seed {} case {} ({}, {} rules)", o.seed, c, pipeline_path_name(path),
                                                 jit_gen ? "jit" : "kernel"),
                                     tot);
      if (case_ok) fs::remove_all(dir);
      ok &= case_ok;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("total: {} cases, {} frames ({} got through), {} hooks compared, {} counters; {} rules compiled, {} of them "
             "in {} classifiers, predicates {} inline and {} via the vm, {} constant set lookups; {} mismatches, "
             "{} cases not run, {:.1f} s\n",
             tot.cases, tot.frames, tot.accepted, tot.hooks, tot.counters, tot.rules, tot.classified_rules,
             tot.classifiers, tot.inlined_preds, tot.abi_preds, tot.const_sets, tot.mismatches, tot.failed, secs);
  if (ok && o.work.empty()) fs::remove_all(work);
  else if (!ok) fmt::print("failing cases are kept in {}\n", work.string());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nfx_difftest: nfx's interpreter against the kernel, frame by frame"};
  Options o;
  app.add_option("--against", o.against, "kernel (through nfx_kernel_oracle, needs root) or jit (native code)")
      ->check(CLI::IsMember({"kernel", "jit"}));
  app.add_option("--oracle", o.oracle, "path to nfx_kernel_oracle")->check(CLI::ExistingFile);
  app.add_option("--path", o.path, "bridge, forward, input, output (jit only), or all (generated cases rotate)")
      ->check(CLI::IsMember({"bridge", "forward", "input", "output", "all"}));
  app.add_option("--gen", o.gen, "jit: which generator makes the rulesets: kernel (ruleset_gen), jit (jit_gen), both")
      ->check(CLI::IsMember({"kernel", "jit", "both"}));
  app.add_option("--jit-variant", o.jit_variant, "jit: the compile options, 0-3 or all (see jit_side.h)")
      ->check(CLI::IsMember({"0", "1", "2", "3", "all"}));
  app.add_option("--seed", o.seed, "seed of the generated cases");
  app.add_option("--rulesets", o.rulesets, "number of generated rulesets");
  app.add_option("--frames", o.frames, "frames per ruleset");
  app.add_option("--work", o.work, "directory for the case files (kept)");
  app.add_option("--ruleset", o.ruleset, "run this ruleset instead of generated ones")->check(CLI::ExistingFile);
  app.add_option("--pcap", o.pcap, "with --ruleset: these frames instead of generated ones")->check(CLI::ExistingFile);
  app.add_option("--show", o.show, "mismatches shown per case");
  CLI11_PARSE(app, argc, argv);
  if (o.against == "jit") {
    try {
      return run_jit(o);
    } catch (const std::exception& e) {
      fmt::print(stderr, "nfx_difftest: {}\n", e.what());
      return 1;
    }
  }
  if (o.oracle.empty()) {
    std::fputs("nfx_difftest: --oracle is required against the kernel\n", stderr);
    return 2;
  }
  if (o.path == "output") {
    std::fputs("nfx_difftest: the oracle has no output path\n", stderr);
    return 2;
  }
  if (!o.ruleset.empty() && o.path == "all") {
    std::fputs("nfx_difftest: --ruleset needs --path bridge, forward or input\n", stderr);
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "nfx_difftest: {}\n", e.what());
    return 1;
  }
}
