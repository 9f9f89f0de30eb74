// Facts about the nft selector tables: header layouts, key properties,
// options, dependencies and named priorities, checked against what nft does.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

#include "selectors.h"

namespace nfx {
namespace {

const FieldDesc& field(const std::string& proto, const std::string& name) {
  const ProtoDesc* p = find_proto(proto);
  EXPECT_NE(p, nullptr) << proto;
  static const FieldDesc kNone{"", 0, 0, ""};
  if (p == nullptr) return kNone;
  const FieldDesc* f = find_field(*p, name);
  EXPECT_NE(f, nullptr) << proto << " " << name;
  return f != nullptr ? *f : kNone;
}

void expect_field(const std::string& proto, const std::string& name, unsigned offset,
                  unsigned bits, const char* dtype) {
  const FieldDesc& f = field(proto, name);
  EXPECT_EQ(f.offset, offset) << proto << " " << name;
  EXPECT_EQ(f.bits, bits) << proto << " " << name;
  EXPECT_STREQ(f.dtype, dtype) << proto << " " << name;
}

const FieldDesc& opt_field(OptionFamily fam, const std::string& opt, const std::string& name) {
  static const FieldDesc kNone{"", 0, 0, ""};
  const OptionDesc* o = find_option(fam, opt);
  EXPECT_NE(o, nullptr) << opt;
  if (o == nullptr) return kNone;
  for (const FieldDesc& f : o->fields)
    if (name == f.name) return f;
  ADD_FAILURE() << opt << " has no field " << name;
  return kNone;
}

TEST(SelectorsProto, IpAddresses) {
  const ProtoDesc* ip = find_proto("ip");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->base, PayloadBase::Network);
  EXPECT_EQ(ip->header_bits, 160u);
  expect_field("ip", "saddr", 96, 32, "ipv4_addr");
  expect_field("ip", "daddr", 128, 32, "ipv4_addr");
  expect_field("ip", "protocol", 72, 8, "inet_proto");
  expect_field("ip", "ttl", 64, 8, "integer");
  expect_field("ip", "dscp", 8, 6, "dscp");
  expect_field("ip", "ecn", 14, 2, "ecn");
  expect_field("ip", "hdrlength", 4, 4, "integer");
  // nft prints ip frag-off in hex: an integer alias.
  expect_field("ip", "frag-off", 48, 16, "xinteger");
  EXPECT_STREQ(dtype_nft_name("xinteger"), "integer");
  EXPECT_STREQ(ip->dep_key, "nfproto");
  EXPECT_EQ(ip->dep_value, 2u);
}

TEST(SelectorsProto, Ip6) {
  expect_field("ip6", "saddr", 64, 128, "ipv6_addr");
  expect_field("ip6", "daddr", 192, 128, "ipv6_addr");
  expect_field("ip6", "flowlabel", 12, 20, "integer");
  expect_field("ip6", "dscp", 4, 6, "dscp");
  expect_field("ip6", "nexthdr", 48, 8, "inet_proto");
  expect_field("ip6", "hoplimit", 56, 8, "integer");
  EXPECT_EQ(find_proto("ip6")->dep_value, 10u);
}

TEST(SelectorsProto, TcpDportAndDependency) {
  const ProtoDesc* tcp = find_proto("tcp");
  ASSERT_NE(tcp, nullptr);
  EXPECT_EQ(tcp->base, PayloadBase::Transport);
  expect_field("tcp", "dport", 16, 16, "inet_service");
  expect_field("tcp", "sport", 0, 16, "inet_service");
  expect_field("tcp", "flags", 104, 8, "tcp_flag");
  expect_field("tcp", "doff", 96, 4, "integer");
  expect_field("tcp", "urgptr", 144, 16, "integer");
  EXPECT_STREQ(tcp->dep_key, "l4proto");
  EXPECT_EQ(tcp->dep_value, 6u);
  EXPECT_EQ(find_proto("udp")->dep_value, 17u);
  EXPECT_EQ(find_proto("icmpv6")->dep_value, 58u);
  EXPECT_EQ(find_proto("sctp")->dep_value, 132u);
  EXPECT_EQ(find_proto("udplite")->dep_value, 136u);
  EXPECT_EQ(find_proto("comp")->dep_value, 108u);
  // th adds no dependency.
  EXPECT_STREQ(find_proto("th")->dep_key, "");
}

TEST(SelectorsProto, LinkLayer) {
  expect_field("ether", "daddr", 0, 48, "ether_addr");
  expect_field("ether", "saddr", 48, 48, "ether_addr");
  expect_field("ether", "type", 96, 16, "ether_type");
  expect_field("vlan", "id", 4, 12, "integer");
  expect_field("vlan", "pcp", 0, 3, "integer");
  expect_field("vlan", "type", 16, 16, "ether_type");
  // cfi is the old name of the dei bit.
  EXPECT_EQ(field("vlan", "dei").offset, field("vlan", "cfi").offset);
  EXPECT_EQ(find_proto("vlan")->dep_value, 0x8100u);
  EXPECT_STREQ(find_proto("ether")->dep_key, "iiftype");
}

TEST(SelectorsProto, ArpCompositeNames) {
  expect_field("arp", "operation", 48, 16, "arp_op");
  expect_field("arp", "saddr ether", 64, 48, "ether_addr");
  expect_field("arp", "saddr ip", 112, 32, "ipv4_addr");
  expect_field("arp", "daddr ether", 144, 48, "ether_addr");
  expect_field("arp", "daddr ip", 192, 32, "ipv4_addr");
  EXPECT_EQ(find_proto("arp")->dep_value, 0x0806u);
}

TEST(SelectorsProto, Icmp) {
  expect_field("icmp", "type", 0, 8, "icmp_type");
  expect_field("icmp", "code", 8, 8, "icmp_code");
  expect_field("icmp", "id", 32, 16, "integer");
  expect_field("icmp", "sequence", 48, 16, "integer");
  expect_field("icmp", "gateway", 32, 32, "integer");
  expect_field("icmp", "mtu", 48, 16, "integer");
  expect_field("icmpv6", "mtu", 32, 32, "integer");
  expect_field("icmpv6", "max-delay", 32, 16, "integer");
  expect_field("icmpv6", "taddr", 64, 128, "ipv6_addr");
  expect_field("icmpv6", "daddr", 192, 128, "ipv6_addr");
  // The parser spells it param-problem, nft prints parameter-problem.
  const ProtoDesc* icmp6 = find_proto("icmpv6");
  const FieldDesc* pp = find_field(*icmp6, "param-problem");
  ASSERT_NE(pp, nullptr);
  EXPECT_STREQ(pp->name, "parameter-problem");
  EXPECT_EQ(pp->offset, 32u);

  const std::vector<uint8_t>* echo = icmp_field_types("icmp", "id");
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(*echo, (std::vector<uint8_t>{8, 0}));
  EXPECT_EQ(*icmp_field_types("icmp", "mtu"), (std::vector<uint8_t>{3}));
  EXPECT_EQ(*icmp_field_types("icmpv6", "mtu"), (std::vector<uint8_t>{2}));
  EXPECT_EQ(*icmp_field_types("icmpv6", "daddr"), (std::vector<uint8_t>{137}));
  EXPECT_EQ(icmp_field_types("icmpv6", "taddr")->size(), 6u);
  EXPECT_EQ(icmp_field_types("icmp", "type"), nullptr);
  EXPECT_EQ(icmp_field_types("tcp", "dport"), nullptr);
}

TEST(SelectorsProto, OtherTransports) {
  expect_field("udp", "length", 32, 16, "integer");
  expect_field("udplite", "csumcov", 32, 16, "integer");
  expect_field("sctp", "vtag", 32, 32, "integer");
  expect_field("sctp", "checksum", 64, 32, "integer");
  expect_field("dccp", "type", 67, 4, "dccp_pkttype");
  expect_field("ah", "spi", 32, 32, "integer");
  expect_field("ah", "sequence", 64, 32, "integer");
  expect_field("esp", "spi", 0, 32, "integer");
  expect_field("comp", "cpi", 16, 16, "integer");
  expect_field("comp", "flags", 8, 8, "bitmask");
  expect_field("igmp", "mrt", 8, 8, "integer");
  expect_field("igmp", "group", 32, 32, "integer");
  expect_field("th", "dport", 16, 16, "inet_service");
}

TEST(SelectorsProto, Tunnels) {
  expect_field("gre", "version", 13, 3, "integer");
  expect_field("gre", "protocol", 16, 16, "ether_type");
  EXPECT_EQ(find_proto("gre")->dep_value, 47u);
  const ProtoDesc* vxlan = find_proto("vxlan");
  ASSERT_NE(vxlan, nullptr);
  EXPECT_EQ(vxlan->base, PayloadBase::Inner);
  expect_field("vxlan", "vni", 32, 24, "integer");
  expect_field("geneve", "vni", 32, 24, "integer");
  ASSERT_NE(find_inner_tunnel("vxlan"), nullptr);
  EXPECT_EQ(find_inner_tunnel("vxlan")->type, 1u);
  EXPECT_EQ(find_inner_tunnel("vxlan")->hdrsize, 8u);
  EXPECT_EQ(find_inner_tunnel("gre")->flags, 0xcu);
  EXPECT_EQ(find_inner_tunnel("gretap")->flags, 0xeu);
  EXPECT_EQ(find_inner_tunnel("ipip"), nullptr);
}

TEST(SelectorsProto, UnknownNames) {
  EXPECT_EQ(find_proto("ipx"), nullptr);
  EXPECT_EQ(find_field(*find_proto("tcp"), "length"), nullptr);
  EXPECT_EQ(find_field(*find_proto("udp"), "csumcov"), nullptr);
}

TEST(SelectorsProto, TablesAreWellFormed) {
  std::set<std::string> names;
  for (const ProtoDesc& p : all_protos()) {
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate " << p.name;
    std::set<std::string> fields;
    for (const FieldDesc& f : p.fields) {
      EXPECT_TRUE(fields.insert(f.name).second) << p.name << " " << f.name;
      EXPECT_GT(f.bits, 0u) << p.name << " " << f.name;
      ASSERT_NE(f.dtype, nullptr);
      EXPECT_GT(std::strlen(f.dtype), 0u);
      EXPECT_EQ(find_field(p, f.name), &f);
    }
    EXPECT_EQ(find_proto(p.name), &p);
  }
  EXPECT_GE(names.size(), 21u);
}

TEST(SelectorsProto, Links) {
  const ProtoLink* l = find_proto_link("inet", "ip");
  ASSERT_NE(l, nullptr);
  EXPECT_STREQ(l->key, "meta nfproto");
  EXPECT_EQ(l->value, 2u);
  l = find_proto_link("ip", "tcp");
  ASSERT_NE(l, nullptr);
  EXPECT_STREQ(l->key, "meta l4proto");
  EXPECT_EQ(l->value, 6u);
  l = find_proto_link("ether", "vlan");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->value, 0x8100u);
  l = find_proto_link("netdev", "arp");
  ASSERT_NE(l, nullptr);
  EXPECT_STREQ(l->key, "meta protocol");
  EXPECT_EQ(l->value, 0x0806u);
  l = find_proto_link("dev", "ether");
  ASSERT_NE(l, nullptr);
  EXPECT_STREQ(l->key, "meta iiftype");
  EXPECT_EQ(l->value, 1u);
  l = find_proto_link("ah", "udp");
  ASSERT_NE(l, nullptr);
  EXPECT_STREQ(l->key, "ah nexthdr");
  l = find_proto_link("udp", "vxlan");
  ASSERT_NE(l, nullptr);
  EXPECT_STREQ(l->key, "");

