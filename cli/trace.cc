#include "trace.h"

#include <fmt/format.h>

#include "print.h"

namespace nfx::cli {

uint32_t trace_id(uint64_t number) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(number >> (8 * i));
  return vm::jhash(b, sizeof(b), 0);
}

void TracePrinter::begin_packet(uint64_t number) {
  id_ = trace_id(number);
  dumped_walk_ = 0;
}

std::string TracePrinter::rule_text(const vm::TraceEvent& ev) const {
  for (const TableDecl& t : rs_.tables) {
    if (t.family != ev.family || t.name != ev.table) continue;
    for (const ChainDecl& c : t.chains) {
      if (c.name != ev.chain) continue;
      for (const Rule& r : c.rules)
        if (r.handle == ev.handle) return "rule " + print_rule(r, PrintOptions{});
    }
  }
  return fmt::format("unknown rule handle {}", ev.handle);
}

std::string TracePrinter::event(const vm::TraceEvent& ev, const vm::Packet& pkt) {
  if (!all_ && !ev.nftrace) return {};
  // Kernel 6.18 reports no step for a user chain's implicit return (as seen
  // with nft monitor trace); the walk simply goes on in the calling chain.
  if (ev.kind == vm::TraceEvent::Return) return {};
  std::string hdr = fmt::format("trace id {:08x} {} {} {} ", id_, ev.family, ev.table, ev.chain);
  std::string out;
  if (dumped_walk_ != ev.walk) {  // nft_trace_notify dumps the packet once per walk
    dumped_walk_ = ev.walk;
    out += hdr + "packet: " + trace_packet_fields(ev.family, pkt) + "\n";
  }
  if (ev.kind == vm::TraceEvent::Rule)
    return out + hdr + rule_text(ev) + " (verdict " + (ev.verdict.empty() ? "continue" : ev.verdict) + ")\n";
  out += hdr + "policy " + ev.verdict + " ";
  if (ev.mark) out += fmt::format("meta mark 0x{:08x} ", ev.mark);
  return out + "\n";
}

}  // namespace nfx::cli
