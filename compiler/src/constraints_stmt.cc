// Statement checks nft makes in userspace (evaluate.c's stmt_evaluate_*),
// in statement order: matches (value shapes, negation, set types, interval
// overlaps), log/limit/last/queue options, and the statements that depend on
// the protocol context: reject, nat, tproxy, dup and fwd.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "constraints_internal.h"
#include "selectors.h"
#include "types.h"

namespace nfx::constraints_detail {

namespace {

// nft reports some statements' errors at their keyword only ("log", "dnat").
SourceLoc keyword_loc(const SourceLoc& loc, size_t len) {
  SourceLoc k = loc;
  if (k.valid() && len > 0) {
    k.last_line = k.first_line;
    k.last_col = k.first_col + static_cast<int>(len) - 1;
  }
  return k;
}

std::string opt(const Stmt& s, const char* key) {
  auto it = s.opts.find(key);
  return it == s.opts.end() ? std::string() : it->second;
}
bool has_opt(const Stmt& s, const char* key) { return s.opts.count(key) != 0; }

bool is_string_type(const std::string& name) {
  for (const Datatype* dt = find_datatype(name); dt; dt = dt->base) {
    if (std::string(dt->name) == "string") return true;
    if (dt->base == dt) break;
  }
  return false;
}

// nft's set_overlap for the anonymous interval maps of a rule: two keys may
// not share an address ("conflicting intervals specified").
Check map_intervals(const Expr& set) {
  std::vector<Interval> keys;
  bool interval = false;
  for (const auto& el : set.kids) {
    const Expr* m = unwrap_elem(el.get());
    if (!m || m->kind != ExprKind::Mapping || m->kids.empty()) return std::nullopt;
    const Expr* k = unwrap_elem(m->kids[0].get());
    if (!k) return std::nullopt;
    interval |= k->kind == ExprKind::Range || k->kind == ExprKind::Prefix;
    Interval iv;
    if (!interval_of(*k, iv)) return std::nullopt;  // concatenations and the like
    keys.push_back(std::move(iv));
  }
  if (!interval) return std::nullopt;
  for (size_t i = 1; i < keys.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      if (keys[i].lo.size() != keys[j].lo.size()) return std::nullopt;
      if (!(keys[i].hi < keys[j].lo || keys[j].hi < keys[i].lo))
        return problem(keys[i].loc, "conflicting intervals specified");
    }
  return std::nullopt;
}

// Every anonymous map of an expression tree.
Check maps_in(const Expr& e) {
  Check found;
  walk(e, [&](const Expr& x) {
    if (found || x.kind != ExprKind::Map || x.kids.size() < 2 || !x.kids[1]) return;
    if (x.kids[1]->kind == ExprKind::Set) found = map_intervals(*x.kids[1]);
  });
  return found;
}

// --- matches -------------------------------------------------------------

bool lhs_is_meta_hour(const Expr& lhs) {
  std::string k = meta_key(lhs);
  return k == "hour" || k == "day";
}

Check check_values(const Expr& lhs, const Expr& rhs) {
  bool raw_zero = is_selector(lhs, SelectorKind::RawPayload) && lhs.args.size() > 1 && lhs.args[1] == 0;
  bool socket_bool = is_selector(lhs, SelectorKind::Socket) && !lhs.path.empty() &&
                     (lhs.path[0] == "transparent" || lhs.path[0] == "wildcard");
  bool hour = lhs_is_meta_hour(lhs);
  Check found;
  walk(rhs, [&](const Expr& x) {
    if (found) return;
    if (x.kind == ExprKind::Range && !hour) {
      Interval iv;
      if (interval_of(x, iv) && iv.hi < iv.lo) found = problem(x.loc, "Range has zero or negative size");
      return;
    }
    if (x.kind != ExprKind::Value) return;
    if (x.text.empty() && !x.dtype.empty() && is_string_type(x.dtype)) {
      bool all_zero = std::all_of(x.bytes.begin(), x.bytes.end(), [](uint8_t b) { return b == 0; });
      if (all_zero) found = problem(x.loc, "Empty string is not allowed");
      return;
    }
    auto v = value_u64(x);
    if (raw_zero && (!v || *v != 0))
      found = problem(x.loc, fmt::format("Value {} exceeds valid range 0-0", v ? *v : 0));
    else if (socket_bool && v && *v > 1)
      found = problem(x.loc, fmt::format("Value {} exceeds valid range 0-1", *v));
  });
  return found;
}

// Datatypes whose mix-ups nft reports for set lookups ("ip saddr @set6").
bool is_address_type(const std::string& t) { return t == "ipv4_addr" || t == "ipv6_addr" || t == "ether_addr"; }

Check check_set_ref(EvalContext& ctx, const Expr& lhs, const Expr& ref) {
  if (!ctx.table || lhs.kind == ExprKind::Concat || !is_address_type(lhs.dtype)) return std::nullopt;
  for (const auto& set : ctx.table->sets) {
    if (set.name != ref.text) continue;
    std::string key;
    if (set.key_types.size() == 1) key = set.key_types[0];
    else if (set.key_typeof.size() == 1 && set.key_typeof[0]) key = set.key_typeof[0]->dtype;
    if (key.empty() || key == lhs.dtype || !is_address_type(key)) return std::nullopt;
    const Datatype* want = find_datatype(lhs.dtype);
    const Datatype* got = find_datatype(key);
    if (!want || !got) return std::nullopt;
    return problem(ref.loc,
                   fmt::format("datatype mismatch, expected {}, expression has type {}", want->desc, got->desc));
  }
  return std::nullopt;
}

Check check_match(EvalContext& ctx, ProtoCtx& pc, const Stmt& s) {
  if (s.exprs.empty() || !s.exprs[0]) return std::nullopt;
  const Expr& rel = *s.exprs[0];
  if (rel.kind != ExprKind::Relational || rel.kids.size() < 2 || !rel.kids[0] || !rel.kids[1])
    return proto_use(pc, rel);
  const Expr& lhs = *rel.kids[0];
  const Expr& rhs = *rel.kids[1];
  bool lookup = rhs.kind == ExprKind::SetRef || (rhs.kind == ExprKind::Set && rhs.kids.size() > 1);
  if (auto c = proto_use(pc, lhs, lookup)) return c;
  if (auto c = maps_in(lhs)) return c;
  if (rel.rel == RelOp::Neg && lhs.kind == ExprKind::Binop)
    return problem(rel.loc, "cannot combine negation with binary expression");
  if (auto c = check_values(lhs, rhs)) return c;
  if (rhs.kind == ExprKind::SetRef)
    if (auto c = check_set_ref(ctx, lhs, rhs)) return c;
  if (rel.rel == RelOp::Eq || rel.rel == RelOp::Implicit) proto_match(pc, lhs, rhs);
  return std::nullopt;
}

// --- log, limit, last, queue ---------------------------------------------

Check check_log(const Stmt& s) {
  const SourceLoc at = keyword_loc(s.loc, 3);
  bool group = has_opt(s, "group") || has_opt(s, "snaplen") || has_opt(s, "queue-threshold");
  if (group) {
    if (has_opt(s, "level")) return problem(at, "level and group are mutually exclusive");
    if (!s.flags.empty()) return problem(at, "flags and group are mutually exclusive");
  }
  if (opt(s, "level") == "audit" && (s.opts.size() > 1 || !s.flags.empty()))
    return problem(at, "log level audit doesn't support any further options");
  if (has_opt(s, "prefix") && opt(s, "prefix").size() >= 128) return problem(at, "log prefix is too long");
  return std::nullopt;
}

Check check_limit(const Stmt& s) {
  const std::string unit = opt(s, "unit");
  bool byte_rate = unit.find("bytes") != std::string::npos;
  if (byte_rate) {  // nft's data units: bytes, kbytes, mbytes
    std::string data = unit.substr(0, unit.find('/'));
    if (data != "bytes" && data != "kbytes" && data != "mbytes") return problem(s.loc, "Wrong rate format");
  }
  if (!has_opt(s, "burst")) return std::nullopt;
  std::string burst = opt(s, "burst_unit");
  bool byte_burst = burst.find("bytes") != std::string::npos;
  if (!byte_rate && burst != "packets")
    return problem(s.loc, fmt::format("syntax error, unexpected {}, expecting packets",
                                      burst == "bytes" ? "bytes" : "string"));
  if (byte_rate && !byte_burst) return problem(s.loc, "syntax error, unexpected packets, expecting string or bytes");
  return std::nullopt;
}

// nft's time strings: 1d2h3m4s5ms (each unit at most once, in that order).
bool is_time_string(const std::string& t) {
  static const char* const kUnits[] = {"d", "h", "m", "s", "ms"};
  size_t i = 0, next_unit = 0;
  if (t.empty()) return false;
  while (i < t.size()) {
    size_t digits = i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    if (i == digits) return false;
    size_t u = i;
    while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) ++i;
    std::string unit = t.substr(u, i - u);
    if (unit.empty()) return i == t.size() && next_unit == 0;  // plain seconds
    bool ok = false;
    for (size_t k = next_unit; k < 5; ++k)
      if (unit == kUnits[k]) {
        ok = true;
        next_unit = k + 1;
        break;
      }
    if (!ok) return false;
  }
  return true;
}

Check check_last(const Stmt& s) {
  if (!has_opt(s, "used")) return std::nullopt;
  std::string used = opt(s, "used");
  if (used == "never" || is_time_string(used)) return std::nullopt;
  return problem(s.loc, "Wrong time format, expecting a time value such as 1d2h3m4s or never");
}

Check check_queue(const Stmt& s) {
  if (s.exprs.empty() || !s.exprs[0]) return std::nullopt;
  const Expr& e = *s.exprs[0];
  bool fanout = std::find(s.flags.begin(), s.flags.end(), "fanout") != s.flags.end();
  if (fanout && e.kind != ExprKind::Range) return problem(e.loc, "fanout requires a range to be specified");
  if (is_selector(e, SelectorKind::Hash) || is_selector(e, SelectorKind::Numgen)) {
    int64_t mod = e.args.size() > 0 ? e.args[0] : 0;
    int64_t offset = is_selector(e, SelectorKind::Hash) ? (e.args.size() > 2 ? e.args[2] : 0)
                                                       : (e.args.size() > 1 ? e.args[1] : 0);
    if (mod + offset - 1 > 65535) return problem(e.loc, "queue expression max value exceeds 65535");
    return std::nullopt;
  }
  if (e.kind == ExprKind::Selector && !e.dtype.empty() && e.dtype != "integer") {
    const Datatype* dt = find_datatype(e.dtype);
    return problem(e.loc, fmt::format("datatype mismatch: expected integer, expression has type {}",
                                      dt ? dt->desc : e.dtype.c_str()));
  }
  return std::nullopt;
}

// --- reject -------------------------------------------------------------------

// The network protocol's number as the link layer names it (nft's
// proto_find_num), or 0 for none.
bool ll_can_reject(const ProtoCtx& pc) {
  if (pc.ll.empty()) return false;
  const std::string& top = pc.ll.back();
  return top == "ether" || top == "vlan" || top == "netdev";
}

Check check_reject(ProtoCtx& pc, const Stmt& s) {
  const std::string kind = s.name;  // "", icmp, icmpv6, icmpx, tcp
  const std::string code = opt(s, "type");
  if (kind == "icmp" || kind == "icmpv6" || kind == "icmpx") {
    const Datatype* dt = find_datatype(kind + "_code");
    if (dt) {
      ParseResult r = parse_value(*dt, code, 8);
      if (!r.value) return problem(s.loc, r.error.empty() ? fmt::format("Could not parse {}", dt->desc) : r.error);
    }
  } else if (kind == "tcp") {
    if (code != "reset") return problem(s.loc, fmt::format("syntax error, unexpected {}, expecting reset", code));
    // stmt_evaluate_reset: the transport in context must be tcp
    if (!pc.th.empty() && pc.th.back() != "tcp") return problem(s.loc, "you cannot use tcp reset with this protocol");
  } else if (!kind.empty()) {
    return problem(s.loc, fmt::format("syntax error, unexpected {}", kind));
  }

  const std::string& fam = pc.family;
  const std::string conflict = "conflicting protocols specified: ip vs ip6";
  if (fam == "arp") return problem(s.loc, "cannot use reject with arp");
  if (fam == "ip" || fam == "ip6") {
    if (kind == "icmpx") return problem(s.loc, "abstracted ICMP unreachable not supported");
    if ((kind == "icmp" && fam != "ip") || (kind == "icmpv6" && fam != "ip6")) return problem(s.loc, conflict);
    if (kind == "tcp" && pc.th.empty()) pc.th.push_back("tcp");
    return std::nullopt;
  }
  const bool nh_ip = pc.nh == "ip", nh_ip6 = pc.nh == "ip6";
  if (fam == "bridge" || fam == "netdev") {
    if (!ll_can_reject(pc)) return problem(s.loc, "cannot reject from this link layer protocol");
    if (!pc.nh.empty()) {
      if (kind == "icmp" || kind == "icmpv6") {
        if (nh_ip) {
          if (kind != "icmp") return problem(s.loc, conflict);
        } else if (nh_ip6) {
          if (kind != "icmpv6") return problem(s.loc, conflict);
        } else {
          return problem(s.loc, "cannot reject this network family");
        }
      } else if (!nh_ip && !nh_ip6) {
        return problem(s.loc, "cannot reject this network family");
      }
    }
  } else if (fam == "inet") {
    if (!pc.nh.empty() && (kind == "icmp" || kind == "icmpv6")) {
      if (nh_ip) {
        if (kind != "icmp") return problem(s.loc, conflict);
      } else if (nh_ip6) {
        if (kind != "icmpv6") return problem(s.loc, conflict);
      } else {
        return problem(s.loc, "cannot infer ICMP reject variant to use: explicit value required.");
      }
    }
  }
  // the dependencies nft adds: meta l4proto tcp, or the network protocol
  if (kind == "tcp" && pc.th.empty()) pc.th.push_back("tcp");
  if (pc.nh.empty() && (kind == "icmp" || kind == "icmpv6")) pc.nh = kind == "icmp" ? "ip" : "ip6";
  return std::nullopt;
}

// --- nat and tproxy ------------------------------------------------------------

const Expr* map_key(const Expr* addr) {
  if (!addr || addr->kind != ExprKind::Map || addr->kids.empty()) return nullptr;
  return addr->kids[0].get();
}

// nat_evaluate_addr_has_th_expr: a map keyed on a concatenation that names
// the transport protocol itself.
bool map_key_has_th(const Expr* addr) {
  const Expr* key = map_key(addr);
  if (!key || key->kind != ExprKind::Concat) return false;
  for (const auto& k : key->kids) {
    if (!k || k->kind != ExprKind::Selector) continue;
    if (k->selector == SelectorKind::Payload) {
      const ProtoDesc* d = find_proto(k->text);
      if (d && d->base == PayloadBase::Transport && k->text != "th") return true;
      const std::string f = k->path.empty() ? "" : k->path[0];
      if ((k->text == "ip" && f == "protocol") || (k->text == "ip6" && f == "nexthdr")) return true;
    }
    if (meta_key(*k) == "l4proto") return true;
  }
  return false;
}

// expr_family_infer: the address family of a map keyed on ip/ip6 fields.
std::string infer_family(const Expr* addr) {
  const Expr* key = map_key(addr);
  if (!key) return "";
  std::string fam;
  auto look = [&fam](const Expr& k) {
    if (is_selector(k, SelectorKind::Payload) && (k.text == "ip" || k.text == "ip6")) fam = k.text;
  };
  if (key->kind == ExprKind::Concat) {
    for (const auto& k : key->kids)
      if (k) look(*k);
  } else {
    look(*key);
  }
  return fam;
}

bool is_concat_map(EvalContext& ctx, const Expr* addr) {
  if (!addr || addr->kind != ExprKind::Map || addr->kids.size() < 2 || !addr->kids[1]) return false;
  const Expr& m = *addr->kids[1];
  if (m.kind == ExprKind::Set) {
    for (const auto& el : m.kids) {
      const Expr* x = unwrap_elem(el.get());
      if (x && x->kind == ExprKind::Mapping && x->kids.size() > 1 && x->kids[1] &&
          x->kids[1]->kind == ExprKind::Concat)
        return true;
    }
    return false;
  }
  if (m.kind == ExprKind::SetRef && ctx.table)
    for (const auto& set : ctx.table->sets)
      if (set.name == m.text) return set.data_types.size() > 1 || set.data_typeof.size() > 1;
  return false;
}

const char* kNoTransport = "transport protocol mapping is only valid after transport protocol match";
const char* kInetNeedsFamily = "ip or ip6 must be specified with address for inet tables.";

Check check_l3proto(const ProtoCtx& pc, const Stmt& s, const std::string& fam, const std::string& name) {
  if ((pc.nh == "ip" && fam != "ip") || (pc.nh == "ip6" && fam != "ip6"))
    return problem(s.loc, fmt::format("conflicting protocols specified: {} vs. {}. You must specify ip or ip6 "
                                      "family in {} statement",
                                      pc.nh, fam.empty() ? "unknown" : fam, name));
  return std::nullopt;
}

void split_target(const Stmt& s, const Expr*& addr, const Expr*& port) {
  addr = port = nullptr;
  if (s.exprs.empty() || !s.exprs[0]) return;
  const Expr* t = s.exprs[0].get();
  if (t->kind == ExprKind::Mapping && t->text == "port") {
    addr = t->kids.size() > 0 ? t->kids[0].get() : nullptr;
    port = t->kids.size() > 1 ? t->kids[1].get() : nullptr;
  } else {
    addr = t;
  }
}

Check check_nat(EvalContext& ctx, ProtoCtx& pc, const Stmt& s) {
  const std::string& table_fam = pc.family;
  const SourceLoc at = keyword_loc(s.loc, s.name.size());
  if (table_fam != "ip" && table_fam != "ip6" && table_fam != "inet")
    return problem(at, "NAT is only supported for IPv4/IPv6");
  const Expr *addr = nullptr, *port = nullptr;
  split_target(s, addr, port);
  std::string fam = opt(s, "family");
  if (table_fam != "inet" && fam.empty()) fam = table_fam;
  if (table_fam == "inet" && addr && fam.empty() && (pc.nh == "ip" || pc.nh == "ip6")) fam = pc.nh;
  for (const auto& e : s.exprs)
    if (e)
      if (auto c = proto_use(pc, *e)) return c;
  if (addr) {
    if (auto c = check_l3proto(pc, s, fam, s.name)) return c;
    if (is_concat_map(ctx, addr) || has_opt(s, "addr_port")) {
      if (fam.empty()) fam = infer_family(addr);
      if (fam.empty())
        return problem(at, fmt::format("specify `{0} ip' or '{0} ip6' in {1} table to disambiguate", s.name,
                                          table_fam));
      if (pc.th.empty() && !map_key_has_th(addr)) return problem(addr->loc, kNoTransport);
      return std::nullopt;
    }
    if (fam.empty()) fam = infer_family(addr);
    if (fam.empty()) return problem(at, kInetNeedsFamily);
  }
  if (port && pc.th.empty() && !map_key_has_th(addr)) return problem(port->loc, kNoTransport);
  return std::nullopt;
}

Check check_tproxy(ProtoCtx& pc, const Stmt& s) {
  const std::string& table_fam = pc.family;
  if (table_fam != "ip" && table_fam != "ip6" && table_fam != "inet")
    return problem(s.loc, "tproxy is only supported for IPv4/IPv6/INET");
  std::string fam = opt(s, "family");
  if (table_fam != "inet" && fam.empty()) fam = table_fam;
  if (pc.th.empty()) return problem(s.loc, "Transparent proxy support requires transport protocol match");
  const Expr *addr = nullptr, *port = nullptr;
  split_target(s, addr, port);
  if (!addr && !port) return problem(s.loc, "Either address or port must be specified!");
  if (auto c = check_l3proto(pc, s, fam, "tproxy")) return c;
  if (addr && fam.empty()) return problem(s.loc, kInetNeedsFamily);
  if (addr && addr->kind == ExprKind::Range) return problem(s.loc, "Address ranges are not supported for tproxy.");
  if (port && port->kind == ExprKind::Range) return problem(s.loc, "Port ranges are not supported for tproxy.");
  return std::nullopt;
}

}  // namespace

