// exthdr lookups: IPv6 extension headers, TCP options, IPv4 options, SCTP
// chunks, with the kernel's walking rules.
#include <gtest/gtest.h>

#include <nfx/packet.h>

#include "frame_builder.h"

namespace nfx::packet {
namespace {

using namespace testing;

struct Parsed {
  Bytes frame;
  PacketLayout layout;
};

Parsed parsed(Bytes frame) {
  Parsed p{std::move(frame), {}};
  p.layout = parse_layout(p.frame, LinkType::Ethernet, Context::IpStack);
  return p;
}

// --- IPv6 extension headers ---

TEST(FindIpv6Exthdr, FindsEachHeader) {
  const Parsed p = parsed(ethernet(
      0x86dd, ipv6({}, {{0, hop_by_hop({})}, {43, routing()}, {44, fragment(0, true)},
                        {60, dest_options({})}},
                   kUdp, udp(1, 2))));
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 0), 54u);
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 43), 62u);
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 44), 86u);
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 60), 94u);
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, kIpProtoUdp), 102u);  // the final header too
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 51), std::nullopt);
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, kIpProtoNone), std::nullopt);
}

TEST(FindIpv6Exthdr, NonFirstFragmentHidesWhatFollowsIt) {
  const Parsed p = parsed(ethernet(
      0x86dd, ipv6({}, {{0, hop_by_hop({})}, {44, fragment(3, true)}}, kTcp, Bytes(24, 0))));
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 0), 54u);
  // The fragment header itself is found (`exthdr frag exists` matches a
  // non-first fragment on the kernel: nfx_difftest), nothing after it.
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 44), 62u);
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, kIpProtoTcp), std::nullopt);
}

TEST(FindIpv6Exthdr, AhLengthRule) {
  // AH's length counts 4-byte units minus 2, unlike the other headers.
  const Parsed p =
      parsed(ethernet(0x86dd, ipv6({}, {{51, auth_header(4)}, {60, dest_options({})}}, kUdp,
                                   udp(1, 2))));
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 51), 54u);
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 60), 54u + 24u);
  EXPECT_EQ(p.layout.l4proto, kIpProtoAh);  // the pktinfo walk stops at AH
}

TEST(FindIpv6Exthdr, NoNextHeaderCanBeFound) {
  const Parsed p =
      parsed(ethernet(0x86dd, ipv6({}, {{60, dest_options({})}}, kIpProtoNone, {})));
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, kIpProtoNone), 62u);
}

TEST(FindIpv6Exthdr, NeedsIpv6) {
  const Parsed p = parsed(ethernet(0x0800, ipv4({}, tcp(1, 2))));
  EXPECT_EQ(find_ipv6_exthdr(p.frame, p.layout, 6), std::nullopt);
}

// --- TCP options ---

Parsed tcp_with(const Bytes& options) {
  return parsed(ethernet(0x0800, ipv4({}, tcp(1, 2, options))));
}

TEST(FindTcpOption, WalksNopsAndFindsByKind) {
  // NOP NOP MSS(4) NOP WS(3) NOP NOP SACKOK(2) TS(10)
  const Parsed p = tcp_with({1, 1, 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2, 8, 10, 0, 0, 0, 1,
                             0, 0, 0, 0});
  const std::uint32_t opts = p.layout.th_off + 20;
  auto mss = find_tcp_option(p.frame, p.layout, 2);
  ASSERT_TRUE(mss);
  EXPECT_EQ(mss->offset, opts + 2);
  EXPECT_EQ(mss->length, 4u);
  auto ws = find_tcp_option(p.frame, p.layout, 3);
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->offset, opts + 7);
  EXPECT_EQ(ws->length, 3u);
  auto ts = find_tcp_option(p.frame, p.layout, 8);
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->offset, opts + 14);
  EXPECT_EQ(ts->length, 10u);
  auto nop = find_tcp_option(p.frame, p.layout, 1);
  ASSERT_TRUE(nop);
  EXPECT_EQ(nop->offset, opts);
  EXPECT_EQ(nop->length, 1u);
  EXPECT_FALSE(find_tcp_option(p.frame, p.layout, 5));
}

TEST(FindTcpOption, EolDoesNotEndTheWalk) {
  // The kernel treats EOL as a one-byte option and goes on.
  const Parsed p = tcp_with({0, 0, 2, 4, 0x05, 0xb4, 0, 0});
  auto mss = find_tcp_option(p.frame, p.layout, 2);
  ASSERT_TRUE(mss);
  EXPECT_EQ(mss->offset, p.layout.th_off + 22);
}

TEST(FindTcpOption, ZeroLengthAdvancesOneByte) {
  // Kind 30 with length 0, then at the next byte kind 0 ... then MSS.
  const Parsed p = tcp_with({30, 0, 2, 4, 0x05, 0xb4, 1, 1});
  auto mss = find_tcp_option(p.frame, p.layout, 2);
  ASSERT_TRUE(mss);
  EXPECT_EQ(mss->offset, p.layout.th_off + 22);
  auto odd = find_tcp_option(p.frame, p.layout, 30);
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->length, 1u);
}

