// The conntrack table on its own: tuples and inverses, the UDP, ICMP,
// ICMPv6 and generic trackers with the kernel's default timeouts, RELATED
// ICMP errors, confirmation at the last hook, expiry, early drop in a full
// table, and entries printed as `conntrack -L` prints them.
#include <gtest/gtest.h>
#include <nfx/conntrack.h>

#include "../packet/frame_builder.h"

namespace nfx::conntrack {
namespace {

using namespace packet::testing;

constexpr uint64_t kSec = 1'000'000'000;

Ip4 ip4(uint8_t proto, std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst) {
  Ip4 ip;
  ip.proto = proto;
  ip.src = src;
  ip.dst = dst;
  return ip;
}

const std::array<uint8_t, 4> kClient{10, 0, 0, 1}, kServer{192, 0, 2, 7}, kRouter{10, 0, 0, 254};

Bytes udp4(std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst, uint16_t sport, uint16_t dport) {
  return ethernet(0x0800, ipv4(ip4(kUdp, src, dst), udp(sport, dport, {'q'})));
}

struct Driver {
  Table& table;
  Tracked last;
  Tracked in(const Bytes& frame, uint64_t now, TrackHook hook = TrackHook::Prerouting, uint16_t zone = 0) {
    auto layout = packet::parse_layout(frame, packet::LinkType::Ethernet, packet::Context::IpStack);
    last = table.in(frame, layout, hook, zone, now);
    return last;
  }
  // in() then confirm(), as a packet that passes every hook.
  Tracked pass(const Bytes& frame, uint64_t now, TrackHook hook = TrackHook::Prerouting) {
    Tracked t = in(frame, now, hook);
    EXPECT_TRUE(table.confirm(t, now)) << t.why;
    return t;
  }
};

TEST(Conntrack, TuplesAndInverses) {
  Bytes f = udp4(kClient, kServer, 40000, 53);
  auto layout = packet::parse_layout(f, packet::LinkType::Ethernet, packet::Context::IpStack);
  auto t = packet_tuple(f, layout);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->l3, kNfprotoIpv4);
  EXPECT_EQ(t->l4, 17);
  EXPECT_EQ(t->sport, 40000);
  EXPECT_EQ(t->dport, 53);
  auto r = invert(*t);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->src, t->dst);
  EXPECT_EQ(r->sport, 53);
  EXPECT_EQ(invert(*r), t);

  // ICMP: echo inverts to echo reply with the same id and code; a type
  // without an answer has no inverse.
  Bytes ping = ethernet(0x0800, ipv4(ip4(kIcmp, kClient, kServer), icmp_echo(8)));
  auto pl = packet::parse_layout(ping, packet::LinkType::Ethernet, packet::Context::IpStack);
  auto pt = packet_tuple(ping, pl);
  ASSERT_TRUE(pt);
  EXPECT_EQ(pt->icmp_type(), 8);
  EXPECT_EQ(pt->sport, 0x1234);
  EXPECT_EQ(invert(*pt)->icmp_type(), 0);
  Tuple redirect = *pt;
  redirect.dport = 5 << 8;
  EXPECT_FALSE(invert(redirect));

  // A UDP header cut to 3 bytes has no tuple.
  Bytes cut = ethernet(0x0800, ipv4(ip4(kUdp, kClient, kServer), {0x9c, 0x40, 0}));
  auto cl = packet::parse_layout(cut, packet::LinkType::Ethernet, packet::Context::IpStack);
  EXPECT_FALSE(packet_tuple(cut, cl));
}

