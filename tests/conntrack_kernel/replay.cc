// nfx_conntrack_replay PCAP: the frames of an Ethernet pcap through nfx's
// conntrack table as a router's forward path sees them (tracked at
// prerouting, confirmed at postrouting), under the ruleset the kernel side
// of conntrack_kernel_test.py loads: `ct state invalid drop` in forward.
// Prints what nfx_kernel_oracle prints for the kernel:
//   {"packet": N, "verdict": "accept"|"drop"}  per frame
//   {"states": {"new": n, "established": n, "related": n, "invalid": n}}
//   {"conntrack": ["entry", ...]}               as conntrack -L prints them
#include <fmt/format.h>
#include <nfx/conntrack.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nfx;
  if (argc != 2) {
    std::fprintf(stderr, "usage: nfx_conntrack_replay PCAP\n");
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline(argv[1], err);
  if (!pcap) {
    std::fprintf(stderr, "nfx_conntrack_replay: %s\n", err);
    return 1;
  }
  if (pcap_datalink(pcap) != DLT_EN10MB) {
    std::fprintf(stderr, "nfx_conntrack_replay: %s is not an Ethernet pcap\n", argv[1]);
    return 1;
  }
  conntrack::Table table;
  std::map<std::string, int> states = {{"new", 0}, {"established", 0}, {"related", 0}, {"invalid", 0}};
  pcap_pkthdr* h;
  const u_char* data;
  int n = 0;
  while (pcap_next_ex(pcap, &h, &data) == 1) {
    ++n;
    std::vector<uint8_t> frame(data, data + h->caplen);
    auto layout = packet::parse_layout(frame, packet::LinkType::Ethernet, packet::Context::IpStack);
    bool accepted = layout.ip_rcv_ok || layout.ipv6_rcv_ok;
    if (accepted) {
      conntrack::Tracked t = table.in(frame, layout, conntrack::TrackHook::Prerouting, 0, 0);
      const uint32_t bits = conntrack::state_bits(t.info);
      if (bits == conntrack::kStateInvalid) {
        states["invalid"]++;
        accepted = false;
      } else {
        states[bits == conntrack::kStateNew ? "new" : bits == conntrack::kStateEstablished ? "established" : "related"]++;
        accepted = !t.drop && table.confirm(t, 0);
      }
    }
    fmt::print("{{\"packet\": {}, \"verdict\": \"{}\"}}\n", n, accepted ? "accept" : "drop");
  }
  pcap_close(pcap);
  fmt::print("{{\"states\": {{\"new\": {}, \"established\": {}, \"related\": {}, \"invalid\": {}}}}}\n", states["new"],
             states["established"], states["related"], states["invalid"]);
  std::string list;
  for (const auto& e : table.entries()) list += (list.empty() ? "" : ", ") + quoted(conntrack::format_entry(*e, 0));
  fmt::print("{{\"conntrack\": [{}]}}\n", list);
  return 0;
}
