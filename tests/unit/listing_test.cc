// Rule shapes that the kernel's round trip changes, listed as nft lists them:
// merged payload matches, context-typed keys, widened raw payloads.
#include <gtest/gtest.h>
#include <nfx/compiler.h>

namespace {

// The one rule of chain `c` in a table of `family`, as listed.
std::string listed(const std::string& family, const std::string& rule, const std::string& chain_decl = "") {
  nfx::Diagnostics diags;
  std::string text = "table " + family + " t { chain c { " + chain_decl + rule + "\n} }\n";
  nfx::Script script = nfx::parse_string(text, "test.nft", diags);
  nfx::Ruleset rs;
  if (!diags.has_errors()) nfx::apply_script(script, rs, diags);
  if (diags.has_errors()) return "error: " + diags.format();
  std::string out = nfx::print_ruleset(rs, {});
  size_t b = out.rfind("\n\t\t"), e = out.find('\n', b + 1);  // the last line of the chain
  return b == std::string::npos ? "" : out.substr(b + 3, e - b - 3);
}

TEST(Listing, AdjacentPayloadMatchesListInHeaderOrder) {
  EXPECT_EQ(listed("ip", "icmp code 1 icmp type 2"), "icmp type 2 icmp code 1");
  EXPECT_EQ(listed("ip", "tcp dport 22 tcp sport 21 accept"), "tcp sport 21 tcp dport 22 accept");
  // two 32-bit loads stay apart (the kernel's fast path)
  EXPECT_EQ(listed("ip", "ip daddr 1.1.1.1 ip saddr 2.2.2.2"), "ip daddr 1.1.1.1 ip saddr 2.2.2.2");
  // a statement that is no match is a fence
  EXPECT_EQ(listed("ip", "icmp code 1 counter icmp type 2"), "icmp code 1 counter packets 0 bytes 0 icmp type 2");
  // the ether type nft adds for vlan merges with ether saddr
  EXPECT_EQ(listed("bridge", "vlan id 2 ether saddr 0:1:2:3:4:6"), "ether saddr 00:01:02:03:04:06 vlan id 2");
}

TEST(Listing, FamilyLessKeysTakeTheRuleProtocol) {
  EXPECT_EQ(listed("inet", "meta nfproto ipv4 ct original saddr 1.2.3.4"), "ct original ip saddr 1.2.3.4");
  EXPECT_EQ(listed("ip", "rt nexthop 192.168.0.1"), "rt ip nexthop 192.168.0.1");
  EXPECT_EQ(listed("inet", "meta nfproto ipv6 rt nexthop fd00::1"), "meta nfproto ipv6 rt ip6 nexthop fd00::1");
  EXPECT_EQ(listed("inet", "ip saddr 10.1.1.1 snat to 192.168.3.2", "type nat hook postrouting priority 0;"),
            "ip saddr 10.1.1.1 snat ip to 192.168.3.2");
}

TEST(Listing, RawPayloads) {
  EXPECT_EQ(listed("netdev", "@ll,0,1 1"), "@ll,0,8 & 0x80 == 0x80");
  EXPECT_EQ(listed("netdev", "@ih,1,2 0x2"), "@ih,1,2 0x2");
  EXPECT_EQ(listed("inet", "meta l4proto tcp @th,16,16 { 22, 80 }"), "tcp dport { 22, 80 }");
  EXPECT_EQ(listed("arp", "@nh,192,32 0xc0a88f10"), "arp daddr ip 192.168.143.16");
}

TEST(Listing, ConstantsAsTheKernelKeepsThem) {
  EXPECT_EQ(listed("ip", "ct mark set 0x1 or ct mark"), "ct mark set ct mark | 0x00000001");
  EXPECT_EQ(listed("ip6", "ct mark set ip6 dscp | 0xff000000"), "ct mark set ip6 dscp | 0xff000000");
  EXPECT_EQ(listed("ip", "tcp flags & (fin | syn | rst | psh | ack | urg | ecn | cwr) == fin | syn"),
            "tcp flags == 0x3");
  EXPECT_EQ(listed("ip", "snat to 10.0.0.0-10.0.0.255", "type nat hook postrouting priority 0;"),
            "snat to 10.0.0.0/24");
  EXPECT_EQ(listed("ip", "ct original protocol 17"), "ct protocol udp");
}

// A whole ruleset as listed.
std::string listed_ruleset(const std::string& text) {
  nfx::Diagnostics diags;
  nfx::Script script = nfx::parse_string(text, "test.nft", diags);
  nfx::Ruleset rs;
  if (!diags.has_errors()) nfx::apply_script(script, rs, diags);
  if (diags.has_errors()) return "error: " + diags.format();
  return nfx::print_ruleset(rs, {});
}

// As the kernel and nft 1.0.6 list them (checked on this project's machine).
TEST(Listing, SetsThePacketPathChangesGetASizeAndSetsTheDynamicFlag) {
  const std::string out = listed_ruleset(
      "table ip t {\n"
      "  set a { type ipv4_addr; flags timeout; }\n"
      "  set b { type ipv4_addr; }\n"
      "  set c { type ipv4_addr; size 100; }\n"
      "  set u { type ipv4_addr; }\n"
      "  map m { type ipv4_addr : mark; }\n"
      "  chain c { type filter hook input priority 0;\n"
      "    update @a { ip saddr }\n"
      "    delete @b { ip saddr }\n"
      "    add @c { ip saddr }\n"
      "    ip saddr @u accept\n"
      "    update @m { ip saddr : meta mark }\n"
      "  }\n"
      "}\n");
  EXPECT_NE(out.find("set a {\n\t\ttype ipv4_addr\n\t\tsize 65535\n\t\tflags dynamic,timeout\n\t}"), std::string::npos)
      << out;
  EXPECT_NE(out.find("set b {\n\t\ttype ipv4_addr\n\t\tsize 65535\n\t\tflags dynamic\n\t}"), std::string::npos) << out;
  EXPECT_NE(out.find("set c {\n\t\ttype ipv4_addr\n\t\tsize 100\n\t\tflags dynamic\n\t}"), std::string::npos) << out;
  EXPECT_NE(out.find("set u {\n\t\ttype ipv4_addr\n\t}"), std::string::npos) << out;  // only matched against
  EXPECT_NE(out.find("map m {\n\t\ttype ipv4_addr : mark\n\t\tsize 65535\n\t}"), std::string::npos) << out;
}

TEST(Listing, SetFlagsInTheKernelsBitOrder) {
  const std::string out = listed_ruleset(
      "table ip t {\n"
      "  set a { type ipv4_addr; flags timeout,dynamic; }\n"
      "  set b { type ipv4_addr; flags interval,constant; elements = { 1.2.3.4 }; }\n"
      "}\n");
  EXPECT_NE(out.find("flags dynamic,timeout\n"), std::string::npos) << out;
  EXPECT_NE(out.find("flags constant,interval\n"), std::string::npos) << out;
}

}  // namespace
