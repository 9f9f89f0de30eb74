// Tables that give every selector of the nft language its meaning: protocol
// header fields (proto.c's role), meta/ct/rt/fib/socket/osf/ipsec/tunnel keys,
// IPv6 extension headers, TCP/IP options and SCTP chunks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nfx {

enum class PayloadBase { LinkLayer, Network, Transport, Inner };

struct FieldDesc {
  const char* name;      // "saddr", "frag-off"
  unsigned offset;       // bit offset from the header start
  unsigned bits;         // field width in bits
  const char* dtype;     // datatype name from types.h ("ipv4_addr")
};

// A protocol header: where it sits and which fields it has.
struct ProtoDesc {
  const char* name;        // "ip", "tcp", "vlan", "icmpv6", "th" (any transport)
  PayloadBase base;
  unsigned header_bits;    // fixed header length, 0 if none
  std::vector<FieldDesc> fields;
  // How the layer below names this protocol, for implicit dependencies:
  // e.g. tcp: dep_key "l4proto" value 6; ip: "nfproto" 2 / ether type 0x0800.
  const char* dep_key;     // "l4proto", "nfproto", "ethertype", "" for none
  uint64_t dep_value;
};

const ProtoDesc* find_proto(const std::string& name);
const FieldDesc* find_field(const ProtoDesc& p, const std::string& field);
const std::vector<ProtoDesc>& all_protos();

// A key of meta, ct, rt, socket, osf, ipsec, tunnel, fib results.
struct KeyDesc {
  const char* name;     // "mark", "l4proto", "state"
  const char* dtype;    // datatype name
  unsigned bits;        // value width (0: use the datatype's width)
  unsigned flags;       // KeyFlag bits
};

enum KeyFlag : unsigned {
  kBare = 1u << 0,       // meta key usable without "meta" (mark, iif, oifname...)
  kDirectional = 1u << 1,// ct key that takes original/reply
  kNeedsDir = 1u << 2,   // ct key that requires a direction (saddr, proto-src...)
  kNoDir = 1u << 3,      // ct key that must not have a direction
  kSettable = 1u << 4,   // may appear on the left of "set"
  kBoth = 1u << 5,       // ct key valid with "both" (bytes, packets)
};

enum class KeyFamily { Meta, Ct, Rt, Socket, Osf, Ipsec, Tunnel, FibResult };

const KeyDesc* find_key(KeyFamily fam, const std::string& name);
const std::vector<KeyDesc>& all_keys(KeyFamily fam);

// IPv6 extension headers (hbh, rt, rt0, rt2, srh, frag, dst, mh), TCP options,
// IP options and SCTP chunks: a named header with its own fields.
struct OptionDesc {
  const char* name;       // "maxseg", "hbh", "data"
  unsigned type;          // option kind / nexthdr number / chunk type
  std::vector<FieldDesc> fields;
};

enum class OptionFamily { Exthdr, TcpOption, IpOption, SctpChunk };
const OptionDesc* find_option(OptionFamily fam, const std::string& name);
const std::vector<OptionDesc>& all_options(OptionFamily fam);

// Named chain priorities per family and hook (filter, raw, mangle, dstnat,
// srcnat, security; bridge's out...). Returns false if not valid there.
bool named_priority(const std::string& family, const std::string& hook, const std::string& name,
                    int& value);
// The standard name nft prints for a priority value in that family/hook, if any.
const char* priority_name(const std::string& family, const std::string& hook, int value);

// ===========================================================================
// Conventions and companion tables (appended with selectors_*.cc).
//
// Spelling. Every name is written as the nft language writes it. A selector of
// two words is one string with a single space:
//   arp    "saddr ether", "saddr ip", "daddr ether", "daddr ip"
//   ct     "ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr"
//   rt     "ip nexthop", "ip6 nexthop"
//   ipsec  "ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr"
// Indexed fields keep nft's brackets: rt0 "addr[1]", srh "sid[2]".
// The lookups also take nft's input-only aliases and return the canonical
// entry, whose name is what nft prints:
//   icmpv6 "param-problem" -> "parameter-problem"; tcp option "sack-permitted"
//   -> "sack-perm"; meta "ibriport"/"ibridgename" -> "ibrname",
//   "obriport"/"obridgename" -> "obrname", "secpath" -> "ipsec".
// find_option(TcpOption, "<0..255>") returns the named option for known kinds
// and otherwise a descriptor for the raw kind (name "<n>", field "kind" only),
// as nft does for "tcp option 6 exists".
//
// Datatype names are nft's, except where nft reuses a name for a different
// type; those get a distinct name here (dtype_nft_name() gives nft's):
//   "xinteger"          integer printed in hex (ip frag-off)         -> "integer"
//   "mptcpopt_subtype"  integer with mptcp subtype symbols           -> "integer"
//   "date"              meta time (ns since epoch, printed as date)  -> "time"
// ("time" itself is the relative time of ct expiration / timeouts.)
//
// KeyDesc with dtype "invalid" and bits 0 (flag kNeedsFamily) is family
// dependent (ct saddr/daddr, rt nexthop, ipsec saddr/daddr): it takes
// ipv4_addr/32 or ipv6_addr/128 from "ip"/"ip6" or the network protocol in
// context, as nft's ct_expr_update_type/rt_expr_update_type do. The typed
// composite entries ("ip saddr", "ip6 nexthop", ...) exist beside them.
//
// ProtoDesc::dep_key / dep_value is the implicit match nft adds most often:
//   "l4proto"   meta l4proto N          tcp 6, udp 17, icmp 1, gre 47, ...
//   "nfproto"   meta nfproto 2 / 10     ip, ip6 (inet tables)
//   "ethertype" 0x0806 / 0x8100         arp, vlan (ether type or meta protocol)
//   "iiftype"   meta iiftype 1          ether (outside bridge tables)
//   ""          none: th; vxlan/geneve need the user's own "udp dport" match
// The dependency in each context is in the ProtoLink table below. dep_value and
// ProtoLink::value are plain numbers (0x0800 for IPv4), compared in the byte
// order of the selector that carries them.
//
// kBoth marks the ct counters (packets, bytes, avgpkt) whose value without a
// direction is the sum of both directions. nft itself has no "both" keyword:
// "ct both bytes gt 1" and "ct both zone 1" are syntax errors in nft 1.1.
// ("ct count" is the connlimit statement, not a ct key.)
//
// PayloadBase::Inner is nft's tunnel header base (vxlan/geneve fields).
// ===========================================================================