TEST(Conntrack, UdpNewThenReplyThenStream) {
  Table table;
  Driver r{table, {}};
  const Bytes out = udp4(kClient, kServer, 40000, 53), back = udp4(kServer, kClient, 53, 40000);

  Tracked first = r.in(out, 0);
  EXPECT_EQ(first.info, Info::New);
  EXPECT_EQ(state_bits(first.info), kStateNew);
  ASSERT_TRUE(first.entry);
  EXPECT_EQ(table.size(), 0u) << "unconfirmed until the last hook";
  ASSERT_TRUE(table.confirm(first, 0));
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(format_entry(*first.entry, kSec / 2),
            "udp      17 29 src=10.0.0.1 dst=192.0.2.7 sport=40000 dport=53 [UNREPLIED] "
            "src=192.0.2.7 dst=10.0.0.1 sport=53 dport=40000 mark=0 use=1");

  // Before any reply, the original direction stays NEW.
  EXPECT_EQ(r.pass(out, kSec).info, Info::New);

  Tracked reply = r.pass(back, kSec);
  EXPECT_EQ(reply.info, Info::EstablishedReply);
  EXPECT_EQ(state_bits(reply.info), kStateEstablished);
  EXPECT_EQ(reply.dir, Dir::Reply);
  EXPECT_TRUE(reply.entry->status & kSeenReply);
  EXPECT_FALSE(reply.entry->status & kAssured);
  EXPECT_EQ(reply.entry->expires_ns, 31 * kSec) << "the first reply refreshes with the unreplied timeout";

  // Within two seconds of the first packet: still 30 s, not assured.
  Tracked soon = r.pass(out, kSec + kSec / 2);
  EXPECT_EQ(soon.info, Info::Established);
  EXPECT_FALSE(soon.entry->status & kAssured);
  // Later: a stream, 120 s and ASSURED.
  Tracked later = r.pass(out, 3 * kSec);
  EXPECT_TRUE(later.entry->status & kAssured);
  EXPECT_EQ(later.entry->expires_ns, 123 * kSec);
  EXPECT_EQ(format_entry(*later.entry, 3 * kSec),
            "udp      17 120 src=10.0.0.1 dst=192.0.2.7 sport=40000 dport=53 "
            "src=192.0.2.7 dst=10.0.0.1 sport=53 dport=40000 [ASSURED] mark=0 use=1");
}

TEST(Conntrack, ADroppedFirstPacketLeavesNoState) {
  Table table;
  Driver r{table, {}};
  Tracked t = r.in(udp4(kClient, kServer, 40000, 53), 0);
  EXPECT_EQ(t.info, Info::New);
  // not confirmed: the rules dropped it
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(r.in(udp4(kServer, kClient, 53, 40000), kSec).info, Info::New) << "the reply is a new flow of its own";
}

TEST(Conntrack, UdpHeaderAndChecksumChecks) {
  Table table;
  Driver r{table, {}};
  Bytes bad = udp4(kClient, kServer, 40000, 53);
  bad[14 + 20 + 6] ^= 0x5a;  // checksum
  Tracked t = r.in(bad, 0);
  EXPECT_EQ(t.info, Info::None);
  EXPECT_EQ(state_bits(t.info), kStateInvalid);
  EXPECT_EQ(t.why, "bad checksum");
  // Checksums are verified at prerouting only (locally made packets are trusted).
  EXPECT_EQ(r.in(bad, 0, TrackHook::Output).info, Info::New);
  // A zero checksum means none.
  Bytes none = udp4(kClient, kServer, 40001, 53);
  none[14 + 20 + 6] = none[14 + 20 + 7] = 0;
  EXPECT_EQ(r.in(none, 0).info, Info::New);
  // A length field beyond the packet.
  Bytes lying = udp4(kClient, kServer, 40002, 53);
  lying[14 + 20 + 5] = 200;
  EXPECT_EQ(r.in(lying, 0, TrackHook::Output).why, "truncated/malformed packet");
}