TEST(FindTcpOption, OverrunningOptionIsNotFound) {
  // MSS claiming 10 bytes in an 8-byte option area.
  const Parsed p = tcp_with({1, 1, 2, 10, 0x05, 0xb4, 1, 1});
  EXPECT_FALSE(find_tcp_option(p.frame, p.layout, 2));
  // A length byte of 1 counts as 1 and walks on.
  const Parsed q = tcp_with({5, 1, 2, 4, 0x05, 0xb4, 1, 1});
  auto mss = find_tcp_option(q.frame, q.layout, 2);
  ASSERT_TRUE(mss);
  EXPECT_EQ(mss->offset, q.layout.th_off + 22);
}

TEST(FindTcpOption, LastByteIsNeverExamined) {
  const Parsed p = tcp_with({1, 1, 1, 9});
  EXPECT_FALSE(find_tcp_option(p.frame, p.layout, 9));
  const Parsed q = tcp_with({1, 1, 9, 1});
  EXPECT_TRUE(find_tcp_option(q.frame, q.layout, 9));
}

TEST(FindTcpOption, HeaderRules) {
  Parsed p = tcp_with({2, 4, 0x05, 0xb4});
  // doff below 5.
  Parsed bad = p;
  bad.frame[bad.layout.th_off + 12] = 0x40;
  EXPECT_FALSE(find_tcp_option(bad.frame, bad.layout, 2));
  // doff beyond the segment.
  bad = p;
  bad.frame[bad.layout.th_off + 12] = 0xf0;
  EXPECT_FALSE(find_tcp_option(bad.frame, bad.layout, 2));
  // Not TCP, or a later fragment.
  Ip4 later;
  later.frag = 10;
  const Parsed frag = parsed(ethernet(0x0800, ipv4(later, tcp(1, 2, {2, 4, 0x05, 0xb4}))));
  EXPECT_FALSE(find_tcp_option(frag.frame, frag.layout, 2));
  const Parsed u = parsed(ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2, {2, 4, 5, 0xb4}))));
  EXPECT_FALSE(find_tcp_option(u.frame, u.layout, 2));
  // TCP over IPv6.
  const Parsed v6 =
      parsed(ethernet(0x86dd, ipv6({}, {{60, dest_options({})}}, kTcp, tcp(1, 2, {2, 4, 5, 0xb4}))));
  auto mss = find_tcp_option(v6.frame, v6.layout, 2);
  ASSERT_TRUE(mss);
  EXPECT_EQ(mss->offset, 14u + 48u + 20u);
}

// --- IPv4 options ---

Parsed ip_with(const Bytes& options) {
  Ip4 ip;
  ip.options = options;
  return parsed(ethernet(0x0800, ipv4(ip, udp(1, 2))));
}

TEST(FindIpv4Option, FindsSupportedOptions) {
  // NOP, RR with room for 2 addresses, RA, LSRR with 1 address.
  const Parsed p = ip_with({1, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 148, 4, 0, 0, 131, 7, 4, 10, 0,
                            0, 1, 0});
  const std::uint32_t opts = p.layout.nh_off + 20;
  EXPECT_EQ(find_ipv4_option(p.frame, p.layout, kIpOptRr), opts + 1);
  EXPECT_EQ(find_ipv4_option(p.frame, p.layout, kIpOptRa), opts + 12);
  EXPECT_EQ(find_ipv4_option(p.frame, p.layout, kIpOptLsrr), opts + 16);
  EXPECT_EQ(find_ipv4_option(p.frame, p.layout, kIpOptSsrr), std::nullopt);
  EXPECT_EQ(find_ipv4_option(p.frame, p.layout, 68), std::nullopt);  // EOPNOTSUPP
}

TEST(FindIpv4Option, StrictRoute) {
  const Parsed p = ip_with({137, 11, 4, 10, 0, 0, 1, 10, 0, 0, 2, 0});
  EXPECT_EQ(find_ipv4_option(p.frame, p.layout, kIpOptSsrr), p.layout.nh_off + 20);
  EXPECT_EQ(find_ipv4_option(p.frame, p.layout, kIpOptLsrr), std::nullopt);
}

TEST(FindIpv4Option, RouterAlertNeedsValueZero) {
  EXPECT_FALSE(find_ipv4_option(ip_with({148, 4, 0, 1}).frame, ip_with({148, 4, 0, 1}).layout,
                                kIpOptRa));
}

