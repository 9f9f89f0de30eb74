// Checksums: full computations against known values and the builder's
// reference code, and incremental updates against full recomputation.
#include <gtest/gtest.h>

#include <nfx/packet.h>

#include <random>
#include <string>

#include "frame_builder.h"

namespace nfx::packet {
namespace {

using namespace testing;

PacketLayout layout_of(const Bytes& f) {
  return parse_layout(f, LinkType::Ethernet, Context::IpStack);
}

TEST(Checksum, KnownIpv4Header) {
  const Bytes h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ipv4_header_checksum(h), 0xb861);
  EXPECT_TRUE(ipv4_header_checksum_ok(h));
  Bytes bad = h;
  bad[11] ^= 1;
  EXPECT_FALSE(ipv4_header_checksum_ok(bad));
  EXPECT_EQ(ipv4_header_checksum(bad), 0xb861);  // the field itself does not count
}

TEST(Checksum, Crc32cCheckValue) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32c({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}), 0xE3069283u);
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(Checksum, FoldAndOddLengths) {
  EXPECT_EQ(csum_fold(0), 0xffff);
  EXPECT_EQ(csum_fold(0xffff), 0);
  EXPECT_EQ(csum_fold(0x0001ffff), 0xfffe);
  // A trailing odd byte is the high byte of a last word.
  EXPECT_EQ(csum_partial(Bytes{0x12}), 0x1200u);
  EXPECT_EQ(csum_partial(Bytes{0x12, 0x34, 0x56}), 0x1234u + 0x5600u);
}

TEST(Checksum, MatchesTheReferenceForEveryProtocol) {
  const std::vector<Bytes> frames = {
      ethernet(0x0800, ipv4({}, tcp(1000, 80, {2, 4, 5, 0xb4}, {'h', 'i', '!'}))),
      ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(5353, 53, {1, 2, 3, 4, 5}))),
      ethernet(0x0800, ipv4(ip4_proto(kIcmp), icmp_echo())),
      ethernet(0x0800, ipv4(ip4_proto(kSctp), sctp(1, 2, {{1, Bytes(16, 7)}}))),
      ethernet(0x86dd, ipv6({}, {}, kTcp, tcp(1, 2, {}, {0, 1, 2}))),
      ethernet(0x86dd, ipv6({}, {{0, hop_by_hop({})}}, kUdp, udp(1, 2, {9}))),
      ethernet(0x86dd, ipv6({}, {}, kIcmp6, icmp_echo(128))),
      ethernet(0x86dd, ipv6({}, {{60, dest_options({})}}, kSctp, sctp(1, 2, {{0, {1, 2}}}))),
      ethernet(0x0800, ipv4(ip4_proto(kUdplite), udp(1, 2, Bytes(20, 3))), {{0x8100, 3}}),
  };
  for (const Bytes& f : frames) {
    const PacketLayout l = layout_of(f);
    ASSERT_TRUE(l.l4_valid);
    EXPECT_TRUE(transport_checksum_ok(f, l)) << int(l.l4proto);
    const std::uint32_t off = l.th_off + *transport_checksum_offset(l.l4proto);
    const std::optional<std::uint32_t> c = compute_transport_checksum(f, l);
    ASSERT_TRUE(c);
    if (l.l4proto == kIpProtoSctp) {
      EXPECT_EQ(*c, f[off] | (f[off + 1] << 8) | (f[off + 2] << 16) |
                        (std::uint32_t{f[off + 3]} << 24));
    } else {
      EXPECT_EQ(*c, get16(f, off)) << int(l.l4proto);
    }
    Bytes g = f;
    g[g.size() - 1] ^= 0x40;
    EXPECT_FALSE(transport_checksum_ok(g, l)) << int(l.l4proto);
    ASSERT_TRUE(fill_transport_checksum(g, l));
    EXPECT_TRUE(transport_checksum_ok(g, l)) << int(l.l4proto);
  }
}

TEST(Checksum, UdpliteCoverage) {
  Bytes l4 = udp(1, 2, Bytes(20, 3));
  put16(l4, 4, 8);  // cover the header only
  const Bytes f = ethernet(0x0800, ipv4(ip4_proto(kUdplite), l4));
  PacketLayout l = layout_of(f);
  Bytes g = f;
  ASSERT_TRUE(fill_transport_checksum(g, l));
  EXPECT_TRUE(transport_checksum_ok(g, l));
  g[g.size() - 1] ^= 0xff;  // outside the coverage
  EXPECT_TRUE(transport_checksum_ok(g, l));
  put16(g, l.th_off + 4, 4);  // coverage below the header
  EXPECT_FALSE(compute_transport_checksum(g, l));
}

