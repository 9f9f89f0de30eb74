// TCP (nf_conntrack_proto_tcp.c): header, checksum and flag checks; the
// state machine by direction and by which of SYN, SYN/ACK, FIN, ACK, RST
// the segment is; window tracking after Guido van Rooij's "Real Stateful
// TCP Packet Filtering in IP Filter" as the kernel bounds it (sequence
// under the receiver's window end, end over the already acknowledged data,
// ack not ahead of the data seen); ignored segments that may resync a
// connection the firewall lost; and the timeout chosen by state,
// retransmissions and unacknowledged data.
#include "internal.h"

namespace nfx::conntrack {

const char* tcp_state_name(TcpState s) {
  static const char* const names[] = {"NONE",      "SYN_SENT",  "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
                                      "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",      "SYN_SENT2"};
  return names[static_cast<size_t>(s)];
}

namespace tcp {

namespace {

// Which kind of segment (get_conntrack_index).
enum Index : uint8_t { kSynSet, kSynAckSet, kFinSet, kAckSet, kRstSet, kNoneSet };

// Per-direction flags (IP_CT_TCP_FLAG_* and the tracker's own last_flags).
constexpr uint8_t kWindowScale = 0x01, kSackPerm = 0x02, kCloseInit = 0x04, kBeLiberal = 0x08,
                  kDataUnacknowledged = 0x10, kMaxackSet = 0x20;
constexpr uint8_t kExpChallengeAck = 0x40, kSimultaneousOpen = 0x80;  // in last_flags

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20, kEce = 0x40,
                  kCwr = 0x80;

// State numbers, then the two pseudo-states of the table.
constexpr uint8_t NO = 0, SS = 1, SR = 2, ES = 3, FW = 4, CW = 5, LA = 6, TW = 7, CL = 8, S2 = 9, IV = 10, IG = 11;

// The next state by direction, segment kind and current state.
constexpr uint8_t kNext[2][6][10] = {
    {
        // original:  NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /* syn    */ {SS, SS, IG, IG, IG, IG, IG, SS, SS, S2},
        /* synack */ {IV, IV, SR, IV, IV, IV, IV, IV, IV, SR},
        /* fin    */ {IV, IV, FW, FW, LA, LA, LA, TW, CL, IV},
        /* ack    */ {ES, IV, ES, ES, CW, CW, TW, TW, CL, IV},
        /* rst    */ {IV, CL, CL, CL, CL, CL, CL, CL, CL, CL},
        /* none   */ {IV, IV, IV, IV, IV, IV, IV, IV, IV, IV},
    },
    {
        // reply:     NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /* syn    */ {IV, S2, IV, IV, IV, IV, IV, SS, IV, S2},
        /* synack */ {IV, SR, IG, IG, IG, IG, IG, IG, IG, SR},
        /* fin    */ {IV, IV, FW, FW, LA, LA, LA, TW, CL, IV},
        /* ack    */ {IV, IG, SR, ES, CW, CW, TW, TW, CL, IG},
        /* rst    */ {IV, CL, CL, CL, CL, CL, CL, CL, CL, CL},
        /* none   */ {IV, IV, IV, IV, IV, IV, IV, IV, IV, IV},
    },
};

bool before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
bool after(uint32_t a, uint32_t b) { return before(b, a); }

uint32_t be32(std::span<const uint8_t> p, size_t at) {
  return uint32_t{p[at]} << 24 | uint32_t{p[at + 1]} << 16 | uint32_t{p[at + 2]} << 8 | p[at + 3];
}

// The segment's header fields.
struct Segment {
  std::span<const uint8_t> pkt;
  uint32_t th = 0, doff = 0;
  uint32_t seq = 0, ack = 0, end = 0;
  uint16_t win = 0;
  uint8_t flags = 0;
  bool has(uint8_t f) const { return flags & f; }
  std::span<const uint8_t> options() const { return pkt.subspan(th + 20, doff - 20); }
};

Segment segment(const TrackContext& c) {
  Segment s;
  s.pkt = c.pkt;
  s.th = c.layout.th_off;
  s.doff = (c.pkt[s.th + 12] >> 4) * 4u;
  s.seq = be32(c.pkt, s.th + 4);
  s.ack = be32(c.pkt, s.th + 8);
  s.flags = c.pkt[s.th + 13];
  s.win = static_cast<uint16_t>(c.pkt[s.th + 14] << 8 | c.pkt[s.th + 15]);
  // the sequence space it takes: payload, and one each for SYN and FIN
  const uint32_t payload = static_cast<uint32_t>(c.pkt.size()) - s.th - s.doff;
  s.end = s.seq + payload + (s.has(kSyn) ? 1 : 0) + (s.has(kFin) ? 1 : 0);
  return s;
}

Index index_of(const Segment& s) {
  if (s.has(kRst)) return kRstSet;
  if (s.has(kSyn)) return s.has(kAck) ? kSynAckSet : kSynSet;
  if (s.has(kFin)) return kFinSet;
  if (s.has(kAck)) return kAckSet;
  return kNoneSet;
}

// Window scale and SACK permission from a SYN's options (tcp_options).
void read_options(const Segment& s, TcpSide& side) {
  auto opt = s.options();
  side.scale = 0;
  side.flags &= kBeLiberal;
  for (size_t i = 0; i < opt.size();) {
    const uint8_t kind = opt[i];
    if (kind == 0) return;  // end of options
    if (kind == 1) {        // no-op
      ++i;
      continue;
    }
    if (opt.size() - i < 2) return;
    const uint8_t size = opt[i + 1];
    if (size < 2 || size > opt.size() - i) return;  // silly or partial
    if (kind == 4 && size == 2) side.flags |= kSackPerm;
    else if (kind == 3 && size == 3) {
      side.scale = std::min<uint8_t>(opt[i + 2], 14);
      side.flags |= kWindowScale;
    }
    i += size;
  }
}

// The highest right edge of the first SACK option's blocks, if beyond `sack`.
void read_sack(const Segment& s, uint32_t& sack) {
  auto opt = s.options();
  // the common timestamp-only layout: NOP NOP TS/10
  if (opt.size() == 12 && opt[0] == 1 && opt[1] == 1 && opt[2] == 8 && opt[3] == 10) return;
  for (size_t i = 0; i < opt.size();) {
    const uint8_t kind = opt[i];
    if (kind == 0) return;
    if (kind == 1) {
      ++i;
      continue;
    }
    if (opt.size() - i < 2) return;
    const uint8_t size = opt[i + 1];
    if (size < 2 || size > opt.size() - i) return;
    if (kind == 5 && size >= 10 && (size - 2) % 8 == 0) {
      for (size_t b = i + 2; b < i + size; b += 8) {
        const uint32_t right = be32(opt, b + 4);
        if (after(right, sack)) sack = right;
      }
      return;
    }
    i += size;
  }
}

// A SYN/ACK (or a SYN in the reply direction) starts its sender's window.
void init_sender(const Segment& s, TcpSide& sender, TcpSide& receiver, Dir dir) {
  sender.end = sender.maxend = s.end;
  sender.maxwin = s.win == 0 ? 1 : s.win;
  read_options(s, sender);
  // window scaling only when both sides offered it (RFC 1323)
  if (dir == Dir::Reply && !((sender.flags & kWindowScale) && (receiver.flags & kWindowScale)))
    sender.scale = receiver.scale = 0;
}

enum class Window { Accept, Ignore, Invalid };

struct WindowResult {
  Window action;
  std::string why;
};

uint32_t max_ack_window(const TcpSide& sender) { return std::max<uint32_t>(sender.maxwin, 66000); }

// tcp_in_window: whether the segment lies in the window, updating it.
WindowResult in_window(const TrackContext& c, TcpTrack& t, Dir dir, Index index, const Segment& s) {
  TcpSide& sender = t.seen[static_cast<size_t>(dir)];
  TcpSide& receiver = t.seen[1 - static_cast<size_t>(dir)];
  uint32_t seq = s.seq, ack = s.ack, sack = s.ack, end = s.end, win = s.win;
  if (receiver.flags & kSackPerm) read_sack(s, sack);
  // a helper's payload rewrite shifted the other direction's numbering:
  // acknowledgements count in the shifted one
  const int32_t receiver_offset = seq_offset(t.seqadj[1 - static_cast<size_t>(dir)], ack - 1);
  ack -= static_cast<uint32_t>(receiver_offset);
  sack -= static_cast<uint32_t>(receiver_offset);
  // a liberal sender (or table) lets everything but these checks' verdicts through
  auto invalid = [&](Window action, std::string why) -> WindowResult {
    if ((sender.flags & kBeLiberal) || c.config.tcp_be_liberal) return {Window::Accept, {}};
    return {action, std::move(why)};
  };

  if (sender.maxwin == 0) {
    if (s.has(kSyn)) {
      init_sender(s, sender, receiver, dir);
      if (!s.has(kAck)) return {Window::Accept, {}};  // simultaneous open
    } else {
      // picked up mid-stream: take what the segment says
      sender.end = end;
      const uint32_t swin = win << sender.scale;
      sender.maxwin = swin == 0 ? 1 : swin;
      sender.maxend = end + sender.maxwin;
      if (receiver.maxwin == 0) receiver.end = receiver.maxend = sack;
      else if (sack == receiver.end + 1) receiver.end++;  // a keepalive's answer
    }
  } else if (s.has(kSyn) && after(end, sender.end) &&
             (t.state == TcpState::SynSent || t.state == TcpState::SynRecv)) {
    // a reinitialised connection: start this direction again
    init_sender(s, sender, receiver, dir);
    if (dir == Dir::Reply && !s.has(kAck)) return {Window::Accept, {}};
  }

  if (!s.has(kAck)) {
    ack = sack = receiver.end;
  } else if ((s.flags & (kAck | kRst)) == (kAck | kRst) && ack == 0) {
    ack = sack = receiver.end;  // stacks that send RST|ACK with a zero ack
  }
  if (s.has(kRst) && seq == 0 && t.state == TcpState::SynSent) seq = end = sender.end;  // RST answering a SYN

  if (!before(seq, sender.maxend + 1)) {
    const uint32_t overshot = end - sender.maxend + 1;
    const bool ack_ok = after(sack, receiver.end - max_ack_window(sender) - 1);
    const bool in_recv_win = receiver.maxwin && after(end, sender.end - receiver.maxwin - 1);
    if (in_recv_win && ack_ok && overshot <= receiver.maxwin && before(sack, receiver.end + 1)) {
      // more than the window allowed: remember the data so its ack is fine
      sender.end = end;
      sender.flags |= kDataUnacknowledged;
      return invalid(Window::Ignore, fmt_bytes_over(overshot));
    }
    return invalid(Window::Invalid, "SEQ is over upper bound (over the window of the receiver)");
  }
  if (!before(sack, receiver.end + 1))
    return invalid(Window::Invalid, "ACK is over upper bound (ACKed data not seen yet)");
  if (receiver.maxwin && !after(end, sender.end - receiver.maxwin - 1))
    return invalid(Window::Ignore, "SEQ is under lower bound (already ACKed data retransmitted)");
  if (!after(sack, receiver.end - max_ack_window(sender) - 1))
    return invalid(Window::Ignore, "ignored ACK under lower bound (possible overly delayed)");

  if (!s.has(kSyn)) win <<= sender.scale;
  const uint32_t swin = win + (sack - ack);
  if (sender.maxwin < swin) sender.maxwin = swin;
  if (after(end, sender.end)) {
    sender.end = end;
    sender.flags |= kDataUnacknowledged;
  }
  if (s.has(kAck)) {
    if (!(sender.flags & kMaxackSet)) {
      sender.maxack = ack;
      sender.flags |= kMaxackSet;
    } else if (after(ack, sender.maxack)) {
      sender.maxack = ack;
    }
  }
  if (receiver.maxwin != 0 && after(end, sender.maxend)) receiver.maxwin += end - sender.maxend;
  if (after(sack + win, receiver.maxend - 1)) {
    receiver.maxend = sack + win;
    if (win == 0) receiver.maxend++;
  }
  if (ack == receiver.end) receiver.flags &= ~kDataUnacknowledged;

  // retransmissions: the same ACK segment again
  if (index == kAckSet) {
    const uint8_t d = static_cast<uint8_t>(dir);
    if (t.last_dir == d && t.last_seq == seq && t.last_ack == ack && t.last_end == end && t.last_win == s.win) {
      t.retrans++;
    } else {
      t.last_dir = d;
      t.last_seq = seq;
      t.last_ack = ack;
      t.last_end = end;
      t.last_win = s.win;
      t.retrans = 0;
    }
  }
  return {Window::Accept, {}};
}

// nf_tcp_handle_invalid: an out-of-window FIN or RST answering one from the
// other side shortens an assured connection's timeout to the unacknowledged one.
void handle_invalid(const TrackContext& c, Entry& e, Dir dir, Index index) {
  TcpTrack& t = e.tcp;
  if (!(e.status & kAssured) || (e.status & kFixedTimeout)) return;
  if (index != kRstSet && index != kFinSet) return;
  const uint8_t d = static_cast<uint8_t>(dir);
  if (t.last_dir != d && (t.last_index == kFinSet || t.last_index == kRstSet)) {
    const uint64_t left = e.expires_ns > c.now_ns ? e.expires_ns - c.now_ns : 0;
    const uint64_t unack = uint64_t{c.config.timeouts.tcp_unacknowledged} * kSecond;
    if (left < 120 * kSecond) return;
    if (left > unack) e.expires_ns = c.now_ns + unack;
  } else {
    t.last_index = index;
    t.last_dir = d;
  }
}

bool can_early_drop(TcpState s) {
  return s == TcpState::FinWait || s == TcpState::LastAck || s == TcpState::TimeWait || s == TcpState::Close ||
         s == TcpState::CloseWait;
}

bool established(const Entry& e) { return e.tcp.state == TcpState::Established; }

}  // namespace

std::string fmt_bytes_over(uint32_t n) { return std::to_string(n) + " bytes more than expected"; }

Verdict error(const TrackContext& c) {
  const auto& l = c.layout;
  if (c.pkt.size() < size_t{l.th_off} + 20) return {false, "short packet"};
  const uint32_t tcplen = static_cast<uint32_t>(c.pkt.size()) - l.th_off;
  const uint32_t doff = (c.pkt[l.th_off + 12] >> 4) * 4u;
  if (doff < 20 || tcplen < doff) return {false, "truncated packet"};
  if (c.hook == TrackHook::Prerouting && c.config.checksum) {
    auto ip = c.pkt.subspan(l.nh_off);
    const uint32_t dataoff = l.th_off - l.nh_off;
    const bool ok = l.protocol == packet::kEthPIp ? packet::nf_ip_checksum_ok(ip, dataoff, kIpprotoTcp)
                                                  : packet::nf_ip6_checksum_ok(ip, dataoff, kIpprotoTcp);
    if (!ok) return {false, "bad checksum"};
  }
  const uint8_t f = c.pkt[l.th_off + 13] & ~(kEce | kCwr | kPsh);
  switch (f) {
    case kSyn:
    case kSyn | kUrg:
    case kSyn | kAck:
    case kRst:
    case kRst | kAck:
    case kFin | kAck:
    case kFin | kAck | kUrg:
    case kAck:
    case kAck | kUrg: return {true, {}};
    default: return {false, "invalid tcp flag combination"};
  }
}

Verdict start(const TrackContext& c, Entry& e) {
  const Segment s = segment(c);
  const uint8_t next = kNext[0][index_of(s)][NO];
  if (next >= IV) return {false, "invalid packet to start a TCP connection"};
  e.tcp = {};
  TcpSide& side = e.tcp.seen[0];
  side.end = s.end;
  side.maxwin = s.win == 0 ? 1 : s.win;
  if (next == SS) {
    side.maxend = side.end;
    read_options(s, side);
  } else {
    if (!c.config.tcp_loose) return {false, "not picking up an established connection (tcp_loose is off)"};
    // the middle of a connection: assume SACK, check windows liberally
    side.maxend = side.end + side.maxwin;
    e.tcp.seen[0].flags = e.tcp.seen[1].flags = kSackPerm | kBeLiberal;
  }
  e.tcp.last_index = kNoneSet;
  return {true, {}};
}

Result packet(const TrackContext& c, Entry& e, Dir dir) {
  TcpTrack& t = e.tcp;
  const Segment s = segment(c);
  const Index index = index_of(s);
  const uint8_t d = static_cast<uint8_t>(dir);
  const TcpState old_state = t.state;
  uint8_t old = static_cast<uint8_t>(old_state);
  uint8_t next = kNext[d][index][old];
  bool skip_window = false;

  switch (next) {
    case SS:
      if (old < TW) break;
      // a SYN reopening a closed or aborted connection: forget the old entry
      if (((t.seen[d].flags | t.seen[1 - d].flags) & kCloseInit) || (t.last_dir == d && t.last_index == kRstSet))
        return {Action::Repeat, {}};
      [[fallthrough]];
    case IG:
      if (index == kSynAckSet && t.last_index == kSynSet && t.last_dir != d && s.ack == t.last_end) {
        // answers a SYN ignored earlier: both ends agree, catch up with them
        old = SS;
        next = SR;
        TcpSide& was = t.seen[t.last_dir];
        was.end = was.maxend = t.last_end;
        was.maxwin = t.last_win == 0 ? 1 : t.last_win;
        was.scale = t.last_wscale;
        t.last_flags &= ~kExpChallengeAck;
        was.flags = t.last_flags;
        TcpSide& mine = t.seen[d];
        mine.end = mine.maxend = mine.maxwin = mine.maxack = 0;
        mine.scale = 0;
        mine.flags &= kBeLiberal;
        break;
      }
      t.last_index = index;
      t.last_dir = d;
      t.last_seq = s.seq;
      t.last_end = s.end;
      t.last_win = s.win;
      if (index == kSynSet && dir == Dir::Original) {
        TcpSide seen;
        t.last_flags = t.last_wscale = 0;
        read_options(s, seen);
        if (seen.flags & kWindowScale) {
          t.last_flags |= kWindowScale;
          t.last_wscale = seen.scale;
        }
        if (seen.flags & kSackPerm) t.last_flags |= kSackPerm;
        if (old_state == TcpState::LastAck) t.last_flags |= kExpChallengeAck;
      }
      if (old_state == TcpState::SynSent && index == kAckSet && dir == Dir::Reply) t.last_ack = s.ack;
      return {Action::Ignore, "packet ignored in state " + std::string(tcp_state_name(old_state))};
    case IV:
      return {Action::Invalid, "packet invalid in state " + std::string(tcp_state_name(old_state))};
    case TW:
      // an RFC 5961 challenge ACK does not acknowledge the last FIN
      if (old_state == TcpState::LastAck && index == kAckSet && t.last_dir != d && t.last_index == kSynSet &&
          (t.last_flags & kExpChallengeAck)) {
        t.last_flags &= ~kExpChallengeAck;
        return {Action::Ignore, "challenge-ack ignored"};
      }
      break;
    case S2:
      t.last_flags |= kSimultaneousOpen;
      break;
    case SR:
      if (dir == Dir::Reply && index == kAckSet && (t.last_flags & kSimultaneousOpen)) next = ES;
      break;
    case CL: {
      if (index != kRstSet) break;
      if (can_early_drop(old_state)) {
        skip_window = true;
        break;
      }
      const TcpSide& other = t.seen[1 - d];
      if ((other.flags & kMaxackSet) && t.last_index != kSynSet) {
        if (s.seq == 0 && !established(e)) break;
        if (before(s.seq, other.maxack)) return {Action::Invalid, "invalid rst"};
        if (!established(e) || s.seq == other.maxack) break;
        // part of a train: the RST right after this side's last data
        if (t.last_index == kAckSet && t.last_dir == d && s.seq == t.last_end) break;
        next = old;  // not exact: stay, a challenge ACK may follow
      }
      if ((((e.status & kSeenReply) && t.last_index == kSynSet) ||
           (!(e.status & kAssured) && t.last_index == kAckSet)) &&
          s.ack == t.last_end) {
        skip_window = true;  // RST to a SYN or ACK let through while out of sync
        break;
      }
      if (old_state == TcpState::SynSent && t.last_index == kAckSet && t.last_dir == 1 && s.seq == t.last_ack)
        skip_window = true;  // RST answering a challenge ACK
      break;
    }
    default:
      break;
  }

  if (!skip_window) {
    WindowResult w = in_window(c, t, dir, index, s);
    if (w.action == Window::Ignore) return {Action::Ignore, w.why};
    if (w.action == Window::Invalid) {
      handle_invalid(c, e, dir, index);
      return {Action::Invalid, w.why};
    }
  }

  t.last_index = index;
  t.last_dir = d;
  const TcpState new_state = static_cast<TcpState>(next);
  t.state = new_state;
  if (old_state != new_state && new_state == TcpState::FinWait) t.seen[d].flags |= kCloseInit;

  const Timeouts& to = c.config.timeouts;
  const uint32_t by_state = to.tcp[next];
  uint32_t timeout;
  if (t.retrans >= c.config.tcp_max_retrans && by_state > to.tcp_max_retrans) timeout = to.tcp_max_retrans;
  else if (index == kRstSet) timeout = to.tcp[CL];
  else if (((t.seen[0].flags | t.seen[1].flags) & kDataUnacknowledged) && by_state > to.tcp_unacknowledged)
    timeout = to.tcp_unacknowledged;
  else if (t.last_win == 0 && by_state > to.tcp_max_retrans) timeout = to.tcp_max_retrans;
  else timeout = by_state;

  Result r{Action::Accept, {}};
  if (!(e.status & kSeenReply)) {
    // a RST as the only answer: the connection never was
    if (s.has(kRst)) return {Action::Kill, {}};
    // a retransmitted SYN does not renew the timeout
    if (index == kSynSet && old_state == TcpState::SynSent) return r;
    // picked up mid-stream and never answered: no long ESTABLISHED timeout
    if (new_state == TcpState::Established && timeout > to.tcp_unacknowledged) timeout = to.tcp_unacknowledged;
  } else if (!(e.status & kAssured) && (old_state == TcpState::SynRecv || old_state == TcpState::Established) &&
             new_state == TcpState::Established) {
    e.status |= kAssured;
  }
  e.expires_ns = c.now_ns + uint64_t{timeout} * kSecond;
  return r;
}

}  // namespace tcp
}  // namespace nfx::conntrack