  const ProtoLink* back = find_proto_link_by_value("ip6", 17);
  ASSERT_NE(back, nullptr);
  EXPECT_STREQ(back->upper, "udp");
  back = find_proto_link_by_value("vlan", 0x86dd);
  ASSERT_NE(back, nullptr);
  EXPECT_STREQ(back->upper, "ip6");
  EXPECT_EQ(find_proto_link_by_value("udp", 0), nullptr);
  EXPECT_EQ(find_proto_link("ip", "arp"), nullptr);
}

TEST(SelectorsProto, Checksums) {
  unsigned type = 99;
  EXPECT_STREQ(proto_checksum_field("ip", type), "checksum");
  EXPECT_EQ(type, 1u);
  EXPECT_STREQ(proto_checksum_field("sctp", type), "checksum");
  EXPECT_EQ(type, 2u);
  EXPECT_EQ(proto_checksum_field("udplite", type), nullptr);
  EXPECT_TRUE(proto_field_in_pseudohdr("ip", "saddr"));
  EXPECT_TRUE(proto_field_in_pseudohdr("ip6", "nexthdr"));
  EXPECT_FALSE(proto_field_in_pseudohdr("ip", "ttl"));
}

// ---- keys ------------------------------------------------------------------

TEST(SelectorsKeys, MetaMark) {
  const KeyDesc* k = find_key(KeyFamily::Meta, "mark");
  ASSERT_NE(k, nullptr);
  EXPECT_STREQ(k->dtype, "mark");
  EXPECT_EQ(k->bits, 32u);
  EXPECT_TRUE(k->flags & kBare);
  EXPECT_TRUE(k->flags & kSettable);
  // Bare on input, but nft lists it as "meta mark".
  EXPECT_FALSE(k->flags & kPrintsBare);
  KeyExtra x{};
  ASSERT_TRUE(key_extra(KeyFamily::Meta, "mark", x));
  EXPECT_EQ(x.kernel_id, 3);
  EXPECT_FALSE(x.big_endian);
}

