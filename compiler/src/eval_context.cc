// The protocol context of a rule while it is evaluated: which network and
// transport protocols earlier matches fixed. nft keeps this in its proto_ctx
// and uses it to type family-less keys (ct saddr, rt nexthop, nat addresses)
// and, when listing, to name raw payloads after the header fields they are.
#include <algorithm>

#include "eval.h"
#include "selectors.h"

namespace nfx {
namespace {

// The single constant of an equality match `sel VALUE`, if it is one.
bool match_value(const Stmt& s, const Expr*& sel, uint64_t& value) {
  if (s.kind != StmtKind::Match || s.exprs.empty() || !s.exprs[0]) return false;
  const Expr& rel = *s.exprs[0];
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2) return false;
  if (rel.rel != RelOp::Implicit && rel.rel != RelOp::Eq) return false;
  const Expr& v = *rel.kids[1];
  if (rel.kids[0]->kind != ExprKind::Selector || v.kind != ExprKind::Value || v.bytes.empty() || v.bytes.size() > 8)
    return false;
  sel = rel.kids[0].get();
  value = 0;
  for (uint8_t b : v.bytes) value = (value << 8) | b;
  return true;
}

bool is_key(const Expr& sel, SelectorKind kind, const char* family, const char* key) {
  return sel.selector == kind && !sel.path.empty() && sel.path[0] == key && (!family || sel.text == family);
}

const char* network_by_ethertype(uint64_t v) {
  return v == 0x0800 ? "ip" : v == 0x86dd ? "ip6" : v == 0x0806 ? "arp" : nullptr;
}

// Transport headers with fields nft can name from the protocol number.
const char* transport_by_number(uint64_t v) {
  static const std::pair<uint64_t, const char*> names[] = {
      {1, "icmp"},  {2, "igmp"},  {6, "tcp"},     {17, "udp"},  {33, "dccp"},  {47, "gre"},
      {50, "esp"},  {51, "ah"},   {58, "icmpv6"}, {108, "comp"}, {132, "sctp"}, {136, "udplite"}};
  for (auto& [num, name] : names)
    if (num == v) return name;
  return nullptr;
}

void note_selector(EvalContext& ctx, const Expr& e) {
  if (e.kind == ExprKind::Selector && e.selector == SelectorKind::Payload) {
    const ProtoDesc* p = find_proto(e.text);
    if (p && p->base == PayloadBase::Network) {
      if (ctx.nh != p->name) ctx.nh_nfproto = -1;
      ctx.nh = p->name;
    } else if (p && p->base == PayloadBase::Transport && e.text != "th") {
      ctx.th = p->name;
      // icmp in inet/bridge/netdev: nft's dependency fixes the network protocol too
      if (ctx.nh.empty() && (e.text == "icmp" || e.text == "igmp")) ctx.nh = "ip";
      if (ctx.nh.empty() && e.text == "icmpv6") ctx.nh = "ip6";
    }
  }
  for (const auto& k : e.kids)
    if (k) note_selector(ctx, *k);
}

// The field of `proto` at exactly this place, if any.
const FieldDesc* field_at(const std::string& proto, int64_t offset, int64_t bits) {
  const ProtoDesc* p = find_proto(proto);
  if (!p) return nullptr;
  for (const FieldDesc& f : p->fields)
    if (static_cast<int64_t>(f.offset) == offset && static_cast<int64_t>(f.bits) == bits) return &f;
  return nullptr;
}

void retype_values(Expr& e, const char* dtype) {
  if (e.kind == ExprKind::Value) e.dtype = dtype;
  for (auto& k : e.kids)
    if (k) retype_values(*k, dtype);
}

}  // namespace

void reset_protocols(EvalContext& ctx) {
  ctx.nh = ctx.family == "ip" || ctx.family == "ip6" || ctx.family == "arp" ? ctx.family : "";
  ctx.th.clear();
  ctx.nh_nfproto = -1;
  ctx.stmt_index = 0;
  ctx.implied.clear();
}

