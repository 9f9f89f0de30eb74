#include "jit_gen.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace nfx::difftest {

namespace {

enum class L3 { None, Ip, Ip6, Arp };
enum class L4 { None, Tcp, Udp, Icmp, Icmpv6, Sctp };

using Strings = std::vector<std::string>;

std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

struct Table {
  std::string family, name;
  bool link_layer = false;  // bridge/netdev: ether, vlan, @ll
  int regular = 0;          // regular chains c0..c(regular-1)
  bool has_dyn = false;
};

struct Chain {
  std::string name, hook;  // hook "" for a regular chain
  int index = -1;          // regular chains jump only to higher indexes (no loops)
};

// One rule's context: the protocols its matches are about.
struct Ctx {
  L3 l3 = L3::None;
  L4 l4 = L4::None;
};

struct Gen {
  Random& r;
  pipeline::Path path;
  std::string out;
  const Table* t = nullptr;
  const Chain* c = nullptr;

  // ------------------------------------------------------------ values
  std::string v4() { return r.pick(Pools::ipv4_hosts); }
  std::string v6() { return r.pick(Pools::ipv6_hosts); }
  std::string port() { return std::to_string(r.pick(Pools::ports)); }
  std::string mac() { return r.chance(85) ? r.pick(Pools::host_macs) : r.pick(Pools::group_macs); }
  std::string v4_prefix() {
    static const Strings extra = {"10.0.0.0/30", "10.0.0.0/31", "10.0.0.1/32", "192.168.0.0/16", "128.0.0.0/1", "0.0.0.0/0",
                                  "10.0.0.0/7", "10.0.1.128/25"};
    return r.chance(60) ? r.pick(Pools::ipv4_prefixes) : r.pick(extra);
  }
  std::string v6_prefix() {
    static const Strings extra = {"2001:db8::/48", "2001:db8::/127", "2001:db8::1/128", "::/0", "2000::/3", "fd00::/7",
                                  "2001:db8:0:1::/65", "2a00:1450::/33"};
    return r.chance(60) ? r.pick(Pools::ipv6_prefixes) : r.pick(extra);
  }
  std::string cmp() {  // an ordering operator (or equality, most often)
    static const Strings ops = {"", "", "", "< ", "> ", "<= ", ">= "};
    return r.pick(ops);
  }
  std::string port_range() {
    uint64_t a = r.chance(50) ? r.pick(Pools::ports) : r.between(0, 3000);
    uint64_t b = std::min<uint64_t>(65535, a + r.between(0, r.chance(50) ? 100 : 40000));
    return fmt::format("{}-{}", a, b);
  }
  std::string small(uint64_t lo, uint64_t hi) { return std::to_string(r.between(lo, hi)); }
  std::string range(uint64_t lo, uint64_t hi) {
    uint64_t a = r.between(lo, hi), b = r.between(a, hi);
    return fmt::format("{}-{}", a, b);
  }

  // ------------------------------------------------------------ pure matches
  // A match the classifier can take (a compare, range or prefix on a header
  // field or meta key); `any` also allows the forms it cannot (!=, negated
  // ranges and prefixes, flag tests, sets), which end a run.
  std::string l3_match(L3 l3, bool names_protocol_ok, bool any) {
    if (l3 == L3::Ip) {
      switch (r.between(0, any ? 20 : 17)) {
        case 0: return "ip saddr " + v4();
        case 1: return "ip daddr " + v4();
        case 2: return "ip saddr " + v4_prefix();
        case 3: return "ip daddr " + v4_prefix();
        case 4: return "ip saddr 10.0.0.1-10.0.1.5";
        case 5: return fmt::format("ip ttl {}{}", cmp(), r.pick(Pools::ttls));
        case 6: return "ip ttl " + range(0, 255);
        case 7: return "ip dscp " + r.pick(Strings{"cs0", "cs1", "af11", "ef", "cs6"});
        case 8: return fmt::format("ip length {}{}", cmp(), r.pick(std::vector<int>{20, 40, 60, 84, 100, 300, 1500}));
        case 9: return "ip length " + range(20, 600);
        case 10: return "ip hdrlength " + small(5, 7);
        case 11: return names_protocol_ok ? "ip protocol " + r.pick(Strings{"tcp", "udp", "icmp", "sctp", "47", "0"})
                                          : "ip version 4";
        case 12: return "@nh,96,32 " + hex(r.pick(std::vector<uint64_t>{0x0a000001, 0x0a000002, 0xc0a80101, 0x08080808}));
        case 13: return "@nh,96,64 " + hex(r.pick(std::vector<uint64_t>{0x0a0000010a000002, 0x0a0000020a000001, 0xc0a80101cb007109}));
        case 14: return "@nh,96,24 " + hex(r.pick(std::vector<uint64_t>{0x0a0000, 0xc0a801, 0x0a0001}));
        case 15: return "@nh,64,16 " + hex(r.pick(std::vector<uint64_t>{0x4006, 0x4011, 0x8006, 0x4001}));
        case 16: return "@nh,96,48 " + hex(r.pick(std::vector<uint64_t>{0x0a0000010a00, 0xc0a80101c0a8}));
        case 17: return "ip saddr " + v4_prefix() + " ip daddr " + v4_prefix();
        case 18: return "ip saddr != " + r.pick(Strings{v4(), v4_prefix()});
        case 19: return "ip ttl != " + range(0, 255);
        default: return "ip frag-off & 0x1fff != 0";
      }
    }
    if (l3 == L3::Ip6) {
      switch (r.between(0, any ? 16 : 14)) {
        case 0: return "ip6 saddr " + v6();
        case 1: return "ip6 daddr " + v6();
        case 2: return "ip6 saddr " + v6_prefix();
        case 3: return "ip6 daddr " + v6_prefix();
        case 4: return fmt::format("ip6 hoplimit {}{}", cmp(), r.pick(Pools::ttls));
        case 5: return "ip6 hoplimit " + range(0, 255);
        case 6: return fmt::format("ip6 flowlabel {}", r.pick(std::vector<int>{0, 1, 1000, 0x12345}));
        case 7: return fmt::format("ip6 flowlabel {}{}", cmp(), r.pick(std::vector<int>{0, 1, 1000}));
        case 8: return "ip6 dscp " + r.pick(Strings{"cs0", "cs1", "af11", "ef"});
        case 9: return fmt::format("ip6 length {}{}", cmp(), r.pick(std::vector<int>{8, 20, 60, 200}));
        case 10: return names_protocol_ok ? "ip6 nexthdr " + r.pick(Strings{"tcp", "udp", "ipv6-icmp", "44", "0"})
                                          : "ip6 version 6";
        case 11: return "@nh,64,128 " + r.pick(Strings{"0x20010db8000000000000000000000001", "0x20010db8000000000000000000000002",
                                                      "0xfd000000000000000000000000000001"});
        case 12: return "@nh,64,32 " + hex(r.pick(std::vector<uint64_t>{0x20010db8, 0xfd000000, 0x2a001450}));
        case 13: return "ip6 saddr 2001:db8::1-2001:db8::ff";
        case 14: return "ip6 saddr " + v6_prefix() + " ip6 daddr " + v6();
        case 15: return "ip6 daddr != " + v6_prefix();
        default: return "ip6 hoplimit != " + range(0, 255);
      }
    }
    if (l3 == L3::Arp) {
      switch (r.between(0, 4)) {
        case 0: return "arp operation " + r.pick(Strings{"request", "reply"});
        case 1: return "arp htype 1";
        case 2: return "arp saddr ip " + v4();
        case 3: return "arp daddr ip " + v4_prefix();
        default: return "arp ptype 0x0800";
      }
    }
    return "";
  }

