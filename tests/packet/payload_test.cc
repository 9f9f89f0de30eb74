// Payload bases and loads with the kernel's bounds.
#include <gtest/gtest.h>

#include <nfx/packet.h>

#include "frame_builder.h"

namespace nfx::packet {
namespace {

using namespace testing;

Bytes load(const Bytes& f, const PacketLayout& l, PayloadBase base, std::uint32_t off,
           std::uint32_t len, bool* ok) {
  Bytes out(len);
  *ok = payload_load(f, l, base, off, len, out.data());
  return out;
}

TEST(Payload, Bases) {
  const Bytes f = ethernet(0x0800, ipv4({}, tcp(1234, 80)));
  const PacketLayout l = parse_layout(f, LinkType::Ethernet, Context::IpStack);
  EXPECT_EQ(payload_base_offset(f, l, PayloadBase::Link), 0u);
  EXPECT_EQ(payload_base_offset(f, l, PayloadBase::Network), 14u);
  EXPECT_EQ(payload_base_offset(f, l, PayloadBase::Transport), 34u);
  EXPECT_EQ(payload_base_offset(f, l, PayloadBase::Inner), 54u);
  bool ok = false;
  EXPECT_EQ(load(f, l, PayloadBase::Transport, 2, 2, &ok), (Bytes{0, 80}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(load(f, l, PayloadBase::Link, 12, 2, &ok), (Bytes{0x08, 0x00}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(load(f, l, PayloadBase::Network, 9, 1, &ok), (Bytes{6}));
  EXPECT_TRUE(ok);
}

TEST(Payload, LoadsPastTheEndBreak) {
  Bytes f = ethernet(0x0800, ipv4({}, tcp(1, 2)));  // 54 bytes
  f.resize(60, 0xee);                               // Ethernet padding
  bool ok = true;
  const PacketLayout nd = parse_layout(f, LinkType::Ethernet, Context::Validate);
  load(f, nd, PayloadBase::Transport, 20, 6, &ok);
  EXPECT_TRUE(ok);  // netdev sees the padding
  load(f, nd, PayloadBase::Transport, 20, 7, &ok);
  EXPECT_FALSE(ok);
  const PacketLayout ip = parse_layout(f, LinkType::Ethernet, Context::IpStack);
  load(f, ip, PayloadBase::Transport, 19, 1, &ok);
  EXPECT_TRUE(ok);
  load(f, ip, PayloadBase::Transport, 20, 1, &ok);
  EXPECT_FALSE(ok);  // trimmed by ip_rcv_core
  load(f, ip, PayloadBase::Transport, 0xffffffffu, 2, &ok);
  EXPECT_FALSE(ok);
}

TEST(Payload, LinkLayerNeedsAMacHeader) {
  const Bytes p = ipv4({}, tcp(1, 2));
  const PacketLayout l = parse_layout(p, LinkType::RawIp, Context::IpStack);
  EXPECT_EQ(payload_base_offset(p, l, PayloadBase::Link), std::nullopt);
  EXPECT_EQ(payload_base_offset(p, l, PayloadBase::Network), 0u);
}

TEST(Payload, VlanTagReadsAsTheKernelRebuildsIt) {
  const Bytes f = ethernet(0x86dd, ipv6({}, {}, kUdp, udp(1, 2)), {{0x8100, 0xa00b}});
  const PacketLayout l = parse_layout(f, LinkType::Ethernet, Context::Validate);
  bool ok = false;
  EXPECT_EQ(load(f, l, PayloadBase::Link, 12, 6, &ok), (Bytes{0x81, 0x00, 0xa0, 0x0b, 0x86, 0xdd}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(load(f, l, PayloadBase::Network, 0, 1, &ok), (Bytes{0x60}));
}

TEST(Payload, TaggedLengthFrameReadsSkbProtocol) {
  // An 802.3 frame inside a tag: the kernel rebuilds the type field from
  // skb->protocol (ETH_P_802_2), not from the length in the frame.
  const Bytes f = ethernet(0x0030, {0xaa, 0xaa, 0x03, 0, 0, 0}, {{0x8100, 7}});
  const PacketLayout l = parse_layout(f, LinkType::Ethernet, Context::Validate);
  bool ok = false;
  EXPECT_EQ(load(f, l, PayloadBase::Link, 15, 4, &ok), (Bytes{0x07, 0x00, 0x04, 0xaa}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(load(f, l, PayloadBase::Link, 17, 1, &ok), (Bytes{0x04}));
}

TEST(Payload, TransportNeedsFirstFragment) {
  Ip4 ip;
  ip.frag = 0x2000 | 1;
  const Bytes f = ethernet(0x0800, ipv4(ip, Bytes(16, 0)));
  const PacketLayout l = parse_layout(f, LinkType::Ethernet, Context::IpStack);
  EXPECT_EQ(payload_base_offset(f, l, PayloadBase::Transport), std::nullopt);
  EXPECT_EQ(payload_base_offset(f, l, PayloadBase::Inner), std::nullopt);
  EXPECT_EQ(payload_base_offset(f, l, PayloadBase::Network), 14u);
}

TEST(Payload, InnerOffsets) {
  const Bytes u = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 4789, Bytes(8, 0))));
  PacketLayout l = parse_layout(u, LinkType::Ethernet, Context::IpStack);
  EXPECT_EQ(payload_base_offset(u, l, PayloadBase::Inner), 42u);
  const Bytes t = ethernet(0x0800, ipv4({}, tcp(1, 2, {2, 4, 5, 0xb4})));
  l = parse_layout(t, LinkType::Ethernet, Context::IpStack);
  EXPECT_EQ(payload_base_offset(t, l, PayloadBase::Inner), 58u);
  const Bytes i = ethernet(0x0800, ipv4(ip4_proto(kIcmp), icmp_echo()));
  l = parse_layout(i, LinkType::Ethernet, Context::IpStack);
  EXPECT_EQ(payload_base_offset(i, l, PayloadBase::Inner), std::nullopt);
  // GRE (version 0): 4 bytes, plus 4 for each of checksum, key, sequence;
  // IP-in-IP: the inner packet starts at the transport header (measured:
  // @ih rewrites of GRE packets on the kernel, nfx_difftest's corpus feed).
  const Bytes g = ethernet(0x0800, ipv4(ip4_proto(47), Bytes{0x20, 0x00, 0x08, 0x00, 0, 0, 0, 1, 0x45, 0}));
  l = parse_layout(g, LinkType::Ethernet, Context::IpStack);
  EXPECT_EQ(payload_base_offset(g, l, PayloadBase::Inner), 34u + 8u);
  const Bytes routed = ethernet(0x0800, ipv4(ip4_proto(47), Bytes{0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0}));
  l = parse_layout(routed, LinkType::Ethernet, Context::IpStack);
  EXPECT_EQ(payload_base_offset(routed, l, PayloadBase::Inner), std::nullopt);
  const Bytes ipip = ethernet(0x0800, ipv4(ip4_proto(4), Bytes(20, 0)));
  l = parse_layout(ipip, LinkType::Ethernet, Context::IpStack);
  EXPECT_EQ(payload_base_offset(ipip, l, PayloadBase::Inner), 34u);
}

TEST(Payload, NothingWithoutALinkLayer) {
  const Bytes f(10, 0);
  const PacketLayout l = parse_layout(f, LinkType::Ethernet, Context::Validate);
  EXPECT_EQ(payload_base_offset(f, l, PayloadBase::Network), std::nullopt);
  bool ok = true;
  load(f, l, PayloadBase::Link, 0, 1, &ok);
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace nfx::packet
