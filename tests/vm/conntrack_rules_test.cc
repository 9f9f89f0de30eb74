// ct expressions and statements in rules, run through the pipeline with its
// conntrack step: a stateful firewall (established and related in, new only
// to a port), ct mark set and matched, ct direction and tuple keys, notrack
// before conntrack, fragments held once tracking is on, and no tracking at
// all for a ruleset without ct rules.
#include <arpa/inet.h>
#include <fmt/format.h>

#include "harness.h"

namespace nfx::vmtest {
namespace {

using namespace packet::testing;

constexpr uint8_t kF = 0x01, kS = 0x02, kA = 0x10;

Bytes tcp_frame(const char* src, const char* dst, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                uint8_t flags) {
  Bytes t(20, 0);
  put16(t, 0, sport);
  put16(t, 2, dport);
  for (int i = 0; i < 4; ++i) t[4 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) t[8 + i] = static_cast<uint8_t>(ack >> (24 - 8 * i));
  t[12] = 5 << 4;
  t[13] = flags;
  put16(t, 14, 64240);
  Ip4 ip;
  ip.proto = kTcp;
  inet_pton(AF_INET, src, ip.src.data());
  inet_pton(AF_INET, dst, ip.dst.data());
  return ethernet(0x0800, ipv4(ip, t));
}

Bytes udp_frame(const char* src, const char* dst, uint16_t sport, uint16_t dport, uint16_t frag = 0) {
  Ip4 ip;
  ip.proto = kUdp;
  ip.frag = frag;
  inet_pton(AF_INET, src, ip.src.data());
  inet_pton(AF_INET, dst, ip.dst.data());
  return ethernet(0x0800, ipv4(ip, udp(sport, dport, {'d'})));
}

const char* kStateful = R"(table inet filter {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    ct state invalid drop
    ct state new tcp dport 80 accept
  }
})";

bool passes(vm::Interpreter& vm, const Bytes& f, uint64_t now = 1) {
  return run(vm, f, pipeline::Path::Forward, now).result.accepted;
}

TEST(ConntrackRules, AStatefulFirewallLetsAnswersBackIn) {
  auto vm = compile(kStateful);
  ASSERT_TRUE(vm);
  ASSERT_TRUE(vm->tracks(ir::Family::Ip));
  EXPECT_TRUE(passes(*vm, tcp_frame("10.0.0.1", "192.0.2.7", 40000, 80, 1000, 0, kS)));
  EXPECT_TRUE(passes(*vm, tcp_frame("192.0.2.7", "10.0.0.1", 80, 40000, 5000, 1001, kS | kA)));
  EXPECT_TRUE(passes(*vm, tcp_frame("10.0.0.1", "192.0.2.7", 40000, 80, 1001, 5001, kA)));
  EXPECT_EQ(vm->conntrack().size(), 1u);
  auto entries = vm->conntrack().entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(conntrack::format_entry(*entries[0], 1),
            "tcp      6 432000 ESTABLISHED src=10.0.0.1 dst=192.0.2.7 sport=40000 dport=80 "
            "src=192.0.2.7 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1");
  // a new connection to another port, from either side: dropped, not kept
  EXPECT_FALSE(passes(*vm, tcp_frame("10.0.0.1", "192.0.2.7", 40001, 22, 1, 0, kS)));
  EXPECT_FALSE(passes(*vm, tcp_frame("192.0.2.7", "10.0.0.1", 80, 40002, 1, 0, kS)));
  EXPECT_EQ(vm->conntrack().size(), 1u) << "a dropped first packet leaves no state";
  // an ACK for data never sent is invalid
  EXPECT_FALSE(passes(*vm, tcp_frame("192.0.2.7", "10.0.0.1", 80, 40000, 5001, 900000, kA)));
  // closing
  EXPECT_TRUE(passes(*vm, tcp_frame("10.0.0.1", "192.0.2.7", 40000, 80, 1001, 5001, kF | kA)));
}

TEST(ConntrackRules, MarksDirectionsAndTuples) {
  auto vm = compile(R"(table ip t {
  chain pre {
    type filter hook prerouting priority 0;
    ct state new ct mark set 42
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct mark 42 ct direction original ct original ip saddr 10.0.0.1 ct original proto-dst 53 counter accept
    ct mark 42 ct direction reply ct reply ip daddr 10.0.0.1 ct reply proto-src 53 counter accept
  }
})");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(passes(*vm, udp_frame("10.0.0.1", "192.0.2.7", 5353, 53)));
  EXPECT_TRUE(passes(*vm, udp_frame("192.0.2.7", "10.0.0.1", 53, 5353)));
  auto entries = vm->conntrack().entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]->mark, 42u);
  EXPECT_EQ(vm->rule_counters(0, 1, 0).at(0).packets, 1u);
  EXPECT_EQ(vm->rule_counters(0, 1, 1).at(0).packets, 1u);
  // another flow is not marked (its first packet is, and passes, but not a
  // reply-direction packet that was never seen)
  EXPECT_FALSE(passes(*vm, udp_frame("192.0.2.9", "10.0.0.1", 53, 5353)));
}

TEST(ConntrackRules, NotrackBeforeConntrack) {
  auto vm = compile(R"(table ip t {
  chain raw {
    type filter hook prerouting priority -300;
    udp dport 514 notrack
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state untracked counter accept
    ct state new counter accept
  }
})");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(passes(*vm, udp_frame("10.0.0.1", "192.0.2.7", 5000, 514)));
  EXPECT_TRUE(passes(*vm, udp_frame("10.0.0.1", "192.0.2.7", 5000, 515)));
  EXPECT_EQ(vm->rule_counters(0, 1, 0).at(0).packets, 1u);
  EXPECT_EQ(vm->rule_counters(0, 1, 1).at(0).packets, 1u);
  EXPECT_EQ(vm->conntrack().size(), 1u) << "the untracked flow has no entry";
}

