// `nfx eval` traces in the text `nft monitor trace` prints: a `packet:` line
// with the headers once per base-chain walk, `rule ... (verdict X)` lines
// with the rule as nft lists it, `policy X` lines. Only the kernel's
// reporting is mirrored; what decides a verdict stays in the vm.
#pragma once

#include <nfx/compiler.h>
#include <nfx/vm.h>

#include <cstdint>
#include <string>

namespace nfx::cli {

class TracePrinter {
 public:
  // `all`: trace every packet (nfx eval --trace); otherwise only the steps
  // where the packet's nftrace is set, as the kernel does.
  TracePrinter(const Ruleset& rs, bool all) : rs_(rs), all_(all) {}

  // A new packet: its trace id is a hash of `number` (the kernel's is random).
  void begin_packet(uint64_t number);
  // The lines for one interpreter step of `pkt`, as the packet is at that step.
  std::string event(const vm::TraceEvent& ev, const vm::Packet& pkt);

 private:
  std::string rule_text(const vm::TraceEvent& ev) const;

  const Ruleset& rs_;
  bool all_;
  uint32_t id_ = 0;
  uint64_t dumped_walk_ = 0;  // the base-chain walk whose packet line is out
};

// The deterministic trace id of the n-th packet.
uint32_t trace_id(uint64_t number);

// The header fields of the `packet:` line for a table of `family` (with a
// trailing space after each), decoded as nft's trace_print_packet does.
std::string trace_packet_fields(const std::string& family, const vm::Packet& pkt);

}  // namespace nfx::cli
