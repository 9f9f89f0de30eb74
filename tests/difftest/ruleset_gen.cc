#include "ruleset_gen.h"

#include <fmt/format.h>

#include <functional>
#include <set>

namespace nfx::difftest {

namespace {

enum class L3 { None, Ip, Ip6, Arp };
enum class L4 { None, Tcp, Udp, Icmp, Icmpv6, Sctp, Udplite, Dccp, Esp, Igmp, Th };

struct TableSpec {
  std::string family, name;
  bool link_layer = false;  // bridge/netdev: ether, vlan, arp, @ll
};

struct ChainSpec {
  std::string name, hook;  // hook "" for a regular chain
  int index = 0;           // regular chains may only jump to higher indexes
};

std::string op(Random& r) {
  static const std::vector<std::string> ops = {"", "", "", "!= ", "< ", "> ", "<= ", ">= "};
  return r.pick(ops);
}
std::string eq_or_ne(Random& r) { return r.chance(80) ? "" : "!= "; }
std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

std::string port(Random& r) { return std::to_string(r.pick(Pools::ports)); }
std::string ports_rhs(Random& r) {
  switch (r.between(0, 4)) {
    case 0: return eq_or_ne(r) + fmt::format("{{ {}, {}, {} }}", port(r), port(r) == "22" ? "23" : "22", "443");
    case 1: {
      uint64_t a = r.between(0, 2000), b = a + r.between(0, 40000);
      return eq_or_ne(r) + fmt::format("{}-{}", a, std::min<uint64_t>(b, 65535));
    }
    case 2: return "@ports";
    default: return op(r) + port(r);
  }
}
std::string v4_rhs(Random& r) {
  switch (r.between(0, 4)) {
    case 0: return eq_or_ne(r) + r.pick(Pools::ipv4_prefixes);
    case 1: return fmt::format("{{ {}, {} }}", r.pick(Pools::ipv4_hosts), r.pick(Pools::ipv4_prefixes));
    case 2: return r.chance(70) ? "@a4" : "!= @a4";
    case 3: return "10.0.0.1-10.0.1.5";
    default: return eq_or_ne(r) + r.pick(Pools::ipv4_hosts);
  }
}
std::string v6_rhs(Random& r) {
  switch (r.between(0, 3)) {
    case 0: return eq_or_ne(r) + r.pick(Pools::ipv6_prefixes);
    case 1: return fmt::format("{{ {}, {} }}", r.pick(Pools::ipv6_hosts), r.pick(Pools::ipv6_prefixes));
    case 2: return r.chance(70) ? "@a6" : "!= @a6";
    default: return eq_or_ne(r) + r.pick(Pools::ipv6_hosts);
  }
}
std::string dscp(Random& r) {
  static const std::vector<std::string> v = {"cs0", "cs1", "af11", "af21", "ef", "cs6", "0x0a"};
  return r.pick(v);
}
std::string mac(Random& r) { return r.chance(80) ? r.pick(Pools::host_macs) : r.pick(Pools::group_macs); }

struct Gen {
  Random& r;
  Path path;
  std::string out;

  // A match on the link layer (bridge/netdev tables only).
  std::string link_match() {
    switch (r.between(0, 9)) {
      case 0: return "ether saddr " + eq_or_ne(r) + mac(r);
      case 1: return fmt::format("ether daddr {{ {}, {} }}", mac(r), mac(r));
      case 2: return "ether type " + eq_or_ne(r) + r.pick(std::vector<std::string>{"ip", "ip6", "arp", "vlan", "8021ad"});
      case 3: return "ether saddr @macs";
      case 4: return fmt::format("vlan id {}{}", op(r), r.pick(Pools::vlan_ids));
      case 5: return fmt::format("vlan pcp {}", r.between(0, 7));
      case 6: return "@ll,0,8 & 0x1 == " + std::to_string(r.between(0, 1));
      case 7: return "@ll,96,16 " + hex(r.pick(std::vector<uint64_t>{0x0800, 0x86dd, 0x8100, 0x0806}));
      case 8: return fmt::format("vlan type {}", r.pick(std::vector<std::string>{"ip", "ip6", "arp", "vlan"}));
      default: return "meta protocol " + eq_or_ne(r) + r.pick(std::vector<std::string>{"ip", "ip6", "arp", "vlan"});
    }
  }