// How a lower layer names the protocol above it (nft's PROTO_LINK tables plus
// the meta templates nft uses for implicit dependencies). Contexts: "ether"
// and "vlan" (payload type fields), "netdev" (netdev and bridge tables name
// the network protocol with meta protocol: nft 1.1 emits "meta protocol ip"
// for "ip saddr" in bridge, but "ether type ip" for the network layer implied
// by "icmp type"), "inet" (meta nfproto), "ip"/"ip6"/"inet-service" (meta
// l4proto), "ah"/"comp" (their nexthdr), tunnels (meta protocol inside the
// inner expression), "dev" (meta iiftype ether, for ether in ip/ip6/inet/
// netdev tables).
struct ProtoLink {
  const char* lower;  // "ether", "vlan", "netdev", "inet", "ip", "ip6",
                      // "inet-service", "ah", "comp", "udp", "vxlan", "geneve",
                      // "gre", "gretap", "dev" (the device: meta iiftype)
  const char* upper;  // protocol named by the lower layer
  const char* key;    // selector carrying the number, as nft writes it:
                      // "ether type", "vlan type", "meta protocol",
                      // "meta nfproto", "meta l4proto", "ah nexthdr",
                      // "comp nexthdr", "meta iiftype"; "" = context only
  uint64_t value;
};
const std::vector<ProtoLink>& all_proto_links();
const ProtoLink* find_proto_link(const std::string& lower, const std::string& upper);
// Reverse: which protocol the lower layer names with this number (first match).
const ProtoLink* find_proto_link_by_value(const std::string& lower, uint64_t value);

// Checksum of a header and the checksum kind nft uses when a field is rewritten
// (1 = NFT_PAYLOAD_CSUM_INET, 2 = NFT_PAYLOAD_CSUM_SCTP). nullptr if none.
const char* proto_checksum_field(const std::string& proto, unsigned& csum_type);
// Network header fields in the transport pseudo-header (ip saddr/daddr/
// protocol/length, ip6 saddr/daddr/nexthdr/length): rewriting them needs
// NFT_PAYLOAD_L4CSUM_PSEUDOHDR.
bool proto_field_in_pseudohdr(const std::string& proto, const std::string& field);
// ICMP/ICMPv6 fields valid only for some message types: nft first matches
// "icmp type" against these (one value: ==, more: a set, in this order).
// nullptr when the field needs no type (type, code, checksum).
const std::vector<uint8_t>* icmp_field_types(const std::string& proto, const std::string& field);

// Tunnel protocols matched with nft's inner expression.
struct InnerTunnelDesc {
  const char* name;   // "vxlan", "geneve", "gre", "gretap"
  unsigned type;      // NFTA_INNER_TYPE (vxlan 1, geneve 2, gre 3, gretap 4)
  unsigned hdrsize;   // tunnel header bytes (NFTA_INNER_HDRSIZE)
  unsigned flags;     // NFT_INNER_HDRSIZE 1 | LL 2 | NH 4 | TH 8
};
const InnerTunnelDesc* find_inner_tunnel(const std::string& name);

// KeyFlag additions.
constexpr unsigned kNeedsLevel = 1u << 6;   // socket cgroupv2: "level N" follows
constexpr unsigned kPrintsBare = 1u << 7;   // nft lists it without "meta" (iif, oifname...)
constexpr unsigned kNeedsFamily = 1u << 8;  // dtype "invalid": type from the nh protocol

// Kernel numbering and byte order of a key.
struct KeyExtra {
  int kernel_id;    // NFT_META_*, NFT_CT_*, NFT_RT_*, NFT_SOCKET_*, NFT_XFRM_KEY_*,
                    // NFT_TUNNEL_*, NFT_FIB_RESULT_*; osf: 0 name, NFT_OSF_F_VERSION
                    // (flag) version
  bool big_endian;  // value in network byte order (else host order)
};
bool key_extra(KeyFamily fam, const std::string& name, KeyExtra& out);

// fib lookup inputs ("fib saddr . iif oif") and their NFTA_FIB_F_* bits, in
// the order nft prints them; "present" is set by "exists"/"missing".
struct FibFlagDesc {
  const char* name;
  unsigned value;
};
const std::vector<FibFlagDesc>& fib_flags();

// nft's datatype name for a dtype used in these tables ("xinteger" -> "integer").
const char* dtype_nft_name(const char* dtype);

// Raw kind lookup (tcp option kind, IPv6 nexthdr, ip option type, chunk type).
const OptionDesc* find_option_by_type(OptionFamily fam, unsigned type);

// The full priority text nft lists for a base chain ("filter", "srcnat + 10",
// "dstnat - 5", or the number), as nft's prio2str (names within +-10).
std::string priority_to_string(const std::string& family, const std::string& hook, int value);

// The value of a chain's priority expression (a number, a name, "name + n").
struct Expr;
long chain_priority_value(const std::string& family, const std::string& hook, const Expr* prio);

}  // namespace nfx
