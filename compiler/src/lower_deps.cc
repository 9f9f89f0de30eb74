// Implicit protocol dependencies, as nft generates them in bytecode: before a
// field of a protocol, the match that makes sure the packet carries that
// protocol. Checked against `nft --debug=netlink` (nft 1.0.6):
//   network fields (ip, ip6, arp): meta nfproto in inet, meta protocol in
//     bridge and netdev, nothing in the protocol's own family;
//   icmp/icmpv6/igmp also name the network protocol: ether type in bridge,
//     meta protocol in netdev, meta nfproto in inet;
//   transport fields: meta l4proto;
//   ether fields outside bridge: meta iiftype ether; vlan: ether type 8021q.
// The listing form leaves these out (dependencies.cc), so they come back here.
#include <string>

#include "lower.h"
#include "selectors.h"

namespace nfx::lower {

namespace {

using ir::Bytes;

enum MetaKey : uint32_t { kMetaProtocol = 1, kMetaIiftype = 8, kMetaNfproto = 15, kMetaL4proto = 16 };

ir::Stmt match_eq(ir::ValuePtr lhs, Bytes value) {
  ir::Stmt s;
  s.kind = ir::StmtKind::Match;
  s.pred.kind = ir::PredKind::Cmp;
  s.pred.op = ir::CmpOp::Eq;
  s.pred.lhs = std::move(lhs);
  s.pred.value = std::move(value);
  return s;
}

ir::ValuePtr meta(uint32_t key, uint32_t len, ir::Order order) {
  auto v = std::make_shared<ir::Value>();
  v->kind = ir::ValueKind::Meta;
  v->key = key;
  v->len = len;
  v->order = order;
  return v;
}

// The type field of the Ethernet header, or at 16 the type a VLAN tag
// encapsulates.
ir::ValuePtr ether_type_load(uint32_t offset = 12) {
  auto v = std::make_shared<ir::Value>();
  v->kind = ir::ValueKind::Payload;
  v->base = ir::PayloadBase::Link;
  v->offset = offset;
  v->len = 2;
  return v;
}

uint16_t ethertype_of(const std::string& proto) {
  if (proto == "ip" || proto == "icmp" || proto == "igmp") return 0x0800;
  if (proto == "ip6" || proto == "icmpv6") return 0x86dd;
  if (proto == "arp") return 0x0806;
  return 0;
}

void once(RuleState& st, const std::string& key, std::vector<ir::Stmt>& out, ir::Stmt s) {
  if (!st.deps.insert(key).second) return;
  out.push_back(std::move(s));
}

// The network protocol named explicitly for `proto` (ip, ip6, arp, icmp, icmpv6).
void network_dependency(Context& ctx, RuleState& st, const std::string& proto, bool via_ether_type,
                        std::vector<ir::Stmt>& out) {
  const std::string& fam = ctx.table.family;
  uint16_t et = ethertype_of(proto);
  if (!et) return;
  // One match names the network protocol, whichever field asked first: after
  // `ip6 hoplimit` (meta protocol) an `exthdr rt` needs no ether type match.
  if (st.deps.count("network fixed")) return;  // the rule named it (lower_match)
  if (!st.deps.insert("network" + std::to_string(et)).second) return;
  if (fam == "inet") {
    if (et == 0x0806) return;  // arp never reaches inet chains
    uint8_t nf = et == 0x0800 ? 2 : 10;
    once(st, "nfproto" + std::to_string(nf), out, match_eq(meta(kMetaNfproto, 1, ir::Order::Host), {nf}));
  } else if (fam == "bridge" || fam == "netdev") {
    Bytes v = ir::be_from_u64(et, 2);
    // After a vlan match the protocol is the tag's type field; in bridge
    // nft names arp (and icmp's network protocol) by the ether type, ip and
    // ip6 by meta protocol (VLAN-aware), as nft 1.0.6 --debug=netlink shows.
    if (st.deps.count("ethertype" + std::to_string(0x8100)))
      once(st, "vlantype" + std::to_string(et), out, match_eq(ether_type_load(16), v));
    else if ((via_ether_type || et == 0x0806) && fam == "bridge")
      once(st, "ethertype" + std::to_string(et), out, match_eq(ether_type_load(), v));
    // In netdev, once the rule has read an Ethernet field (its meta iiftype
    // dependency is in place) nft names the protocol by the ether type too.
    else if (fam == "netdev" && st.deps.count("iiftype"))
      once(st, "ethertype" + std::to_string(et), out, match_eq(ether_type_load(), v));
    else
      once(st, "protocol" + std::to_string(et), out, match_eq(meta(kMetaProtocol, 2, ir::Order::Big), v));
  }
}

// A field that exists for one ICMP type only (icmp mtu: destination
// unreachable) gets `icmp type N` before it, unless the rule fixed the type
// (the several-type ones, icmp id, are explicit matches already: the front
// end adds them as nft lists them).
void icmp_type_dependency(RuleState& st, const Field& f, std::vector<ir::Stmt>& out) {
  if (f.proto != "icmp" && f.proto != "icmpv6") return;
  if (f.field == "type") {
    st.deps.insert("icmptype");
    return;
  }
  const std::vector<uint8_t>* types = icmp_field_types(f.proto, f.field);
  if (!types || types->size() != 1) return;
  auto type = std::make_shared<ir::Value>();
  type->kind = ir::ValueKind::Payload;
  type->base = ir::PayloadBase::Transport;
  type->offset = 0;
  type->len = 1;
  once(st, "icmptype", out, match_eq(type, {types->front()}));
}

}  // namespace

void add_dependencies(Context& ctx, RuleState& st, const Field& f, std::vector<ir::Stmt>& out) {
  if (f.proto.empty()) return;
  const std::string& fam = ctx.table.family;
  // Named by the ether type in bridge, as icmp is (nft 1.0.6).
  if (f.proto == "ip6 exthdr") return network_dependency(ctx, st, "ip6", true, out);
  if (f.proto == "ip option") return network_dependency(ctx, st, "ip", true, out);
  const ProtoDesc* p = find_proto(f.proto);
  if (!p) return;
  switch (p->base) {
    case PayloadBase::LinkLayer:
      if (fam != "bridge")
        once(st, "iiftype", out, match_eq(meta(kMetaIiftype, 2, ir::Order::Host), ir::reversed(ir::be_from_u64(1, 2))));
      if (f.proto == "vlan") once(st, "ethertype" + std::to_string(0x8100), out, match_eq(ether_type_load(), ir::be_from_u64(0x8100, 2)));
      return;
    case PayloadBase::Network:
      network_dependency(ctx, st, f.proto, false, out);
      return;
    case PayloadBase::Transport: {
      if (st.deps.count("transport fixed")) {  // the rule matched ip protocol / meta l4proto itself
        icmp_type_dependency(st, f, out);
        return;
      }
      if (f.proto == "icmp" || f.proto == "icmpv6" || f.proto == "igmp") network_dependency(ctx, st, f.proto, true, out);
      if (!p->dep_key || std::string(p->dep_key) != "l4proto") return;  // th: any transport
      once(st, "l4proto" + std::to_string(p->dep_value), out,
           match_eq(meta(kMetaL4proto, 1, ir::Order::Host), {static_cast<uint8_t>(p->dep_value)}));
      icmp_type_dependency(st, f, out);
      return;
    }
    case PayloadBase::Inner:
      return;
  }
}

}  // namespace nfx::lower