  std::string meta_match(bool inet) {
    switch (r.between(0, 7)) {
      case 0: return fmt::format("meta length {}{}", op(r), r.pick(std::vector<int>{60, 64, 100, 200, 400}));
      case 1: return "meta mark " + op(r) + hex(r.between(0, 3));
      case 2: return "meta mark & 0x2 == 0x2";
      case 3: return "meta iifname " + eq_or_ne(r) + r.pick(std::vector<std::string>{"\"tap0\"", "\"tap*\"", "\"eth0\""});
      case 4: return "meta pkttype " + eq_or_ne(r) + r.pick(std::vector<std::string>{"host", "broadcast", "multicast", "other"});
      case 5: return "meta l4proto " + eq_or_ne(r) + r.pick(std::vector<std::string>{"tcp", "udp", "icmp", "ipv6-icmp", "sctp", "{ tcp, udp }"});
      case 6: return inet ? "meta nfproto " + r.pick(std::vector<std::string>{"ipv4", "ipv6"}) : "meta mark 0x0";
      default: return "meta oifname " + eq_or_ne(r) + r.pick(std::vector<std::string>{"\"tap1\"", "\"tap0\"", "\"lo\""});
    }
  }

  std::string ip_match() {
    switch (r.between(0, 11)) {
      case 0: return "ip saddr " + v4_rhs(r);
      case 1: return "ip daddr " + v4_rhs(r);
      case 2: return "ip protocol " + eq_or_ne(r) + r.pick(std::vector<std::string>{"tcp", "udp", "icmp", "sctp", "{ tcp, udp }", "47"});
      case 3: return fmt::format("ip ttl {}{}", op(r), r.pick(Pools::ttls));
      case 4: return "ip dscp " + eq_or_ne(r) + dscp(r);
      case 5: return "ip ecn " + r.pick(std::vector<std::string>{"not-ect", "ect1", "ect0", "ce"});
      case 6: return fmt::format("ip length {}{}", op(r), r.pick(std::vector<int>{40, 60, 100, 300}));
      case 7: return "ip frag-off & 0x1fff " + r.pick(std::vector<std::string>{"!= 0", "0"});
      case 8: return fmt::format("ip hdrlength {}{}", op(r), r.between(4, 7));
      case 9: return "ip saddr . ip daddr @pair4";
      case 10: return "@nh,64,8 " + op(r) + std::to_string(r.pick(Pools::ttls));
      default: return "ip version " + std::to_string(r.chance(80) ? 4 : 6);
    }
  }

  std::string ip6_match() {
    switch (r.between(0, 9)) {
      case 0: return "ip6 saddr " + v6_rhs(r);
      case 1: return "ip6 daddr " + v6_rhs(r);
      case 2: return "ip6 nexthdr " + eq_or_ne(r) + r.pick(std::vector<std::string>{"tcp", "udp", "ipv6-icmp", "hopopts", "{ tcp, udp }", "44"});
      case 3: return fmt::format("ip6 hoplimit {}{}", op(r), r.pick(Pools::ttls));
      case 4: return "ip6 dscp " + eq_or_ne(r) + dscp(r);
      case 5: return fmt::format("ip6 flowlabel {}{}", op(r), r.pick(std::vector<int>{0, 1, 1000}));
      case 6: return "exthdr " + r.pick(std::vector<std::string>{"hbh", "frag", "rt", "dst"}) + " " +
                     r.pick(std::vector<std::string>{"exists", "missing"});
      case 7: return "frag more-fragments " + std::to_string(r.between(0, 1));
      case 8: return fmt::format("ip6 length {}{}", op(r), r.pick(std::vector<int>{8, 20, 60, 200}));
      default: return "rt type " + std::to_string(r.between(0, 4));
    }
  }

  std::string arp_match() {
    switch (r.between(0, 3)) {
      case 0: return "arp operation " + r.pick(std::vector<std::string>{"request", "reply", "{ request, reply }"});
      case 1: return "arp htype 1";
      case 2: return "arp saddr ip " + v4_rhs(r).substr(0, 0) + r.pick(Pools::ipv4_hosts);
      default: return "arp daddr ip 198.18.0.1";
    }
  }

