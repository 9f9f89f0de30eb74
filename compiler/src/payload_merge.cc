#include "payload_merge.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "selectors.h"
#include "types.h"

namespace nfx {
namespace {

// A payload equality match, or the ether type dependency nft would insert
// (stmt null): where it reads, and whether it is a protocol key field.
struct Item {
  StmtPtr stmt;
  bool candidate = false;
  int base = 0;
  unsigned offset = 0, bits = 0;
  bool protocol = false;
};

bool is_bitmask(const std::string& dtype) {
  for (const Datatype* d = find_datatype(dtype); d; d = d->base)
    if (d->is_bitmask) return true;
  return false;
}

int raw_base(const std::string& name) {
  return name == "ll" ? 1 : name == "nh" ? 2 : name == "th" ? 3 : name == "ih" ? 4 : 0;
}

// Where a selector reads, for the headers whose offsets are fixed from the
// base (not vlan's, which depend on how many tags precede).
bool place_of(const Expr& sel, Item& it) {
  if (sel.selector == SelectorKind::RawPayload && !sel.path.empty() && sel.args.size() > 1) {
    it.base = raw_base(sel.path[0]);
    it.offset = static_cast<unsigned>(sel.args[0]);
    it.bits = static_cast<unsigned>(sel.args[1]);
    return it.base != 0;
  }
  if (sel.selector != SelectorKind::Payload || sel.path.empty() || sel.text == "vlan") return false;
  const ProtoDesc* p = find_proto(sel.text);
  const FieldDesc* f = p ? find_field(*p, sel.path[0]) : nullptr;
  if (!f || p->base == PayloadBase::Inner) return false;
  it.base = p->base == PayloadBase::LinkLayer ? 1 : p->base == PayloadBase::Network ? 2 : 3;
  it.offset = f->offset;
  it.bits = f->bits;
  const std::string& field = sel.path[0];
  it.protocol = (field == "type" && sel.text == "ether") || (field == "protocol" && sel.text == "ip") ||
                (field == "nexthdr" && (sel.text == "ip6" || sel.text == "ah" || sel.text == "comp"));
  return true;
}

// nft's stmt_reduce collects `payload == constant` (not flag tests, not
// sets, ranges or prefixes) on whole bytes.
Item classify(const StmtPtr& s) {
  Item it;
  it.stmt = s;
  if (s->kind != StmtKind::Match || s->exprs.empty() || !s->exprs[0]) return it;
  const Expr& rel = *s->exprs[0];
  if (rel.kind != ExprKind::Relational || rel.kids.size() != 2) return it;
  if (rel.rel != RelOp::Eq && rel.rel != RelOp::Implicit) return it;
  const Expr& lhs = *rel.kids[0];
  const Expr& rhs = *rel.kids[1];
  if (lhs.kind != ExprKind::Selector || rhs.kind != ExprKind::Value) return it;
  if (rel.rel == RelOp::Implicit && is_bitmask(rhs.dtype)) return it;
  if (!place_of(lhs, it) || it.offset % 8 || it.bits % 8 || it.bits == 0) return it;
  it.candidate = true;
  return it;
}

// nft's payload_can_merge, for `a` (possibly already merged) then `b`.
bool can_merge(const Item& a, unsigned a_bits, const Item& b) {
  if (a.base != b.base || a.offset + a_bits != b.offset) return false;
  unsigned total = a_bits + b.bits;
  if (total > 128) return false;
  if (total <= 32 || a.base == 1) return true;  // fast path kept, or link layer (never fast)
  return a_bits > 32 || b.bits > 32;
}

void for_each_payload(const Expr& e, const std::function<void(const Expr&)>& f) {
  if (e.kind == ExprKind::Selector && e.selector == SelectorKind::Payload) f(e);
  for (const auto& k : e.kids)
    if (k) for_each_payload(*k, f);
}

// The statements with the `ether type` dependencies nft inserts before them.
std::vector<Item> with_link_dependencies(const Rule& rule, const std::string& family) {
  bool ether = family == "bridge";  // the link layer is known to be ethernet
  bool typed = false;               // ether type already matched or implied
  bool lldeps = family == "bridge" || family == "netdev" || family == "inet";
  std::vector<Item> items;
  for (const auto& s : rule.stmts) {
    bool need = false;
    for (const auto& e : s->exprs) {
      if (!e) continue;
      for_each_payload(*e, [&](const Expr& sel) {
        const std::string& p = sel.text;
        if (p == "ether") {
          ether = true;
          if (!sel.path.empty() && sel.path[0] == "type" && s->kind == StmtKind::Match) typed = true;
        } else if (lldeps && !typed &&
                   (p == "vlan" || (ether && p == "arp") || (ether && family != "bridge" && (p == "ip" || p == "ip6")))) {
          need = true;
          ether = typed = true;
        }
      });
    }
    if (need) {
      Item dep;
      dep.candidate = true;
      dep.base = 1;
      dep.offset = 96;
      dep.bits = 16;
      dep.protocol = true;
      items.push_back(dep);
    }
    items.push_back(classify(s));
  }
  return items;
}

}  // namespace

void order_merged_payloads(Rule& rule, const std::string& family) {
  std::vector<Item> items = with_link_dependencies(rule, family);
  // owner[i]: the item whose place the merged group of item i takes (-1: none)
  std::vector<long> owner(items.size(), -1);
  std::vector<std::vector<size_t>> groups(items.size());
  size_t run = 0;
  auto merge_run = [&](size_t end) {
    std::vector<size_t> sa;
    for (size_t i = run; i < end; i++)
      if (items[i].candidate) sa.push_back(i);
    std::stable_sort(sa.begin(), sa.end(), [&](size_t a, size_t b) {
      return items[a].base != items[b].base ? items[a].base < items[b].base : items[a].offset < items[b].offset;
    });
    size_t k = 0;
    while (k < sa.size()) {
      size_t keep = sa[k];
      std::vector<size_t> members{sa[k]};
      unsigned bits = items[sa[k]].bits;
      size_t next = k + 1;
      for (; next < sa.size() && can_merge(items[sa[k]], bits, items[sa[next]]); next++) {
        bits += items[sa[next]].bits;
        members.push_back(sa[next]);
        // a protocol key keeps its place: the merged match must not move
        // before the header it selects (nft swaps the kept statement)
        if (items[sa[next]].protocol) keep = sa[next];
      }
      if (members.size() > 1) {
        for (size_t m : members) owner[m] = static_cast<long>(keep);
        groups[keep] = members;
      }
      k = next;
    }
    run = end + 1;
  };
  for (size_t i = 0; i < items.size(); i++)
    if (items[i].stmt && items[i].stmt->kind != StmtKind::Match) merge_run(i);
  merge_run(items.size());

  std::vector<StmtPtr> out;
  for (size_t i = 0; i < items.size(); i++) {
    if (owner[i] >= 0 && owner[i] != static_cast<long>(i)) continue;
    if (owner[i] < 0) {
      if (items[i].stmt) out.push_back(items[i].stmt);
      continue;
    }
    for (size_t m : groups[i])  // in header order, as the listing splits it
      if (items[m].stmt) out.push_back(items[m].stmt);
  }
  rule.stmts = std::move(out);
}

}  // namespace nfx
