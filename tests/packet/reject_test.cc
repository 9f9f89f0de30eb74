// The reject reply builders against the kernel's nf_reject_ipv4.c,
// nf_reject_ipv6.c, icmp_send and icmp6_send: when nothing is sent, and
// what the replies hold, with checksums checked by the builder's reference
// code.
#include <gtest/gtest.h>
#include <nfx/packet.h>

#include "frame_builder.h"

namespace nfx::packet {
namespace {

using namespace testing;

std::span<const uint8_t> net(const Bytes& frame) { return std::span<const uint8_t>(frame).subspan(14); }

Bytes ip4_tcp(uint8_t flags, const Bytes& payload = {}, uint16_t frag = 0) {
  Ip4 ip;
  ip.frag = frag;
  return ethernet(0x0800, ipv4(ip, tcp(40000, 80, {}, payload, flags)));
}

RejectRoute route4(std::array<uint8_t, 4> saddr = {203, 0, 113, 1}) {
  RejectRoute r;
  std::copy(saddr.begin(), saddr.end(), r.icmp_saddr);
  return r;
}

bool ipv4_header_valid(const Bytes& p) { return ref_checksum(ref_sum(p.data(), 20)) == 0; }
bool l4_valid_v4(const Bytes& p, uint8_t proto) {
  uint32_t pseudo = 0;
  if (proto != kIcmp) {
    pseudo = ref_sum(&p[12], 8);
    pseudo = ref_sum(Bytes{0, proto}.data(), 2, pseudo);
    uint16_t len = static_cast<uint16_t>(p.size() - 20);
    pseudo = ref_sum(Bytes{static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(len)}.data(), 2, pseudo);
  }
  return ref_checksum(ref_sum(&p[20], p.size() - 20, pseudo)) == 0;
}
bool l4_valid_v6(const Bytes& p, uint8_t proto) {
  uint32_t pseudo = ref_sum(&p[8], 32);
  uint32_t len = static_cast<uint32_t>(p.size() - 40);
  Bytes tail = {static_cast<uint8_t>(len >> 24), static_cast<uint8_t>(len >> 16), static_cast<uint8_t>(len >> 8),
                static_cast<uint8_t>(len), 0, 0, 0, proto};
  pseudo = ref_sum(tail.data(), tail.size(), pseudo);
  return ref_checksum(ref_sum(&p[40], len, pseudo)) == 0;
}

TEST(RejectIpv4, ResetAnswersASynWithAckOfItsSequence) {
  Bytes f = ip4_tcp(0x02, {'a', 'b', 'c'});
  auto r = reject_ipv4_tcp_reset(net(f), RejectVia::Stack, route4());
  ASSERT_TRUE(r);
  const Bytes& p = *r;
  ASSERT_EQ(p.size(), 40u);
  EXPECT_EQ(p[0], 0x45);
  EXPECT_EQ(p[1], 0);
  EXPECT_EQ(get16(p, 2), 40);
  EXPECT_EQ(get16(p, 4), 0);       // id 0
  EXPECT_EQ(get16(p, 6), 0x4000);  // DF
  EXPECT_EQ(p[8], 64);
  EXPECT_EQ(p[9], kTcp);
  EXPECT_EQ(Bytes(&p[12], &p[16]), (Bytes{198, 51, 100, 2}));
  EXPECT_EQ(Bytes(&p[16], &p[20]), (Bytes{192, 0, 2, 1}));
  EXPECT_EQ(get16(p, 20), 80);
  EXPECT_EQ(get16(p, 22), 40000);
  EXPECT_EQ(get16(p, 24) | get16(p, 26), 0);  // seq 0
  EXPECT_EQ(get16(p, 30), 1 + 1 + 3);         // seq 1 + SYN + 3 bytes
  EXPECT_EQ(p[32], 0x50);
  EXPECT_EQ(p[33], 0x14);  // RST ACK
  EXPECT_EQ(get16(p, 34), 0);
  EXPECT_TRUE(ipv4_header_valid(p));
  EXPECT_TRUE(l4_valid_v4(p, kTcp));
}

TEST(RejectIpv4, ResetToAnAckTakesItsAckNumberAsSequence) {
  Bytes f = ip4_tcp(0x10);
  f[14 + 20 + 8 + 3] = 0x77;  // ack_seq 0x77
  Ip4 ip;
  Bytes fixed = ethernet(0x0800, ipv4(ip, Bytes(f.begin() + 34, f.end())));  // checksum again
  auto r = reject_ipv4_tcp_reset(net(fixed), RejectVia::Device, {});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[27], 0x77);
  EXPECT_EQ((*r)[33], 0x04);  // RST only
  EXPECT_EQ(get16(*r, 28) | get16(*r, 30), 0);
  EXPECT_TRUE(l4_valid_v4(*r, kTcp));
}

TEST(RejectIpv4, NoResetForResetsFragmentsOtherProtocolsOrBadChecksums) {
  EXPECT_FALSE(reject_ipv4_tcp_reset(net(ip4_tcp(0x04)), RejectVia::Stack, route4()));
  EXPECT_FALSE(reject_ipv4_tcp_reset(net(ip4_tcp(0x02, {}, 0x0004)), RejectVia::Stack, route4()));
  Bytes bad = ip4_tcp(0x02);
  bad[14 + 20 + 16] ^= 1;
  EXPECT_FALSE(reject_ipv4_tcp_reset(net(bad), RejectVia::Stack, route4()));
  Bytes u = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2)));
  EXPECT_FALSE(reject_ipv4_tcp_reset(net(u), RejectVia::Stack, route4()));
  RejectRoute b = route4();
  b.bcast_mcast = true;
  EXPECT_FALSE(reject_ipv4_tcp_reset(net(ip4_tcp(0x02)), RejectVia::Stack, b));
}

