// The IP stack's ICMP rate limits (pipeline::IcmpRateLimit) with the
// kernel's defaults, on a clock the test sets.
#include <nfx/pipeline.h>

#include <gtest/gtest.h>

#include <vector>

using nfx::pipeline::IcmpLimits;
using nfx::pipeline::IcmpRateLimit;

namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kT0 = 1'700'000'000ull * 1'000'000'000ull;  // the epoch's nanoseconds, as nfx run passes them

// An IPv4 packet to 10.0.0.`host` carrying ICMP `type`/`code` (protocol
// `proto`: 1 is ICMP).
std::vector<uint8_t> v4(uint8_t host, uint8_t type, uint8_t code = 0, uint8_t proto = 1) {
  std::vector<uint8_t> p(28, 0);
  p[0] = 0x45, p[9] = proto;
  p[16] = 10, p[19] = host;
  p[20] = type, p[21] = code;
  return p;
}

// An IPv6 packet to fd00::`host` carrying ICMPv6 `type`.
std::vector<uint8_t> v6(uint8_t host, uint8_t type) {
  std::vector<uint8_t> p(48, 0);
  p[0] = 0x60, p[6] = 58;
  p[24] = 0xfd, p[39] = host;
  p[40] = type;
  return p;
}

int allowed(IcmpRateLimit& l, const std::vector<uint8_t>& p, int times, uint64_t now) {
  int n = 0;
  for (int i = 0; i < times; ++i) n += l.allow(p, now);
  return n;
}

}  // namespace

TEST(IcmpRateLimit, SixErrorsToOneDestinationThenOneASecond) {
  IcmpRateLimit l;
  EXPECT_EQ(allowed(l, v4(1, 11), 20, kT0), 6);  // time exceeded
  EXPECT_EQ(l.limited_host(), 14u);
  EXPECT_EQ(allowed(l, v4(2, 3, 3), 20, kT0), 6);  // port unreachable, another destination: its own bucket
  EXPECT_EQ(allowed(l, v4(1, 11), 5, kT0 + 999 * kMs), 0);
  EXPECT_EQ(allowed(l, v4(1, 11), 5, kT0 + 1000 * kMs), 1);
  EXPECT_EQ(allowed(l, v4(1, 11), 5, kT0 + 3500 * kMs), 2);  // 2.5 s: two whole tokens
  EXPECT_EQ(allowed(l, v4(1, 11), 20, kT0 + 60'000 * kMs), 6);  // full again, no more than six
  EXPECT_EQ(l.limited_global(), 0u);
}

TEST(IcmpRateLimit, TypesOutsideTheMaskAndOtherProtocolsAlwaysGo) {
  IcmpRateLimit l;
  EXPECT_EQ(allowed(l, v4(1, 0), 100, kT0), 100);      // echo reply
  EXPECT_EQ(allowed(l, v4(1, 3, 4), 100, kT0), 100);   // fragmentation needed: PMTU discovery
  EXPECT_EQ(allowed(l, v4(1, 5), 100, kT0), 100);      // redirect: not in icmp_ratemask
  EXPECT_EQ(allowed(l, v4(1, 3, 3, 6), 100, kT0), 100);  // a TCP segment (a reset)
  EXPECT_EQ(allowed(l, v6(1, 129), 100, kT0), 100);    // echo reply
  EXPECT_EQ(allowed(l, v6(1, 2), 100, kT0), 100);      // packet too big
  EXPECT_EQ(allowed(l, {0x45, 0, 0}, 3, kT0), 3);      // too short to be an error
  EXPECT_EQ(l.peers(), 0u);
}

TEST(IcmpRateLimit, FiftyMessagesAcrossDestinationsThenAThousandASecond) {
  IcmpRateLimit l;
  int n = 0;
  for (int host = 1; host <= 60; ++host) n += l.allow(v4(static_cast<uint8_t>(host), 11), kT0);
  EXPECT_EQ(n, 50);  // icmp_msgs_burst
  EXPECT_EQ(l.limited_global(), 10u);
  // under 20 ms nothing comes back; at 20 ms, 1000/s of it: 20 messages
  EXPECT_FALSE(l.allow(v4(61, 11), kT0 + 19 * kMs));
  n = 0;
  for (int host = 62; host <= 100; ++host) n += l.allow(v4(static_cast<uint8_t>(host), 11), kT0 + 20 * kMs);
  EXPECT_EQ(n, 20);
}

TEST(IcmpRateLimit, Ipv6BucketsAreShorterForWiderRoutes) {
  IcmpRateLimit l;
  l.prefix_len6 = [](std::span<const uint8_t> dst) { return dst[15] == 1 ? 64u : 128u; };
  // fd00::1 routed by a /64: 100 ms >> 2 = 25 ms a message
  EXPECT_EQ(allowed(l, v6(1, 3), 20, kT0), 6);  // time exceeded
  EXPECT_EQ(allowed(l, v6(1, 1), 5, kT0 + 24 * kMs), 0);
  EXPECT_EQ(allowed(l, v6(1, 1), 5, kT0 + 25 * kMs), 1);
  // fd00::2 by a /128: 100 ms
  EXPECT_EQ(allowed(l, v6(2, 1), 20, kT0), 6);
  EXPECT_EQ(allowed(l, v6(2, 1), 5, kT0 + 99 * kMs), 0);
  EXPECT_EQ(allowed(l, v6(2, 1), 5, kT0 + 100 * kMs), 1);
}

TEST(IcmpRateLimit, IdleDestinationsAreForgottenAsGoodAsNew) {
  IcmpRateLimit l;
  EXPECT_EQ(allowed(l, v4(1, 11), 6, kT0), 6);
  EXPECT_EQ(allowed(l, v4(2, 11), 6, kT0 + 5000 * kMs), 6);
  l.forget_idle(kT0 + 6000 * kMs);  // the first's bucket is full again; the second's is not
  EXPECT_EQ(l.peers(), 1u);
  EXPECT_EQ(allowed(l, v4(1, 11), 20, kT0 + 6000 * kMs), 6);
  EXPECT_EQ(allowed(l, v4(2, 11), 20, kT0 + 6000 * kMs), 1);
}

TEST(IcmpRateLimit, PastTheRememberedDestinationsOnlyTheGlobalBudgetHolds) {
  IcmpLimits limits;
  limits.max_peers = 2;
  IcmpRateLimit l(limits);
  EXPECT_EQ(allowed(l, v4(1, 11), 10, kT0), 6);
  EXPECT_EQ(allowed(l, v4(2, 11), 10, kT0), 6);
  EXPECT_EQ(allowed(l, v4(3, 11), 10, kT0), 10);  // no bucket of its own: inet_getpeer found none
  EXPECT_EQ(l.peers(), 2u);
}