const Expr* unwrap_elem(const Expr* e) {
  while (e && e->kind == ExprKind::SetElem && !e->kids.empty()) e = e->kids[0].get();
  return e;
}

bool interval_of(const Expr& k, Interval& out) {
  switch (k.kind) {
    case ExprKind::Value:
      out = {k.bytes, k.bytes, k.loc};
      return !k.bytes.empty();
    case ExprKind::Range: {
      if (k.kids.size() != 2 || !k.kids[0] || !k.kids[1]) return false;
      const Expr &a = *k.kids[0], &b = *k.kids[1];
      if (a.kind != ExprKind::Value || b.kind != ExprKind::Value || a.bytes.size() != b.bytes.size()) return false;
      out = {a.bytes, b.bytes, k.loc};
      return !a.bytes.empty();
    }
    case ExprKind::Prefix: {
      if (k.kids.empty() || !k.kids[0] || k.kids[0]->kind != ExprKind::Value) return false;
      const std::vector<uint8_t>& v = k.kids[0]->bytes;
      if (v.empty()) return false;
      out = {v, v, k.loc};
      unsigned len = static_cast<unsigned>(k.number);
      for (size_t i = 0; i < v.size(); ++i) {
        unsigned first = static_cast<unsigned>(i) * 8;
        uint8_t mask = 0;
        if (len >= first + 8) mask = 0xff;
        else if (len > first) mask = static_cast<uint8_t>(0xff << (8 - (len - first)));
        out.lo[i] = v[i] & mask;
        out.hi[i] = v[i] | static_cast<uint8_t>(~mask);
      }
      return true;
    }
    default:
      return false;
  }
}

