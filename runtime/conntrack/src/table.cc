// The table and nf_conntrack_in's flow: a packet's tuple, its protocol's
// checks, the lookup in both directions (ESTABLISHED, NEW until a reply,
// RELATED for an ICMP error about a known connection), creation of an
// unconfirmed entry, and confirmation at the last hook. A full table drops
// an unreplied entry to make room (early_drop) or the new packet.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <deque>
#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include "internal.h"

namespace nfx::conntrack {

uint32_t state_bits(Info info) {
  switch (info) {
    case Info::Established:
    case Info::EstablishedReply: return kStateEstablished;
    case Info::Related:
    case Info::RelatedReply: return kStateRelated;
    case Info::New: return kStateNew;
    case Info::Untracked: return kStateUntracked;
    case Info::None: break;
  }
  return kStateInvalid;
}

namespace {

struct Key {
  Tuple tuple;
  uint16_t zone;
  // compared and hashed as the 40 bytes they are (no padding between them)
  bool operator==(const Key& o) const { return std::memcmp(this, &o, sizeof(Key)) == 0; }
};
static_assert(sizeof(Key) == 5 * sizeof(uint64_t) && std::has_unique_object_representations_v<Key>);

// Abseil's hash, seeded per process: a flood of chosen tuples cannot aim at
// one bucket chain.
// Mixed as five words: inline, where a byte range goes to a library call.
template <typename H>
H AbslHashValue(H h, const Key& k) {
  uint64_t w[5];
  std::memcpy(w, &k, sizeof w);
  return H::combine(std::move(h), w[0], w[1], w[2], w[3], w[4]);
}

// One direction of a confirmed entry in the index: its key (the entry's
// tuple of that direction and its zone, which do not change once
// confirmed) kept in the slot, so a lookup compares without following the
// pointer to the entry.
struct Slot {
  Key key;
  std::shared_ptr<Entry> entry;
  Dir dir;
};
struct SlotHash {
  using is_transparent = void;
  size_t operator()(const Key& k) const { return absl::Hash<Key>{}(k); }
  size_t operator()(const Slot& s) const { return absl::Hash<Key>{}(s.key); }
};
struct SlotEq {
  using is_transparent = void;
  bool operator()(const Slot& a, const Slot& b) const { return a.key == b.key; }
  bool operator()(const Slot& a, const Key& b) const { return a.key == b; }
  bool operator()(const Key& a, const Slot& b) const { return a == b.key; }
};

// The tuple of the packet an ICMP/ICMPv6 error carries (nf_ct_get_tuplepr on
// the inner header): nullopt when it is cut short or a non-first fragment.
std::optional<Tuple> inner_tuple(std::span<const uint8_t> pkt, uint32_t inner, uint8_t l3) {
  if (l3 == kNfprotoIpv4) {
    if (pkt.size() < size_t{inner} + 20) return std::nullopt;
    const uint32_t ihl = (pkt[inner] & 0x0f) * 4u;
    if (ihl < 20) return std::nullopt;
    if (((pkt[inner + 6] & 0x1f) << 8 | pkt[inner + 7]) != 0) return std::nullopt;  // not the first fragment
    return tuple_at(pkt, inner, inner + ihl, l3, pkt[inner + 9]);
  }
  if (pkt.size() < size_t{inner} + 40) return std::nullopt;
  std::optional<Ipv6Skip> skip = ipv6_skip_exthdr(pkt, inner + 40, pkt[inner + 6]);
  if (!skip || skip->later_fragment) return std::nullopt;
  return tuple_at(pkt, inner, static_cast<uint32_t>(skip->at), l3, skip->next);
}

}  // namespace

struct Table::Impl {
  Config config;
  // Both tuples of every confirmed entry, in one open-addressing table.
  absl::flat_hash_set<Slot, SlotHash, SlotEq> index;
  std::deque<std::weak_ptr<Entry>> order;  // confirmed entries, oldest first (early drop, listings)
  std::vector<Expectation> expects;        // oldest first; few, so a list
  uint64_t next_id = 1;
  bool accounting = false;
  Reassembler reassembler;

  // Expectations whose time is up or whose master is gone are forgotten.
  void prune_expects(uint64_t now) {
    std::erase_if(expects, [&](const Expectation& x) {
      auto m = x.master.lock();
      return x.expires_ns <= now || !m || (m->status & kDying);
    });
  }

