// Reassembly before conntrack as nf_defrag_ipv4 (ip_defrag) and
// nf_defrag_ipv6 (nf_ct_frag6_gather) do it: fragments queue by source,
// destination, id (and protocol for IPv4) and zone; an overlap drops the
// queue, a duplicate only itself; the fragment that completes the datagram
// carries it whole, with the first fragment's headers. Queues expire after
// 30 s (IPv4) or 60 s (IPv6). What the datagram was cut into is kept, for
// the refragmentation on the way out.
#include <algorithm>
#include <cstring>
#include <map>

#include "internal.h"

namespace nfx::conntrack {

namespace {

constexpr uint64_t kFragTimeout = 30 * kSecond;    // net.ipv4.ipfrag_time
constexpr uint64_t kFrag6Timeout = 60 * kSecond;   // net.netfilter.nf_conntrack_frag6_timeout
constexpr uint16_t kDf = 0x4000, kMf = 0x2000;

struct QueueKey {
  uint8_t family;
  std::array<uint8_t, 16> src, dst;
  uint32_t id;
  uint8_t proto;  // IPv4 only
  uint32_t user;  // the zone, and whose queue it is (conntrack's or local delivery's)
  auto operator<=>(const QueueKey&) const = default;
};

struct Piece {
  uint32_t offset, end;
  std::vector<uint8_t> data;
};

struct Queue {
  std::vector<Piece> pieces;          // in offset order
  std::vector<uint8_t> head;          // the first fragment's link and IP headers (IPv6: up to its fragment header)
  uint32_t prev = 0;                  // IPv6: the next-header byte before the fragment header, in `head`
  uint8_t next = 0;                   // IPv6: the fragment header's next header
  bool first_in = false, last_in = false;
  uint32_t len = 0, meat = 0;
  uint16_t max_size = 0, max_df_size = 0;
  uint64_t expires_ns = 0;
};

}  // namespace

struct Reassembler::Impl {
  std::map<QueueKey, Queue> queues;
  uint32_t ident = 0x6e667800;
};

uint32_t Reassembler::ipv6_ident() {
  const uint32_t id = ++impl_->ident;
  return id ? id : ++impl_->ident;
}

Reassembler::Reassembler() : impl_(std::make_unique<Impl>()) {}
Reassembler::~Reassembler() = default;

size_t Reassembler::queues() const { return impl_->queues.size(); }

namespace {

enum class Insert { Queued, Duplicate, Overlap };

// inet_frag_queue_insert: inside a run of contiguous pieces is a duplicate;
// any other overlap is one.
Insert insert(Queue& q, uint32_t offset, uint32_t end, std::span<const uint8_t> data) {
  for (auto p = q.pieces.begin(); p != q.pieces.end(); ++p) {
    if (end <= p->offset || offset >= p->end) continue;
    uint32_t run_start = p->offset, run_end = p->end;
    for (auto r = p; r != q.pieces.begin() && std::prev(r)->end == run_start; --r) run_start = std::prev(r)->offset;
    for (auto r = std::next(p); r != q.pieces.end() && r->offset == run_end; ++r) run_end = r->end;
    return offset >= run_start && end <= run_end ? Insert::Duplicate : Insert::Overlap;
  }
  Piece piece{offset, end, std::vector<uint8_t>(data.begin(), data.end())};
  q.pieces.insert(std::upper_bound(q.pieces.begin(), q.pieces.end(), offset,
                                   [](uint32_t o, const Piece& x) { return o < x.offset; }),
                  std::move(piece));
  q.meat += end - offset;
  return Insert::Queued;
}

bool complete(const Queue& q) { return q.first_in && q.last_in && q.meat == q.len; }

// An IPv4 header's length and fragment fields set, its checksum computed anew.
void set_ipv4_header(uint8_t* ip, uint32_t total, uint16_t frag_off) {
  const uint32_t hlen = (ip[0] & 0x0fu) * 4u;
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  ip[6] = static_cast<uint8_t>(frag_off >> 8);
  ip[7] = static_cast<uint8_t>(frag_off);
  ip[10] = ip[11] = 0;
  const uint16_t check = packet::ipv4_header_checksum(std::span<const uint8_t>(ip, hlen));
  ip[10] = static_cast<uint8_t>(check >> 8);
  ip[11] = static_cast<uint8_t>(check);
}

// The head's headers over every piece, in order.
Defrag whole_datagram(Queue& q) {
  Defrag whole;
  whole.action = Defrag::Replace;
  whole.frame = std::move(q.head);
  for (const Piece& p : q.pieces) {
    whole.frame.insert(whole.frame.end(), p.data.begin(), p.data.end());
    whole.fragments.push_back(p.end - p.offset);
  }
  whole.max_size = q.max_size;
  return whole;
}

}  // namespace

Defrag Reassembler::in(std::span<const uint8_t> frame, const packet::PacketLayout& layout, uint16_t zone,
                       uint64_t now_ns, bool local_delivery) {
  const uint32_t user = zone | (local_delivery ? 0x10000u : 0u);
  if (!layout.fragment && layout.protocol == packet::kEthPIp) return Defrag{};
  if (layout.protocol == packet::kEthPIp) return ipv4(frame, layout, user, now_ns);
  if (layout.protocol == packet::kEthPIpv6) return ipv6(frame, layout, user, now_ns);
  return Defrag{};
}

Defrag Reassembler::ipv6(std::span<const uint8_t> frame, const packet::PacketLayout& layout, uint32_t user,
                         uint64_t now_ns) {
  std::erase_if(impl_->queues, [&](const auto& kv) { return kv.second.expires_ns <= now_ns; });
  const auto pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  const uint32_t nh = layout.nh_off;
  const Ipv6Fragment f = ipv6_fragment(pkt, nh);
  if (f.what == Ipv6Fragment::Pass) return Defrag{};
  if (f.what == Ipv6Fragment::Drop) return Defrag::held(f.why);
  // ipv6_rcv drops a packet shorter than its payload length; nothing of it is queued
  if (size_t{nh} + 40 + f.payload_len > pkt.size() || f.end < f.offset) return Defrag::held("fragment cut short");

  QueueKey key{};
  key.family = kNfprotoIpv6;
  std::memcpy(key.src.data(), &pkt[nh + 8], 16);
  std::memcpy(key.dst.data(), &pkt[nh + 24], 16);
  key.id = f.id;
  key.user = user;
  const auto emplaced = impl_->queues.try_emplace(key);
  const auto it = emplaced.first;
  const bool created = emplaced.second;
  Queue& q = it->second;
  if (created) q.expires_ns = now_ns + kFrag6Timeout;
  // nf_ct_frag6_queue: a contradiction drops the packet, the queue stays
  if (!f.more) {
    if (f.end < q.len || (q.last_in && f.end != q.len)) return Defrag::held("already received the last fragment");
    q.last_in = true;
    q.len = f.end;
  } else {
    if (f.end & 7) {
      // not a multiple of 8: the queue is dropped and the packet left to the stack (-EPROTO)
      impl_->queues.erase(it);
      return Defrag{};
    }
    if (f.end > q.len) {
      if (q.last_in) return Defrag::held("a fragment beyond the last one");
      q.len = f.end;
    }
  }
  if (f.end <= f.offset) return Defrag::held("an empty fragment");
  switch (insert(q, f.offset, f.end, pkt.subspan(f.at + 8, f.end - f.offset))) {
    case Insert::Duplicate: return Defrag::held("a duplicate fragment");
    case Insert::Overlap: impl_->queues.erase(it); return Defrag::held("overlapping fragments");
    case Insert::Queued: break;
  }
  q.max_size = std::max(q.max_size, f.payload_len);
  if (f.offset == 0) {
    q.first_in = true;
    q.head.assign(pkt.begin(), pkt.begin() + f.at);
    q.prev = f.prev;
    q.next = pkt[f.at];
  }
  if (!complete(q)) return Defrag::held("fragment queued for reassembly");

  // nf_ct_frag6_reasm: the fragment header taken out, the header before it
  // taking its next header; frag_max_size is the largest fragment's packet
  const uint32_t unfrag = static_cast<uint32_t>(q.head.size()) - nh - 40;
  if (unfrag + q.len > 65535) {
    impl_->queues.erase(it);
    return Defrag::held("a datagram longer than 65535 bytes");
  }
  const uint32_t prev = q.prev;
  const uint8_t next = q.next;
  Defrag whole = whole_datagram(q);
  whole.frame[prev] = next;
  const uint32_t payload = unfrag + q.len;
  whole.frame[nh + 4] = static_cast<uint8_t>(payload >> 8);
  whole.frame[nh + 5] = static_cast<uint8_t>(payload);
  whole.max_size = static_cast<uint16_t>(std::min<uint32_t>(40u + q.max_size, 65535));
  impl_->queues.erase(it);
  return whole;
}

Defrag Reassembler::ipv4(std::span<const uint8_t> frame, const packet::PacketLayout& layout, uint32_t user,
                         uint64_t now_ns) {
  std::erase_if(impl_->queues, [&](const auto& kv) { return kv.second.expires_ns <= now_ns; });
  const auto pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  const uint32_t nh = layout.nh_off;
  if (pkt.size() < size_t{nh} + 20) return Defrag::held("fragment cut short");
  const uint32_t ihl = (pkt[nh] & 0x0fu) * 4u;
  const uint16_t flags = static_cast<uint16_t>(pkt[nh + 6] << 8 | pkt[nh + 7]);
  const uint32_t offset = (flags & 0x1fffu) * 8u;
  const uint32_t tot_len = static_cast<uint32_t>(pkt[nh + 2] << 8 | pkt[nh + 3]);
  // ip_rcv drops a packet shorter than its total length; nothing of it is queued
  if (pkt.size() < size_t{nh} + tot_len || tot_len < ihl) return Defrag::held("fragment cut short");

  QueueKey key{};
  key.family = kNfprotoIpv4;
  std::memcpy(key.src.data(), &pkt[nh + 12], 4);
  std::memcpy(key.dst.data(), &pkt[nh + 16], 4);
  key.id = static_cast<uint16_t>(pkt[nh + 4] << 8 | pkt[nh + 5]);
  key.proto = pkt[nh + 9];
  key.user = user;
  const auto emplaced = impl_->queues.try_emplace(key);
  const auto it = emplaced.first;
  const bool created = emplaced.second;
  Queue& q = it->second;
  if (created) q.expires_ns = now_ns + kFragTimeout;
  auto discard = [&](std::string why) {
    impl_->queues.erase(it);
    return Defrag::held(std::move(why));
  };

  uint32_t end = offset + (tot_len - ihl);
  if (!(flags & kMf)) {
    // the last fragment: nothing may lie beyond it, nor another last one differ
    if (end < q.len || (q.last_in && end != q.len)) return discard("fragments disagree on the datagram's end");
    q.last_in = true;
    q.len = end;
  } else {
    end &= ~7u;
    if (end > q.len) {
      if (q.last_in) return discard("a fragment beyond the datagram's end");
      q.len = end;
    }
  }
  if (end == offset) return discard("an empty fragment");
  if (end > 65535 - ihl) return discard("a datagram longer than 65535 bytes");

  // a duplicate is dropped alone; any other overlap drops the queue
  switch (insert(q, offset, end, pkt.subspan(nh + ihl, end - offset))) {
    case Insert::Duplicate: return Defrag::held("a duplicate fragment");
    case Insert::Overlap: return discard("overlapping fragments");
    case Insert::Queued: break;
  }
  if (offset == 0) {
    q.first_in = true;
    q.head.assign(pkt.begin(), pkt.begin() + nh + ihl);
  }
  const uint16_t fragsize = static_cast<uint16_t>(end - offset + ihl);
  q.max_size = std::max(q.max_size, fragsize);
  if ((flags & kDf) && fragsize > q.max_df_size) q.max_df_size = fragsize;
  if (!complete(q)) return Defrag::held("fragment queued for reassembly");

  // ip_frag_reasm: the first fragment's header over the whole payload
  const uint16_t max_size = q.max_size, max_df_size = q.max_df_size;
  const uint32_t len = q.len;
  Defrag whole = whole_datagram(q);
  uint8_t* ip = whole.frame.data() + nh;
  // DF only if the largest fragment had it (a refragmentation must not be
  // forwarded larger than what the sender sent)
  set_ipv4_header(ip, (ip[0] & 0x0fu) * 4u + len, max_df_size == max_size ? kDf : 0);
  impl_->queues.erase(it);
  return whole;
}

std::vector<std::vector<uint8_t>> refragment_ipv4(std::span<const uint8_t> frame, uint32_t nh,
                                                  std::vector<uint32_t> sizes, uint16_t max_size) {
  // ip_do_fragment's fast path over the frag list: each piece as it came,
  // under a copy of the previous piece's header; later pieces keep only the
  // options marked to be copied (ip_options_fragment)
  std::vector<std::vector<uint8_t>> out;
  if (frame.size() < size_t{nh} + 20) return out;
  const uint32_t hlen = (frame[nh] & 0x0fu) * 4u;
  if (frame.size() < size_t{nh} + hlen) return out;
  uint64_t sum = 0;
  for (uint32_t s : sizes) sum += s;
  const size_t payload = frame.size() - nh - hlen;
  if (sum != payload) {
    // the slow path: pieces of the largest fragment's size, 8-byte aligned
    const uint32_t mtu = max_size > hlen + 8 ? (max_size - hlen) & ~7u : 8;
    sizes.clear();
    for (size_t left = payload; left > 0;) {
      const size_t n = std::min<size_t>(left, mtu);
      sizes.push_back(static_cast<uint32_t>(n));
      left -= n;
    }
  }
  std::vector<uint8_t> header(frame.begin(), frame.begin() + nh + hlen);
  size_t at = nh + hlen;
  uint32_t offset = 0;
  for (size_t i = 0; i < sizes.size() && at < frame.size(); ++i) {
    const size_t n = std::min<size_t>(sizes[i], frame.size() - at);
    std::vector<uint8_t> f = header;
    uint8_t* ip = f.data() + nh;
    if (i == 1) {
      // ip_options_fragment: options without the copied flag become no-ops
      for (uint32_t o = 20; o < hlen;) {
        const uint8_t type = ip[o];
        if (type == 0) break;
        if (type == 1) {
          ++o;
          continue;
        }
        const uint32_t olen = o + 1 < hlen ? ip[o + 1] : 0;
        if (olen < 2 || o + olen > hlen) break;
        if (!(type & 0x80)) std::memset(ip + o, 1, olen);
        o += olen;
      }
      header.assign(f.begin(), f.end());
    }
    f.insert(f.end(), frame.begin() + static_cast<long>(at), frame.begin() + static_cast<long>(at + n));
    set_ipv4_header(f.data() + nh, hlen + static_cast<uint32_t>(n),
                    static_cast<uint16_t>(offset / 8 | (i + 1 < sizes.size() ? kMf : 0)));
    out.push_back(std::move(f));
    at += n;
    offset += static_cast<uint32_t>(n);
  }
  return out;
}

}  // namespace nfx::conntrack

