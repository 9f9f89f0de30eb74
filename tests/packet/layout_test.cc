// Layouts of frames as the kernel sees them at the hooks: link layer and
// VLAN untagging, IPv4 and IPv6 packet info, and the receive checks.
#include <gtest/gtest.h>

#include <nfx/packet.h>

#include "frame_builder.h"

namespace nfx::packet {
namespace {

using namespace testing;

PacketLayout eth(const Bytes& f, Context c = Context::Validate) {
  return parse_layout(f, LinkType::Ethernet, c);
}

TEST(PacketLayout, EthernetIpv4Tcp) {
  const Bytes f = ethernet(0x0800, ipv4({}, tcp(1234, 80)));
  const PacketLayout l = eth(f);
  EXPECT_TRUE(l.link_ok);
  EXPECT_EQ(l.mac_off, 0);
  EXPECT_FALSE(l.vlan_present);
  EXPECT_EQ(l.protocol, kEthPIp);
  EXPECT_EQ(l.nh_off, 14u);
  EXPECT_EQ(l.end, f.size());
  EXPECT_EQ(l.l3_len, 40u);
  EXPECT_TRUE(l.l4_valid);
  EXPECT_EQ(l.l4proto, kIpProtoTcp);
  EXPECT_EQ(l.th_off, 34u);
  EXPECT_EQ(l.fragoff, 0);
  EXPECT_FALSE(l.fragment);
  EXPECT_TRUE(l.ip_rcv_ok);
  EXPECT_FALSE(l.ipv6_rcv_ok);
  EXPECT_EQ(l.rcv_error, RcvError::Ok);
}

TEST(PacketLayout, ShortEthernetIsNotDelivered) {
  const Bytes f(13, 0);
  EXPECT_FALSE(eth(f).link_ok);
  EXPECT_TRUE(eth(Bytes(14, 0)).link_ok);
}

TEST(PacketLayout, VlanTagIsTakenOut) {
  const Bytes f = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 53)), {{0x8100, 0x2064}});
  const PacketLayout l = eth(f);
  ASSERT_TRUE(l.link_ok);
  EXPECT_TRUE(l.vlan_present);
  EXPECT_EQ(l.vlan_proto, kEthP8021Q);
  EXPECT_EQ(l.vlan_tci, 0x2064);
  EXPECT_EQ(l.protocol, kEthPIp);
  EXPECT_EQ(l.nh_off, 18u);
  EXPECT_EQ(l.th_off, 38u);
  EXPECT_EQ(l.l4proto, kIpProtoUdp);
}

TEST(PacketLayout, QinQKeepsTheInnerTagInline) {
  const Bytes f = ethernet(0x0800, ipv4({}, udp(1, 53)), {{0x88a8, 10}, {0x8100, 20}});
  const PacketLayout l = eth(f);
  ASSERT_TRUE(l.link_ok);
  EXPECT_TRUE(l.vlan_present);
  EXPECT_EQ(l.vlan_proto, kEthP8021AD);
  EXPECT_EQ(l.vlan_tci, 10);
  // skb->protocol is the inner TPID; the inner tag is at the network header.
  EXPECT_EQ(l.protocol, kEthP8021Q);
  EXPECT_EQ(l.nh_off, 18u);
  EXPECT_FALSE(l.l4_valid);
  EXPECT_FALSE(l.ip_rcv_ok);
  EXPECT_EQ(l.rcv_error, RcvError::NotIp);
}

TEST(PacketLayout, VlanTagNeedsSixBytes) {
  // skb_vlan_untag pulls the tag and two more bytes, else frees the frame.
  Bytes f = ethernet(0x0800, {}, {{0x8100, 5}});
  EXPECT_FALSE(eth(f).link_ok);  // 18 bytes
  f.push_back(0);
  EXPECT_FALSE(eth(f).link_ok);
  f.push_back(0);
  EXPECT_TRUE(eth(f).link_ok);
}

TEST(PacketLayout, Ieee8023LengthFrames) {
  Bytes llc = ethernet(0x0030, {0xaa, 0xaa, 0x03});
  EXPECT_EQ(eth(llc).protocol, kEthP8022);
  Bytes novell = ethernet(0x0030, {0xff, 0xff, 0x00});
  EXPECT_EQ(eth(novell).protocol, kEthP8023);
  Bytes tagged = ethernet(0x0030, {0xff, 0xff, 0x00}, {{0x8100, 1}});
  EXPECT_EQ(eth(tagged).protocol, kEthP8023);
}

