// Every prefix of a set of valid frames, through every link type and
// context: layouts stay within the bytes, and every lookup and load either
// finds something inside them or nothing.
#include <gtest/gtest.h>

#include <nfx/packet.h>

#include "frame_builder.h"

namespace nfx::packet {
namespace {

using namespace testing;

std::vector<Bytes> sample_ip_packets() {
  Ip4 opts;
  opts.options = {1, 7, 7, 4, 0, 0, 0, 0, 148, 4, 0, 0};
  Ip4 later;
  later.frag = 0x2000 | 9;
  Ip4 first;
  first.frag = 0x2000;
  first.proto = kUdp;
  return {
      ipv4({}, tcp(1, 2, {1, 1, 2, 4, 5, 0xb4, 3, 3, 7, 0, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8})),
      ipv4(opts, tcp(1, 2, {2, 4, 5, 0xb4})),
      ipv4(later, Bytes(24, 0x42)),
      ipv4(first, udp(1, 2, Bytes(12, 1))),
      ipv4(ip4_proto(kIcmp), icmp_echo()),
      ipv4(ip4_proto(kSctp), sctp(1, 2, {{0, {1, 2, 3}}, {3, Bytes(8, 0)}, {14, {}}})),
      ipv6({}, {{0, hop_by_hop({5, 2, 0, 0})}, {43, routing()}, {60, dest_options({})}}, kTcp,
           tcp(1, 2, {2, 4, 5, 0xb4})),
      ipv6({}, {{44, fragment(0, true)}}, kUdp, udp(1, 2, Bytes(5, 9))),
      ipv6({}, {{44, fragment(20, false)}}, kTcp, Bytes(16, 3)),
      ipv6({}, {{51, auth_header()}, {60, dest_options({})}}, kSctp, sctp(1, 2, {{1, Bytes(4, 0)}})),
      ipv6({}, {}, kIcmp6, icmp_echo(128)),
  };
}

std::vector<Bytes> sample_frames() {
  std::vector<Bytes> frames;
  for (const Bytes& p : sample_ip_packets()) {
    const std::uint16_t type = (p[0] >> 4) == 4 ? 0x0800 : 0x86dd;
    frames.push_back(ethernet(type, p));
    frames.push_back(ethernet(type, p, {{0x8100, 42}}));
    frames.push_back(ethernet(type, p, {{0x88a8, 1}, {0x8100, 2}}));
  }
  frames.push_back(ethernet(0x0806, Bytes(28, 1)));
  return frames;
}

// Checks one (possibly cut) frame: the layout's offsets, then every lookup
// and load, each either empty or inside the data.
void check(std::span<const std::uint8_t> f, LinkType link, Context ctx) {
  const PacketLayout l = parse_layout(f, link, ctx);
  SCOPED_TRACE(::testing::Message() << "len " << f.size() << " link " << int(link) << " ctx "
                                    << int(ctx));
  ASSERT_LE(l.end, f.size());
  if (!l.link_ok) {
    EXPECT_FALSE(l.l4_valid);
  } else {
    EXPECT_LE(l.nh_off, l.end);
    if (l.l4_valid && l.protocol == kEthPIp) {
      EXPECT_LE(l.th_off, l.end);
      EXPECT_LE(l.nh_off + l.l3_len, f.size());
    }
    if (l.l4_valid && l.protocol == kEthPIpv6) {
      EXPECT_LE(l.nh_off + l.l3_len, f.size());
    }
    if (!l.l4_valid) {
      EXPECT_EQ(l.l4proto, 0);
      EXPECT_EQ(l.fragoff, 0);
      EXPECT_EQ(l.th_off, l.nh_off);
    }
  }
  const std::uint64_t end = l.end;

  for (std::uint8_t t : {0, 1, 2, 3, 4, 5, 6, 8, 14, 17, 30, 43, 44, 51, 58, 59, 60, 131, 137, 148,
                         255}) {
    if (auto o = find_ipv6_exthdr(f, l, t)) {
      EXPECT_LE(*o, end + 2048);  // the final header may lie past the end
      EXPECT_TRUE(l.link_ok);
    }
    if (auto o = find_tcp_option(f, l, t)) {
      EXPECT_LE(o->offset + std::uint64_t{o->length}, end);
    }
    if (auto o = find_ipv4_option(f, l, t)) {
      EXPECT_LT(*o, end);
    }
    if (auto o = find_sctp_chunk(f, l, t)) {
      EXPECT_LE(o->offset + 4ull, end);
    }
  }
  std::uint8_t buf[64];
  for (PayloadBase b : {PayloadBase::Link, PayloadBase::Network, PayloadBase::Transport,
                        PayloadBase::Inner}) {
    const auto base = payload_base_offset(f, l, b);
    for (std::uint32_t off : {0u, 1u, 12u, 20u, 39u, 40u, 60u, 200u}) {
      for (std::uint32_t len : {1u, 2u, 4u, 16u, 64u}) {
        if (payload_load(f, l, b, off, len, buf)) {
          ASSERT_TRUE(base);
          EXPECT_LE(*base + std::uint64_t{off} + len, end);
        }
      }
    }
  }
  // Checksum helpers must not read outside either.
  (void)compute_transport_checksum(f, l);
  (void)transport_checksum_ok(f, l);
  Bytes copy(f.begin(), f.end());
  (void)fill_ipv4_header_checksum(copy, l);
  (void)fill_transport_checksum(copy, l);
  (void)l4_csum_update_pseudo(copy, l, Bytes{1, 2, 3, 4}, Bytes{4, 3, 2, 1});
  (void)sctp_checksum_recompute(copy, l);
}

TEST(Truncation, EveryPrefixOfEveryFrame) {
  for (const Bytes& frame : sample_frames()) {
    for (std::size_t n = 0; n <= frame.size(); ++n) {
      // A copy of exactly n bytes, so that a sanitizer sees any overread.
      const Bytes cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n));
      for (Context c : {Context::Validate, Context::IpStack}) check(cut, LinkType::Ethernet, c);
    }
  }
  for (const Bytes& packet : sample_ip_packets()) {
    for (std::size_t n = 0; n <= packet.size(); ++n) {
      const Bytes cut(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(n));
      for (Context c : {Context::Validate, Context::IpStack}) check(cut, LinkType::RawIp, c);
    }
  }
}

