// Connection tracking benchmark: N distinct UDP flows (IPv4 frames made in
// advance) through conntrack::Table. Reports, as one JSON line:
//   create_ns  a new flow's first packet, tracked and confirmed
//   hit_ns     a packet of a known flow, in random flow order
//   bytes_per_entry  heap growth while the N entries were made, over N
// and, measured in the same run on the same flows, a floor for a lookup:
// std::unordered_map from the flow's 5-tuple to an int (baseline_hit_ns),
// with hit_over_baseline. Times are thread CPU time, best of 3 passes.
//
// usage: nfx_conntrack_bench [N]   (default 1,000,000)
#include <fmt/format.h>
#include <malloc.h>
#include <nfx/conntrack.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <random>
#include <unordered_map>
#include <vector>

namespace {

using namespace nfx;

double now_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Ethernet + IPv4 + UDP, no checksum (0: none), for flow i.
std::vector<uint8_t> udp_frame(uint32_t i) {
  std::vector<uint8_t> f(14 + 20 + 8 + 4, 0);
  f[12] = 0x08;
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  ip[3] = 32;  // total length 20 + 8 + 4
  ip[8] = 64;
  ip[9] = 17;
  ip[12] = 10, ip[13] = static_cast<uint8_t>(i >> 16), ip[14] = static_cast<uint8_t>(i >> 8), ip[15] = static_cast<uint8_t>(i);
  ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = static_cast<uint8_t>(1 + i % 200);
  uint32_t sum = 0;
  for (int k = 0; k < 20; k += 2) sum += static_cast<uint32_t>(ip[k] << 8 | ip[k + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = static_cast<uint8_t>(~sum >> 8), ip[11] = static_cast<uint8_t>(~sum);
  uint8_t* udp = &f[34];
  const uint32_t sport = 1024 + i % 50000;
  udp[0] = static_cast<uint8_t>(sport >> 8), udp[1] = static_cast<uint8_t>(sport);
  udp[2] = 0, udp[3] = 53;
  udp[5] = 12;
  return f;
}

struct Key {
  uint32_t src, dst;
  uint16_t sport, dport;
  uint8_t proto;
  bool operator==(const Key&) const = default;
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t h = (uint64_t{k.src} << 32 | k.dst) * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(h ^ (uint64_t{k.sport} << 24 | uint64_t{k.dport} << 8 | k.proto) * 0xC2B2AE3D27D4EB4Full);
  }
};

// Bytes in use on the heap, the large blocks malloc maps on its own included.
size_t heap_bytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t n = argc > 1 ? static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10)) : 1'000'000;
  std::vector<std::vector<uint8_t>> frames;
  std::vector<packet::PacketLayout> layouts;
  frames.reserve(n);
  layouts.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    frames.push_back(udp_frame(i));
    layouts.push_back(packet::parse_layout(frames.back(), packet::LinkType::Ethernet, packet::Context::IpStack));
  }
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));

  double create_ns = 1e300, hit_ns = 1e300;
  size_t bytes = 0, entries = 0;
  for (int pass = 0; pass < 3; ++pass) {
    conntrack::Config config;
    config.max_entries = n;
    conntrack::Table table(config);
    const size_t before = heap_bytes();
    double t0 = now_ns();
    for (uint32_t i = 0; i < n; ++i) {
      conntrack::Tracked t = table.in(frames[i], layouts[i], conntrack::TrackHook::Prerouting, 0, 1);
      if (!table.confirm(t, 1)) return fmt::print(stderr, "conntrack_bench: flow {} not confirmed\n", i), 1;
    }
    create_ns = std::min(create_ns, (now_ns() - t0) / n);
    bytes = heap_bytes() - before;
    entries = table.size();
    t0 = now_ns();
    uint64_t established = 0;
    for (uint32_t i : order)
      established += table.in(frames[i], layouts[i], conntrack::TrackHook::Prerouting, 0, 2).entry != nullptr;
    hit_ns = std::min(hit_ns, (now_ns() - t0) / n);
    if (established != n) return fmt::print(stderr, "conntrack_bench: {} of {} hits\n", established, n), 1;
  }

  // The floor: an unordered_map lookup of the same 5-tuples.
  std::unordered_map<Key, uint32_t, KeyHash> map;
  std::vector<Key> keys(n);
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t* ip = &frames[i][14];
    keys[i] = {uint32_t{ip[12]} << 24 | uint32_t{ip[13]} << 16 | uint32_t{ip[14]} << 8 | ip[15],
               uint32_t{ip[16]} << 24 | uint32_t{ip[17]} << 16 | uint32_t{ip[18]} << 8 | ip[19],
               static_cast<uint16_t>(ip[20] << 8 | ip[21]), static_cast<uint16_t>(ip[22] << 8 | ip[23]), ip[9]};
    map.emplace(keys[i], i);
  }
  double base_ns = 1e300;
  for (int pass = 0; pass < 3; ++pass) {
    uint64_t found = 0;
    const double t0 = now_ns();
    for (uint32_t i : order) found += map.find(keys[i])->second == i;
    base_ns = std::min(base_ns, (now_ns() - t0) / n);
    if (found != n) return 1;
  }
  fmt::print(
      "{{\"bench\": \"conntrack\", \"entries\": {}, \"create_ns\": {:.1f}, \"hit_ns\": {:.1f}, "
      "\"bytes_per_entry\": {:.1f}, \"baseline_hit_ns\": {:.1f}, \"hit_over_baseline\": {:.2f}, "
      "\"goals\": {{\"hit_ns\": 70, \"create_ns\": 250, \"bytes_per_entry\": 128}}}}\n",
      entries, create_ns, hit_ns, static_cast<double>(bytes) / static_cast<double>(entries), base_ns, hit_ns / base_ns);
  return 0;
}
