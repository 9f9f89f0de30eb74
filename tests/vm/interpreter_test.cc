// The reference interpreter on small rulesets and hand-built frames: what a
// user of nft would check (verdicts, deciding rules, counters, rewrites).
#include "harness.h"

namespace nfx {
namespace {

using namespace packet::testing;
using nfx::vmtest::compile;
using nfx::vmtest::Outcome;
using nfx::vmtest::run;

Bytes tcp4(std::array<uint8_t, 4> src, uint16_t dport, uint16_t frag = 0) {
  Ip4 ip;
  ip.src = src;
  ip.frag = frag;
  return ethernet(0x0800, ipv4(ip, tcp(40000, dport)));
}

TEST(Interpreter, VerdictsPoliciesAndDecidingRules) {
  auto vm = compile(R"(table inet filter {
    set blocked { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 } }
    chain input { type filter hook input priority 0; policy drop;
      ip saddr @blocked drop
      tcp dport { 22, 80 } accept
    } })");
  ASSERT_TRUE(vm);
  Outcome blocked = run(*vm, tcp4({10, 1, 2, 3}, 22));
  EXPECT_FALSE(blocked.result.accepted);
  EXPECT_EQ(blocked.result.decision.handle, 3u);
  Outcome ssh = run(*vm, tcp4({192, 0, 2, 1}, 22));
  EXPECT_TRUE(ssh.result.accepted);
  EXPECT_EQ(ssh.result.decision.chain, "input");
  EXPECT_EQ(ssh.result.decision.handle, 5u);  // the anonymous set took handle 4
  Outcome other = run(*vm, tcp4({192, 0, 2, 1}, 23));
  EXPECT_FALSE(other.result.accepted);
  EXPECT_TRUE(other.result.decision.by_policy);
}

TEST(Interpreter, AcceptEndsOnlyItsOwnBaseChain) {
  auto vm = compile(R"(table ip a { chain c { type filter hook input priority 10; drop } }
    table ip b { chain c { type filter hook input priority -5; accept } })");
  ASSERT_TRUE(vm);
  Outcome r = run(*vm, tcp4({192, 0, 2, 1}, 22));
  EXPECT_FALSE(r.result.accepted);
  EXPECT_EQ(r.result.decision.table, "a");
}

TEST(Interpreter, JumpGotoReturn) {
  auto vm = compile(R"(table ip t {
    chain sub { tcp dport 22 return; tcp dport 23 accept }
    chain other { drop }
    chain c { type filter hook input priority 0; policy accept;
      jump sub
      tcp dport 22 goto other
      drop
    } })");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(run(*vm, tcp4({1, 1, 1, 1}, 23)).result.accepted);   // accepted in sub
  EXPECT_FALSE(run(*vm, tcp4({1, 1, 1, 1}, 22)).result.accepted);  // returned, then goto other
  EXPECT_EQ(run(*vm, tcp4({1, 1, 1, 1}, 22)).result.decision.handle, 6u);  // the drop in chain other
  EXPECT_FALSE(run(*vm, tcp4({1, 1, 1, 1}, 24)).result.accepted);
}

TEST(Interpreter, JumpsDeeperThanTheKernelStackAreRefused) {
  std::string text = "table ip t {\n";
  for (int i = 0; i < 18; ++i) text += "chain c" + std::to_string(i) + " { jump c" + std::to_string(i + 1) + " }\n";
  text += "chain c18 { accept }\n chain base { type filter hook input priority 0; jump c0 }\n}\n";
  std::string error;
  EXPECT_FALSE(compile(text, &error));
  EXPECT_NE(error.find("more than the kernel's 16"), std::string::npos) << error;
}