TEST(RejectIpv4, DeviceResetCountsEthernetPaddingAsPayload) {
  // A 54-byte SYN padded to 60: skb->len includes the padding, so the TCP
  // checksum (computed over it with the longer length) fails: no reset.
  Bytes f = ip4_tcp(0x02);
  f.resize(60, 0);
  EXPECT_FALSE(reject_ipv4_tcp_reset(net(f), RejectVia::Device, {}));
  EXPECT_TRUE(reject_ipv4_tcp_reset(net(f).first(40), RejectVia::Device, {}));
}

TEST(RejectIpv4, IcmpSendQuotesUpTo548BytesFromTheRouteSource) {
  Bytes payload(1000, 0x5a);
  Ip4 ip = ip4_proto(kUdp);
  Bytes f = ethernet(0x0800, ipv4(ip, udp(5000, 53, payload)));
  f[15] = 0xb9;  // TOS: DSCP 46, ECN 1
  f[24] = f[25] = 0;
  put16(f, 24, ref_checksum(ref_sum(&f[14], 20)));
  auto r = reject_ipv4_unreach(net(f), 3, RejectVia::Stack, route4());
  ASSERT_TRUE(r);
  const Bytes& p = *r;
  ASSERT_EQ(p.size(), 576u);
  EXPECT_EQ(p[1], (0xb9 & 0x1e) | 0xc0);
  EXPECT_EQ(get16(p, 6), 0);  // no DF
  EXPECT_EQ(Bytes(&p[12], &p[16]), (Bytes{203, 0, 113, 1}));
  EXPECT_EQ(Bytes(&p[16], &p[20]), (Bytes{192, 0, 2, 1}));
  EXPECT_EQ(p[20], 3);
  EXPECT_EQ(p[21], 3);
  EXPECT_EQ(Bytes(p.begin() + 28, p.end()), Bytes(f.begin() + 14, f.begin() + 14 + 548));
  EXPECT_TRUE(ipv4_header_valid(p));
  EXPECT_TRUE(l4_valid_v4(p, kIcmp));
}

TEST(RejectIpv4, IcmpSendAnswersNoErrorsNorNonHostPackets) {
  Bytes unreach = ethernet(0x0800, ipv4(ip4_proto(kIcmp), icmp_echo(3)));
  Bytes exceeded = ethernet(0x0800, ipv4(ip4_proto(kIcmp), icmp_echo(11)));
  Bytes unknown = ethernet(0x0800, ipv4(ip4_proto(kIcmp), icmp_echo(40)));
  Bytes echo = ethernet(0x0800, ipv4(ip4_proto(kIcmp), icmp_echo(8)));
  EXPECT_FALSE(reject_ipv4_unreach(net(unreach), 1, RejectVia::Stack, route4()));
  EXPECT_FALSE(reject_ipv4_unreach(net(exceeded), 1, RejectVia::Stack, route4()));
  EXPECT_FALSE(reject_ipv4_unreach(net(unknown), 1, RejectVia::Stack, route4()));
  EXPECT_TRUE(reject_ipv4_unreach(net(echo), 1, RejectVia::Stack, route4()));
  RejectRoute other = route4();
  other.pkt_host = false;
  EXPECT_FALSE(reject_ipv4_unreach(net(echo), 1, RejectVia::Stack, other));
  // The device builder only refuses destination unreachables.
  EXPECT_FALSE(reject_ipv4_unreach(net(unreach), 1, RejectVia::Device, {}));
  EXPECT_TRUE(reject_ipv4_unreach(net(exceeded), 1, RejectVia::Device, {}));
  Bytes bad = echo;
  bad.back() ^= 1;
  EXPECT_FALSE(reject_ipv4_unreach(net(bad), 1, RejectVia::Stack, route4()));
}

