// SCTP (nf_conntrack_proto_sctp.c): the CRC32c checked at prerouting;
// chunks checked (INIT, INIT ACK and SHUTDOWN COMPLETE alone in their
// packet, COOKIE ECHO and COOKIE ACK first, none empty); the association
// state moved by each chunk as the kernel's table has it, with the
// verification-tag rules of RFC 9260 section 8.5 (INIT with tag 0, ABORT
// and SHUTDOWN COMPLETE by their T bit, tags learnt from INIT, INIT ACK and
// heartbeats); ASSURED once established; the timeout by state.
#include "internal.h"

namespace nfx::conntrack {

const char* sctp_state_name(SctpState s) {
  static const char* const names[] = {"NONE",          "CLOSED",        "COOKIE_WAIT",
                                      "COOKIE_ECHOED", "ESTABLISHED",   "SHUTDOWN_SENT",
                                      "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT", "HEARTBEAT_SENT"};
  return names[static_cast<size_t>(s)];
}

namespace sctp {

namespace {

enum Chunk : uint8_t {
  kData = 0, kInit = 1, kInitAck = 2, kHeartbeat = 4, kHeartbeatAck = 5, kAbort = 6, kShutdown = 7,
  kShutdownAck = 8, kError = 9, kCookieEcho = 10, kCookieAck = 11, kShutdownComplete = 14,
};
constexpr uint8_t kFlagT = 0x01;

// States, and IV for "invalid".
constexpr uint8_t NO = 0, CL = 1, CW = 2, CE = 3, ES = 4, SS = 5, SR = 6, SA = 7, HS = 8, IV = 9;

// The next state by direction, chunk (in the order of row_of) and state.
constexpr uint8_t kNext[2][11][9] = {
    {
        // original:      NO  CL  CW  CE  ES  SS  SR  SA  HS
        /* init       */ {CL, CL, CW, CE, ES, CL, CL, SA, CW},
        /* init_ack   */ {CL, CL, CW, CE, ES, SS, SR, SA, CL},
        /* abort      */ {CL, CL, CL, CL, CL, CL, CL, CL, CL},
        /* shutdown   */ {CL, CL, CW, CE, SS, SS, SR, SA, CL},
        /* shut_ack   */ {SA, CL, CW, CE, ES, SA, SA, SA, SA},
        /* error      */ {CL, CL, CW, CE, ES, SS, SR, SA, CL},
        /* cookie_ech */ {CL, CL, CE, CE, ES, SS, SR, SA, CL},
        /* cookie_ack */ {CL, CL, CW, ES, ES, SS, SR, SA, CL},
        /* shut_comp  */ {CL, CL, CW, CE, ES, SS, SR, CL, CL},
        /* heartbeat  */ {HS, CL, CW, CE, ES, SS, SR, SA, HS},
        /* hb_ack     */ {CL, CL, CW, CE, ES, SS, SR, SA, HS},
    },
    {
        // reply:         NO  CL  CW  CE  ES  SS  SR  SA  HS
        /* init       */ {IV, CL, CW, CE, ES, SS, SR, SA, IV},
        /* init_ack   */ {IV, CW, CW, CE, ES, SS, SR, SA, IV},
        /* abort      */ {IV, CL, CL, CL, CL, CL, CL, CL, IV},
        /* shutdown   */ {IV, CL, CW, CE, SR, SS, SR, SA, IV},
        /* shut_ack   */ {IV, CL, CW, CE, ES, SA, SA, SA, IV},
        /* error      */ {IV, CL, CW, CL, ES, SS, SR, SA, IV},
        /* cookie_ech */ {IV, CL, CE, CE, ES, SS, SR, SA, IV},
        /* cookie_ack */ {IV, CL, CW, ES, ES, SS, SR, SA, IV},
        /* shut_comp  */ {IV, CL, CW, CE, ES, SS, SR, CL, IV},
        /* heartbeat  */ {IV, CL, CW, CE, ES, SS, SR, SA, HS},
        /* hb_ack     */ {IV, CL, CW, CE, ES, SS, SR, SA, ES},
    },
};

// The table's row for a chunk type; -1 for chunks that leave the state be.
int row_of(uint8_t type) {
  switch (type) {
    case kInit: return 0;
    case kInitAck: return 1;
    case kAbort: return 2;
    case kShutdown: return 3;
    case kShutdownAck: return 4;
    case kError: return 5;
    case kCookieEcho: return 6;
    case kCookieAck: return 7;
    case kShutdownComplete: return 8;
    case kHeartbeat: return 9;
    case kHeartbeatAck: return 10;
    default: return -1;
  }
}

uint8_t next_state(Dir dir, uint8_t state, uint8_t type) {
  const int row = row_of(type);
  return row < 0 ? state : kNext[static_cast<size_t>(dir)][row][state];
}

uint32_t be32(std::span<const uint8_t> p, size_t at) {
  return uint32_t{p[at]} << 24 | uint32_t{p[at + 1]} << 16 | uint32_t{p[at + 2]} << 8 | p[at + 3];
}

struct ChunkRef {
  size_t at;  // the chunk header
  uint8_t type, flags;
  uint16_t length;
};

// The chunks, as for_each_sctp_chunk walks them: while a 4-byte chunk
// header fits, each taking its length rounded up to 4.
std::vector<ChunkRef> chunks_of(std::span<const uint8_t> pkt, size_t th) {
  std::vector<ChunkRef> out;
  for (size_t at = th + 12; at < pkt.size() && at + 4 <= pkt.size();) {
    const uint16_t length = static_cast<uint16_t>(pkt[at + 2] << 8 | pkt[at + 3]);
    out.push_back({at, pkt[at], pkt[at + 1], length});
    if (length == 0) break;  // do_basic_checks refuses it; the walk would not advance
    at += (length + 3u) & ~3u;
  }
  return out;
}

// do_basic_checks: false when the chunks are malformed or there are none.
bool basic_checks(const std::vector<ChunkRef>& chunks, uint32_t& map) {
  bool alone = false;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const ChunkRef& ch = chunks[i];
    if (ch.type == kInit || ch.type == kInitAck || ch.type == kShutdownComplete) alone = true;
    if (((ch.type == kCookieAck || ch.type == kCookieEcho || alone) && i != 0) || ch.length == 0) return false;
    if (ch.type < 32) map |= 1u << ch.type;
  }
  return !chunks.empty();
}

bool has(uint32_t map, uint8_t type) { return map & (1u << type); }

}  // namespace

Verdict error(const TrackContext& c) {
  const auto& l = c.layout;
  if (c.pkt.size() < size_t{l.th_off} + 12) return {false, "short packet"};
  if (c.hook == TrackHook::Prerouting && c.config.checksum) {
    std::vector<uint8_t> copy(c.pkt.begin() + l.th_off, c.pkt.end());
    const uint32_t stored = uint32_t{copy[8]} | uint32_t{copy[9]} << 8 | uint32_t{copy[10]} << 16 |
                            uint32_t{copy[11]} << 24;
    copy[8] = copy[9] = copy[10] = copy[11] = 0;
    if (packet::crc32c(copy) != stored) return {false, "bad CRC"};
  }
  return {true, {}};
}

Result packet(const TrackContext& c, Entry& e, Dir dir, bool created) {
  SctpTrack& t = e.extend().sctp;
  const size_t th = c.layout.th_off;
  const uint32_t vtag = be32(c.pkt, th + 4);
  const std::vector<ChunkRef> chunks = chunks_of(c.pkt, th);
  uint32_t map = 0;
  if (!basic_checks(chunks, map)) return {Action::Invalid, "malformed chunks"};
  const size_t d = static_cast<size_t>(dir);

  if (created) {
    // out of the blue: these end nothing and start nothing (section 8.4)
    if (has(map, kAbort) || has(map, kShutdownComplete) || has(map, kCookieAck))
      return {Action::Invalid, "out-of-the-blue abort, shutdown complete or cookie ack"};
    t = {};
    for (const ChunkRef& ch : chunks) {
      const uint8_t s = next_state(Dir::Original, NO, ch.type);
      if (s == NO || s == IV) return {Action::Invalid, "invalid chunk to start an association"};
      if (ch.type == kInit) {
        if (vtag != 0) return {Action::Invalid, "INIT with a verification tag"};
        if (c.pkt.size() < ch.at + 4 + 16) return {Action::Invalid, "INIT cut short"};
        t.vtag[1] = be32(c.pkt, ch.at + 4);
      } else if (ch.type == kHeartbeat) {
        t.vtag[0] = vtag;
      } else if (ch.type == kShutdownAck) {
        t.vtag[1] = vtag;
      }
    }
  }

  // verification tag (section 8.5), for packets without the special chunks
  const bool special = has(map, kInit) || has(map, kShutdownComplete) || has(map, kCookieEcho) ||
                       has(map, kAbort) || has(map, kShutdownAck) || has(map, kHeartbeat) ||
                       has(map, kHeartbeatAck);
  if (!special && vtag != t.vtag[d]) return {Action::Invalid, "verification tag check failed"};

  bool ignore = false;
  uint8_t new_state = NO;
  for (const ChunkRef& ch : chunks) {
    switch (ch.type) {
      case kInit:
        if (vtag != 0) return {Action::Invalid, "INIT with a verification tag"};
        break;
      case kAbort:
      case kShutdownComplete:
        // own tag without the T bit, the peer's with it
        if (vtag != t.vtag[(ch.flags & kFlagT) ? 1 - d : d]) return {Action::Invalid, "verification tag check failed"};
        break;
      case kCookieEcho:
        if (vtag != t.vtag[d]) return {Action::Invalid, "verification tag check failed"};
        break;
      case kCookieAck:
        t.init = {false, false};
        break;
      case kHeartbeat:
      case kHeartbeatAck:
        if (t.vtag[d] == 0) {
          t.vtag[d] = vtag;
        } else if (vtag != t.vtag[d]) {
          if (has(map, kData) || ignore) return {Action::Invalid, "verification tag check failed"};
          if (ch.type == kHeartbeat) {
            // perhaps a new path of a restarted association: let it by once
            t.heartbeat_vtag_failed = true;
            t.last_dir = static_cast<uint8_t>(d);
            ignore = true;
            continue;
          }
          if (!t.heartbeat_vtag_failed || t.last_dir == d) return {Action::Invalid, "verification tag check failed"};
          t.heartbeat_vtag_failed = false;
          t.vtag[d] = vtag;
          t.vtag[1 - d] = 0;
        } else {
          t.heartbeat_vtag_failed = false;
        }
        break;
      default:
        break;
    }
    const uint8_t old_state = static_cast<uint8_t>(t.state);
    new_state = next_state(dir, old_state, ch.type);
    if (new_state == IV) return {Action::Invalid, "invalid chunk in state " + std::string(sctp_state_name(t.state))};
    if (ch.type == kInit) {
      if (c.pkt.size() < ch.at + 4 + 16) return {Action::Invalid, "INIT cut short"};
      if (t.init[d] && t.init[1 - d]) t.init[1 - d] = false;
      t.init[d] = true;
      t.vtag[1 - d] = be32(c.pkt, ch.at + 4);
      // a retransmitted INIT does not keep a closed association alive
      if (new_state == CL && old_state == CL && !created) ignore = true;
    } else if (ch.type == kInitAck) {
      if (c.pkt.size() < ch.at + 4 + 16) return {Action::Invalid, "INIT ACK cut short"};
      const uint32_t tag = be32(c.pkt, ch.at + 4);
      const uint32_t known = t.vtag[1 - d];
      if (!t.init[1 - d] && known && known != tag) return {Action::Invalid, "INIT ACK tag mismatch"};
      if (t.init[d] && t.init[1 - d] && known != tag) return {Action::Invalid, "INIT ACK collision"};
      t.vtag[1 - d] = tag;
    }
    t.state = static_cast<SctpState>(new_state);
    if (old_state != new_state && new_state == ES) e.status |= kAssured;
  }
  if (ignore) return {Action::Ignore, {}};
  e.expires_ns = c.now_ns + uint64_t{c.config.timeouts.sctp[new_state]} * kSecond;
  return {Action::Accept, {}};
}

}  // namespace sctp
}  // namespace nfx::conntrack
