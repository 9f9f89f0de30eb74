// `nfx eval RULESET PCAP`: wiring between the compiler, the interpreter,
// the hook pipeline and pcap files.
#pragma once

#include <nfx/compiler.h>

#include <string>
#include <vector>

namespace nfx::cli {

struct EvalOptions {
  std::string pcap, out_pcap, replies_pcap;
  std::vector<std::string> iif_addrs;  // the input interface's IPv4/IPv6 addresses
  std::vector<std::string> oif_addrs;  // the output interface's (masquerade translates to them)
  std::string iif_mac;                 // and its MAC
  std::string oif_mac, next_hop_mac;   // the output interface's MAC and its neighbour's (routed frames)
  std::string path = "input";
  std::string iif = "eth0", oif = "eth1";
  bool json = false, trace = false, jit = false;
  bool conntrack = false;  // print the connection table after the last packet
  uint64_t seed = 0;
};

// Returns the process exit code.
int run_eval(const Ruleset& rs, const EvalOptions& o);

}  // namespace nfx::cli
