// The element without devices: frames in through receive(), out through the
// sink. ARP and neighbour resolution (with the frames that wait for it), the
// local stack (ping, resets, port unreachable), forwarding with TTL and MAC
// rewrite, the stack's ICMP errors (no route, neighbour failure, TTL,
// fragmentation needed, parameter problem) and their rate limits, cutting
// for a small MTU, bridge mode, and reloads that keep the connection table.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <nfx/compiler.h>
#include <nfx/router.h>

#include <memory>
#include <string>

#include "../packet/frame_builder.h"
#include "../vm/harness.h"

namespace nfx::router {
namespace {

using namespace packet::testing;

constexpr uint64_t kSecond = 1'000'000'000;
const std::array<uint8_t, 6> kLanMac{0x02, 0, 0, 0, 0, 0x02};  // what frame_builder's frames are sent to
const std::array<uint8_t, 6> kWanMac{0x02, 0, 0, 0, 0, 0x03};
const Bytes kHostMac{0x02, 0, 0, 0, 0, 0x01};                   // and from
const Bytes kGatewayMac{0x02, 0x0a, 0, 0, 0, 0x01};

std::shared_ptr<vm::Interpreter> compile(const std::string& text) {
  std::shared_ptr<vm::Interpreter> vm = vmtest::compile(text);
  EXPECT_TRUE(vm != nullptr);
  return vm;
}

const char* kAcceptAll = "table ip t { chain f { type filter hook forward priority 0; policy accept; } }";

Prefix prefix(const char* text) {
  Prefix p;
  std::string error;
  EXPECT_TRUE(parse_prefix(text, p, error)) << error;
  return p;
}

std::array<uint8_t, 4> a4(const char* s) {
  std::array<uint8_t, 4> a{};
  inet_pton(AF_INET, s, a.data());
  return a;
}

Bytes arp(uint16_t op, const Bytes& sha, const char* sip, const Bytes& tha, const char* tip) {
  Bytes a{0, 1, 8, 0, 6, 4, 0, 0};
  put16(a, 6, op);
  a.insert(a.end(), sha.begin(), sha.end());
  auto s = a4(sip), t = a4(tip);
  a.insert(a.end(), s.begin(), s.end());
  a.insert(a.end(), tha.begin(), tha.end());
  a.insert(a.end(), t.begin(), t.end());
  Bytes f = ethernet(0x0806, a);
  return f;
}

Bytes ip_frame(const char* src, const char* dst, uint8_t proto, Bytes l4, uint8_t ttl = 64, uint16_t frag = 0) {
  Ip4 ip;
  ip.proto = proto;
  ip.src = a4(src);
  ip.dst = a4(dst);
  ip.ttl = ttl;
  ip.frag = frag;
  return ethernet(0x0800, ipv4(ip, std::move(l4)));
}

Bytes with_macs(Bytes f, const std::array<uint8_t, 6>& dst, const Bytes& src) {
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  return f;
}

struct Sent {
  uint32_t port;
  Bytes frame;
};

// A router between lan (port 0, 192.168.1.1/24) and wan (port 1,
// 203.0.113.2/24, default via 203.0.113.1).
struct Router {
  std::unique_ptr<Element> e;
  std::vector<Sent> sent;
  uint64_t now = 1000 * kSecond;

