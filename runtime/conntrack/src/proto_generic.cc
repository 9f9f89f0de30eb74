// Protocols without a tracker of their own (nf_conntrack_proto_generic.c;
// DCCP too, whose tracker left the kernel with DCCP in 6.16) and GRE without the PPTP helper (nf_conntrack_proto_gre.c): one timeout,
// for GRE a longer one and ASSURED once both directions have been seen.
#include "internal.h"

namespace nfx::conntrack::generic {

void packet(const TrackContext& c, Entry& e, Dir) {
  const Timeouts& t = c.config.timeouts;
  if (e.tuple[0].l4 != kIpprotoGre) {
    e.expires_ns = c.now_ns + t.generic * kSecond;
    return;
  }
  if (e.status & kSeenReply) {
    e.expires_ns = c.now_ns + t.gre_stream * kSecond;
    e.status |= kAssured;
  } else {
    e.expires_ns = c.now_ns + t.gre_unreplied * kSecond;
  }
}

}  // namespace nfx::conntrack::generic
