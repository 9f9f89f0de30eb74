// The nat statements (nft_nat, nft_masq, nft_redir): a binding for the
// packet's new connection, made through the NAT library; the statement's
// verdict is accept (or drop when no binding can be made).
#include <algorithm>
#include <cstring>

#include "state.h"

namespace nfx::vm {

namespace {

uint16_t be16(const Bytes& b) { return b.size() >= 2 ? static_cast<uint16_t>(b[0] << 8 | b[1]) : 0; }

// The range of the statement's addresses and ports (nft_nat_setup_addr,
// NFTA_NAT_REG_PROTO_*); false on NFT_BREAK.
bool eval_range(const ir::Stmt& s, Exec& x, nat::Range& r, size_t alen) {
  Bytes lo, hi;
  if (s.addr_min) {
    if (!eval_value(*s.addr_min, x, lo)) return false;
    if (!eval_value(s.addr_max ? *s.addr_max : *s.addr_min, x, hi)) return false;
    std::memcpy(r.min_addr.data(), lo.data(), std::min(alen, lo.size()));
    std::memcpy(r.max_addr.data(), hi.data(), std::min(alen, hi.size()));
    r.flags |= nat::kMapIps;
  }
  if (s.port_min) {
    if (!eval_value(*s.port_min, x, lo)) return false;
    if (!eval_value(s.port_max ? *s.port_max : *s.port_min, x, hi)) return false;
    r.min_proto = be16(lo);
    r.max_proto = be16(hi);
    r.flags |= nat::kProtoSpecified;
  }
  return true;
}

}  // namespace

bool exec_nat(const ir::Stmt& s, Exec& x, ir::Verdict& v) {
  Packet& pkt = x.pkt;
  const bool v6 = x.family == ir::Family::Ip6;
  const uint8_t pf = v6 ? 10 : 2;
  // an inet table's snat/dnat of one family leaves the other family's
  // packets alone (nft_nat_inet_eval); masquerade and redirect follow the packet
  if ((s.nat == ir::NatType::Snat || s.nat == ir::NatType::Dnat) && s.nat_family != 1 && s.nat_family != pf)
    return true;
  const std::shared_ptr<conntrack::Entry>& ct = pkt.ct.entry;
  v = ir::Verdict{};
  v.code = ir::VerdictCode::Drop;
  if (!ct) return true;
  const size_t alen = v6 ? 16 : 4;
  nat::Range r;
  r.flags = s.nat_flags;
  nat::Manip manip = s.nat == ir::NatType::Snat || s.nat == ir::NatType::Masquerade ? nat::Manip::Src
                                                                                      : nat::Manip::Dst;
  if (s.nat == ir::NatType::Masquerade || s.nat == ir::NatType::Redirect) {
    if (!eval_range(s, x, r, alen)) return false;
    std::vector<uint8_t> addr;
    if (s.nat == ir::NatType::Masquerade) {
      // the output device's address (inet_select_addr / ipv6_dev_get_saddr);
      // a locally sent packet from 0.0.0.0 is left alone
      if (!v6 && std::all_of(ct->tuple[0].src.begin(), ct->tuple[0].src.begin() + 4, [](uint8_t b) { return !b; })) {
        v.code = ir::VerdictCode::Accept;
        return true;
      }
      addr = v6 ? pkt.meta.oif_addr6 : pkt.meta.oif_addr4;
    } else if (x.hook == Hook::Output) {
      addr.assign(alen, 0);  // loopback
      if (v6) addr[15] = 1;
      else addr = {127, 0, 0, 1};
    } else {
      addr = v6 ? pkt.meta.iif_addr6 : pkt.meta.iif_addr4;  // the input device's first address
    }
    if (addr.size() != alen) return true;  // no address to use: drop, as the kernel does
    std::memcpy(r.min_addr.data(), addr.data(), alen);
    std::memcpy(r.max_addr.data(), addr.data(), alen);
    r.flags |= nat::kMapIps;
  } else if (!eval_range(s, x, r, alen)) {
    return false;
  }
  if (x.st.nat->setup(*x.st.conntrack, ct, r, manip, pkt.meta.now_ns)) v.code = ir::VerdictCode::Accept;
  return true;
}

}  // namespace nfx::vm
