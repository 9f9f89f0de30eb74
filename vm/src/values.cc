// Value expressions and predicates, as nft_payload, nft_exthdr, nft_meta,
// nft_bitwise, nft_byteorder, nft_numgen, nft_hash, nft_cmp, nft_range and
// nft_lookup evaluate them. A false return is NFT_BREAK: the rule stops.
#include <cstring>

#include "state.h"

namespace nfx::vm {

namespace {

using ir::Order;
using ir::ValueKind;

enum MetaKey : uint32_t {
  kLen = 0, kProtocol = 1, kPriority = 2, kMark = 3, kIif = 4, kOif = 5, kIifname = 6, kOifname = 7,
  kIiftype = 8, kOiftype = 9, kNftrace = 12, kNfproto = 15, kL4proto = 16, kPkttype = 19, kCpu = 20,
  kIifgroup = 21, kOifgroup = 22, kRandom = 24, kTimeNs = 30, kTimeDay = 31, kTimeHour = 32,
};

void put_host(Bytes& out, uint64_t v, uint32_t len) {
  out.assign(len, 0);
  for (uint32_t i = 0; i < len && i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}

void put_name(Bytes& out, const std::string& name, uint32_t len) {
  out.assign(len, 0);
  std::memcpy(out.data(), name.data(), std::min<size_t>(name.size(), len));
}

constexpr int64_t kSecsPerDay = 86400;

// nft_meta_get_eval_time on the packet's clock. The day applies the kernel's
// sys_tz (settimeofday) like nft_meta_weekday; the hour does not (seconds
// since midnight UTC), which is why nft converts "17:00" to UTC at load time.
void eval_time(uint32_t key, const PacketMeta& m, uint32_t len, Bytes& out) {
  auto secs = static_cast<int64_t>(m.now_ns / 1000000000ull);
  switch (key) {
    case kTimeNs: put_host(out, m.now_ns, len); return;
    case kTimeDay: {
      // div_u64 on the shifted seconds, then 1970-01-01 was a Thursday (4)
      auto dse = static_cast<uint32_t>(static_cast<uint64_t>(secs - 60 * int64_t{m.tz_minuteswest}) / kSecsPerDay);
      put_host(out, (4 + dse) % 7, len);
      return;
    }
    case kTimeHour: put_host(out, static_cast<uint64_t>(secs % kSecsPerDay), len); return;  // time64_to_tm(secs, 0)
  }
}

bool eval_meta(const ir::Value& v, Exec& x, Bytes& out) {
  const PacketMeta& m = x.pkt.meta;
  const packet::PacketLayout& l = x.pkt.layout;
  switch (v.key) {
    case kLen: put_host(out, x.skb_len(), v.len); return true;
    case kProtocol: out = ir::be_from_u64(l.protocol, 2); out.resize(v.len); return true;
    case kPriority: put_host(out, m.priority, v.len); return true;
    case kMark: put_host(out, m.mark, v.len); return true;
    // No device: the index reads as 0 (nft_meta_store_ifindex).
    case kIif: put_host(out, m.iif, v.len); return true;
    case kOif: put_host(out, m.oif, v.len); return true;
    case kIifname: put_name(out, m.iifname, v.len); return true;
    case kOifname: put_name(out, m.oifname, v.len); return true;
    // At netdev egress there is no input device, yet iiftype reads as the
    // device's own type (measured with nfx_difftest: `meta iiftype ether`
    // matches every frame there, `meta iif 0` too).
    case kIiftype:
      if (m.iif == 0 && x.hook == Hook::Egress) return put_host(out, m.oiftype, v.len), true;
      put_host(out, m.iiftype, v.len);
      return m.iif != 0;
    case kOiftype: put_host(out, m.oiftype, v.len); return m.oif != 0;
    case kNftrace: put_host(out, m.nftrace, v.len); return true;
    case kNfproto: put_host(out, static_cast<uint8_t>(x.family), v.len); return true;
    case kL4proto:
      if (!l.l4_valid) return false;
      put_host(out, l.l4proto, v.len);
      return true;
    case kPkttype: put_host(out, m.pkttype, v.len); return true;
    case kCpu: put_host(out, m.cpu, v.len); return true;
    case kIifgroup: put_host(out, m.iifgroup, v.len); return m.iif != 0;
    case kOifgroup: put_host(out, m.oifgroup, v.len); return m.oif != 0;
    case kRandom: out = ir::be_from_u64(x.st.rng(), 4); out.resize(v.len); return true;
    case kTimeNs:
    case kTimeDay:
    case kTimeHour: eval_time(v.key, m, v.len, out); return true;
  }
  return false;  // refused at load time
}

packet::PayloadBase base_of(ir::PayloadBase b) { return static_cast<packet::PayloadBase>(static_cast<int>(b)); }

bool eval_exthdr(const ir::Value& v, Exec& x, Bytes& out) {
  std::span<const uint8_t> frame = x.pkt.frame.bytes();
  const packet::PacketLayout& l = x.pkt.layout;
  std::optional<uint32_t> at;
  uint32_t length = UINT32_MAX;  // the option's own length bounds field loads
  switch (v.exthdr) {
    case ir::ExthdrOp::Ipv6: at = packet::find_ipv6_exthdr(frame, l, static_cast<uint8_t>(v.type)); break;
    case ir::ExthdrOp::Ipv4: at = packet::find_ipv4_option(frame, l, static_cast<uint8_t>(v.type)); break;
    case ir::ExthdrOp::TcpOpt:
      if (auto o = packet::find_tcp_option(frame, l, static_cast<uint8_t>(v.type))) at = o->offset, length = o->length;
      break;
    case ir::ExthdrOp::Sctp: {
      // The chunk walk starts at thoff from skb->data: for a non-first IPv6
      // fragment (thoff 0) at netdev egress that is the MAC header.
      packet::PacketLayout walk = l;
      if (l.protocol == packet::kEthPIpv6 && l.fragoff != 0 && x.hook == Hook::Egress && l.mac_off >= 0)
        walk.th_off = static_cast<uint32_t>(l.mac_off);
      if (auto o = packet::find_sctp_chunk(frame, walk, static_cast<uint8_t>(v.type))) at = o->offset, length = o->length;
      break;
    }
  }
  if (v.present) {
    out.assign(v.len, 0);
    out[0] = at.has_value();
    return true;
  }
  if (!at) return false;
  if (length != UINT32_MAX && v.offset + v.len > length) return false;
  uint64_t from = static_cast<uint64_t>(*at) + v.offset;
  if (from + v.len > l.end || from + v.len > frame.size()) return false;
  out.assign(frame.begin() + static_cast<long>(from), frame.begin() + static_cast<long>(from + v.len));
  return true;
}

// reciprocal_scale: maps a 32-bit value onto [0, n).
uint32_t scale(uint32_t v, uint32_t n) { return static_cast<uint32_t>((static_cast<uint64_t>(v) * n) >> 32); }

}  // namespace

uint32_t Exec::skb_len() const {
  const packet::PacketLayout& l = pkt.layout;
  // At egress skb->data is the MAC header; a VLAN tag stays in the skb's
  // metadata (the TAP device takes tags out of line), so it is not counted.
  if (hook == Hook::Egress && l.mac_off >= 0)
    return l.end - static_cast<uint32_t>(l.mac_off) - (l.vlan_present ? 4u : 0u);
  return l.end > l.nh_off ? l.end - l.nh_off : 0;
}

int compare(const Bytes& a, const Bytes& b, Order order) {
  if (order == Order::Host) {
    for (size_t i = a.size(); i-- > 0;)
      if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
  }
  return std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
}

// Whether the kernel evaluates this load with nft_payload_fast_ops (an
// aligned load of 1, 2 or 4 bytes) on a non-first fragment.
static bool transport_fast_path(const ir::Value& v, const packet::PacketLayout& l) {
  return v.base == ir::PayloadBase::Transport && l.l4_valid && l.fragoff != 0 &&
         (v.len == 1 || v.len == 2 || v.len == 4) && v.offset % v.len == 0;
}

bool eval_value(const ir::Value& v, Exec& x, Bytes& out) {
  switch (v.kind) {
    case ValueKind::Const: out = v.data; return true;
    case ValueKind::Payload:
      out.assign(v.len, 0);
      if (transport_fast_path(v, x.pkt.layout)) {
        // nft_payload_fast_eval checks only NFT_PKTINFO_L4PROTO, not the
        // fragment offset: aligned 1/2/4-byte transport loads read a
        // non-first fragment's data as if it were the header (measured on
        // the kernel; the generic path, taken by every other load, breaks).
        const packet::PacketLayout& l = x.pkt.layout;
        // A non-first IPv6 fragment's thoff is 0 (ipv6_find_hdr leaves it),
        // which the kernel adds to skb->data: the network header, except at
        // netdev egress, where skb->data is the MAC header.
        uint32_t th = l.th_off;
        if (l.protocol == packet::kEthPIpv6 && x.hook == Hook::Egress && l.mac_off >= 0)
          th = static_cast<uint32_t>(l.mac_off);
        uint64_t at = static_cast<uint64_t>(th) + v.offset;
        if (at + v.len > l.end || at + v.len > x.pkt.frame.size()) return false;
        std::memcpy(out.data(), x.pkt.frame.data() + at, v.len);
        return true;
      }
      return packet::payload_load(x.pkt.frame.bytes(), x.pkt.layout, base_of(v.base), v.offset, v.len, out.data());
    case ValueKind::Exthdr: return eval_exthdr(v, x, out);
    case ValueKind::Meta: return eval_meta(v, x, out);
    case ValueKind::Ct: return eval_ct(v, x, out);
    case ValueKind::Bitwise: {
      if (!eval_value(*v.args.at(0), x, out)) return false;
      out.resize(v.len, 0);
      for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>((out[i] & v.data[i]) ^ v.xor_data[i]);
      return true;
    }
    case ValueKind::Binop: {
      Bytes b;
      if (!eval_value(*v.args.at(0), x, out) || !eval_value(*v.args.at(1), x, b)) return false;
      out.resize(v.len, 0);
      b.resize(v.len, 0);
      for (size_t i = 0; i < out.size(); ++i)
        out[i] = v.op == ir::BinOp::And ? out[i] & b[i] : v.op == ir::BinOp::Or ? out[i] | b[i] : out[i] ^ b[i];
      return true;
    }
    case ValueKind::Shift: {
      Bytes in;
      if (!eval_value(*v.args.at(0), x, in)) return false;
      Bytes big = ir::to_big(in, v.args[0]->order);
      size_t width = std::max<size_t>(big.size(), v.len);
      big = ir::be_resize(big, width);
      big = v.left ? ir::be_shift_left(big, v.shift) : ir::be_shift_right(big, v.shift);
      out = ir::from_big(ir::be_resize(big, v.len), v.order);
      return true;
    }
    case ValueKind::ByteOrder: {
      if (!eval_value(*v.args.at(0), x, out)) return false;
      size_t unit = v.size ? v.size : out.size();
      for (size_t i = 0; i + unit <= out.size(); i += unit) std::reverse(out.begin() + static_cast<long>(i), out.begin() + static_cast<long>(i + unit));
      return true;
    }
    case ValueKind::Concat: {
      out.clear();
      for (const auto& a : v.args) {
        Bytes part;
        if (!eval_value(*a, x, part)) return false;
        part.resize((part.size() + 3) / 4 * 4, 0);
        out.insert(out.end(), part.begin(), part.end());
      }
      return true;
    }
    case ValueKind::MapLookup: {
      Bytes key;
      if (!eval_value(*v.args.at(0), x, key)) return false;
      SetElem* e = set_lookup(set_state(x, v.set), key, x.pkt.meta.now_ns);
      if (!e) return false;
      out = e->data;
      return true;
    }
    case ValueKind::Numgen: {
      uint32_t n;
      if (v.flags) {
        n = scale(x.st.rng(), v.modulus);
      } else {
        // nft_ng_inc: the counter starts at modulus - 1, so the first packet gets 0
        auto [it, fresh] = x.st.numgen.try_emplace(&v, v.modulus - 1);
        it->second = it->second + 1 < v.modulus ? it->second + 1 : 0;
        n = it->second;
      }
      put_host(out, n + v.add, v.len);
      return true;
    }
    case ValueKind::Hash: {
      if (v.symmetric) {
        put_host(out, scale(symhash(x.pkt, x.st.hash_key), v.modulus) + v.add, v.len);
        return true;
      }
      Bytes in;
      if (!eval_value(*v.args.at(0), x, in)) return false;
      uint32_t h = scale(jhash(in.data(), in.size(), v.seed), v.modulus) + v.add;
      put_host(out, h, v.len);
      return true;
    }
    default:
      return false;  // refused at load time
  }
}

bool eval_predicate(const ir::Predicate& p, Exec& x) {
  Bytes lhs;
  if (!eval_value(*p.lhs, x, lhs)) return false;
  Order order = p.lhs->order;
  switch (p.kind) {
    case ir::PredKind::Cmp: {
      int c = p.op == ir::CmpOp::Eq || p.op == ir::CmpOp::Ne ? std::memcmp(lhs.data(), p.value.data(), std::min(lhs.size(), p.value.size()))
                                                            : compare(lhs, p.value, order);
      switch (p.op) {
        case ir::CmpOp::Eq: return c == 0;
        case ir::CmpOp::Ne: return c != 0;
        case ir::CmpOp::Lt: return c < 0;
        case ir::CmpOp::Gt: return c > 0;
        case ir::CmpOp::Le: return c <= 0;
        case ir::CmpOp::Ge: return c >= 0;
      }
      return false;
    }
    case ir::PredKind::Range: {
      bool in = compare(lhs, p.value, order) >= 0 && compare(lhs, p.hi, order) <= 0;
      return in != p.negate;
    }
    case ir::PredKind::Prefix: {
      bool eq = true;
      for (uint32_t bit = 0; bit < p.prefix && eq; ++bit) {
        uint8_t m = static_cast<uint8_t>(0x80 >> (bit % 8));
        eq = (lhs.at(bit / 8) & m) == (p.value.at(bit / 8) & m);
      }
      return eq != p.negate;
    }
    case ir::PredKind::Flags: {
      bool any = false;
      for (size_t i = 0; i < lhs.size() && i < p.value.size(); ++i) any |= (lhs[i] & p.value[i]) != 0;
      return any != p.negate;
    }
    case ir::PredKind::Lookup: {
      SetElem* e = set_lookup(set_state(x, p.set), lhs, x.pkt.meta.now_ns);
      return (e != nullptr) != p.negate;
    }
  }
  return false;
}

}  // namespace nfx::vm
