// What the conntrack sources share and the public header does not show.
#pragma once

#include <nfx/conntrack.h>

namespace nfx::conntrack {

inline constexpr uint8_t kIpprotoIcmp = 1, kIpprotoTcp = 6, kIpprotoUdp = 17, kIpprotoDccp = 33, kIpprotoGre = 47,
                         kIpprotoIcmpv6 = 58, kIpprotoSctp = 132, kIpprotoUdplite = 136;

inline constexpr uint64_t kSecond = 1'000'000'000;

// A tuple from headers at known offsets (`nh` the network header, `th` the
// transport one), as nf_ct_get_tuple reads them; also for the packet an
// ICMP error carries.
std::optional<Tuple> tuple_at(std::span<const uint8_t> pkt, uint32_t nh, uint32_t th, uint8_t l3, uint8_t l4);

using packet::Ipv6Skip;
using packet::ipv6_skip_exthdr;

// The layout as conntrack sees the packet (ipv4_get_l4proto /
// ipv6_skip_exthdr, which walks through AH where nft's ipv6_find_hdr stops):
// th_off and l4proto replaced; nullopt when there is no transport header.
std::optional<packet::PacketLayout> conntrack_view(std::span<const uint8_t> frame,
                                                   const packet::PacketLayout& layout);

// An IPv6 packet as nf_ct_frag6_gather sees it: left to the stack (Pass),
// dropped, or a fragment to queue: the next-header byte before its fragment
// header (`prev`), the fragment header (`at`), its place in the datagram.
struct Ipv6Fragment {
  enum { Pass, Drop, Queue } what = Pass;
  std::string why;
  uint32_t prev = 0, at = 0, offset = 0, end = 0, id = 0;
  uint16_t payload_len = 0;
  bool more = false;
};
Ipv6Fragment ipv6_fragment(std::span<const uint8_t> pkt, uint32_t nh);

// The context a tracker sees.
struct TrackContext {
  std::span<const uint8_t> pkt;  // bounded by the layout's end
  const packet::PacketLayout& layout;  // conntrack's view (conntrack_view)
  TrackHook hook;
  const Config& config;
  uint64_t now_ns;
};

// A tracker's answer for a packet: accept it with the entry's new timeout,
// or refuse it (the packet gets no entry: ct state invalid).
struct Verdict {
  bool ok = false;
  std::string why;
};

// Per-protocol trackers, each in its own file. error() checks a packet
// before lookup (lengths, checksums); is_new() whether a packet without an
// entry may create one; packet() updates the entry and its timeout.
namespace udp {
Verdict error(const TrackContext& c);
void packet(const TrackContext& c, Entry& e, Dir dir, bool created);
}  // namespace udp
namespace icmp {
Verdict error(const TrackContext& c);
bool is_error(uint8_t l4, uint8_t type);
bool untracked(uint8_t l4, uint8_t type);  // ICMPv6 neighbour discovery and MLD
Verdict is_new(const Tuple& t);
void packet(const TrackContext& c, Entry& e, Dir dir);
}  // namespace icmp
// What the TCP tracker makes of a segment: accept it (the entry updated),
// let it pass without touching the entry (Ignore), refuse it (Invalid),
// kill the entry and track the packet anew (Repeat: a SYN reopening a
// closed connection), or accept it and kill the entry (a RST as the only
// answer).
enum class Action { Accept, Ignore, Invalid, Repeat, Kill };
struct Result {
  Action action;
  std::string why;
};
namespace tcp {
Verdict error(const TrackContext& c);
Verdict start(const TrackContext& c, Entry& e);  // tcp_new: a new entry's state
Result packet(const TrackContext& c, Entry& e, Dir dir);
std::string fmt_bytes_over(uint32_t n);
}  // namespace tcp
namespace sctp {
Verdict error(const TrackContext& c);
// A packet of an association (created: its first, not yet confirmed):
// Accept, Ignore (accepted, the timeout not renewed) or Invalid.
Result packet(const TrackContext& c, Entry& e, Dir dir, bool created);
}  // namespace sctp
namespace generic {
void packet(const TrackContext& c, Entry& e, Dir dir);
}  // namespace generic

}  // namespace nfx::conntrack
