// Bindings (nf_nat_core.c): choosing the translated tuple of a new
// connection and recording it as the connection's reply tuple.
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "internal.h"

namespace nfx::nat {

using conntrack::Dir;
using conntrack::Entry;
using conntrack::Tuple;

namespace {

constexpr unsigned kMaxAttempts = 128;  // NF_NAT_MAX_ATTEMPTS

// What nf_nat_bysource hashes: the original tuple's source and protocol.
struct SourceKey {
  std::array<uint8_t, 16> addr;
  uint16_t port;
  uint8_t l3, l4;
  uint16_t zone;
  bool operator==(const SourceKey&) const = default;
};
struct SourceKeyHash {
  size_t operator()(const SourceKey& k) const {
    uint8_t bytes[22];
    std::memcpy(bytes, k.addr.data(), 16);
    bytes[16] = static_cast<uint8_t>(k.port);
    bytes[17] = static_cast<uint8_t>(k.port >> 8);
    bytes[18] = k.l3;
    bytes[19] = k.l4;
    bytes[20] = static_cast<uint8_t>(k.zone);
    bytes[21] = static_cast<uint8_t>(k.zone >> 8);
    return packet::jhash(bytes, sizeof bytes, 0);
  }
};
SourceKey source_key(const Tuple& t, uint16_t zone) { return {t.src, t.sport, t.l3, t.l4, zone}; }

// nf_nat_inet_in_range: the tuple's source address within the range.
bool addr_in_range(const Tuple& t, const Range& r) {
  size_t n = addr_len(t.l3);
  return std::memcmp(t.src.data(), r.min_addr.data(), n) >= 0 && std::memcmp(t.src.data(), r.max_addr.data(), n) <= 0;
}

// The transport id a manip changes: ICMP's id whichever the manip, else the
// port of the manip's side.
uint16_t& proto_key(Tuple& t, Manip m) {
  if (t.l4 == kIpprotoIcmp || t.l4 == kIpprotoIcmpv6) return t.sport;
  return m == Manip::Src ? t.sport : t.dport;
}
bool has_ports(uint8_t l4) {
  return l4 == kIpprotoTcp || l4 == kIpprotoUdp || l4 == kIpprotoUdplite || l4 == kIpprotoSctp;
}

// l4proto_in_range.
bool proto_in_range(Tuple t, Manip m, uint16_t lo, uint16_t hi) {
  if (t.l4 != kIpprotoIcmp && t.l4 != kIpprotoIcmpv6 && !has_ports(t.l4) && t.l4 != kIpprotoGre) return true;
  uint16_t v = proto_key(t, m);
  return v >= lo && v <= hi;
}

// nf_in_range.
bool in_range(const Tuple& t, const Range& r) {
  if ((r.flags & kMapIps) && !addr_in_range(t, r)) return false;
  if (!(r.flags & kProtoSpecified)) return true;
  return proto_in_range(t, Manip::Src, r.min_proto, r.max_proto);
}

uint32_t reciprocal_scale(uint32_t v, uint32_t n) { return static_cast<uint32_t>((uint64_t{v} * n) >> 32); }

uint32_t load_be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | p[2] << 8 | p[3]; }
uint32_t load_raw32(const uint8_t* p) {  // a __be32 as the kernel's (little-endian) arithmetic sees it
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}
void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// find_best_ips_proto: an address of the range, spread by a hash of the
// source and destination addresses (only the source's with persistent), so
// a client keeps its address from one connection to the next.
void choose_address(Tuple& t, const Range& r, uint16_t zone, Manip m) {
  if (!(r.flags & kMapIps)) return;
  std::array<uint8_t, 16>& var = m == Manip::Src ? t.src : t.dst;
  const size_t n = addr_len(t.l3);
  if (std::memcmp(r.min_addr.data(), r.max_addr.data(), n) == 0) {
    std::memcpy(var.data(), r.min_addr.data(), n);
    return;
  }
  const size_t words = n / 4;
  // jhash2 over the whole nf_inet_addr (16 bytes, zero after an IPv4 address)
  uint32_t j = packet::jhash(t.src.data(), 16,
                             (r.flags & kPersistent) ? 0 : load_raw32(&t.dst[(words - 1) * 4]) ^ zone);
  bool full_range = false;
  for (size_t i = 0; i < words; ++i) {
    uint32_t minip, dist;
    if (!full_range) {
      minip = load_be32(&r.min_addr[i * 4]);
      dist = load_be32(&r.max_addr[i * 4]) - minip + 1;
    } else {
      minip = 0;
      dist = ~0u;
    }
    store_be32(&var[i * 4], minip + reciprocal_scale(j, dist));
    if (std::memcmp(&var[i * 4], &r.max_addr[i * 4], 4) != 0) full_range = true;
    if (!(r.flags & kPersistent)) j ^= load_raw32(&t.dst[i * 4]);
  }
}

}  // namespace

