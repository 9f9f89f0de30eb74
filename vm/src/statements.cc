// Statements as the kernel runs them: nft_counter, nft_limit (token bucket
// in nanoseconds of credit), nft_quota, nft_log (to the decision's log
// sink), nft_meta set, nft_payload set with checksum fix-up, nft_dynset,
// nft_reject (reject.cc), and the verdicts (nft_immediate, verdict maps
// through nft_lookup).
#include <fmt/format.h>

#include "log_format.h"
#include "state.h"

namespace nfx::vm {

namespace {

constexpr uint64_t kNsecPerSec = 1000000000ull;

StmtState& state_of(const ir::Stmt& s, Exec& x, StmtState* own) {
  if (own) return *own;
  if (s.obj >= 0) return x.st.objects.at(x.table).at(static_cast<size_t>(s.obj));
  return x.st.stmts[&s];
}

// A limit or quota's settings: the statement's own, or those of the named
// object it references (whose state all referencing rules share).
struct Spec {
  uint64_t rate, unit_seconds, burst, quota_bytes, quota_used;
  bool limit_bytes, over;
};

Spec spec_of(const ir::Stmt& s, const Exec& x) {
  if (s.obj < 0) return {s.rate, s.unit_seconds, s.burst, s.quota_bytes, s.quota_used, s.limit_bytes, s.over};
  const ir::Object& o = x.t.objects.at(static_cast<size_t>(s.obj));
  return {o.rate, o.unit_seconds, o.burst, o.quota_bytes, o.quota_used, o.limit_bytes, o.over};
}

// nft_limit_eval: true when the packet is within the limit.
bool limit_ok(const Spec& s, StmtState& st, Exec& x) {
  uint64_t nsecs = s.unit_seconds * kNsecPerSec;
  uint64_t rate = s.rate ? s.rate : 1;
  uint64_t burst = s.burst;
  if (!s.limit_bytes && burst == 0) burst = 5;  // NFT_LIMIT_PKT_BURST_DEFAULT
  uint64_t tokens_max = s.limit_bytes ? nsecs * (rate + burst) / rate : nsecs / rate * burst;
  uint64_t now = x.pkt.meta.now_ns;
  if (!st.limit_init) {
    st.limit_init = true;
    st.tokens = tokens_max;
    st.last_ns = now;
  }
  uint64_t cost = s.limit_bytes ? nsecs * x.skb_len() / rate : nsecs / rate;
  uint64_t tokens = st.tokens + (now > st.last_ns ? now - st.last_ns : 0);
  if (tokens > tokens_max) tokens = tokens_max;
  st.last_ns = std::max(now, st.last_ns);
  bool within = tokens >= cost;
  st.tokens = within ? tokens - cost : tokens;
  return within != s.over;
}

// nft_quota: consumed grows by the packet; "over" once it reaches the quota.
bool quota_ok(const Spec& s, StmtState& st, Exec& x) {
  if (!st.limit_init) {
    st.limit_init = true;
    st.consumed = s.quota_used;
  }
  st.consumed += x.skb_len();
  // nft_overquota: over once consumption exceeds the quota; a packet that
  // uses it up exactly still matches (measured on this kernel: two 50-byte
  // packets both match `quota 100 bytes`).
  bool over = st.consumed > s.quota_bytes;
  return over == s.over;
}


void put_u32_host(uint32_t& field, const Bytes& v) {
  uint32_t out = 0;
  for (size_t i = 0; i < v.size() && i < 4; ++i) out |= static_cast<uint32_t>(v[i]) << (8 * i);
  field = out;
}

bool meta_set(const ir::Stmt& s, Exec& x) {
  Bytes v;
  if (!eval_value(*s.value, x, v)) return false;
  PacketMeta& m = x.pkt.meta;
  uint32_t n = 0;
  put_u32_host(n, v);
  switch (s.key) {
    case 3: m.mark = n; return true;       // NFT_META_MARK
    case 2: m.priority = n; return true;   // NFT_META_PRIORITY
    case 19:                               // NFT_META_PKTTYPE: only towards host/broadcast/multicast/other
      if (n <= 3) m.pkttype = static_cast<uint8_t>(n);
      return true;
    case 12: m.nftrace = n & 1; return true;  // NFT_META_NFTRACE
  }
  return false;  // refused at load time
}

bool payload_set(const ir::Stmt& s, Exec& x) {
  Bytes v;
  if (!eval_value(*s.value, x, v)) return false;
  v.resize(s.len, 0);
  std::span<uint8_t> frame = x.pkt.frame.bytes();
  const packet::PacketLayout& l = x.pkt.layout;
  auto base = packet::payload_base_offset(frame, l, static_cast<packet::PayloadBase>(static_cast<int>(s.base)));
  if (!base) return false;
  uint64_t at = static_cast<uint64_t>(*base) + s.offset;
  if (at + s.len > l.end || at + s.len > frame.size()) return false;
  Bytes old(frame.begin() + static_cast<long>(at), frame.begin() + static_cast<long>(at + s.len));
  if (s.csum_type == 1) {
    if (!packet::csum_update(frame, *base + s.csum_offset, old, v, packet::ZeroResult::Mangle)) return false;
  }
  if (s.csum_l4 && !packet::l4_csum_update_pseudo(frame, l, old, v)) return false;
  std::copy(v.begin(), v.end(), frame.begin() + static_cast<long>(at));
  if (s.csum_type == 2 && l.l4_valid && l.l4proto == packet::kIpProtoSctp && l.fragoff == 0)
    return packet::sctp_checksum_recompute(frame, l);
  return true;
}

bool set_update(const ir::Stmt& s, Exec& x) {
  Bytes key, data;
  if (!eval_value(*s.value, x, key)) return false;
  if (s.data && !eval_value(*s.data, x, data)) return false;
  SetState& ss = set_state(x, s.set);
  SetElem* e = set_update(ss, key, s.data ? &data : nullptr, s.set_op, s.timeout_ms, x.pkt.meta.now_ns, s.inner);
  if (s.set_op == ir::SetOp::Delete) return true;
  if (!e) return false;
  if (!e->exprs) return true;
  ir::Verdict ignored;
  bool has = false;
  for (size_t i = 0; i < e->exprs->size(); ++i)
    if (!exec_stmt((*e->exprs)[i], x, ignored, has, &e->stmt_state[i])) return false;
  return true;
}

}  // namespace

bool exec_stmt(const ir::Stmt& s, Exec& x, ir::Verdict& v, bool& has_verdict, StmtState* own) {
  switch (s.kind) {
    case ir::StmtKind::Match: return eval_predicate(s.pred, x);
    // NFT_CONTINUE is not a verdict that ends the rule: the statements after
    // it run (`ip dscp vmap { cs1 : continue } counter` counts cs1 packets).
    case ir::StmtKind::Verdict:
      if (s.verdict.code == ir::VerdictCode::Continue) return true;
      v = s.verdict;
      has_verdict = true;
      return true;
    case ir::StmtKind::VerdictMap: {
      Bytes key;
      if (!eval_value(*s.value, x, key)) return false;
      SetElem* e = set_lookup(set_state(x, s.set), key, x.pkt.meta.now_ns);
      if (!e) return false;
      if (e->verdict.code == ir::VerdictCode::Continue) return true;
      v = e->verdict;
      has_verdict = true;
      return true;
    }
    case ir::StmtKind::Counter: {
      StmtState& st = state_of(s, x, own);
      st.packets++;
      st.bytes += x.skb_len();
      return true;
    }
    case ir::StmtKind::Limit: return limit_ok(spec_of(s, x), state_of(s, x, own), x);
    case ir::StmtKind::Quota: return quota_ok(spec_of(s, x), state_of(s, x, own), x);
    case ir::StmtKind::Log: x.d.log.push_back(format_log(s.prefix, s.log_flags, x.pkt)); return true;
    case ir::StmtKind::MetaSet: return meta_set(s, x);
    case ir::StmtKind::PayloadSet: return payload_set(s, x);
    case ir::StmtKind::SetUpdate: return set_update(s, x);
    case ir::StmtKind::Last: return true;  // records the time of last use; nothing a packet sees
    case ir::StmtKind::CtSet: return exec_ct_set(s, x);
    case ir::StmtKind::Notrack: exec_notrack(x); return true;
    case ir::StmtKind::ObjRef: exec_ct_helper_set(s, x); return true;  // only ct helper passes validation
    case ir::StmtKind::Nat:
      if (!exec_nat(s, x, v)) return false;
      has_verdict = v.code != ir::VerdictCode::Continue;
      return true;
    case ir::StmtKind::Reject:
      exec_reject(s, x);
      v = ir::Verdict{};
      v.code = ir::VerdictCode::Drop;
      has_verdict = true;
      return true;
    default: return false;  // refused at load time
  }
}

}  // namespace nfx::vm
