// The element's own cost per forwarded packet, without devices: UDP frames
// over 1,000 flows through router::Element::receive under a ruleset of N
// rules plus conntrack (forward_bench.py's), interpreter and JIT, against a
// baseline in the same run: copying each frame once (what any forwarder
// does). Tells how much of nfx run's time per packet is its own and how
// much is the TAP devices' I/O. One JSON line.
//
// usage: nfx_element_bench RULESET [PACKETS] [jit]   (jit: native code only,
// for profiling it alone)
#include <fmt/format.h>
#include <nfx/compiler.h>
#include <nfx/jit.h>
#include <nfx/router.h>

#include <chrono>
#include <cstdlib>
#include <new>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace nfx;

// Every allocation of the process counted: the measured loop's share, per
// packet, shows whether the packet path allocates.
static size_t g_allocations = 0;
static bool g_trap = false;  // NFX_TRAP_ALLOC=1: stop at the measured loop's first allocation (run under gdb)
void* operator new(size_t n) {
  ++g_allocations;
  if (g_trap) __builtin_trap();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace {

std::shared_ptr<vm::Interpreter> load(const std::string& path) {
  Diagnostics diags;
  Script script = parse_file(path, diags);
  Ruleset rs;
  ir::Program prog;
  if (diags.has_errors() || !apply_script(script, rs, diags) || !lower_ruleset(rs, prog, diags)) {
    std::fputs(diags.format().c_str(), stderr);
    std::exit(1);
  }
  std::vector<std::string> errors;
  return vm::Interpreter::load(std::move(prog), errors);
}

router::Prefix prefix(const char* text) {
  router::Prefix p;
  std::string error;
  router::parse_prefix(text, p, error);
  return p;
}

std::vector<std::vector<uint8_t>> frames(const std::array<uint8_t, 6>& to) {
  std::vector<std::vector<uint8_t>> out;
  for (int f = 0; f < 1000; ++f) {
    std::vector<uint8_t> p(60, 0);
    std::memcpy(p.data(), to.data(), 6);
    p[6] = 0x02, p[11] = 0x09, p[12] = 0x08;
    uint8_t* ip = &p[14];
    const uint8_t hdr[20] = {0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 1, 0, 2, 198, 18, 0, 1};
    std::memcpy(ip, hdr, 20);
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2) s += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    ip[10] = static_cast<uint8_t>(~s >> 8), ip[11] = static_cast<uint8_t>(~s);
    uint16_t sport = static_cast<uint16_t>(10000 + f);
    ip[20] = static_cast<uint8_t>(sport >> 8), ip[21] = static_cast<uint8_t>(sport);
    ip[22] = 0x13, ip[23] = 0x89, ip[25] = 26;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: nfx_element_bench RULESET [PACKETS]\n");
    return 2;
  }
  const long packets = argc > 2 ? std::atol(argv[2]) : 2'000'000;
  const std::array<uint8_t, 6> lan_mac{0x02, 0, 0, 0, 0, 1}, wan_mac{0x02, 0, 0, 0, 0, 2};
  double allocations = 0;
  long measured = 0;  // packets in the last run's timed loop
  auto run = [&](bool jit) {
    router::PortConfig lan{"lan0", {prefix("10.1.0.1/24")}, lan_mac, 2, 1500};
    router::PortConfig wan{"wan0", {prefix("10.2.0.1/24")}, wan_mac, 3, 1500};
    router::RouteConfig r;
    std::string error;
    router::parse_route("198.18.0.0/15=10.2.0.2", r, error);
    router::Element e(router::Mode::Router, {lan, wan}, {r});
    auto vm = load(argv[1]);
    if (jit) vm->install_native(jit::compile(*vm));
    e.set_ruleset(vm);
    size_t out = 0;
    const router::Sink sink = [&](uint32_t, std::span<const uint8_t> f) { out += f.size(); };
    // the next hop answers once: every later packet goes straight out
    std::vector<uint8_t> arp = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 9, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2,
                                0x02, 0, 0, 0, 0, 9, 10, 2, 0, 2, 0x02, 0, 0, 0, 0, 2, 10, 2, 0, 1};
    auto fs = frames(lan_mac);
    uint64_t now = 1'000'000'000'000ull;
    e.receive(0, fs[0], now, sink);
    e.receive(1, arp, now, sink);
    for (auto& f : fs) e.receive(0, f, now, sink);
    // at most `packets`, or as many as fit in two seconds (the interpreter
    // walks 10K rules slowly)
    const size_t allocations_before = g_allocations;
    g_trap = jit && std::getenv("NFX_TRAP_ALLOC");
    auto t0 = std::chrono::steady_clock::now();
    long done = 0;
    while (done < packets) {
      for (int k = 0; k < 1000; ++k, ++done)
        e.receive(0, fs[static_cast<size_t>(done) % fs.size()], now + static_cast<uint64_t>(done), sink);
      if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(2)) break;
    }
    measured = done;
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(done);
    if (out == 0) std::fprintf(stderr, "nothing forwarded\n");
    g_trap = false;
    allocations = static_cast<double>(g_allocations - allocations_before) / static_cast<double>(done);
    return ns;
  };
  // baseline: one copy of each frame into a reused buffer
  auto fs = frames(lan_mac);
  std::vector<uint8_t> buf(2048);
  auto t0 = std::chrono::steady_clock::now();
  size_t sum = 0;
  for (long i = 0; i < packets; ++i) {
    const auto& f = fs[static_cast<size_t>(i) % fs.size()];
    std::memcpy(buf.data(), f.data(), f.size());
    sum += buf[static_cast<size_t>(i) % 60];
  }
  double copy_ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(packets);
  const bool jit_only = argc > 3 && std::string(argv[3]) == "jit";
  double interp = jit_only ? 0 : run(false), native = run(true);
  std::printf("{\"packets\": %ld, \"copy_ns\": %.1f, \"interpreter_ns\": %.1f, \"jit_ns\": %.1f, "
              "\"jit_allocations_per_packet\": %.3f, \"jit_packets\": %ld, \"sum\": %zu}\n",
              packets, copy_ns, interp, native, allocations, measured, sum % 2);
  return 0;
}