uint32_t status_bit(Manip m, Dir dir) {
  uint32_t bit = m == Manip::Src ? conntrack::kSrcNat : conntrack::kDstNat;
  if (dir == Dir::Reply) bit ^= conntrack::kSrcNat | conntrack::kDstNat;
  return bit;
}

Manip manip_of(Hook h) { return h == Hook::Postrouting || h == Hook::Input ? Manip::Src : Manip::Dst; }

bool initialized(const Entry& ct, Manip m) {
  return ct.status & (m == Manip::Src ? conntrack::kSrcNatDone : conntrack::kDstNatDone);
}

struct Nat::Impl {
  std::unordered_multimap<SourceKey, std::weak_ptr<Entry>, SourceKeyHash> by_source;
  std::mt19937 random;
  uint64_t inserted = 0;

  // nf_nat_used_tuple: a connection other than `ct` already answers to the
  // reply of `t`.
  bool used(conntrack::Table& table, const Tuple& t, const Entry& ct, uint64_t now) {
    std::optional<Tuple> reply = conntrack::invert(t);
    if (!reply) return false;
    std::shared_ptr<Entry> other = table.find(*reply, ct.zone);
    return other && other.get() != &ct && other->expires_ns > now;
  }

  // find_appropriate_src: a source mapping this client already has (the
  // newest first, as the kernel's hash chain holds them), if in range.
  bool appropriate_source(const Tuple& orig, uint16_t zone, const Range& r, Tuple& out) {
    auto [first, last] = by_source.equal_range(source_key(orig, zone));
    std::vector<std::shared_ptr<Entry>> found;
    for (auto it = first; it != last; ++it)
      if (auto e = it->second.lock(); e && !(e->status & conntrack::kDying)) found.push_back(std::move(e));
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a->id > b->id; });
    for (const auto& e : found) {
      std::optional<Tuple> mapped = conntrack::invert(e->tuple[1]);
      if (!mapped) continue;
      mapped->dst = orig.dst;
      mapped->dport = orig.dport;
      if (in_range(*mapped, r)) {
        out = *mapped;
        return true;
      }
    }
    return false;
  }

  // nf_nat_l4proto_unique_tuple: a free transport id within the range (or
  // the conventional one for the original port), from a random offset.
  void unique_proto(conntrack::Table& table, Tuple& t, const Range& r, Manip m, const Entry& ct, uint64_t now) {
    uint32_t min, range_size;
    const bool icmp = t.l4 == kIpprotoIcmp || t.l4 == kIpprotoIcmpv6;
    if (!icmp && !has_ports(t.l4)) return;  // GRE without a PPTP master, generic protocols: nothing to change
    uint16_t& key = proto_key(t, m);
    if (icmp) {
      if (!(r.flags & kProtoSpecified)) {
        min = 0;
        range_size = 65536;
      } else {
        min = r.min_proto;
        range_size = uint32_t{r.max_proto} - r.min_proto + 1;
      }
    } else if (!(r.flags & kProtoSpecified)) {
      if (m == Manip::Dst) return;  // a destination keeps its port
      if (key < 1024) {
        // the loose convention: below 512 stays below, 600..1023 for the rest
        if (key < 512) {
          min = 1;
          range_size = 511;
        } else {
          min = 600;
          range_size = 1023 - 600 + 1;
        }
      } else {
        min = 1024;
        range_size = 65535 - 1024 + 1;
      }
    } else {
      uint32_t lo = r.min_proto, hi = r.max_proto;
      if (hi < lo) std::swap(lo, hi);
      min = lo;
      range_size = hi - lo + 1;
    }
    uint16_t off;
    if (r.flags & kProtoOffset) off = static_cast<uint16_t>(key - r.base_proto);
    else if ((r.flags & kProtoRandomAll) || m != Manip::Dst) off = static_cast<uint16_t>(random());
    else off = 0;
    unsigned attempts = std::min(range_size, kMaxAttempts);
    for (;;) {
      for (unsigned i = 0; i < attempts; ++i, ++off) {
        key = static_cast<uint16_t>(min + off % range_size);
        if (!used(table, t, ct, now)) return;
      }
      if (attempts >= range_size || attempts < 16) return;
      attempts /= 2;
      off = static_cast<uint16_t>(random());
    }
  }

  // get_unique_tuple.
  Tuple unique_tuple(conntrack::Table& table, const Tuple& orig, const Range& r, const Entry& ct, Manip m,
                     uint64_t now) {
    if (m == Manip::Src && !(r.flags & kProtoRandomAll)) {
      // 1) the original tuple when it is in range and free, or the mapping
      //    this source already has
      if (in_range(orig, r)) {
        if (!used(table, orig, ct, now)) return orig;
      } else {
        Tuple mapped;
        if (appropriate_source(orig, ct.zone, r, mapped) && !used(table, mapped, ct, now)) return mapped;
      }
    }
    // 2) an address of the range
    Tuple t = orig;
    choose_address(t, r, ct.zone, m);
    // 3) a transport id that makes it unique, unless it already is and fits
    if (!(r.flags & kProtoRandomAll)) {
      if (r.flags & kProtoSpecified) {
        if (!(r.flags & kProtoOffset) && proto_in_range(t, m, r.min_proto, r.max_proto) &&
            (r.min_proto == r.max_proto || !used(table, t, ct, now)))
          return t;
      } else if (!used(table, t, ct, now)) {
        return t;
      }
    }
    unique_proto(table, t, r, m, ct, now);
    return t;
  }
};

