// symhash. The kernel keys its flow hash with a random per-boot secret, so
// its numbers cannot be reproduced; nfx deliberately hashes the same sorted
// flow keys with the interpreter's seed instead (vm/src/symhash.cc). These
// tests pin what does carry over: both directions of a flow land in the same
// bucket, every result lies in [offset, offset + mod), and different flows
// spread over the buckets.
#include <set>

#include "harness.h"

namespace nfx {
namespace {

using namespace packet::testing;
using vmtest::compile;
using vmtest::run;

constexpr int kMod = 4, kOffset = 100;

std::unique_ptr<vm::Interpreter> buckets(uint64_t seed = 0) {
  std::string text = "table inet t { chain c { type filter hook input priority 0; policy accept;\n";
  for (int b = 0; b < kMod; ++b)
    text += "symhash mod 4 offset 100 == " + std::to_string(kOffset + b) + " counter\n";
  text += "symhash mod 4 offset 100 != 100-103 counter\n} }";
  return compile(text, nullptr, seed);
}

// The rule whose counter the frame moved: its bucket, or kMod when out of range.
int bucket(vm::Interpreter& vm, const Bytes& frame) {
  std::vector<uint64_t> before;
  for (int r = 0; r <= kMod; ++r) before.push_back(vm.rule_counters(0, 0, static_cast<size_t>(r)).at(0).packets);
  EXPECT_TRUE(run(vm, frame).result.accepted);
  int hit = -1, hits = 0;
  for (int r = 0; r <= kMod; ++r)
    if (vm.rule_counters(0, 0, static_cast<size_t>(r)).at(0).packets != before[static_cast<size_t>(r)]) hit = r, ++hits;
  EXPECT_EQ(hits, 1);
  return hit;
}

Bytes v4(std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst, uint16_t sport, uint16_t dport, bool udp_ = false) {
  Ip4 ip = ip4_proto(udp_ ? kUdp : kTcp);
  ip.src = src;
  ip.dst = dst;
  return ethernet(0x0800, ipv4(ip, udp_ ? udp(sport, dport) : tcp(sport, dport)));
}

Bytes v6(uint8_t a, uint8_t b, uint16_t sport, uint16_t dport) {
  Ip6 ip;
  ip.src[15] = a;
  ip.dst[15] = b;
  return ethernet(0x86dd, ipv6(ip, {}, kTcp, tcp(sport, dport)));
}

TEST(Symhash, BothDirectionsOfAFlowHashAlikeAndStayInRange) {
  auto vm = buckets();
  ASSERT_TRUE(vm);
  std::set<int> seen;
  for (uint8_t i = 1; i <= 32; ++i) {
    uint16_t sport = static_cast<uint16_t>(40000 + i), dport = static_cast<uint16_t>(i * 7);
    int fwd = bucket(*vm, v4({10, 0, 0, i}, {192, 0, 2, 9}, sport, dport));
    EXPECT_EQ(fwd, bucket(*vm, v4({192, 0, 2, 9}, {10, 0, 0, i}, dport, sport))) << int{i};
    EXPECT_LT(fwd, kMod) << "outside [offset, offset + mod)";
    int udp_fwd = bucket(*vm, v4({10, 0, 0, i}, {192, 0, 2, 9}, sport, dport, true));
    EXPECT_EQ(udp_fwd, bucket(*vm, v4({192, 0, 2, 9}, {10, 0, 0, i}, dport, sport, true)));
    int six = bucket(*vm, v6(i, 200, sport, dport));
    EXPECT_EQ(six, bucket(*vm, v6(200, i, dport, sport)));
    EXPECT_LT(six, kMod);
    seen.insert(fwd);
  }
  EXPECT_GT(seen.size(), 1u) << "every flow in one bucket: the keys are not hashed";
}

TEST(Symhash, SameAddressesDifferentPortsAndTheSeed) {
  auto a = buckets(1), b = buckets(2);
  ASSERT_TRUE(a && b);
  std::set<int> seen;
  bool seed_matters = false;
  for (uint16_t p = 1; p <= 32; ++p) {
    // Talking to itself: only the ports tell the directions apart.
    int fwd = bucket(*a, v4({10, 0, 0, 1}, {10, 0, 0, 1}, 1000, static_cast<uint16_t>(2000 + p)));
    EXPECT_EQ(fwd, bucket(*a, v4({10, 0, 0, 1}, {10, 0, 0, 1}, static_cast<uint16_t>(2000 + p), 1000)));
    seen.insert(fwd);
    seed_matters |= fwd != bucket(*b, v4({10, 0, 0, 1}, {10, 0, 0, 1}, 1000, static_cast<uint16_t>(2000 + p)));
  }
  EXPECT_GT(seen.size(), 1u) << "the ports are not part of the hash";
  EXPECT_TRUE(seed_matters) << "the interpreter's seed does not key the hash";
}

}  // namespace
}  // namespace nfx