  explicit Router(const char* ruleset = kAcceptAll, uint32_t wan_mtu = 1500) {
    PortConfig lan{"lan0", {prefix("192.168.1.1/24"), prefix("fd00:1::1/64")}, kLanMac, 2, 1500};
    PortConfig wan{"wan0", {prefix("203.0.113.2/24")}, kWanMac, 3, wan_mtu};
    RouteConfig def;
    std::string error;
    EXPECT_TRUE(parse_route("default=203.0.113.1", def, error)) << error;
    e = std::make_unique<Element>(Mode::Router, std::vector<PortConfig>{lan, wan}, std::vector<RouteConfig>{def});
    e->set_ruleset(compile(ruleset));
  }
  Sink sink() {
    return [this](uint32_t port, std::span<const uint8_t> f) { sent.push_back({port, Bytes(f.begin(), f.end())}); };
  }
  std::vector<Sent> in(uint32_t port, const Bytes& f) {
    sent.clear();
    e->receive(port, f, now, sink());
    return sent;
  }
  std::vector<Sent> tick(uint64_t advance) {
    sent.clear();
    now += advance;
    e->tick(now, sink());
    return sent;
  }
  // The LAN host 192.168.1.10 (kHostMac) asks for the router's MAC: the
  // router learns the host from it.
  void lan_host_known() {
    auto out = in(0, arp(1, kHostMac, "192.168.1.10", Bytes(6, 0), "192.168.1.1"));
    ASSERT_EQ(out.size(), 1u);
  }
  // The WAN gateway answers the router's question.
  std::vector<Sent> wan_gateway_answers() {
    return in(1, with_macs(arp(2, kGatewayMac, "203.0.113.1", Bytes(kWanMac.begin(), kWanMac.end()), "203.0.113.2"),
                           kWanMac, kGatewayMac));
  }
};

bool is_arp_request_for(const Sent& s, uint32_t port, const char* target) {
  auto t = a4(target);
  return s.port == port && s.frame.size() >= 42 && get16(s.frame, 12) == 0x0806 && get16(s.frame, 20) == 1 &&
         std::equal(t.begin(), t.end(), s.frame.begin() + 38) &&
         std::all_of(s.frame.begin(), s.frame.begin() + 6, [](uint8_t b) { return b == 0xff; });
}

TEST(Element, AnswersArpForItsAddressAndIgnoresOthers) {
  Router r;
  auto out = r.in(0, arp(1, kHostMac, "192.168.1.10", Bytes(6, 0), "192.168.1.1"));
  ASSERT_EQ(out.size(), 1u);
  const Bytes& f = out[0].frame;
  EXPECT_EQ(out[0].port, 0u);
  EXPECT_TRUE(std::equal(kHostMac.begin(), kHostMac.end(), f.begin()));       // to the asker
  EXPECT_EQ(get16(f, 20), 2);                                                // a reply
  EXPECT_TRUE(std::equal(kLanMac.begin(), kLanMac.end(), f.begin() + 22));   // our MAC
  EXPECT_EQ(Bytes(f.begin() + 28, f.begin() + 32), Bytes({192, 168, 1, 1}));
  EXPECT_TRUE(r.in(0, arp(1, kHostMac, "192.168.1.10", Bytes(6, 0), "192.168.1.77")).empty());
  EXPECT_NE(r.e->neighbours(r.now).at(0).find("192.168.1.10 dev lan0 lladdr 02:00:00:00:00:01 REACHABLE"),
            std::string::npos);
}

TEST(Element, AnswersPingAfterResolvingTheSender) {
  Router r;
  Bytes echo = ip_frame("192.168.1.10", "192.168.1.1", kIcmp, icmp_echo(8));
  auto out = r.in(0, echo);
  ASSERT_EQ(out.size(), 1u);  // the reply waits: who is 192.168.1.10?
  EXPECT_TRUE(is_arp_request_for(out[0], 0, "192.168.1.10"));
  out = r.in(0, with_macs(arp(2, kHostMac, "192.168.1.10", Bytes(kLanMac.begin(), kLanMac.end()), "192.168.1.1"),
                          kLanMac, kHostMac));
  ASSERT_EQ(out.size(), 1u);
  const Bytes& f = out[0].frame;
  EXPECT_TRUE(std::equal(kHostMac.begin(), kHostMac.end(), f.begin()));
  EXPECT_EQ(f[14 + 9], kIcmp);
  EXPECT_EQ(Bytes(f.begin() + 26, f.begin() + 30), Bytes({192, 168, 1, 1}));  // from the address pinged
  EXPECT_EQ(f[34], 0);                                                         // echo reply
  EXPECT_EQ(ref_checksum(ref_sum(f.data() + 34, f.size() - 34)), 0);
}

TEST(Element, ClosedPortsAnswerResetAndPortUnreachable) {
  Router r;
  r.lan_host_known();
  auto out = r.in(0, ip_frame("192.168.1.10", "192.168.1.1", kTcp, tcp(40000, 22)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].frame[14 + 9], kTcp);
  EXPECT_EQ(out[0].frame[34 + 13] & 0x04, 0x04);  // RST
  out = r.in(0, ip_frame("192.168.1.10", "192.168.1.1", kUdp, udp(5000, 53)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].frame[34], 3);  // destination unreachable
  EXPECT_EQ(out[0].frame[35], 3);  // port
}

TEST(Element, ForwardsWithTtlAndNextHopResolution) {
  Router r;
  Bytes pkt = ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1000, 2000));
  auto out = r.in(0, pkt);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(is_arp_request_for(out[0], 1, "203.0.113.1"));  // the default gateway
  out = r.wan_gateway_answers();
  ASSERT_EQ(out.size(), 1u);  // the packet that waited
  const Bytes& f = out[0].frame;
  EXPECT_EQ(out[0].port, 1u);
  EXPECT_TRUE(std::equal(kGatewayMac.begin(), kGatewayMac.end(), f.begin()));
  EXPECT_TRUE(std::equal(kWanMac.begin(), kWanMac.end(), f.begin() + 6));
  EXPECT_EQ(f[14 + 8], 63);  // TTL
  EXPECT_EQ(ref_checksum(ref_sum(f.data() + 14, 20)), 0);
  EXPECT_EQ(Bytes(f.begin() + 26, f.end()), Bytes(pkt.begin() + 26, pkt.end()));  // addresses and payload
  out = r.in(0, pkt);  // known now: straight out
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 1u);
  EXPECT_EQ(r.e->stats().forwarded, 2u);
}