Nat::Nat(uint64_t seed) : impl_(std::make_unique<Impl>()) { impl_->random.seed(static_cast<uint32_t>(seed)); }
Nat::~Nat() = default;

bool Nat::setup(conntrack::Table& table, const std::shared_ptr<Entry>& ct, const Range& range, Manip m,
                uint64_t now_ns) {
  Entry& e = *ct;
  if (initialized(e, m)) return false;
  // what the connection looks like after earlier manips: the inverse of its reply
  std::optional<Tuple> current = conntrack::invert(e.tuple[1]);
  if (!current) return false;
  Tuple chosen = impl_->unique_tuple(table, *current, range, e, m, now_ns);
  if (!(chosen == *current)) {
    std::optional<Tuple> reply = conntrack::invert(chosen);
    if (!reply) return false;
    e.tuple[1] = *reply;  // nf_conntrack_alter_reply: replies are recognised by it
    e.status |= m == Manip::Src ? conntrack::kSrcNat : conntrack::kDstNat;
  }
  if (m == Manip::Src) {
    impl_->by_source.emplace(source_key(e.tuple[0], e.zone), ct);
    // drop what died, now and then, so the index stays the size of the table
    if (++impl_->inserted % 1024 == 0)
      std::erase_if(impl_->by_source, [](const auto& kv) {
        auto p = kv.second.lock();
        return !p || (p->status & conntrack::kDying);
      });
  }
  e.status |= m == Manip::Src ? conntrack::kSrcNatDone : conntrack::kDstNatDone;
  return true;
}

bool Nat::null_binding(conntrack::Table& table, const std::shared_ptr<Entry>& ct, Manip m, uint64_t now_ns) {
  // the address the connection already has on that side (its reply tuple's,
  // in case an earlier manip changed it); the transport id chosen as usual
  Range r;
  r.flags = kMapIps;
  const Tuple& reply = ct->tuple[1];
  r.min_addr = r.max_addr = m == Manip::Src ? reply.dst : reply.src;
  return setup(table, ct, r, m, now_ns);
}

size_t Nat::sources() const { return impl_->by_source.size(); }

}  // namespace nfx::nat
