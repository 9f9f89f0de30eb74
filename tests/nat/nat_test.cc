// NAT on its own (runtime/nat) over a conntrack table: the tuple a binding
// chooses (original kept when free, ports by the kernel's conventions on a
// clash, a client's existing mapping reused, ranges), the rewrite of each
// protocol with checksums that a full recomputation agrees with, replies
// translated back, ICMP errors translated inside and out.
#include <gtest/gtest.h>
#include <nfx/nat.h>

#include <set>

#include "../packet/frame_builder.h"

namespace nfx::nat {
namespace {

using namespace packet::testing;
using conntrack::Dir;
using conntrack::Tracked;

constexpr uint64_t kNow = 1'000'000'000;
using Addr = std::array<uint8_t, 4>;
const Addr kClient{10, 0, 0, 1}, kClient2{10, 0, 0, 2}, kServer{192, 0, 2, 7}, kPublic{203, 0, 113, 1};

Bytes frame4(uint8_t proto, Addr src, Addr dst, Bytes l4) {
  Ip4 ip;
  ip.proto = proto;
  ip.src = src;
  ip.dst = dst;
  return ethernet(0x0800, ipv4(ip, std::move(l4)));
}
Bytes udp4(Addr src, Addr dst, uint16_t sport, uint16_t dport) {
  return frame4(kUdp, src, dst, udp(sport, dport, {'q', 'u', 'e', 'r', 'y'}));
}
Bytes tcp4(Addr src, Addr dst, uint16_t sport, uint16_t dport, uint8_t flags = 0x02) {
  Bytes t = tcp(sport, dport);
  t[13] = flags;
  return frame4(kTcp, src, dst, t);
}

Range to_address(Addr a, uint16_t port_lo = 0, uint16_t port_hi = 0) {
  Range r;
  r.flags = kMapIps;
  std::copy(a.begin(), a.end(), r.min_addr.begin());
  std::copy(a.begin(), a.end(), r.max_addr.begin());
  if (port_lo) {
    r.flags |= kProtoSpecified;
    r.min_proto = port_lo;
    r.max_proto = port_hi ? port_hi : port_lo;
  }
  return r;
}

packet::PacketLayout layout_of(const Bytes& f) {
  return packet::parse_layout(f, packet::LinkType::Ethernet, packet::Context::IpStack);
}

// Both checksums of an IPv4 packet right after a rewrite.
void expect_checksums_ok(const Bytes& f) {
  auto l = layout_of(f);
  EXPECT_TRUE(packet::ipv4_header_checksum_ok(std::span<const uint8_t>(f).subspan(l.nh_off, 20)));
  EXPECT_TRUE(packet::transport_checksum_ok(f, l));
}

// A router: conntrack at prerouting, source NAT at postrouting (with
// `range`, or a null binding), confirmation, as the kernel runs them.
struct Router {
  conntrack::Table table;
  Nat nat{1};