TEST(SelectorsKeys, MetaBareList) {
  for (const char* name : {"mark", "iif", "iifname", "iiftype", "oif", "oifname", "oiftype",
                           "skuid", "skgid", "nftrace", "rtclassid", "ibrname", "obrname",
                           "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "ipsec", "time",
                           "day", "hour"}) {
    const KeyDesc* k = find_key(KeyFamily::Meta, name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_TRUE(k->flags & kBare) << name;
  }
  for (const char* name : {"length", "protocol", "priority", "random", "secmark", "nfproto",
                           "l4proto", "iifkind", "oifkind", "ibrpvid", "ibrvproto", "sdif",
                           "sdifname", "broute", "ibrhwaddr"}) {
    const KeyDesc* k = find_key(KeyFamily::Meta, name);
    ASSERT_NE(k, nullptr) << name;
    EXPECT_FALSE(k->flags & kBare) << name;
  }
  for (const char* name : {"iif", "oif", "iifname", "oifname", "iifgroup", "oifgroup"})
    EXPECT_TRUE(find_key(KeyFamily::Meta, name)->flags & kPrintsBare) << name;
}

TEST(SelectorsKeys, MetaTypes) {
  EXPECT_STREQ(find_key(KeyFamily::Meta, "l4proto")->dtype, "inet_proto");
  EXPECT_EQ(find_key(KeyFamily::Meta, "l4proto")->bits, 8u);
  EXPECT_STREQ(find_key(KeyFamily::Meta, "protocol")->dtype, "ether_type");
  EXPECT_STREQ(find_key(KeyFamily::Meta, "iifname")->dtype, "ifname");
  EXPECT_EQ(find_key(KeyFamily::Meta, "iifname")->bits, 128u);
  EXPECT_STREQ(find_key(KeyFamily::Meta, "nfproto")->dtype, "nf_proto");
  EXPECT_STREQ(find_key(KeyFamily::Meta, "priority")->dtype, "classid");
  EXPECT_EQ(find_key(KeyFamily::Meta, "nftrace")->bits, 1u);
  EXPECT_STREQ(find_key(KeyFamily::Meta, "time")->dtype, "date");
  EXPECT_STREQ(dtype_nft_name("date"), "time");
  EXPECT_TRUE(find_key(KeyFamily::Meta, "priority")->flags & kSettable);
  EXPECT_TRUE(find_key(KeyFamily::Meta, "pkttype")->flags & kSettable);
  EXPECT_FALSE(find_key(KeyFamily::Meta, "iifname")->flags & kSettable);
  KeyExtra x{};
  ASSERT_TRUE(key_extra(KeyFamily::Meta, "protocol", x));
  EXPECT_TRUE(x.big_endian);
  ASSERT_TRUE(key_extra(KeyFamily::Meta, "ibrhwaddr", x));
  EXPECT_EQ(x.kernel_id, 37);
  ASSERT_TRUE(key_extra(KeyFamily::Meta, "l4proto", x));
  EXPECT_EQ(x.kernel_id, 16);
}

TEST(SelectorsKeys, MetaAliases) {
  EXPECT_EQ(find_key(KeyFamily::Meta, "ibriport"), find_key(KeyFamily::Meta, "ibrname"));
  EXPECT_EQ(find_key(KeyFamily::Meta, "obriport"), find_key(KeyFamily::Meta, "obrname"));
  EXPECT_EQ(find_key(KeyFamily::Meta, "secpath"), find_key(KeyFamily::Meta, "ipsec"));
  EXPECT_EQ(find_key(KeyFamily::Meta, "state"), nullptr);
  EXPECT_EQ(find_key(KeyFamily::Ct, "ibriport"), nullptr);
}

TEST(SelectorsKeys, CtDirections) {
  const KeyDesc* saddr = find_key(KeyFamily::Ct, "saddr");
  ASSERT_NE(saddr, nullptr);
  EXPECT_TRUE(saddr->flags & kNeedsDir);
  EXPECT_TRUE(saddr->flags & kDirectional);
  EXPECT_TRUE(saddr->flags & kNeedsFamily);
  EXPECT_EQ(saddr->bits, 0u);
  for (const char* name : {"daddr", "proto-src", "proto-dst", "ip saddr", "ip6 daddr"})
    EXPECT_TRUE(find_key(KeyFamily::Ct, name)->flags & kNeedsDir) << name;
  const KeyDesc* state = find_key(KeyFamily::Ct, "state");
  EXPECT_TRUE(state->flags & kNoDir);
  EXPECT_FALSE(state->flags & kDirectional);
  EXPECT_STREQ(state->dtype, "ct_state");
  const KeyDesc* proto = find_key(KeyFamily::Ct, "protocol");
  EXPECT_TRUE(proto->flags & kDirectional);
  EXPECT_FALSE(proto->flags & kNeedsDir);
  const KeyDesc* bytes = find_key(KeyFamily::Ct, "bytes");
  EXPECT_TRUE(bytes->flags & kBoth);
  EXPECT_EQ(bytes->bits, 64u);
  EXPECT_TRUE(find_key(KeyFamily::Ct, "packets")->flags & kBoth);
  EXPECT_TRUE(find_key(KeyFamily::Ct, "zone")->flags & kDirectional);
  EXPECT_TRUE(find_key(KeyFamily::Ct, "zone")->flags & kSettable);
  EXPECT_TRUE(find_key(KeyFamily::Ct, "mark")->flags & kSettable);
  EXPECT_TRUE(find_key(KeyFamily::Ct, "label")->flags & kSettable);
  EXPECT_FALSE(find_key(KeyFamily::Ct, "state")->flags & kSettable);
  EXPECT_STREQ(find_key(KeyFamily::Ct, "ip saddr")->dtype, "ipv4_addr");
  EXPECT_EQ(find_key(KeyFamily::Ct, "ip6 saddr")->bits, 128u);
  EXPECT_STREQ(find_key(KeyFamily::Ct, "l3proto")->dtype, "nf_proto");
  EXPECT_STREQ(find_key(KeyFamily::Ct, "expiration")->dtype, "time");
  EXPECT_EQ(find_key(KeyFamily::Ct, "helper")->bits, 128u);
  KeyExtra x{};
  ASSERT_TRUE(key_extra(KeyFamily::Ct, "ip6 daddr", x));
  EXPECT_EQ(x.kernel_id, 22);
  ASSERT_TRUE(key_extra(KeyFamily::Ct, "id", x));
  EXPECT_EQ(x.kernel_id, 23);
  EXPECT_TRUE(x.big_endian);
}

TEST(SelectorsKeys, RtSocketOsfIpsecTunnelFib) {
  EXPECT_STREQ(find_key(KeyFamily::Rt, "classid")->dtype, "realm");
  EXPECT_EQ(find_key(KeyFamily::Rt, "mtu")->bits, 16u);
  EXPECT_STREQ(find_key(KeyFamily::Rt, "ip6 nexthop")->dtype, "ipv6_addr");
  EXPECT_TRUE(find_key(KeyFamily::Rt, "nexthop")->flags & kNeedsFamily);
  EXPECT_STREQ(find_key(KeyFamily::Rt, "ipsec")->dtype, "boolean");

  const KeyDesc* cg = find_key(KeyFamily::Socket, "cgroupv2");
  ASSERT_NE(cg, nullptr);
  EXPECT_TRUE(cg->flags & kNeedsLevel);
  EXPECT_EQ(cg->bits, 64u);
  EXPECT_STREQ(find_key(KeyFamily::Socket, "mark")->dtype, "mark");
  EXPECT_NE(find_key(KeyFamily::Socket, "transparent"), nullptr);
  EXPECT_NE(find_key(KeyFamily::Socket, "wildcard"), nullptr);

  EXPECT_STREQ(find_key(KeyFamily::Osf, "name")->dtype, "string");
  EXPECT_NE(find_key(KeyFamily::Osf, "version"), nullptr);

  EXPECT_EQ(find_key(KeyFamily::Ipsec, "reqid")->bits, 32u);
  EXPECT_NE(find_key(KeyFamily::Ipsec, "spi"), nullptr);
  EXPECT_STREQ(find_key(KeyFamily::Ipsec, "ip6 daddr")->dtype, "ipv6_addr");
  EXPECT_TRUE(find_key(KeyFamily::Ipsec, "saddr")->flags & kNeedsFamily);
  EXPECT_TRUE(find_key(KeyFamily::Ipsec, "daddr")->flags & kNeedsFamily);
  KeyExtra x{};
  ASSERT_TRUE(key_extra(KeyFamily::Ipsec, "ip saddr", x));
  EXPECT_EQ(x.kernel_id, 3);

  EXPECT_STREQ(find_key(KeyFamily::Tunnel, "path")->dtype, "boolean");
  EXPECT_EQ(find_key(KeyFamily::Tunnel, "id")->bits, 32u);

  EXPECT_STREQ(find_key(KeyFamily::FibResult, "oif")->dtype, "iface_index");
  EXPECT_EQ(find_key(KeyFamily::FibResult, "oifname")->bits, 128u);
  EXPECT_STREQ(find_key(KeyFamily::FibResult, "type")->dtype, "fib_addrtype");
  ASSERT_TRUE(key_extra(KeyFamily::FibResult, "type", x));
  EXPECT_EQ(x.kernel_id, 3);

  unsigned all = 0;
  for (const FibFlagDesc& f : fib_flags()) all |= f.value;
  EXPECT_EQ(all, 0x3fu);
  EXPECT_STREQ(fib_flags().front().name, "saddr");
}

TEST(SelectorsKeys, FindMatchesAllKeys) {
  for (int fam = 0; fam <= static_cast<int>(KeyFamily::FibResult); fam++) {
    const auto f = static_cast<KeyFamily>(fam);
    EXPECT_FALSE(all_keys(f).empty());
    std::set<std::string> names;
    for (const KeyDesc& k : all_keys(f)) {
      EXPECT_TRUE(names.insert(k.name).second) << k.name;
      EXPECT_EQ(find_key(f, k.name), &k);
      KeyExtra x{};
      EXPECT_TRUE(key_extra(f, k.name, x));
      if (k.flags & kNeedsDir) {
        EXPECT_TRUE(k.flags & kDirectional);
      }
    }
  }
}

// ---- options ---------------------------------------------------------------

TEST(SelectorsOptions, TcpMaxseg) {
  const OptionDesc* mss = find_option(OptionFamily::TcpOption, "maxseg");
  ASSERT_NE(mss, nullptr);
  EXPECT_EQ(mss->type, 2u);
  const FieldDesc& size = opt_field(OptionFamily::TcpOption, "maxseg", "size");
  EXPECT_EQ(size.offset, 16u);
  EXPECT_EQ(size.bits, 16u);
  EXPECT_STREQ(size.dtype, "integer");
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "maxseg", "length").offset, 8u);
}