// The kernel's fast payload path (aligned 1/2/4-byte loads) checks only
// that a transport protocol is known, not the fragment offset, so `tcp dport`
// reads a non-first fragment's data; every other transport load breaks
// (measured with nfx_kernel_oracle on this machine's kernel).
TEST(Interpreter, NonFirstFragmentsReachTransportLoadsOnlyOnTheFastPath) {
  auto vm = compile(R"(table ip t { chain c { type filter hook prerouting priority 0; policy accept;
      @th,8,16 0x4000 counter drop
      tcp dport 22 counter drop
      meta l4proto tcp counter drop
    } })");
  ASSERT_TRUE(vm);
  Outcome first = run(*vm, tcp4({1, 1, 1, 1}, 22, 0x2000));  // MF set, offset 0
  EXPECT_EQ(first.result.decision.handle, 2u);  // bytes 1-2 of the header (sport 40000): 40 00
  Outcome later = run(*vm, tcp4({1, 1, 1, 1}, 22, 0x0010));  // offset 16 units
  EXPECT_EQ(later.result.decision.handle, 3u);
  Outcome other = run(*vm, tcp4({1, 1, 1, 1}, 23, 0x0010));
  EXPECT_EQ(other.result.decision.handle, 4u);
}

TEST(Interpreter, Ipv4FragmentsAreHeldBeforeInputAndForwardedWithTheTtlDecremented) {
  auto vm = compile(R"(table ip t { chain c { type filter hook input priority 0; policy accept; counter }
      chain f { type filter hook forward priority 0; policy accept; ip ttl 63 counter } })");
  ASSERT_TRUE(vm);
  Outcome held = run(*vm, tcp4({1, 1, 1, 1}, 22, 0x2000));
  EXPECT_FALSE(held.result.accepted);
  EXPECT_EQ(held.result.dropped_before, "ip_local_deliver: fragment queued for reassembly");
  EXPECT_EQ(vm->rule_counters(0, 0, 0)[0].packets, 0u);
  Outcome fwd = run(*vm, tcp4({1, 1, 1, 1}, 22), pipeline::Path::Forward);
  EXPECT_TRUE(fwd.result.accepted);
  EXPECT_EQ(vm->rule_counters(0, 1, 0)[0].packets, 1u);  // the forward hook sees TTL 63
  EXPECT_EQ(fwd.out[14 + 8], 63);
  EXPECT_EQ(ref_checksum(ref_sum(&fwd.out[14], 20)), 0);
  Ip4 last;
  last.ttl = 1;
  Outcome expired = run(*vm, ethernet(0x0800, ipv4(last, tcp(1, 2))), pipeline::Path::Forward);
  EXPECT_FALSE(expired.result.accepted);
  EXPECT_EQ(expired.result.dropped_before, "ip_forward (ttl)");
}

TEST(Interpreter, CountersCountTheNetworkLength) {
  auto vm = compile(R"(table ip t { chain c { type filter hook input priority 0; counter } })");
  ASSERT_TRUE(vm);
  Bytes f = tcp4({1, 1, 1, 1}, 22);
  run(*vm, f);
  run(*vm, f);
  auto c = vm->rule_counters(0, 0, 0);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].packets, 2u);
  EXPECT_EQ(c[0].bytes, 2 * (f.size() - 14));
}

TEST(Interpreter, LimitIsATokenBucketOnPacketTime) {
  auto vm = compile(R"(table ip t { chain c { type filter hook input priority 0; policy drop;
      limit rate 2/second burst 2 packets accept } })");
  ASSERT_TRUE(vm);
  Bytes f = tcp4({1, 1, 1, 1}, 22);
  uint64_t t0 = 1000000000000ull;
  EXPECT_TRUE(run(*vm, f, pipeline::Path::Input, t0).result.accepted);
  EXPECT_TRUE(run(*vm, f, pipeline::Path::Input, t0).result.accepted);
  EXPECT_FALSE(run(*vm, f, pipeline::Path::Input, t0).result.accepted);  // burst used up
  EXPECT_TRUE(run(*vm, f, pipeline::Path::Input, t0 + 500000000).result.accepted);  // one token per 0.5 s
  EXPECT_FALSE(run(*vm, f, pipeline::Path::Input, t0 + 500000000).result.accepted);
}

