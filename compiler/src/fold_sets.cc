// Anonymous interval sets as nft stores them: nested sets are flattened, and
// once a set holds a range its elements are intervals that nft's automerge
// joins when they overlap or touch (`{ 33-55, 56-88 }` -> `{ 33-88 }`).
#include <algorithm>
#include <vector>

#include "fold.h"

namespace nfx {
namespace {

using Bytes = std::vector<uint8_t>;

bool plain_value(const Expr* e) { return e && e->kind == ExprKind::Value && !e->bytes.empty(); }

// big-endian b + 1; false on overflow
bool increment(Bytes& b) {
  for (size_t i = b.size(); i-- > 0;)
    if (++b[i] != 0) return true;
  return false;
}

struct Interval {
  ExprPtr lo, hi;
};

}  // namespace

void flatten_nested_sets(Expr& set) {
  if (set.kind != ExprKind::Set) return;
  bool nested = false;
  for (const auto& k : set.kids) nested |= k && k->kind == ExprKind::Set;
  if (!nested) return;
  std::vector<ExprPtr> out;
  for (auto& k : set.kids) {
    if (k && k->kind == ExprKind::Set) {
      flatten_nested_sets(*k);
      for (auto& kk : k->kids) out.push_back(kk);
    } else {
      out.push_back(k);
    }
  }
  set.kids = std::move(out);
}

void merge_set_intervals(Expr& set) {
  if (set.kind != ExprKind::Set || set.kids.size() < 2) return;
  std::vector<Interval> iv;
  bool has_range = false;
  for (const auto& k : set.kids) {
    if (plain_value(k.get())) {
      iv.push_back({k, k});
    } else if (k && k->kind == ExprKind::Range && k->kids.size() == 2 && plain_value(k->kids[0].get()) &&
               plain_value(k->kids[1].get())) {
      iv.push_back({k->kids[0], k->kids[1]});
      has_range = true;
    } else {
      return;  // prefixes, concatenations, elements with options: left alone
    }
  }
  if (!has_range) return;
  const Expr& first = *iv[0].lo;
  // addresses list merged intervals as prefixes; not handled here
  if (first.dtype == "ipv4_addr" || first.dtype == "ipv6_addr") return;
  for (const auto& i : iv)
    if (i.lo->dtype != first.dtype || i.lo->bytes.size() != first.bytes.size() ||
        i.hi->bytes.size() != first.bytes.size())
      return;
  std::sort(iv.begin(), iv.end(), [](const Interval& a, const Interval& b) { return a.lo->bytes < b.lo->bytes; });
  std::vector<Interval> merged;
  bool changed = false;
  for (const auto& i : iv) {
    if (!merged.empty()) {
      Bytes next = merged.back().hi->bytes;
      bool fits = increment(next);
      if (!fits || i.lo->bytes <= next) {
        if (i.hi->bytes > merged.back().hi->bytes) merged.back().hi = i.hi;
        changed = true;
        continue;
      }
    }
    merged.push_back(i);
  }
  if (!changed) return;
  std::vector<ExprPtr> kids;
  for (const auto& m : merged) {
    if (m.lo == m.hi || m.lo->bytes == m.hi->bytes) {
      kids.push_back(m.lo);
      continue;
    }
    auto r = make_expr(ExprKind::Range, m.lo->loc);
    r->kids = {m.lo, m.hi};
    r->dtype = m.lo->dtype;
    r->bits = m.lo->bits;
    kids.push_back(r);
  }
  set.kids = std::move(kids);
}

}  // namespace nfx
