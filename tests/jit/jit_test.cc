// The JIT against the interpreter on small rulesets that reach each of its
// paths: inline loads and compares, constant sets and verdict maps, chains
// as functions (jump, goto, return), statements through the vm's C ABI,
// classifiers, counters kept in place, tiering and the printed stages.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nfx/jit.h>

#include "../vm/harness.h"

namespace nfx::vmtest {
namespace {

using namespace packet::testing;

Bytes v4(const char* src, const char* dst, Bytes l4, uint8_t proto, uint8_t ttl = 64) {
  Ip4 ip;
  inet_pton(AF_INET, src, ip.src.data());
  inet_pton(AF_INET, dst, ip.dst.data());
  ip.proto = proto;
  ip.ttl = ttl;
  return ethernet(0x0800, ipv4(ip, std::move(l4)));
}

std::vector<Bytes> frames() {
  std::vector<Bytes> out;
  const char* srcs[] = {"10.1.2.3", "10.200.0.1", "192.168.1.7", "172.16.5.5", "8.8.8.8"};
  const char* dsts[] = {"192.168.1.1", "10.0.0.9", "1.2.3.4"};
  for (const char* s : srcs)
    for (const char* d : dsts)
      for (uint16_t port : {22, 53, 80, 443, 1500, 8080, 65535}) {
        out.push_back(v4(s, d, tcp(1024 + port, port), 6));
        out.push_back(v4(s, d, udp(port, port), 17, static_cast<uint8_t>(port % 3 ? 64 : 1)));
      }
  out.push_back(v4("10.1.2.3", "1.2.3.4", icmp_echo(), 1));
  out.push_back(Bytes{0x02, 0, 0, 0, 0, 1});  // too short for anything
  Bytes truncated = v4("10.1.2.3", "1.2.3.4", tcp(1, 22), 6);
  truncated.resize(14 + 20 + 2);              // a transport header cut short
  out.push_back(truncated);
  // An IPv4 packet whose transport header is three bytes long (its total
  // length says so): a byte of the destination port is there to load.
  Bytes short_l4 = v4("10.1.2.3", "1.2.3.4", tcp(1, 22), 6);
  short_l4.resize(14 + 20 + 3);
  short_l4[16] = 0, short_l4[17] = 23;
  short_l4[24] = short_l4[25] = 0;
  uint32_t sum = 0;
  for (size_t i = 14; i < 34; i += 2) sum += static_cast<uint32_t>(short_l4[i] << 8 | short_l4[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  short_l4[24] = static_cast<uint8_t>(~sum >> 8), short_l4[25] = static_cast<uint8_t>(~sum);
  out.push_back(short_l4);
  return out;
}

// Runs every frame through an interpreter and a JIT-compiled twin on `path`
// and expects the same verdict, deciding rule, bytes and counters.
void expect_same(const std::string& rules, pipeline::Path path = pipeline::Path::Forward, jit::Stats* stats = nullptr) {
  auto interp = compile(rules);
  auto native = compile(rules);
  ASSERT_TRUE(interp && native);
  jit::Stats s;
  native->install_native(jit::compile(*native, {}, &s));
  ASSERT_TRUE(native->native_installed());
  if (stats) *stats = s;
  for (const Bytes& f : frames()) {
    Outcome a = run(*interp, f, path), b = run(*native, f, path);
    EXPECT_EQ(a.result.accepted, b.result.accepted);
    EXPECT_EQ(a.result.decision.verdict, b.result.decision.verdict);
    EXPECT_EQ(a.result.decision.handle, b.result.decision.handle);
    EXPECT_EQ(a.result.decision.chain, b.result.decision.chain);
    EXPECT_EQ(a.out, b.out);
  }
  const ir::Program& p = interp->program();
  for (size_t t = 0; t < p.tables.size(); ++t)
    for (size_t c = 0; c < p.tables[t].chains.size(); ++c)
      for (size_t r = 0; r < p.tables[t].chains[c].rules.size(); ++r) {
        auto x = interp->rule_counters(t, c, r), y = native->rule_counters(t, c, r);
        ASSERT_EQ(x.size(), y.size());
        for (size_t i = 0; i < x.size(); ++i) {
          EXPECT_EQ(x[i].packets, y[i].packets) << "rule " << r;
          EXPECT_EQ(x[i].bytes, y[i].bytes) << "rule " << r;
        }
      }
}

TEST(Jit, LoadsComparesAndPrefixes) {
  jit::Stats s;
  expect_same(R"(table ip t { chain f { type filter hook forward priority 0; policy drop;
    ip saddr 10.0.0.0/8 tcp dport 22 counter accept
    ip daddr 192.168.1.1 udp dport 53 counter accept
    tcp dport > 1000 tcp dport < 2000 counter drop
    ip ttl 1 counter drop
    tcp flags syn counter
    ip saddr != 8.8.8.8 meta l4proto udp counter accept
    meta length 40-60 counter accept
  } })", pipeline::Path::Forward, &s);
  EXPECT_GT(s.inlined_preds, 8u);
  EXPECT_EQ(s.abi_preds, 0u);
}

TEST(Jit, ConstantSetsAndVerdictMaps) {
  jit::Stats s;
  expect_same(R"(table inet t {
    set ports { type inet_service; elements = { 22, 443 } }
    set nets { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 172.16.0.0-172.16.255.255 } }
    chain f { type filter hook forward priority 0; policy accept;
      tcp dport @ports counter accept
      ip saddr @nets udp dport { 53, 80-90, 8080 } counter drop
      ip saddr . tcp dport { 192.168.1.7 . 80, 8.8.8.8 . 443 } counter drop
      udp dport vmap { 443 : drop, 1500 : accept, 65535 : continue } counter
      ip daddr != { 1.2.3.4, 10.0.0.9 } counter
    } })", pipeline::Path::Forward, &s);
  EXPECT_GE(s.const_sets, 5u);
}

