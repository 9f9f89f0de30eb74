// Protocol header descriptions: the payload selectors of the nft language
// (ether, vlan, arp, ip, ip6, icmp, icmpv6, igmp, tcp, udp, udplite, sctp,
// dccp, ah, esp, comp, th, gre, gretap, vxlan, geneve), with bit offsets and
// widths as nft's proto templates define them, and the links nft follows to
// add implicit dependencies (tcp => meta l4proto 6, ...).
#include <cstring>
#include <string>
#include <vector>

#include "selectors.h"

namespace nfx {
namespace {

// IANA protocol numbers used by the links below.
constexpr uint64_t kIpprotoIcmp = 1;
constexpr uint64_t kIpprotoIgmp = 2;
constexpr uint64_t kIpprotoTcp = 6;
constexpr uint64_t kIpprotoUdp = 17;
constexpr uint64_t kIpprotoDccp = 33;
constexpr uint64_t kIpprotoGre = 47;
constexpr uint64_t kIpprotoEsp = 50;
constexpr uint64_t kIpprotoAh = 51;
constexpr uint64_t kIpprotoIcmpv6 = 58;
constexpr uint64_t kIpprotoComp = 108;
constexpr uint64_t kIpprotoSctp = 132;
constexpr uint64_t kIpprotoUdplite = 136;

constexpr uint64_t kEthIp = 0x0800;
constexpr uint64_t kEthArp = 0x0806;
constexpr uint64_t kEthIpv6 = 0x86dd;
constexpr uint64_t kEth8021q = 0x8100;
constexpr uint64_t kEth8021ad = 0x88a8;

constexpr uint64_t kNfprotoIpv4 = 2;
constexpr uint64_t kNfprotoIpv6 = 10;
constexpr uint64_t kArphrdEther = 1;

std::vector<ProtoDesc> build_protos() {
  using B = PayloadBase;
  std::vector<ProtoDesc> v;

  // Link layer.
  v.push_back({"ether", B::LinkLayer, 112,
               {
                   {"daddr", 0, 48, "ether_addr"},
                   {"saddr", 48, 48, "ether_addr"},
                   {"type", 96, 16, "ether_type"},
               },
               "iiftype", kArphrdEther});
  // 802.1Q tag as it follows the ethernet addresses: TCI then inner type.
  v.push_back({"vlan", B::LinkLayer, 32,
               {
                   {"pcp", 0, 3, "integer"},
                   {"dei", 3, 1, "integer"},
                   {"cfi", 3, 1, "integer"},  // older name of dei, same bit
                   {"id", 4, 12, "integer"},
                   {"type", 16, 16, "ether_type"},
               },
               "ethertype", kEth8021q});

  // Network layer.
  // ARP for ethernet/IPv4 (hlen 6, plen 4), nft's struct arp_hdr layout.
  v.push_back({"arp", B::Network, 224,
               {
                   {"htype", 0, 16, "integer"},
                   {"ptype", 16, 16, "ether_type"},
                   {"hlen", 32, 8, "integer"},
                   {"plen", 40, 8, "integer"},
                   {"operation", 48, 16, "arp_op"},
                   {"saddr ether", 64, 48, "ether_addr"},
                   {"saddr ip", 112, 32, "ipv4_addr"},
                   {"daddr ether", 144, 48, "ether_addr"},
                   {"daddr ip", 192, 32, "ipv4_addr"},
               },
               "ethertype", kEthArp});
  v.push_back({"ip", B::Network, 160,
               {
                   {"version", 0, 4, "integer"},
                   {"hdrlength", 4, 4, "integer"},
                   {"dscp", 8, 6, "dscp"},
                   {"ecn", 14, 2, "ecn"},
                   {"length", 16, 16, "integer"},
                   {"id", 32, 16, "integer"},
                   {"frag-off", 48, 16, "xinteger"},
                   {"ttl", 64, 8, "integer"},
                   {"protocol", 72, 8, "inet_proto"},
                   {"checksum", 80, 16, "integer"},
                   {"saddr", 96, 32, "ipv4_addr"},
                   {"daddr", 128, 32, "ipv4_addr"},
               },
               "nfproto", kNfprotoIpv4});
  v.push_back({"ip6", B::Network, 320,
               {
                   {"version", 0, 4, "integer"},
                   {"dscp", 4, 6, "dscp"},
                   {"ecn", 10, 2, "ecn"},
                   {"flowlabel", 12, 20, "integer"},
                   {"length", 32, 16, "integer"},
                   {"nexthdr", 48, 8, "inet_proto"},
                   {"hoplimit", 56, 8, "integer"},
                   {"saddr", 64, 128, "ipv6_addr"},
                   {"daddr", 192, 128, "ipv6_addr"},
               },
               "nfproto", kNfprotoIpv6});

  // Transport layer.
  v.push_back({"icmp", B::Transport, 64,
               {
                   {"type", 0, 8, "icmp_type"},
                   {"code", 8, 8, "icmp_code"},
                   {"checksum", 16, 16, "integer"},
                   {"id", 32, 16, "integer"},
                   {"sequence", 48, 16, "integer"},
                   {"gateway", 32, 32, "integer"},
                   {"mtu", 48, 16, "integer"},
               },
               "l4proto", kIpprotoIcmp});
  v.push_back({"icmpv6", B::Transport, 64,
               {
                   {"type", 0, 8, "icmpv6_type"},
                   {"code", 8, 8, "icmpv6_code"},
                   {"checksum", 16, 16, "integer"},
                   {"parameter-problem", 32, 32, "integer"},
                   {"mtu", 32, 32, "integer"},
                   {"id", 32, 16, "integer"},
                   {"sequence", 48, 16, "integer"},
                   {"max-delay", 32, 16, "integer"},
                   {"taddr", 64, 128, "ipv6_addr"},   // ND/MLD target address
                   {"daddr", 192, 128, "ipv6_addr"},  // nd-redirect destination
               },
               "l4proto", kIpprotoIcmpv6});
  v.push_back({"igmp", B::Transport, 64,
               {
                   {"type", 0, 8, "igmp_type"},
                   {"mrt", 8, 8, "integer"},
                   {"checksum", 16, 16, "integer"},
                   {"group", 32, 32, "integer"},
               },
               "l4proto", kIpprotoIgmp});
  v.push_back({"tcp", B::Transport, 160,
               {
                   {"sport", 0, 16, "inet_service"},
                   {"dport", 16, 16, "inet_service"},
                   {"sequence", 32, 32, "integer"},
                   {"ackseq", 64, 32, "integer"},
                   {"doff", 96, 4, "integer"},
                   {"reserved", 100, 4, "integer"},
                   {"flags", 104, 8, "tcp_flag"},
                   {"window", 112, 16, "integer"},
                   {"checksum", 128, 16, "integer"},
                   {"urgptr", 144, 16, "integer"},
               },
               "l4proto", kIpprotoTcp});
  v.push_back({"udp", B::Transport, 64,
               {
                   {"sport", 0, 16, "inet_service"},
                   {"dport", 16, 16, "inet_service"},
                   {"length", 32, 16, "integer"},
                   {"checksum", 48, 16, "integer"},
               },
               "l4proto", kIpprotoUdp});
  v.push_back({"udplite", B::Transport, 64,
               {
                   {"sport", 0, 16, "inet_service"},
                   {"dport", 16, 16, "inet_service"},
                   {"csumcov", 32, 16, "integer"},
                   {"checksum", 48, 16, "integer"},
               },
               "l4proto", kIpprotoUdplite});
  v.push_back({"sctp", B::Transport, 96,
               {
                   {"sport", 0, 16, "inet_service"},
                   {"dport", 16, 16, "inet_service"},
                   {"vtag", 32, 32, "integer"},
                   {"checksum", 64, 32, "integer"},
               },
               "l4proto", kIpprotoSctp});
  // The packet type sits in bits 3..6 of byte 8 (after the 3 reserved bits).
  v.push_back({"dccp", B::Transport, 96,
               {
                   {"sport", 0, 16, "inet_service"},
                   {"dport", 16, 16, "inet_service"},
                   {"type", 67, 4, "dccp_pkttype"},
               },
               "l4proto", kIpprotoDccp});
  v.push_back({"ah", B::Transport, 96,
               {
                   {"nexthdr", 0, 8, "inet_proto"},
                   {"hdrlength", 8, 8, "integer"},
                   {"reserved", 16, 16, "integer"},
                   {"spi", 32, 32, "integer"},
                   {"sequence", 64, 32, "integer"},
               },
               "l4proto", kIpprotoAh});
  v.push_back({"esp", B::Transport, 64,
               {
                   {"spi", 0, 32, "integer"},
                   {"sequence", 32, 32, "integer"},
               },
               "l4proto", kIpprotoEsp});
  v.push_back({"comp", B::Transport, 32,
               {
                   {"nexthdr", 0, 8, "inet_proto"},
                   {"flags", 8, 8, "bitmask"},
                   {"cpi", 16, 16, "integer"},
               },
               "l4proto", kIpprotoComp});
  // Any transport header with ports (tcp, udp, udplite, sctp, dccp): no
  // dependency is added.
  v.push_back({"th", B::Transport, 32,
               {
                   {"sport", 0, 16, "inet_service"},
                   {"dport", 16, 16, "inet_service"},
               },
               "", 0});
  v.push_back({"gre", B::Transport, 32,
               {
                   {"flags", 0, 5, "integer"},
                   {"version", 13, 3, "integer"},
                   {"protocol", 16, 16, "ether_type"},
               },
               "l4proto", kIpprotoGre});
  // GRE carrying ethernet frames: only a prefix for inner matches.
  v.push_back({"gretap", B::Transport, 32, {}, "l4proto", kIpprotoGre});

  // Tunnel headers (nft's inner expression); udp must be matched explicitly.
  v.push_back({"vxlan", B::Inner, 64,
               {
                   {"flags", 0, 8, "bitmask"},
                   {"vni", 32, 24, "integer"},
               },
               "", 0});
  v.push_back({"geneve", B::Inner, 64,
               {
                   {"type", 16, 16, "ether_type"},
                   {"vni", 32, 24, "integer"},
               },
               "", 0});
  return v;
}

const std::vector<ProtoDesc>& protos() {
  static const std::vector<ProtoDesc> v = build_protos();
  return v;
}

struct FieldAlias {
  const char* proto;
  const char* alias;
  const char* field;
};

// Names the nft parser takes that differ from the printed template name.
constexpr FieldAlias kFieldAliases[] = {
    {"icmpv6", "param-problem", "parameter-problem"},
};

std::vector<ProtoLink> build_links() {
  std::vector<ProtoLink> v;
  auto l3_set = [&v](const char* lower, const char* key) {
    v.push_back({lower, "ip", key, kEthIp});
    v.push_back({lower, "arp", key, kEthArp});
    v.push_back({lower, "ip6", key, kEthIpv6});
    v.push_back({lower, "vlan", key, kEth8021q});
    v.push_back({lower, "vlan", key, kEth8021ad});
  };
  l3_set("ether", "ether type");
  l3_set("vlan", "vlan type");
  l3_set("netdev", "meta protocol");

  v.push_back({"inet", "ip", "meta nfproto", kNfprotoIpv4});
  v.push_back({"inet", "ip6", "meta nfproto", kNfprotoIpv6});

  // The device type: ethernet headers exist on ARPHRD_ETHER devices.
  v.push_back({"dev", "ether", "meta iiftype", kArphrdEther});

  struct L4 {
    const char* name;
    uint64_t num;
  };
  // nft names the transport of ip/ip6 (and of the family-less
  // "inet-service") with meta l4proto, which also skips IPv6 extension
  // headers.
  constexpr L4 kAll[] = {
      {"icmp", kIpprotoIcmp}, {"igmp", kIpprotoIgmp},   {"icmpv6", kIpprotoIcmpv6},
      {"esp", kIpprotoEsp},   {"ah", kIpprotoAh},       {"comp", kIpprotoComp},
      {"udp", kIpprotoUdp},   {"udplite", kIpprotoUdplite}, {"tcp", kIpprotoTcp},
      {"dccp", kIpprotoDccp}, {"sctp", kIpprotoSctp},   {"gre", kIpprotoGre},
      {"gretap", kIpprotoGre},
  };
  for (const char* lower : {"ip", "ip6", "inet-service"})
    for (const L4& p : kAll) v.push_back({lower, p.name, "meta l4proto", p.num});

  // IPsec headers chain to the next protocol with their nexthdr field.
  constexpr L4 kAfterIpsec[] = {
      {"esp", kIpprotoEsp},   {"ah", kIpprotoAh},   {"comp", kIpprotoComp},
      {"udp", kIpprotoUdp},   {"udplite", kIpprotoUdplite}, {"tcp", kIpprotoTcp},
      {"dccp", kIpprotoDccp}, {"sctp", kIpprotoSctp},
  };
  for (const L4& p : kAfterIpsec) v.push_back({"ah", p.name, "ah nexthdr", p.num});
  for (const L4& p : kAfterIpsec) v.push_back({"comp", p.name, "comp nexthdr", p.num});

  // udp carries vxlan/geneve only by context (nft's PROTO_LINK(0, ...)); the
  // rule has to match the udp port itself.
  v.push_back({"udp", "vxlan", "", 0});
  v.push_back({"udp", "geneve", "", 0});

  // Inside a tunnel nft names the inner network protocol with meta protocol.
  for (const char* tun : {"vxlan", "geneve"}) {
    v.push_back({tun, "ip", "meta protocol", kEthIp});
    v.push_back({tun, "arp", "meta protocol", kEthArp});
    v.push_back({tun, "ip6", "meta protocol", kEthIpv6});
    v.push_back({tun, "vlan", "meta protocol", kEth8021q});
  }
  v.push_back({"gre", "ip", "meta protocol", kEthIp});
  v.push_back({"gre", "ip6", "meta protocol", kEthIpv6});
  v.push_back({"gretap", "ip", "meta protocol", kEthIp});
  v.push_back({"gretap", "arp", "meta protocol", kEthArp});
  v.push_back({"gretap", "ip6", "meta protocol", kEthIpv6});
  v.push_back({"gretap", "vlan", "meta protocol", kEth8021q});
  v.push_back({"gretap", "ether", "", 0});
  return v;
}

}  // namespace

const std::vector<ProtoDesc>& all_protos() { return protos(); }

const ProtoDesc* find_proto(const std::string& name) {
  for (const ProtoDesc& p : protos())
    if (name == p.name) return &p;
  return nullptr;
}

const FieldDesc* find_field(const ProtoDesc& p, const std::string& field) {
  for (const FieldDesc& f : p.fields)
    if (field == f.name) return &f;
  for (const FieldAlias& a : kFieldAliases) {
    if (std::strcmp(a.proto, p.name) != 0 || field != a.alias) continue;
    for (const FieldDesc& f : p.fields)
      if (std::strcmp(f.name, a.field) == 0) return &f;
  }
  return nullptr;
}

const std::vector<ProtoLink>& all_proto_links() {
  static const std::vector<ProtoLink> v = build_links();
  return v;
}

const ProtoLink* find_proto_link(const std::string& lower, const std::string& upper) {
  for (const ProtoLink& l : all_proto_links())
    if (lower == l.lower && upper == l.upper) return &l;
  return nullptr;
}

const ProtoLink* find_proto_link_by_value(const std::string& lower, uint64_t value) {
  for (const ProtoLink& l : all_proto_links())
    if (lower == l.lower && *l.key != '\0' && l.value == value) return &l;
  return nullptr;
}

const char* proto_checksum_field(const std::string& proto, unsigned& csum_type) {
  struct Csum {
    const char* proto;
    unsigned type;
  };
  // udplite, dccp, ah... have no checksum fix-up in nft.
  constexpr Csum kCsums[] = {
      {"ip", 1}, {"icmp", 1}, {"igmp", 1}, {"udp", 1}, {"tcp", 1}, {"icmpv6", 1}, {"sctp", 2},
  };
  for (const Csum& c : kCsums) {
    if (proto == c.proto) {
      csum_type = c.type;
      return "checksum";
    }
  }
  csum_type = 0;
  return nullptr;
}

bool proto_field_in_pseudohdr(const std::string& proto, const std::string& field) {
  if (proto == "ip")
    return field == "saddr" || field == "daddr" || field == "protocol" || field == "length";
  if (proto == "ip6")
    return field == "saddr" || field == "daddr" || field == "nexthdr" || field == "length";
  return false;
}

const std::vector<uint8_t>* icmp_field_types(const std::string& proto, const std::string& field) {
  // ICMP: echo-request 8, echo-reply 0, redirect 5, destination-unreachable 3.
  static const std::vector<uint8_t> kIcmpEcho = {8, 0};
  static const std::vector<uint8_t> kIcmpRedirect = {5};
  static const std::vector<uint8_t> kIcmpUnreach = {3};
  // ICMPv6: packet-too-big 2, parameter-problem 4, echo-request 128,
  // echo-reply 129, mld-listener-query 130, -report 131, -done 132,
  // nd-neighbor-solicit 135, -advert 136, nd-redirect 137.
  static const std::vector<uint8_t> kIcmp6TooBig = {2};
  static const std::vector<uint8_t> kIcmp6ParamProb = {4};
  static const std::vector<uint8_t> kIcmp6Echo = {128, 129};
  static const std::vector<uint8_t> kIcmp6MldQuery = {130};
  static const std::vector<uint8_t> kIcmp6Address = {130, 131, 132, 135, 136, 137};
  static const std::vector<uint8_t> kIcmp6Redirect = {137};

  if (proto == "icmp") {
    if (field == "id" || field == "sequence") return &kIcmpEcho;
    if (field == "gateway") return &kIcmpRedirect;
    if (field == "mtu") return &kIcmpUnreach;
    return nullptr;
  }
  if (proto == "icmpv6") {
    if (field == "parameter-problem" || field == "param-problem") return &kIcmp6ParamProb;
    if (field == "mtu") return &kIcmp6TooBig;
    if (field == "id" || field == "sequence") return &kIcmp6Echo;
    if (field == "max-delay") return &kIcmp6MldQuery;
    if (field == "taddr") return &kIcmp6Address;
    if (field == "daddr") return &kIcmp6Redirect;
  }
  return nullptr;
}

const InnerTunnelDesc* find_inner_tunnel(const std::string& name) {
  static const InnerTunnelDesc kTunnels[] = {
      {"vxlan", 1, 8, 0xf},
      {"geneve", 2, 8, 0xf},
      {"gre", 3, 4, 0xc},
      {"gretap", 4, 4, 0xe},
  };
  for (const InnerTunnelDesc& t : kTunnels)
    if (name == t.name) return &t;
  return nullptr;
}

const char* dtype_nft_name(const char* dtype) {
  if (dtype == nullptr) return nullptr;
  if (std::strcmp(dtype, "xinteger") == 0 || std::strcmp(dtype, "mptcpopt_subtype") == 0)
    return "integer";
  if (std::strcmp(dtype, "date") == 0) return "time";
  return dtype;
}

}  // namespace nfx