TEST(SelectorsOptions, TcpOthers) {
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "window")->type, 3u);
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "window", "count").offset, 16u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "sack-perm")->type, 4u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "sack-permitted"),
            find_option(OptionFamily::TcpOption, "sack-perm"));
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "sack0"),
            find_option(OptionFamily::TcpOption, "sack"));
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "sack", "left").offset, 16u);
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "sack", "right").offset, 48u);
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "sack1", "left").offset, 80u);
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "sack2", "left").offset, 144u);
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "sack3", "right").offset, 240u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "sack3")->type, 5u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "timestamp")->type, 8u);
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "timestamp", "tsecr").offset, 48u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "md5sig")->type, 19u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "mptcp")->type, 30u);
  EXPECT_EQ(opt_field(OptionFamily::TcpOption, "mptcp", "subtype").bits, 4u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "fastopen")->type, 34u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "eol")->type, 0u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "nop")->type, 1u);
}

TEST(SelectorsOptions, TcpNumericKinds) {
  const OptionDesc* six = find_option(OptionFamily::TcpOption, "6");
  ASSERT_NE(six, nullptr);
  EXPECT_EQ(six->type, 6u);
  EXPECT_STREQ(six->name, "6");
  ASSERT_EQ(six->fields.size(), 1u);
  EXPECT_STREQ(six->fields[0].name, "kind");
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "2"),
            find_option(OptionFamily::TcpOption, "maxseg"));
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "255")->type, 255u);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "256"), nullptr);
  EXPECT_EQ(find_option(OptionFamily::TcpOption, "foobar"), nullptr);
  EXPECT_EQ(find_option_by_type(OptionFamily::TcpOption, 5)->name, std::string("sack"));
}