TEST(Jit, ChainsAsFunctions) {
  expect_same(R"(table ip t {
    chain f { type filter hook forward priority 0; policy drop;
      tcp dport 22 jump a
      udp dport 53 goto b
      tcp dport vmap { 80 : jump a, 443 : goto b }
      counter accept
    }
    chain a { ip saddr 10.1.2.3 return
              ip saddr 8.8.8.8 counter drop
              jump c }
    chain b { ip daddr 1.2.3.4 return
              counter }
    chain c { ip daddr 192.168.1.1 counter accept }
  })");
}

TEST(Jit, StatementsThroughTheVm) {
  jit::Stats s;
  expect_same(R"(table ip t {
    set seen { type ipv4_addr; size 4; flags dynamic; }
    chain f { type filter hook forward priority 0; policy accept;
      meta mark set 7 counter
      meta mark 7 ip saddr @seen counter drop
      update @seen { ip saddr } counter
      tcp dport 80 ip ttl set 9 counter
      quota over 2000 bytes counter drop
      udp dport 53 reject
      numgen inc mod 3 0 counter
    } })", pipeline::Path::Forward, &s);
  EXPECT_GT(s.abi_stmts, 3u);
}

// ct state is compiled inline from the packet's conntrack info: the same
// states as the interpreter sees, for new, established (the replies),
// untracked (notrack in raw prerouting) and invalid (a cut-short header)
// packets, and the state a rule's statement changes shows to the next rule.
TEST(Jit, CtStateMatchesTheInterpreter) {
  const std::string rules = R"(table ip t {
    chain raw { type filter hook prerouting priority raw; udp dport 1500 notrack }
    chain f { type filter hook forward priority 0; policy accept;
      ct state invalid counter
      ct state new counter
      ct state established counter
      ct state related counter
      ct state untracked counter
      ct state { established, untracked } counter
      ct state != new counter
    } })";
  auto interp = compile(rules);
  auto native = compile(rules);
  ASSERT_TRUE(interp && native);
  native->install_native(jit::compile(*native));
  std::vector<Bytes> traffic = frames();
  for (const char* s : {"10.1.2.3", "172.16.5.5"})
    for (uint16_t port : {53, 1500, 8080}) traffic.push_back(v4("1.2.3.4", s, udp(port, port), 17));  // replies
  for (const char* s : {"10.1.2.3", "172.16.5.5"})
    for (uint16_t port : {22, 443}) traffic.push_back(v4("1.2.3.4", s, tcp(port, 1024 + port), 6));
  uint64_t now = 1;
  for (const Bytes& f : traffic) {
    Outcome a = run(*interp, f, pipeline::Path::Forward, now), b = run(*native, f, pipeline::Path::Forward, now);
    ++now;
    EXPECT_EQ(a.result.accepted, b.result.accepted);
    EXPECT_EQ(a.out, b.out);
  }
  const ir::Chain& chain = interp->program().tables[0].chains[1];
  ASSERT_EQ(chain.name, "f");
  std::vector<uint64_t> seen;
  for (size_t r = 0; r < chain.rules.size(); ++r) {
    auto x = interp->rule_counters(0, 1, r), y = native->rule_counters(0, 1, r);
    ASSERT_EQ(x.size(), 1u);
    ASSERT_EQ(y.size(), 1u);
    EXPECT_EQ(x[0].packets, y[0].packets) << "rule " << r;
    seen.push_back(x[0].packets);
  }
  // each state was there to tell apart, related aside
  EXPECT_GT(seen[0], 0u);  // invalid
  EXPECT_GT(seen[1], 0u);  // new
  EXPECT_GT(seen[2], 0u);  // established
  EXPECT_EQ(seen[3], 0u);  // related
  EXPECT_GT(seen[4], 0u);  // untracked
  EXPECT_EQ(seen[5], seen[2] + seen[4]);
}