  std::string l4_match(L4 l4) {
    switch (l4) {
      case L4::Tcp:
        switch (r.between(0, 10)) {
          case 0: return "tcp dport " + ports_rhs(r);
          case 1: return "tcp sport " + ports_rhs(r);
          case 2: return "tcp flags " + r.pick(std::vector<std::string>{"syn", "syn,ack", "rst", "fin"});
          case 3: return "tcp flags & (syn|ack) == " + r.pick(std::vector<std::string>{"syn", "ack", "syn|ack", "0"});
          case 4: return "tcp flags " + r.pick(std::vector<std::string>{"!= syn", "== 0x12", "& (fin|rst) != 0"});
          case 5: return fmt::format("tcp window {}{}", op(r), r.pick(std::vector<int>{0, 1024, 29200}));
          case 6: return "tcp option " + r.pick(std::vector<std::string>{"maxseg", "sack-perm", "timestamp", "window", "sack"}) +
                         " " + r.pick(std::vector<std::string>{"exists", "missing"});
          case 7: return "tcp option maxseg size " + op(r) + "1460";
          case 8: return fmt::format("tcp doff {}{}", op(r), r.between(5, 8));
          case 9: return "ip saddr . tcp dport @svc4";
          default: return "tcp sequence " + std::to_string(r.chance(50) ? 0 : 1);
        }
      case L4::Udp:
        switch (r.between(0, 3)) {
          case 0: return "udp dport " + ports_rhs(r);
          case 1: return "udp sport " + ports_rhs(r);
          case 2: return fmt::format("udp length {}{}", op(r), r.pick(std::vector<int>{8, 20, 100}));
          default: return "udp checksum " + std::string(r.chance(50) ? "0" : "!= 0");
        }
      case L4::Udplite: return r.chance(50) ? "udplite dport " + ports_rhs(r) : "udplite csumcov 0";
      case L4::Icmp:
        switch (r.between(0, 2)) {
          case 0: return "icmp type " + eq_or_ne(r) + r.pick(std::vector<std::string>{"echo-request", "echo-reply", "{ destination-unreachable, time-exceeded }"});
          case 1: return "icmp code " + op(r) + std::to_string(r.between(0, 3));
          default: return "icmp id 0x1234";
        }
      case L4::Icmpv6:
        switch (r.between(0, 2)) {
          case 0: return "icmpv6 type " + eq_or_ne(r) + r.pick(std::vector<std::string>{"echo-request", "nd-neighbor-solicit", "{ mld-listener-query, nd-router-advert }"});
          case 1: return "icmpv6 code " + op(r) + std::to_string(r.between(0, 3));
          default: return "icmpv6 id 0x1234";
        }
      case L4::Sctp:
        switch (r.between(0, 2)) {
          case 0: return "sctp dport " + ports_rhs(r);
          case 1: return "sctp chunk " + r.pick(std::vector<std::string>{"init", "data", "abort", "heartbeat"}) + " exists";
          default: return "sctp vtag " + op(r) + "0";
        }
      case L4::Dccp: return r.chance(50) ? "dccp dport " + ports_rhs(r) : "dccp type " + r.pick(std::vector<std::string>{"request", "response", "data"});
      case L4::Esp: return "esp spi " + op(r) + "0x100";
      case L4::Igmp: return "igmp type " + r.pick(std::vector<std::string>{"membership-query", "membership-report-v2"});
      case L4::Th: return "meta l4proto { tcp, udp } th dport " + ports_rhs(r);
      case L4::None: return "";
    }
    return "";
  }

  // Whether rewriting the destination here leaves the packet's path alone:
  // the kernel routes after prerouting, on the rewritten address, while nfx
  // eval takes the path as given (a named difference, see README.md). Regular
  // chains may be reached from prerouting.
  bool keeps_route(const ChainSpec& c) const {
    return path == Path::Bridge || c.hook == "forward" || c.hook == "postrouting" || c.hook == "input" ||
           c.hook == "egress";
  }