  std::string l4_match(L4 l4, bool any) {
    switch (l4) {
      case L4::Tcp:
        switch (r.between(0, any ? 14 : 11)) {
          case 0: case 1: return "tcp dport " + cmp() + port();
          case 2: return "tcp dport " + port_range();
          case 3: return "tcp sport " + cmp() + port();
          case 4: return "tcp sport " + port_range();
          case 5: return "tcp flags & (syn|ack) == " + r.pick(Strings{"syn", "ack", "syn|ack", "0"});
          case 6: return fmt::format("tcp window {}{}", cmp(), r.pick(std::vector<int>{0, 1024, 29200, 65535}));
          case 7: return "@th,16,16 " + port();
          case 8: return "@th,0,32 " + hex(r.pick(std::vector<uint64_t>{0x00160050, 0x04d20016, 0xc0000050}));
          case 9: return "@th,104,8 " + hex(r.pick(std::vector<uint64_t>{0x02, 0x12, 0x10, 0x04}));
          case 10: return fmt::format("tcp doff {}", r.between(5, 8));
          case 11:
            if (r.chance(30)) return "tcp dport 100-200 tcp dport 300-400";  // contradictory: never matches
            return "tcp dport " + port_range() + " tcp sport " + cmp() + port();
          case 12: return "tcp dport != " + port_range();
          case 13: return "tcp flags syn";
          default: return "tcp dport != " + port();
        }
      case L4::Udp:
        switch (r.between(0, any ? 6 : 5)) {
          case 0: case 1: return "udp dport " + cmp() + port();
          case 2: return "udp dport " + port_range();
          case 3: return "udp sport " + port_range();
          case 4: return fmt::format("udp length {}{}", cmp(), r.pick(std::vector<int>{8, 20, 100}));
          case 5: return "udp checksum 0";
          default: return "udp sport != " + port();
        }
      case L4::Icmp:
        return r.chance(60) ? "icmp type " + r.pick(Strings{"echo-request", "echo-reply", "destination-unreachable", "time-exceeded"})
                            : fmt::format("icmp code {}{}", cmp(), r.between(0, 3));
      case L4::Icmpv6:
        return r.chance(60) ? "icmpv6 type " + r.pick(Strings{"echo-request", "nd-neighbor-solicit", "echo-reply"})
                            : fmt::format("icmpv6 code {}{}", cmp(), r.between(0, 3));
      case L4::Sctp: return r.chance(60) ? "sctp dport " + port() : "sctp vtag " + cmp() + "0";
      case L4::None: return "";
    }
    return "";
  }