namespace nfx::conntrack {

namespace {

// ip6_find_1stfragopt: where the fragmentable part starts (after hop-by-hop,
// routing, and destination options before a routing header), and the
// offset of the next-header byte that names it.
std::optional<std::pair<size_t, size_t>> first_fragmentable(std::span<const uint8_t> pkt, size_t nh) {
  size_t offset = 40, nexthdr = nh + 6;
  bool routing = false;
  while (nh + offset <= pkt.size()) {
    const uint8_t type = pkt[nexthdr];
    if (type == 43) routing = true;
    else if (type == 60) {
      if (routing) return std::pair{nh + offset, nexthdr};
    } else if (type != 0) {
      return std::pair{nh + offset, nexthdr};
    }
    if (nh + offset + 2 > pkt.size()) return std::nullopt;
    nexthdr = nh + offset;
    offset += (pkt[nh + offset + 1] + 1u) * 8u;
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::vector<uint8_t>> refragment_ipv6(std::span<const uint8_t> frame, uint32_t nh,
                                                  std::vector<uint32_t> sizes, uint16_t max_size, uint32_t id) {
  // ip6_fragment over the frag list: each piece under a copy of the
  // unfragmentable headers and a fragment header with a new identification
  std::vector<std::vector<uint8_t>> out;
  auto place = first_fragmentable(frame, nh);
  if (!place) return out;
  const auto [hlen, prevhdr] = *place;
  uint64_t sum = 0;
  for (uint32_t s : sizes) sum += s;
  const size_t payload = frame.size() - hlen;
  if (sum != payload) {
    // the slow path: pieces of the largest fragment's size (at least 1280), 8-byte aligned
    const size_t mtu = std::max<size_t>(max_size, 1280);
    const size_t room = mtu > hlen - nh + 8 + 8 ? (mtu - (hlen - nh) - 8) & ~size_t{7} : 8;
    sizes.clear();
    for (size_t left = payload; left > 0;) {
      const size_t n = std::min(left, room);
      sizes.push_back(static_cast<uint32_t>(n));
      left -= n;
    }
  }
  const uint8_t next = frame[prevhdr];
  size_t at = hlen;
  uint32_t offset = 0;
  for (size_t i = 0; i < sizes.size() && at < frame.size(); ++i) {
    const size_t n = std::min<size_t>(sizes[i], frame.size() - at);
    std::vector<uint8_t> f(frame.begin(), frame.begin() + static_cast<long>(hlen));
    f[prevhdr] = 44;
    const uint16_t frag_off = static_cast<uint16_t>(offset | (i + 1 < sizes.size() ? 1 : 0));
    const uint8_t fh[8] = {next, 0, static_cast<uint8_t>(frag_off >> 8), static_cast<uint8_t>(frag_off),
                           static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16),
                           static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
    f.insert(f.end(), fh, fh + 8);
    f.insert(f.end(), frame.begin() + static_cast<long>(at), frame.begin() + static_cast<long>(at + n));
    const size_t plen = f.size() - nh - 40;
    f[nh + 4] = static_cast<uint8_t>(plen >> 8);
    f[nh + 5] = static_cast<uint8_t>(plen);
    out.push_back(std::move(f));
    at += n;
    offset += static_cast<uint32_t>(n);
  }
  return out;
}

}  // namespace nfx::conntrack