TEST(PacketLayout, Arp) {
  const Bytes f = ethernet(0x0806, Bytes(28, 0));
  const PacketLayout l = eth(f);
  EXPECT_TRUE(l.link_ok);
  EXPECT_EQ(l.protocol, kEthPArp);
  EXPECT_EQ(l.nh_off, 14u);
  EXPECT_FALSE(l.l4_valid);
  EXPECT_EQ(l.th_off, 14u);
}

TEST(PacketLayout, RawIp) {
  const Bytes v4 = ipv4({}, tcp(1, 2));
  PacketLayout l = parse_layout(v4, LinkType::RawIp, Context::IpStack);
  EXPECT_TRUE(l.link_ok);
  EXPECT_EQ(l.mac_off, -1);
  EXPECT_EQ(l.protocol, kEthPIp);
  EXPECT_EQ(l.nh_off, 0u);
  EXPECT_EQ(l.th_off, 20u);

  const Bytes v6 = ipv6({}, {}, kUdp, udp(1, 2));
  l = parse_layout(v6, LinkType::RawIp, Context::IpStack);
  EXPECT_EQ(l.protocol, kEthPIpv6);
  EXPECT_EQ(l.th_off, 40u);
  EXPECT_TRUE(l.ipv6_rcv_ok);

  EXPECT_FALSE(parse_layout(Bytes{0x50, 0}, LinkType::RawIp, Context::IpStack).link_ok);
  EXPECT_FALSE(parse_layout(Bytes{}, LinkType::RawIp, Context::IpStack).link_ok);
}

// --- IPv4 ---

TEST(PacketLayoutIpv4, OptionsMoveTheTransportHeader) {
  Ip4 ip;
  ip.options = {148, 4, 0, 0};  // router alert
  const Bytes f = ethernet(0x0800, ipv4(ip, tcp(1, 2)));
  const PacketLayout l = eth(f);
  EXPECT_TRUE(l.l4_valid);
  EXPECT_EQ(l.th_off, 14u + 24u);
  EXPECT_TRUE(l.ip_rcv_ok);
}

TEST(PacketLayoutIpv4, Fragments) {
  Ip4 first;
  first.frag = 0x2000;  // MF, offset 0
  PacketLayout l = eth(ethernet(0x0800, ipv4(first, tcp(1, 2))));
  EXPECT_TRUE(l.l4_valid);
  EXPECT_EQ(l.fragoff, 0);
  EXPECT_TRUE(l.fragment);

  Ip4 later;
  later.frag = 0x2000 | 185;  // offset 1480 bytes
  l = eth(ethernet(0x0800, ipv4(later, Bytes(64, 0xab))));
  EXPECT_TRUE(l.l4_valid);  // tprot is set; only transport loads fail
  EXPECT_EQ(l.l4proto, kIpProtoTcp);
  EXPECT_EQ(l.fragoff, 185);
  EXPECT_TRUE(l.fragment);

  Ip4 last;
  last.frag = 185;  // last fragment: no MF
  l = eth(ethernet(0x0800, ipv4(last, Bytes(8, 0))));
  EXPECT_EQ(l.fragoff, 185);
  EXPECT_TRUE(l.fragment);

  Ip4 df;
  df.frag = 0x4000;  // DF alone is not a fragment
  l = eth(ethernet(0x0800, ipv4(df, tcp(1, 2))));
  EXPECT_FALSE(l.fragment);
  EXPECT_EQ(l.fragoff, 0);
}

TEST(PacketLayoutIpv4, BadIhlAndVersion) {
  Bytes p = ipv4({}, tcp(1, 2));
  for (std::uint8_t first : {0x44, 0x40, 0x45 ^ 0x10, 0x65}) {
    Bytes q = p;
    q[0] = first;
    const PacketLayout l = eth(ethernet(0x0800, q));
    EXPECT_FALSE(l.l4_valid) << int(first);
    EXPECT_FALSE(l.ip_rcv_ok) << int(first);
    EXPECT_EQ(l.rcv_error, RcvError::BadVersion) << int(first);
    EXPECT_EQ(l.th_off, l.nh_off);
  }
  // ihl larger than the packet.
  Bytes q = p;
  q[0] = 0x4f;
  const PacketLayout l = eth(ethernet(0x0800, q));
  EXPECT_FALSE(l.l4_valid);  // tot_len 40 < 60
  EXPECT_EQ(l.rcv_error, RcvError::HeaderTruncated);
}

