// The protocol context of a rule (nft's proto_ctx): which link, network and
// transport protocols a rule has fixed so far, the dependencies nft adds for
// payload selectors, and the conflicts it reports when a selector does not
// fit what the rule already matched ("conflicting protocols specified: ip6
// vs. ip"). Also the selector checks that depend on this context or on the
// table family (ct/rt address families, meta nfproto, ipsec, fib flags).
#include <fmt/format.h>

#include <algorithm>

#include "constraints_internal.h"
#include "selectors.h"

namespace nfx::constraints_detail {

namespace {

bool is_dummy_ll(const std::string& p) { return p == "inet" || p == "netdev"; }

std::string conflict(const std::string& have, const std::string& want) {
  return fmt::format("conflicting protocols specified: {} vs. {}", have, want);
}

const ProtoDesc* proto_of(const Expr& e) {
  if (e.kind != ExprKind::Selector || e.selector != SelectorKind::Payload) return nullptr;
  return find_proto(e.text);
}

const std::string& field_of(const Expr& e) {
  static const std::string none;
  return e.path.empty() ? none : e.path[0];
}

// Index of the topmost occurrence of `p` in the link layer stack, or -1.
int ll_index(const ProtoCtx& pc, const std::string& p) {
  for (int i = static_cast<int>(pc.ll.size()) - 1; i >= 0; --i)
    if (pc.ll[static_cast<size_t>(i)] == p) return i;
  return -1;
}

void ll_push(ProtoCtx& pc, const std::string& p) {
  pc.ll.push_back(p);
  pc.ll_next.emplace_back();
}

// The link layer a payload selector of the link layer needs: an ethernet
// header (nft adds "meta iiftype ether" outside bridge tables).
void ll_make_ether(ProtoCtx& pc) {
  pc.ll.clear();
  pc.ll_next.clear();
  ll_push(pc, "ether");
}

Check use_link(ProtoCtx& pc, const Expr& sel, const std::string& p) {
  if (pc.ll.empty() || is_dummy_ll(pc.ll.back())) {
    ll_make_ether(pc);
    if (p == "ether") return std::nullopt;
  }
  if (ll_index(pc, p) >= 0) return std::nullopt;
  // nft: `meta protocol ip vlan id 1` -> "conflicting protocols specified:
  // ether vs. vlan" (whatever protocol was named, in bridge and netdev).
  if (pc.meta_protocol) return problem(sel.loc, conflict("ether", p));
  const std::string top = pc.ll.back();
  if (!find_proto_link(top, p)) return problem(sel.loc, conflict(top, p));
  std::string& next = pc.ll_next.back();
  if (!next.empty() && next != p) return problem(sel.loc, conflict(top, p));
  next = p;
  ll_push(pc, p);
  return std::nullopt;
}

Check use_network(ProtoCtx& pc, const Expr& sel, const std::string& p) {
  if (pc.nh.empty()) {
    if (!pc.ll.empty() && !is_dummy_ll(pc.ll.back())) {
      std::string& next = pc.ll_next.back();
      if (!next.empty() && next != p) return problem(sel.loc, conflict(next, p));
      next = p;
    }
    pc.nh = p;
    return std::nullopt;
  }
  if (pc.nh != p) return problem(sel.loc, conflict(pc.nh, p));
  return std::nullopt;
}

Check use_transport(ProtoCtx& pc, const Expr& sel, const std::string& p, const std::string& field) {
  if (p == "th") return std::nullopt;  // any transport header with ports
  if (pc.th.empty()) {
    pc.th.push_back(p);
  } else {
    for (const auto& t : pc.th)
      if (t != p) return problem(sel.loc, conflict(t, p));
  }
  if (p == "icmp" || p == "icmpv6") {
    if (const auto* types = icmp_field_types(p, field)) {
      if (pc.icmp_type >= 0) {
        if (std::find(types->begin(), types->end(), static_cast<uint8_t>(pc.icmp_type)) == types->end())
          return problem(sel.loc, fmt::format("incompatible icmp match: rule has {}, need {}", pc.icmp_type,
                                              static_cast<unsigned>(types->front())));
      } else if (types->size() == 1) {
        pc.icmp_type = types->front();  // the dependency nft adds fixes the type
      }
    }
  }
  return std::nullopt;
}

// A tunnel header (vxlan, geneve over udp; gre, gretap as transport):
// nft's expr_evaluate_inner.
Check use_tunnel(ProtoCtx& pc, const Expr& sel, const std::string& tunnel) {
  const ProtoDesc* d = find_proto(tunnel);
  if (!d) return std::nullopt;
  if (d->base == PayloadBase::Transport) {  // gre, gretap: nft adds meta l4proto gre
    if (pc.th.empty()) pc.th.push_back(tunnel);
    return std::nullopt;
  }
  if (pc.th.empty()) return problem(sel.loc, "no transport protocol specified");
  if (!find_proto_link(pc.th.back(), tunnel))
    return problem(sel.loc, fmt::format("unexpected transport protocol {}", pc.th.back()));
  return std::nullopt;
}

// A header inside a tunnel ("vxlan ip saddr", "gre tcp dport").
Check use_inner(ProtoCtx& pc, const Expr& sel) {
  if (auto c = use_tunnel(pc, sel, sel.text)) return c;
  if (sel.path.empty()) return std::nullopt;
  const ProtoDesc* inner = find_proto(sel.path[0]);
  const InnerTunnelDesc* t = find_inner_tunnel(sel.text);
  constexpr unsigned kInnerLL = 2;  // NFT_INNER_LL: the tunnel carries a link layer
  if (inner && t && inner->base == PayloadBase::LinkLayer && !(t->flags & kInnerLL))
    return problem(sel.loc, fmt::format("syntax error, unexpected {}", sel.path[0]));
  return std::nullopt;
}

Check use_payload(ProtoCtx& pc, const Expr& sel) {
  const ProtoDesc* d = proto_of(sel);
  if (!d) return std::nullopt;
  switch (d->base) {
    case PayloadBase::LinkLayer:
      return use_link(pc, sel, d->name);
    case PayloadBase::Network:
      return use_network(pc, sel, d->name);
    case PayloadBase::Transport:
      return use_transport(pc, sel, d->name, field_of(sel));
    case PayloadBase::Inner:
      return use_tunnel(pc, sel, d->name);
  }
  return std::nullopt;
}

bool fib_has(const Expr& sel, const char* flag) {
  if (sel.path.size() < 2) return false;
  for (size_t i = 0; i + 1 < sel.path.size(); ++i)
    if (sel.path[i] == flag) return true;
  return false;
}

Check use_selector(ProtoCtx& pc, const Expr& e, bool in_concat) {
  const auto& p = e.path;
  switch (e.selector) {
    case SelectorKind::Payload:
      return use_payload(pc, e);
    case SelectorKind::Inner:
      return use_inner(pc, e);
    case SelectorKind::Exthdr:
      // IPv6 extension headers need an IPv6 network header.
      if (!pc.nh.empty() && pc.nh != "ip6")
        return problem(e.loc, fmt::format("cannot use exthdr with {}", pc.nh));
      if (pc.nh.empty()) return use_network(pc, e, "ip6");
      return std::nullopt;
    case SelectorKind::IpOption:
      if (!pc.nh.empty() && pc.nh != "ip") return problem(e.loc, fmt::format("cannot use exthdr with {}", pc.nh));
      if (pc.nh.empty()) return use_network(pc, e, "ip");
      return std::nullopt;
    case SelectorKind::Meta:
      if (!p.empty() && p[0] == "nfproto" && pc.family != "inet")
        return problem(e.loc, "meta nfproto is only useful in the inet family");
      return std::nullopt;
    case SelectorKind::Ct: {
      if (p.empty()) return std::nullopt;
      const std::string& key = p.back();
      if (p.size() >= 2 && p[0] == "both") return problem(e.loc, "syntax error, unexpected string");
      if (p.size() >= 2) {
        const KeyDesc* k = find_key(KeyFamily::Ct, p.size() == 3 ? p[1] + " " + key : key);
        if (k && (k->flags & kNoDir)) return problem(e.loc, fmt::format("syntax error, unexpected {}", key));
      }
      if (key != "saddr" && key != "daddr") return std::nullopt;
      if (p.size() == 3) {  // ct original ip saddr
        const std::string& fam = p[1];
        if ((fam == "ip" && pc.nh == "ip6") || (fam == "ip6" && pc.nh == "ip"))
          return problem(e.loc, conflict(pc.nh, fam));
        return std::nullopt;
      }
      if (in_concat) return problem(e.loc, "specify either ip or ip6 for address matching");
      // typed by eval from the rule's network protocol (its nfproto match may be gone)
      bool typed = e.dtype == "ipv4_addr" || e.dtype == "ipv6_addr";
      if (pc.nh != "ip" && pc.nh != "ip6" && !typed)
        return problem(e.loc, fmt::format("cannot determine ip protocol version, use \"ip {0}\" or \"ip6 {0}\" instead",
                                          key));
      return std::nullopt;
    }
    case SelectorKind::Rt: {
      if (p.empty() || p.back() != "nexthop") return std::nullopt;
      if (p.size() == 2) {
        if (p[0] == "ip6" && pc.family == "ip") return problem(e.loc, "ip6 nexthop will not match");
        if (p[0] == "ip" && pc.family == "ip6") return problem(e.loc, "ip nexthop will not match");
        return std::nullopt;
      }
      if (pc.nh != "ip" && pc.nh != "ip6")
        return problem(e.loc, "cannot determine ip protocol version, use \"ip nexthop\" or \"ip6 nexthop\" instead");
      return std::nullopt;
    }
    case SelectorKind::Ipsec:
      if (pc.family != "ip" && pc.family != "ip6" && pc.family != "inet")
        return problem(e.loc, "ipsec expression is only valid in ip/ip6/inet tables");
      for (int64_t spnum : e.args)
        if (spnum > 255) return problem(e.loc, "value too large");
      return std::nullopt;
    case SelectorKind::Fib: {
      bool saddr = fib_has(e, "saddr"), daddr = fib_has(e, "daddr");
      if (!saddr && !daddr) return problem(e.loc, "fib: need either saddr or daddr");
      if (saddr && daddr) return problem(e.loc, "fib: saddr and daddr are mutually exclusive");
      if (fib_has(e, "iif") && fib_has(e, "oif")) return problem(e.loc, "fib: iif and oif are mutually exclusive");
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

void proto_init(ProtoCtx& pc, const std::string& family) {
  pc = ProtoCtx{};
  pc.family = family;
  if (family == "ip") pc.nh = "ip";
  else if (family == "ip6") pc.nh = "ip6";
  else if (family == "arp") pc.nh = "arp";
  else if (family == "inet") ll_push(pc, "inet");
  else if (family == "bridge") ll_push(pc, "ether");
  else if (family == "netdev") ll_push(pc, "netdev");
}

Check proto_use(ProtoCtx& pc, const Expr& e, bool in_concat) {
  switch (e.kind) {
    case ExprKind::Selector: {
      if (auto c = use_selector(pc, e, in_concat)) return c;
      for (const auto& k : e.kids)  // jhash input
        if (k)
          if (auto c = proto_use(pc, *k, true)) return c;
      return std::nullopt;
    }
    case ExprKind::Concat:
      for (const auto& k : e.kids)
        if (k)
          if (auto c = proto_use(pc, *k, true)) return c;
      return std::nullopt;
    case ExprKind::Map:
      // the key is looked up in a set; the mappings are constants
      if (!e.kids.empty() && e.kids[0]) return proto_use(pc, *e.kids[0], true);
      return std::nullopt;
    case ExprKind::Binop:
    case ExprKind::Relational:
    case ExprKind::Unary:
    case ExprKind::Mapping:  // nat's addr:port
      for (const auto& k : e.kids)
        if (k)
          if (auto c = proto_use(pc, *k, in_concat)) return c;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

namespace {

// The protocol a lower layer names with `value` ("ether" 0x0800 -> "ip"),
// or "unknown" as nft's proto_unknown.
std::string upper_of(const std::string& lower, uint64_t value) {
  const ProtoLink* l = find_proto_link_by_value(lower, value);
  return l ? l->upper : "unknown";
}

void match_one(ProtoCtx& pc, const Expr& lhs, uint64_t v) {
  if (lhs.selector == SelectorKind::Meta) {
    const std::string key = lhs.path.empty() ? "" : lhs.path[0];
    if (key == "nfproto") {
      if (pc.family == "inet") pc.nh = upper_of("inet", v);
    } else if (key == "protocol") {
      if (pc.family == "bridge" || pc.family == "netdev") {
        pc.meta_protocol = true;
        std::string up = upper_of("netdev", v);
        const ProtoDesc* d = find_proto(up);
        if (!d || d->base == PayloadBase::Network) pc.nh = up;
      }
    } else if (key == "l4proto") {
      std::string up = upper_of("inet-service", v);
      if (std::find(pc.th.begin(), pc.th.end(), up) == pc.th.end()) pc.th.push_back(up);
    }
    return;
  }
  const ProtoDesc* d = proto_of(lhs);
  if (!d) return;
  const std::string& field = field_of(lhs);
  const std::string name = d->name;
  if ((name == "ether" || name == "vlan") && field == "type") {
    std::string up = upper_of(name, v);
    int idx = ll_index(pc, name);
    if (idx < 0) return;
    pc.ll_next[static_cast<size_t>(idx)] = up;
    const ProtoDesc* ud = find_proto(up);
    if (ud && ud->base == PayloadBase::LinkLayer) {
      if (static_cast<size_t>(idx) + 1 == pc.ll.size()) ll_push(pc, up);
    } else {
      pc.nh = up;
    }
  } else if ((name == "ip" && field == "protocol") || (name == "ip6" && field == "nexthdr")) {
    std::string up = upper_of(name, v);
    if (std::find(pc.th.begin(), pc.th.end(), up) == pc.th.end()) pc.th.push_back(up);
  } else if ((name == "icmp" || name == "icmpv6") && field == "type") {
    pc.icmp_type = static_cast<int>(v);
  }
}

}  // namespace

void proto_match(ProtoCtx& pc, const Expr& lhs, const Expr& rhs) {
  if (lhs.kind != ExprKind::Selector) return;
  if (rhs.kind == ExprKind::Set) {
    // nft records every element; only transport keeps them all (ambiguous).
    for (const auto& el : rhs.kids) {
      const Expr* k = el.get();
      if (k && k->kind == ExprKind::SetElem && !k->kids.empty()) k = k->kids[0].get();
      if (!k) continue;
      if (auto v = value_u64(*k)) {
        // an ICMP type set does not fix the type
        if (lhs.selector == SelectorKind::Payload && field_of(lhs) == "type" &&
            (lhs.text == "icmp" || lhs.text == "icmpv6"))
          continue;
        match_one(pc, lhs, *v);
      }
    }
    return;
  }
  if (auto v = value_u64(rhs)) match_one(pc, lhs, *v);
}

std::optional<uint64_t> value_u64(const Expr& e) {
  if (e.kind != ExprKind::Value || e.bytes.empty() || e.bytes.size() > 8) return std::nullopt;
  uint64_t v = 0;
  for (uint8_t b : e.bytes) v = (v << 8) | b;
  return v;
}

bool is_selector(const Expr& e, SelectorKind kind) { return e.kind == ExprKind::Selector && e.selector == kind; }

std::string meta_key(const Expr& e) {
  if (!is_selector(e, SelectorKind::Meta) || e.path.empty()) return "";
  return e.path[0];
}

}  // namespace nfx::constraints_detail