TEST(Element, TtlOneIsAnsweredWithTimeExceeded) {
  Router r;
  auto out = r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1000, 2000), 1));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 0u);
  EXPECT_EQ(out[0].frame[34], 11);
  EXPECT_EQ(Bytes(out[0].frame.begin() + 26, out[0].frame.begin() + 30), Bytes({192, 168, 1, 1}));
  EXPECT_EQ(r.e->stats().drops.at("ip_forward (ttl)"), 1u);
}

TEST(Element, IcmpErrorsAreRateLimitedPerDestinationAsTheKernelDoes) {
  Router r;
  size_t errors = 0;
  for (int i = 0; i < 20; ++i) errors += r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1000, 2000), 1)).size();
  EXPECT_EQ(errors, 6u);  // a burst of six, then one a second
  EXPECT_EQ(r.e->stats().icmp_limited_host, 14u);
  EXPECT_EQ(r.e->stats().drops.at("ip_forward (ttl)"), 20u);  // every packet is still dropped
  r.now += kSecond;
  EXPECT_EQ(r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1000, 2000), 1)).size(), 1u);
  EXPECT_EQ(r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1000, 2000), 1)).size(), 0u);
}

TEST(Element, RejectsOfIpChainsShareTheLimitButResetsDoNot) {
  Router r("table ip f { chain fwd { type filter hook forward priority 0; meta l4proto tcp reject with tcp reset; reject } }");
  size_t unreachables = 0, resets = 0;
  for (int i = 0; i < 20; ++i) {
    unreachables += r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1000, 2000))).size();
    resets += r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kTcp, tcp(40000, 80))).size();
  }
  EXPECT_EQ(unreachables, 6u);
  EXPECT_EQ(resets, 20u);
}

TEST(Element, NoRouteIsAnsweredWithNetUnreachable) {
  PortConfig lan{"lan0", {prefix("192.168.1.1/24")}, kLanMac, 2, 1500};
  PortConfig wan{"wan0", {prefix("203.0.113.2/24")}, kWanMac, 3, 1500};
  Element e(Mode::Router, {lan, wan}, {});
  e.set_ruleset(compile(kAcceptAll));
  std::vector<Sent> sent;
  e.receive(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1000, 2000)), kSecond,
            [&](uint32_t p, std::span<const uint8_t> f) { sent.push_back({p, Bytes(f.begin(), f.end())}); });
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].frame[34], 3);
  EXPECT_EQ(sent[0].frame[35], 0);  // network unreachable
}