// A packet that uses the quota up exactly still matches: the kernel's
// nft_overquota tests consumed > quota (found by nfx_difftest).
TEST(Interpreter, QuotaStopsMatchingOnceUsedUp) {
  Bytes f = tcp4({1, 1, 1, 1}, 22);
  size_t len = f.size() - 14;
  auto vm = compile("table ip t { chain c { type filter hook input priority 0; policy drop; quota " +
                    std::to_string(2 * len) + " bytes accept } }");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(run(*vm, f).result.accepted);
  EXPECT_TRUE(run(*vm, f).result.accepted);
  EXPECT_FALSE(run(*vm, f).result.accepted);
}

TEST(Interpreter, PayloadSetKeepsChecksumsRight) {
  auto vm = compile(R"(table ip t { chain c { type filter hook forward priority 0;
      ip ttl set 5 ip saddr set 203.0.113.9 tcp dport set 8080 } })");
  ASSERT_TRUE(vm);
  Outcome r = run(*vm, tcp4({192, 0, 2, 1}, 22), pipeline::Path::Forward);
  ASSERT_TRUE(r.result.accepted);
  const Bytes& o = r.out;
  EXPECT_EQ(o[14 + 8], 5);
  EXPECT_EQ((Bytes{o[26], o[27], o[28], o[29]}), (Bytes{203, 0, 113, 9}));
  EXPECT_EQ(get16(o, 34 + 2), 8080);
  auto layout = packet::parse_layout(o.data(), o.size(), packet::LinkType::Ethernet, packet::Context::IpStack);
  EXPECT_TRUE(packet::ipv4_header_checksum_ok(std::span<const uint8_t>(o.data() + 14, 20)));
  EXPECT_TRUE(packet::transport_checksum_ok(o, layout));
}

TEST(Interpreter, VerdictMapsAndNumgen) {
  auto vm = compile(R"(table ip t { chain c { type filter hook input priority 0;
      tcp dport vmap { 22 : accept, 23 : drop }
      numgen inc mod 2 0 drop
    } })");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(run(*vm, tcp4({1, 1, 1, 1}, 22)).result.accepted);
  EXPECT_FALSE(run(*vm, tcp4({1, 1, 1, 1}, 23)).result.accepted);
  // numgen inc starts at 0: the 1st, 3rd... packet reaching it is dropped
  EXPECT_FALSE(run(*vm, tcp4({1, 1, 1, 1}, 24)).result.accepted);
  EXPECT_TRUE(run(*vm, tcp4({1, 1, 1, 1}, 24)).result.accepted);
  EXPECT_FALSE(run(*vm, tcp4({1, 1, 1, 1}, 24)).result.accepted);
}

TEST(Interpreter, DynamicSetsLearnFromPacketsAndExpire) {
  auto vm = compile(R"(table ip t {
    set seen { type ipv4_addr; flags dynamic,timeout; timeout 10s }
    chain c { type filter hook input priority 0; policy accept;
      ip saddr @seen drop
      tcp dport 22 add @seen { ip saddr }
    } })");
  ASSERT_TRUE(vm);
  uint64_t t0 = 1000000000000ull;
  EXPECT_TRUE(run(*vm, tcp4({1, 1, 1, 1}, 22), pipeline::Path::Input, t0).result.accepted);
  EXPECT_FALSE(run(*vm, tcp4({1, 1, 1, 1}, 80), pipeline::Path::Input, t0 + 1).result.accepted);
  EXPECT_TRUE(run(*vm, tcp4({1, 1, 1, 2}, 80), pipeline::Path::Input, t0 + 1).result.accepted);
  EXPECT_TRUE(run(*vm, tcp4({1, 1, 1, 1}, 80), pipeline::Path::Input, t0 + 11000000000ull).result.accepted);
}