bool is_terminal_stmt(const Stmt& s) {
  switch (s.kind) {
    case StmtKind::Verdict:
      if (s.exprs.empty() || !s.exprs[0]) return false;
      return s.exprs[0]->kind == ExprKind::Verdict && s.exprs[0]->text != "continue";
    case StmtKind::Reject:
    case StmtKind::Nat:
    case StmtKind::Queue:
    case StmtKind::Fwd:
      return true;
    default:
      return false;
  }
}

Check check_stmt(EvalContext& ctx, ProtoCtx& pc, const Stmt& s) {
  switch (s.kind) {
    case StmtKind::Match:
      return check_match(ctx, pc, s);
    case StmtKind::Verdict:
    case StmtKind::Assign:
    case StmtKind::SetStmt:
    case StmtKind::MapStmt:
    case StmtKind::Dup:
    case StmtKind::ObjRef:
      for (const auto& e : s.exprs) {
        if (!e) continue;
        if (auto c = proto_use(pc, *e)) return c;
        if (auto c = maps_in(*e)) return c;
      }
      if (s.kind == StmtKind::Assign && !s.exprs.empty() && s.exprs[0] &&
          is_selector(*s.exprs[0], SelectorKind::Inner))
        return problem(s.exprs[0]->loc, "payload statement for this expression is not supported");
      if (s.kind == StmtKind::Dup && pc.family != "ip" && pc.family != "ip6" && pc.family != "netdev")
        return problem(s.loc, "unsupported family");
      return std::nullopt;
    case StmtKind::Log:
      return check_log(s);
    case StmtKind::Limit:
      return check_limit(s);
    case StmtKind::Last:
      return check_last(s);
    case StmtKind::Queue:
      for (const auto& e : s.exprs)
        if (e)
          if (auto c = proto_use(pc, *e)) return c;
      return check_queue(s);
    case StmtKind::Reject:
      return check_reject(pc, s);
    case StmtKind::Nat:
      if (auto c = check_nat(ctx, pc, s)) return c;
      for (const auto& e : s.exprs)
        if (e)
          if (auto c = maps_in(*e)) return c;
      return std::nullopt;
    case StmtKind::Tproxy:
      return check_tproxy(pc, s);
    case StmtKind::Fwd:
      if (pc.family != "netdev") return problem(s.loc, "unsupported family");
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace nfx::constraints_detail