  // nf_ct_find_expectation: the expectation `t` fulfils (its master
  // confirmed), taken out of the list.
  std::optional<Expectation> take_expect(const Tuple& t, uint16_t zone, uint64_t now) {
    if (expects.empty()) return std::nullopt;
    prune_expects(now);
    for (auto it = expects.begin(); it != expects.end(); ++it) {
      const Tuple& x = it->tuple;
      if (it->zone != zone || x.l3 != t.l3 || x.l4 != t.l4 || x.dst != t.dst || x.dport != t.dport) continue;
      if ((!it->any_src_addr && x.src != t.src) || (!it->any_sport && x.sport != t.sport)) continue;
      auto m = it->master.lock();
      if (!m || !(m->status & kConfirmed)) continue;
      Expectation found = std::move(*it);
      expects.erase(it);
      return found;
    }
    return std::nullopt;
  }

  std::shared_ptr<Entry> lookup(const Tuple& t, uint16_t zone, uint64_t now, Dir* dir) {
    auto it = index.find(Key{t, zone});
    if (it == index.end()) return nullptr;
    std::shared_ptr<Entry> e = it->entry;
    if (e->expires_ns <= now) {  // expired: gone, as the kernel reaps it on lookup
      remove(*e);
      return nullptr;
    }
    if (dir) *dir = it->dir;
    return e;
  }

  void remove(Entry& e) {
    e.status |= kDying;
    // only this entry's slots: a clashing entry of the same tuple is not in the index
    for (size_t d = 0; d < 2; ++d)
      if (auto it = index.find(Key{e.tuple[d], e.zone}); it != index.end() && it->entry.get() == &e) index.erase(it);
  }

  // early_drop: an entry not ASSURED (or an expired one) makes room.
  bool early_drop(uint64_t now) {
    for (auto it = order.begin(); it != order.end();) {
      std::shared_ptr<Entry> e = it->lock();
      if (!e || (e->status & kDying)) {
        it = order.erase(it);
        continue;
      }
      if (e->expires_ns <= now || !(e->status & kAssured)) {
        remove(*e);
        order.erase(it);
        return true;
      }
      ++it;
    }
    return false;
  }

