// nft's semantic rejections (compiler/src/constraints*.cc): each case is a
// ruleset nft 1.0.6 refuses, with the message it prints, or one it accepts.
#include <gtest/gtest.h>
#include <nfx/compiler.h>

#include <string>

namespace {

// Loads `family` table t with chain c (`decl`) and the rule; returns the
// errors ("" when accepted).
std::string errors_of(const std::string& family, const std::string& decl, const std::string& rule) {
  std::string text = "table " + family + " t {\n\tchain c {\n\t\t" + decl + "\n\t}\n}\nadd rule " + family +
                     " t c " + rule + "\n";
  nfx::Diagnostics diags;
  nfx::Script script = nfx::parse_string(text, "test.nft", diags);
  nfx::Ruleset rs;
  if (!diags.has_errors()) nfx::apply_script(script, rs, diags);
  return diags.has_errors() ? diags.format() : std::string();
}

const char* kInput = "type filter hook input priority 0;";

void expect_error(const std::string& family, const std::string& decl, const std::string& rule,
                  const std::string& message) {
  std::string err = errors_of(family, decl, rule);
  EXPECT_NE(err.find("Error: " + message), std::string::npos) << rule << "\n" << err;
}

void expect_ok(const std::string& family, const std::string& decl, const std::string& rule) {
  EXPECT_EQ(errors_of(family, decl, rule), "") << rule;
}

TEST(Constraints, StatementAfterTerminalStatement) {
  expect_error("ip", kInput, "ip saddr 10.1.1.1 accept drop", "Statement after terminal statement has no effect");
  expect_error("ip", "type nat hook postrouting priority 100;", "tcp dport 22 masquerade counter accept",
               "Statement after terminal statement has no effect");
  expect_ok("ip", kInput, "counter continue");
  expect_ok("ip", kInput, "tcp dport vmap { 22 : accept } counter");
}

TEST(Constraints, NatNeedsNatChainAndHook) {
  expect_error("ip", kInput, "tcp dport 22 dnat to 1.2.3.4", "Could not process rule: Operation not supported");
  expect_error("ip", "type nat hook prerouting priority -100;", "snat to 1.2.3.4",
               "Could not process rule: Operation not supported");
  expect_ok("ip", "type nat hook postrouting priority 100;", "snat to 1.2.3.4");
  expect_error("ip", "type nat hook output priority 0;", "redirect to :1234",
               "transport protocol mapping is only valid after transport protocol match");
  expect_ok("ip", "type nat hook output priority 0;", "tcp dport 1 redirect to :1234");
  expect_error("inet", "type nat hook prerouting priority -100;", "dnat to 1.2.3.4",
               "ip or ip6 must be specified with address for inet tables.");
  expect_ok("inet", "type nat hook prerouting priority -100;", "meta nfproto ipv4 dnat to 1.2.3.4");
  expect_error("bridge", kInput, "redirect to :1234", "NAT is only supported for IPv4/IPv6");
}

TEST(Constraints, Tproxy) {
  const char* pre = "type filter hook prerouting priority -150;";
  expect_error("ip", pre, "tproxy to 192.0.2.1", "Transparent proxy support requires transport protocol match");
  expect_ok("ip", pre, "meta l4proto 17 tproxy to 192.0.2.1");
  expect_error("inet", pre, "ip protocol 6 tproxy ip6 to [2001:db8::1]",
               "conflicting protocols specified: ip vs. ip6. You must specify ip or ip6 family in tproxy statement");
  expect_error("ip", kInput, "meta l4proto 6 tproxy to 192.0.2.1", "Could not process rule: Operation not supported");
}

TEST(Constraints, Reject) {
  expect_error("ip", kInput, "reject with icmpv6 no-route", "conflicting protocols specified: ip vs ip6");
  expect_error("ip", kInput, "reject with icmp no-route", "Could not parse icmp code");
  expect_error("bridge", kInput, "ether type arp reject", "cannot reject this network family");
  expect_error("bridge", kInput, "ip protocol udp reject with tcp reset", "you cannot use tcp reset with this protocol");
  expect_error("inet", kInput, "meta nfproto ipv6 reject with icmp host-unreachable",
               "conflicting protocols specified: ip vs ip6");
  expect_ok("inet", kInput, "meta nfproto ipv6 reject with icmpv6 no-route");
  expect_error("ip", "type filter hook postrouting priority 0;", "reject",
               "Could not process rule: Operation not supported");
}

TEST(Constraints, ProtocolContext) {
  expect_error("inet", kInput, "meta nfproto ipv6 ip protocol icmp", "conflicting protocols specified: ip6 vs. ip");
  expect_error("ip", kInput, "meta nfproto ipv6", "meta nfproto is only useful in the inet family");
  expect_error("bridge", kInput, "ether type ip vlan id 1", "conflicting protocols specified: ether vs. vlan");
  expect_ok("bridge", kInput, "ether type vlan vlan id 1 ip saddr 10.0.0.1");
  expect_error("inet", kInput, "meta l4proto { tcp, udp } tcp dport 20", "conflicting protocols specified: udp vs. tcp");
  expect_ok("inet", kInput, "meta l4proto { tcp, udp } th dport 53");
  expect_error("ip", kInput, "icmp code != 1 icmp type 2 icmp mtu 5", "incompatible icmp match: rule has 2, need 3");
  expect_error("ip", kInput, "rt ip6 nexthop fd00::1", "ip6 nexthop will not match");
}

TEST(Constraints, ValueShapes) {
  expect_error("ip", kInput, "ct expiration 1d-1h", "Range has zero or negative size");
  expect_error("ip", kInput, "meta iifname \"\"", "Empty string is not allowed");
  expect_error("ip", kInput, "socket transparent 2", "Value 2 exceeds valid range 0-1");
  expect_error("ip", kInput, "queue to symhash mod 2 offset 65536", "queue expression max value exceeds 65535");
  expect_error("ip", kInput, "ip saddr vmap { 10.0.1.0-10.0.1.255 : accept, 10.0.1.1-10.0.2.255 : drop }",
               "conflicting intervals specified");
  expect_ok("ip", kInput, "ip saddr { 10.0.1.0-10.0.1.255, 10.0.1.1-10.0.2.255 }");
  expect_error("ip", kInput, "log level audit group 42", "level and group are mutually exclusive");
  expect_error("ip", kInput, "limit rate 1023/second burst 10 bytes", "syntax error, unexpected bytes, expecting packets");
  expect_error("ip", kInput, "quota name \"qt3\"", "Could not process rule: No such file or directory");
  expect_error("ip", kInput, "meta ibrname \"br0\"", "Could not process rule: Operation not supported");
}

TEST(Constraints, IntervalSetElements) {
  std::string text =
      "table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 192.168.1.0/24 }\n\t}\n}\n";
  auto run = [&](const std::string& extra) {
    nfx::Diagnostics diags;
    nfx::Script script = nfx::parse_string(text + extra, "test.nft", diags);
    nfx::Ruleset rs;
    if (!diags.has_errors()) nfx::apply_script(script, rs, diags);
    return diags.format();
  };
  EXPECT_NE(run("add element ip t s { 192.168.1.1 }\n").find("conflicting intervals specified"), std::string::npos);
  EXPECT_EQ(run("add element ip t s { 192.168.1.0/24 }\n"), "");
  EXPECT_EQ(run("add element ip t s { 192.168.2.0/24 }\n"), "");
}

}  // namespace