TEST(PacketLayoutIpv4, TotLen) {
  Bytes p = ipv4({}, tcp(1, 2));
  // tot_len beyond the frame: no transport info, ip_rcv_core drops it.
  Bytes q = p;
  put16(q, 2, 41);
  put16(q, 10, 0);
  put16(q, 10, ref_checksum(ref_sum(q.data(), 20)));
  PacketLayout l = eth(ethernet(0x0800, q));
  EXPECT_FALSE(l.l4_valid);
  EXPECT_EQ(l.rcv_error, RcvError::Truncated);
  EXPECT_EQ(l.l3_len, 41u);

  // tot_len below the header length.
  put16(q, 2, 19);
  put16(q, 10, 0);
  put16(q, 10, ref_checksum(ref_sum(q.data(), 20)));
  l = eth(ethernet(0x0800, q));
  EXPECT_FALSE(l.l4_valid);
  EXPECT_EQ(l.rcv_error, RcvError::BadLength);

  // tot_len == header length: valid, the transport header is empty.
  put16(q, 2, 20);
  put16(q, 10, 0);
  put16(q, 10, ref_checksum(ref_sum(q.data(), 20)));
  l = eth(ethernet(0x0800, q));
  EXPECT_TRUE(l.l4_valid);
  EXPECT_TRUE(l.ip_rcv_ok);
}

TEST(PacketLayoutIpv4, TrailingBytesTrimmedOnlyAtTheIpHooks) {
  // A 40-byte packet in a 60-byte minimum Ethernet frame.
  Bytes f = ethernet(0x0800, ipv4({}, tcp(1, 2)));
  f.resize(60, 0);
  const PacketLayout nd = eth(f, Context::Validate);
  EXPECT_EQ(nd.end, 60u);
  EXPECT_TRUE(nd.l4_valid);
  const PacketLayout ip = eth(f, Context::IpStack);
  EXPECT_EQ(ip.end, 54u);
  EXPECT_TRUE(ip.ip_rcv_ok);
}

TEST(PacketLayoutIpv4, BadChecksumFailsRcvOnly) {
  Bytes p = ipv4({}, tcp(1, 2));
  p[10] ^= 1;
  const PacketLayout l = eth(ethernet(0x0800, p));
  EXPECT_FALSE(l.ip_rcv_ok);
  EXPECT_EQ(l.rcv_error, RcvError::BadChecksum);
  EXPECT_TRUE(l.l4_valid);  // nft_set_pktinfo_ipv4_validate does not look at it
}

TEST(PacketLayoutIpv4, AddressesAreNotCheckedByIpRcv) {
  Ip4 ip;
  ip.src = {224, 0, 0, 1};
  ip.dst = {127, 0, 0, 1};
  const PacketLayout l = eth(ethernet(0x0800, ipv4(ip, udp(1, 2))));
  EXPECT_TRUE(l.ip_rcv_ok);  // martians go at the route lookup, after prerouting
}

// --- IPv6 ---

TEST(PacketLayoutIpv6, ExtensionChain) {
  const Bytes f = ethernet(
      0x86dd, ipv6({}, {{0, hop_by_hop({})}, {60, dest_options({})}, {43, routing()}}, kTcp,
                   tcp(1, 2)));
  const PacketLayout l = eth(f);
  ASSERT_TRUE(l.l4_valid);
  EXPECT_EQ(l.l4proto, kIpProtoTcp);
  EXPECT_EQ(l.th_off, 14u + 40u + 8u + 8u + 24u);
  EXPECT_EQ(l.fragoff, 0);
  EXPECT_FALSE(l.fragment);
  EXPECT_TRUE(l.ipv6_rcv_ok);
  EXPECT_EQ(l.l3_len, f.size() - 14);
}

TEST(PacketLayoutIpv6, FirstFragment) {
  const Bytes f = ethernet(0x86dd, ipv6({}, {{44, fragment(0, true)}}, kUdp, udp(1, 2)));
  const PacketLayout l = eth(f);
  ASSERT_TRUE(l.l4_valid);
  EXPECT_EQ(l.l4proto, kIpProtoUdp);
  EXPECT_EQ(l.th_off, 14u + 48u);
  EXPECT_EQ(l.fragoff, 0);
  EXPECT_TRUE(l.fragment);
}

