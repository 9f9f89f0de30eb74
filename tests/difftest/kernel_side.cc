#include "kernel_side.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace nfx::difftest {

namespace {

// Runs `cmd` through the shell; stdout is returned, stderr goes to `err_file`.
int run_capture(const std::string& cmd, std::string& out) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return {};
  std::string s;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

}  // namespace

CaseResult run_kernel(const std::string& oracle, const std::string& dir, Path path) {
  CaseResult res;
  std::string out_arg = path == Path::Input ? "" : fmt::format(" --out '{}/kernel_out.pcap'", dir);
  std::string cmd = fmt::format(
      "'{}' --ruleset '{}/ruleset.nft' --pcap '{}/frames.pcap' --path {}{} --replies '{}/kernel_replies.pcap' "
      "--counters 2>'{}/oracle.err'",
      oracle, dir, dir, path_name(path), out_arg, dir, dir);
  std::string text;
  int rc = run_capture(cmd, text);
  if (rc != 0) {
    res.error = fmt::format("nfx_kernel_oracle exited with {}: {}", rc, slurp(dir + "/oracle.err"));
    return res;
  }
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    if (j.contains("packet")) {
      FrameOutcome o;
      o.accepted = j.at("verdict") == "accept";
      res.frames.push_back(o);
    } else if (j.contains("counters")) {
      for (const auto& c : j.at("counters")) {
        if (!c.contains("chain") || !c.contains("counter")) continue;
        res.counters[{c.at("family").get<std::string>(), c.at("table").get<std::string>(),
                      c.at("chain").get<std::string>(), c.at("handle").get<uint64_t>()}] = {
            c.at("counter").at("packets").get<uint64_t>(), c.at("counter").at("bytes").get<uint64_t>()};
      }
    }
  }
  {
    std::vector<long> seconds;
    std::vector<Bytes> replies = read_pcap(dir + "/kernel_replies.pcap", &seconds);
    for (size_t i = 0; i < replies.size(); ++i) {
      size_t n = static_cast<size_t>(seconds[i]);
      if (n >= 1 && n <= res.frames.size()) res.frames[n - 1].replies.push_back(std::move(replies[i]));
    }
  }
  if (path != Path::Input) {
    std::vector<long> seconds;
    std::vector<Bytes> out = read_pcap(dir + "/kernel_out.pcap", &seconds);
    for (size_t i = 0; i < out.size(); ++i) {
      size_t n = static_cast<size_t>(seconds[i]);
      if (n >= 1 && n <= res.frames.size()) res.frames[n - 1].out.push_back(std::move(out[i]));
    }
  }
  return res;
}

}  // namespace nfx::difftest
