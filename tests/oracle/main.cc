// nfx_kernel_oracle: runs Ethernet frames through the real kernel's
// nftables and reports, per frame, what the kernel did with it, so tests
// can compare nfx's interpreter against the kernel (see README.md here).
//
//   nfx_kernel_oracle --ruleset R.nft --pcap IN.pcap --path bridge|forward|input
//                     [--out OUT.pcap] [--replies REPLIES.pcap] [--counters] [--conntrack] [--stats]
//
// stdout: one JSON line per input frame, {"packet": N, "verdict": "accept"|"drop"}
// (N from 1), then with --counters one {"counters": [...]} line (counters.h),
// then with --conntrack one {"conntrack": ["entry", ...]} line.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "command.h"
#include "counters.h"
#include "error.h"
#include "harness.h"
#include "markers.h"
#include "netns.h"
#include "nflog.h"
#include "nft.h"
#include "pcap_io.h"
#include "runner.h"
#include "tap.h"
#include "topology.h"

namespace nfx::oracle {
namespace {

struct Options {
  std::string ruleset, pcap, out, replies;
  Path path = Path::Bridge;
  bool counters = false, conntrack = false, stats = false;
};

// `conntrack -L`, one string per entry, as the tool prints them.
std::vector<std::string> conntrack_entries() {
  std::string text = run_checked({"conntrack", "-L"});
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

int run(const Options& o) {
  preflight();
  if (o.conntrack && !in_path("conntrack"))
    throw OracleError("conntrack is not installed (not found in PATH); install conntrack");
  std::vector<Frame> frames = read_pcap(o.pcap);
  for (size_t i = 0; i < frames.size(); ++i)
    if (auto why = marker_collision(frames[i], o.path == Path::Bridge))
      throw OracleError(fmt::format("{}: frame {} cannot be used: {}", o.pcap, i + 1, *why));
  std::optional<PcapWriter> out, replies;
  if (!o.out.empty()) out.emplace(o.out);
  if (!o.replies.empty()) replies.emplace(o.replies);

  enter_fresh_netns();
  prepare_common();
  if (o.path != Path::Bridge) prepare_router();
  Tap tap0("tap0"), tap1("tap1");
  if (o.path == Path::Bridge)
    setup_bridge();
  else {
    setup_router();
    await_mld_reports(tap0);
  }
  std::unique_ptr<NflogSocket> nflog;
  if (o.path == Path::Input) nflog = std::make_unique<NflogSocket>(kLogGroup);

  nft_load_file(o.ruleset);
  nlohmann::json listing = nft_list_ruleset();
  std::set<RuleKey> user = user_rules(listing);
  nlohmann::json harness = harness_commands(listing, o.path);
  if (!harness.at("nftables").empty()) nft_apply_json(harness);
  tap0.drain();
  tap1.drain();

  Runner runner(o.path, tap0, tap1, nflog.get(), replies.has_value());
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < frames.size(); ++i) {
    long n = static_cast<long>(i + 1);
    PacketResult r = runner.run(frames[i], static_cast<uint64_t>(n));
    if (r.write_error)
      fmt::print(stderr, "nfx_kernel_oracle: packet {}: the TAP driver refused the frame ({}); reported as drop\n", n,
                 std::strerror(r.write_error));
    fmt::print("{{\"packet\": {}, \"verdict\": \"{}\"}}\n", n, r.accepted ? "accept" : "drop");
    if (out)
      for (size_t k = 0; k < r.out.size(); ++k) out->write(r.out[k], n, static_cast<long>(k));
    if (replies)
      for (size_t k = 0; k < r.replies.size(); ++k) replies->write(r.replies[k], n, static_cast<long>(k));
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  if (o.stats) {
    double us = std::chrono::duration<double, std::micro>(elapsed).count();
    fmt::print(stderr, "nfx_kernel_oracle: {} frames in {:.1f} ms, {:.2f} us/frame\n", frames.size(), us / 1000,
               frames.empty() ? 0.0 : us / static_cast<double>(frames.size()));
  }
  if (o.counters) fmt::print("{}\n", nlohmann::json{{"counters", collect_counters(nft_list_ruleset(), user)}}.dump());
  if (o.conntrack) fmt::print("{}\n", nlohmann::json{{"conntrack", conntrack_entries()}}.dump());
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace nfx::oracle

int main(int argc, char** argv) {
  using namespace nfx::oracle;
  CLI::App app{"nfx_kernel_oracle: run Ethernet frames through the kernel's nftables and report its verdicts"};
  Options o;
  std::string path;
  app.add_option("--ruleset", o.ruleset, "nft ruleset file, loaded with `nft -f`")->required()->check(CLI::ExistingFile);
  app.add_option("--pcap", o.pcap, "Ethernet frames to inject on tap0")->required()->check(CLI::ExistingFile);
  app.add_option("--path", path, "bridge: tap0/tap1 bridged by br0; forward: routed tap0 -> tap1; input: addressed "
                                 "to the namespace (198.18.0.1, fd6e:6678::1)")
      ->required()
      ->check(CLI::IsMember({"bridge", "forward", "input"}));
  app.add_option("--out", o.out, "write the frames that came out of tap1 (bridge, forward)");
  app.add_option("--replies", o.replies, "write the frames the kernel sent back out of tap0");
  app.add_flag("--counters", o.counters, "print every rule's counter and quota values after the run");
  app.add_flag("--conntrack", o.conntrack, "print the conntrack table (`conntrack -L`) after the run");
  app.add_flag("--stats", o.stats, "print the time per frame on stderr");
  CLI11_PARSE(app, argc, argv);
  o.path = path == "bridge" ? Path::Bridge : path == "forward" ? Path::Forward : Path::Input;
  if (!o.out.empty() && o.path == Path::Input) {
    std::fputs("nfx_kernel_oracle: --out is for the bridge and forward paths (input frames end locally)\n", stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  try {
    return run(o);
  } catch (const OracleError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "nfx_kernel_oracle: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "nfx_kernel_oracle: internal error: {}\n", e.what());
    return 1;
  }
}
