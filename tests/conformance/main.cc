// nfx_conformance CORPUS_DIR [--ratchet FILE] [--update-ratchet FILE]
//                 [--show GROUP] [--filter TEXT]
//
// Measures the front end against the nftables corpus (py rule lines and shell
// dumps) and prints "N passed, M failed" per group. With --ratchet it fails
// when any group passes fewer items than the file records, so progress
// lands and never slides back. Lines upstream skips (py-skipped) are
// reported but not ratcheted: upstream itself calls them broken.
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "conformance.h"

namespace fs = std::filesystem;

namespace {

std::map<std::string, int> read_ratchet(const std::string& path) {
  std::map<std::string, int> floor;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string group;
    int n = 0;
    if (ss >> group >> n) floor[group] = n;
  }
  return floor;
}

void write_ratchet(const std::string& path, const conformance::Results& results) {
  std::ofstream out(path);
  out << "# Minimum pass counts per conformance group; `make ratchet` raises them.\n";
  for (const auto& [group, r] : results)
    if (group != "py-skipped") out << group << ' ' << r.passed << '\n';
}

int usage() {
  std::cerr << "usage: nfx_conformance CORPUS_DIR [--ratchet FILE] [--update-ratchet FILE] "
               "[--show GROUP] [--filter TEXT]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  fs::path corpus = argv[1];
  std::string ratchet, update, show, filter;
  for (int i = 2; i < argc; i++) {
    auto want = [&](std::string& dst) {
      if (i + 1 >= argc) return false;
      dst = argv[++i];
      return true;
    };
    bool ok = false;
    if (!std::strcmp(argv[i], "--ratchet")) ok = want(ratchet);
    else if (!std::strcmp(argv[i], "--update-ratchet")) ok = want(update);
    else if (!std::strcmp(argv[i], "--show")) ok = want(show);
    else if (!std::strcmp(argv[i], "--filter")) ok = want(filter);
    if (!ok) return usage();
  }
  fs::path nft = corpus / "nftables";
  if (!fs::is_directory(nft / "py") || !fs::is_directory(nft / "shell")) {
    std::cerr << "nfx_conformance: " << nft.string() << " has no py/ and shell/ folders\n";
    return 2;
  }

  conformance::Results results;
  conformance::run_py_suite(nft / "py", filter, results);
  conformance::run_dump_suite(nft / "shell", filter, results);

  if (!show.empty()) {
    for (const auto& [group, r] : results) {
      if (show != "all" && group != show) continue;
      for (const auto& f : r.failures) fmt::print("[{}] {}\n{}\n\n", group, f.where, f.detail);
    }
  }

  auto floor = read_ratchet(ratchet);
  bool below = false;
  for (const auto& [group, r] : results) {
    int total = r.passed + r.failed();
    std::string note;
    if (auto it = floor.find(group); it != floor.end()) {
      if (r.passed < it->second) {
        below = true;
        note = fmt::format("  BELOW RATCHET ({} recorded)", it->second);
      } else if (r.passed > it->second) {
        note = fmt::format("  (ratchet {}: raise it with make ratchet)", it->second);
      }
    }
    fmt::print("{:<11} {} passed, {} failed ({:.1f}%){}\n", group + ":", r.passed, r.failed(),
               total ? 100.0 * r.passed / total : 0.0, note);
  }
  if (!update.empty()) write_ratchet(update, results);
  return below ? 1 : 0;
}