  std::string meta_match(const Ctx& x, bool any) {
    bool protocol_ok = x.l3 == L3::None && x.l4 == L4::None;
    switch (r.between(0, any ? 16 : 12)) {
      case 0: case 1: return "meta mark " + cmp() + hex(r.between(0, 7));
      case 2: return "meta mark " + range(0, 7);
      case 3: return "meta iif " + small(1, 3);
      case 4: return "meta oif " + small(0, 3);
      case 5: return fmt::format("meta length {}{}", cmp(), r.pick(std::vector<int>{42, 60, 64, 100, 200, 400, 1500}));
      case 6: return "meta length " + range(20, 600);
      case 7: return protocol_ok ? "meta l4proto " + r.pick(Strings{"tcp", "udp", "icmp", "ipv6-icmp", "sctp", "0"}) : "meta mark 0";
      case 8: return "meta iifname " + r.pick(Strings{"\"tap0\"", "\"tap1\"", "\"tap*\"", "\"eth0\""});
      case 9: return "meta oifname " + r.pick(Strings{"\"tap1\"", "\"tap*\"", "\"lo\""});
      case 10:
        if (protocol_ok && t->family == "inet") return "meta nfproto " + r.pick(Strings{"ipv4", "ipv6"});
        if (protocol_ok) return "meta protocol " + r.pick(Strings{"ip", "ip6", "arp", "vlan"});
        return "meta mark " + hex(r.between(0, 3));
      case 11: return "meta mark > 5 meta mark < 3";  // contradictory: never matches
      case 12: return "meta mark & 0xffff0000 == 0";
      case 13: return "meta mark != " + hex(r.between(0, 3));
      case 14: return "meta mark & 0x2 == 0x2";
      case 15: return "meta pkttype " + r.pick(Strings{"host", "broadcast", "multicast", "other"});
      default: return "meta iiftype ether";
    }
  }

  std::string link_match(const Ctx& x, bool any) {
    bool type_ok = x.l3 == L3::None && x.l4 == L4::None;
    switch (r.between(0, any ? 14 : 11)) {
      case 0: return "ether saddr " + mac();
      case 1: return "ether daddr " + mac();
      case 2: return type_ok ? "ether type " + r.pick(Strings{"ip", "ip6", "arp", "vlan", "8021ad"}) : "ether saddr " + mac();
      case 3: return type_ok ? fmt::format("vlan id {}{}", cmp(), r.pick(Pools::vlan_ids)) : "ether daddr " + mac();
      case 4: return type_ok ? "vlan id " + range(0, 4095) : "ether daddr " + mac();
      case 5: return type_ok ? fmt::format("vlan pcp {}", r.between(0, 7)) : "ether saddr " + mac();
      case 6: return "ether saddr & ff:ff:ff:00:00:00 == 02:00:00:00:00:00";
      case 7: return "@ll,0,48 " + hex(r.pick(std::vector<uint64_t>{0x0200000000aa, 0x0200000000bb, 0xffffffffffff}));
      case 8: return "@ll,96,16 " + hex(r.pick(std::vector<uint64_t>{0x0800, 0x86dd, 0x8100, 0x0806}));
      case 9: return "@ll,112,16 " + hex(r.pick(std::vector<uint64_t>{0x0064, 0x0005, 0x4500}));
      case 10: return "@ll,128,16 " + hex(r.pick(std::vector<uint64_t>{0x0800, 0x86dd, 0x0806, 0x0000}));  // the VLAN-rebuilt type
      case 11: return "@ll,48,48 " + hex(r.pick(std::vector<uint64_t>{0x0200000000aa, 0x0200000000cc, 0x0a1b2c3d4e5f}));
      case 12: return "ether saddr != " + mac();
      case 13: return "@ll,112,32 " + hex(r.pick(std::vector<uint64_t>{0x00640800, 0x450000ff}));
      default: return "@ll,0,8 & 0x1 == 0x1";
    }
  }

  Ctx pick_ctx() {
    Ctx x;
    Strings none;
    std::vector<L3> l3s;
    if (t->family == "ip") l3s = {L3::Ip};
    else if (t->family == "ip6") l3s = {L3::Ip6};
    else if (t->family == "arp") l3s = {L3::Arp};
    else if (t->family == "inet") l3s = {L3::None, L3::Ip, L3::Ip, L3::Ip6, L3::Ip6};
    else l3s = {L3::None, L3::None, L3::Ip, L3::Ip, L3::Ip6, L3::Arp};
    x.l3 = r.pick(l3s);
    std::vector<L4> l4s = {L4::None, L4::None};
    if (x.l3 == L3::Ip) l4s.insert(l4s.end(), {L4::Tcp, L4::Tcp, L4::Udp, L4::Icmp, L4::Sctp});
    if (x.l3 == L3::Ip6) l4s.insert(l4s.end(), {L4::Tcp, L4::Tcp, L4::Udp, L4::Icmpv6});
    if (x.l3 == L3::None && !t->link_layer && t->family != "arp") l4s.insert(l4s.end(), {L4::Tcp, L4::Udp});
    x.l4 = r.pick(l4s);
    return x;
  }

