// ICMP and ICMPv6 (nf_conntrack_proto_icmp.c, nf_conntrack_proto_icmpv6.c):
// requests with an answer type make connections (echo, and for ICMP
// timestamp, information and address mask; for ICMPv6 node information);
// errors belong to the connection of the packet they carry (the table
// handles those); ICMPv6 neighbour discovery and MLD are left untracked.
#include "internal.h"

namespace nfx::conntrack::icmp {

bool is_error(uint8_t l4, uint8_t type) {
  if (l4 == kIpprotoIcmp) return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
  return type < 128;  // ICMPv6: the error messages are types 0..127
}

bool untracked(uint8_t l4, uint8_t type) {
  // icmpv6_error's noct_valid_new: MLD query, report and done, router and
  // neighbour solicitation and advertisement, MLDv2 report
  return l4 == kIpprotoIcmpv6 && ((type >= 130 && type <= 136) || type == 143);
}

Verdict error(const TrackContext& c) {
  const auto& l = c.layout;
  if (c.pkt.size() < size_t{l.th_off} + 8) return {false, "short packet"};
  if (c.hook == TrackHook::Prerouting && c.config.checksum) {
    auto ip = c.pkt.subspan(l.nh_off);
    const uint32_t dataoff = l.th_off - l.nh_off;
    const bool ok = l.protocol == packet::kEthPIp ? packet::nf_ip_checksum_ok(ip, dataoff, l.l4proto)
                                                  : packet::nf_ip6_checksum_ok(ip, dataoff, l.l4proto);
    if (!ok) return {false, "bad checksum"};
  }
  const uint8_t type = c.pkt[l.th_off];
  if (l.l4proto == kIpprotoIcmp && type > 18) return {false, "invalid icmp type"};
  return {true, {}};
}

Verdict is_new(const Tuple& t) {
  const uint8_t type = t.icmp_type();
  const bool request = t.l4 == kIpprotoIcmp ? (type == 8 || type == 13 || type == 15 || type == 17)
                                            : (type == 128 || type == 139);
  if (!request) return {false, "invalid new icmp type"};
  return {true, {}};
}

void packet(const TrackContext& c, Entry& e, Dir) {
  const uint32_t timeout = e.tuple[0].l4 == kIpprotoIcmp ? c.config.timeouts.icmp : c.config.timeouts.icmpv6;
  e.expires_ns = c.now_ns + timeout * kSecond;
}

}  // namespace nfx::conntrack::icmp
