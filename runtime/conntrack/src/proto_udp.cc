// UDP and UDP-Lite (nf_conntrack_proto_udp.c): header and checksum checks,
// then the unreplied timeout until both directions have been seen; a flow
// still replied to after its first two seconds is a stream: the stream
// timeout and ASSURED.
#include "internal.h"

namespace nfx::conntrack::udp {

namespace {

bool checksum_ok(const TrackContext& c) {
  const auto& l = c.layout;
  auto ip = c.pkt.subspan(l.nh_off);
  const uint32_t dataoff = l.th_off - l.nh_off;
  return l.protocol == packet::kEthPIp ? packet::nf_ip_checksum_ok(ip, dataoff, l.l4proto)
                                       : packet::nf_ip6_checksum_ok(ip, dataoff, l.l4proto);
}

// udplite_error's check: nf_checksum_partial over the first `coverage`
// bytes, called with IPPROTO_UDP, not UDP-Lite: the pseudo header carries
// protocol 17 (IPv6, and IPv4 when the whole datagram is covered) or 0
// (IPv4 with a partial coverage, as nf_ip_checksum_partial builds it), so a
// checksum computed by the UDP-Lite rules fails. The kernel's, kept.
bool udplite_checksum_ok(const TrackContext& c, uint32_t coverage) {
  const auto& l = c.layout;
  const uint32_t udplen = static_cast<uint32_t>(c.pkt.size()) - l.th_off;
  if (l.protocol == packet::kEthPIp && coverage == udplen) {
    auto ip = c.pkt.subspan(l.nh_off);
    return packet::nf_ip_checksum_ok(ip, l.th_off - l.nh_off, kIpprotoUdp);
  }
  uint32_t sum;
  if (l.protocol == packet::kEthPIp)
    sum = packet::pseudo_header_sum_ipv4(&c.pkt[l.nh_off + 12], &c.pkt[l.nh_off + 16], 0, udplen);
  else
    sum = packet::pseudo_header_sum_ipv6(&c.pkt[l.nh_off + 8], &c.pkt[l.nh_off + 24], kIpprotoUdp, udplen);
  sum = packet::csum_partial(c.pkt.subspan(l.th_off, coverage), sum);
  return packet::csum_fold(sum) == 0;
}

}  // namespace

Verdict error(const TrackContext& c) {
  const auto& l = c.layout;
  if (c.pkt.size() < size_t{l.th_off} + 8) return {false, "short packet"};
  const uint32_t udplen = static_cast<uint32_t>(c.pkt.size()) - l.th_off;
  const uint16_t len = static_cast<uint16_t>(c.pkt[l.th_off + 4] << 8 | c.pkt[l.th_off + 5]);
  const bool no_checksum = c.pkt[l.th_off + 6] == 0 && c.pkt[l.th_off + 7] == 0;
  const bool verify = c.hook == TrackHook::Prerouting && c.config.checksum;
  if (l.l4proto == kIpprotoUdplite) {
    // the length field is the checksum coverage; 0 covers everything
    if (len != 0 && (len < 8 || len > udplen)) return {false, "invalid checksum coverage"};
    if (no_checksum) return {false, "checksum missing"};
    if (verify && !udplite_checksum_ok(c, len == 0 ? udplen : len)) return {false, "bad checksum"};
    return {true, {}};
  }
  if (len > udplen || len < 8) return {false, "truncated/malformed packet"};
  if (no_checksum) return {true, {}};
  if (verify && !checksum_ok(c)) return {false, "bad checksum"};
  return {true, {}};
}

void packet(const TrackContext& c, Entry& e, Dir, bool created) {
  const Timeouts& t = c.config.timeouts;
  if (created) e.stream_after_ns = c.now_ns + 2 * kSecond;
  if (e.status & kSeenReply) {
    uint32_t timeout = t.udp_unreplied;
    bool stream = false;
    if (c.now_ns > e.stream_after_ns) {
      timeout = t.udp_stream;
      stream = !(e.status & kAssured);
    }
    e.expires_ns = c.now_ns + timeout * kSecond;
    if (stream) e.status |= kAssured;
  } else {
    e.expires_ns = c.now_ns + t.udp_unreplied * kSecond;
  }
}

}  // namespace nfx::conntrack::udp
