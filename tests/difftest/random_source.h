// A seeded source of random choices shared by the ruleset and frame
// generators, and the value pools both draw from: rules and frames pick
// addresses, ports and types from the same small pools so that rules match
// often enough to exercise every path through them.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace nfx::difftest {

using Bytes = std::vector<uint8_t>;

class Random {
 public:
  explicit Random(uint64_t seed) : rng_(seed) {}
  // Uniform in [lo, hi].
  uint64_t between(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }
  // True with probability `percent`/100.
  bool chance(unsigned percent) { return between(0, 99) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[between(0, v.size() - 1)];
  }
  uint8_t byte() { return static_cast<uint8_t>(between(0, 255)); }
  // A fresh IP id for each fragment, so that no two fragments of a case
  // belong together: the kernel would reassemble them (before the input
  // hook), and reassembly is not part of nfx eval.
  uint16_t fragment_id() { return ++frag_id_; }

 private:
  std::mt19937_64 rng_;
  uint16_t frag_id_ = 0x8000;
};

// The paths a generated case takes (the oracle's topologies).
enum class Path { Bridge, Forward, Input };
const char* path_name(Path p);

// Values both sides draw from.
struct Pools {
  static const std::vector<std::string> host_macs;     // valid unicast sources/destinations
  static const std::vector<std::string> group_macs;    // broadcast and multicast destinations
  static const std::vector<std::string> ipv4_hosts;    // addresses frames use
  static const std::vector<std::string> ipv4_prefixes; // prefixes rules use
  static const std::vector<std::string> ipv6_hosts;
  static const std::vector<std::string> ipv6_prefixes;
  static const std::vector<uint16_t> ports;
  static const std::vector<uint8_t> ttls;
  static const std::vector<uint8_t> tos_values;
  static const std::vector<uint16_t> vlan_ids;
};

}  // namespace nfx::difftest
