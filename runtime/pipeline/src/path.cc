// Hook order per path, as the kernel calls them:
//   receive: netdev ingress (and inet ingress), then for IPv4/IPv6 the
//   checks of ip_rcv_core / ip6_rcv_core, then prerouting; for ARP, arp in.
//   local delivery: input. Forwarding: forward, postrouting, netdev egress.
//   Local output: output, postrouting, netdev egress.
//   Bridge: bridge prerouting, forward, postrouting between the ports.
#include <nfx/helpers.h>
#include <nfx/pipeline.h>

#include <algorithm>
#include <cstring>

namespace nfx::pipeline {

namespace {

using vm::Hook;

constexpr uint8_t kPacketBroadcast = 1, kPacketMulticast = 2, kPacketOtherHost = 3;

using Trace = std::function<void(const vm::TraceEvent&)>;

bool send_reply(vm::Interpreter& vm, vm::Reply& r, const vm::Packet& cause, const Interface& dev, const Trace& trace,
                std::vector<std::string>& log);
void set_devices(vm::Packet& pkt, const Interface* in, const Interface* out);

struct Walk {
  vm::Interpreter& vm;
  vm::Packet& pkt;
  PathResult& out;
  const Trace& trace;
  const Interface* reply_dev = nullptr;  // where replies leave; nullptr: they are for this host

  // The devices the next hook passes (nf_hook_state's in and out) and the
  // interface addresses its chains' NAT and reject use. They reach the
  // packet's metadata only when a hook has chains to run: most hooks a
  // forwarded packet meets have none.
  const Interface* dev_in = nullptr;
  const Interface* dev_out = nullptr;
  const Interface* addrs_in = nullptr;   // the receiving interface (none on the output path)
  const Interface* addrs_out = nullptr;  // the interface the packet leaves by, once known
  bool devices_stale = false, addrs_in_stale = false, addrs_out_stale = false;

  void devices(const Interface* in, const Interface* out_dev) {
    dev_in = in;
    dev_out = out_dev;
    devices_stale = true;
  }
  void in_addresses(const Interface* i) {
    addrs_in = i;
    addrs_in_stale = true;
  }
  void out_addresses(const Interface& i) {
    addrs_out = &i;
    addrs_out_stale = true;
  }
  // A packet loop reuses one packet's metadata: the same interface's
  // addresses, there from the last packet, are left in place.
  static void copy_if_changed(std::vector<uint8_t>& to, const std::vector<uint8_t>& from) {
    if (to.size() != from.size() || !std::equal(from.begin(), from.end(), to.begin())) to.assign(from.begin(), from.end());
  }
  // Writes what changed into the packet's metadata.
  void sync() {
    vm::PacketMeta& m = pkt.meta;
    if (devices_stale) set_devices(pkt, dev_in, dev_out);
    if (addrs_in_stale) {
      static const Interface none;
      const Interface& i = addrs_in ? *addrs_in : none;
      copy_if_changed(m.iif_addr4, i.addr4);
      copy_if_changed(m.iif_addr6, i.addr6);
      copy_if_changed(m.iif_mac, i.mac);
    }
    if (addrs_out_stale) {
      copy_if_changed(m.oif_addr4, addrs_out->addr4);
      copy_if_changed(m.oif_addr6, addrs_out->addr6);
    }
    devices_stale = addrs_in_stale = addrs_out_stale = false;
  }

  // Runs one hook; false if the packet does not go on.
  bool hook(ir::Family family, Hook h, vm::PriorityRange priorities = {}) {
    if (!out.record_hooks && !vm.has_chains(family, h)) {
      out.mark_ran(family, h);  // nothing to run: accept, without building a decision
      return true;
    }
    sync();
    // a packet loop reuses one decision's buffers; a recording run keeps each
    if (out.record_hooks) out.hooks.emplace_back();
    vm::Decision& d = out.record_hooks ? out.hooks.back() : out.hook_decision;
    vm.run_hook(d, family, h, pkt, trace, priorities);
    out.log.insert(out.log.end(), d.log.begin(), d.log.end());
    for (vm::Reply& r : d.replies)
      if (reply_dev && icmp_allowed(r) && send_reply(vm, r, pkt, *reply_dev, trace, out.log))
        out.replies.push_back(std::move(r.frame));
    d.replies.clear();
    const bool go_on = d.verdict == ir::VerdictCode::Accept;
    out.mark_ran(d.hook_family, d.hook);
    if (!out.record_hooks) {
      if (!d.chain.empty() || !go_on) adopt(out.decision, d);
      return go_on;
    }
    if (!d.chain.empty() || !go_on) out.decision = d;
    return go_on;
  }