TEST(FindIpv4Option, InvalidOptionsFindNothing) {
  const Bytes ra = {148, 4, 0, 0};
  auto finds_ra = [&](const Bytes& before) {
    const Parsed p = ip_with(cat({before, ra}));
    return find_ipv4_option(p.frame, p.layout, kIpOptRa).has_value();
  };
  EXPECT_TRUE(finds_ra({}));
  EXPECT_TRUE(finds_ra({1, 1, 1, 1}));
  EXPECT_TRUE(finds_ra({130, 4, 0, 0}));              // SEC: accepted with CAP_NET_RAW
  EXPECT_FALSE(finds_ra({7, 2, 1, 1}));               // RR shorter than 3
  EXPECT_FALSE(finds_ra({7, 3, 3, 1}));               // RR pointer < 4
  EXPECT_FALSE(finds_ra({7, 4, 4, 1}));               // RR pointer + 3 > length
  EXPECT_FALSE(finds_ra({131, 7, 8, 0, 0, 0, 0, 1}));  // LSRR pointer must be 4
  EXPECT_FALSE(finds_ra({131, 8, 4, 0, 0, 0, 0, 0}));  // LSRR of partial addresses
  EXPECT_FALSE(finds_ra({134, 8, 0, 0, 0, 1, 0, 0}));  // CIPSO, no DOI
  EXPECT_FALSE(finds_ra({1, 1, 30, 1}));              // length 1
  EXPECT_FALSE(finds_ra({1, 1, 30, 9}));              // length past the options
  EXPECT_FALSE(finds_ra({7, 3, 4, 1, 7, 3, 4, 1}));   // two RRs
  EXPECT_TRUE(finds_ra({68, 4, 5, 0}));               // timestamp, full
  EXPECT_FALSE(finds_ra({68, 4, 4, 0}));              // timestamp pointer < 5
  EXPECT_FALSE(finds_ra({68, 4, 5, 0xf1}));           // full, overflow counter at 15
  // After EOL nothing is parsed, so nothing after it is found either.
  const Parsed eol = ip_with({0, 0, 0, 0, 148, 4, 0, 0});
  EXPECT_FALSE(find_ipv4_option(eol.frame, eol.layout, kIpOptRa));
}

TEST(FindIpv4Option, FragmentsCarryTheirOptions) {
  Ip4 ip;
  ip.options = {148, 4, 0, 0};
  ip.frag = 100;
  const Parsed p = parsed(ethernet(0x0800, ipv4(ip, Bytes(16, 0))));
  EXPECT_EQ(find_ipv4_option(p.frame, p.layout, kIpOptRa), p.layout.nh_off + 20);
}

TEST(FindIpv4Option, NoOptions) {
  const Parsed p = parsed(ethernet(0x0800, ipv4({}, tcp(1, 2))));
  EXPECT_FALSE(find_ipv4_option(p.frame, p.layout, kIpOptRr));
}

// --- SCTP chunks ---

TEST(FindSctpChunk, WalksPaddedChunks) {
  const Parsed p = parsed(ethernet(
      0x0800, ipv4(ip4_proto(kSctp), sctp(1, 2, {{0, {1, 2, 3, 4, 5}}, {3, Bytes(12, 0)},
                                                {14, {}}}))));
  const std::uint32_t first = p.layout.th_off + 12;
  auto data = find_sctp_chunk(p.frame, p.layout, 0);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->offset, first);
  EXPECT_EQ(data->length, 9u);
  auto sack = find_sctp_chunk(p.frame, p.layout, 3);
  ASSERT_TRUE(sack);
  EXPECT_EQ(sack->offset, first + 12);  // 9 padded to 12
  EXPECT_EQ(sack->length, 16u);
  auto shutdown_complete = find_sctp_chunk(p.frame, p.layout, 14);
  ASSERT_TRUE(shutdown_complete);
  EXPECT_EQ(shutdown_complete->offset, first + 28);
  EXPECT_FALSE(find_sctp_chunk(p.frame, p.layout, 1));
}

TEST(FindSctpChunk, ZeroLengthStops) {
  Bytes l4 = sctp(1, 2, {{1, Bytes(4, 0)}, {3, {}}});
  l4[12 + 2] = 0;
  l4[12 + 3] = 0;  // first chunk length 0
  const Parsed p = parsed(ethernet(0x0800, ipv4(ip4_proto(kSctp), l4)));
  // The length is tested before the type, and the walk ends there.
  EXPECT_FALSE(find_sctp_chunk(p.frame, p.layout, 1));
  EXPECT_FALSE(find_sctp_chunk(p.frame, p.layout, 3));
}

// Unlike TCP options, chunks are looked for in non-first fragments too: the
// kernel's walk checks only the protocol (measured with nfx_difftest).
TEST(FindSctpChunk, WalksNonFirstFragments) {
  Ip4 ip = ip4_proto(kSctp);
  ip.frag = 0x2000 | 3;
  const Parsed p = parsed(ethernet(0x0800, ipv4(ip, sctp(1, 2, {{0, {1}}}))));
  EXPECT_TRUE(find_sctp_chunk(p.frame, p.layout, 0));
}

}  // namespace
}  // namespace nfx::packet