TEST(Jit, RunsOfPureRulesBecomeOneClassifier) {
  std::string rules = "table ip t { chain f { type filter hook forward priority 0; policy drop;\n";
  const char* srcs[] = {"10.1.0.0/16", "192.168.1.0/24", "8.8.8.8", "172.16.0.0/12", "10.0.0.0/8"};
  for (int i = 0; i < 30; ++i)
    rules += fmt::format("ip saddr {} meta l4proto {} th dport {}-{} counter {}\n", srcs[i % 5], i % 2 ? 6 : 17,
                         i * 37 % 1000, i * 37 % 1000 + 200, i % 3 ? "accept" : "drop");
  rules += "ip ttl 1 counter\nip saddr 10.0.0.0/8 accept\n}}";
  jit::Stats s;
  expect_same(rules, pipeline::Path::Forward, &s);
  EXPECT_EQ(s.classifiers, 1u);
  EXPECT_EQ(s.classified_rules, 30u);
}

// Loads of one header at one offset are read once, as wide as the widest
// (a /8 prefix reads one byte of the address, a /24 three); where the wide
// load breaks but a narrow one would not (the frame cut inside the port),
// the run falls back to its rules as written.
TEST(Jit, WidenedLoadsKeepNarrowLoadsWhereTheyBreak) {
  std::string rules = "table ip t { chain f { type filter hook forward priority 0; policy drop;\n";
  const char* srcs[] = {"10.0.0.0/8", "10.1.0.0/16", "192.168.1.0/24", "8.8.8.8", "172.16.0.0/12"};
  for (int i = 0; i < 24; ++i) {
    if (i % 3 == 0) rules += fmt::format("ip saddr {} @th,16,8 {} counter accept\n", srcs[i % 5], i % 2 ? 1 : 0);
    else if (i % 3 == 1) rules += fmt::format("ip saddr {} th dport {} counter drop\n", srcs[i % 5], (i * 131) % 1500);
    else rules += fmt::format("ip saddr {} @th,16,4 {} accept\n", srcs[i % 5], i % 4);
  }
  rules += "}}";
  jit::Stats s;
  expect_same(rules, pipeline::Path::Forward, &s);
  EXPECT_EQ(s.classifiers, 1u);
  EXPECT_EQ(s.classified_rules, 24u);
}

TEST(Jit, TierServesWithTheInterpreterThenSwitches) {
  auto vm = compile("table ip t { chain f { type filter hook forward priority 0; policy drop; tcp dport 22 accept } }");
  ASSERT_TRUE(vm);
  Bytes ssh = v4("10.1.2.3", "1.2.3.4", tcp(1000, 22), 6);
  {
    jit::Tier tier(*vm);
    // served at once, native or not
    EXPECT_TRUE(run(*vm, ssh, pipeline::Path::Forward).result.accepted);
    tier.wait();
    EXPECT_FALSE(tier.failed()) << tier.error();
  }
  EXPECT_TRUE(vm->native_installed());
  EXPECT_TRUE(run(*vm, ssh, pipeline::Path::Forward).result.accepted);
  EXPECT_FALSE(run(*vm, v4("10.1.2.3", "1.2.3.4", tcp(1000, 23), 6), pipeline::Path::Forward).result.accepted);
}

TEST(Jit, EmitsLlvmAndAssembly) {
  auto vm = compile("table ip t { chain f { type filter hook forward priority 0; tcp dport 22 accept } }");
  ASSERT_TRUE(vm);
  std::string ll = jit::emit(*vm, jit::Emit::Llvm);
  EXPECT_NE(ll.find("define i32 @nfx_t0_c0("), std::string::npos) << ll;
  std::string s = jit::emit(*vm, jit::Emit::Asm);
  EXPECT_NE(s.find("nfx_t0_c0:"), std::string::npos) << s;
}

}  // namespace
}  // namespace nfx::vmtest
