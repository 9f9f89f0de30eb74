// nfx_nat_replay [--jit] RULESET FRAMES: frames through nfx's router pipeline
// (conntrack, NAT, the ruleset's chains) between two ports, as
// nat_kernel_test.py sends them through a kernel router with the same
// ruleset and the same network:
//
//   lan0 02:6e:66:78:00:01  10.1.0.1/24, fd00:1::1/64; hosts 10.1.0.N /
//        fd00:1::N with MAC 02:00:00:00:01:NN (N < 100)
//   wan0 02:6e:66:78:00:02  203.0.113.1/24, 2001:db8:2::1/64; everything
//        else via the gateway 02:00:00:00:02:fe
//
// FRAMES has one frame a line: the port it enters ("lan0" or "wan0") and
// its bytes in hex. Prints, for each frame, `frame N` and then one line per
// frame that leaves (`PORT HEX`), or `local` when it is delivered to the
// router itself; at the end `conntrack` and the table as conntrack -L
// prints it. With --jit the chains run as native code.
#include <fmt/format.h>
#include <nfx/jit.h>
#include <nfx/compiler.h>
#include <nfx/pipeline.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace nfx;

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string to_hex(std::span<const uint8_t> b) {
  std::string out;
  for (uint8_t c : b) out += fmt::format("{:02x}", c);
  return out;
}

pipeline::Interface port(const std::string& name, uint32_t index, uint8_t mac_last, std::vector<uint8_t> a4,
                         std::vector<uint8_t> a6) {
  pipeline::Interface i;
  i.name = name;
  i.index = index;
  i.addr4 = std::move(a4);
  i.addr6 = std::move(a6);
  i.mac = {0x02, 0x6e, 0x66, 0x78, 0x00, mac_last};
  return i;
}

}  // namespace

int main(int argc, char** argv) {
  const bool jit = argc == 4 && std::string(argv[1]) == "--jit";
  if (argc != 3 && !jit) {
    std::fprintf(stderr, "usage: nfx_nat_replay [--jit] RULESET FRAMES\n");
    return 2;
  }
  if (jit) ++argv;
  Diagnostics diags;
  Script script = parse_file(argv[1], diags);
  Ruleset rs;
  ir::Program prog;
  if (diags.has_errors() || !apply_script(script, rs, diags) || !lower_ruleset(rs, prog, diags)) {
    std::fprintf(stderr, "%s", diags.format().c_str());
    return 1;
  }
  std::vector<std::string> errors;
  std::unique_ptr<vm::Interpreter> vm = vm::Interpreter::load(std::move(prog), errors);
  if (!vm) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    return 1;
  }
  if (jit) vm->install_native(jit::compile(*vm));
  pipeline::Interface lan = port("lan0", 2, 1, {10, 1, 0, 1}, {0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  pipeline::Interface wan =
      port("wan0", 3, 2, {203, 0, 113, 1}, {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  wan.peer_mac = {0x02, 0, 0, 0, 0x02, 0xfe};
  // one lan0 per inside host, each with that host's MAC as the next hop
  std::vector<pipeline::Interface> hosts(100, lan);
  for (size_t n = 0; n < hosts.size(); ++n) hosts[n].peer_mac = {0x02, 0, 0, 0, 0x01, static_cast<uint8_t>(n)};

  // the kernel's routes: the router's addresses are local, the inside
  // prefixes lead to their hosts on lan0, everything else to the gateway
  pipeline::Route route = [&](const vm::Packet& p) -> const pipeline::Interface* {
    const uint8_t* nh = p.frame.data() + p.layout.nh_off;
    if (p.layout.protocol == packet::kEthPIp) {
      const uint8_t* d = nh + 16;
      if (std::equal(d, d + 4, lan.addr4.begin()) || std::equal(d, d + 4, wan.addr4.begin())) return nullptr;
      if (d[0] == 10 && d[1] == 1 && d[2] == 0 && d[3] < hosts.size()) return &hosts[d[3]];
      return &wan;
    }
    const uint8_t* d = nh + 24;
    if (std::equal(d, d + 16, lan.addr6.begin()) || std::equal(d, d + 16, wan.addr6.begin())) return nullptr;
    if (std::equal(d, d + 8, lan.addr6.begin()) && std::all_of(d + 8, d + 15, [](uint8_t b) { return b == 0; }) &&
        d[15] < hosts.size())
      return &hosts[d[15]];
    return &wan;
  };

  std::ifstream in(argv[2]);
  std::string line;
  int n = 0;
  uint64_t now = 1'700'000'000ull * 1'000'000'000ull;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream words(line);
    std::string side, hex;
    words >> side >> hex;
    const bool from_lan = side == "lan0";
    fmt::print("frame {}\n", ++n);
    vm::Packet pkt;
    std::vector<uint8_t> bytes = from_hex(hex);
    pkt.frame = packet::Frame(std::span<const uint8_t>(bytes));
    pkt.layout.link = packet::LinkType::Ethernet;
    pkt.meta.now_ns = now += 1'000'000;
    const pipeline::Interface& iif = from_lan ? lan : wan;
    pipeline::PathResult r = pipeline::run_path(*vm, pipeline::Path::Forward, pkt, iif, wan, {}, route);
    for (const auto& reply : r.replies) fmt::print("{} {}\n", iif.name, to_hex(reply.bytes()));
    if (r.accepted && r.local) fmt::print("local\n");
    else if (r.accepted) fmt::print("{} {}\n", r.out_interface->name, to_hex(pkt.frame.bytes()));
    for (const auto& piece : r.more_fragments) fmt::print("{} {}\n", r.out_interface->name, to_hex(piece.bytes()));
  }
  fmt::print("conntrack\n");
  for (const auto& line : vm->conntrack().list(now)) fmt::print("{}\n", line);
  return 0;
}