TEST(PacketLayoutIpv6, NonFirstFragment) {
  const Bytes f = ethernet(0x86dd, ipv6({}, {{44, fragment(10, false)}}, kTcp, Bytes(16, 0xcd)));
  const PacketLayout l = eth(f);
  ASSERT_TRUE(l.l4_valid);
  EXPECT_EQ(l.l4proto, kIpProtoTcp);  // the fragment header's next header
  EXPECT_EQ(l.fragoff, 80);           // bytes
  EXPECT_TRUE(l.fragment);
  EXPECT_EQ(l.th_off, l.nh_off);      // left at the kernel's 0
}

TEST(PacketLayoutIpv6, NonFirstFragmentBeforeAnotherExtensionHeader) {
  // ipv6_find_hdr: a non-first fragment whose next header is an extension
  // header gives no protocol at all.
  const Bytes f =
      ethernet(0x86dd, ipv6({}, {{44, fragment(10, false)}, {60, dest_options({})}}, kTcp, {}));
  const PacketLayout l = eth(f);
  EXPECT_FALSE(l.l4_valid);
  EXPECT_TRUE(l.fragment);
}

TEST(PacketLayoutIpv6, StopsAtAh) {
  const Bytes f = ethernet(0x86dd, ipv6({}, {{51, auth_header()}}, kTcp, tcp(1, 2)));
  const PacketLayout l = eth(f);
  ASSERT_TRUE(l.l4_valid);
  EXPECT_EQ(l.l4proto, kIpProtoAh);
  EXPECT_EQ(l.th_off, 54u);
}

TEST(PacketLayoutIpv6, EspAndNoNextHeaderEndTheChain) {
  PacketLayout l = eth(ethernet(0x86dd, ipv6({}, {{0, hop_by_hop({})}}, kIpProtoEsp, Bytes(16, 1))));
  EXPECT_EQ(l.l4proto, kIpProtoEsp);
  EXPECT_EQ(l.th_off, 62u);
  l = eth(ethernet(0x86dd, ipv6({}, {{60, dest_options({})}}, kIpProtoNone, {})));
  EXPECT_TRUE(l.l4_valid);
  EXPECT_EQ(l.l4proto, kIpProtoNone);
  EXPECT_EQ(l.th_off, 62u);
}

TEST(PacketLayoutIpv6, TruncatedChain) {
  Bytes p = ipv6({}, {{60, dest_options({})}}, kTcp, {});
  // Claim a longer destination options header than there is: the walk
  // steps past the end and the transport offset points outside; the kernel
  // accepts that (loads fail later).
  p[40 + 1] = 3;
  PacketLayout l = eth(ethernet(0x86dd, p));
  EXPECT_TRUE(l.l4_valid);
  EXPECT_EQ(l.th_off, 14u + 40u + 32u);
  EXPECT_GT(l.th_off, l.end);

  // An extension header that is not there at all breaks the walk.
  Bytes q = ipv6({}, {}, 60, {});
  l = eth(ethernet(0x86dd, q));
  EXPECT_FALSE(l.l4_valid);

  // A routing header needs its 4-byte fixed part.
  Bytes r = ipv6({}, {}, 43, {0x06, 0x00});
  l = eth(ethernet(0x86dd, r));
  EXPECT_FALSE(l.l4_valid);
}

TEST(PacketLayoutIpv6, PayloadLength) {
  Bytes p = ipv6({}, {}, kUdp, udp(1, 2));
  Bytes long_claim = p;
  put16(long_claim, 4, 9);
  PacketLayout l = eth(ethernet(0x86dd, long_claim));
  EXPECT_FALSE(l.l4_valid);
  EXPECT_FALSE(l.ipv6_rcv_ok);
  EXPECT_EQ(l.rcv_error, RcvError::Truncated);

  // Trailing bytes: trimmed at the IP hooks only.
  Bytes f = ethernet(0x86dd, p);
  const std::size_t real = f.size();
  f.resize(real + 6, 0);
  EXPECT_EQ(eth(f, Context::Validate).end, f.size());
  EXPECT_EQ(eth(f, Context::IpStack).end, real);
}

