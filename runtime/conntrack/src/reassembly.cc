// IPv4 reassembly as nf_defrag_ipv4 does it (ip_defrag with the conntrack
// user): fragments queue by (source, destination, id, protocol, zone); an
// overlap or a contradiction about the datagram's end drops the queue, a
// duplicate only itself; the fragment that completes the datagram carries
// it whole, with the first fragment's header. Queues expire after 30 s
// (ipfrag_time). What the datagram was cut into is kept, for the
// refragmentation on the way out.
#include <algorithm>
#include <cstring>
#include <map>

#include "internal.h"

namespace nfx::conntrack {

namespace {

constexpr uint64_t kFragTimeout = 30 * kSecond;  // net.ipv4.ipfrag_time
constexpr uint16_t kDf = 0x4000, kMf = 0x2000;

struct QueueKey {
  std::array<uint8_t, 4> src, dst;
  uint16_t id;
  uint8_t proto;
  uint16_t zone;
  auto operator<=>(const QueueKey&) const = default;
};

struct Piece {
  uint32_t offset, end;
  std::vector<uint8_t> data;
};

struct Queue {
  std::vector<Piece> pieces;          // in offset order
  std::vector<uint8_t> head;          // the first fragment's link and IP headers
  bool first_in = false, last_in = false;
  uint32_t len = 0, meat = 0;
  uint16_t max_size = 0, max_df_size = 0;
  uint64_t expires_ns = 0;
};

}  // namespace

struct Reassembler::Impl {
  std::map<QueueKey, Queue> queues;
};

Reassembler::Reassembler() : impl_(std::make_unique<Impl>()) {}
Reassembler::~Reassembler() = default;

size_t Reassembler::queues() const { return impl_->queues.size(); }

Defrag Reassembler::ipv4(std::span<const uint8_t> frame, const packet::PacketLayout& layout, uint16_t zone,
                         uint64_t now_ns) {
  if (!layout.fragment || layout.protocol != packet::kEthPIp) return Defrag{};
  std::erase_if(impl_->queues, [&](const auto& kv) { return kv.second.expires_ns <= now_ns; });
  const auto pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  const uint32_t nh = layout.nh_off;
  if (pkt.size() < size_t{nh} + 20) return Defrag::held("fragment cut short");
  const uint32_t ihl = (pkt[nh] & 0x0fu) * 4u;
  const uint16_t flags = static_cast<uint16_t>(pkt[nh + 6] << 8 | pkt[nh + 7]);
  const uint32_t offset = (flags & 0x1fffu) * 8u;
  const uint32_t tot_len = static_cast<uint32_t>(pkt[nh + 2] << 8 | pkt[nh + 3]);
  if (pkt.size() < size_t{nh} + ihl || tot_len < ihl) return Defrag::held("fragment cut short");

  QueueKey key{};
  std::memcpy(key.src.data(), &pkt[nh + 12], 4);
  std::memcpy(key.dst.data(), &pkt[nh + 16], 4);
  key.id = static_cast<uint16_t>(pkt[nh + 4] << 8 | pkt[nh + 5]);
  key.proto = pkt[nh + 9];
  key.zone = zone;
  auto [it, created] = impl_->queues.try_emplace(key);
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

  // inet_frag_queue_insert: inside a run of contiguous fragments is a
  // duplicate (dropped alone); any other overlap drops the queue
  for (auto p = q.pieces.begin(); p != q.pieces.end(); ++p) {
    if (end <= p->offset || offset >= p->end) continue;
    uint32_t run_start = p->offset, run_end = p->end;
    for (auto r = p; r != q.pieces.begin() && std::prev(r)->end == run_start; --r) run_start = std::prev(r)->offset;
    for (auto r = std::next(p); r != q.pieces.end() && r->offset == run_end; ++r) run_end = r->end;
    if (offset >= run_start && end <= run_end) return Defrag::held("a duplicate fragment");
    return discard("overlapping fragments");
  }
  Piece piece{offset, end, std::vector<uint8_t>(pkt.begin() + nh + ihl, pkt.begin() + nh + ihl + (end - offset))};
  q.pieces.insert(std::upper_bound(q.pieces.begin(), q.pieces.end(), offset,
                                   [](uint32_t o, const Piece& x) { return o < x.offset; }),
                  std::move(piece));
  q.meat += end - offset;
  if (offset == 0) {
    q.first_in = true;
    q.head.assign(pkt.begin(), pkt.begin() + nh + ihl);
  }
  const uint16_t fragsize = static_cast<uint16_t>(end - offset + ihl);
  q.max_size = std::max(q.max_size, fragsize);
  if ((flags & kDf) && fragsize > q.max_df_size) q.max_df_size = fragsize;
  if (!q.first_in || !q.last_in || q.meat != q.len) return Defrag::held("fragment queued for reassembly");

  // ip_frag_reasm: the first fragment's header over the whole payload
  Defrag whole;
  whole.action = Defrag::Replace;
  whole.frame = std::move(q.head);
  for (const Piece& p : q.pieces) {
    whole.frame.insert(whole.frame.end(), p.data.begin(), p.data.end());
    whole.fragments.push_back(p.end - p.offset);
  }
  whole.max_size = q.max_size;
  uint8_t* ip = whole.frame.data() + nh;
  const uint32_t hlen = (ip[0] & 0x0fu) * 4u;
  const uint32_t total = hlen + q.len;
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  // DF only if the largest fragment had it (a refragmentation must not be
  // forwarded larger than what the sender sent)
  const uint16_t frag_off = q.max_df_size == q.max_size ? kDf : 0;
  ip[6] = static_cast<uint8_t>(frag_off >> 8);
  ip[7] = static_cast<uint8_t>(frag_off);
  ip[10] = ip[11] = 0;
  const uint16_t check = packet::ipv4_header_checksum(std::span<const uint8_t>(ip, hlen));
  ip[10] = static_cast<uint8_t>(check >> 8);
  ip[11] = static_cast<uint8_t>(check);
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
    const uint32_t total = hlen + static_cast<uint32_t>(n);
    ip = f.data() + nh;
    ip[2] = static_cast<uint8_t>(total >> 8);
    ip[3] = static_cast<uint8_t>(total);
    uint16_t frag_off = static_cast<uint16_t>(offset / 8);
    if (i + 1 < sizes.size()) frag_off |= kMf;
    ip[6] = static_cast<uint8_t>(frag_off >> 8);
    ip[7] = static_cast<uint8_t>(frag_off);
    ip[10] = ip[11] = 0;
    const uint16_t check = packet::ipv4_header_checksum(std::span<const uint8_t>(ip, hlen));
    ip[10] = static_cast<uint8_t>(check >> 8);
    ip[11] = static_cast<uint8_t>(check);
    out.push_back(std::move(f));
    at += n;
    offset += static_cast<uint32_t>(n);
  }
  return out;
}

}  // namespace nfx::conntrack
