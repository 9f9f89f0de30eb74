// Set and map backends: exact keys in a hash table (nft_set_hash), ranges by
// scan in insertion order (the interpreter is the reference, not the fast
// path; nft_set_rbtree/pipapo give the same answers for non-overlapping
// intervals), catch-all elements, element timeouts and updates from the
// packet path (nft_dynset).
#include <cstring>

#include "state.h"

namespace nfx::vm {

namespace {

std::string key_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

bool expired(const SetElem& e, uint64_t now_ns) { return e.expires_ns && now_ns >= e.expires_ns; }

bool in_interval(const ir::Set& set, const SetElem& e, const Bytes& key) {
  if (key.size() != e.key.size()) return false;
  if (set.field_len.size() <= 1)
    return std::memcmp(key.data(), e.key.data(), key.size()) >= 0 &&
           std::memcmp(key.data(), e.key_end.data(), key.size()) <= 0;
  size_t at = 0;
  for (uint32_t n : set.field_len) {
    size_t w = (n + 3) / 4 * 4;
    if (std::memcmp(key.data() + at, e.key.data() + at, n) < 0) return false;
    if (std::memcmp(key.data() + at, e.key_end.data() + at, n) > 0) return false;
    at += w;
  }
  return true;
}

}  // namespace

SetState& set_state(Exec& x, int set) { return x.st.sets.at(x.table).at(static_cast<size_t>(set)); }

void set_init(SetState& s, const ir::Set& set) {
  s.set = &set;
  for (const ir::Element& e : set.elements) {
    SetElem el;
    el.key = e.key;
    el.key_end = e.key_end.empty() ? e.key : e.key_end;
    el.data = e.data;
    el.verdict = e.verdict;
    el.catchall = e.catchall;
    el.timeout_ms = e.timeout_ms ? e.timeout_ms : set.timeout_ms;
    // nft_add_set_elem: the time given left, else its timeout, else the set's
    std::optional<uint64_t> left = e.expires_ms ? e.expires_ms : el.timeout_ms;
    if (left && *left) el.expires_after_ns = *left * 1000000;
    s.elems.push_back(std::move(el));
    if (!set.interval && !e.catchall) s.exact[key_of(e.key)] = s.elems.size() - 1;
  }
}

SetElem* set_lookup(SetState& s, const Bytes& key, uint64_t now_ns) {
  set_start_clock(s, now_ns);
  if (!s.set->interval) {
    auto it = s.exact.find(key_of(key));
    if (it != s.exact.end() && !expired(s.elems[it->second], now_ns)) return &s.elems[it->second];
  } else {
    for (SetElem& e : s.elems)
      if (!e.catchall && !expired(e, now_ns) && in_interval(*s.set, e, key)) return &e;
  }
  for (SetElem& e : s.elems)
    if (e.catchall && !expired(e, now_ns)) return &e;
  return nullptr;
}

void set_collect(SetState& s, uint64_t now_ns) {
  std::erase_if(s.elems, [&](const SetElem& e) { return expired(e, now_ns); });
  if (s.set->interval) return;
  s.exact.clear();
  for (size_t i = 0; i < s.elems.size(); ++i)
    if (!s.elems[i].catchall) s.exact[key_of(s.elems[i].key)] = i;
}

SetElem* set_update(SetState& s, const Bytes& key, const Bytes* data, ir::SetOp op,
                    std::optional<uint64_t> timeout_ms, uint64_t now_ns, const std::vector<ir::Stmt>& inner) {
  set_start_clock(s, now_ns);
  std::string k = key_of(key);
  auto it = s.exact.find(k);
  if (op == ir::SetOp::Delete) {
    if (it != s.exact.end()) s.elems[it->second].expires_ns = 1;  // gone for every later lookup
    return nullptr;
  }
  if (!timeout_ms && s.set->timeout_ms) timeout_ms = s.set->timeout_ms;
  if (it != s.exact.end() && !expired(s.elems[it->second], now_ns)) {
    SetElem& e = s.elems[it->second];
    if (op == ir::SetOp::Update && timeout_ms) e.expires_ns = now_ns + *timeout_ms * 1000000;
    return &e;
  }
  // full: expired elements make room (the kernel's set gc), or the statement breaks
  if (s.set->size && s.exact.size() >= s.set->size) {
    set_collect(s, now_ns);
    it = s.exact.find(k);
    if (s.exact.size() >= s.set->size) return nullptr;
  }
  SetElem e;
  e.key = e.key_end = key;
  if (data) e.data = *data;
  if (timeout_ms) e.expires_ns = now_ns + *timeout_ms * 1000000;
  e.timeout_ms = timeout_ms;
  e.exprs = &inner;
  e.stmt_state.resize(inner.size());
  if (it != s.exact.end()) {
    s.elems[it->second] = std::move(e);
    return &s.elems[it->second];
  }
  s.elems.push_back(std::move(e));
  s.exact[k] = s.elems.size() - 1;
  return &s.elems.back();
}

}  // namespace nfx::vm