  // Rewrites, each valid in the context.
  std::string mangle(L3 l3, L4 l4, const ChainSpec& c, bool link_layer) {
    std::vector<std::string> v = {"meta mark set " + hex(r.between(0, 3)), "meta mark set meta mark | 0x4"};
    if (l3 == L3::Ip) {
      v.push_back(fmt::format("ip ttl set {}", r.pick(Pools::ttls)));
      v.push_back("ip dscp set " + dscp(r));
      v.push_back("ip ecn set ce");
      v.push_back("ip saddr set " + r.pick(Pools::ipv4_hosts));
      if (keeps_route(c)) v.push_back("ip daddr set " + r.pick(Pools::ipv4_hosts));
      v.push_back("meta mark set jhash ip saddr . ip daddr mod 4 seed 0x" + fmt::format("{:x}", r.between(0, 0xffff)));
      v.push_back("meta mark set ip saddr map @mark4");
    }
    if (l3 == L3::Ip6) {
      v.push_back(fmt::format("ip6 hoplimit set {}", r.pick(Pools::ttls)));
      v.push_back("ip6 saddr set " + r.pick(Pools::ipv6_hosts));
      v.push_back("ip6 dscp set " + dscp(r));
    }
    if (l4 == L4::Tcp) v.push_back("tcp dport set " + port(r)), v.push_back("tcp sport set " + port(r));
    if (l4 == L4::Udp) v.push_back("udp dport set " + port(r));
    if (l4 == L4::Sctp) v.push_back("sctp dport set " + port(r));
    if (link_layer && (c.hook == "postrouting" || c.hook == "egress")) v.push_back("ether saddr set " + r.pick(Pools::host_macs));
    v.push_back("meta mark set numgen inc mod 3");
    return r.pick(v);
  }

  std::string stateful(L3 l3) {
    switch (r.between(0, 9)) {
      case 0: case 1: case 2: return "counter";
      case 3: return "counter name cnt0";
      case 4: return fmt::format("limit rate {}1/day burst {} packets", r.chance(50) ? "over " : "", r.between(1, 30));
      case 5: return fmt::format("limit rate {}1 kbytes/day burst {} bytes", r.chance(50) ? "over " : "", r.between(100, 4000));
      case 6: return fmt::format("quota {}{} bytes", r.chance(50) ? "over " : "", r.between(100, 20000));
      case 7:
        if (l3 == L3::Ip) return "add @dyn4 { ip saddr }";
        return "counter";
      case 8:
        if (l3 == L3::Ip) return fmt::format("update @dyn4 {{ ip saddr limit rate over 1/day burst {} packets }}", r.between(1, 5));
        return "counter";
      default: return fmt::format("meta mark {} numgen inc mod {}", r.pick(std::vector<std::string>{"set"}), r.between(2, 5));
    }
  }

  std::string verdict(const ChainSpec& c, int nregular, L3 l3) {
    auto target = [&]() -> std::string {
      int lo = c.hook.empty() ? c.index + 1 : 0;
      if (lo >= nregular) return "";
      return fmt::format("c{}", r.between(static_cast<uint64_t>(lo), static_cast<uint64_t>(nregular - 1)));
    };
    unsigned x = static_cast<unsigned>(r.between(0, 99));
    if (x < 30) return "";
    if (x < 52) return "accept";
    if (x < 67) return "drop";
    if (x < 72) return "continue";
    if (x < 80) {
      std::string t = target();
      return t.empty() ? "accept" : "jump " + t;
    }
    if (x < 85) {
      std::string t = target();
      return t.empty() ? "drop" : "goto " + t;
    }
    if (x < 90) return c.hook.empty() ? "return" : "accept";
    // verdict maps
    std::string t = target();
    std::string jump = t.empty() ? "accept" : "jump " + t;
    if (l3 == L3::Ip && r.chance(50)) return "ip saddr vmap @vm4";
    return fmt::format("meta l4proto vmap {{ tcp : {}, udp : drop, icmp : accept }}", jump);
  }

  // A reject where the kernel has one: base chains at prerouting, input and
  // forward of ip/ip6/inet tables, and netdev ingress (this kernel has no
  // bridge reject). Regular chains could be reached from other hooks.
  std::string reject(const ChainSpec& c, const TableSpec& t, L3 l3, L4 l4) {
    bool routed = t.family == "ip" || t.family == "ip6" || t.family == "inet";
    bool hook_ok = routed ? (c.hook == "prerouting" || c.hook == "input" || c.hook == "forward")
                          : (t.family == "netdev" && c.hook == "ingress");
    // nft: "cannot reject this network family" unless the rule is about IP
    if (!hook_ok || (l3 != L3::Ip && l3 != L3::Ip6)) return "";
    std::vector<std::string> v = {"reject"};
    if (l4 == L4::Tcp) v.push_back("reject with tcp reset");
    if (t.family == "inet" || t.family == "netdev") v.push_back("reject with icmpx type admin-prohibited");
    if (l3 == L3::Ip && t.family != "ip6") v.push_back("reject with icmp type host-unreachable");
    if (l3 == L3::Ip6 && t.family != "ip") v.push_back("reject with icmpv6 type no-route");
    return r.pick(v);
  }

