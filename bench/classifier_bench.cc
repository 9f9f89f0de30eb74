// Classifier benchmark: build time, size, shape and ns per lookup of
// vm::Classifier on ClassBench filter sets, against a linear scan of the
// same rules (which also checks the classifier's results on a sample).
// Keys lie inside random rules (ns_in) or are uniform over each field's
// width (ns_unif); times are thread CPU time, a low percentile of short
// rounds.
//
// usage: nfx_classifier_bench [-v] [--leaf N] [--prune N] [--depth N] [--budget N] [--groups N]
//                             [--min-group N] [--large N] [FILE...]
// Without files: every *_10k set in the corpus's classbench directory. -v
// prints each classifier's describe().
#include <nfx/vm.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <time.h>

#include "classbench_filter.h"
#include "classifier.h"

namespace {

using nfx::vm::Classifier;
using Rules = std::vector<std::vector<Classifier::Range>>;
using nfx::classbench::kFields;  // src, dst, sport, dport, proto

Rules load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "classifier_bench: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  Rules rules;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (!nfx::classbench::parse_filter(line, rules.emplace_back())) {
      std::fprintf(stderr, "classifier_bench: %s: bad line: %s\n", path.c_str(), line.c_str());
      std::exit(1);
    }
  }
  return rules;
}

int32_t linear(const Rules& rules, const uint64_t* keys) {
  for (size_t i = 0; i < rules.size(); ++i) {
    bool ok = true;
    for (const auto& r : rules[i])
      if (keys[r.field] == Classifier::kAbsent || keys[r.field] < r.lo || keys[r.field] > r.hi) {
        ok = false;
        break;
      }
    if (ok) return static_cast<int32_t>(i);
  }
  return -1;
}

uint64_t field_width(uint32_t field) { return field < 2 ? 0xFFFFFFFFu : field < 4 ? 0xFFFF : 0xFF; }

// Keys inside random rules (a random point of each range, or of the field's
// width where the rule has none), or uniform over each field's width.
std::vector<uint64_t> make_keys(const Rules& rules, size_t count, bool in_rules, std::mt19937_64& rng) {
  std::vector<uint64_t> keys(count * kFields);
  for (size_t k = 0; k < count; ++k) {
    uint64_t* key = &keys[k * kFields];
    for (uint32_t f = 0; f < kFields; ++f) key[f] = std::uniform_int_distribution<uint64_t>(0, field_width(f))(rng);
    if (!in_rules) {
      const uint64_t protos[] = {6, 17, 1, key[4]};
      key[4] = protos[rng() % 4];
      continue;
    }
    for (const auto& r : rules[rng() % rules.size()]) key[r.field] = std::uniform_int_distribution<uint64_t>(r.lo, r.hi)(rng);
  }
  return keys;
}

// CPU time of this thread: the machine may be shared.
double now_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  nfx::vm::classifier::Options options;
  std::vector<std::string> files;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    auto number = [&](const char* flag) -> unsigned long long {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "classifier_bench: %s needs a value\n", flag);
        std::exit(2);
      }
      return std::stoull(argv[++i]);
    };
    if (!std::strcmp(argv[i], "-v")) verbose = true;
    else if (!std::strcmp(argv[i], "--leaf")) options.leaf_rules = static_cast<uint32_t>(number("--leaf"));
    else if (!std::strcmp(argv[i], "--prune")) options.prune_rules = static_cast<uint32_t>(number("--prune"));
    else if (!std::strcmp(argv[i], "--depth")) options.max_depth = static_cast<uint32_t>(number("--depth"));
    else if (!std::strcmp(argv[i], "--budget")) options.entry_budget = number("--budget");
    else if (!std::strcmp(argv[i], "--groups")) options.group_fields = static_cast<uint32_t>(number("--groups"));
    else if (!std::strcmp(argv[i], "--min-group")) options.min_group = static_cast<uint32_t>(number("--min-group"));
    else if (!std::strcmp(argv[i], "--large")) options.large_share = number("--large");
    else files.push_back(argv[i]);
  }
  if (files.empty()) {
    for (const auto& entry : std::filesystem::directory_iterator(std::string(NFX_CORPUS_DIR) + "/classbench"))
      if (entry.path().filename().string().ends_with("_10k")) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
  }

  std::mt19937_64 rng(1);
  std::printf("%-10s %6s %9s %10s %6s %6s %8s %8s %8s %8s\n", "set", "rules", "build_ms", "bytes", "depth", "leafmx",
              "ns_in", "ns_unif", "lin_in", "lin_unif");
  for (const std::string& file : files) {
    const Rules rules = load(file);
    double t0 = now_ns();
    auto classifier = nfx::vm::classifier::build(kFields, rules, options);
    const double build_ms = (now_ns() - t0) / 1e6;

    double ns[2], lin[2];
    for (int mode = 0; mode < 2; ++mode) {
      constexpr size_t kKeys = 1 << 16;
      const std::vector<uint64_t> keys = make_keys(rules, kKeys, mode == 0, rng);
      // Check a sample against the linear scan, timing that too.
      constexpr size_t kChecked = 4000;
      std::vector<int32_t> want(kChecked);
      t0 = now_ns();
      for (size_t k = 0; k < kChecked; ++k) want[k] = linear(rules, &keys[k * kFields]);
      lin[mode] = (now_ns() - t0) / kChecked;
      for (size_t k = 0; k < kChecked; ++k)
        if (classifier->lookup(&keys[k * kFields]) != want[k]) {
          std::fprintf(stderr, "classifier_bench: %s: key %zu: classifier %d, linear scan %d\n", file.c_str(), k,
                       classifier->lookup(&keys[k * kFields]), want[k]);
          return 1;
        }
      // Short rounds, and a low percentile of them: the machine may be
      // shared, and a round another process ran in between is not ours.
      int64_t sum = 0;
      constexpr size_t kRound = 2048;
      std::vector<double> rounds;
      for (size_t round = 0; round < 3000; ++round) {
        const size_t from = (round * kRound) % kKeys;
        t0 = now_ns();
        for (size_t k = from; k < from + kRound; ++k) sum += classifier->lookup(&keys[k * kFields]);
        rounds.push_back((now_ns() - t0) / kRound);
      }
      std::sort(rounds.begin(), rounds.end());
      ns[mode] = rounds[rounds.size() / 20];
      if (sum == 42) std::puts("");  // keeps the lookups
    }
    std::string desc = classifier->describe();
    size_t depth = 0, leafmax = 0;
    if (auto p = desc.find("depth "); p != std::string::npos) depth = std::stoul(desc.substr(p + 6));
    if (auto p = desc.find("max "); p != std::string::npos) leafmax = std::stoul(desc.substr(p + 4));
    std::printf("%-10s %6zu %9.1f %10zu %6zu %6zu %8.1f %8.1f %8.0f %8.0f\n",
                std::filesystem::path(file).filename().c_str(), rules.size(), build_ms, classifier->memory_bytes(),
                depth, leafmax, ns[0], ns[1], lin[0], lin[1]);
    if (verbose) std::printf("  %s\n", desc.c_str());
    std::fflush(stdout);
  }
  return 0;
}