TEST(SelectorsOptions, Exthdr) {
  EXPECT_EQ(find_option(OptionFamily::Exthdr, "hbh")->type, 0u);
  EXPECT_EQ(find_option(OptionFamily::Exthdr, "rt")->type, 43u);
  EXPECT_EQ(find_option(OptionFamily::Exthdr, "srh")->type, 43u);
  EXPECT_EQ(find_option(OptionFamily::Exthdr, "frag")->type, 44u);
  EXPECT_EQ(find_option(OptionFamily::Exthdr, "dst")->type, 60u);
  EXPECT_EQ(find_option(OptionFamily::Exthdr, "mh")->type, 135u);
  const FieldDesc& fo = opt_field(OptionFamily::Exthdr, "frag", "frag-off");
  EXPECT_EQ(fo.offset, 16u);
  EXPECT_EQ(fo.bits, 13u);
  EXPECT_EQ(opt_field(OptionFamily::Exthdr, "frag", "more-fragments").offset, 31u);
  EXPECT_EQ(opt_field(OptionFamily::Exthdr, "frag", "id").bits, 32u);
  EXPECT_STREQ(opt_field(OptionFamily::Exthdr, "mh", "type").dtype, "mh_type");
  EXPECT_STREQ(opt_field(OptionFamily::Exthdr, "hbh", "nexthdr").dtype, "inet_proto");
  EXPECT_EQ(opt_field(OptionFamily::Exthdr, "rt", "seg-left").offset, 24u);
  EXPECT_EQ(opt_field(OptionFamily::Exthdr, "srh", "tag").offset, 48u);
  EXPECT_EQ(opt_field(OptionFamily::Exthdr, "srh", "sid[1]").offset, 64u);
  EXPECT_EQ(opt_field(OptionFamily::Exthdr, "srh", "sid[2]").offset, 192u);
  EXPECT_EQ(opt_field(OptionFamily::Exthdr, "rt0", "addr[1]").bits, 128u);
  EXPECT_NE(find_option(OptionFamily::Exthdr, "rt2"), nullptr);
  EXPECT_EQ(find_option_by_type(OptionFamily::Exthdr, 43)->name, std::string("rt"));
  EXPECT_EQ(find_option(OptionFamily::Exthdr, "6"), nullptr);
}