void note_protocols(EvalContext& ctx, const Stmt& s) {
  const Expr* sel = nullptr;
  uint64_t v = 0;
  if (match_value(s, sel, v)) {
    if (is_key(*sel, SelectorKind::Meta, nullptr, "nfproto") && (v == 2 || v == 10)) {
      ctx.nh = v == 2 ? "ip" : "ip6";
      ctx.nh_nfproto = static_cast<long>(ctx.stmt_index);
    } else if (is_key(*sel, SelectorKind::Meta, nullptr, "protocol") ||
               is_key(*sel, SelectorKind::Payload, "ether", "type") ||
               is_key(*sel, SelectorKind::Payload, "vlan", "type")) {
      if (const char* nh = network_by_ethertype(v)) {
        ctx.nh = nh;
        ctx.nh_nfproto = -1;
      }
    } else if (is_key(*sel, SelectorKind::Meta, nullptr, "l4proto") ||
               is_key(*sel, SelectorKind::Payload, "ip", "protocol") ||
               is_key(*sel, SelectorKind::Payload, "ip6", "nexthdr")) {
      if (const char* th = transport_by_number(v)) ctx.th = th;
    }
  }
  for (const auto& e : s.exprs)
    if (e) note_selector(ctx, *e);
}

bool complete_family_key(EvalContext& ctx, Expr& sel) {
  auto& p = sel.path;
  if (ctx.nh != "ip" && ctx.nh != "ip6") return false;
  if (sel.selector == SelectorKind::Ct && p.size() == 2 && (p[1] == "saddr" || p[1] == "daddr")) {
    // The kernel key stays the family-less one (JSON lists "saddr"); the
    // typed address makes the text listing say `ct original ip saddr`. The
    // `meta nfproto` match the family came from is its dependency: nft drops it.
    if (ctx.nh_nfproto >= 0 && !ctx.in_concat) ctx.implied.push_back(static_cast<size_t>(ctx.nh_nfproto));
    return true;
  }
  if (sel.selector == SelectorKind::Rt && p.size() == 1 && p[0] == "nexthop") {
    p.insert(p.begin(), ctx.nh);
    return true;
  }
  return false;
}

void complete_transport_selector(EvalContext& ctx, Expr& sel) {
  if (sel.selector == SelectorKind::RawPayload && !sel.path.empty() && sel.path[0] == "th" && sel.args.size() > 1 &&
      sel.args[1] == 16 && (sel.args[0] == 0 || sel.args[0] == 16)) {
    // nft's payload_init_raw: the ports of any transport header
    sel.selector = SelectorKind::Payload;
    sel.text = "th";
    sel.path = {sel.args[0] == 0 ? "sport" : "dport"};
    sel.args.clear();
  }
  if (sel.selector != SelectorKind::Payload || sel.text != "th" || ctx.th.empty() || sel.path.empty()) return;
  const ProtoDesc* th = find_proto("th");
  const FieldDesc* f = th ? find_field(*th, sel.path[0]) : nullptr;
  if (f && field_at(ctx.th, f->offset, f->bits)) sel.text = ctx.th;
}

void complete_raw_payload(EvalContext& ctx, ExprPtr& sel, Expr* value) {
  if (!sel || sel->kind != ExprKind::Selector || sel->selector != SelectorKind::RawPayload || sel->path.empty() ||
      sel->args.size() < 2)
    return;
  const std::string& proto = sel->path[0] == "nh" ? ctx.nh : sel->path[0] == "th" ? ctx.th : std::string();
  // icmp fields depend on the message type; nft checks it, we leave them raw
  if (proto.empty() || proto == "icmp" || proto == "icmpv6") return;
  const FieldDesc* f = field_at(proto, sel->args[0], sel->args[1]);
  if (!f || !find_datatype(f->dtype)) return;
  auto named = std::make_shared<Expr>(*sel);
  named->selector = SelectorKind::Payload;
  named->text = proto;
  named->path = {f->name};
  named->args.clear();
  named->dtype = f->dtype;
  named->bits = f->bits;
  sel = named;
  if (value) retype_values(*value, f->dtype);
}

}  // namespace nfx
