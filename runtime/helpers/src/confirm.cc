// nf_confirm's helper step: the connection's helper, then the sequence
// adjustment, before the connection is confirmed.
#include <array>

#include "internal.h"

namespace nfx::helpers {

namespace {

// nf_conntrack_ftp and nf_conntrack_tftp: one expectation at a time, for 5 minutes.
constexpr std::array<Helper, 2> kHelpers = {{{"ftp", kIpprotoTcp, 1, 300}, {"tftp", kIpprotoUdp, 1, 300}}};

}  // namespace

const Helper* find(std::string_view name) {
  for (const Helper& h : kHelpers)
    if (h.name == name) return &h;
  return nullptr;
}

conntrack::Expectation expectation(const HelperPacket& p, const Helper& helper, uint8_t l4,
                                   const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst,
                                   uint16_t dport) {
  conntrack::Expectation e;
  e.tuple.l3 = p.ct->tuple[0].l3;
  e.tuple.l4 = l4;
  e.tuple.src = src;
  e.tuple.dst = dst;
  e.tuple.dport = dport;
  e.any_sport = true;
  e.zone = p.ct->zone;
  e.master = p.ct;
  e.helper = std::string(helper.name);
  e.expires_ns = p.now_ns + uint64_t{helper.expect_timeout} * 1'000'000'000ull;
  return e;
}

void follow_master(conntrack::Expectation& e, HelperPacket& p) {
  conntrack::Table* table = &p.table;
  nat::Nat* nat = &p.nat;
  e.on_new = [table, nat](const std::shared_ptr<conntrack::Entry>& ct, const conntrack::Expectation& x) {
    std::shared_ptr<conntrack::Entry> master = ct->master();
    if (!master) return;
    const conntrack::Tuple& t = master->tuple[x.dir == conntrack::Dir::Original ? 1 : 0];
    // the source to where the master sends, the destination to where the
    // announcement pointed, at the port it named
    nat::Range src;
    src.flags = nat::kMapIps;
    src.min_addr = src.max_addr = t.dst;
    nat->setup(*table, ct, src, nat::Manip::Src, 0);
    nat::Range dst;
    dst.flags = nat::kMapIps | nat::kProtoSpecified;
    dst.min_addr = dst.max_addr = t.src;
    dst.min_proto = dst.max_proto = x.saved_port;
    nat->setup(*table, ct, dst, nat::Manip::Dst, 0);
  };
}

Outcome confirm_step(packet::Frame& frame, const packet::PacketLayout& layout, conntrack::Table& table,
                     nat::Nat& nat, const conntrack::Tracked& t, uint64_t now_ns) {
  if (!t.entry) return {};
  conntrack::Entry& ct = *t.entry;
  const bool seqadj = ct.status & conntrack::kSeqAdjust;
  const Helper* helper = ct.helper().empty() ? nullptr : find(ct.helper());
  if (!helper && !seqadj) return {};
  if (t.info == conntrack::Info::RelatedReply) return {};  // helpers do not read ICMP errors
  // the transport header (a later IPv6 fragment has none to read)
  const size_t end = std::min<size_t>(frame.size(), layout.end);
  std::span<const uint8_t> pkt(frame.data(), end);
  size_t th;
  const size_t nh = layout.nh_off;
  if (layout.protocol == packet::kEthPIp) {
    if (end < nh + 20) return {};
    th = nh + (pkt[nh] & 0x0f) * 4u;
  } else {
    if (end < nh + 40) return {};
    std::optional<packet::Ipv6Skip> skip = packet::ipv6_skip_exthdr(pkt, nh + 40, pkt[nh + 6]);
    if (!skip || skip->later_fragment) return {};
    th = skip->at;
  }
  HelperPacket p{frame, layout, nh, th, end, table, nat, t.entry, t.dir, t.info, now_ns};
  Outcome out;
  if (helper && ct.tuple[0].l4 == helper->l4proto) {
    out = helper->name == "ftp" ? ftp_help(p) : tftp_help(p);
    if (out.drop) return out;
  }
  if (seqadj && ct.tuple[0].l4 == kIpprotoTcp && !seq_adjust(p)) {
    out.drop = true;
    out.why = "nf_ct_seq_adjust: TCP options cut short";
  }
  return out;
}

}  // namespace nfx::helpers