TEST(SelectorsOptions, IpOptions) {
  EXPECT_EQ(find_option(OptionFamily::IpOption, "lsrr")->type, 131u);
  EXPECT_EQ(find_option(OptionFamily::IpOption, "rr")->type, 7u);
  EXPECT_EQ(find_option(OptionFamily::IpOption, "ssrr")->type, 137u);
  EXPECT_EQ(find_option(OptionFamily::IpOption, "ra")->type, 148u);
  EXPECT_EQ(opt_field(OptionFamily::IpOption, "rr", "ptr").offset, 16u);
  EXPECT_EQ(opt_field(OptionFamily::IpOption, "lsrr", "addr").offset, 24u);
  EXPECT_EQ(opt_field(OptionFamily::IpOption, "lsrr", "addr").bits, 32u);
  EXPECT_EQ(opt_field(OptionFamily::IpOption, "ra", "value").bits, 16u);
}

TEST(SelectorsOptions, SctpChunks) {
  EXPECT_EQ(find_option(OptionFamily::SctpChunk, "data")->type, 0u);
  EXPECT_EQ(find_option(OptionFamily::SctpChunk, "init-ack")->type, 2u);
  EXPECT_EQ(find_option(OptionFamily::SctpChunk, "shutdown-complete")->type, 14u);
  EXPECT_EQ(find_option(OptionFamily::SctpChunk, "asconf-ack")->type, 128u);
  EXPECT_EQ(find_option(OptionFamily::SctpChunk, "forward-tsn")->type, 192u);
  EXPECT_EQ(find_option(OptionFamily::SctpChunk, "asconf")->type, 193u);
  EXPECT_EQ(opt_field(OptionFamily::SctpChunk, "data", "ppid").offset, 96u);
  EXPECT_EQ(opt_field(OptionFamily::SctpChunk, "init", "num-inbound-streams").offset, 112u);
  EXPECT_EQ(opt_field(OptionFamily::SctpChunk, "sack", "cum-tsn-ack").offset, 32u);
  EXPECT_EQ(opt_field(OptionFamily::SctpChunk, "heartbeat", "length").bits, 16u);
  EXPECT_EQ(all_options(OptionFamily::SctpChunk).size(), 18u);
  // Every chunk starts with type, flags, length.
  for (const OptionDesc& c : all_options(OptionFamily::SctpChunk)) {
    ASSERT_GE(c.fields.size(), 3u);
    EXPECT_STREQ(c.fields[0].name, "type");
    EXPECT_STREQ(c.fields[2].name, "length");
  }
}

