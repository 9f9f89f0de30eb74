// The element: frames in from a port, through the pipeline, out of ports.
#include "internal.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace nfx::router {

namespace {

pipeline::Interface interface_of(const PortConfig& p) {
  pipeline::Interface i;
  i.name = p.name;
  i.index = p.index;
  for (const Prefix& a : p.addrs) {
    if (!a.v6() && i.addr4.empty()) i.addr4 = a.addr;
    if (a.v6() && i.addr6.empty()) i.addr6 = a.addr;
  }
  i.mac.assign(p.mac.begin(), p.mac.end());
  i.mtu = p.mtu;
  return i;
}

// A fresh packet's metadata, field by field, keeping the buffers of the
// last one's. The interface addresses stay: the pipeline writes them
// before any chain runs, and leaves them where they hold the same.
// (A field added to PacketMeta changes its size: reset it here too.)
static_assert(sizeof(vm::PacketMeta) == 248, "vm::PacketMeta changed: reset its new fields in reset_meta");
void reset_meta(vm::PacketMeta& m, uint64_t now_ns) {
  static const vm::PacketMeta kFresh;
  m.iif = m.oif = 0;
  m.iifname.clear();
  m.oifname.clear();
  m.iiftype = kFresh.iiftype;
  m.oiftype = kFresh.oiftype;
  m.iifgroup = m.oifgroup = 0;
  m.mark = m.priority = 0;
  m.pkttype = kFresh.pkttype;
  m.nftrace = false;
  m.cpu = 0;
  m.now_ns = now_ns;
  m.tz_minuteswest = 0;
  m.local = false;
}

std::string mac_text(const Mac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

}  // namespace

Element::Element(Mode mode, std::vector<PortConfig> ports, std::vector<RouteConfig> routes)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.mode = mode;
  m.ports = std::move(ports);
  if (mode == Mode::Bridge && m.ports.size() != 2)
    throw std::invalid_argument(fmt::format("bridge mode joins exactly two ports ({} given)", m.ports.size()));
  for (const PortConfig& p : m.ports) m.ifaces.push_back(interface_of(p));
  m.stats.ports.resize(m.ports.size());
  m.result.record_hooks = false;  // counted by hook in `ran` only
  m.result.icmp_limit = &m.icmp_limit;
  Impl* self = &m;
  m.icmp_limit.prefix_len6 = [self](std::span<const uint8_t> dst) {
    const Route* r = self->lookup(dst);
    return r ? unsigned{r->dst.len} : 128u;
  };
  if (mode == Mode::Router) {
    m.add_connected_routes();
    for (const RouteConfig& r : routes) m.add_static(r);
  } else if (!routes.empty()) {
    throw std::invalid_argument("bridge mode has no routes");
  }
}

Element::~Element() = default;

void Element::set_ruleset(std::shared_ptr<vm::Interpreter> vm) {
  if (!vm) throw std::invalid_argument("set_ruleset: no interpreter");
  if (impl_->vm) vm->take_conntrack_of(*impl_->vm);
  impl_->vm = std::move(vm);
}

const std::shared_ptr<vm::Interpreter>& Element::ruleset() const { return impl_->vm; }

void Element::set_log(LogSink log) { impl_->log = std::move(log); }
Mode Element::mode() const { return impl_->mode; }
size_t Element::port_count() const { return impl_->ports.size(); }
const PortConfig& Element::port(uint32_t p) const { return impl_->ports.at(p); }

Stats Element::stats() const {
  Stats s = impl_->stats;
  s.icmp_limited_global = impl_->icmp_limit.limited_global();
  s.icmp_limited_host = impl_->icmp_limit.limited_host();
  for (size_t f = 0; f < impl_->hook_packets.size(); ++f)
    for (size_t h = 0; h < impl_->hook_packets[f].size(); ++h)
      if (uint64_t n = impl_->hook_packets[f][h])
        s.hooks[fmt::format("{} {}", ir::family_name(static_cast<ir::Family>(f)), vm::hook_name(static_cast<vm::Hook>(h)))] +=
            n;
  return s;
}

std::vector<std::string> Element::neighbours(uint64_t now_ns) const {
  std::vector<std::string> out;
  for (const auto& [key, n] : impl_->neighbours) {
    const char* state = n.state == Neighbour::State::Incomplete ? "INCOMPLETE"
                        : n.state == Neighbour::State::Failed   ? "FAILED"
                        : n.state == Neighbour::State::Stale || now_ns - n.confirmed_ns > kReachableNs
                            ? "STALE"
                            : "REACHABLE";
    bool known = n.state == Neighbour::State::Reachable || n.state == Neighbour::State::Stale;
    out.push_back(fmt::format("{} dev {}{} {}", format_address(key.addr.vec()), impl_->ports[key.port].name,
                              known ? " lladdr " + mac_text(n.mac) : "", state));
  }
  return out;
}

