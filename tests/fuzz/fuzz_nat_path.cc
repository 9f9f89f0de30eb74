// libFuzzer target for the stateful router path: frames (each behind a
// 2-byte length and a knobs byte) go through the pipeline's forward path
// under a ruleset with masquerade, a port forward and the FTP and TFTP
// helpers, from the inside or the outside as a knob says, with the clock
// moving. NAT rewrites, ICMP error translation, FTP payload rewriting and
// sequence adjustment all run on whatever arrives; reads or writes outside
// a frame are sanitizer findings.
#include <nfx/compiler.h>
#include <nfx/pipeline.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "lower_once.h"

using namespace nfx;

namespace {

const char* kRuleset = R"(table ip nat {
  chain pre { type nat hook prerouting priority dstnat; iifname "wan0" tcp dport 21 dnat to 10.1.0.3; iifname "wan0" udp dport 69 dnat to 10.1.0.3; }
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
}
table ip6 nat {
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade random; }
}
table inet filter {
  ct helper ftp { type "ftp" protocol tcp; l3proto inet; }
  ct helper tftp { type "tftp" protocol udp; l3proto inet; }
  chain fwd { type filter hook forward priority filter;
    tcp dport 21 ct helper set "ftp"
    udp dport 69 ct helper set "tftp"
    ct state invalid drop
  }
})";

// The ruleset compiled once; each input gets a fresh interpreter (and so a
// fresh connection table) from a copy of it.
const ir::Program& program() {
  static const ir::Program prog = lower_or_abort(kRuleset);
  return prog;
}

std::unique_ptr<vm::Interpreter> load() {
  std::vector<std::string> errors;
  auto vm = vm::Interpreter::load(program(), errors);
  if (!vm) std::abort();
  return vm;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::unique_ptr<vm::Interpreter> vm = load();
  pipeline::Interface lan{"lan0", 2, {10, 1, 0, 1}, {0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {}, {}};
  pipeline::Interface wan{"wan0", 3, {203, 0, 113, 1}, {0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {}, {}};
  uint64_t now = 1'000'000'000;
  for (std::size_t at = 0; at + 3 <= size;) {
    const std::size_t len = (data[at] << 8 | data[at + 1]) % 2048;
    const std::uint8_t knobs = data[at + 2];
    at += 3;
    const std::size_t n = len < size - at ? len : size - at;
    vm::Packet pkt;
    pkt.frame = packet::Frame(data + at, n);
    at += n;
    pkt.layout.link = packet::LinkType::Ethernet;
    pkt.meta.now_ns = now += (knobs >> 2 & 0xf) * 1'000'000'000ull;
    const bool outside = knobs & 1;
    (void)pipeline::run_path(*vm, pipeline::Path::Forward, pkt, outside ? wan : lan, outside ? lan : wan);
  }
  (void)vm->conntrack().list(now);
  return 0;
}
