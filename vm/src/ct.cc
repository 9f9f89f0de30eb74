// ct expressions and statements (nft_ct.c, nft_ct_get_eval / nft_ct_set_eval,
// nft_notrack): what the packet's connection (Packet::ct) says, its mark set,
// and notrack.
#include <cstring>

#include "state.h"

namespace nfx::vm {

namespace {

// NFT_CT_* keys.
enum CtKey : uint32_t {
  kState = 0, kDirection = 1, kStatus = 2, kMark = 3, kSecmark = 4, kExpiration = 5, kHelper = 6,
  kL3protocol = 7, kSrc = 8, kDst = 9, kProtocol = 10, kProtoSrc = 11, kProtoDst = 12, kLabels = 13,
  kPkts = 14, kBytes = 15, kAvgpkt = 16, kZone = 17, kEventmask = 18, kSrcIp = 19, kDstIp = 20,
  kSrcIp6 = 21, kDstIp6 = 22, kId = 23,
};

void put_host(Bytes& out, uint64_t v, uint32_t len) {
  out.assign(len, 0);
  for (uint32_t i = 0; i < len && i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}

void put_address(Bytes& out, const std::array<uint8_t, 16>& a, uint32_t len) {
  out.assign(len, 0);
  std::memcpy(out.data(), a.data(), std::min<size_t>(len, 16));
}

}  // namespace

const char* ct_key_unsupported(uint32_t key) {
  switch (key) {
    case kState: case kDirection: case kStatus: case kMark: case kExpiration: case kL3protocol: case kSrc:
    case kDst: case kProtocol: case kProtoSrc: case kProtoDst: case kZone: case kSrcIp: case kDstIp:
    case kSrcIp6: case kDstIp6: case kHelper: case kPkts: case kBytes: case kAvgpkt:
      return nullptr;
    case kSecmark: return "ct secmark";
    case kLabels: return "ct label";
    case kEventmask: return "ct event";
    case kId: return "ct id";
    default: return "this ct key";
  }
}

bool eval_ct(const ir::Value& v, Exec& x, Bytes& out) {
  const conntrack::Tracked& t = x.pkt.ct;
  if (v.key == kState) {
    put_host(out, conntrack::state_bits(t.info), v.len);
    return true;
  }
  if (!t.entry) return false;  // no connection: NFT_BREAK
  const conntrack::Entry& e = *t.entry;
  // the tuple keys read the direction asked for, the original one by default
  const conntrack::Tuple& tuple = e.tuple[v.dir == ir::CtDir::Reply ? 1 : 0];
  switch (v.key) {
    case kDirection: put_host(out, static_cast<uint8_t>(t.dir), v.len); return true;
    case kStatus: put_host(out, e.status, v.len); return true;
    case kMark: put_host(out, e.mark, v.len); return true;
    case kExpiration: {
      // nf_ct_expires: an unconfirmed entry's timeout is still relative
      // (made absolute at confirmation), so the kernel computes 0 for it
      const uint64_t now = x.pkt.meta.now_ns;
      const bool confirmed = e.status & conntrack::kConfirmed;
      put_host(out, confirmed && e.expires_ns > now ? (e.expires_ns - now) / 1'000'000 : 0, v.len);
      return true;
    }
    case kL3protocol: put_host(out, tuple.l3, v.len); return true;
    case kProtocol: put_host(out, tuple.l4, v.len); return true;
    case kPkts:
    case kBytes:
    case kAvgpkt: {
      // nft_ct_get_eval_counter: one direction, or both; 0 without accounting
      auto sum = [&](const std::array<uint64_t, 2>& c) {
        return v.dir == ir::CtDir::None ? c[0] + c[1] : c[v.dir == ir::CtDir::Reply ? 1 : 0];
      };
      uint64_t n = 0;
      if (e.acct()) {
        const conntrack::Extensions& counts = *e.ext;
        if (v.key == kPkts) n = sum(counts.packets);
        else if (v.key == kBytes) n = sum(counts.bytes);
        else n = sum(counts.packets) ? sum(counts.bytes) / sum(counts.packets) : 0;
      }
      put_host(out, n, v.len);
      return true;
    }
    case kHelper: {
      // the helper of the connection's master: matches the connections a
      // helper expected, not the one it watches
      std::shared_ptr<conntrack::Entry> master = e.master();
      if (!master || master->helper().empty()) return false;
      const std::string& name = master->helper();
      out.assign(v.len, 0);
      std::copy_n(name.begin(), std::min<size_t>(name.size(), v.len), out.begin());
      return true;
    }
    case kZone: put_host(out, e.zone, v.len); return true;
    case kSrc: put_address(out, tuple.src, v.len); return true;
    case kDst: put_address(out, tuple.dst, v.len); return true;
    case kSrcIp:
    case kDstIp:
      if (tuple.l3 != conntrack::kNfprotoIpv4) return false;
      put_address(out, v.key == kSrcIp ? tuple.src : tuple.dst, v.len);
      return true;
    case kSrcIp6:
    case kDstIp6:
      if (tuple.l3 != conntrack::kNfprotoIpv6) return false;
      put_address(out, v.key == kSrcIp6 ? tuple.src : tuple.dst, v.len);
      return true;
    case kProtoSrc:
    case kProtoDst: {
      // the tuple's 16 bits as the packet carries them (network order)
      const uint16_t n = v.key == kProtoSrc ? tuple.sport : tuple.dport;
      out.assign(v.len, 0);
      if (v.len > 0) out[0] = static_cast<uint8_t>(n >> 8);
      if (v.len > 1) out[1] = static_cast<uint8_t>(n);
      return true;
    }
    default: return false;  // refused at load time
  }
}

bool exec_ct_set(const ir::Stmt& s, Exec& x) {
  Bytes value;
  if (!eval_value(*s.value, x, value)) return false;
  if (s.key == kZone) {
    // nft_ct_set_zone_eval: only a packet not tracked yet gets the zone
    if (x.pkt.ct.entry || x.pkt.ct.info == conntrack::Info::Untracked) return true;
    uint16_t zone = 0;
    for (size_t i = 0; i < 2 && i < value.size(); ++i) zone = static_cast<uint16_t>(zone | value[i] << (8 * i));
    x.pkt.ct_zone = zone;
    return true;
  }
  // no connection (or an untracked one): nothing to set
  if (!x.pkt.ct.entry || s.key != kMark) return true;
  uint32_t mark = 0;
  for (size_t i = 0; i < 4 && i < value.size(); ++i) mark |= uint32_t{value[i]} << (8 * i);
  x.pkt.ct.entry->mark = mark;
  return true;
}

void exec_ct_helper_set(const ir::Stmt& s, Exec& x) {
  // nft_ct_helper_obj_eval: only a new connection, only once
  const std::shared_ptr<conntrack::Entry>& ct = x.pkt.ct.entry;
  if (!ct || (ct->status & (conntrack::kConfirmed | conntrack::kHelper))) return;
  ct->extend().helper = x.t.objects.at(static_cast<size_t>(s.obj)).helper;
  ct->status |= conntrack::kHelper;
}

void exec_notrack(Exec& x) {
  // a packet with a connection (or a zone's template), or already untracked, keeps what it has
  if (x.pkt.ct.entry || x.pkt.ct_zone || x.pkt.ct.info == conntrack::Info::Untracked) return;
  x.pkt.ct = {};
  x.pkt.ct.info = conntrack::Info::Untracked;
}

}  // namespace nfx::vm
