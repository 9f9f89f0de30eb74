// Checks of set elements and stateful object declarations that nft (or the
// kernel) makes beyond parsing and typing: overlapping intervals of a set
// without auto-merge (intervals.c's set_overlap), ct helper/timeout/
// expectation options (evaluate.c's obj_evaluate and the kernel's init).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "constraints_internal.h"

namespace nfx {

using namespace constraints_detail;

namespace {

struct Keyed {
  Interval iv;
  bool fresh;  // being added now (else already in the set)
};

const Expr* element_key(const Expr* e) {
  e = unwrap_elem(e);
  if (e && e->kind == ExprKind::Mapping && !e->kids.empty()) e = unwrap_elem(e->kids[0].get());
  return e;
}

// ct timeout policy states per protocol (nft's timeout_protocol tables).
bool timeout_state_ok(const std::string& proto, const std::string& state) {
  static const char* const kTcp[] = {"syn_sent",  "syn_recv", "established", "fin_wait",
                                     "close_wait", "last_ack", "time_wait",   "close",
                                     "syn_sent2",  "retrans",  "unacknowledged"};
  static const char* const kUdp[] = {"unreplied", "replied"};
  static const char* const kDccp[] = {"request", "respond", "partopen", "open", "closereq", "closing", "timewait"};
  static const char* const kSctp[] = {"closed",          "cookie_wait",       "cookie_echoed",
                                      "established",     "shutdown_sent",     "shutdown_recd",
                                      "shutdown_ack_sent", "heartbeat_sent", "heartbeat_acked"};
  static const char* const kOne[] = {"timeout"};
  auto in = [&state](auto& list) {
    return std::any_of(std::begin(list), std::end(list), [&](const char* s) { return state == s; });
  };
  if (proto == "tcp") return in(kTcp);
  if (proto == "udp" || proto == "udplite" || proto == "gre") return in(kUdp);
  if (proto == "dccp") return in(kDccp);
  if (proto == "sctp") return in(kSctp);
  if (proto == "icmp" || proto == "icmpv6" || proto == "ipv6-icmp") return in(kOne);
  return true;  // protocols nft does not know a table for: left to nft's parser
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

bool check_element_constraints(EvalContext& ctx, const SetDecl& set, const std::vector<ExprPtr>& elems) {
  if (set.auto_merge || std::find(set.flags.begin(), set.flags.end(), "interval") == set.flags.end()) return true;
  if (set.key_types.size() + set.key_typeof.size() != 1) return true;  // concatenations
  if (set.key_typeof.size() == 1 && set.key_typeof[0] && set.key_typeof[0]->kind == ExprKind::Concat &&
      set.key_typeof[0]->kids.size() != 1)
    return true;
  std::vector<Keyed> all;
  auto add = [&all](const std::vector<ExprPtr>& list, bool fresh) {
    for (const auto& e : list) {
      const Expr* k = element_key(e.get());
      Interval iv;
      if (!k || !interval_of(*k, iv)) return false;
      all.push_back({std::move(iv), fresh});
    }
    return true;
  };
  if (!add(set.elements, false) || !add(elems, true)) return true;
  std::stable_sort(all.begin(), all.end(), [](const Keyed& a, const Keyed& b) { return a.iv.lo < b.iv.lo; });
  // the element reaching furthest so far, against which the next one is checked
  const Keyed* reach = nullptr;
  for (const Keyed& cur : all) {
    if (reach && reach->iv.lo.size() == cur.iv.lo.size() && !(reach->iv.hi < cur.iv.lo)) {
      bool same = reach->iv.lo == cur.iv.lo && reach->iv.hi == cur.iv.hi;
      if (!same && (reach->fresh || cur.fresh)) {
        ctx.diags.error(cur.iv.loc, "conflicting intervals specified");
        return false;
      }
    }
    if (!reach || reach->iv.hi < cur.iv.hi) reach = &cur;
  }
  return true;
}

bool check_obj_constraints(EvalContext& ctx, const ObjDecl& obj) {
  auto opt = [&obj](const char* k) {
    auto it = obj.opts.find(k);
    return it == obj.opts.end() ? std::string() : it->second;
  };
  if (obj.type == "ct helper") {
    std::string l3 = opt("l3proto");
    if ((ctx.family == "ip" && l3 == "ip6") || (ctx.family == "ip6" && l3 == "ip")) {
      ctx.diags.error(obj.loc, "Could not process rule: Invalid argument");
      return false;
    }
  } else if (obj.type == "ct timeout") {
    std::string proto = opt("protocol"), policy = opt("policy");
    size_t pos = 0;
    while (!policy.empty() && pos <= policy.size()) {
      size_t comma = policy.find(',', pos);
      std::string item = policy.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      std::string state = trim(item.substr(0, item.find(':')));
      if (!state.empty() && !timeout_state_ok(proto, state)) {
        ctx.diags.error(obj.loc, "invalid state for this protocol");
        return false;
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  } else if (obj.type == "ct expectation") {
    for (const char* k : {"protocol", "dport", "timeout", "size"})
      if (!obj.opts.count(k)) {
        ctx.diags.error(obj.loc, "missing options");
        return false;
      }
  }
  return true;
}

}  // namespace nfx
