// libFuzzer target for connection tracking: the input is cut into frames
// (a 2-byte length before each), which go through defragmentation's
// decision and a small conntrack table in turn, at prerouting or output as
// a byte of each says, confirmed or dropped, with the clock moving; every
// entry is then printed. Reads outside a frame are sanitizer findings.
#include <nfx/conntrack.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

using namespace nfx;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  conntrack::Config config;
  config.max_entries = 8;
  conntrack::Table table(config);
  uint64_t now = 0;
  for (std::size_t at = 0; at + 3 <= size;) {
    const std::size_t len = (data[at] << 8 | data[at + 1]) % 2048;
    const std::uint8_t knobs = data[at + 2];
    at += 3;
    const std::size_t n = len < size - at ? len : size - at;
    std::vector<std::uint8_t> frame(data + at, data + at + n);  // exact size: overreads are caught
    at += n;
    const auto layout = packet::parse_layout(frame, packet::LinkType::Ethernet, packet::Context::IpStack);
    conntrack::Defrag d = table.reassembler().in(frame, layout, 0, now);
    if (d.action == conntrack::Defrag::Replace) {
      if (d.frame.size() >= frame.size()) std::abort();  // a header was taken out
      frame = d.frame;
    }
    if (d.action == conntrack::Defrag::Hold) continue;
    const auto view = packet::parse_layout(frame, packet::LinkType::Ethernet, packet::Context::IpStack);
    conntrack::Tracked t = table.in(frame, view, knobs & 1 ? conntrack::TrackHook::Output : conntrack::TrackHook::Prerouting,
                                    static_cast<uint16_t>(knobs >> 6), now);
    if (knobs & 2) table.confirm(t, now);
    (void)conntrack::packet_tuple(frame, view);
    now += (knobs >> 2 & 0xf) * 1'000'000'000ull;
    if (knobs & 0x20) table.collect(now);
  }
  for (const auto& e : table.entries()) (void)conntrack::format_entry(*e, now);
  if (table.size() > config.max_entries) std::abort();
  return 0;
}
