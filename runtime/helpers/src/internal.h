// What the helper sources share.
#pragma once

#include <nfx/helpers.h>

namespace nfx::helpers {

inline constexpr uint8_t kIpprotoTcp = 6, kIpprotoUdp = 17;

// A packet at nf_confirm, as a helper sees it.
struct HelperPacket {
  packet::Frame& frame;
  const packet::PacketLayout& layout;
  size_t nh;     // network header
  size_t th;     // transport header (protoff)
  size_t end;    // one past the IP packet
  conntrack::Table& table;
  nat::Nat& nat;
  const std::shared_ptr<conntrack::Entry>& ct;
  conntrack::Dir dir;
  conntrack::Info info;
  uint64_t now_ns;
};

// The helpers' help functions (nf_conntrack_ftp's help, tftp_help).
Outcome ftp_help(HelperPacket& p);
Outcome tftp_help(HelperPacket& p);

// nf_ct_expect_init for `p`'s connection and helper `helper`: a connection
// from `src` (any port) to `dst` port `dport`, for the helper's timeout.
conntrack::Expectation expectation(const HelperPacket& p, const Helper& helper, uint8_t l4,
                                   const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst,
                                   uint16_t dport);

// nf_nat_follow_master for an expectation made by `p`'s connection.
void follow_master(conntrack::Expectation& e, HelperPacket& p);

// __nf_nat_mangle_tcp_packet: `len` bytes of the TCP payload at `off` (from
// the payload's start) replaced by `text`; lengths, checksums fixed, and the
// sequence adjustment of the direction recorded. False: the packet would
// grow past 65535 bytes.
bool mangle_tcp_payload(HelperPacket& p, size_t off, size_t len, std::string_view text);

// nf_ct_seq_adjust: sequence and acknowledgement numbers (and SACK blocks)
// of a TCP packet shifted by the connection's adjustments. False: the TCP
// header is cut short.
bool seq_adjust(HelperPacket& p);

}  // namespace nfx::helpers