  size_t confirmed() const { return index.size() / 2; }
};

Table::Table(Config config) : impl_(std::make_unique<Impl>()) { impl_->config = config; }
Table::~Table() = default;

Tracked Table::in(std::span<const uint8_t> frame, const packet::PacketLayout& layout, TrackHook hook, uint16_t zone,
                  uint64_t now_ns) {
  Impl& m = *impl_;
  Tracked out;
  const bool ip = layout.protocol == packet::kEthPIp || layout.protocol == packet::kEthPIpv6;
  if (!ip) {
    out.why = "not an IP packet";
    return out;
  }
  const auto pkt = frame.first(std::min<size_t>(frame.size(), layout.end));
  const std::optional<packet::PacketLayout> view = conntrack_view(frame, layout);
  if (!view) {
    out.why = "no transport header";
    return out;
  }
  const TrackContext c{pkt, *view, hook, m.config, now_ns};
  const uint8_t l4 = view->l4proto;
  Verdict checked{true, {}};
  if (l4 == kIpprotoTcp) checked = tcp::error(c);
  else if (l4 == kIpprotoSctp) checked = sctp::error(c);
  else if (l4 == kIpprotoUdp || l4 == kIpprotoUdplite) checked = udp::error(c);
  else if (l4 == kIpprotoIcmp || l4 == kIpprotoIcmpv6) checked = icmp::error(c);
  if (!checked.ok) {
    out.why = checked.why;
    return out;
  }
  const uint8_t l3 = layout.protocol == packet::kEthPIp ? kNfprotoIpv4 : kNfprotoIpv6;
  std::optional<Tuple> tuple = tuple_at(pkt, view->nh_off, view->th_off, l3, l4);
  if (!tuple) {
    out.why = "headers too short for the tuple";
    return out;
  }

  if (l4 == kIpprotoIcmp || l4 == kIpprotoIcmpv6) {
    const uint8_t type = tuple->icmp_type();
    if (icmp::untracked(l4, type)) {
      out.info = Info::Untracked;
      return out;
    }
    if (icmp::is_error(l4, type)) {
      // nf_conntrack_inet_error: the connection of the packet the error carries
      std::optional<Tuple> carried = inner_tuple(pkt, view->th_off + 8, tuple->l3);
      std::optional<Tuple> inverse = carried ? invert(*carried) : std::nullopt;
      if (!inverse) {
        out.why = "icmp error: the carried packet has no tuple";
        return out;
      }
      Dir dir = Dir::Original;
      std::shared_ptr<Entry> e = m.lookup(*inverse, zone, now_ns, &dir);
      if (!e) {
        out.why = "icmp error for no known connection";
        return out;
      }
      // the error must go to the address the connection sent from
      if (e->tuple[static_cast<size_t>(dir)].dst != tuple->dst) {
        out.why = "icmp error: outer destination is not the inner source";
        return out;
      }
      out.entry = e;
      out.dir = dir;
      out.info = dir == Dir::Reply ? Info::RelatedReply : Info::Related;
      return out;
    }
  }

  // Twice at most: a TCP SYN reopening a closed connection kills it and is
  // tracked again (NF_REPEAT).
  for (int attempt = 0; attempt < 2; ++attempt) {
    Dir dir = Dir::Original;
    std::shared_ptr<Entry> e = m.lookup(*tuple, zone, now_ns, &dir);
    const bool created = !e;
    if (created) {
      if (l4 == kIpprotoIcmp || l4 == kIpprotoIcmpv6) {
        Verdict v = icmp::is_new(*tuple);
        if (!v.ok) {
          out.why = v.why;
          return out;
        }
      }
      std::optional<Tuple> reply = invert(*tuple);
      if (!reply) {
        out.why = "no reply tuple";
        return out;
      }
      if (m.config.max_entries && m.confirmed() >= m.config.max_entries && !m.early_drop(now_ns)) {
        out.drop = true;
        out.why = "table full, dropping packet";
        return out;
      }
      e = std::make_shared<Entry>();
      e->tuple = {*tuple, *reply};
      e->zone = zone;
      if (m.accounting) e->extend().acct = true;
      if (l4 == kIpprotoTcp) {
        Verdict v = tcp::start(c, *e);
        if (!v.ok) {
          out.why = v.why;
          return out;
        }
      }
      // init_conntrack: a connection a helper expects is RELATED to its
      // master, takes its mark, and follows its NAT
      if (std::optional<Expectation> x = m.take_expect(*tuple, zone, now_ns)) {
        std::shared_ptr<Entry> master = x->master.lock();
        e->status |= kExpected;
        e->extend().master = master;
        e->mark = master->mark;
        if (x->on_new) x->on_new(e, *x);
      }
    }

    Info info;
    if (dir == Dir::Reply) info = Info::EstablishedReply;
    else if (e->status & kSeenReply) info = Info::Established;
    else if (e->status & kExpected) info = Info::Related;
    else info = Info::New;

    bool kill = false, counted = true;  // nf_ct_refresh_acct: what a tracker accepts counts
    if (l4 == kIpprotoTcp) {
      Result r = tcp::packet(c, *e, dir);
      switch (r.action) {
        case Action::Invalid: out.why = r.why; return out;
        case Action::Repeat:
          if (!created) m.remove(*e);
          continue;
        case Action::Kill: kill = true; break;
        case Action::Ignore: out.why = r.why; counted = false; break;
        case Action::Accept: break;
      }
    } else if (l4 == kIpprotoSctp) {
      Result r = sctp::packet(c, *e, dir, created);
      if (r.action == Action::Invalid) {
        out.why = r.why;
        return out;
      }
    } else if (l4 == kIpprotoUdp || l4 == kIpprotoUdplite) {
      udp::packet(c, *e, dir, created);
    } else if (l4 == kIpprotoIcmp || l4 == kIpprotoIcmpv6) {
      icmp::packet(c, *e, dir);
    } else {
      generic::packet(c, *e, dir);
    }
    if (dir == Dir::Reply) e->status |= kSeenReply;
    if (counted && e->acct()) {
      e->ext->packets[static_cast<size_t>(dir)] += 1;
      e->ext->bytes[static_cast<size_t>(dir)] += layout.end - layout.nh_off;  // skb->len: the IP packet
    }
    if (kill) {
      // nf_ct_kill: the packet keeps its entry, the table loses it
      if (e->status & kConfirmed) m.remove(*e);
      else e->status |= kDying;
    }
    out.entry = std::move(e);
    out.info = info;
    out.dir = dir;
    return out;
  }
  out.why = "connection reopened twice";
  return out;
}

bool Table::confirm(const Tracked& t, uint64_t now_ns) {
  Impl& m = *impl_;
  if (!t.entry || (t.entry->status & kConfirmed)) return true;
  // only a packet of the original direction confirms: a reset a reject
  // attached to the connection it answers does not (__nf_conntrack_confirm)
  if (t.dir != Dir::Original) return true;
  Entry& e = *t.entry;
  if (e.status & kDying) return true;  // killed on its way (a RST answering it): passes, is not kept
  // a clash: the same connection confirmed by another packet meanwhile
  if (m.lookup(e.tuple[0], e.zone, now_ns, nullptr) || m.lookup(e.tuple[1], e.zone, now_ns, nullptr)) return false;
  if (m.config.max_entries && m.confirmed() >= m.config.max_entries && !m.early_drop(now_ns)) return false;
  e.status |= kConfirmed;
  e.id = m.next_id++;
  m.index.insert(Slot{Key{e.tuple[0], e.zone}, t.entry, Dir::Original});
  m.index.insert(Slot{Key{e.tuple[1], e.zone}, t.entry, Dir::Reply});
  m.order.push_back(t.entry);
  return true;
}

size_t Table::collect(uint64_t now_ns) {
  Impl& m = *impl_;
  size_t removed = 0;
  for (auto it = m.order.begin(); it != m.order.end();) {
    std::shared_ptr<Entry> e = it->lock();
    if (e && !(e->status & kDying) && e->expires_ns > now_ns) {
      ++it;
      continue;
    }
    if (e && !(e->status & kDying)) {
      m.remove(*e);
      ++removed;
    }
    it = m.order.erase(it);
  }
  return removed;
}

void Table::flush() {
  for (const Slot& s : impl_->index) s.entry->status |= kDying;
  impl_->index.clear();
  impl_->order.clear();
  impl_->expects.clear();
}

ExpectResult Table::expect(Expectation e, size_t max_expected, uint64_t now_ns) {
  Impl& m = *impl_;
  m.prune_expects(now_ns);
  auto master = e.master.lock();
  if (!master) return ExpectResult::Full;
  for (auto it = m.expects.begin(); it != m.expects.end(); ++it) {
    const Tuple& a = it->tuple;
    const Tuple& b = e.tuple;
    const bool same_master = it->master.lock() == master;
    const bool same = a == b && it->any_sport == e.any_sport && it->any_src_addr == e.any_src_addr && it->zone == e.zone;
    if (same_master && same) {  // the same expectation again: it replaces the old one
      m.expects.erase(it);
      break;
    }
    // expect_clash: both could take the same connection
    const bool any_src = it->any_src_addr || e.any_src_addr, any_sport = it->any_sport || e.any_sport;
    if (it->zone == e.zone && a.l3 == b.l3 && a.l4 == b.l4 && a.dst == b.dst && a.dport == b.dport &&
        (any_src || a.src == b.src) && (any_sport || a.sport == b.sport))
      return ExpectResult::Busy;
  }
  if (max_expected) {
    // evict_oldest_expect: the master's oldest makes room
    auto mine = [&](const Expectation& x) { return x.master.lock() == master; };
    size_t count = static_cast<size_t>(std::count_if(m.expects.begin(), m.expects.end(), mine));
    if (count >= max_expected) m.expects.erase(std::find_if(m.expects.begin(), m.expects.end(), mine));
  }
  m.expects.push_back(std::move(e));
  return ExpectResult::Added;
}

std::vector<Expectation> Table::expectations(uint64_t now_ns) const {
  std::vector<Expectation> out;
  for (const Expectation& x : impl_->expects) {
    auto m = x.master.lock();
    if (x.expires_ns > now_ns && m && !(m->status & kDying)) out.push_back(x);
  }
  return out;
}

int32_t seq_offset(const SeqAdj& adj, uint32_t seq) {
  return static_cast<int32_t>(seq - adj.correction_pos) > 0 ? adj.offset_after : adj.offset_before;
}

void Table::set_accounting(bool on) { impl_->accounting = on; }

Reassembler& Table::reassembler() { return impl_->reassembler; }

size_t Table::size() const { return impl_->confirmed(); }
const Config& Table::config() const { return impl_->config; }

std::vector<std::shared_ptr<const Entry>> Table::entries() const {
  std::vector<std::shared_ptr<const Entry>> out;
  for (const auto& w : impl_->order)
    if (auto e = w.lock(); e && !(e->status & kDying)) out.push_back(e);
  return out;
}

std::shared_ptr<Entry> Table::find(const Tuple& t, uint16_t zone, Dir* dir) const {
  auto it = impl_->index.find(Key{t, zone});
  if (it == impl_->index.end()) return nullptr;
  if (dir) *dir = it->dir;
  return it->entry;
}

}  // namespace nfx::conntrack
