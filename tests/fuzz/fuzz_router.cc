// libFuzzer target for nfx run's element: frames (each behind a 2-byte
// length and a knobs byte) arrive on the LAN or WAN port of a router with a
// NAT and helper ruleset, with the clock moving and the element's timers
// running: ARP and neighbour discovery, the local stack's answers, ICMP
// errors, fragmentation for a small MTU and the whole hook pipeline see
// whatever arrives. Reads or writes outside a frame are sanitizer findings.
#include <nfx/compiler.h>
#include <nfx/router.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "lower_once.h"

using namespace nfx;

namespace {

const char* kRuleset = R"(table ip nat {
  chain pre { type nat hook prerouting priority dstnat; iifname "wan0" tcp dport 21 dnat to 10.1.0.3; }
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
}
table inet filter {
  ct helper ftp { type "ftp" protocol tcp; l3proto inet; }
  chain fwd { type filter hook forward priority filter;
    tcp dport 21 ct helper set "ftp"
    ct state invalid drop
    tcp dport 23 reject with tcp reset
    udp dport 7 reject
    log prefix "fwd: " flags all
  }
  chain in { type filter hook input priority filter; tcp dport 9 drop; }
}
table arp a { chain in { type filter hook input priority 0; log; } })";

const ir::Program& program() {
  static const ir::Program prog = lower_or_abort(kRuleset);
  return prog;
}

router::Prefix prefix(const char* text) {
  router::Prefix p;
  std::string error;
  if (!router::parse_prefix(text, p, error)) std::abort();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::array<uint8_t, 6> kMacs[2] = {{0x02, 0, 0, 0, 0, 0x02}, {0x02, 0, 0, 0, 0, 0x03}};
  router::PortConfig lan{"lan0", {prefix("10.1.0.1/24"), prefix("fd00:1::1/64")}, kMacs[0], 2, 1500};
  router::PortConfig wan{"wan0", {prefix("203.0.113.1/24"), prefix("2001:db8::1/64")}, kMacs[1], 3, 576};
  router::RouteConfig def, def6;
  std::string error;
  if (!router::parse_route("default=203.0.113.254", def, error) || !router::parse_route("default6=2001:db8::fe", def6, error))
    std::abort();
  router::Element e(router::Mode::Router, {lan, wan}, {def, def6});
  std::vector<std::string> errors;
  e.set_ruleset(vm::Interpreter::load(program(), errors));
  size_t out_bytes = 0;
  const router::Sink sink = [&](uint32_t, std::span<const uint8_t> f) { out_bytes += f.size(); };
  uint64_t now = 1'000'000'000;
  std::vector<std::uint8_t> frame;
  for (std::size_t at = 0; at + 3 <= size;) {
    const std::size_t len = (data[at] << 8 | data[at + 1]) % 2048;
    const std::uint8_t knobs = data[at + 2];
    at += 3;
    const std::size_t n = len < size - at ? len : size - at;
    frame.assign(data + at, data + at + n);
    at += n;
    const uint32_t port = knobs & 1;
    // most frames are for the element's MAC, as a host on the wire sends them
    if ((knobs & 2) && frame.size() >= 6) std::memcpy(frame.data(), kMacs[port].data(), 6);
    now += (knobs >> 2 & 0xf) * 400'000'000ull;
    e.tick(now, sink);
    e.receive(port, frame, now, sink);
  }
  (void)e.neighbours(now);
  (void)e.stats();
  return out_bytes == SIZE_MAX;
}