TEST(Truncation, TransportInfoOnlyForWholePackets) {
  // A prefix that cuts into the IP packet has no transport information:
  // tot_len / payload_len no longer fit.
  for (const Bytes& packet : sample_ip_packets()) {
    const Bytes frame = ethernet((packet[0] >> 4) == 4 ? 0x0800 : 0x86dd, packet);
    for (std::size_t n = 14; n < frame.size(); ++n) {
      const Bytes cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n));
      for (Context c : {Context::Validate, Context::IpStack}) {
        const PacketLayout l = parse_layout(cut, LinkType::Ethernet, c);
        EXPECT_FALSE(l.l4_valid) << n;
        EXPECT_FALSE(l.ip_rcv_ok || l.ipv6_rcv_ok) << n;
      }
    }
    const PacketLayout whole = parse_layout(frame, LinkType::Ethernet, Context::Validate);
    EXPECT_TRUE(whole.l4_valid);
    EXPECT_TRUE(whole.ip_rcv_ok || whole.ipv6_rcv_ok);
  }
}

TEST(Truncation, CorruptedBytes) {
  // Every single-byte corruption of every sample frame, at every position.
  for (const Bytes& frame : sample_frames()) {
    for (std::size_t i = 0; i < frame.size(); ++i) {
      for (std::uint8_t v : {0x00, 0x01, 0x05, 0x0f, 0x2c, 0x3c, 0x45, 0x7f, 0x80, 0xff}) {
        Bytes g = frame;
        g[i] = v;
        check(g, LinkType::Ethernet, Context::Validate);
      }
    }
  }
}

}  // namespace
}  // namespace nfx::packet