TEST(PacketLayoutIpv6, RcvAddressChecks) {
  const Bytes l4 = udp(1, 2);
  auto with = [&](std::array<std::uint8_t, 16> src, std::array<std::uint8_t, 16> dst) {
    Ip6 ip;
    ip.src = src;
    ip.dst = dst;
    return eth(ethernet(0x86dd, ipv6(ip, {}, kUdp, l4)));
  };
  const std::array<std::uint8_t, 16> loop{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::array<std::uint8_t, 16> unicast = Ip6{}.src;
  std::array<std::uint8_t, 16> mc_if = {0xff, 0x01};
  std::array<std::uint8_t, 16> mc_0 = {0xff, 0x00};
  std::array<std::uint8_t, 16> mc_link = {0xff, 0x02};
  mc_link[15] = 1;
  std::array<std::uint8_t, 16> mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};

  EXPECT_EQ(with(loop, unicast).rcv_error, RcvError::LoopbackAddress);
  EXPECT_EQ(with(unicast, loop).rcv_error, RcvError::LoopbackAddress);
  EXPECT_EQ(with(unicast, mc_if).rcv_error, RcvError::MulticastScope);
  EXPECT_EQ(with(unicast, mc_0).rcv_error, RcvError::MulticastScope);
  EXPECT_EQ(with(mc_link, unicast).rcv_error, RcvError::MulticastSource);
  EXPECT_TRUE(with(unicast, mc_link).ipv6_rcv_ok);
  EXPECT_TRUE(with(mapped, unicast).ipv6_rcv_ok);
  // The layout does not depend on these checks.
  EXPECT_TRUE(with(loop, unicast).l4_valid);
}

TEST(PacketLayoutIpv6, HopByHopChecks) {
  auto rcv = [](const Bytes& hbh) {
    return eth(ethernet(0x86dd, ipv6({}, {{0, hbh}}, kUdp, udp(1, 2)))).rcv_error;
  };
  EXPECT_EQ(rcv(hop_by_hop({})), RcvError::Ok);
  EXPECT_EQ(rcv(hop_by_hop({5, 2, 0, 0})), RcvError::Ok);         // router alert
  EXPECT_EQ(rcv(hop_by_hop({5, 3, 0, 0, 0})), RcvError::BadHopByHop);  // RA length
  EXPECT_EQ(rcv(hop_by_hop({0x1e, 1, 0})), RcvError::Ok);         // unknown, skip
  EXPECT_EQ(rcv(hop_by_hop({0x5e, 1, 0})), RcvError::BadHopByHop);  // unknown, discard
  EXPECT_EQ(rcv(hop_by_hop({0x9e, 1, 0})), RcvError::BadHopByHop);
  EXPECT_EQ(rcv(hop_by_hop({0xde, 1, 0})), RcvError::BadHopByHop);
  // PadN carrying data, and 8 bytes of padding in a row.
  EXPECT_EQ(rcv({0, 0, 1, 4, 0, 1, 0, 0}), RcvError::BadHopByHop);
  EXPECT_EQ(rcv({0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), RcvError::BadHopByHop);
  EXPECT_EQ(rcv({0, 0, 0, 0, 0, 0, 0, 0}), RcvError::Ok);  // 6 Pad1
  // An option running past the header.
  EXPECT_EQ(rcv({0, 0, 0x1e, 5, 0, 0, 0, 0}), RcvError::BadHopByHop);
  // Nine skippable options are one too many.
  Bytes nine;
  for (int i = 0; i < 9; ++i) nine.insert(nine.end(), {0x1e, 0});
  EXPECT_EQ(rcv(hop_by_hop(nine)), RcvError::BadHopByHop);
  Bytes eight(nine.begin(), nine.end() - 2);
  EXPECT_EQ(rcv(hop_by_hop(eight)), RcvError::Ok);
  // A Jumbo option in a packet with a payload length.
  EXPECT_EQ(rcv({0, 0, 0xc2, 4, 0, 1, 0, 0}), RcvError::BadHopByHop);
  // CALIPSO: no DOI configured.
  EXPECT_EQ(rcv(hop_by_hop({7, 8, 0, 0, 0, 1, 0, 0, 0, 0})), RcvError::BadHopByHop);
  // A hop-by-hop header that is cut short.
  Bytes p = ipv6({}, {{0, hop_by_hop({})}}, kUdp, {});
  p[41] = 1;  // 16 bytes claimed, 8 present
  put16(p, 4, 8);
  EXPECT_EQ(eth(ethernet(0x86dd, p)).rcv_error, RcvError::BadHopByHop);
}

TEST(PacketLayoutIpv6, BadVersion) {
  Bytes p = ipv6({}, {}, kUdp, udp(1, 2));
  p[0] = 0x40;
  const PacketLayout l = eth(ethernet(0x86dd, p));
  EXPECT_FALSE(l.l4_valid);
  EXPECT_EQ(l.rcv_error, RcvError::BadVersion);
}

}  // namespace
}  // namespace nfx::packet
