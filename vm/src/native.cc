// The vm's side of native code (compiler/jit): the packet as NativeCtx shows
// it, the counter cells native code increments in place, the switch from
// the interpreter to native code, and the C ABI native code calls back into
// for what it does not compile itself.
#include <cstddef>
#include <stdexcept>

#include "state.h"

namespace nfx::vm {

void fill_native_ctx(Exec& x, NativeCtx& ctx) {
  const packet::PacketLayout& l = x.pkt.layout;
  const packet::Frame& f = x.pkt.frame;
  ctx.data = f.data();
  ctx.end = f.size() < l.end ? static_cast<uint32_t>(f.size()) : l.end;
  if (l.link_ok) {
    // payload_base_offset: link loads need a MAC header before the network one
    if (l.mac_off >= 0 && l.nh_off > static_cast<uint32_t>(l.mac_off)) ctx.link_off = l.mac_off;
    ctx.nh_off = static_cast<int32_t>(l.nh_off);
    if (l.l4_valid && l.fragoff == 0) ctx.th_off = static_cast<int32_t>(l.th_off);
  }
  ctx.th_fast_off = ctx.th_off;
  if (l.l4_valid && l.fragoff != 0) {
    // values.cc: transport_fast_path (a non-first fragment's aligned loads)
    uint32_t th = l.th_off;
    if (l.protocol == packet::kEthPIpv6 && x.hook == Hook::Egress && l.mac_off >= 0) th = static_cast<uint32_t>(l.mac_off);
    ctx.th_fast_off = static_cast<int32_t>(th);
  }
  ctx.skb_len = x.skb_len();
  ctx.protocol = l.protocol;
  ctx.l4proto = l.l4_valid ? l.l4proto : 0;
  ctx.l4_valid = l.l4_valid;
  ctx.vlan_present = l.vlan_present;
  ctx.nfproto = static_cast<uint8_t>(x.family);
  ctx.hook = static_cast<uint8_t>(x.hook);
  ctx.iif = x.pkt.meta.iif;
  ctx.oif = x.pkt.meta.oif;
  static_assert(sizeof(conntrack::Info) == 1);
  ctx.ct_info = reinterpret_cast<const uint8_t*>(&x.pkt.ct.info);
  ctx.exec = &x;
}

uint64_t* Interpreter::counter_cell(size_t table, const ir::Stmt& counter) {
  if (counter.kind != ir::StmtKind::Counter) throw std::invalid_argument("counter_cell: not a counter statement");
  StmtState& s = counter.obj >= 0 ? state_->objects.at(table).at(static_cast<size_t>(counter.obj)) : state_->stmts[&counter];
  static_assert(offsetof(StmtState, bytes) == offsetof(StmtState, packets) + sizeof(uint64_t));
  return &s.packets;
}

void Interpreter::install_native(std::unique_ptr<NativeCode> code) {
  State& st = *state_;
  auto table = std::make_unique<NativeTable>();
  for (size_t t = 0; t < st.prog.tables.size(); ++t) {
    auto& chains = table->emplace_back(st.prog.tables[t].chains.size(), nullptr);
    for (size_t c = 0; c < chains.size(); ++c) chains[c] = code->chain(t, c);
  }
  const NativeTable* published = table.get();
  st.native_code.push_back(std::move(code));
  st.native_tables.push_back(std::move(table));
  st.native.store(published, std::memory_order_release);
}

bool Interpreter::native_installed() const { return state_->native.load(std::memory_order_acquire) != nullptr; }

void Interpreter::use_native(bool on) { state_->use_native = on; }

extern "C" {

int nfx_native_value(void* exec, const void* value, uint8_t* out) {
  auto& x = *static_cast<Exec*>(exec);
  const auto& v = *static_cast<const ir::Value*>(value);
  // one buffer per thread, reused: a value the native code asks for (ct
  // state, say) costs no allocation per packet
  thread_local Bytes b;
  b.clear();
  if (!eval_value(v, x, b)) return 0;
  b.resize(v.len, 0);
  std::copy(b.begin(), b.end(), out);
  return 1;
}

int nfx_native_match(void* exec, const void* predicate) {
  return eval_predicate(*static_cast<const ir::Predicate*>(predicate), *static_cast<Exec*>(exec)) ? 1 : 0;
}

int nfx_native_stmt(void* exec, const void* stmt, int32_t* code, int32_t* chain) {
  ir::Verdict v;
  bool has_verdict = false;
  if (!exec_stmt(*static_cast<const ir::Stmt*>(stmt), *static_cast<Exec*>(exec), v, has_verdict)) return 0;
  if (!has_verdict) return 1;
  *code = static_cast<int32_t>(v.code);
  *chain = v.chain;
  // A queue verdict leaves as the interpreter turns it: no listener here.
  if (v.code == ir::VerdictCode::Queue) *code = static_cast<int32_t>(v.queue_bypass ? ir::VerdictCode::Accept : ir::VerdictCode::Drop);
  return 2;
}

int32_t nfx_native_classify(const void* classifier, const uint64_t* keys) {
  return static_cast<const Classifier*>(classifier)->lookup(keys);
}

}  // extern "C"

}  // namespace nfx::vm