void Element::receive(uint32_t port, std::span<const uint8_t> frame, uint64_t now_ns, const Sink& send) {
  Impl& m = *impl_;
  if (port >= m.ports.size()) throw std::out_of_range("receive: no such port");
  PortStats& ps = m.stats.ports[port];
  ++ps.rx_packets;
  ps.rx_bytes += frame.size();
  if (!m.vm) {
    ++ps.rx_dropped;
    return;
  }
  // the frame in flight reuses one packet's buffers
  m.pkt.frame.assign(frame);
  m.pkt.layout = packet::PacketLayout{};
  m.pkt.layout.link = packet::LinkType::Ethernet;
  reset_meta(m.pkt.meta, now_ns);
  m.pkt.ct.entry.reset();
  m.pkt.ct.info = conntrack::Info::None;
  m.pkt.ct.dir = conntrack::Dir::Original;
  m.pkt.ct.drop = false;
  m.pkt.ct.why.clear();
  m.pkt.ct_zone.reset();
  m.pkt.fragment_sizes.clear();
  m.pkt.fragment_max_size = 0;
  if (m.mode == Mode::Bridge) {
    m.bridge(port, now_ns, send);
  } else if (frame.size() >= 14 && frame[12] == 0x08 && frame[13] == 0x06) {
    m.arp_in(port, now_ns, send);
  } else {
    m.route_in(port, now_ns, send);
  }
}

void Element::tick(uint64_t now_ns, const Sink& send) {
  if (impl_->vm) impl_->neighbour_timers(now_ns, send);
  impl_->icmp_limit.forget_idle(now_ns);
}

void Element::Impl::bridge(uint32_t port, uint64_t, const Sink& send) {
  uint32_t other = port == 0 ? 1 : 0;
  pipeline::PathResult& r = result;
  pipeline::run_path(r, *vm, pipeline::Path::Bridge, pkt, ifaces[port], ifaces[other]);
  count(r);
  write_logs(r.log);
  send_replies(port, r, send);
  if (!r.accepted) return;
  ++stats.forwarded;
  emit(other, pkt.frame.bytes(), send);
  for (const packet::Frame& f : r.more_fragments) emit(other, f.bytes(), send);
}

void Element::Impl::route_in(uint32_t port, uint64_t now_ns, const Sink& send) {
  Mac sender{};
  if (pkt.frame.size() >= 12) std::memcpy(sender.data(), pkt.frame.data() + 6, 6);
  const pipeline::Route route = [this](const vm::Packet& p) { return route_for(p); };
  chosen = nullptr;
  pipeline::PathResult& r = result;
  pipeline::run_path(r, *vm, pipeline::Path::Forward, pkt, ifaces[port], ifaces[port], {}, route);
  count(r);
  write_logs(r.log);
  send_replies(port, r, send);
  if (!r.accepted) return;
  if (r.local) {
    local_in(port, now_ns, send);
    return;
  }
  if (!chosen) return;
  ++stats.forwarded;
  RouteDecision& decision = *chosen;
  transmit(decision, pkt.frame, port, sender, now_ns, send);
  for (packet::Frame& f : r.more_fragments) transmit(decision, f, port, sender, now_ns, send);
}

pipeline::PathResult Element::Impl::output_path(uint32_t port, std::span<const uint8_t> frame, uint64_t now_ns,
                                                vm::Packet& out) {
  out.frame.assign(frame);
  out.layout.link = packet::LinkType::Ethernet;
  out.meta.now_ns = now_ns;
  pipeline::PathResult r = pipeline::run_path(*vm, pipeline::Path::Output, out, ifaces[port], ifaces[port]);
  count(r);
  write_logs(r.log);
  return r;
}

void Element::Impl::count(const pipeline::PathResult& r) {
  // a hook the pipeline runs in parts (around the kernel's own) counts once
  for (size_t word = 0; word < r.ran.size(); ++word)
    for (uint64_t bits = r.ran[word]; bits; bits &= bits - 1) {
      const size_t i = word * 64 + static_cast<size_t>(std::countr_zero(bits));
      ++hook_packets[(i / 8) & 15][i % 8];
    }
  if (r.accepted) return;
  const vm::Decision& d = r.decision;
  if (!r.dropped_before.empty()) drop(r.dropped_before);
  else if (d.chain.empty()) drop("dropped");
  else if (d.by_policy) drop(fmt::format("{} {} {} (policy)", d.family, d.table, d.chain));
  else drop(fmt::format("{} {} {} (handle {})", d.family, d.table, d.chain, d.handle));
}

void Element::Impl::drop(const std::string& why) {
  ++stats.dropped;
  ++stats.drops[why];
}

void Element::Impl::emit(uint32_t port, std::span<const uint8_t> frame, const Sink& send) {
  PortStats& ps = stats.ports[port];
  ++ps.tx_packets;
  ps.tx_bytes += frame.size();
  send(port, frame);
}

void Element::Impl::send_replies(uint32_t port, pipeline::PathResult& r, const Sink& send) {
  // reject and the stack's errors: addressed back to the sender already
  for (const packet::Frame& f : r.replies) emit(port, f.bytes(), send);
}

void Element::Impl::write_logs(const std::vector<std::string>& lines) {
  if (!log) return;
  for (const std::string& l : lines) log(l);
}

}  // namespace nfx::router