TEST(Element, UnresolvedNeighbourGivesHostUnreachableAfterThreeProbes) {
  Router r;
  auto out = r.in(0, ip_frame("192.168.1.10", "203.0.113.50", kUdp, udp(1000, 2000)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(is_arp_request_for(out[0], 1, "203.0.113.50"));
  EXPECT_EQ(r.tick(kSecond / 2).size(), 0u);  // not yet time to ask again
  for (int probe = 2; probe <= 3; ++probe) {
    out = r.tick(kSecond);
    ASSERT_EQ(out.size(), 1u) << probe;
    EXPECT_TRUE(is_arp_request_for(out[0], 1, "203.0.113.50"));
  }
  out = r.tick(kSecond);
  ASSERT_EQ(out.size(), 1u);  // given up: the sender is told
  EXPECT_EQ(out[0].port, 0u);
  EXPECT_EQ(out[0].frame[34], 3);
  EXPECT_EQ(out[0].frame[35], 1);  // host unreachable
  EXPECT_EQ(Bytes(out[0].frame.begin(), out[0].frame.begin() + 12),
            cat({kHostMac, Bytes(kLanMac.begin(), kLanMac.end())}));
  EXPECT_EQ(r.e->stats().drops.at("neighbour unresolved"), 1u);
}

TEST(Element, TooBigWithDfIsRefusedAndWithoutDfIsCut) {
  Router r(kAcceptAll, 576);
  r.wan_gateway_answers();  // nothing asked: not learned
  Bytes big(1000, 'x');
  auto out = r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1, 2, big), 64, 0x4000));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 0u);
  EXPECT_EQ(out[0].frame[34], 3);
  EXPECT_EQ(out[0].frame[35], 4);            // fragmentation needed
  EXPECT_EQ(get16(out[0].frame, 34 + 6), 576);  // the next hop's MTU
  out = r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1, 2, big)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(is_arp_request_for(out[0], 1, "203.0.113.1"));
  out = r.wan_gateway_answers();
  ASSERT_EQ(out.size(), 2u);  // 1028 bytes of IP in pieces of at most 576
  uint32_t payload = 0;
  for (const Sent& s : out) {
    EXPECT_LE(s.frame.size() - 14, 576u);
    payload += get16(s.frame, 16) - 20u;
  }
  EXPECT_EQ(payload, 1008u);
  EXPECT_EQ(get16(out[0].frame, 20) & 0x2000, 0x2000);  // more fragments
}

// An IPv6 packet in an Ethernet frame from the LAN host's MAC to the
// router's: `l4` after the fixed header, whose Next Header is `next`
// (ICMPv6 bodies get their checksum).
Bytes ip6_frame(const char* src, const char* dst, uint8_t next, Bytes l4, uint8_t hops = 64) {
  uint8_t s6[16], d6[16];
  inet_pton(AF_INET6, src, s6);
  inet_pton(AF_INET6, dst, d6);
  Bytes ip6{0x60, 0, 0, 0, 0, 0, next, hops};
  put16(ip6, 4, static_cast<uint16_t>(l4.size()));
  ip6.insert(ip6.end(), s6, s6 + 16);
  ip6.insert(ip6.end(), d6, d6 + 16);
  if (next == kIcmp6) {
    uint32_t pseudo = ref_sum(ip6.data() + 8, 32);
    pseudo = ref_sum(Bytes{0, 0, 0, static_cast<uint8_t>(l4.size()), 0, 0, 0, kIcmp6}.data(), 8, pseudo);
    put16(l4, 2, ref_checksum(ref_sum(l4.data(), l4.size(), pseudo)));
  }
  ip6.insert(ip6.end(), l4.begin(), l4.end());
  return ethernet(0x86dd, ip6);
}

// The LAN host fd00:1::10 (kHostMac) asks for the router's MAC: a
// neighbour solicitation, to the solicited-node group.
Bytes solicitation_from_host() {
  Bytes ns{135, 0, 0, 0, 0, 0, 0, 0};
  uint8_t target[16];
  inet_pton(AF_INET6, "fd00:1::1", target);
  ns.insert(ns.end(), target, target + 16);
  ns.insert(ns.end(), {1, 1});
  ns.insert(ns.end(), kHostMac.begin(), kHostMac.end());
  Bytes f = ip6_frame("fd00:1::10", "ff02::1:ff00:1", kIcmp6, ns, 255);
  const Bytes mcast{0x33, 0x33, 0xff, 0, 0, 1};
  std::copy(mcast.begin(), mcast.end(), f.begin());
  return f;
}

TEST(Element, AnswersNeighbourSolicitationsForItsAddress) {
  Router r;
  uint8_t target[16];
  inet_pton(AF_INET6, "fd00:1::1", target);
  Bytes f = solicitation_from_host();
  auto out = r.in(0, f);
  ASSERT_EQ(out.size(), 1u);
  const Bytes& na = out[0].frame;
  EXPECT_TRUE(std::equal(kHostMac.begin(), kHostMac.end(), na.begin()));
  EXPECT_EQ(na[14 + 40], 136);           // neighbour advertisement
  EXPECT_EQ(na[14 + 40 + 4] & 0x40, 0x40);  // solicited
  EXPECT_TRUE(std::equal(target, target + 16, na.begin() + 14 + 48));
  EXPECT_TRUE(std::equal(kLanMac.begin(), kLanMac.end(), na.begin() + 14 + 66));  // our MAC in the option
}