  void rule(const ChainSpec& c, int nregular, const TableSpec& t) {
    std::vector<L3> l3s;
    if (t.family == "ip") l3s = {L3::Ip};
    else if (t.family == "ip6") l3s = {L3::Ip6};
    else if (t.family == "inet") l3s = {L3::None, L3::Ip, L3::Ip, L3::Ip6};
    else l3s = {L3::None, L3::None, L3::Ip, L3::Ip, L3::Ip6, L3::Arp};
    L3 l3 = r.pick(l3s);
    std::vector<L4> l4s = {L4::None, L4::None};
    if (l3 == L3::Ip) l4s.insert(l4s.end(), {L4::Tcp, L4::Tcp, L4::Udp, L4::Icmp, L4::Sctp, L4::Udplite, L4::Dccp, L4::Esp, L4::Igmp, L4::Th});
    if (l3 == L3::Ip6) l4s.insert(l4s.end(), {L4::Tcp, L4::Tcp, L4::Udp, L4::Icmpv6, L4::Sctp, L4::Dccp, L4::Th});
    if (l3 == L3::None && !t.link_layer) l4s.insert(l4s.end(), {L4::Tcp, L4::Udp, L4::Th});
    L4 l4 = r.pick(l4s);
    // The sets that exist hold IPv4 keys; ip6/none rules must not use them.
    std::vector<std::string> parts;
    int n = static_cast<int>(r.between(0, 3));
    std::set<std::string> seen;
    for (int i = 0; i < n; ++i) {
      std::string m;
      unsigned x = static_cast<unsigned>(r.between(0, 99));
      if (x < 20) m = meta_match(t.family == "inet");
      else if (x < 35 && t.link_layer && l3 != L3::Arp) m = link_match();
      else if (l3 == L3::Ip) m = ip_match();
      else if (l3 == L3::Ip6) m = ip6_match();
      else if (l3 == L3::Arp) m = arp_match();
      else m = meta_match(t.family == "inet");
      // The protocol field itself only when no transport header is named
      // (nft refuses conflicting protocols, e.g. `ip protocol udp tcp dport 1`).
      bool names_protocol = m.rfind("ip protocol", 0) == 0 || m.rfind("ip6 nexthdr", 0) == 0 ||
                            m.rfind("meta l4proto", 0) == 0 || m.rfind("meta protocol", 0) == 0 ||
                            m.rfind("meta nfproto", 0) == 0 || m.rfind("ether type", 0) == 0 ||
                            m.rfind("vlan ", 0) == 0;
      if (names_protocol && (l4 != L4::None || l3 != L3::None)) m = "meta mark " + hex(r.between(0, 3));
      // A vlan selector after an ether type or meta protocol match (or the
      // other way round) is a conflict nft refuses.
      auto has = [&](const char* prefix) {
        for (const auto& q : parts)
          if (q.rfind(prefix, 0) == 0) return true;
        return false;
      };
      bool link_type = m.rfind("ether type", 0) == 0 || m.rfind("meta protocol", 0) == 0;
      if ((m.rfind("vlan ", 0) == 0 && (has("ether type") || has("meta protocol"))) || (link_type && has("vlan ")))
        m = "meta mark " + hex(r.between(0, 3));
      if (!m.empty() && seen.insert(m).second) parts.push_back(m);
    }
    if (l4 != L4::None) {
      std::string m = l4_match(l4);
      if (l3 != L3::Ip && m.find("ip saddr") != std::string::npos) m = "tcp dport " + port(r);
      parts.push_back(m);
    }
    // A match of a protocol always comes first when a rule names one, as a
    // user writes it.
    if (l3 == L3::Ip && r.chance(20)) parts.insert(parts.begin(), "ip saddr " + v4_rhs(r));
    if (r.chance(35)) parts.push_back(stateful(l3));
    if (r.chance(15) && c.hook != "prerouting") parts.push_back(mangle(l3, l4, c, t.link_layer));
    else if (r.chance(10)) parts.push_back(mangle(l3, l4, c, t.link_layer && c.hook != "prerouting" && c.hook != "ingress"));
    std::string v = verdict(c, nregular, l3);
    if (std::string rej = reject(c, t, l3, l4); !rej.empty() && r.chance(6)) v = rej;
    if (!v.empty()) parts.push_back(v);
    if (parts.empty()) parts.push_back("counter");
    std::string line;
    for (const auto& p : parts) line += (line.empty() ? "" : " ") + p;
    out += "\t\t" + line + "\n";
  }