TEST(RejectIpv4, UdpWithoutChecksumIsNotVerified) {
  Bytes f = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2, {1, 2, 3})));
  put16(f, 14 + 20 + 6, 0);
  EXPECT_TRUE(reject_ipv4_unreach(net(f), 3, RejectVia::Stack, route4()));
  put16(f, 14 + 20 + 6, 0x1234);
  EXPECT_FALSE(reject_ipv4_unreach(net(f), 3, RejectVia::Stack, route4()));
}

TEST(RejectIpv4, DeviceUnreachQuotesPaddingUpTo536Bytes) {
  Bytes f = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2, {1, 2})));  // 44 bytes
  f.resize(60, 0xee);
  auto r = reject_ipv4_unreach(net(f), 13, RejectVia::Device, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 20u + 8u + 46u);
  EXPECT_EQ(r->back(), 0xee);
  EXPECT_EQ(get16(*r, 6), 0x4000);
  EXPECT_EQ(Bytes(&(*r)[12], &(*r)[16]), (Bytes{198, 51, 100, 2}));
  EXPECT_TRUE(l4_valid_v4(*r, kIcmp));
  Bytes big = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2, Bytes(1000, 1))));
  EXPECT_EQ(reject_ipv4_unreach(net(big), 13, RejectVia::Device, {})->size(), 20u + 8u + 536u);
}

// nf_skb_is_icmp_unreach reads the ICMP type after the whole header: with
// IP options a destination unreachable still gets no reply (measured).
TEST(RejectIpv4, DeviceUnreachLooksForTheIcmpTypeAfterTheOptions) {
  Ip4 ip = ip4_proto(kIcmp);
  ip.options = {1, 1, 1, 0};
  Bytes unreach = ethernet(0x0800, ipv4(ip, icmp_echo(3)));
  EXPECT_FALSE(reject_ipv4_unreach(net(unreach), 3, RejectVia::Device, {}));
  Bytes echo = ethernet(0x0800, ipv4(ip, icmp_echo(8)));
  EXPECT_TRUE(reject_ipv4_unreach(net(echo), 3, RejectVia::Device, {}));
}

TEST(RejectIpv4, IcmpxCodes) {
  EXPECT_EQ(reject_icmpx_code_v4(0), 0);
  EXPECT_EQ(reject_icmpx_code_v4(1), 3);
  EXPECT_EQ(reject_icmpx_code_v4(2), 1);
  EXPECT_EQ(reject_icmpx_code_v4(3), 13);
  EXPECT_EQ(reject_icmpx_code_v6(1), 4);
  EXPECT_EQ(reject_icmpx_code_v6(2), 3);
  EXPECT_EQ(reject_icmpx_code_v6(3), 1);
}

Bytes ip6_frame(const std::vector<std::pair<uint8_t, Bytes>>& exts, uint8_t proto, Bytes l4, Ip6 ip = {}) {
  return ethernet(0x86dd, ipv6(ip, exts, proto, std::move(l4)));
}

RejectRoute route6() {
  RejectRoute r;
  r.icmp_saddr[0] = 0xfd;
  r.icmp_saddr[15] = 1;
  return r;
}