TEST(Conntrack, IcmpEchoAndInvalidNewTypes) {
  Table table;
  Driver r{table, {}};
  Bytes request = ethernet(0x0800, ipv4(ip4(kIcmp, kClient, kServer), icmp_echo(8)));
  Bytes reply = ethernet(0x0800, ipv4(ip4(kIcmp, kServer, kClient), icmp_echo(0)));
  // An echo reply without a request cannot start a connection.
  Tracked lone = r.in(reply, 0);
  EXPECT_EQ(lone.info, Info::None);
  EXPECT_EQ(lone.why, "invalid new icmp type");

  Tracked req = r.pass(request, 0);
  EXPECT_EQ(req.info, Info::New);
  EXPECT_EQ(req.entry->expires_ns, 30 * kSec);
  Tracked rep = r.pass(reply, kSec);
  EXPECT_EQ(rep.info, Info::EstablishedReply);
  EXPECT_EQ(format_entry(*rep.entry, kSec),
            "icmp     1 30 src=10.0.0.1 dst=192.0.2.7 type=8 code=0 id=4660 "
            "src=192.0.2.7 dst=10.0.0.1 type=0 code=0 id=4660 mark=0 use=1");
  EXPECT_FALSE(rep.entry->status & kAssured) << "ICMP is never assured";
}

TEST(Conntrack, Icmpv6EchoAndUntrackedNeighbourDiscovery) {
  Table table;
  Driver r{table, {}};
  Ip6 a, b;
  std::swap(b.src, b.dst);
  Bytes request = ethernet(0x86dd, ipv6(a, {}, kIcmp6, icmp_echo(128)));
  Bytes reply = ethernet(0x86dd, ipv6(b, {}, kIcmp6, icmp_echo(129)));
  EXPECT_EQ(r.pass(request, 0).info, Info::New);
  Tracked rep = r.pass(reply, 0);
  EXPECT_EQ(rep.info, Info::EstablishedReply);
  EXPECT_EQ(format_entry(*rep.entry, 0),
            "icmpv6   58 30 src=2001:db8::1 dst=2001:db8::2 type=128 code=0 id=4660 "
            "src=2001:db8::2 dst=2001:db8::1 type=129 code=0 id=4660 mark=0 use=1");
  Bytes solicit = ethernet(0x86dd, ipv6(a, {}, kIcmp6, Bytes{135, 0, 0, 0, 0, 0, 0, 0}));
  Tracked ns = r.in(solicit, 0);
  EXPECT_EQ(ns.info, Info::Untracked);
  EXPECT_EQ(state_bits(ns.info), kStateUntracked);
}

// An ICMP error about a packet of a known connection is RELATED to it.
TEST(Conntrack, IcmpErrorsAreRelated) {
  Table table;
  Driver r{table, {}};
  Bytes out = udp4(kClient, kServer, 40000, 53);
  r.pass(out, 0);
  // port unreachable from the server, carrying the client's datagram
  Bytes carried(out.begin() + 14, out.end());
  Bytes unreach = {3, 3, 0, 0, 0, 0, 0, 0};
  unreach.insert(unreach.end(), carried.begin(), carried.end());
  Tracked t = r.in(ethernet(0x0800, ipv4(ip4(kIcmp, kServer, kClient), unreach)), kSec);
  EXPECT_EQ(t.info, Info::RelatedReply) << t.why;
  EXPECT_EQ(state_bits(t.info), kStateRelated);
  EXPECT_EQ(t.entry, table.find(*packet_tuple(out, packet::parse_layout(out, packet::LinkType::Ethernet,
                                                                          packet::Context::IpStack)),
                                0));
  // from a router on the way: still to the client, still related
  EXPECT_EQ(r.in(ethernet(0x0800, ipv4(ip4(kIcmp, kRouter, kClient), unreach)), kSec).info, Info::RelatedReply);
  // sent to someone else than the connection's source: invalid
  Tracked wrong = r.in(ethernet(0x0800, ipv4(ip4(kIcmp, kServer, kRouter), unreach)), kSec);
  EXPECT_EQ(wrong.info, Info::None);
  // about a connection nobody has: invalid
  Bytes other = udp4(kClient, kServer, 40999, 53);
  Bytes unknown = {3, 3, 0, 0, 0, 0, 0, 0};
  unknown.insert(unknown.end(), other.begin() + 14, other.end());
  EXPECT_EQ(r.in(ethernet(0x0800, ipv4(ip4(kIcmp, kServer, kClient), unknown)), kSec).why,
            "icmp error for no known connection");
}