  void sets(const TableSpec& t) {
    out += "\tset a4 { type ipv4_addr; flags interval; elements = { 10.0.0.0/28, 192.168.1.1, 10.0.1.5-10.0.1.9, 8.8.8.8 } }\n";
    out += "\tset a6 { type ipv6_addr; flags interval; elements = { 2001:db8::/64, fd00::1 } }\n";
    out += "\tset ports { type inet_service; flags interval; elements = { 22, 80, 1000-2000, 33434 } }\n";
    out += "\tset pair4 { type ipv4_addr . ipv4_addr; flags interval; elements = { 10.0.0.0/24 . 192.168.1.0/24, 8.8.8.8 . 0.0.0.0/0 } }\n";
    out += "\tset svc4 { type ipv4_addr . inet_service; elements = { 10.0.0.1 . 22, 10.0.0.2 . 80, 192.168.1.1 . 443 } }\n";
    out += "\tset dyn4 { type ipv4_addr; size 65535; flags dynamic; }\n";
    out += "\tmap mark4 { type ipv4_addr : mark; flags interval; elements = { 10.0.0.0/24 : 0x1, 192.168.1.1 : 0x2 } }\n";
    out += "\tmap vm4 { type ipv4_addr : verdict; elements = { 10.0.0.1 : accept, 10.0.0.2 : drop, 8.8.8.8 : continue } }\n";
    if (t.link_layer) out += "\tset macs { type ether_addr; elements = { 02:00:00:00:00:aa, 0a:1b:2c:3d:4e:5f } }\n";
    out += "\tcounter cnt0 { }\n";
  }

  void table(const TableSpec& t, const std::vector<std::pair<std::string, std::string>>& base) {
    out += fmt::format("table {} {} {{\n", t.family, t.name);
    sets(t);
    int nregular = static_cast<int>(r.between(0, 3));
    std::vector<ChainSpec> chains;
    for (const auto& [name, hook] : base) chains.push_back({name, hook, -1});
    for (int i = 0; i < nregular; ++i) chains.push_back({fmt::format("c{}", i), "", i});
    for (const ChainSpec& c : chains) {
      out += fmt::format("\tchain {} {{\n", c.name);
      if (!c.hook.empty()) {
        static const std::vector<int> prios = {-300, -150, -10, 0, 0, 10, 100};
        std::string dev = c.hook == "ingress" ? " device \"tap0\"" : c.hook == "egress" ? " device \"tap1\"" : "";
        out += fmt::format("\t\ttype filter hook {}{} priority {}; policy {};\n", c.hook, dev, r.pick(prios),
                           r.chance(92) ? "accept" : "drop");
      }
      int nrules = static_cast<int>(r.between(0, 7));
      for (int i = 0; i < nrules; ++i) rule(c, nregular, t);
      out += "\t}\n";
    }
    out += "}\n";
  }
};

}  // namespace

std::string random_ruleset(Random& r, Path path) {
  Gen g{r, path, {}};
  TableSpec nd{"netdev", "nd", true};
  if (r.chance(50)) {
    std::vector<std::pair<std::string, std::string>> hooks = {{"cing", "ingress"}};
    if (path != Path::Input && r.chance(50)) hooks.push_back({"ceg", "egress"});
    g.table(nd, hooks);
  }
  if (path == Path::Bridge) {
    g.table({"bridge", "t", true}, {{"cpre", "prerouting"}, {"cfwd", "forward"}, {"cpost", "postrouting"}});
    if (r.chance(30)) g.table({"bridge", "t2", true}, {{"cfwd", "forward"}});
    return g.out;
  }
  std::vector<std::pair<std::string, std::string>> hooks = {{"cpre", "prerouting"}};
  if (path == Path::Input) hooks.push_back({"cin", "input"});
  else hooks.push_back({"cfwd", "forward"}), hooks.push_back({"cpost", "postrouting"});
  g.table({"inet", "t", false}, hooks);
  if (r.chance(40)) g.table({"ip", "t4", false}, {{"cx", path == Path::Input ? "input" : "forward"}});
  if (r.chance(30)) g.table({"ip6", "t6", false}, {{"cx", path == Path::Input ? "input" : "forward"}});
  return g.out;
}

}  // namespace nfx::difftest
