// The TFTP helper (nf_conntrack_tftp, nf_nat_tftp): a read or write request
// makes the server's answer, which comes from another port, expected.
#include "internal.h"

namespace nfx::helpers {

Outcome tftp_help(HelperPacket& p) {
  conntrack::Entry& ct = *p.ct;
  if (p.th + 8 + 2 > p.end) return {};
  const uint8_t* op = p.frame.data() + p.th + 8;
  const uint16_t opcode = static_cast<uint16_t>(op[0] << 8 | op[1]);
  if (opcode != 1 && opcode != 2) return {};  // only RRQ and WRQ announce anything
  // the answer comes from the server's address, any port, to where replies go
  const conntrack::Tuple& reply = ct.tuple[1];
  const Helper& tftp = *find("tftp");
  conntrack::Expectation e = expectation(p, tftp, kIpprotoUdp, reply.src, reply.dst, reply.dport);
  if (ct.status & (conntrack::kSrcNat | conntrack::kDstNat)) {
    // nf_nat_tftp: to the client's own port, as the master goes
    e.saved_port = ct.tuple[0].sport;
    e.dir = conntrack::Dir::Reply;
    follow_master(e, p);
  }
  Outcome out;
  if (p.table.expect(std::move(e), tftp.max_expected, p.now_ns) != conntrack::ExpectResult::Added) {
    out.drop = true;
    out.why = "nf_ct_tftp: cannot add expectation";
  }
  return out;
}

}  // namespace nfx::helpers