  // Up to `n` matches for the context, no two alike.
  Strings matches(const Ctx& x, int n, bool any) {
    Strings parts;
    std::set<std::string> seen;
    bool protocol_ok = x.l4 == L4::None;
    for (int i = 0; i < n; ++i) {
      std::string m;
      unsigned k = static_cast<unsigned>(r.between(0, 99));
      if (k < 20 || (x.l3 == L3::None && x.l4 == L4::None && !(t->link_layer && k < 50))) m = meta_match(x, any);
      else if (k < 35 && t->link_layer) m = link_match(x, any);
      else if (x.l4 != L4::None && k < 70) m = l4_match(x.l4, any);
      else if (x.l3 != L3::None) m = l3_match(x.l3, protocol_ok, any);
      else m = meta_match(x, any);
      // a VLAN selector and an ether type or meta protocol match conflict
      auto has = [&](const char* prefix) {
        return std::any_of(parts.begin(), parts.end(), [&](const std::string& q) { return q.rfind(prefix, 0) == 0; });
      };
      bool link_type = m.rfind("ether type", 0) == 0 || m.rfind("meta protocol", 0) == 0 || m.rfind("vlan ", 0) == 0;
      if (link_type && (has("ether type") || has("meta protocol") || has("vlan "))) m = "meta mark " + hex(r.between(0, 3));
      if (!m.empty() && seen.insert(m).second) parts.push_back(m);
    }
    // A rule about a transport protocol names it (or nft adds the dependency).
    if (x.l4 != L4::None && std::none_of(parts.begin(), parts.end(), [](const std::string& p) {
          return p.rfind("tcp", 0) == 0 || p.rfind("udp", 0) == 0 || p.rfind("icmp", 0) == 0 || p.rfind("sctp", 0) == 0 ||
                 p.rfind("@th", 0) == 0;
        }))
      parts.push_back(l4_match(x.l4, false));
    // `@th` loads need the protocol themselves (nft adds no dependency for raw loads).
    for (auto& p : parts)
      if (p.rfind("@th", 0) == 0) {
        std::string proto = x.l3 == L3::Ip ? "ip protocol tcp " : x.l3 == L3::Ip6 ? "ip6 nexthdr tcp " : "meta l4proto tcp ";
        p = proto + p;
      }
    // raw network loads need the network protocol (in bridge, netdev and inet tables)
    for (auto& p : parts)
      if (p.rfind("@nh", 0) == 0 && t->family != "ip" && t->family != "ip6") {
        std::string proto = t->family == "inet" ? (x.l3 == L3::Ip6 ? "meta nfproto ipv6 " : "meta nfproto ipv4 ")
                                                : (x.l3 == L3::Ip6 ? "ether type ip6 " : "ether type ip ");
        p = proto + p;
      }
    return parts;
  }

  std::string join(const Strings& parts) {
    std::string line;
    for (const auto& p : parts)
      if (!p.empty()) line += (line.empty() ? "" : " ") + p;
    return line;
  }

  void rule(const std::string& line) { out += "\t\t" + line + "\n"; }

  // ------------------------------------------------------------ verdicts
  std::string target() {
    int lo = c->hook.empty() ? c->index + 1 : 0;
    if (lo >= t->regular) return "";
    return fmt::format("c{}", r.between(static_cast<uint64_t>(lo), static_cast<uint64_t>(t->regular - 1)));
  }
  std::string element_verdict() {
    std::string tg = target();
    switch (r.between(0, 9)) {
      case 0: case 1: return "accept";
      case 2: case 3: return "drop";
      case 4: return "continue";
      case 5: case 6: return tg.empty() ? "accept" : "jump " + tg;
      case 7: return tg.empty() ? "drop" : "goto " + tg;
      case 8: return "return";
      default: return tg.empty() ? "continue" : "jump " + tg;
    }
  }

  // ------------------------------------------------------------ segments
  // A run of pure match rules ending in accept or drop, with counters: the
  // JIT's classifier.
  void classifier_run() {
    int n = static_cast<int>(r.chance(80) ? r.between(12, 18) : r.between(19, 40));
    unsigned accept_share = static_cast<unsigned>(r.between(50, 90));
    // Most runs stay in one protocol context, as real ones do.
    bool one_ctx = r.chance(60);
    Ctx fixed = pick_ctx();
    for (int i = 0; i < n; ++i) {
      Ctx x = one_ctx ? fixed : pick_ctx();
      Strings parts = matches(x, static_cast<int>(r.between(r.chance(10) ? 0 : 1, 3)), r.chance(4));
      if (r.chance(85)) parts.push_back("counter");
      if (r.chance(8)) parts.push_back(r.chance(50) ? "counter" : "counter name cnt0");
      parts.push_back(r.chance(accept_share) ? "accept" : "drop");
      rule(join(parts));
    }
  }

