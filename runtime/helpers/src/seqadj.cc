// Payload rewriting and the sequence adjustment that follows it
// (nf_nat_helper.c, nf_conntrack_seqadj.c).
#include <cstring>
#include <vector>

#include "internal.h"

namespace nfx::helpers {

namespace {

uint32_t load32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }
void store32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
bool after(uint32_t a, uint32_t b) { return static_cast<int32_t>(b - a) < 0; }

// inet_proto_csum_replace4 of the 32-bit field at `at` to `value`.
void replace32(std::span<uint8_t> pkt, size_t check, size_t at, uint32_t value) {
  uint8_t to[4];
  store32(to, value);
  packet::csum_update(pkt, check, pkt.subspan(at, 4), to, packet::ZeroResult::Keep);
  std::memcpy(&pkt[at], to, 4);
}

// nf_ct_seqadj_set: the direction's segments after `seq` are shifted by
// `off` more.
void seqadj_set(conntrack::Entry& ct, conntrack::Dir dir, uint32_t seq, int32_t off) {
  if (off == 0) return;
  ct.status |= conntrack::kSeqAdjust;
  conntrack::SeqAdj& way = ct.tcp.seqadj[static_cast<size_t>(dir)];
  if (way.offset_before == way.offset_after || static_cast<int32_t>(way.correction_pos - seq) < 0) {
    way.correction_pos = seq;
    way.offset_before = way.offset_after;
    way.offset_after += off;
  }
}

// nf_ct_sack_block_adjust: SACK blocks acknowledge the other direction.
void sack_blocks(std::span<uint8_t> pkt, size_t th, size_t at, size_t end, const conntrack::SeqAdj& other) {
  for (; at < end; at += 8) {
    for (size_t edge = at; edge < at + 8; edge += 4) {
      const uint32_t v = load32(&pkt[edge]);
      const int32_t off =
          after(v - static_cast<uint32_t>(other.offset_before), other.correction_pos) ? other.offset_after
                                                                                       : other.offset_before;
      replace32(pkt, th + 16, edge, v - static_cast<uint32_t>(off));
    }
  }
}

}  // namespace

bool mangle_tcp_payload(HelperPacket& p, size_t off, size_t len, std::string_view text) {
  const size_t th = p.th;
  std::span<uint8_t> cur(p.frame.data(), p.end);
  const size_t data = th + (cur[th + 12] >> 4) * 4u;
  const size_t at = data + off;
  if (at + len > p.end) return false;
  const long delta = static_cast<long>(text.size()) - static_cast<long>(len);
  const size_t ip_len = p.end - p.nh;
  if (static_cast<long>(ip_len) + delta > 65535) return false;  // enlarge_skb refuses
  const uint32_t seq = load32(&cur[th + 4]);

  std::vector<uint8_t> bytes(p.frame.data(), p.frame.data() + at);
  bytes.insert(bytes.end(), text.begin(), text.end());
  bytes.insert(bytes.end(), p.frame.data() + at + len, p.frame.data() + p.end);
  const size_t end = bytes.size();
  std::span<uint8_t> pkt(bytes);
  const bool v4 = p.layout.protocol == packet::kEthPIp;
  const size_t new_ip_len = end - p.nh;
  if (v4) {
    store16(&pkt[p.nh + 2], static_cast<uint16_t>(new_ip_len));
    pkt[p.nh + 10] = pkt[p.nh + 11] = 0;
    const size_t ihl = (pkt[p.nh] & 0x0f) * 4u;
    store16(&pkt[p.nh + 10], packet::ipv4_header_checksum(pkt.subspan(p.nh, ihl)));
  } else {
    store16(&pkt[p.nh + 4], static_cast<uint16_t>(new_ip_len - 40));
  }
  // nf_nat_csum_recalc: the checksum is computed anew over the segment
  const uint32_t tcp_len = static_cast<uint32_t>(end - th);
  pkt[th + 16] = pkt[th + 17] = 0;
  uint32_t sum = v4 ? packet::pseudo_header_sum_ipv4(&pkt[p.nh + 12], &pkt[p.nh + 16], kIpprotoTcp, tcp_len)
                    : packet::pseudo_header_sum_ipv6(&pkt[p.nh + 8], &pkt[p.nh + 24], kIpprotoTcp, tcp_len);
  sum = packet::csum_add(sum, packet::csum_partial(pkt.subspan(th, tcp_len)));
  store16(&pkt[th + 16], packet::csum_fold(sum));
  p.frame = packet::Frame(std::span<const uint8_t>(bytes));
  p.end = end;
  seqadj_set(*p.ct, p.dir, seq, static_cast<int32_t>(delta));
  return true;
}

bool seq_adjust(HelperPacket& p) {
  const size_t th = p.th;
  if (th + 20 > p.end) return false;
  std::span<uint8_t> pkt(p.frame.data(), p.end);
  const conntrack::SeqAdj& way = p.ct->tcp.seqadj[static_cast<size_t>(p.dir)];
  const conntrack::SeqAdj& other = p.ct->tcp.seqadj[1 - static_cast<size_t>(p.dir)];
  const uint32_t seq = load32(&pkt[th + 4]);
  const int32_t seqoff = after(seq, way.correction_pos) ? way.offset_after : way.offset_before;
  replace32(pkt, th + 16, th + 4, seq + static_cast<uint32_t>(seqoff));
  if (!(pkt[th + 13] & 0x10)) return true;
  const uint32_t ack = load32(&pkt[th + 8]);
  const int32_t ackoff = after(ack - static_cast<uint32_t>(other.offset_before), other.correction_pos)
                             ? other.offset_after
                             : other.offset_before;
  replace32(pkt, th + 16, th + 8, ack - static_cast<uint32_t>(ackoff));
  // nf_ct_sack_adjust: a cut-short option drops the packet
  const size_t opt_end = th + (pkt[th + 12] >> 4) * 4u;
  if (opt_end > p.end) return false;
  for (size_t at = th + 20; at < opt_end;) {
    const uint8_t kind = pkt[at];
    if (kind == 0) return true;  // end of options
    if (kind == 1) {             // no-op
      ++at;
      continue;
    }
    if (at + 1 == opt_end || at + pkt[at + 1] > opt_end || pkt[at + 1] < 2) return false;
    const uint8_t len = pkt[at + 1];
    if (kind == 5 && len >= 2 + 8 && (len - 2) % 8 == 0) sack_blocks(pkt, th, at + 2, at + len, other);
    at += len;
  }
  return true;
}

}  // namespace nfx::helpers