TEST(Interpreter, SetElementsAreListedWithTimeoutsCountersAndWithoutTheExpired) {
  auto vm = compile(R"(table ip t {
    set seen { type ipv4_addr; size 2; flags dynamic,timeout; timeout 10s }
    chain c { type filter hook input priority 0; policy accept;
      tcp dport 22 update @seen { ip saddr timeout 5s counter }
      tcp dport 23 add @seen { ip saddr }
    } })");
  ASSERT_TRUE(vm);
  const uint64_t t0 = 1000000000000ull, s = 1000000000ull;
  run(*vm, tcp4({1, 1, 1, 1}, 22), pipeline::Path::Input, t0);
  run(*vm, tcp4({1, 1, 1, 1}, 22), pipeline::Path::Input, t0 + 1);
  run(*vm, tcp4({1, 1, 1, 2}, 23), pipeline::Path::Input, t0 + 2);
  auto elems = vm->set_elements(0, 0, t0 + 3);
  ASSERT_EQ(elems.size(), 2u);
  EXPECT_EQ(elems[0].key, (Bytes{1, 1, 1, 1}));
  EXPECT_EQ(elems[0].timeout_ms, 5000u);
  EXPECT_EQ(elems[0].expires_ns, t0 + 1 + 5 * s);  // update refreshed it
  ASSERT_EQ(elems[0].counters.size(), 1u);
  EXPECT_EQ(elems[0].counters[0].packets, 2u);
  EXPECT_EQ(elems[1].timeout_ms, 10000u);  // the set's
  EXPECT_TRUE(elems[1].counters.empty());
  // the first has expired: not listed, and its room in the full set is free again
  EXPECT_EQ(vm->set_elements(0, 0, t0 + 6 * s).size(), 1u);
  run(*vm, tcp4({1, 1, 1, 3}, 23), pipeline::Path::Input, t0 + 6 * s);
  elems = vm->set_elements(0, 0, t0 + 6 * s);
  ASSERT_EQ(elems.size(), 2u);
  EXPECT_EQ(elems[1].key, (Bytes{1, 1, 1, 3}));
}

TEST(Interpreter, ElementsOfTheFileExpireAfterTheirTimeoutFromLoad) {
  auto vm = compile(R"(table ip t {
    set s { type ipv4_addr; flags timeout; timeout 10s;
      elements = { 1.1.1.1, 1.1.1.2 timeout 1m, 1.1.1.3 timeout 1m expires 5s } }
    chain c { type filter hook input priority 0; policy accept;
      ip saddr @s drop
    } })");
  ASSERT_TRUE(vm);
  const uint64_t t0 = 1'700'000'000'000'000'000ull, s = 1'000'000'000ull;  // wall-clock ns, as nfx run passes them
  vm->start_clock(t0);
  auto dropped = [&](uint8_t host, uint64_t at) {
    return !run(*vm, tcp4({1, 1, 1, host}, 22), pipeline::Path::Input, at).result.accepted;
  };
  EXPECT_TRUE(dropped(1, t0 + 9 * s));
  EXPECT_TRUE(dropped(3, t0 + 4 * s));
  EXPECT_FALSE(dropped(3, t0 + 5 * s));   // its `expires 5s`
  EXPECT_FALSE(dropped(1, t0 + 10 * s));  // the set's timeout
  EXPECT_TRUE(dropped(2, t0 + 59 * s));
  EXPECT_FALSE(dropped(2, t0 + 60 * s));  // its own
  auto elems = vm->set_elements(0, 0, t0 + 59 * s);
  ASSERT_EQ(elems.size(), 1u);
  EXPECT_EQ(elems[0].expires_ns, t0 + 60 * s);
  EXPECT_EQ(elems[0].timeout_ms, 60000u);
}

TEST(Interpreter, BridgePathAndLinkLayerFields) {
  auto vm = compile(R"(table bridge b { chain f { type filter hook forward priority 0;
      ether saddr 02:00:00:00:00:01 drop } })");
  ASSERT_TRUE(vm);
  Bytes f = tcp4({1, 1, 1, 1}, 22);
  EXPECT_FALSE(run(*vm, f, pipeline::Path::Bridge).result.accepted);
  f[11] = 9;
  EXPECT_TRUE(run(*vm, f, pipeline::Path::Bridge).result.accepted);
}