TEST(Element, UnknownIpv6ProtocolIsAnsweredWithParameterProblem) {
  Router r;
  ASSERT_EQ(r.in(0, solicitation_from_host()).size(), 1u);  // the host is known
  // ip6_input_finish: no handler for protocol 253; the pointer names the
  // Next Header field: the fixed header's (6) or a destination option's (40)
  auto out = r.in(0, ip6_frame("fd00:1::10", "fd00:1::1", 253, Bytes(8, 0)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].frame[14 + 6], kIcmp6);
  EXPECT_EQ(out[0].frame[14 + 40], 4);  // parameter problem
  EXPECT_EQ(out[0].frame[14 + 41], 1);  // unknown next header
  EXPECT_EQ(get16(out[0].frame, 14 + 46), 6);
  out = r.in(0, ip6_frame("fd00:1::10", "fd00:1::1", 60, Bytes{253, 0, 1, 4, 0, 0, 0, 0, 1, 2, 3, 4}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].frame[14 + 40], 4);
  EXPECT_EQ(get16(out[0].frame, 14 + 46), 40);
  // no next header (59): nothing to answer
  EXPECT_EQ(r.in(0, ip6_frame("fd00:1::10", "fd00:1::1", 59, Bytes(8, 0))).size(), 0u);
}

TEST(Element, ReloadKeepsTheConnectionTable) {
  const char* tracked = "table ip t { chain f { type filter hook forward priority 0; policy drop; "
                        "ct state established accept; iif 2 accept } }";
  Router r(tracked);
  r.wan_gateway_answers();
  auto out = r.in(0, ip_frame("192.168.1.10", "198.51.100.7", kUdp, udp(1000, 2000)));
  out = r.wan_gateway_answers();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(r.e->ruleset()->conntrack().size(), 1u);
  r.e->set_ruleset(compile(tracked));
  EXPECT_EQ(r.e->ruleset()->conntrack().size(), 1u);
  r.lan_host_known();
  // the reply is established in the new ruleset's eyes
  out = r.in(1, with_macs(ip_frame("198.51.100.7", "192.168.1.10", kUdp, udp(2000, 1000)), kWanMac, kGatewayMac));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].port, 0u);
}

TEST(Element, BridgeCarriesFramesUnchangedThroughTheBridgeHooks) {
  PortConfig a{"bra", {}, kLanMac, 2, 1500}, b{"brb", {}, kWanMac, 3, 1500};
  Element e(Mode::Bridge, {a, b}, {});
  e.set_ruleset(compile("table bridge w { chain f { type filter hook forward priority 0; policy accept; "
                        "tcp dport 23 drop } }"));
  std::vector<Sent> sent;
  Sink sink = [&](uint32_t p, std::span<const uint8_t> f) { sent.push_back({p, Bytes(f.begin(), f.end())}); };
  Bytes ok = ip_frame("10.0.0.1", "10.0.0.2", kTcp, tcp(1000, 80));
  ok[0] = 0x02, ok[5] = 0x77;  // to another host: a bridge forwards it
  e.receive(0, ok, kSecond, sink);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].port, 1u);
  EXPECT_EQ(sent[0].frame, ok);
  sent.clear();
  Bytes telnet = ip_frame("10.0.0.1", "10.0.0.2", kTcp, tcp(1000, 23));
  e.receive(0, telnet, kSecond, sink);
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(e.stats().hooks.at("bridge forward"), 2u);
}

TEST(Element, BadConfigurationsAreRefused) {
  PortConfig lan{"lan0", {prefix("192.168.1.1/24")}, kLanMac, 2, 1500};
  RouteConfig off_link;
  std::string error;
  ASSERT_TRUE(parse_route("10.0.0.0/8=172.16.0.1", off_link, error));
  EXPECT_THROW(Element(Mode::Router, {lan}, {off_link}), std::invalid_argument);
  EXPECT_THROW(Element(Mode::Bridge, {lan}, {}), std::invalid_argument);
  EXPECT_FALSE(parse_route("default", off_link, error));
  EXPECT_FALSE(parse_route("10.0.0.0/33=10.0.0.1", off_link, error));
  EXPECT_FALSE(parse_route("default=fd00::1/64", off_link, error));
  Prefix p;
  EXPECT_FALSE(parse_prefix("300.1.1.1/24", p, error));
}

}  // namespace
}  // namespace nfx::router