TEST(Checksum, FillIpv4Header) {
  Bytes f = ethernet(0x0800, ipv4({}, tcp(1, 2)));
  const PacketLayout l = layout_of(f);
  const std::uint16_t good = get16(f, 24);
  put16(f, 24, 0);
  ASSERT_TRUE(fill_ipv4_header_checksum(f, l));
  EXPECT_EQ(get16(f, 24), good);
}

// A UDP datagram whose checksum computes to zero: the payload word cancels
// the rest of the sum.
Bytes udp_summing_to_zero(bool v6) {
  auto build = [&](std::uint16_t w) {
    Bytes payload = {static_cast<std::uint8_t>(w >> 8), static_cast<std::uint8_t>(w)};
    return v6 ? ethernet(0x86dd, ipv6({}, {}, kUdp, udp(7, 9, payload)))
              : ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(7, 9, payload)));
  };
  Bytes f = build(0);
  const PacketLayout l = layout_of(f);
  const std::uint32_t off = l.th_off + 6;
  // Reference sum with the field as zero, then pick the word that makes it 0xffff.
  put16(f, off, 0);
  std::uint32_t sum = ref_sum(f.data() + l.th_off, f.size() - l.th_off);
  if (v6) {
    sum = ref_sum(f.data() + l.nh_off + 8, 32, sum);
    sum = ref_sum(Bytes{0, 0, 0, 10, 0, 0, 0, kUdp}.data(), 8, sum);
  } else {
    sum = ref_sum(f.data() + l.nh_off + 12, 8, sum);
    sum = ref_sum(Bytes{0, kUdp, 0, 10}.data(), 4, sum);
  }
  return build(static_cast<std::uint16_t>(~sum));
}

TEST(ChecksumUdp, ZeroResultIsSentAsAllOnes) {
  for (bool v6 : {false, true}) {
    const Bytes f = udp_summing_to_zero(v6);
    const PacketLayout l = layout_of(f);
    EXPECT_EQ(compute_transport_checksum(f, l), 0xffffu) << v6;
    EXPECT_EQ(get16(f, l.th_off + 6), 0xffff) << v6;  // the builder agrees
    EXPECT_TRUE(transport_checksum_ok(f, l)) << v6;
  }
}

TEST(ChecksumUdp, ZeroMeansNoChecksumOverIpv4Only) {
  Bytes f4 = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2, {1, 2, 3})));
  PacketLayout l4 = layout_of(f4);
  put16(f4, l4.th_off + 6, 0);
  EXPECT_TRUE(transport_checksum_ok(f4, l4));
  Bytes f6 = ethernet(0x86dd, ipv6({}, {}, kUdp, udp(1, 2, {1, 2, 3})));
  PacketLayout l6 = layout_of(f6);
  put16(f6, l6.th_off + 6, 0);
  EXPECT_FALSE(transport_checksum_ok(f6, l6));
}

TEST(ChecksumUdp, PseudoHeaderUpdateLeavesZeroAlone) {
  Bytes f = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2, {1, 2, 3})));
  const PacketLayout l = layout_of(f);
  put16(f, l.th_off + 6, 0);
  const Bytes from(f.begin() + 26, f.begin() + 30);
  const Bytes to = {10, 9, 8, 7};
  EXPECT_TRUE(l4_csum_update_pseudo(f, l, from, to));
  EXPECT_EQ(get16(f, l.th_off + 6), 0);
}

