// nfx: command-line entry point. Argument parsing and wiring only; the work
// is in the libraries.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nfx/compiler.h>
#include <nfx/jit.h>

#include "bench_classify.h"
#include "compile.h"
#include "eval.h"
#include "ruleset_file.h"
#include "run.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

// Parses and applies each file in turn into one ruleset. Prints errors.
bool load(const std::vector<std::string>& files, const nfx::ParseOptions& popts, nfx::Ruleset& rs) {
  bool ok = true;
  for (const auto& f : files) {
    std::string errors;
    ok &= nfx::cli::load_ruleset_file(f, popts, rs, errors);
    std::fputs(errors.c_str(), stderr);
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nfx: nftables-compatible ruleset compiler"};
  app.require_subcommand(1);

  std::vector<std::string> includes;
  std::vector<std::string> defines;

  auto* check = app.add_subcommand("check", "Validate rulesets as `nft -c -f` does");
  std::vector<std::string> check_files;
  check->add_option("files", check_files, "nft files (or libnftables JSON)")->required();
  check->add_option("-I,--includepath", includes, "Directory to search for included files");
  check->add_option("-D,--define", defines, "Define variable NAME=VALUE");

  auto* fmt_cmd = app.add_subcommand("fmt", "Print the ruleset a file builds, as `nft list ruleset` shows it");
  std::vector<std::string> fmt_files;
  nfx::PrintOptions po;
  fmt_cmd->add_option("files", fmt_files, "nft files (or libnftables JSON)")->required();
  fmt_cmd->add_option("-I,--includepath", includes, "Directory to search for included files");
  fmt_cmd->add_option("-D,--define", defines, "Define variable NAME=VALUE");
  fmt_cmd->add_flag("-a,--handle", po.handles, "Output rule handles");
  fmt_cmd->add_flag("-s,--stateless", po.stateless, "Omit stateful information (counters, quotas)");
  fmt_cmd->add_flag("-t,--terse", po.terse, "Omit set elements");
  fmt_cmd->add_flag("-n,--numeric", po.numeric, "Print fully numerical output");
  fmt_cmd->add_flag("-S,--service", po.service, "Translate ports to service names");
  fmt_cmd->add_flag("-N,--reversedns", po.literal, "Translate IP addresses to names (not done offline)");
  fmt_cmd->add_flag("-u,--guid", po.guid, "Print UID/GID as defined in /etc/passwd and /etc/group");
  fmt_cmd->add_flag("-y,--numeric-priority", po.numeric_priority, "Print chain priority numerically");
  fmt_cmd->add_flag("-p,--numeric-protocol", po.numeric_protocol, "Print layer 4 protocols numerically");
  fmt_cmd->add_flag("-T,--numeric-time", po.numeric_time, "Print time values numerically");
  fmt_cmd->add_flag("-j,--json", po.json, "Format output in JSON");

  auto* compile = app.add_subcommand("compile", "Compile a ruleset and print a stage of it");
  std::vector<std::string> compile_files;
  std::string emit = "ir";
  compile->add_option("files", compile_files, "nft files (or libnftables JSON)")->required();
  compile->add_option("-I,--includepath", includes, "Directory to search for included files");
  compile->add_option("-D,--define", defines, "Define variable NAME=VALUE");
  compile->add_option("--emit", emit, "Stage to print: ir (nfx's IR), llvm (the module after LLVM's passes), asm (the host's assembly)")
      ->check(CLI::IsMember({"ir", "llvm", "asm"}));
  bool compile_stats = false;
  nfx::jit::Options jit_options;
  compile->add_option("-O,--opt-level", jit_options.opt_level, "LLVM optimisation level of the JIT (0-3)")->check(CLI::Range(0, 3));
  compile->add_option("--classify-min", jit_options.classify_min_rules, "Shortest run of pure match rules made a classifier");
  compile->add_flag("--stats", compile_stats, "Print what the JIT compiled inline, through the vm, into classifiers, and its times (stderr)");

  auto* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto* classify = bench->add_subcommand("classify", "Interpreter and JIT ns/packet on IPv4 frames of a ClassBench trace (one JSON line)");
  std::string bench_ruleset;
  nfx::cli::BenchOptions bo;
  classify->add_option("ruleset", bench_ruleset, "nft file")->required();
  classify->add_option("trace", bo.trace, "trace: `src dst sport dport proto` a line, decimal (dpdk-test-acl's format)")->required();
  classify->add_option("--passes", bo.passes, "Passes (the best is reported)")->check(CLI::PositiveNumber);
  classify->add_option("--interp-seconds", bo.interp_pass_s,
                       "Length of one interpreter pass: it runs as many packets as fit (default 0.5)")
      ->check(CLI::PositiveNumber);

  auto* eval = app.add_subcommand("eval", "Run each frame of a pcap through a ruleset with the interpreter");
  std::string eval_ruleset;
  nfx::cli::EvalOptions eo;
  eval->add_option("ruleset", eval_ruleset, "nft file (or libnftables JSON)")->required();
  eval->add_option("pcap", eo.pcap, "pcap file of Ethernet (or raw IP) frames")->required();
  eval->add_option("-I,--includepath", includes, "Directory to search for included files");
  eval->add_option("-D,--define", defines, "Define variable NAME=VALUE");
  eval->add_option("--path", eo.path, "input, forward, output or bridge")->check(CLI::IsMember({"input", "forward", "output", "bridge"}));
  eval->add_option("--iif", eo.iif, "Interface the frames arrive on");
  eval->add_option("--oif", eo.oif, "Interface the frames leave on (forward, output, bridge)");
  eval->add_flag("--json", eo.json, "One JSON object per packet");
  eval->add_flag("--conntrack", eo.conntrack,
                 "After the last packet, print the connection tracking table as `conntrack -L` does");
  eval->add_option("--oif-addr", eo.oif_addrs,
                   "An IPv4 or IPv6 address of the output interface: what masquerade translates to");
  eval->add_flag("--trace", eo.trace,
                 "Print every packet's path through the chains as `nft monitor trace` does. Without it, only "
                 "packets with `meta nftrace set 1` are traced, as in the kernel; with it, every packet is "
                 "(nfx eval is offline: there is no other way to ask). The trace id is a hash of the "
                 "packet's number in the pcap, not a random number");
  eval->add_option("-o,--output", eo.out_pcap, "Write the frames that leave to this pcap");
  eval->add_option("--replies", eo.replies_pcap,
                   "Write the frames sent back out of the input interface (reject) to this pcap, stamped with the "
                   "packet's number as seconds and the reply's index as microseconds");
  eval->add_option("--iif-addr", eo.iif_addrs,
                   "An IPv4 or IPv6 address of the input interface: the source of the ICMP errors sent back for "
                   "packets not addressed to this host (default: their destination)");
  eval->add_option("--iif-mac", eo.iif_mac,
                   "The input interface's MAC: the source of the replies the IP stack sends back through it "
                   "(default: the MAC the frame was sent to)");
  eval->add_option("--oif-mac", eo.oif_mac,
                   "The output interface's MAC: the source MAC of routed frames (default: unchanged)");
  eval->add_option("--next-hop-mac", eo.next_hop_mac,
                   "The next hop's MAC: the destination MAC of routed frames, as the neighbour table would give "
                   "it (default: unchanged)");
  eval->add_option("--seed", eo.seed, "Seed for numgen random and meta random");
  eval->add_flag("--jit", eo.jit, "Run the chains as native code (compiled before the first packet; --trace stays in the interpreter, and without it packets that set meta nftrace are not traced)");
  eval->footer(
      "Time: a packet's time is its pcap timestamp. As with nft, the local times in `meta hour` and\n"
      "`meta time` are read in the TZ of this process and converted to UTC when the ruleset loads;\n"
      "`meta day` uses the kernel's timezone (sys_tz, as gettimeofday reports it; normally UTC).");

  auto* run = app.add_subcommand("run", "Attach to TAP devices and forward frames between them through the ruleset");
  nfx::cli::RunOptions ro;
  run->add_option("--tap", ro.taps,
                  "A port: a TAP device created or attached by name, with the element's addresses on it, "
                  "NAME[=ADDR/LEN[,ADDR/LEN...]] (e.g. lan0=192.168.1.1/24,fd00:1::1/64)");
  run->add_option("--route", ro.routes,
                  "A static route: default=GATEWAY, default6=GATEWAY, PREFIX=GATEWAY or PREFIX=dev:PORT");
  run->add_option("--mtu", ro.mtus, "A port's MTU, NAME=BYTES (default 1500)");
  run->add_option("--ruleset", ro.ruleset, "The ruleset (nft file or libnftables JSON); SIGHUP reloads it");
  run->add_option("--config", ro.config,
                  "More options from a file, one a line as on the command line without the dashes "
                  "(`tap lan0=192.168.1.1/24`, `ruleset gateway.nft`, `bridge`)");
  run->add_flag("--bridge", ro.bridge, "Bridge the two ports (a bump in the wire) instead of routing");
  run->add_option("--workers", ro.workers, "Worker threads, each owning one queue of every TAP (multi-queue)")
      ->check(CLI::Range(1, 64));
  run->add_option("--control", ro.control, "The control socket's path (mode 0600)");
  run->add_flag("!--no-jit", ro.jit, "Run the interpreter only (by default the JIT compiles behind it)");
  run->add_option("-I,--includepath", includes, "Directory to search for included files");
  run->add_option("-D,--define", defines, "Define variable NAME=VALUE");

  auto* ctl = app.add_subcommand("ctl", "Ask a running `nfx run`: reload [FILE], list ruleset, list conntrack, "
                                        "list neighbours, flush conntrack, stats");
  std::string ctl_socket = "/run/nfx.sock";
  std::vector<std::string> ctl_words;
  ctl->add_option("--control", ctl_socket, "The control socket's path");
  ctl->add_option("command", ctl_words, "The command")->required();

  CLI11_PARSE(app, argc, argv);

  nfx::ParseOptions popts;
  popts.include_paths = includes;
  for (const auto& d : defines) {
    auto eq = d.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "Error: invalid define '%s', expected NAME=VALUE\n", d.c_str());
      return 1;
    }
    popts.defines[d.substr(0, eq)] = d.substr(eq + 1);
  }

  if (ctl->parsed()) return nfx::cli::run_ctl(ctl_socket, ctl_words);
  if (run->parsed()) {
    std::string error;
    if (!ro.config.empty() && !nfx::cli::read_run_config(ro.config, ro, error)) {
      std::fprintf(stderr, "Error: %s\n", error.c_str());
      return 1;
    }
    if (ro.ruleset.empty()) {
      std::fprintf(stderr, "Error: no ruleset: give --ruleset FILE (or `ruleset FILE` in --config)\n");
      return 1;
    }
    return nfx::cli::run_element(ro, popts);
  }

  nfx::Ruleset rs;
  if (check->parsed()) return load(check_files, popts, rs) ? 0 : 1;
  if (fmt_cmd->parsed()) {
    if (!load(fmt_files, popts, rs)) return 1;
    // `nft -j list ruleset` always carries the real handles (the corpus
    // dumps store them sanitised to 0, which the library prints without -a).
    if (po.json) po.handles = true;
    std::string out = po.json ? nfx::print_ruleset_json(rs, po) : nfx::print_ruleset(rs, po);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (eval->parsed()) {
    if (!load({eval_ruleset}, popts, rs)) return 1;
    return nfx::cli::run_eval(rs, eo);
  }
  if (compile->parsed()) {
    if (!load(compile_files, popts, rs)) return 1;
    return nfx::cli::run_compile(rs, emit, compile_stats, jit_options);
  }
  if (classify->parsed()) {
    if (!load({bench_ruleset}, popts, rs)) return 1;
    return nfx::cli::run_bench_classify(rs, bo);
  }
  return 0;
}
