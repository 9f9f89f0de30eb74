// Entries as `conntrack -L` prints them (libnetfilter_conntrack's default
// format): protocol name and number, seconds left, both tuples with
// [UNREPLIED] between them until a reply, [ASSURED], mark, zone, use.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <unordered_map>

#include "internal.h"

namespace nfx::conntrack {

namespace {

const char* proto_name(uint8_t l4) {
  switch (l4) {
    case kIpprotoTcp: return "tcp";
    case kIpprotoUdp: return "udp";
    case kIpprotoUdplite: return "udplite";
    case kIpprotoIcmp: return "icmp";
    case kIpprotoIcmpv6: return "icmpv6";
    case kIpprotoSctp: return "sctp";
    case kIpprotoDccp: return "dccp";
    case kIpprotoGre: return "gre";
    default: return "unknown";
  }
}

std::string address(const Tuple& t, const std::array<uint8_t, 16>& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(t.l3 == kNfprotoIpv4 ? AF_INET : AF_INET6, a.data(), buf, sizeof buf);
  return buf;
}

std::string tuple_text(const Tuple& t) {
  std::string s = fmt::format("src={} dst={} ", address(t, t.src), address(t, t.dst));
  switch (t.l4) {
    case kIpprotoTcp:
    case kIpprotoUdp:
    case kIpprotoUdplite:
    case kIpprotoSctp: s += fmt::format("sport={} dport={} ", t.sport, t.dport); break;
    case kIpprotoIcmp:
    case kIpprotoIcmpv6: s += fmt::format("type={} code={} id={} ", t.icmp_type(), t.icmp_code(), t.sport); break;
    case kIpprotoGre: s += fmt::format("srckey=0x{:x} dstkey=0x{:x} ", t.sport, t.dport); break;
    default: break;
  }
  return s;
}

}  // namespace

std::string format_entry(const Entry& e, uint64_t now_ns, uint32_t use) {
  const Tuple& o = e.tuple[0];
  const uint64_t left = e.expires_ns > now_ns ? (e.expires_ns - now_ns) / kSecond : 0;
  std::string s = fmt::format("{:<8} {} {} ", proto_name(o.l4), o.l4, left);
  if (o.l4 == kIpprotoTcp) s += fmt::format("{} ", tcp_state_name(e.tcp.state));
  if (o.l4 == kIpprotoSctp) s += fmt::format("{} ", sctp_state_name(e.ext ? e.ext->sctp.state : SctpState::None));
  s += tuple_text(o);
  if (e.acct()) s += fmt::format("packets={} bytes={} ", e.ext->packets[0], e.ext->bytes[0]);
  if (!(e.status & kSeenReply)) s += "[UNREPLIED] ";
  s += tuple_text(e.tuple[1]);
  if (e.acct()) s += fmt::format("packets={} bytes={} ", e.ext->packets[1], e.ext->bytes[1]);
  if (e.status & kAssured) s += "[ASSURED] ";
  s += fmt::format("mark={} ", e.mark);
  if (e.zone) s += fmt::format("zone={} ", e.zone);
  if (!e.helper().empty()) s += fmt::format("helper={} ", e.helper());
  s += fmt::format("use={}", use);
  return s;
}

std::vector<std::string> Table::list(uint64_t now_ns) const {
  // the table's own reference, and one from each expected connection and
  // each expectation of a master
  std::vector<std::shared_ptr<const Entry>> all = entries();
  std::unordered_map<const Entry*, uint32_t> refs;
  for (const auto& e : all)
    if (auto m = e->master()) ++refs[m.get()];
  for (const Expectation& x : expectations(now_ns))
    if (auto m = x.master.lock()) ++refs[m.get()];
  std::vector<std::string> out;
  for (const auto& e : all) out.push_back(format_entry(*e, now_ns, 1 + refs[e.get()]));
  return out;
}

}  // namespace nfx::conntrack