// An IPv4 datagram cut in two at byte `cut` of its payload (a multiple of 8).
std::pair<Bytes, Bytes> fragments_of(const Bytes& frame, size_t cut) {
  const size_t ip = 14, payload = ip + 20;
  auto piece = [&](size_t from, size_t to, bool more) {
    Bytes f(frame.begin(), frame.begin() + static_cast<long>(payload));
    f.insert(f.end(), frame.begin() + static_cast<long>(payload + from), frame.begin() + static_cast<long>(payload + to));
    put16(f, ip + 2, static_cast<uint16_t>(20 + to - from));
    put16(f, ip + 6, static_cast<uint16_t>((more ? 0x2000 : 0) | from / 8));
    put16(f, ip + 10, 0);
    put16(f, ip + 10, ref_checksum(ref_sum(&f[ip], 20)));
    return f;
  };
  return {piece(0, cut, true), piece(cut, frame.size() - payload, false)};
}

TEST(ConntrackRules, FragmentsAreReassembledAndCutAgainOnceTrackingIsOn) {
  auto tracked = compile(kStateful);
  ASSERT_TRUE(tracked);
  Ip4 ip;
  ip.proto = kUdp;
  inet_pton(AF_INET, "10.0.0.1", ip.src.data());
  inet_pton(AF_INET, "192.0.2.7", ip.dst.data());
  const Bytes whole = ethernet(0x0800, ipv4(ip, udp(5000, 80, Bytes(40, 'd'))));
  auto [first, second] = fragments_of(whole, 24);
  auto r = run(*tracked, first, pipeline::Path::Forward);
  EXPECT_FALSE(r.result.accepted);
  EXPECT_EQ(r.result.dropped_before, "nf_defrag: fragment queued for reassembly");
  EXPECT_EQ(tracked->conntrack().reassembler().queues(), 1u);
  // the second completes the datagram: tracked whole (a new UDP flow the
  // policy drops), nothing left queued
  r = run(*tracked, second, pipeline::Path::Forward);
  EXPECT_FALSE(r.result.accepted);
  EXPECT_EQ(tracked->conntrack().reassembler().queues(), 0u);

  auto open = compile(R"(table ip t { chain f { type filter hook forward priority 0; ct state new counter; } })");
  ASSERT_TRUE(open);
  run(*open, first, pipeline::Path::Forward);
  r = run(*open, second, pipeline::Path::Forward);
  ASSERT_TRUE(r.result.accepted);
  EXPECT_EQ(open->rule_counters(0, 0, 0).at(0).packets, 1u);  // the rules saw one datagram
  ASSERT_EQ(r.result.more_fragments.size(), 1u);  // and it left as it came, in two
  Bytes out_second(r.result.more_fragments[0].data(), r.result.more_fragments[0].data() + r.result.more_fragments[0].size());
  EXPECT_EQ(r.out.size(), first.size());
  EXPECT_EQ(out_second.size(), second.size());
  EXPECT_EQ(get16(out_second, 14 + 6), 24 / 8);
  EXPECT_EQ(get16(r.out, 14 + 6), 0x2000);
  EXPECT_EQ(r.out[14 + 8], first[14 + 8] - 1);  // the forwarded TTL

  // without ct rules nothing is tracked and fragments pass as they are
  auto plain = compile("table ip t { chain f { type filter hook forward priority 0; policy accept; } }");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->tracks(ir::Family::Ip));
  EXPECT_TRUE(passes(*plain, first));
  EXPECT_EQ(plain->conntrack().size(), 0u);
}

// A reject's reply carries the connection of the packet it answers
// (nf_ct_attach), RELATED in the other direction, and does not confirm it:
// measured on the kernel for a rejected first SYN, with a reset and with
// an ICMP port unreachable.
TEST(ConntrackRules, RejectRepliesAreRelatedToWhatTheyAnswer) {
  for (const char* how : {"reject with tcp reset", "reject"}) {
    auto vm = compile(fmt::format(R"(table inet t {{
  chain in {{
    type filter hook input priority 0; policy accept;
    ct state new tcp dport 22 {}
  }}
  chain out {{
    type filter hook output priority 0; policy accept;
    ct state related counter
    ct state invalid counter
  }}
}})",
                                  how));
    ASSERT_TRUE(vm) << how;
    auto r = run(*vm, tcp_frame("10.0.0.1", "192.0.2.7", 40000, 22, 100, 0, kS), pipeline::Path::Input);
    EXPECT_FALSE(r.result.accepted) << how;
    EXPECT_EQ(r.result.replies.size(), 1u) << how;
    EXPECT_EQ(vm->rule_counters(0, 1, 0).at(0).packets, 1u) << how << ": the reply is related";
    EXPECT_EQ(vm->rule_counters(0, 1, 1).at(0).packets, 0u) << how;
    EXPECT_EQ(vm->conntrack().size(), 0u) << how << ": the rejected connection is not kept";
  }
}

TEST(ConntrackRules, UnsupportedKeysAreRefusedByName) {
  std::string error;
  EXPECT_FALSE(compile("table ip t { chain f { type filter hook forward priority 0; ct id 5 drop; } }", &error));
  EXPECT_NE(error.find("ct id"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(compile("table bridge t { chain f { type filter hook forward priority 0; ct state new drop; } }",
                       &error));
  EXPECT_NE(error.find("connection tracking in bridge tables"), std::string::npos) << error;
}

}  // namespace
}  // namespace nfx::vmtest