  // An address of the pools (or a random one) under a random prefix
  // length, its host bits cleared, as ClassBench rules have them.
  std::string v4_net() {
    uint32_t a = 0;
    if (r.chance(80)) {
      unsigned b[4];
      std::sscanf(v4().c_str(), "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]);
      a = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
    } else {
      a = static_cast<uint32_t>(r.between(0, 0xffffffff));
    }
    unsigned len = static_cast<unsigned>(r.chance(30) ? r.between(0, 32) : r.between(16, 32));
    if (len < 32) a &= len == 0 ? 0 : ~((1u << (32 - len)) - 1);
    return fmt::format("{}.{}.{}.{}/{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
  }
  std::string v6_net() {
    static const Strings nets = {"2001:db8::/32", "2001:db8::/48", "2001:db8::/64", "2001:db8::/126", "2001:db8::1/128",
                                 "2001:db8::2/128", "2001:db8:0:1::/64", "2001:db8:0:1::5/128", "2001:db8:ff::/48",
                                 "fd00::/8", "fd00::1/128", "2a00:1450::/32", "2a00:1450::200e/127", "::/0", "8000::/1"};
    return r.pick(nets);
  }
  std::string port_span() {
    uint64_t p = r.pick(Pools::ports);
    switch (r.between(0, 3)) {
      case 0: return std::to_string(p);
      case 1: return fmt::format("{}-{}", p, std::min<uint64_t>(65535, p + r.between(0, 1000)));
      case 2: return fmt::format("{}-{}", p > 1000 ? p - r.between(0, 1000) : 0, p);
      default: return r.chance(50) ? "1024-65535" : "0-1023";
    }
  }

  // A ClassBench-like run: hundreds of 5-tuple rules (address prefixes of
  // every length, protocols, port ranges), the classifier's real workload.
  void classbench_run() {
    bool v6 = t->family == "ip6" || (t->family != "ip" && r.chance(30));
    if (t->family == "arp") return;
    int n = static_cast<int>(r.between(60, 400));
    unsigned accept_share = static_cast<unsigned>(r.between(50, 95));
    for (int i = 0; i < n; ++i) {
      Strings parts;
      if (r.chance(75)) parts.push_back((v6 ? "ip6 saddr " + v6_net() : "ip saddr " + v4_net()));
      if (r.chance(75)) parts.push_back((v6 ? "ip6 daddr " + v6_net() : "ip daddr " + v4_net()));
      unsigned k = static_cast<unsigned>(r.between(0, 9));
      std::string proto = k < 4 ? "tcp" : k < 7 ? "udp" : k < 8 ? (v6 ? "ipv6-icmp" : "icmp") : "";
      if (proto == "tcp" || proto == "udp") {
        bool sport = r.chance(40), dport = r.chance(70);
        if (sport) parts.push_back(proto + " sport " + port_span());
        if (dport) parts.push_back(proto + " dport " + port_span());
        if (!sport && !dport) parts.push_back("meta l4proto " + proto);
      } else if (!proto.empty()) {
        parts.push_back("meta l4proto " + proto);
      }
      if (parts.empty()) parts.push_back(v6 ? "meta nfproto ipv6" : "meta nfproto ipv4");
      if (t->family != "inet" && parts[0].rfind("meta nfproto", 0) == 0) parts[0] = v6 ? "ip6 version 6" : "ip version 4";
      if (r.chance(60)) parts.push_back("counter");
      parts.push_back(r.chance(accept_share) ? "accept" : "drop");
      rule(join(parts));
    }
  }

  std::string v4_set() {
    switch (r.between(0, 7)) {
      case 7: return "@s4ic";
      case 0: return fmt::format("{{ {}, {} }}", v4(), v4());
      case 1: return fmt::format("{{ {}, {}, {} }}", v4(), v4_prefix(), v4());
      case 2: return "{ 10.0.0.0/24, 192.168.1.1-192.168.1.9, 8.8.8.8 }";
      case 3: return r.chance(50) ? "@s4" : "@s4i";
      case 4: return "@s4c";
      case 5: return "@dyn4";
      default: return fmt::format("{{ {} }}", v4_prefix());
    }
  }

  // A rule with a set lookup: exact, interval, concatenated, named, with
  // catch-all elements, negated.
  std::string set_rule(const Ctx& x) {
    std::string neg = r.chance(20) ? "!= " : "";
    std::string m;
    if (x.l3 == L3::Ip) {
      switch (r.between(0, 6)) {
        case 0: m = "ip saddr " + neg + v4_set(); break;
        case 1: m = "ip daddr " + neg + v4_set(); break;
        case 2: m = "ip saddr . ip daddr " + r.pick(Strings{"@pair4", "{ 10.0.0.0/24 . 192.168.1.0/24, 10.0.0.1 . 10.0.0.2 }"}); break;
        case 3: m = x.l4 == L4::None ? "ip protocol " + neg + "{ tcp, udp, 47 }" : "ip saddr " + neg + v4_set(); break;
        case 4: m = "ip ttl " + neg + r.pick(Strings{"{ 1-5, 64, 128-255 }", "{ 63, 64 }"}); break;
        case 5:
          if (x.l4 != L4::Tcp && x.l4 != L4::None) {
            m = "ip daddr " + neg + v4_set();
            break;
          }
          m = "ip saddr . tcp dport " + r.pick(Strings{"@svc4", "{ 10.0.0.1 . 22, 10.0.0.2 . 80, 8.8.8.8 . 53 }",
                                                              "{ 10.0.0.0/24 . 1-1024, 192.168.1.0/24 . 80 }"});
          break;
        default:
          m = r.chance(50) ? "ip dscp " + neg + "{ cs0, cs1, af11, ef }"
                           : "ip protocol tcp @nh,96,24 " + neg + "{ 0x0a0000-0x0a00ff, 0xc0a801 }";
          if (x.l4 != L4::None && x.l4 != L4::Tcp) m = "ip dscp " + neg + "{ cs0, cs1, af11, ef }";
          break;
      }
    } else if (x.l3 == L3::Ip6) {
      switch (r.between(0, 3)) {
        case 0: m = "ip6 saddr " + neg + fmt::format("{{ {}, {} }}", v6(), v6_prefix()); break;
        case 1: m = "ip6 daddr " + neg + fmt::format("{{ {}, {} }}", v6(), v6()); break;
        case 2: m = r.chance(50) ? "ip6 saddr " + neg + "@s6" : "ip6 flowlabel " + neg + "{ 0, 1-100, 1000 }"; break;
        default: m = x.l4 == L4::None ? "ip6 nexthdr " + neg + "{ tcp, udp, ipv6-icmp }" : "ip6 daddr " + neg + "@s6"; break;
      }
    } else if (x.l3 == L3::Arp) {
      m = "arp operation " + neg + "{ request, reply }";
    } else {
      switch (r.between(0, t->link_layer ? 5 : 3)) {
        case 0: m = "meta mark " + neg + r.pick(Strings{"{ 0x1, 0x3 }", "{ 0x1-0x2, 0x5 }", "@marks"}); break;
        case 1: m = x.l4 == L4::None ? "meta l4proto " + neg + "{ tcp, udp }" : "meta mark " + neg + "{ 0x0, 0x2 }"; break;
        case 2: m = "meta length " + neg + "{ 60-100, 1000-1500 }"; break;
        case 3: m = "meta iifname " + neg + "{ \"tap0\", \"lo\" }"; break;
        case 4: m = "ether saddr " + neg + r.pick(Strings{"@macs", "{ 02:00:00:00:00:aa, 02:00:00:00:00:cc }"}); break;
        default: m = "vlan id " + neg + "{ 1, 100-200, 4094 }"; break;
      }
    }
    if (x.l4 == L4::Tcp || x.l4 == L4::Udp) {
      const char* proto = x.l4 == L4::Tcp ? "tcp" : "udp";
      switch (r.between(0, 3)) {
        case 0: m += fmt::format(" {} dport {}{{ 22, 80, 1000-2000, 33434 }}", proto, neg); break;
        case 1: m += fmt::format(" {} dport @ports", proto); break;
        case 2: m += fmt::format(" {} sport {{ 53, 123, 443 }}", proto); break;
        default: break;
      }
    }
    return m;
  }

  std::string vmap_rule(const Ctx& x) {
    std::string elems;
    auto elem = [&](const std::string& key) { return key + " : " + element_verdict(); };
    auto catchall = [&]() { return r.chance(30) ? ", * : " + element_verdict() : std::string(); };
    switch (r.between(0, 8)) {
      case 0:
        if (x.l3 != L3::Ip) break;
        return fmt::format("ip saddr vmap {{ {}, {}, {}{} }}", elem(r.pick(Strings{"10.0.0.1", "10.0.0.2", "8.8.8.8", "203.0.113.9"})),
                           elem("10.0.1.0/24"), elem("192.168.1.254"), catchall());
      case 1:  // the named maps jump to c0 and c1: from base chains only (no loops)
        if (x.l3 != L3::Ip || c->hook.empty()) break;
        return r.chance(50) ? "ip saddr vmap @vm4" : "ip saddr vmap @vm4i";
      case 2:
        if (x.l4 != L4::Tcp && x.l4 != L4::Udp) break;
        return fmt::format("{} dport vmap {{ {}, {}, {}{} }}", x.l4 == L4::Tcp ? "tcp" : "udp", elem("22"), elem("80-443"),
                           elem("1000-2000"), catchall());
      case 3:
        if (x.l3 != L3::Ip || x.l4 != L4::Tcp) break;
        return fmt::format("ip saddr . tcp dport vmap {{ {}, {}{} }}", elem("10.0.0.1 . 22"), elem("10.0.0.2 . 80"), catchall());
      case 4:
        if (x.l4 == L4::Tcp && r.chance(50))  // a concatenation with ranges: the jit leaves it to the vm
          return fmt::format("numgen inc mod 4 . tcp dport vmap {{ {}, {}, {} }}", elem("0 . 1-1000"), elem("1 . 1-1000"),
                             elem("2-3 . 0-65535"));
        return fmt::format("numgen inc mod 3 vmap {{ {}, {}, {} }}", elem("0"), elem("1"), elem("2"));
      case 5: return fmt::format("meta mark vmap {{ {}, {}, {}{} }}", elem("0x0"), elem("0x1"), elem("0x2-0x4"), catchall());
      case 6:
        if (x.l3 != L3::Ip6) break;
        return fmt::format("ip6 saddr vmap {{ {}, {}{} }}", elem("2001:db8::/64"), elem("fd00::1"), catchall());
      case 7:
        if (x.l3 == L3::Ip && x.l4 == L4::None)
          return fmt::format("ip protocol vmap {{ {}, {}, {}{} }}", elem("tcp"), elem("udp"), elem("icmp"), catchall());
        if (t->link_layer && x.l3 == L3::None)
          return fmt::format("ether saddr vmap {{ {}, {}{} }}", elem("02:00:00:00:00:aa"), elem("0a:1b:2c:3d:4e:5f"), catchall());
        if (x.l3 == L3::Ip)
          return fmt::format("ip dscp vmap {{ {}, {} }} counter", elem("cs0"), elem("cs1"));  // a statement after it
        break;
      default: break;
    }
    return fmt::format("meta l4proto vmap {{ {}, {}, {}{} }}", elem("tcp"), elem("udp"), elem("icmp"), catchall());
  }

  std::string mangle(const Ctx& x) {
    Strings v = {"meta mark set " + hex(r.between(0, 7)), "meta mark set meta mark | 0x4", "meta mark set numgen inc mod 5"};
    if (x.l3 == L3::Ip) {
      v.push_back(fmt::format("ip ttl set {}", r.pick(Pools::ttls)));
      v.push_back("ip dscp set " + r.pick(Strings{"cs1", "ef", "af11"}));
      v.push_back("ip saddr set " + v4());
      v.push_back("meta mark set ip saddr map @mark4");
      v.push_back("meta mark set jhash ip saddr . ip daddr mod 4 seed 0x" + fmt::format("{:x}", r.between(0, 0xffff)));
    }
    if (x.l3 == L3::Ip6) v.push_back(fmt::format("ip6 hoplimit set {}", r.pick(Pools::ttls)));
    if (x.l4 == L4::Tcp) v.push_back("tcp dport set " + port());
    if (x.l4 == L4::Udp) v.push_back("udp sport set " + port());
    return r.pick(v);
  }

  std::string stateful(const Ctx& x) {
    switch (r.between(0, 8)) {
      case 0: return fmt::format("quota {}{} bytes", r.chance(50) ? "over " : "", r.between(100, 20000));
      case 1: return fmt::format("limit rate {}{}/second burst {} packets", r.chance(50) ? "over " : "", r.between(1, 10), r.between(1, 20));
      case 2: return "log prefix \"jit \"";
      case 3: return x.l3 == L3::Ip && t->has_dyn ? "add @dyn4 { ip saddr }" : "counter";
      case 4: return "counter name cnt0";
      case 5: return fmt::format("meta mark set numgen inc mod {}", r.between(2, 5));
      case 6: return r.chance(50) ? "meta random < 0x80000000 counter" : "meta mark set numgen random mod 4";
      default: return "counter";
    }
  }

  // Rules the classifier does not take, a few in a row.
  void mixed_rules() {
    int n = static_cast<int>(r.between(1, 5));
    for (int i = 0; i < n; ++i) {
      Ctx x = pick_ctx();
      Strings parts;
      unsigned k = static_cast<unsigned>(r.between(0, 99));
      if (k < 25) {
        parts.push_back(set_rule(x));
        for (auto& m : matches(x, static_cast<int>(r.between(0, 1)), true)) parts.push_back(m);
        if (r.chance(70)) parts.push_back("counter");
        std::string tg = target();
        unsigned v = static_cast<unsigned>(r.between(0, 9));
        if (v < 3) parts.push_back("accept");
        else if (v < 5) parts.push_back("drop");
        else if (v < 7 && !tg.empty()) parts.push_back("jump " + tg);
        else if (v < 8 && !tg.empty()) parts.push_back("goto " + tg);
      } else if (k < 45) {
        parts = matches(x, static_cast<int>(r.between(0, 2)), true);
        if (r.chance(60)) parts.push_back("counter");
        parts.push_back(vmap_rule(x));
      } else if (k < 65) {
        parts = matches(x, static_cast<int>(r.between(0, 2)), true);
        if (r.chance(60)) parts.push_back("counter");
        std::string tg = target();
        if (tg.empty()) parts.push_back(c->hook.empty() ? "return" : "accept");
        else parts.push_back(r.pick(Strings{"jump ", "jump ", "goto "}) + tg);
      } else if (k < 75 && c->hook.empty()) {
        parts = matches(x, static_cast<int>(r.between(1, 2)), true);
        if (r.chance(60)) parts.push_back("counter");
        parts.push_back("return");
      } else if (k < 88) {
        parts = matches(x, static_cast<int>(r.between(0, 2)), true);
        if (r.chance(50)) parts.push_back("counter");
        parts.push_back(mangle(x));
      } else {
        parts = matches(x, static_cast<int>(r.between(0, 2)), true);
        parts.push_back(stateful(x));
        if (r.chance(30)) parts.push_back(r.pick(Strings{"accept", "drop", "continue"}));
        else if (std::string rej = reject(x); !rej.empty() && r.chance(25)) parts.push_back(rej);
      }
      if (parts.empty()) parts.push_back("counter");
      rule(join(parts));
    }
  }

  // A reject where nfx (and the kernel) has one: ip/ip6/inet base chains at
  // prerouting, input, forward and output, netdev at ingress; a rule about IP.
  std::string reject(const Ctx& x) {
    bool routed = t->family == "ip" || t->family == "ip6" || t->family == "inet";
    bool hook_ok = routed ? (c->hook == "prerouting" || c->hook == "input" || c->hook == "forward" || c->hook == "output")
                          : (t->family == "netdev" && c->hook == "ingress");
    if (!hook_ok || (x.l3 != L3::Ip && x.l3 != L3::Ip6)) return "";
    Strings v = {"reject"};
    if (x.l4 == L4::Tcp) v.push_back("reject with tcp reset");
    if (t->family == "inet" || t->family == "netdev") v.push_back("reject with icmpx type admin-prohibited");
    if (x.l3 == L3::Ip && t->family != "ip6") v.push_back("reject with icmp type host-unreachable");
    if (x.l3 == L3::Ip6 && t->family != "ip") v.push_back("reject with icmpv6 type no-route");
    return r.pick(v);
  }

  void chain_body() {
    // A chain is a classifier run or a few other rules, one after the
    // other. One chain in eight is long (over the JIT's 64-rule functions):
    // many segments, and stretches of plain rules with counters and no
    // verdict that the classifier does not take.
    bool long_chain = r.chance(12);
    int segments = static_cast<int>(long_chain ? r.between(5, 12) : r.between(1, c->hook.empty() ? 2 : 3));
    for (int s = 0; s < segments; ++s) {
      if (long_chain && r.chance(30)) {
        int n = static_cast<int>(r.between(10, 40));
        for (int i = 0; i < n; ++i) {
          Ctx x = pick_ctx();
          Strings parts = matches(x, static_cast<int>(r.between(1, 2)), true);
          parts.push_back("counter");
          rule(join(parts));
        }
      } else if (r.chance(35)) {
        if (r.chance(12)) classbench_run();
        else classifier_run();
      } else {
        mixed_rules();
      }
    }
  }

  void sets() {
    out += "\tset s4 { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.77, 192.168.1.1, 203.0.113.9 } }\n";
    out += "\tset s4i { type ipv4_addr; flags interval; elements = { 10.0.0.0/28, 10.0.1.5-10.0.1.9, 8.8.8.8 } }\n";
    out += "\tset s4c { type ipv4_addr; elements = { 10.0.0.2, * } }\n";
    out += "\tset s4ic { type ipv4_addr; flags interval; elements = { 10.0.0.0/24, 192.168.1.1, * } }\n";
    out += "\tset s6 { type ipv6_addr; flags interval; elements = { 2001:db8::/64, fd00::1, 2a00:1450::/32 } }\n";
    out += "\tset ports { type inet_service; flags interval; elements = { 22, 80, 1000-2000, 33434 } }\n";
    out += "\tset pair4 { type ipv4_addr . ipv4_addr; flags interval; elements = { 10.0.0.0/24 . 192.168.1.0/24, 8.8.8.8 . 0.0.0.0/0 } }\n";
    out += "\tset svc4 { type ipv4_addr . inet_service; elements = { 10.0.0.1 . 22, 10.0.0.2 . 80, 192.168.1.1 . 443 } }\n";
    out += "\tset marks { type mark; flags interval; elements = { 0x1, 0x3-0x5 } }\n";
    out += "\tset dyn4 { type ipv4_addr; size 65535; flags dynamic; }\n";
    out += "\tmap mark4 { type ipv4_addr : mark; flags interval; elements = { 10.0.0.0/24 : 0x1, 192.168.1.1 : 0x2 } }\n";
    if (t->link_layer) out += "\tset macs { type ether_addr; elements = { 02:00:00:00:00:aa, 0a:1b:2c:3d:4e:5f } }\n";
    // verdict maps whose chains exist
    std::string j0 = t->regular > 0 ? "jump c0" : "accept", g1 = t->regular > 1 ? "goto c1" : "drop";
    out += fmt::format("\tmap vm4 {{ type ipv4_addr : verdict; elements = {{ 10.0.0.1 : {}, 10.0.0.2 : drop, 8.8.8.8 : continue, "
                       "192.168.1.1 : {}, * : {} }} }}\n",
                       j0, g1, r.pick(Strings{"accept", "continue", "drop", "return"}));
    out += fmt::format("\tmap vm4i {{ type ipv4_addr : verdict; flags interval; elements = {{ 10.0.0.0/25 : {}, 10.0.1.0/24 : {}, "
                       "172.16.0.0/12 : continue, 203.0.113.0/28 : drop }} }}\n",
                       j0, g1);
    out += "\tcounter cnt0 { }\n";
  }

  void table(const Table& spec, const std::vector<std::pair<std::string, std::string>>& base) {
    t = &spec;
    out += fmt::format("table {} {} {{\n", spec.family, spec.name);
    if (spec.family != "arp") sets();
    else out += "\tcounter cnt0 { }\n";
    std::vector<Chain> chains;
    for (const auto& [name, hook] : base) chains.push_back({name, hook, -1});
    for (int i = 0; i < spec.regular; ++i) chains.push_back({fmt::format("c{}", i), "", i});
    for (const Chain& ch : chains) {
      c = &ch;
      out += fmt::format("\tchain {} {{\n", ch.name);
      if (!ch.hook.empty()) {
        static const std::vector<int> prios = {-300, -150, -10, 0, 0, 10, 100};
        std::string dev = ch.hook == "ingress" ? " device \"tap0\"" : ch.hook == "egress" ? " device \"tap1\"" : "";
        out += fmt::format("\t\ttype filter hook {}{} priority {}; policy {};\n", ch.hook, dev, r.pick(prios),
                           r.chance(90) ? "accept" : "drop");
      }
      chain_body();
      out += "\t}\n";
    }
    out += "}\n";
  }

  Table spec(const std::string& family, const std::string& name) {
    Table s{family, name, family == "bridge" || family == "netdev", static_cast<int>(r.between(0, 3)), false};
    s.has_dyn = family != "arp";
    return s;
  }
};

}  // namespace

std::string random_jit_ruleset(Random& r, pipeline::Path path) {
  Gen g{r, path, {}};
  using P = pipeline::Path;
  bool receives = path != P::Output, sends = path != P::Input;
  if (r.chance(40)) {
    std::vector<std::pair<std::string, std::string>> hooks;
    if (receives) hooks.push_back({"cing", "ingress"});
    if (sends && r.chance(60)) hooks.push_back({"ceg", "egress"});
    if (!hooks.empty()) g.table(g.spec("netdev", "nd"), hooks);
  }
  if (path == P::Bridge) {
    g.table(g.spec("bridge", "t"), {{"cpre", "prerouting"}, {"cfwd", "forward"}, {"cpost", "postrouting"}});
    if (r.chance(30)) g.table(g.spec("bridge", "t2"), {{"cfwd", "forward"}});
    return g.out;
  }
  std::vector<std::pair<std::string, std::string>> hooks;
  std::string own = path == P::Input ? "input" : path == P::Forward ? "forward" : "output";
  if (receives) hooks.push_back({"cpre", "prerouting"});
  hooks.push_back({"c" + own, own});
  if (sends) hooks.push_back({"cpost", "postrouting"});
  g.table(g.spec("inet", "t"), hooks);
  if (r.chance(40)) g.table(g.spec("ip", "t4"), {{"cx", own}});
  if (r.chance(30)) g.table(g.spec("ip6", "t6"), {{"cx", sends ? "postrouting" : own}});
  if (path != P::Forward && r.chance(25)) g.table(g.spec("arp", "a"), {{"cx", path == P::Input ? "input" : "output"}});
  return g.out;
}

std::string output_hooks(std::string text) {
  for (const char* from : {"hook forward ", "hook prerouting "}) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at))
      text.replace(at, std::string(from).size(), "hook output ");
  }
  return text;
}

}  // namespace nfx::difftest