TEST(Interpreter, WhatCannotRunIsRefusedByName) {
  std::string error;
  EXPECT_FALSE(compile(R"(table ip t { chain c { type filter hook input priority 0; ct id 5 accept } })", &error));
  EXPECT_NE(error.find("ct id"), std::string::npos) << error;
  EXPECT_NE(error.find("rule handle 2"), std::string::npos) << error;
}

TEST(Interpreter, MalformedIpNeverReachesTheHooks) {
  auto vm = compile(R"(table ip t { chain c { type filter hook prerouting priority 0; counter accept } })");
  ASSERT_TRUE(vm);
  Bytes f = tcp4({1, 1, 1, 1}, 22);
  f[14 + 10] ^= 0xff;  // header checksum
  Outcome r = run(*vm, f);
  EXPECT_FALSE(r.result.accepted);
  EXPECT_EQ(r.result.dropped_before, "ip_rcv");
  EXPECT_EQ(vm->rule_counters(0, 0, 0)[0].packets, 0u);
  for (size_t n = 0; n < f.size(); ++n) run(*vm, Bytes(f.begin(), f.begin() + static_cast<long>(n)));  // no crash
}

}  // namespace
}  // namespace nfx

namespace nfx {
namespace {
using nfx::vmtest::compile;
using nfx::vmtest::run;

// `return` in a chain reached by goto has nothing to return to: the base
// chain's policy decides (found by nfx_difftest: it used to resume the base
// chain at the wrong rule, and could loop forever).
TEST(Interpreter, ReturnAfterGotoEndsInThePolicy) {
  auto vm = compile(R"(table ip t {
    chain c0 { return }
    chain c { type filter hook prerouting priority 0; policy drop;
      goto c0
      accept
      accept
    } })");
  ASSERT_TRUE(vm);
  auto o = run(*vm, packet::testing::ethernet(0x0800, packet::testing::ipv4({}, packet::testing::udp(1, 2))),
               pipeline::Path::Input);
  EXPECT_FALSE(o.result.accepted);
  EXPECT_TRUE(o.result.decision.by_policy);
}

// nft loads only the bytes of a byte-aligned prefix (`ip saddr
// 192.168.1.0/24` is a 3-byte compare), so a frame cut short inside the
// address still matches, as on the kernel (found by nfx_difftest); a prefix
// that is not byte-aligned loads the whole address and does not.
TEST(Interpreter, ByteAlignedPrefixesLoadOnlyTheirBytes) {
  auto vm = compile(R"(table netdev t { chain c { type filter hook ingress device "eth0" priority 0; policy accept;
      ip saddr 192.168.1.0/25 counter drop
      ip saddr != 192.168.2.0/24 counter drop
    } })");
  ASSERT_TRUE(vm);
  packet::testing::Ip4 ip;
  ip.src = {192, 168, 1, 1};
  Bytes full = packet::testing::ethernet(0x0800, packet::testing::ipv4(ip, packet::testing::udp(1, 2)));
  Bytes cut(full.begin(), full.begin() + 14 + 15);  // up to 3 bytes of the source address
  auto o = run(*vm, cut, pipeline::Path::Input);
  EXPECT_FALSE(o.result.accepted);
  EXPECT_EQ(o.result.decision.handle, 3u);
}

// A non-first IPv6 fragment has transport offset 0, taken from skb->data:
// at netdev egress that is the MAC header, so an aligned transport load
// reads the Ethernet addresses there (found by nfx_difftest).
TEST(Interpreter, NonFirstIpv6FragmentsReadFromSkbDataAtEgress) {
  auto vm = compile(R"(table netdev t { chain e { type filter hook egress device "eth1" priority 0; policy accept;
      meta l4proto udp @th,16,16 0x0002 counter drop
    } })");
  ASSERT_TRUE(vm);
  using namespace packet::testing;
  Bytes f = ethernet(0x86dd, ipv6({}, {{44, fragment(3, false)}}, kUdp, Bytes(16, 0xee)));
  f[2] = 0x00;  // destination MAC bytes 2-3: 00 02
  f[3] = 0x02;
  auto o = run(*vm, f, pipeline::Path::Bridge);
  EXPECT_FALSE(o.result.accepted);
  EXPECT_EQ(o.result.decision.handle, 2u);
}

