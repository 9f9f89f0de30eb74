// Statements to IR statements: verdicts and verdict maps, counters, limits,
// quotas, log, meta/ct/payload set (payload writes widened to 16-bit words
// so checksums update as the kernel's do), nat, reject, notrack, set updates
// and named object references.
#include <fmt/format.h>

#include <cstdlib>

#include "lower.h"
#include "selectors.h"
#include "types.h"

namespace nfx::lower {

namespace {

using ir::Bytes;

std::string opt(const Stmt& s, const char* key, const std::string& dflt = {}) {
  auto it = s.opts.find(key);
  return it == s.opts.end() ? dflt : it->second;
}

uint64_t number(const std::string& t) { return std::strtoull(t.c_str(), nullptr, 0); }

uint64_t unit_seconds(const std::string& per) {
  if (per == "minute") return 60;
  if (per == "hour") return 3600;
  if (per == "day") return 86400;
  if (per == "week") return 604800;
  return 1;
}

uint64_t byte_unit(const std::string& unit) {
  if (unit == "kbytes") return 1024;
  if (unit == "mbytes") return 1024 * 1024;
  if (unit == "gbytes") return 1024ull * 1024 * 1024;
  return 1;
}

bool lower_verdict(Context& ctx, RuleState& st, const Stmt& s, std::vector<ir::Stmt>& out) {
  const Expr& v = *s.exprs.at(0);
  ir::Stmt r;
  if (v.kind == ExprKind::Map) {
    std::vector<Field> fields;
    ir::ValuePtr key;
    if (!lower_key(ctx, st, *v.kids[0], fields, key, out)) return false;
    const Expr& m = *v.kids[1];
    int set = m.kind == ExprKind::SetRef ? (ctx.set_index.count(m.text) ? ctx.set_index[m.text] : -1)
                                          : lower_anonymous_set(ctx, m, fields, nullptr, true);
    if (set < 0) return m.kind == ExprKind::SetRef ? unsupported(ctx, m.loc, "map @" + m.text) : false;
    r.kind = ir::StmtKind::VerdictMap;
    r.value = key;
    r.set = set;
  } else {
    r.kind = ir::StmtKind::Verdict;
    if (!lower_verdict_expr(ctx, v, r.verdict)) return false;
  }
  out.push_back(std::move(r));
  return true;
}

// `payload set`: nft writes whole 16-bit words when a checksum covers the
// field, merging the new bits with the old ones.
bool lower_payload_set(Context& ctx, const Stmt& s, const Field& f, std::vector<ir::Stmt>& out) {
  const Expr& lhs = *s.exprs[0];
  ir::Stmt r;
  r.kind = ir::StmtKind::PayloadSet;
  r.base = f.load->base;
  unsigned csum_type = 0;
  const ProtoDesc* proto = lhs.selector == SelectorKind::Payload ? find_proto(lhs.text) : nullptr;
  const char* csum_field = proto ? proto_checksum_field(lhs.text, csum_type) : nullptr;
  ir::ValuePtr value = lower_value(ctx, *s.exprs[1], &f);
  if (!value) return false;
  if (value->order != f.load->order && value->len > 1 && !f.string) {
    auto b = std::make_shared<ir::Value>();
    b->kind = ir::ValueKind::ByteOrder;
    b->len = value->len;
    b->hton = f.load->order == ir::Order::Big;
    b->size = value->len;
    b->args = {value};
    value = b;
  }
  uint32_t first = f.load->offset, end = f.load->offset + f.load->len;
  if (csum_field) {
    first &= ~1u;
    end = (end + 1) & ~1u;
  }
  bool partial = !f.mask.empty() || first != f.load->offset || end != f.load->offset + f.load->len;
  if (partial) {
    // region := (region & ~fieldmask) | (value << position)
    auto region = std::make_shared<ir::Value>(*f.load);
    region->offset = first;
    region->len = end - first;
    uint32_t pad_after = end - (f.load->offset + f.load->len);
    Bytes keep(region->len, 0xff);
    Bytes fmask = f.mask.empty() ? Bytes(f.load->len, 0xff) : f.mask;
    for (size_t i = 0; i < fmask.size(); ++i) keep[f.load->offset - first + i] = static_cast<uint8_t>(~fmask[i]);
    auto kept = std::make_shared<ir::Value>();
    kept->kind = ir::ValueKind::Bitwise;
    kept->len = region->len;
    kept->data = keep;
    kept->xor_data = Bytes(region->len, 0);
    kept->args = {region};
    auto widened = std::make_shared<ir::Value>();
    widened->kind = ir::ValueKind::Shift;
    widened->len = region->len;
    widened->left = true;
    widened->shift = f.shift + 8 * pad_after;
    widened->args = {value};
    auto merged = std::make_shared<ir::Value>();
    merged->kind = ir::ValueKind::Binop;
    merged->op = ir::BinOp::Or;
    merged->len = region->len;
    merged->args = {kept, widened};
    value = merged;
  }
  r.offset = first;
  r.len = end - first;
  r.value = value;
  if (csum_field) {
    r.csum_type = static_cast<uint8_t>(csum_type);
    r.csum_offset = find_field(*proto, csum_field)->offset / 8;
    r.csum_l4 = proto_field_in_pseudohdr(lhs.text, lhs.path.at(0));
  } else if (proto) {
    r.csum_l4 = proto_field_in_pseudohdr(lhs.text, lhs.path.at(0));  // ip6: no header checksum, only L4's
  }
  out.push_back(std::move(r));
  return true;
}

bool lower_assign(Context& ctx, RuleState& st, const Stmt& s, std::vector<ir::Stmt>& out) {
  const Expr& lhs = *s.exprs.at(0);
  Field f;
  if (!lower_selector(ctx, lhs, f)) return false;
  add_dependencies(ctx, st, f, out);
  ir::Stmt r;
  switch (f.load->kind) {
    case ir::ValueKind::Meta:
      r.kind = ir::StmtKind::MetaSet;
      break;
    case ir::ValueKind::Ct:
      r.kind = ir::StmtKind::CtSet;
      r.dir = f.load->dir;
      break;
    case ir::ValueKind::Payload:
      return lower_payload_set(ctx, s, f, out);
    default:
      return unsupported(ctx, lhs.loc, "setting this selector");
  }
  r.key = f.load->key;
  r.len = f.load->len;
  r.value = lower_value(ctx, *s.exprs.at(1), &f);
  if (!r.value) return false;
  out.push_back(std::move(r));
  return true;
}

bool lower_reject(Context& ctx, RuleState& st, const Stmt& s, std::vector<ir::Stmt>& out) {
  ir::Stmt r;
  r.kind = ir::StmtKind::Reject;
  const std::string& fam = ctx.table.family;
  std::string kind = s.name;
  std::string code = opt(s, "type", "port-unreachable");
  if (kind.empty()) kind = fam == "ip" ? "icmp" : fam == "ip6" ? "icmpv6" : "icmpx";
  if (kind == "tcp") {
    r.reject_type = 1;  // NFT_REJECT_TCP_RST
  } else {
    const Datatype* dt = find_datatype("reject_" + kind + "_code");
    ParseResult v = dt ? parse_value(*dt, code, 8) : ParseResult{};
    if (!v.value) return unsupported(ctx, s.loc, "reject with " + kind + " " + code);
    r.reject_type = kind == "icmpx" ? 2 : 0;  // NFT_REJECT_ICMPX_UNREACH / ICMP_UNREACH
    r.reject_code = static_cast<uint8_t>(v.value->to_u64());
    r.name = kind;
    // `reject with icmp` in inet, bridge and netdev answers IPv4 only: nft
    // puts the network protocol match first in the rule (before any counter
    // or quota), as it does for icmpv6 and IPv6.
    if ((kind == "icmp" || kind == "icmpv6") && fam != "ip" && fam != "ip6") {
      Field f;
      f.proto = kind == "icmp" ? "ip" : "ip6";
      std::vector<ir::Stmt> dep;
      add_dependencies(ctx, st, f, dep);
      out.insert(out.begin(), dep.begin(), dep.end());
    }
  }
  out.push_back(std::move(r));
  return true;
}

bool lower_nat(Context& ctx, const Stmt& s, std::vector<ir::Stmt>& out) {
  ir::Stmt r;
  r.kind = ir::StmtKind::Nat;
  static const std::pair<const char*, ir::NatType> kinds[] = {{"snat", ir::NatType::Snat},
                                                              {"dnat", ir::NatType::Dnat},
                                                              {"masquerade", ir::NatType::Masquerade},
                                                              {"redirect", ir::NatType::Redirect}};
  for (auto& [n, k] : kinds)
    if (s.name == n) r.nat = k;
  // the family of the addresses: given, the table's, or (in an inet table)
  // that of the address; 1 (inet): masquerade and redirect, for both
  std::string fam = opt(s, "family", ctx.table.family);
  r.nat_family = fam == "ip6" ? 10 : fam == "ip" ? 2 : 1;
  for (const auto& flag : s.flags) {
    if (flag == "random") r.nat_flags |= 0x4;        // NF_NAT_RANGE_PROTO_RANDOM
    if (flag == "persistent") r.nat_flags |= 0x8;    // NF_NAT_RANGE_PERSISTENT
    if (flag == "fully-random") r.nat_flags |= 0x10; // NF_NAT_RANGE_PROTO_RANDOM_FULLY
  }
  if (!s.exprs.empty()) {
    const Expr* addr = s.exprs[0].get();
    const Expr* port = nullptr;
    if (addr->kind == ExprKind::Mapping && addr->text == "port") {
      port = addr->kids[1].get();
      addr = addr->kids[0].get();
    }
    // what a map's data must be: an address of the statement's family, or a port
    auto field_of = [&](bool is_port) {
      Field f;
      auto load = std::make_shared<ir::Value>();
      load->kind = ir::ValueKind::Payload;
      load->len = is_port ? 2 : r.nat_family == 10 ? 16 : 4;
      load->order = ir::Order::Big;
      f.load = load;
      f.bits = load->len * 8;
      f.dtype = is_port ? "inet_service" : r.nat_family == 10 ? "ipv6_addr" : "ipv4_addr";
      return f;
    };
    auto bounds = [&](const Expr* e, ir::ValuePtr& lo, ir::ValuePtr& hi) {
      if (!e) return true;
      if (e->kind == ExprKind::Value) {
        lo = hi = make_const(ir::be_resize(e->bytes, (e->bits + 7) / 8));
        return true;
      }
      if (e->kind == ExprKind::Range && e->kids[0]->kind == ExprKind::Value && e->kids[1]->kind == ExprKind::Value) {
        lo = make_const(ir::be_resize(e->kids[0]->bytes, (e->kids[0]->bits + 7) / 8));
        hi = make_const(ir::be_resize(e->kids[1]->bytes, (e->kids[1]->bits + 7) / 8));
        return true;
      }
      if (e->kind == ExprKind::Prefix && e->kids[0]->kind == ExprKind::Value) {
        // an address prefix is the range of its addresses
        ir::Bytes low = ir::be_resize(e->kids[0]->bytes, (e->kids[0]->bits + 7) / 8), high = low;
        for (size_t bit = static_cast<size_t>(e->number); bit < high.size() * 8; ++bit) {
          low[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
          high[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
        }
        lo = make_const(low);
        hi = make_const(high);
        return true;
      }
      if (e->kind == ExprKind::Map) {  // `dnat to ip daddr map { ... }`: one value from the map
        const Field f = field_of(e == port);
        lo = hi = lower_map_lookup(ctx, *e, &f);
        return lo != nullptr;
      }
      return unsupported(ctx, e->loc, "this nat address or port expression");
    };
    if (!bounds(addr, r.addr_min, r.addr_max) || !bounds(port, r.port_min, r.port_max)) return false;
    if (r.nat_family == 1 && r.addr_min) r.nat_family = r.addr_min->len == 16 ? 10 : 2;
  }
  out.push_back(std::move(r));
  return true;
}

bool lower_objref(Context& ctx, const Stmt& s, std::vector<ir::Stmt>& out) {
  const Expr& name = *s.exprs.at(0);
  if (name.kind != ExprKind::Symbol && name.kind != ExprKind::String && name.kind != ExprKind::Value)
    return unsupported(ctx, name.loc, s.name + " maps");
  std::string text = name.text;
  if (name.kind == ExprKind::Value) {
    text.clear();
    for (uint8_t c : name.bytes)
      if (c) text.push_back(static_cast<char>(c));
  }
  auto it = ctx.object_index.find(s.name + " " + text);
  if (it == ctx.object_index.end()) return unsupported(ctx, name.loc, fmt::format("{} \"{}\"", s.name, text));
  ir::Stmt r;
  r.kind = s.name == "counter" ? ir::StmtKind::Counter
           : s.name == "quota" ? ir::StmtKind::Quota
           : s.name == "limit" ? ir::StmtKind::Limit
                                : ir::StmtKind::ObjRef;
  r.obj = it->second;
  r.name = s.name;
  out.push_back(std::move(r));
  return true;
}

bool lower_set_update(Context& ctx, RuleState& st, const Stmt& s, std::vector<ir::Stmt>& out) {
  const Expr& ref = *s.exprs.at(0);
  auto it = ctx.set_index.find(ref.text);
  if (it == ctx.set_index.end()) return unsupported(ctx, ref.loc, "set @" + ref.text);
  ir::Stmt r;
  r.kind = ir::StmtKind::SetUpdate;
  r.set = it->second;
  r.set_op = s.name == "update" ? ir::SetOp::Update : s.name == "delete" ? ir::SetOp::Delete : ir::SetOp::Add;
  std::vector<Field> fields;
  if (!lower_key(ctx, st, *s.exprs.at(1), fields, r.value, out)) return false;
  if (s.kind == StmtKind::MapStmt) {
    const Expr& d = *s.exprs.at(2);
    const ir::Set& set = ctx.out.sets[it->second];
    if (d.kind == ExprKind::Value) r.data = make_const(ir::be_resize(d.bytes, set.data_len));
    else {
      std::vector<Field> df;
      std::vector<ir::Stmt> ignored;
      if (!lower_key(ctx, st, d, df, r.data, out)) return false;
    }
  }
  for (const auto& inner : s.inner) {
    if (inner->name == "timeout") {
      uint64_t ms = 0;
      if (!parse_time_ms(inner->opts.at("timeout"), ms)) return unsupported(ctx, inner->loc, "this timeout");
      r.timeout_ms = ms;
      continue;
    }
    std::vector<ir::Stmt> one;
    RuleState none;
    if (!lower_stmt(ctx, none, *inner, one)) return false;
    for (auto& i : one) r.inner.push_back(std::move(i));
  }
  out.push_back(std::move(r));
  return true;
}

}  // namespace

namespace {

using Opts = std::map<std::string, std::string>;

std::string opt_of(const Opts& o, const char* key, const std::string& dflt) {
  auto it = o.find(key);
  return it == o.end() ? dflt : it->second;
}

// A byte amount: "25" with its unit under `unit_key` (statements), or
// "25 mbytes" in one option (object declarations).
uint64_t amount(const Opts& o, const char* key, const char* unit_key) {
  std::string v = opt_of(o, key, "0");
  auto sp = v.find(' ');
  if (sp != std::string::npos) return number(v.substr(0, sp)) * byte_unit(v.substr(sp + 1));
  return number(v) * byte_unit(opt_of(o, unit_key, "bytes"));
}

}  // namespace

void lower_limit(const Opts& o, ir::Stmt& out) {
  out.kind = ir::StmtKind::Limit;
  std::string unit = opt_of(o, "unit", "second");
  auto slash = unit.find('/');
  out.over = o.count("over") > 0;
  if (slash == std::string::npos) {
    out.rate = number(opt_of(o, "rate", "0"));
    out.unit_seconds = unit_seconds(unit);
    out.burst = number(opt_of(o, "burst", "5"));
  } else {
    out.limit_bytes = true;
    out.rate = number(opt_of(o, "rate", "0")) * byte_unit(unit.substr(0, slash));
    out.unit_seconds = unit_seconds(unit.substr(slash + 1));
    out.burst = number(opt_of(o, "burst", "0")) * byte_unit(opt_of(o, "burst_unit", "bytes"));
  }
}

void lower_quota(const Opts& o, ir::Stmt& out) {
  out.kind = ir::StmtKind::Quota;
  out.over = o.count("over") > 0;
  out.quota_bytes = amount(o, "bytes", "unit");
  out.quota_used = amount(o, "used", "used_unit");
}

bool lower_verdict_expr(Context& ctx, const Expr& e, ir::Verdict& v) {
  if (e.kind != ExprKind::Verdict) return unsupported(ctx, e.loc, "this verdict");
  static const std::pair<const char*, ir::VerdictCode> codes[] = {
      {"accept", ir::VerdictCode::Accept}, {"drop", ir::VerdictCode::Drop}, {"continue", ir::VerdictCode::Continue},
      {"return", ir::VerdictCode::Return}, {"jump", ir::VerdictCode::Jump}, {"goto", ir::VerdictCode::Goto}};
  bool known = false;
  for (auto& [name, code] : codes)
    if (e.text == name) v.code = code, known = true;
  if (!known) return unsupported(ctx, e.loc, "verdict " + e.text);
  if (v.code == ir::VerdictCode::Jump || v.code == ir::VerdictCode::Goto) {
    if (e.chain) return unsupported(ctx, e.loc, "anonymous chains");
    auto it = ctx.chain_index.find(e.kids.at(0)->text);
    if (it == ctx.chain_index.end()) return unsupported(ctx, e.loc, "a jump to unknown chain " + e.kids[0]->text);
    v.chain = it->second;
  }
  return true;
}

bool parse_time_ms(const std::string& text, uint64_t& ms) {
  const Datatype* dt = find_datatype("time");
  ParseResult r = dt ? parse_value(*dt, text, 32) : ParseResult{};
  if (!r.value) return false;
  ms = r.value->to_u64();
  return true;
}

bool lower_stmt(Context& ctx, RuleState& st, const Stmt& s, std::vector<ir::Stmt>& out) {
  switch (s.kind) {
    case StmtKind::Match:
      if (s.name == "ct count") return unsupported(ctx, s.loc, "ct count");
      return lower_match(ctx, st, *s.exprs.at(0), out);
    case StmtKind::Verdict: return lower_verdict(ctx, st, s, out);
    case StmtKind::Counter: {
      ir::Stmt r;
      r.kind = ir::StmtKind::Counter;
      r.packets = number(opt(s, "packets", "0"));
      r.bytes = number(opt(s, "bytes", "0"));
      out.push_back(std::move(r));
      return true;
    }
    case StmtKind::Limit: {
      ir::Stmt r;
      lower_limit(s.opts, r);
      out.push_back(std::move(r));
      return true;
    }
    case StmtKind::Quota: {
      ir::Stmt r;
      lower_quota(s.opts, r);
      out.push_back(std::move(r));
      return true;
    }
    case StmtKind::Log: {
      ir::Stmt r;
      r.kind = ir::StmtKind::Log;
      r.prefix = opt(s, "prefix");
      if (s.opts.count("group")) r.group = static_cast<int>(number(opt(s, "group")));
      static const char* levels[] = {"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit"};
      r.level = 4;
      for (int i = 0; i < 9; ++i)
        if (opt(s, "level") == levels[i]) r.level = i;
      r.snaplen = static_cast<uint32_t>(number(opt(s, "snaplen", "0")));
      // the kernel's NF_LOG_* bits: TCPSEQ 1, TCPOPT 2, IPOPT 4, UID 8, MACDECODE 0x20
      for (const std::string& f : s.flags) {
        bool tcp = f.rfind("tcp", 0) == 0;
        if (f == "all") r.log_flags |= 0x2f;
        if (tcp && f.find("sequence") != std::string::npos) r.log_flags |= 0x01;
        if (tcp && f.find("options") != std::string::npos) r.log_flags |= 0x02;
        if (f.rfind("ip", 0) == 0 && f.find("options") != std::string::npos) r.log_flags |= 0x04;
        if (f == "skuid") r.log_flags |= 0x08;
        if (f == "ether") r.log_flags |= 0x20;
      }
      out.push_back(std::move(r));
      return true;
    }
    case StmtKind::Reject: return lower_reject(ctx, st, s, out);
    case StmtKind::Nat: return lower_nat(ctx, s, out);
    case StmtKind::Notrack: {
      ir::Stmt r;
      r.kind = ir::StmtKind::Notrack;
      out.push_back(std::move(r));
      return true;
    }
    case StmtKind::Queue: {
      ir::Stmt r;
      r.kind = ir::StmtKind::Verdict;
      r.verdict.code = ir::VerdictCode::Queue;
      if (!s.exprs.empty()) {
        const Expr& q = *s.exprs[0];
        if (q.kind == ExprKind::Value) r.verdict.queue_num = r.verdict.queue_to = static_cast<uint16_t>(ir::be_to_u64(q.bytes));
        else if (q.kind == ExprKind::Range) {
          r.verdict.queue_num = static_cast<uint16_t>(ir::be_to_u64(q.kids[0]->bytes));
          r.verdict.queue_to = static_cast<uint16_t>(ir::be_to_u64(q.kids[1]->bytes));
        } else {
          return unsupported(ctx, q.loc, "a computed queue number");
        }
      }
      for (auto& f : s.flags) {
        if (f == "bypass") r.verdict.queue_bypass = true;
        if (f == "fanout") r.verdict.queue_fanout = true;
      }
      out.push_back(std::move(r));
      return true;
    }
    case StmtKind::Assign: return lower_assign(ctx, st, s, out);
    case StmtKind::ObjRef: return lower_objref(ctx, s, out);
    case StmtKind::SetStmt:
    case StmtKind::MapStmt: return lower_set_update(ctx, st, s, out);
    case StmtKind::Last: {
      ir::Stmt r;
      r.kind = ir::StmtKind::Last;
      out.push_back(std::move(r));
      return true;
    }
    case StmtKind::Dup: return unsupported(ctx, s.loc, "dup");
    case StmtKind::Fwd: return unsupported(ctx, s.loc, "fwd");
    case StmtKind::Tproxy: return unsupported(ctx, s.loc, "tproxy");
    case StmtKind::Synproxy: return unsupported(ctx, s.loc, "synproxy");
    case StmtKind::FlowOffload: return unsupported(ctx, s.loc, "flow offload");
    case StmtKind::Xt: return unsupported(ctx, s.loc, "xt " + s.name);
    case StmtKind::OptionReset: return unsupported(ctx, s.loc, "reset tcp option");
  }
  return unsupported(ctx, s.loc, "this statement");
}

}  // namespace nfx::lower