TEST(RejectIpv6, ResetAndUnreach) {
  Bytes f = ip6_frame({}, kTcp, tcp(40000, 443, {}, {'x'}));
  auto rst = reject_ipv6_tcp_reset(net(f), RejectVia::Stack, route6());
  ASSERT_TRUE(rst);
  ASSERT_EQ(rst->size(), 60u);
  EXPECT_EQ(get16(*rst, 0), 0x6000);
  EXPECT_EQ(get16(*rst, 4), 20);
  EXPECT_EQ((*rst)[6], kTcp);
  EXPECT_EQ((*rst)[7], 64);
  EXPECT_EQ(get16(*rst, 50), 1 + 1 + 1);  // ack_seq: seq 1 + SYN + 1 byte
  EXPECT_TRUE(l4_valid_v6(*rst, kTcp));

  Bytes u = ip6_frame({}, kUdp, udp(1, 2, Bytes(2000, 3)));
  auto icmp = reject_ipv6_unreach(net(u), 4, RejectVia::Stack, route6());
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->size(), 1280u);
  EXPECT_EQ((*icmp)[8], 0xfd);
  EXPECT_EQ((*icmp)[40], 1);
  EXPECT_EQ((*icmp)[41], 4);
  EXPECT_TRUE(l4_valid_v6(*icmp, kIcmp6));
  auto dev = reject_ipv6_unreach(net(u), 4, RejectVia::Device, {});
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->size(), 40u + 8u + 1220u);
  EXPECT_EQ((*dev)[8], 0x20);  // from the original destination
  EXPECT_TRUE(l4_valid_v6(*dev, kIcmp6));
}

TEST(RejectIpv6, NothingForFragmentsErrorsMulticastOrBadChecksums) {
  Bytes later = ip6_frame({{44, fragment(8, false)}}, kUdp, udp(1, 2, {1}));
  EXPECT_FALSE(reject_ipv6_unreach(net(later), 4, RejectVia::Stack, route6()));
  EXPECT_FALSE(reject_ipv6_unreach(net(later), 4, RejectVia::Device, {}));
  EXPECT_FALSE(reject_ipv6_tcp_reset(net(later), RejectVia::Device, {}));
  Bytes err = ip6_frame({}, kIcmp6, icmp_echo(3));
  EXPECT_FALSE(reject_ipv6_unreach(net(err), 4, RejectVia::Stack, route6()));
  EXPECT_TRUE(reject_ipv6_unreach(net(err), 4, RejectVia::Device, {}));  // only type 1 is refused there
  Bytes unreach = ip6_frame({}, kIcmp6, icmp_echo(1));
  EXPECT_FALSE(reject_ipv6_unreach(net(unreach), 4, RejectVia::Device, {}));
  Bytes echo = ip6_frame({}, kIcmp6, icmp_echo(128));
  EXPECT_TRUE(reject_ipv6_unreach(net(echo), 4, RejectVia::Stack, route6()));
  Ip6 mc;
  mc.dst[0] = 0xff;
  Bytes m = ip6_frame({}, kTcp, tcp(1, 2), mc);
  EXPECT_FALSE(reject_ipv6_unreach(net(m), 4, RejectVia::Stack, route6()));
  EXPECT_FALSE(reject_ipv6_tcp_reset(net(m), RejectVia::Stack, route6()));
  EXPECT_TRUE(reject_ipv6_tcp_reset(net(m), RejectVia::Device, {}));
  Bytes bad = echo;
  bad.back() ^= 1;
  EXPECT_FALSE(reject_ipv6_unreach(net(bad), 4, RejectVia::Stack, route6()));
}

// Every prefix of a set of frames, in both modes: no builder reads past the
// bytes it is given (run under the sanitizers or valgrind to see it).
TEST(Reject, TruncatedPacketsAreSafe) {
  std::vector<Bytes> frames = {ip4_tcp(0x02, {1, 2, 3}), ethernet(0x0800, ipv4(ip4_proto(kIcmp), icmp_echo(8))),
                               ip6_frame({{0, hop_by_hop({})}, {44, fragment(0, true)}}, kTcp, tcp(1, 2)),
                               ip6_frame({{51, auth_header()}}, kIcmp6, icmp_echo(128))};
  for (const Bytes& f : frames)
    for (size_t n = 0; n <= f.size() - 14; ++n) {
      Bytes copy(f.begin() + 14, f.begin() + 14 + static_cast<long>(n));
      std::span<const uint8_t> s(copy);
      for (RejectVia via : {RejectVia::Stack, RejectVia::Device}) {
        (void)reject_ipv4_tcp_reset(s, via, route4());
        (void)reject_ipv4_unreach(s, 3, via, route4());
        (void)reject_ipv6_tcp_reset(s, via, route6());
        (void)reject_ipv6_unreach(s, 4, via, route6());
      }
    }
}

}  // namespace
}  // namespace nfx::packet