TEST(ChecksumUdp, UpdateToZeroIsMangled) {
  // A zero field with nothing changed: csum_replace gives 0, and nft's
  // nft_csum_replace stores 0xffff.
  Bytes f(4, 0);
  const Bytes same = {1, 2};
  ASSERT_TRUE(csum_update(f, 0, same, same, ZeroResult::Keep));
  EXPECT_EQ(get16(f, 0), 0);
  ASSERT_TRUE(csum_update(f, 0, same, same, ZeroResult::Mangle));
  EXPECT_EQ(get16(f, 0), 0xffff);
  // A real change landing on a zero result: rewrite a payload word back to
  // the value that makes the datagram sum to zero.
  const Bytes a = udp_summing_to_zero(false);
  const PacketLayout l = layout_of(a);
  const std::uint32_t w = l.th_off + 8;
  Bytes b = a;
  b[w + 1] = static_cast<std::uint8_t>(b[w + 1] + 1);
  ASSERT_TRUE(fill_transport_checksum(b, l));
  const Bytes from(b.begin() + w, b.begin() + w + 2);
  const Bytes to(a.begin() + w, a.begin() + w + 2);
  for (ZeroResult zero : {ZeroResult::Keep, ZeroResult::Mangle}) {
    Bytes c = b;
    std::copy(to.begin(), to.end(), c.begin() + w);
    ASSERT_TRUE(csum_update(c, l.th_off + 6, from, to, zero));
    EXPECT_EQ(get16(c, l.th_off + 6), zero == ZeroResult::Keep ? 0 : 0xffff);
  }
}

TEST(ChecksumUpdate, RejectsBadArguments) {
  Bytes f(4, 0);
  EXPECT_FALSE(csum_update(f, 3, Bytes{1, 2}, Bytes{3, 4}, ZeroResult::Keep));
  EXPECT_FALSE(csum_update(f, 0, Bytes{1, 2}, Bytes{3}, ZeroResult::Keep));
}

// Incremental updates equal full recomputation, on random packets and
// random 16-bit-aligned rewrites.
TEST(ChecksumUpdate, IncrementalEqualsFullRandomised) {
  std::mt19937 rng(20240611);
  auto byte = [&] { return static_cast<std::uint8_t>(rng() & 0xff); };
  for (int round = 0; round < 4000; ++round) {
    const bool v6 = (rng() & 1) != 0;
    const bool is_tcp = (rng() & 1) != 0;
    Bytes payload(rng() % 64);
    for (auto& b : payload) b = byte();
    Bytes l4 = is_tcp ? tcp(static_cast<std::uint16_t>(rng()), 80, {}, payload)
                      : udp(static_cast<std::uint16_t>(rng()), 53, payload);
    const std::uint8_t proto = is_tcp ? kTcp : kUdp;
    Bytes f;
    if (v6) {
      Ip6 ip;
      for (auto& b : ip.src) b = byte();
      ip.src[0] = 0x20;
      f = ethernet(0x86dd, ipv6(ip, {}, proto, l4));
    } else {
      Ip4 ip = ip4_proto(proto);
      ip.src = {byte(), byte(), byte(), byte()};
      f = ethernet(0x0800, ipv4(ip, l4));
    }
    const PacketLayout l = layout_of(f);
    ASSERT_TRUE(transport_checksum_ok(f, l));
    const std::uint32_t csum_off = l.th_off + (is_tcp ? 16 : 6);
    const ZeroResult zero = is_tcp ? ZeroResult::Keep : ZeroResult::Mangle;

    // Rewrite 2 or 4 bytes at an even transport offset, not the checksum.
    const std::uint32_t l4len = static_cast<std::uint32_t>(f.size() - l.th_off);
    const std::uint32_t n = (rng() & 1) != 0 ? 2 : 4;
    std::uint32_t at = 0;
    do {
      at = static_cast<std::uint32_t>(rng() % (l4len / 2)) * 2;
    } while (at + n > l4len || (at <= csum_off - l.th_off + 1 && at + n > csum_off - l.th_off));
    Bytes to(n);
    for (auto& b : to) b = byte();
    const Bytes from(f.begin() + l.th_off + at, f.begin() + l.th_off + at + n);
    std::copy(to.begin(), to.end(), f.begin() + l.th_off + at);
    ASSERT_TRUE(csum_update(f, csum_off, from, to, zero));
    EXPECT_EQ(get16(f, csum_off), *compute_transport_checksum(f, l)) << round;
    EXPECT_TRUE(transport_checksum_ok(f, l)) << round;

    // Rewrite the source address: IPv4 header checksum and the transport
    // checksum's pseudo header.
    const std::uint32_t saddr = l.nh_off + (v6 ? 8 : 12);
    const std::uint32_t alen = v6 ? 16 : 4;
    Bytes new_addr(alen);
    for (auto& b : new_addr) b = byte();
    const Bytes old_addr(f.begin() + saddr, f.begin() + saddr + alen);
    std::copy(new_addr.begin(), new_addr.end(), f.begin() + saddr);
    if (!v6) {
      ASSERT_TRUE(csum_update(f, l.nh_off + 10, old_addr, new_addr, ZeroResult::Keep));
    }
    ASSERT_TRUE(l4_csum_update_pseudo(f, l, old_addr, new_addr));
    if (!v6) {
      EXPECT_TRUE(ipv4_header_checksum_ok({f.data() + l.nh_off, 20})) << round;
    }
    EXPECT_TRUE(transport_checksum_ok(f, l)) << round;
    // nft stores 0xffff where TCP's full computation gives 0; both verify.
    const std::uint16_t stored = get16(f, csum_off);
    const std::uint32_t full = *compute_transport_checksum(f, l);
    EXPECT_TRUE(stored == full || (stored == 0xffff && full == 0)) << round;

    // The IPv4 TTL/protocol word.
    if (!v6) {
      const Bytes old_word(f.begin() + l.nh_off + 8, f.begin() + l.nh_off + 10);
      const Bytes new_word = {byte(), old_word[1]};
      f[l.nh_off + 8] = new_word[0];
      ASSERT_TRUE(csum_update(f, l.nh_off + 10, old_word, new_word, ZeroResult::Keep));
      EXPECT_EQ(get16(f, l.nh_off + 10), ipv4_header_checksum({f.data() + l.nh_off, 20}))
          << round;
    }
  }
}