// ---- priorities ------------------------------------------------------------

TEST(SelectorsPriority, NamedValues) {
  int v = 0;
  EXPECT_TRUE(named_priority("ip", "postrouting", "srcnat", v));
  EXPECT_EQ(v, 100);
  EXPECT_TRUE(named_priority("ip", "prerouting", "dstnat", v));
  EXPECT_EQ(v, -100);
  EXPECT_TRUE(named_priority("inet", "input", "filter", v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(named_priority("ip6", "prerouting", "raw", v));
  EXPECT_EQ(v, -300);
  EXPECT_TRUE(named_priority("ip", "forward", "mangle", v));
  EXPECT_EQ(v, -150);
  EXPECT_TRUE(named_priority("ip", "output", "security", v));
  EXPECT_EQ(v, 50);
  EXPECT_TRUE(named_priority("netdev", "ingress", "filter", v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(named_priority("arp", "input", "filter", v));
  EXPECT_EQ(v, 0);
}

TEST(SelectorsPriority, HookRestrictions) {
  int v = 0;
  // dstnat: prerouting and output; srcnat: input and postrouting.
  EXPECT_TRUE(named_priority("ip", "output", "dstnat", v));
  EXPECT_FALSE(named_priority("ip", "postrouting", "dstnat", v));
  EXPECT_TRUE(named_priority("ip", "input", "srcnat", v));
  EXPECT_FALSE(named_priority("ip", "prerouting", "srcnat", v));
  EXPECT_FALSE(named_priority("netdev", "ingress", "raw", v));
  EXPECT_FALSE(named_priority("arp", "input", "mangle", v));
  EXPECT_FALSE(named_priority("ip", "input", "out", v));
  EXPECT_FALSE(named_priority("ip", "input", "bogus", v));
}

TEST(SelectorsPriority, Bridge) {
  int v = 0;
  EXPECT_TRUE(named_priority("bridge", "forward", "filter", v));
  EXPECT_EQ(v, -200);
  EXPECT_TRUE(named_priority("bridge", "output", "out", v));
  EXPECT_EQ(v, 100);
  EXPECT_FALSE(named_priority("bridge", "input", "out", v));
  EXPECT_TRUE(named_priority("bridge", "prerouting", "dstnat", v));
  EXPECT_EQ(v, -300);
  EXPECT_FALSE(named_priority("bridge", "postrouting", "dstnat", v));
  EXPECT_TRUE(named_priority("bridge", "postrouting", "srcnat", v));
  EXPECT_EQ(v, 300);
  EXPECT_FALSE(named_priority("bridge", "input", "raw", v));
}

TEST(SelectorsPriority, Names) {
  EXPECT_STREQ(priority_name("ip", "postrouting", 100), "srcnat");
  EXPECT_STREQ(priority_name("ip", "input", 0), "filter");
  EXPECT_STREQ(priority_name("bridge", "input", -200), "filter");
  EXPECT_STREQ(priority_name("bridge", "output", 100), "out");
  EXPECT_EQ(priority_name("ip", "forward", 100), nullptr);
  EXPECT_EQ(priority_name("ip", "input", 7), nullptr);
  EXPECT_EQ(priority_name("netdev", "ingress", -150), nullptr);
}

TEST(SelectorsPriority, ListingText) {
  EXPECT_EQ(priority_to_string("ip", "input", 0), "filter");
  EXPECT_EQ(priority_to_string("ip", "input", 4), "filter + 4");
  EXPECT_EQ(priority_to_string("ip", "input", -10), "filter - 10");
  EXPECT_EQ(priority_to_string("ip", "input", -30), "-30");
  EXPECT_EQ(priority_to_string("ip", "prerouting", -90), "dstnat + 10");
  EXPECT_EQ(priority_to_string("ip", "postrouting", 110), "srcnat + 10");
  EXPECT_EQ(priority_to_string("ip", "prerouting", -290), "raw + 10");
  EXPECT_EQ(priority_to_string("ip", "output", 225), "225");
  // The nearest name is not valid on this hook: the number is printed.
  EXPECT_EQ(priority_to_string("ip", "forward", 100), "100");
  EXPECT_EQ(priority_to_string("netdev", "ingress", -500), "-500");
  EXPECT_EQ(priority_to_string("bridge", "forward", -195), "filter + 5");
  EXPECT_EQ(priority_to_string("bridge", "input", 0), "0");
}

}  // namespace
}  // namespace nfx