  // An ICMP error the IP stack sends (a reject of ip, ip6 and inet chains
  // goes through icmp_send too) within the stack's rate limits. Bridge and
  // netdev rejects build and send their own, unlimited.
  bool icmp_allowed(const vm::Reply& r) const {
    if (!out.icmp_limit || r.via != vm::Reply::Via::IpOutput) return true;
    std::span<const uint8_t> f = r.frame.bytes();
    if (pkt.layout.link == packet::LinkType::Ethernet) {
      size_t at = 12;  // the EtherType, past any VLAN tags, then the IP header
      auto type = [&] { return f.size() >= at + 2 ? f[at] << 8 | f[at + 1] : 0; };
      while (type() == 0x8100 || type() == 0x88a8) at += 4;
      f = f.size() >= at + 2 ? f.subspan(at + 2) : std::span<const uint8_t>();
    }
    return out.icmp_limit->allow(f, pkt.meta.now_ns);
  }

  // `from` (replies already taken) becomes the path's decision; strings
  // that hold the same already are left alone.
  static void adopt(vm::Decision& to, const vm::Decision& from) {
    to.hook_family = from.hook_family;
    to.hook = from.hook;
    to.verdict = from.verdict;
    to.by_policy = from.by_policy;
    to.handle = from.handle;
    if (to.family != from.family) to.family = from.family;
    if (to.table != from.table) to.table = from.table;
    if (to.chain != from.chain) to.chain = from.chain;
    to.log = from.log;
    to.replies.clear();
  }
};

// The kernel's own hooks in prerouting and output once a rule uses
// connection tracking: defragmentation at -400 and conntrack at -200. A
// hook registered later runs before chains of its priority, as conntrack's
// does (it registers when the first ct rule loads), so chains below -400
// see fragments and chains from -200 on see the connection.
constexpr int kDefragPriority = -400, kConntrackPriority = -200;
// The kernel's NAT hooks: destination NAT in prerouting and output, source
// NAT in postrouting and input. The nat chains of a hook run inside them.
constexpr int kDstNatPriority = -100, kSrcNatPriority = 100;

bool drop_before(Walk& w, std::string why) {
  w.out.dropped_before = std::move(why);
  w.out.decision = vm::Decision{};
  w.out.decision.verdict = ir::VerdictCode::Drop;
  return false;
}

nat::Hook nat_hook(Hook h) {
  switch (h) {
    case Hook::Prerouting: return nat::Hook::Prerouting;
    case Hook::Input: return nat::Hook::Input;
    case Hook::Output: return nat::Hook::Output;
    default: return nat::Hook::Postrouting;
  }
}

// nf_nat_ipv4_fn / nf_nat_ipv6_fn / nf_nat_inet_fn at hook `h`: an ICMP
// error related to a connection is translated inside and out; the first
// packet of a connection (or of a related one) not yet bound for the hook's
// manip meets the nat chains, and gets a null binding when none binds it;
// then every packet is rewritten by its connection's bindings.
bool nat_step(Walk& w, ir::Family fam, Hook h) {
  vm::Packet& p = w.pkt;
  const std::shared_ptr<conntrack::Entry> ct = p.ct.entry;
  if (!ct) return true;
  const nat::Hook nh = nat_hook(h);
  const nat::Manip manip = nat::manip_of(nh);
  std::span<uint8_t> frame(p.frame.data(), p.frame.size());
  const conntrack::Info info = p.ct.info;
  const bool related = info == conntrack::Info::Related || info == conntrack::Info::RelatedReply;
  if (related && nat::is_icmp(frame, p.layout)) {
    if (!nat::translate_icmp_error(frame, p.layout, *ct, p.ct.dir, nh))
      return drop_before(w, "nf_nat: the ICMP error cannot be translated");
    return true;
  }
  if ((info == conntrack::Info::New || related) && !nat::initialized(*ct, manip)) {
    if (!w.hook(fam, h, {INT32_MIN, INT32_MAX, vm::ChainTypes::Nat})) return false;
    if (!nat::initialized(*ct, manip)) w.vm.nat().null_binding(w.vm.conntrack(), ct, manip, p.meta.now_ns);
  }
  if (!nat::translate(frame, p.layout, *ct, p.ct.dir, nh)) return drop_before(w, "nf_nat: headers cut short");
  return true;
}

// The chains of `h` from priority `from` on, with the NAT hook at `at`
// between them when the family has NAT.
bool hook_with_nat(Walk& w, ir::Family fam, Hook h, int from, int at) {
  if (!w.vm.nats(fam)) return w.hook(fam, h, {from, INT32_MAX});
  return w.hook(fam, h, {from, at - 1, vm::ChainTypes::NotNat}) && nat_step(w, fam, h) &&
         w.hook(fam, h, {at, INT32_MAX, vm::ChainTypes::NotNat});
}

// Runs `h` (prerouting or output) for an IP packet with the kernel's
// defragmentation and conntrack steps between its chains when `fam` is
// tracked; false if the packet does not go on.
bool tracked_hook(Walk& w, ir::Family fam, Hook h) {
  if (!w.vm.tracks(fam)) return w.hook(fam, h);
  if (!w.hook(fam, h, {INT32_MIN, kDefragPriority - 1})) return false;
  conntrack::Defrag d = w.vm.conntrack().reassembler().in(w.pkt.frame.bytes(), w.pkt.layout,
                                                          w.pkt.ct_zone.value_or(0), w.pkt.meta.now_ns);
  if (d.action == conntrack::Defrag::Hold) return drop_before(w, "nf_defrag: " + d.why);
  if (d.action == conntrack::Defrag::Replace) {
    w.pkt.frame = packet::Frame(std::span<const uint8_t>(d.frame));
    w.pkt.reparse();
    w.pkt.fragment_sizes = std::move(d.fragments);
    w.pkt.fragment_max_size = d.max_size;
  }
  if (!w.hook(fam, h, {kDefragPriority, kConntrackPriority - 1})) return false;
  if (!w.pkt.ct.entry && w.pkt.ct.info != conntrack::Info::Untracked) {
    w.pkt.ct = w.vm.conntrack().in(w.pkt.frame.bytes(), w.pkt.layout,
                                    h == Hook::Output ? conntrack::TrackHook::Output : conntrack::TrackHook::Prerouting,
                                    w.pkt.ct_zone.value_or(0), w.pkt.meta.now_ns);
    if (w.pkt.ct.drop) return drop_before(w, "nf_conntrack: " + w.pkt.ct.why);
  }
  return hook_with_nat(w, fam, h, kConntrackPriority, kDstNatPriority);
}

// Postrouting or input: the chains with source NAT among them.
bool source_nat_hook(Walk& w, ir::Family fam, Hook h) {
  if (!w.vm.tracks(fam)) return w.hook(fam, h);
  return hook_with_nat(w, fam, h, INT32_MIN, kSrcNatPriority);
}

// __nf_conntrack_confirm after the last hook (input or postrouting): a new
// connection joins the table; false when it cannot (a clash or a full table).
bool confirm(Walk& w) {
  if (!w.pkt.ct.entry) return true;
  // nf_confirm: the connection's helper and sequence adjustment first
  helpers::Outcome h = helpers::confirm_step(w.pkt.frame, w.pkt.layout, w.vm.conntrack(), w.vm.nat(), w.pkt.ct,
                                             w.pkt.meta.now_ns);
  if (h.drop) return drop_before(w, h.why);
  if (h.resized) w.pkt.reparse();
  if (w.vm.conntrack().confirm(w.pkt.ct, w.pkt.meta.now_ns)) return true;
  return drop_before(w, "nf_conntrack_confirm (the connection clashed or the table is full)");
}

void set_context(vm::Packet& pkt, packet::Context c) {
  pkt.layout = packet::parse_layout(pkt.frame.bytes(), pkt.layout.link, c);
}

// Which IP family the frame carries, and whether the stack accepts it.
bool ip_family(vm::Packet& pkt, ir::Family& fam, PathResult& out) {
  if (pkt.layout.context != packet::Context::IpStack) set_context(pkt, packet::Context::IpStack);
  const packet::PacketLayout& l = pkt.layout;
  if (l.protocol == packet::kEthPIp) fam = ir::Family::Ip;
  else if (l.protocol == packet::kEthPIpv6) fam = ir::Family::Ip6;
  else return false;
  bool ok = fam == ir::Family::Ip ? l.ip_rcv_ok : l.ipv6_rcv_ok;
  if (!ok) out.dropped_before = fam == ir::Family::Ip ? "ip_rcv" : "ipv6_rcv";
  // ip_rcv_core / ip6_rcv_core trim what follows the IP packet (Ethernet
  // padding): a forwarded frame leaves without it.
  if (ok && pkt.frame.size() > l.end) pkt.frame.resize(l.end);
  return ok;
}

// ip_forward / ip6_forward before the forward hook: a packet with a TTL
// (hop limit) of 1 or less is dropped (time exceeded goes back); one larger
// than the output interface's MTU is dropped when it may not be cut here
// (IPv4 with DF, or reassembled from a fragment larger than the MTU; IPv6
// always), answered with fragmentation needed / packet too big carrying the
// MTU in `mtu_error`; the others go on with the TTL decremented, the IPv4
// header checksum adjusted as ip_decrease_ttl does.
bool forward_hop(Walk& w, ir::Family fam, uint32_t mtu, uint32_t& mtu_error) {
  vm::Packet& pkt = w.pkt;
  uint8_t* nh = pkt.frame.data() + pkt.layout.nh_off;
  uint8_t& ttl = nh[fam == ir::Family::Ip ? 8 : 7];
  if (ttl <= 1) return drop_before(w, fam == ir::Family::Ip ? "ip_forward (ttl)" : "ip6_forward (hop limit)");
  uint32_t len = pkt.layout.end - static_cast<uint32_t>(pkt.layout.nh_off);
  if (mtu != 0 && len > mtu) {
    bool df = fam == ir::Family::Ip && (nh[6] & 0x40);
    if (fam == ir::Family::Ip6 || df || pkt.fragment_max_size > mtu) {
      mtu_error = mtu;
      return drop_before(w, fam == ir::Family::Ip ? "ip_forward (fragmentation needed)" : "ip6_forward (packet too big)");
    }
  }
  --ttl;
  if (fam == ir::Family::Ip) {
    // check += htons(0x0100) on the field as stored, with end-around carry
    // (on a little-endian host: the first byte gets the increment).
    uint32_t check = nh[10] | (uint32_t{nh[11]} << 8);
    check += 1;
    check += check >= 0xffff ? 1 : 0;
    nh[10] = static_cast<uint8_t>(check);
    nh[11] = static_cast<uint8_t>(check >> 8);
  }
  return true;
}

// ip_fragment's cut of an IPv4 packet larger than the MTU (DF clear): the
// payload bytes of each piece, all but the last a multiple of 8.
std::vector<uint32_t> mtu_cut(const vm::Packet& pkt, uint32_t mtu) {
  const uint8_t* nh = pkt.frame.data() + pkt.layout.nh_off;
  uint32_t ihl = (nh[0] & 0x0f) * 4u;
  uint32_t payload = pkt.layout.end - static_cast<uint32_t>(pkt.layout.nh_off) - ihl;
  std::vector<uint32_t> sizes;
  if (mtu <= ihl) return sizes;  // no room for a piece: it leaves whole
  uint32_t step = ((mtu - ihl) / 8) * 8;
  if (step == 0) return sizes;
  for (uint32_t off = 0; off < payload; off += step) sizes.push_back(std::min(step, payload - off));
  return sizes;
}

// eth_type_trans: group addresses are broadcast or multicast; a unicast
// frame is for this host on the routed paths (the frame was sent to the
// interface's address) and for another host on the bridge path (a bridge
// forwards only frames not addressed to itself).
void set_pkttype(vm::Packet& pkt, bool bridged) {
  const auto& f = pkt.frame;
  if (pkt.layout.mac_off < 0 || f.size() < 6) return;
  const uint8_t* d = f.data();
  if (d[0] & 1) {
    bool bcast = true;
    for (int i = 0; i < 6; ++i) bcast &= d[i] == 0xff;
    pkt.meta.pkttype = bcast ? kPacketBroadcast : kPacketMulticast;
  } else if (bridged) {
    pkt.meta.pkttype = kPacketOtherHost;
  }
}

// The devices a hook sees (nf_hook_state's in and out): each hook call in
// the kernel passes its own, e.g. bridge postrouting and netdev egress have
// no input device, prerouting and ingress no output device.
void set_devices(vm::Packet& pkt, const Interface* in, const Interface* out) {
  // assigned or cleared, never built anew: the packet's strings are reused
  if (in) pkt.meta.iifname = in->name;
  else pkt.meta.iifname.clear();
  pkt.meta.iif = in ? in->index : 0;
  if (out) pkt.meta.oifname = out->name;
  else pkt.meta.oifname.clear();
  pkt.meta.oif = out ? out->index : 0;
}

// A reply to `cause` on its way out of `dev`, through the hooks the
// kernel's output path for it runs; true if it leaves.
bool send_reply(vm::Interpreter& vm, vm::Reply& r, const vm::Packet& cause, const Interface& dev, const Trace& trace,
                std::vector<std::string>& log) {
  const packet::LinkType link = cause.layout.link;
  vm::Packet rp;
  rp.frame = r.frame;
  rp.layout.link = link;
  rp.meta.now_ns = cause.meta.now_ns;
  rp.meta.tz_minuteswest = cause.meta.tz_minuteswest;
  if (cause.ct.entry) {
    // nf_ct_attach: a reset or an ICMP error the host sends carries the
    // connection of the packet it answers, RELATED in the other direction
    // (measured: even a rejected first packet's unconfirmed one, which the
    // reply then does not confirm)
    rp.ct.entry = cause.ct.entry;
    rp.ct.dir = cause.ct.dir == conntrack::Dir::Original ? conntrack::Dir::Reply : conntrack::Dir::Original;
    rp.ct.info = rp.ct.dir == conntrack::Dir::Reply ? conntrack::Info::RelatedReply : conntrack::Info::Related;
  }
  if (r.via == vm::Reply::Via::IpOutput) {
    // ip_local_out: output, postrouting, then the device's egress.
    PathResult rr = run_path(vm, Path::Output, rp, dev, dev, trace);
    log.insert(log.end(), rr.log.begin(), rr.log.end());
    r.frame = std::move(rp.frame);
    return rr.accepted;
  }
  PathResult rr;
  Walk w{vm, rp, rr, trace};
  set_context(rp, packet::Context::Validate);
  w.devices(nullptr, &dev);
  bool sent = true;
  // br_forward from the host (local_orig): bridge output and postrouting.
  if (r.via == vm::Reply::Via::BridgeOutput)
    sent = w.hook(ir::Family::Bridge, Hook::Output) && w.hook(ir::Family::Bridge, Hook::Postrouting);
  // dev_queue_xmit: the device's egress.
  sent = sent && w.hook(ir::Family::Netdev, Hook::Egress);
  log.insert(log.end(), rr.log.begin(), rr.log.end());
  r.frame = std::move(rp.frame);
  return sent;
}

// A routed packet leaves with the header neigh_output builds: to the next
// hop's MAC, from the output interface's. (Where those are not known, the
// frame keeps the header it came with.)
void set_next_hop_header(vm::Packet& p, const Interface& oif) {
  if (p.layout.mac_off < 0 || p.frame.size() < 14) return;
  uint8_t* h = p.frame.data() + p.layout.mac_off;
  if (oif.peer_mac.size() == 6) std::memcpy(h, oif.peer_mac.data(), 6);
  if (oif.mac.size() == 6) std::memcpy(h + 6, oif.mac.data(), 6);
}

// An ICMP (ICMPv6) error the IP stack sends about the packet, from the
// input interface's address (or, for a packet to this host, from its
// destination), through output, postrouting and egress like every reply of
// the stack. nfx has no routing table: the reply goes back to the sender.
void send_icmp_error(Walk& w, const Interface& iif, ir::Family fam, uint8_t type, uint8_t code, uint32_t info,
                     bool local) {
  if (w.pkt.layout.link != packet::LinkType::Ethernet) return;
  vm::Packet& p = w.pkt;
  const packet::PacketLayout& l = p.layout;
  std::span<const uint8_t> frame = p.frame.bytes();
  uint32_t end = std::min<uint32_t>(l.end, static_cast<uint32_t>(frame.size()));
  if (l.mac_off < 0 || frame.size() < 14 || l.nh_off >= end) return;
  std::span<const uint8_t> ip = frame.subspan(l.nh_off, end - l.nh_off);
  bool v6 = fam == ir::Family::Ip6;
  packet::RejectRoute route;
  route.pkt_host = p.meta.pkttype == 0;
  const std::vector<uint8_t>& own = v6 ? iif.addr6 : iif.addr4;
  size_t alen = v6 ? 16 : 4;
  if (ip.size() < (v6 ? 40u : 20u)) return;
  std::memcpy(route.icmp_saddr, !local && own.size() == alen ? own.data() : &ip[v6 ? 24 : 16], alen);
  auto icmp = v6 ? packet::icmp_send_v6(ip, type, code, route, info) : packet::icmp_send_v4(ip, type, code, route, info);
  if (!icmp) return;
  std::vector<uint8_t> bytes(14);
  std::memcpy(&bytes[0], &frame[6], 6);
  std::memcpy(&bytes[6], iif.mac.size() == 6 ? iif.mac.data() : &frame[0], 6);
  uint16_t ethertype = v6 ? packet::kEthPIpv6 : packet::kEthPIp;
  bytes[12] = static_cast<uint8_t>(ethertype >> 8);
  bytes[13] = static_cast<uint8_t>(ethertype);
  bytes.insert(bytes.end(), icmp->begin(), icmp->end());
  vm::Reply r{packet::Frame(std::span<const uint8_t>(bytes)), vm::Reply::Via::IpOutput};
  if (w.icmp_allowed(r) && send_reply(w.vm, r, w.pkt, iif, w.trace, w.out.log))
    w.out.replies.push_back(std::move(r.frame));
}

// ip_forward / ip6_forward answer an expired TTL (hop limit) with time
// exceeded.
void time_exceeded(Walk& w, const Interface& iif, ir::Family fam) {
  if (fam == ir::Family::Ip6) send_icmp_error(w, iif, fam, 3, 0, 0, false);
  else send_icmp_error(w, iif, fam, 11, 0, 0, false);
}

}  // namespace

const Interface& unreachable() {
  static const Interface none{"(unreachable)", 0, {}, {}, {}, {}, 0};
  return none;
}

std::vector<packet::Frame> icmp_error(vm::Interpreter& vm, vm::Packet& about, const Interface& iif, uint8_t type,
                                      uint8_t code, uint32_t info, std::vector<std::string>* log,
                                      IcmpRateLimit* limit) {
  PathResult out;
  out.icmp_limit = limit;
  const Trace none;
  set_context(about, packet::Context::IpStack);
  Walk w{vm, about, out, none, &iif};
  ir::Family fam = about.layout.protocol == packet::kEthPIpv6 ? ir::Family::Ip6 : ir::Family::Ip;
  send_icmp_error(w, iif, fam, type, code, info, false);
  if (log) log->insert(log->end(), out.log.begin(), out.log.end());
  return std::move(out.replies);
}

bool path_from_name(const std::string& name, Path& out) {
  if (name == "input") out = Path::Input;
  else if (name == "forward") out = Path::Forward;
  else if (name == "output") out = Path::Output;
  else if (name == "bridge") out = Path::Bridge;
  else return false;
  return true;
}

void run_path(PathResult& out, vm::Interpreter& vm, Path path, vm::Packet& pkt, const Interface& iif,
              const Interface& oif, const std::function<void(const vm::TraceEvent&)>& trace, const Route& route) {
  out.clear();
  const Interface* out_if = &oif;
  bool receives = path != Path::Output;
  Walk w{vm, pkt, out, trace, receives ? &iif : nullptr};
  w.in_addresses(receives ? &iif : nullptr);
  static const Interface no_interface;
  w.out_addresses(no_interface);  // until the packet has one to leave by
  pkt.meta.local = path == Path::Input;
  bool sends = path != Path::Input;
  // Netdev and bridge chains see the frame as received (Validate); the IP
  // stack's view (IpStack) differs from it only by the trimmed padding.
  // Without such chains to see it first, the frame is parsed once, as the
  // IP stack sees it.
  const bool raw_view_first = path == Path::Bridge || (receives && vm.has_chains(ir::Family::Netdev, Hook::Ingress));
  set_context(pkt, raw_view_first ? packet::Context::Validate : packet::Context::IpStack);
  if (!pkt.layout.link_ok) {
    out.dropped_before = "link layer";
    out.decision.verdict = ir::VerdictCode::Drop;
    return;
  }
  if (receives) set_pkttype(pkt, path == Path::Bridge);
  w.devices(receives ? &iif : nullptr, nullptr);
  if (receives && !w.hook(ir::Family::Netdev, Hook::Ingress)) return;

  if (path == Path::Bridge) {
    // Headers stay put between the bridge hooks. At priority 0 of
    // prerouting the kernel's own br_nf_pre_routing pulls the encapsulation
    // header of an 802.1Q (4 bytes) or PPPoE session (8 bytes) skb and drops
    // a frame too short for it (measured: chains up to priority 0 see such a
    // frame, later ones do not), so the hook runs in two parts around it.
    if (!w.hook(ir::Family::Bridge, Hook::Prerouting, {INT32_MIN, 0})) return;
    const packet::PacketLayout& l = pkt.layout;
    uint32_t encap = l.protocol == 0x8100 ? 4 : l.protocol == 0x8864 ? 8 : 0;
    if (l.end < l.nh_off + encap) {
      out.dropped_before = "br_nf_pre_routing: encapsulation header cut short";
      out.decision = vm::Decision{};
      out.decision.verdict = ir::VerdictCode::Drop;
      return;
    }
    if (!w.hook(ir::Family::Bridge, Hook::Prerouting, {1, INT32_MAX})) return;
    w.devices(&iif, &oif);
    if (!w.hook(ir::Family::Bridge, Hook::Forward)) return;
    w.devices(nullptr, &oif);
    if (!w.hook(ir::Family::Bridge, Hook::Postrouting)) return;
  } else if (pkt.layout.protocol == packet::kEthPArp) {
    if (path == Path::Input && !w.hook(ir::Family::Arp, Hook::Input)) return;
    w.devices(nullptr, &oif);
    if (path == Path::Output && !w.hook(ir::Family::Arp, Hook::Output)) return;
    if (path == Path::Forward) {
      out.dropped_before = "arp is not forwarded";
      out.decision.verdict = ir::VerdictCode::Drop;
      return;
    }
  } else {
    ir::Family fam = ir::Family::Netdev;  // set by ip_family for IPv4 and IPv6
    if (!ip_family(pkt, fam, out)) {
      // ip6_rcv_core answers some bad hop-by-hop options with a parameter
      // problem (ipv6_parse_hopopts), pointing at the option.
      if (fam == ir::Family::Ip6 && pkt.layout.rcv_param_problem != 0)
        send_icmp_error(w, iif, fam, 4, pkt.layout.rcv_param_code, pkt.layout.rcv_param_problem,
                        path == Path::Input);
      if (out.dropped_before.empty()) out.dropped_before = "not an IP packet";
      out.decision = vm::Decision{};
      out.decision.verdict = ir::VerdictCode::Drop;
      return;
    }
    // local delivery, after prerouting
    auto deliver = [&] {
      if (fam == ir::Family::Ip && pkt.layout.fragment) {
        // ip_local_deliver reassembles before the input hook (conntrack's
        // defragmentation, when on, has done it already); IPv6 reassembles
        // after it, in the fragment header's handler
        conntrack::Defrag d = vm.conntrack().reassembler().in(pkt.frame.bytes(), pkt.layout, 0, pkt.meta.now_ns, true);
        if (d.action != conntrack::Defrag::Replace) {
          out.dropped_before = "ip_local_deliver: " + d.why;
          out.decision.verdict = ir::VerdictCode::Drop;
          return;
        }
        pkt.frame = packet::Frame(std::span<const uint8_t>(d.frame));
        pkt.reparse();
      }
      if (!source_nat_hook(w, fam, Hook::Input) || !confirm(w)) return;
      out.accepted = true;
      out.local = true;
    };
    if (path == Path::Input) {
      if (tracked_hook(w, fam, Hook::Prerouting)) deliver();
      return;
    } else {
      if (path == Path::Forward) {
        if (!tracked_hook(w, fam, Hook::Prerouting)) return;
        // the route is looked up after prerouting, which may have changed
        // the destination (ip_rcv_finish)
        if (route) {
          out_if = route(pkt);
          if (out_if == &unreachable()) {
            // ip_route_input fails: ip_error / ip6_pkt_drop answer network
            // unreachable (no route)
            drop_before(w, fam == ir::Family::Ip ? "ip_route_input (no route)" : "ip6_route_input (no route)");
            send_icmp_error(w, iif, fam, fam == ir::Family::Ip ? 3 : 1, 0, 0, false);
            return;
          }
          if (!out_if) {
            pkt.meta.local = true;
            deliver();
            return;
          }
        }
        w.out_addresses(*out_if);
        w.devices(&iif, out_if);
        if (pkt.meta.pkttype != 0) {  // ip_forward: only frames sent to this host's MAC
          out.dropped_before = "ip_forward (not addressed to this host's MAC)";
          out.decision = vm::Decision{};
          out.decision.verdict = ir::VerdictCode::Drop;
          return;
        }
        uint32_t mtu_error = 0;
        if (!forward_hop(w, fam, out_if->mtu, mtu_error)) {
          if (mtu_error == 0) time_exceeded(w, iif, fam);
          else if (fam == ir::Family::Ip) send_icmp_error(w, iif, fam, 3, 4, mtu_error, false);
          else send_icmp_error(w, iif, fam, 2, 0, mtu_error, false);
          return;
        }
        if (!w.hook(fam, Hook::Forward)) return;
      } else {
        w.devices(nullptr, &oif);
        w.out_addresses(oif);
        if (!tracked_hook(w, fam, Hook::Output)) return;
      }
      // ip_output / ip6_output pass the packet's current device as `in`:
      // the input device when forwarding, none for local output.
      if (!source_nat_hook(w, fam, Hook::Postrouting) || !confirm(w)) return;
    }
  }
  if (sends && path != Path::Bridge) set_next_hop_header(pkt, *out_if);
  // ip_finish_output: a reassembled datagram is cut again; each piece
  // meets the egress hook on its own
  std::vector<std::vector<uint8_t>> pieces;
  if (sends && path != Path::Bridge && pkt.layout.protocol == packet::kEthPIp && out_if->mtu != 0 &&
      pkt.layout.end - static_cast<uint32_t>(pkt.layout.nh_off) > out_if->mtu && pkt.fragment_sizes.size() <= 1) {
    // larger than the MTU and not a reassembled datagram: ip_fragment cuts it
    pkt.fragment_sizes = mtu_cut(pkt, out_if->mtu);
    pkt.fragment_max_size = static_cast<uint16_t>(std::min<uint32_t>(out_if->mtu, 0xffff));
  }
  if (sends && path != Path::Bridge && pkt.fragment_sizes.size() > 1) {
    if (pkt.layout.protocol == packet::kEthPIp)
      pieces = conntrack::refragment_ipv4(pkt.frame.bytes(), pkt.layout.nh_off, pkt.fragment_sizes,
                                          pkt.fragment_max_size);
    else
      pieces = conntrack::refragment_ipv6(pkt.frame.bytes(), pkt.layout.nh_off, pkt.fragment_sizes,
                                          pkt.fragment_max_size,
                                          w.vm.conntrack().reassembler().ipv6_ident());
    if (!pieces.empty()) {
      pkt.frame = packet::Frame(std::span<const uint8_t>(pieces[0]));
      pkt.reparse();
    }
  }
  if (sends) {
    // the egress chains see the frame as the device sends it (Validate)
    if (!pieces.empty() || out.record_hooks || vm.has_chains(ir::Family::Netdev, Hook::Egress))
      set_context(pkt, packet::Context::Validate);
    w.devices(nullptr, out_if);
    if (!pieces.empty()) w.sync();  // each piece takes the packet's metadata
    for (size_t i = 1; i < pieces.size(); ++i) {
      vm::Packet piece;
      piece.frame = packet::Frame(std::span<const uint8_t>(pieces[i]));
      piece.layout.link = pkt.layout.link;
      piece.meta = pkt.meta;
      piece.ct = pkt.ct;
      set_context(piece, packet::Context::Validate);
      PathResult pr;
      Walk pw{w.vm, piece, pr, w.trace};
      if (pw.hook(ir::Family::Netdev, Hook::Egress)) out.more_fragments.push_back(std::move(piece.frame));
    }
    if (!w.hook(ir::Family::Netdev, Hook::Egress)) return;
    out.out_interface = out_if;
  }
  out.accepted = true;
  return;
}

PathResult run_path(vm::Interpreter& vm, Path path, vm::Packet& pkt, const Interface& iif, const Interface& oif,
                    const std::function<void(const vm::TraceEvent&)>& trace, const Route& route) {
  PathResult out;
  run_path(out, vm, path, pkt, iif, oif, trace, route);
  return out;
}

void PathResult::clear() {
  accepted = false;
  local = false;
  out_interface = nullptr;
  more_fragments.clear();
  decision.verdict = ir::VerdictCode::Accept;
  decision.by_policy = false;
  decision.family.clear();
  decision.table.clear();
  decision.chain.clear();
  decision.handle = 0;
  decision.log.clear();
  decision.replies.clear();
  hooks.clear();
  ran = {};
  dropped_before.clear();
  log.clear();
  replies.clear();
}

}  // namespace nfx::pipeline