TEST(Conntrack, GenericProtocolsAndGre) {
  Table table;
  Driver r{table, {}};
  Bytes esp = ethernet(0x0800, ipv4(ip4(50, kClient, kServer), Bytes(16, 1)));
  Tracked t = r.pass(esp, 0);
  EXPECT_EQ(t.info, Info::New);
  EXPECT_EQ(t.entry->expires_ns, 600 * kSec);
  EXPECT_EQ(format_entry(*t.entry, 0),
            "unknown  50 600 src=10.0.0.1 dst=192.0.2.7 [UNREPLIED] src=192.0.2.7 dst=10.0.0.1 mark=0 use=1");
  Bytes gre = ethernet(0x0800, ipv4(ip4(47, kClient, kServer), Bytes{0, 0, 0x08, 0}));
  Bytes gre_back = ethernet(0x0800, ipv4(ip4(47, kServer, kClient), Bytes{0, 0, 0x08, 0}));
  EXPECT_EQ(r.pass(gre, 0).entry->expires_ns, 30 * kSec);
  r.pass(gre_back, 0);
  Tracked g = r.pass(gre, 0);
  EXPECT_EQ(g.entry->expires_ns, 180 * kSec);
  EXPECT_TRUE(g.entry->status & kAssured);
}

TEST(Conntrack, EntriesExpire) {
  Table table;
  Driver r{table, {}};
  Bytes out = udp4(kClient, kServer, 40000, 53);
  Tracked first = r.pass(out, 0);
  EXPECT_EQ(table.collect(29 * kSec), 0u);
  EXPECT_EQ(table.size(), 1u);
  // past its timeout the flow starts again
  Tracked again = r.in(out, 31 * kSec);
  EXPECT_EQ(again.info, Info::New);
  EXPECT_NE(again.entry, first.entry);
  EXPECT_EQ(table.size(), 0u);
  r.pass(out, 31 * kSec);
  EXPECT_EQ(table.collect(100 * kSec), 1u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(Conntrack, AFullTableDropsUnrepliedEntriesFirst) {
  Config config;
  config.max_entries = 2;
  Table table(config);
  Driver r{table, {}};
  // an assured stream
  r.pass(udp4(kClient, kServer, 1000, 53), 0);
  r.pass(udp4(kServer, kClient, 53, 1000), 0);
  r.pass(udp4(kClient, kServer, 1000, 53), 3 * kSec);
  // an unreplied one
  r.pass(udp4(kClient, kServer, 1001, 53), 3 * kSec);
  ASSERT_EQ(table.size(), 2u);
  // a third flow evicts the unreplied one
  Tracked third = r.pass(udp4(kClient, kServer, 1002, 53), 4 * kSec);
  EXPECT_FALSE(third.drop);
  EXPECT_EQ(table.size(), 2u);
  Bytes evicted = udp4(kClient, kServer, 1001, 53);
  EXPECT_FALSE(table.find(*packet_tuple(evicted, packet::parse_layout(evicted, packet::LinkType::Ethernet,
                                                                      packet::Context::IpStack)),
                          0));
  // with every entry assured, a new flow's packet is dropped
  r.pass(udp4(kServer, kClient, 53, 1002), 4 * kSec);
  r.pass(udp4(kClient, kServer, 1002, 53), 7 * kSec);
  Tracked fourth = r.in(udp4(kClient, kServer, 1003, 53), 7 * kSec);
  EXPECT_TRUE(fourth.drop);
  EXPECT_EQ(fourth.why, "table full, dropping packet");
  EXPECT_EQ(table.size(), 2u);
}

TEST(Conntrack, ZonesKeepFlowsApart) {
  Table table;
  Driver r{table, {}};
  Bytes out = udp4(kClient, kServer, 40000, 53);
  Tracked a = r.in(out, 0, TrackHook::Prerouting, 1);
  ASSERT_TRUE(table.confirm(a, 0));
  Tracked b = r.in(out, 0, TrackHook::Prerouting, 2);
  EXPECT_EQ(b.info, Info::New);
  ASSERT_TRUE(table.confirm(b, 0));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_NE(format_entry(*a.entry, 0).find("mark=0 zone=1 use=1"), std::string::npos);
}

TEST(Conntrack, TwoFirstPacketsOfOneFlowClashAtConfirmation) {
  Table table;
  Driver r{table, {}};
  Bytes out = udp4(kClient, kServer, 40000, 53);
  Tracked a = r.in(out, 0), b = r.in(out, 0);
  EXPECT_TRUE(table.confirm(a, 0));
  EXPECT_FALSE(table.confirm(b, 0));
  EXPECT_EQ(table.size(), 1u);
}

// What defragmentation lets through is tracked by its headers: a first
// fragment as its protocol, a later one (no transport header) not at all.
TEST(Conntrack, FragmentsThatReachTrackingAreReadByTheirHeaders) {
  Table table;
  Driver r{table, {}};
  Ip4 first = ip4(kUdp, kClient, kServer);
  first.frag = 0x2000;  // more fragments, offset 0
  EXPECT_EQ(r.in(ethernet(0x0800, ipv4(first, udp(1, 2, Bytes(16, 0)))), 0).info, Info::New);
  Ip4 later = ip4(kUdp, kClient, kServer);
  later.frag = 0x0003;  // offset 24 bytes
  Tracked t = r.in(ethernet(0x0800, ipv4(later, Bytes(16, 0))), 0);
  EXPECT_EQ(t.info, Info::None);
  EXPECT_EQ(t.why, "no transport header");
}

// SCTP: INIT, INIT ACK, COOKIE ECHO, COOKIE ACK make an association; a
// packet with a wrong verification tag is invalid; DATA cannot start one.
TEST(Conntrack, SctpAssociation) {
  Table table;
  Driver r{table, {}};
  auto chunk_init = [](uint32_t tag) {
    Bytes v(16, 0);
    for (int i = 0; i < 4; ++i) v[i] = static_cast<uint8_t>(tag >> (24 - 8 * i));
    return v;
  };
  auto packet = [&](bool from_client, uint32_t vtag, uint8_t type, Bytes value) {
    Bytes s = sctp(from_client ? 5000 : 80, from_client ? 80 : 5000, {{type, std::move(value)}});
    for (int i = 0; i < 4; ++i) s[4 + i] = static_cast<uint8_t>(vtag >> (24 - 8 * i));
    return ethernet(0x0800, ipv4(ip4(kSctp, from_client ? kClient : kServer, from_client ? kServer : kClient), s));
  };
  EXPECT_EQ(r.in(packet(true, 0, 0, Bytes(8, 1)), 0).why, "invalid chunk to start an association");
  Tracked init = r.pass(packet(true, 0, 1, chunk_init(0x1111)), 0);
  EXPECT_EQ(init.info, Info::New);
  EXPECT_EQ(init.entry->ext->sctp.state, SctpState::Closed);
  Tracked ack = r.pass(packet(false, 0x1111, 2, chunk_init(0x2222)), 0);
  EXPECT_EQ(ack.entry->ext->sctp.state, SctpState::CookieWait);
  EXPECT_EQ(r.pass(packet(true, 0x2222, 10, Bytes(8, 0)), 0).entry->ext->sctp.state, SctpState::CookieEchoed);
  Tracked est = r.pass(packet(false, 0x1111, 11, {}), 0);
  EXPECT_EQ(est.entry->ext->sctp.state, SctpState::Established);
  EXPECT_TRUE(est.entry->status & kAssured);
  EXPECT_EQ(format_entry(*est.entry, 0),
            "sctp     132 210 ESTABLISHED src=10.0.0.1 dst=192.0.2.7 sport=5000 dport=80 "
            "src=192.0.2.7 dst=10.0.0.1 sport=80 dport=5000 [ASSURED] mark=0 use=1");
  EXPECT_EQ(r.in(packet(true, 0x2222, 0, Bytes(8, 1)), 0).info, Info::Established);
  EXPECT_EQ(r.in(packet(true, 0x9999, 0, Bytes(8, 1)), 0).why, "verification tag check failed");
}

}  // namespace
}  // namespace nfx::conntrack