TEST(ChecksumUpdate, PseudoHeaderSkipsLaterFragmentsAndIcmp) {
  Ip4 later = ip4_proto(kTcp);
  later.frag = 7;
  Bytes f = ethernet(0x0800, ipv4(later, Bytes(20, 0x11)));
  PacketLayout l = layout_of(f);
  const Bytes before = f;
  EXPECT_TRUE(l4_csum_update_pseudo(f, l, Bytes{1, 2, 3, 4}, Bytes{5, 6, 7, 8}));
  EXPECT_EQ(f, before);

  Bytes g = ethernet(0x0800, ipv4(ip4_proto(kIcmp), icmp_echo()));
  l = layout_of(g);
  const Bytes g0 = g;
  EXPECT_TRUE(l4_csum_update_pseudo(g, l, Bytes{1, 2, 3, 4}, Bytes{5, 6, 7, 8}));
  EXPECT_EQ(g, g0);

  // A TCP header cut before its checksum field: the kernel breaks.
  Bytes h = ethernet(0x0800, ipv4({}, tcp(1, 2)));
  l = parse_layout({h.data(), h.size()}, LinkType::Ethernet, Context::Validate);
  l.end = l.th_off + 10;
  EXPECT_FALSE(l4_csum_update_pseudo(h, l, Bytes{1, 2, 3, 4}, Bytes{5, 6, 7, 8}));
}

TEST(ChecksumSctp, RecomputeAfterRewrite) {
  Bytes f = ethernet(0x0800, ipv4(ip4_proto(kSctp), sctp(5000, 6000, {{0, Bytes(8, 1)}})));
  const PacketLayout l = layout_of(f);
  ASSERT_TRUE(transport_checksum_ok(f, l));
  put16(f, l.th_off + 2, 6001);
  EXPECT_FALSE(transport_checksum_ok(f, l));
  ASSERT_TRUE(sctp_checksum_recompute(f, l));
  EXPECT_TRUE(transport_checksum_ok(f, l));
  Bytes l4(f.begin() + l.th_off, f.end());
  const std::uint32_t stored = l4[8] | (l4[9] << 8) | (l4[10] << 16) | (std::uint32_t{l4[11]} << 24);
  for (int i = 8; i < 12; ++i) l4[i] = 0;
  EXPECT_EQ(stored, ref_crc32c(l4.data(), l4.size()));

  // Not SCTP: nothing to do.
  Bytes t = ethernet(0x0800, ipv4({}, tcp(1, 2)));
  const Bytes t0 = t;
  EXPECT_TRUE(sctp_checksum_recompute(t, layout_of(t)));
  EXPECT_EQ(t, t0);
}

}  // namespace
}  // namespace nfx::packet