// The kernel's br_nf_pre_routing, at bridge prerouting priority 0, drops an
// 802.1Q skb too short for the tag it still carries (QinQ cut short after
// the inner tag): chains up to priority 0 see the frame, later ones do not,
// and it is not forwarded (measured with nfx_difftest).
TEST(Interpreter, TruncatedInnerVlanTagsStopAtBridgePriorityZero) {
  auto vm = compile(R"(table bridge t {
    chain early { type filter hook prerouting priority 0; policy accept; counter }
    chain late { type filter hook prerouting priority 10; policy accept; counter }
  })");
  ASSERT_TRUE(vm);
  using namespace packet::testing;
  Bytes f = ethernet(0x8100, Bytes{0x00, 0x05}, {{0x88a8, 0x0001}});  // inner tag: 2 of its 4 bytes
  auto o = run(*vm, f, pipeline::Path::Bridge);
  EXPECT_FALSE(o.result.accepted);
  EXPECT_EQ(vm->rule_counters(0, 0, 0).at(0).packets, 1u);
  EXPECT_EQ(vm->rule_counters(0, 1, 0).at(0).packets, 0u);
}

// ip6_rcv_core drops a packet whose hop-by-hop header has an unknown option
// of action 2 and answers with an ICMPv6 parameter problem (code 2,
// pointing at the option), which leaves through output and postrouting
// (found by nfx_difftest).
TEST(Interpreter, UnknownHopByHopOptionsGetAParameterProblem) {
  auto vm = compile(R"(table ip6 t { chain post { type filter hook postrouting priority 0; policy accept; counter } })");
  ASSERT_TRUE(vm);
  using namespace packet::testing;
  Bytes f = ethernet(0x86dd, ipv6({}, {{0, hop_by_hop({0x80, 0})}}, kUdp, udp(1, 2)));
  auto o = run(*vm, f, pipeline::Path::Forward);
  EXPECT_FALSE(o.result.accepted);
  ASSERT_EQ(o.result.replies.size(), 1u);
  const packet::Frame& r = o.result.replies[0];
  ASSERT_GE(r.size(), 14u + 48u);
  EXPECT_EQ(r.data()[14 + 6], 58);        // ICMPv6
  EXPECT_EQ(r.data()[14 + 40], 4);        // parameter problem
  EXPECT_EQ(r.data()[14 + 41], 2);        // unrecognized option
  EXPECT_EQ(r.data()[14 + 47], 40 + 2);   // pointer: the option, after the fixed header and 2 bytes
  EXPECT_EQ(vm->rule_counters(0, 0, 0).at(0).packets, 1u);  // the reply passed postrouting
}

// The SCTP chunk walk starts at thoff from skb->data too: for a non-first
// IPv6 fragment at netdev egress it reads from the MAC header (found by
// nfx_difftest's make oracle run).
TEST(Interpreter, SctpChunksOfNonFirstIpv6FragmentsAtEgressStartAtTheMacHeader) {
  auto vm = compile(R"(table netdev t { chain e { type filter hook egress device "eth1" priority 0; policy accept;
      sctp chunk data exists counter drop
    } })");
  ASSERT_TRUE(vm);
  using namespace packet::testing;
  // From the IPv6 header, byte 12 is inside the source address (0x00: a
  // data chunk); from the MAC header it is the ethertype's 0x86.
  Ip6 ip;
  ip.src[7] = 8;  // bytes 12-15 of the IPv6 header: type 0 (data), length 8
  Bytes f = ethernet(0x86dd, ipv6(ip, {{44, fragment(3, false)}}, kSctp, Bytes(16, 0x10)));
  auto o = run(*vm, f, pipeline::Path::Bridge);
  EXPECT_TRUE(o.result.accepted);
}

}  // namespace
}  // namespace nfx