  // A packet through destination NAT (prerouting), then source NAT
  // (postrouting); `snat`/`dnat` bind a new connection.
  Tracked forward(Bytes& f, const Range* snat = nullptr, const Range* dnat = nullptr, uint64_t now = kNow) {
    auto l = layout_of(f);
    Tracked t = table.in(f, l, conntrack::TrackHook::Prerouting, 0, now);
    if (!t.entry) return t;
    step(f, t, Hook::Prerouting, dnat, now);
    step(f, t, Hook::Postrouting, snat, now);
    EXPECT_TRUE(table.confirm(t, now));
    return t;
  }
  void step(Bytes& f, const Tracked& t, Hook h, const Range* r, uint64_t now) {
    auto l = layout_of(f);
    Manip m = manip_of(h);
    if (t.info == conntrack::Info::New && !initialized(*t.entry, m)) {
      if (r) EXPECT_TRUE(nat.setup(table, t.entry, *r, m, now));
      else EXPECT_TRUE(nat.null_binding(table, t.entry, m, now));
    }
    EXPECT_TRUE(translate(f, l, *t.entry, t.dir, h));
  }
};

uint16_t sport_of(const Bytes& f) { return get16(f, 14 + 20); }
uint16_t dport_of(const Bytes& f) { return get16(f, 14 + 22); }
Addr saddr_of(const Bytes& f) { return {f[26], f[27], f[28], f[29]}; }
Addr daddr_of(const Bytes& f) { return {f[30], f[31], f[32], f[33]}; }

TEST(Nat, SourceNatRewritesAndRepliesComeBack) {
  Router r;
  Range masq = to_address(kPublic);
  Bytes out = udp4(kClient, kServer, 40000, 53);
  Tracked t = r.forward(out, &masq);
  EXPECT_EQ(saddr_of(out), kPublic);
  EXPECT_EQ(sport_of(out), 40000);  // the original port is free: kept
  expect_checksums_ok(out);
  EXPECT_TRUE(t.entry->status & conntrack::kSrcNat);
  EXPECT_TRUE(t.entry->status & conntrack::kSrcNatDone);
  EXPECT_TRUE(t.entry->status & conntrack::kDstNatDone);
  EXPECT_FALSE(t.entry->status & conntrack::kDstNat);

  Bytes back = udp4(kServer, kPublic, 53, 40000);
  Tracked b = r.forward(back);
  EXPECT_EQ(b.dir, Dir::Reply);
  EXPECT_EQ(daddr_of(back), kClient);
  EXPECT_EQ(dport_of(back), 40000);
  expect_checksums_ok(back);
}

TEST(Nat, TcpChecksumFollowsAddressAndPort) {
  Router r;
  Range to = to_address(kPublic, 2000);
  Bytes out = tcp4(kClient, kServer, 40000, 80);
  r.forward(out, &to);
  EXPECT_EQ(saddr_of(out), kPublic);
  EXPECT_EQ(sport_of(out), 2000);
  expect_checksums_ok(out);
}

TEST(Nat, AClashGetsAnotherPortByTheKernelsConventions) {
  Router r;
  Range masq = to_address(kPublic);
  std::set<uint16_t> ports;
  for (Addr client : {kClient, kClient2}) {
    Bytes out = udp4(client, kServer, 40000, 53);
    r.forward(out, &masq);
    EXPECT_EQ(saddr_of(out), kPublic);
    ports.insert(sport_of(out));
    if (client == kClient2) {
      EXPECT_GE(sport_of(out), 1024);  // an unprivileged port stays unprivileged
    }
  }
  EXPECT_EQ(ports.size(), 2u);
  // below 512 stays below 512 (credentials), 512..1023 goes to 600..1023
  for (uint16_t orig : {100, 700}) {
    for (Addr client : {kClient, kClient2}) {
      Bytes out = udp4(client, kServer, orig, 53);
      r.forward(out, &masq);
      if (client == kClient) EXPECT_EQ(sport_of(out), orig);
      else if (orig < 512) EXPECT_TRUE(sport_of(out) >= 1 && sport_of(out) <= 511) << sport_of(out);
      else EXPECT_TRUE(sport_of(out) >= 600 && sport_of(out) <= 1023) << sport_of(out);
    }
  }
  // the second client's reply reaches the second client
  EXPECT_EQ(r.table.size(), 6u);
}

TEST(Nat, NullBindingsResolveClashesToo) {
  // two clients behind different routers' SNAT meet here with the same tuple
  // after translation: the second, not translated by any rule, still gets a
  // unique port (nf_nat_alloc_null_binding)
  Router r;
  Bytes a = udp4(kClient, kServer, 5000, 53);
  Range to_client2 = to_address(kClient2);
  r.forward(a, &to_client2);
  Bytes b = udp4(kClient2, kServer, 5000, 53);
  r.forward(b);
  EXPECT_EQ(saddr_of(b), kClient2);
  EXPECT_NE(sport_of(b), 5000);
}

TEST(Nat, AClientKeepsItsMappingAcrossConnections) {
  // the range excludes the original address, so the second connection of
  // the same source finds the first one's mapping (find_appropriate_src)
  Router r;
  Range range = to_address({203, 0, 113, 10});
  range.max_addr[3] = 20;
  Bytes first = udp4(kClient, kServer, 6000, 53);
  r.forward(first, &range);
  Bytes second = udp4(kClient, {192, 0, 2, 99}, 6000, 123);
  r.forward(second, &range);
  EXPECT_EQ(saddr_of(first), saddr_of(second));
  EXPECT_EQ(sport_of(first), sport_of(second));
  EXPECT_EQ(r.nat.sources(), 2u);
}

TEST(Nat, DestinationNatToAPortRange) {
  Router r;
  Range to = to_address({10, 0, 0, 9}, 8080, 8090);
  Bytes in = tcp4(kServer, kPublic, 50000, 80);
  Tracked t = r.forward(in, nullptr, &to);
  EXPECT_EQ(daddr_of(in), (Addr{10, 0, 0, 9}));
  EXPECT_EQ(dport_of(in), 8080);  // not in range: the first port, as a destination has no random offset
  EXPECT_TRUE(t.entry->status & conntrack::kDstNat);
  expect_checksums_ok(in);
  Bytes reply = tcp4({10, 0, 0, 9}, kServer, 8080, 50000, 0x12);
  r.forward(reply);
  EXPECT_EQ(saddr_of(reply), kPublic);
  EXPECT_EQ(sport_of(reply), 80);
  expect_checksums_ok(reply);
}

TEST(Nat, ExpiredEntriesFreeTheirTuple) {
  Router r;
  Range masq = to_address(kPublic);
  Bytes a = udp4(kClient, kServer, 7000, 53);
  r.forward(a, &masq);
  Bytes b = udp4(kClient2, kServer, 7000, 53);
  r.forward(b, &masq, nullptr, kNow + 31 * kNow);  // the first one's 30 s are over
  EXPECT_EQ(sport_of(b), 7000);
}

TEST(Nat, IcmpEchoIdIsTranslatedOnAClash) {
  Router r;
  Range masq = to_address(kPublic);
  Bytes first = frame4(kIcmp, kClient, kServer, icmp_echo());
  Bytes second = frame4(kIcmp, kClient2, kServer, icmp_echo());
  r.forward(first, &masq);
  r.forward(second, &masq);
  EXPECT_EQ(get16(first, 14 + 24), get16(icmp_echo(), 4));
  EXPECT_NE(get16(second, 14 + 24), get16(first, 14 + 24));
  expect_checksums_ok(first);
  expect_checksums_ok(second);
}

TEST(Nat, IcmpErrorsAreTranslatedInsideAndOut) {
  Router r;
  Range masq = to_address(kPublic);
  Bytes out = udp4(kClient, kServer, 40000, 53);
  r.forward(out, &masq);
  // the server answers the translated packet with a port unreachable
  Bytes quoted(out.begin() + 14, out.end());
  Bytes icmp = {3, 3, 0, 0, 0, 0, 0, 0};
  icmp.insert(icmp.end(), quoted.begin(), quoted.end());
  Bytes err = frame4(kIcmp, kServer, kPublic, icmp);
  Tracked t = r.table.in(err, layout_of(err), conntrack::TrackHook::Prerouting, 0, kNow);
  ASSERT_EQ(t.info, conntrack::Info::RelatedReply);
  auto l = layout_of(err);
  ASSERT_TRUE(is_icmp(err, l));
  ASSERT_TRUE(translate_icmp_error(err, l, *t.entry, t.dir, Hook::Prerouting));
  EXPECT_EQ(daddr_of(err), kClient);  // outer destination back to the client
  const size_t inner = 14 + 20 + 8;
  EXPECT_EQ((Addr{err[inner + 12], err[inner + 13], err[inner + 14], err[inner + 15]}), kClient);  // inner source
  expect_checksums_ok(err);
  EXPECT_TRUE(packet::ipv4_header_checksum_ok(std::span<const uint8_t>(err).subspan(inner, 20)));
}

TEST(Nat, ABoundConnectionIsNotBoundAgain) {
  Router r;
  Range masq = to_address(kPublic);
  Bytes out = udp4(kClient, kServer, 40000, 53);
  Tracked t = r.forward(out, &masq);
  EXPECT_FALSE(r.nat.setup(r.table, t.entry, masq, Manip::Src, kNow));
}

TEST(Nat, CutShortHeadersAreRefusedNotOverrun) {
  conntrack::Entry e;
  e.tuple[0].l3 = e.tuple[1].l3 = conntrack::kNfprotoIpv4;
  e.tuple[0].l4 = e.tuple[1].l4 = kTcp;
  e.status = conntrack::kSrcNat;
  Bytes f = tcp4(kClient, kServer, 1, 2);
  f.resize(14 + 20 + 6);  // a TCP header of 6 bytes
  auto l = layout_of(f);
  l.end = static_cast<uint32_t>(f.size());
  EXPECT_FALSE(translate(f, l, e, Dir::Original, Hook::Postrouting));
}

}  // namespace
}  // namespace nfx::nat
