// Expressions and statements as nft lists them (expression.c/statement.c print ops).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "print.h"
#include "types.h"

namespace nfx {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

const char* binop_text(BinOp op) {
  switch (op) {
    case BinOp::And: return "&";
    case BinOp::Or: return "|";
    case BinOp::Xor: return "^";
    case BinOp::Lshift: return "<<";
    case BinOp::Rshift: return ">>";
  }
  return "?";
}

namespace {


// meta keys nft prints without the "meta" prefix
bool meta_prints_bare(const std::string& key) {
  static const std::set<std::string> bare = {"iif", "oif", "iifname", "oifname", "iifgroup", "oifgroup"};
  return bare.count(key) > 0;
}

std::string print_selector(const Expr& e, const PrintOptions& o) {
  const auto& p = e.path;
  switch (e.selector) {
    case SelectorKind::Payload:
      if (e.text == "vlan" && p.at(0) == "cfi") return "vlan dei";  // nft lists the older name as dei
      return e.text + " " + p.at(0);
    case SelectorKind::Inner: return e.text + " " + p.at(0) + " " + p.at(1);
    case SelectorKind::RawPayload:
      return fmt::format("@{},{},{}", p.at(0), e.args.at(0), e.args.at(1));
    case SelectorKind::Exthdr:
      if (e.text == "exthdr") return "exthdr " + p.at(0);
      return e.text + " " + p.at(0);
    case SelectorKind::TcpOption:
      if (p.at(0) == "@") return fmt::format("tcp option @{},{},{}", e.args.at(0), e.args.at(1), e.args.at(2));
      return "tcp option " + join(p, " ");
    case SelectorKind::IpOption: return "ip option " + join(p, " ");
    case SelectorKind::SctpChunk: return "sctp chunk " + join(p, " ");
    case SelectorKind::Meta:
      if (p.at(0) == "secpath") return "meta ipsec";  // nft's token for secpath
      return meta_prints_bare(p.at(0)) ? p.at(0) : "meta " + p.at(0);
    case SelectorKind::Ct:
      // `ct original saddr` typed from the rule's network protocol lists with it
      if (p.size() == 2 && (p[1] == "saddr" || p[1] == "daddr") && (e.dtype == "ipv4_addr" || e.dtype == "ipv6_addr"))
        return "ct " + p[0] + (e.dtype == "ipv4_addr" ? " ip " : " ip6 ") + p[1];
      return "ct " + join(p, " ");
    case SelectorKind::Rt: return "rt " + join(p, " ");
    case SelectorKind::Fib: {
      std::vector<std::string> flags(p.begin(), p.end() - 1);
      return "fib " + join(flags, " . ") + " " + p.back();
    }
    case SelectorKind::Socket:
      if (!e.args.empty()) return fmt::format("socket {} level {}", p.at(0), e.args[0]);
      return "socket " + p.at(0);
    case SelectorKind::Osf:
      if (p.size() > 1) return "osf ttl " + p[1] + " " + p[0];
      return "osf " + p.at(0);
    case SelectorKind::Ipsec: {
      std::string out = "ipsec " + p.at(0);
      if (!e.args.empty() && e.args[0] != 0) out += fmt::format(" spnum {}", e.args[0]);  // 0 is the default
      for (size_t i = 1; i < p.size(); ++i) out += " " + p[i];
      return out;
    }
    case SelectorKind::Numgen: {
      std::string out = fmt::format("numgen {} mod {}", p.at(0), e.args.at(0));
      if (e.args.at(1)) out += fmt::format(" offset {}", e.args[1]);
      return out;
    }
    case SelectorKind::Hash: {
      std::string out = e.text;
      if (!e.kids.empty()) out += " " + print_expr(*e.kids[0], o);
      out += fmt::format(" mod {}", e.args.at(0));
      if (e.args.at(3)) out += fmt::format(" seed 0x{:x}", e.args.at(1));
      if (e.args.at(2)) out += fmt::format(" offset {}", e.args.at(2));
      return out;
    }
    case SelectorKind::Tunnel: return "tunnel " + p.at(0);
  }
  return e.text;
}

const char* rel_op_text(RelOp op) {
  switch (op) {
    case RelOp::Implicit:
    case RelOp::Eq: return "";
    case RelOp::Ne: return "!= ";
    case RelOp::Lt: return "< ";
    case RelOp::Gt: return "> ";
    case RelOp::Le: return "<= ";
    case RelOp::Ge: return ">= ";
    case RelOp::Neg: return "! ";
  }
  return "";
}

}  // namespace

std::vector<std::string> in_order(const std::vector<std::string>& flags, std::initializer_list<const char*> order) {
  std::vector<std::string> out;
  for (const char* f : order)
    if (std::find(flags.begin(), flags.end(), f) != flags.end()) out.push_back(f);
  for (const auto& f : flags)
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  return out;
}

namespace {

// The element's key value (leftmost constant), or null for concatenations.
const Expr* element_key(const Expr* e) {
  while (e && e->kind != ExprKind::Value) {
    if (e->kind == ExprKind::Concat || e->kids.empty()) return nullptr;
    e = e->kids[0].get();
  }
  return e;
}

// Elements in the order the kernel lists them: interval sets and keys of up
// to 16 bits (the bitmap backend) come back sorted by value; hashed sets are
// listed as written.
std::vector<ExprPtr> in_kernel_order(const std::vector<ExprPtr>& elems, bool interval) {
  std::vector<ExprPtr> out = elems;
  for (const auto& e : out) {
    const Expr* k = element_key(e.get());
    if (!k || (!interval && k->bits > 16) || k->bytes.size() != element_key(out[0].get())->bytes.size()) return out;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ExprPtr& a, const ExprPtr& b) { return element_key(a.get())->bytes < element_key(b.get())->bytes; });
  return out;
}

int binop_precedence(BinOp op) {
  switch (op) {
    case BinOp::Lshift:
    case BinOp::Rshift: return 4;
    case BinOp::And: return 3;
    case BinOp::Xor: return 2;
    case BinOp::Or: return 1;
  }
  return 0;
}

bool is_flag_type(const std::string& dtype) {
  for (const Datatype* d = find_datatype(dtype); d; d = d->base)
    if (d->is_bitmask) return true;
  return false;
}


std::string print_elem_options(const Expr::ElemOptions& eo) {
  // nft's order (set_elem_expr_print): statements, timeout, expires, comment
  std::string out;
  for (auto& s : eo.stmts) out += " " + s;
  if (eo.timeout) out += " timeout " + *eo.timeout;
  if (eo.expires) out += " expires " + *eo.expires;
  if (eo.comment) out += " comment \"" + *eo.comment + "\"";
  return out;
}

}  // namespace

std::string print_expr(const Expr& e, const PrintOptions& o) {
  switch (e.kind) {
    case ExprKind::Value: {
      // nft names both the relative time and meta time's date "time"
      const Datatype* dt = find_datatype(e.dtype == "time" && e.bits == 64 ? "date" : e.dtype);
      if (!dt) return e.text;
      return print_value(*dt, Value::from_bytes(e.bytes, e.bits), o);
    }
    case ExprKind::Symbol:
    case ExprKind::Number:
    case ExprKind::Variable: return e.text;
    case ExprKind::String: return "\"" + e.text + "\"";
    case ExprKind::Selector: return print_selector(e, o);
    case ExprKind::Unary: return e.text + print_expr(*e.kids[0], o);
    case ExprKind::Binop: {
      // Parentheses where an operand binds looser than its operator (C
      // precedence: shifts, &, ^, |), as nft prints them. On the right a
      // same-precedence operand is bracketed too, since operators group left.
      auto operand = [&](const Expr& k, bool right) {
        std::string t = print_expr(k, o);
        if (k.kind != ExprKind::Binop) return t;
        int pk = binop_precedence(k.binop), pe = binop_precedence(e.binop);
        return pk < pe || (right && pk == pe) ? "(" + t + ")" : t;
      };
      return operand(*e.kids[0], false) + " " + binop_text(e.binop) + " " + operand(*e.kids[1], true);
    }
    case ExprKind::Relational: {
      // nft spells out `==` after a binop (`meta mark & 0xff == 0x1`) and
      // for an exact match of a flag value (`tcp flags == syn`).
      const Expr& lhs = *e.kids[0];
      const Expr& rhs = *e.kids[1];
      bool eq_like = e.rel == RelOp::Implicit || e.rel == RelOp::Eq;
      // (A flag field's value that names no single flag is typed as a hex
      // integer, `tcp flags == 0xff`; the field's type still asks for `==`.)
      bool flag_value = is_flag_type(rhs.dtype) || (lhs.kind == ExprKind::Selector && is_flag_type(lhs.dtype));
      bool must_print_eq =
          lhs.kind == ExprKind::Binop || (e.rel == RelOp::Eq && rhs.kind == ExprKind::Value && flag_value);
      std::string op = eq_like && must_print_eq ? "== " : rel_op_text(e.rel);
      return print_expr(lhs, o) + " " + op + print_expr(rhs, o);
    }
    case ExprKind::Range: {
      // nft prints range bounds fully numeric (`1-2`, `60s-3600s`, `33-45`).
      PrintOptions numeric = o;
      numeric.numeric = numeric.numeric_time = numeric.numeric_protocol = numeric.numeric_priority = true;
      numeric.service = numeric.guid = false;
      return print_expr(*e.kids[0], numeric) + "-" + print_expr(*e.kids[1], numeric);
    }
    case ExprKind::Prefix:
      if (e.kids[1]->kind == ExprKind::Number) return print_expr(*e.kids[0], o) + fmt::format("/{}", e.number);
      return print_expr(*e.kids[0], o) + " / " + print_expr(*e.kids[1], o);
    case ExprKind::Concat: {
      std::vector<std::string> parts;
      for (auto& k : e.kids) parts.push_back(print_expr(*k, o));
      return join(parts, " . ");
    }
    case ExprKind::List: {
      std::vector<std::string> parts;
      for (auto& k : e.kids) parts.push_back(print_expr(*k, o));
      return join(parts, ",");
    }
    case ExprKind::Set: {
      std::vector<std::string> parts;
      for (auto& k : in_kernel_order(e.kids, false)) parts.push_back(print_expr(*k, o));
      return parts.empty() ? "{ }" : "{ " + join(parts, ", ") + " }";
    }
    case ExprKind::SetRef: return "@" + e.text;
    case ExprKind::Map: return print_expr(*e.kids[0], o) + " map " + print_expr(*e.kids[1], o);
    case ExprKind::Mapping: return print_expr(*e.kids[0], o) + " : " + print_expr(*e.kids[1], o);
    case ExprKind::SetElem: return print_expr(*e.kids[0], o) + print_elem_options(e.elem);
    case ExprKind::Verdict:
      if (!e.kids.empty()) return e.text + " " + print_expr(*e.kids[0], o);
      return e.text;
    case ExprKind::Wildcard: return "*";
  }
  return e.text;
}

namespace {

std::string opt(const Stmt& s, const char* key, const std::string& dflt = {}) {
  auto it = s.opts.find(key);
  return it == s.opts.end() ? dflt : it->second;
}

// An IPv6 address (or range of them) in brackets, as nft writes addresses
// that a port may follow: `[2001:db8::1]`, `[a::]-[b::]`.
std::string bracketed_v6(const Expr& e, const PrintOptions& o) {
  auto is_v6 = [](const Expr& x) { return x.kind == ExprKind::Value && x.dtype == "ipv6_addr"; };
  if (is_v6(e)) return "[" + print_expr(e, o) + "]";
  if (e.kind == ExprKind::Range && is_v6(*e.kids[0]) && is_v6(*e.kids[1]))
    return "[" + print_expr(*e.kids[0], o) + "]-[" + print_expr(*e.kids[1], o) + "]";
  return print_expr(e, o);
}

// nft lists log flags as `flags all` when every one is set, else one
// `flags` clause per kind: tcp (sequence,options), ip options, skuid, ether.
std::string print_log_flags(const std::vector<std::string>& flags) {
  bool all = false, tcpseq = false, tcpopt = false, ipopt = false, skuid = false, ether = false;
  for (const auto& f : flags) {
    bool tcp = f.rfind("tcp", 0) == 0;
    all |= f == "all";
    tcpseq |= tcp && f.find("sequence") != std::string::npos;
    tcpopt |= tcp && f.find("options") != std::string::npos;
    ipopt |= f.rfind("ip", 0) == 0 && f.find("options") != std::string::npos;
    skuid |= f == "skuid";
    ether |= f == "ether";
  }
  if (all || (tcpseq && tcpopt && ipopt && skuid && ether)) return " flags all";
  std::string out;
  if (tcpseq || tcpopt)
    out += std::string(" flags tcp") + (tcpseq ? " sequence" : "") + (tcpseq && tcpopt ? "," : tcpopt ? " " : "") +
           (tcpopt ? "options" : "");
  if (ipopt) out += " flags ip options";
  if (skuid) out += " flags skuid";
  if (ether) out += " flags ether";
  return out;
}

std::string print_nat_target(const Expr& t, const PrintOptions& o, bool always_bracket) {
  if (t.kind == ExprKind::Mapping && t.text == "port") {
    std::string addr = t.kids[0] ? bracketed_v6(*t.kids[0], o) : "";
    return addr + ":" + print_expr(*t.kids[1], o);
  }
  return always_bracket ? bracketed_v6(t, o) : print_expr(t, o);
}

}  // namespace

std::string print_stmt(const Stmt& s, const PrintOptions& o) {
  switch (s.kind) {
    case StmtKind::Match:
      if (s.name == "ct count")
        return std::string("ct count ") + (s.opts.count("over") ? "over " : "") + opt(s, "count");
      return print_expr(*s.exprs.at(0), o);
    case StmtKind::Verdict: {
      const Expr& v = *s.exprs.at(0);
      if (v.kind == ExprKind::Map) return print_expr(*v.kids[0], o) + " vmap " + print_expr(*v.kids[1], o);
      return print_expr(v, o);
    }
    case StmtKind::Counter:
      if (o.stateless) return "counter";
      return fmt::format("counter packets {} bytes {}", opt(s, "packets", "0"), opt(s, "bytes", "0"));
    case StmtKind::ObjRef:
      if (s.name.rfind("ct ", 0) == 0) return s.name + " set " + print_expr(*s.exprs.at(0), o);
      return s.name + " name " + print_expr(*s.exprs.at(0), o);
    case StmtKind::Limit: {
      std::string out = "limit rate ";
      if (s.opts.count("over")) out += "over ";
      std::string unit = opt(s, "unit");
      auto slash = unit.find('/');
      if (slash != std::string::npos)
        out += opt(s, "rate") + " " + unit;  // "1 mbytes/second"
      else
        out += opt(s, "rate") + "/" + unit;
      // Packet limits always list their burst (5 unless given); byte
      // limits only a non-zero one.
      if (slash == std::string::npos)
        out += " burst " + opt(s, "burst", "5") + " packets";
      else if (s.opts.count("burst") && opt(s, "burst") != "0")
        out += " burst " + opt(s, "burst") + " " + opt(s, "burst_unit", "bytes");
      return out;
    }
    case StmtKind::Quota: {
      std::string out = "quota ";
      if (s.opts.count("over")) out += "over ";
      out += opt(s, "bytes") + " " + opt(s, "unit");
      if (s.opts.count("used") && !o.stateless) out += " used " + opt(s, "used") + " " + opt(s, "used_unit");
      return out;
    }
    case StmtKind::Last:
      if (o.stateless) return "last";
      return "last used " + opt(s, "used", "never");
    case StmtKind::Log: {
      std::string out = "log";
      if (s.opts.count("prefix")) out += " prefix \"" + opt(s, "prefix") + "\"";
      if (s.opts.count("group")) out += " group " + opt(s, "group");
      if (s.opts.count("snaplen")) out += " snaplen " + opt(s, "snaplen");
      if (s.opts.count("queue-threshold")) out += " queue-threshold " + opt(s, "queue-threshold");
      if (s.opts.count("level") && opt(s, "level") != "warn") out += " level " + opt(s, "level");
      if (!s.flags.empty()) out += print_log_flags(s.flags);
      return out;
    }
    case StmtKind::Reject: {
      if (s.name.empty()) return "reject";
      if (s.name == "tcp") return "reject with tcp reset";
      return "reject with " + s.name + " " + opt(s, "type");
    }
    case StmtKind::Nat: {
      std::string out = s.name;
      if (s.opts.count("family")) out += " " + opt(s, "family");
      if (s.opts.count("prefix")) out += " prefix";
      if (!s.exprs.empty()) out += " to " + print_nat_target(*s.exprs[0], o, false);
      if (!s.flags.empty()) out += " " + join(in_order(s.flags, {"random", "fully-random", "persistent"}), ",");
      return out;
    }
    case StmtKind::Queue: {
      std::string out = "queue";
      if (!s.flags.empty()) out += " flags " + join(in_order(s.flags, {"bypass", "fanout"}), ",");
      // A queue without a target lists as `queue to 0`, the kernel's default.
      out += " to " + (s.exprs.empty() ? std::string("0") : print_expr(*s.exprs[0], o));
      return out;
    }
    case StmtKind::Dup: {
      std::string out = "dup to " + print_expr(*s.exprs.at(0), o);
      if (s.exprs.size() > 1) out += " device " + print_expr(*s.exprs[1], o);
      return out;
    }
    case StmtKind::Fwd: {
      std::string out = "fwd ";
      if (s.opts.count("family")) out += opt(s, "family") + " ";
      out += "to " + print_expr(*s.exprs.at(0), o);
      if (s.exprs.size() > 1) out += " device " + print_expr(*s.exprs[1], o);
      return out;
    }
    case StmtKind::Tproxy: {
      std::string out = "tproxy ";
      if (s.opts.count("family")) out += opt(s, "family") + " ";
      return out + "to " + print_nat_target(*s.exprs.at(0), o, true);  // tproxy brackets IPv6 always
    }
    case StmtKind::Synproxy: {
      std::string out = "synproxy";
      if (s.opts.count("mss")) out += " mss " + opt(s, "mss");
      if (s.opts.count("wscale")) out += " wscale " + opt(s, "wscale");
      for (auto& f : s.flags) out += " " + f;
      return out;
    }
    case StmtKind::Notrack: return "notrack";
    case StmtKind::OptionReset: return "reset " + print_expr(*s.exprs.at(0), o);
    case StmtKind::SetStmt:
    case StmtKind::MapStmt: {
      std::string out = s.name + " " + print_expr(*s.exprs.at(0), o) + " { " + print_expr(*s.exprs.at(1), o);
      // The statements are templates for new elements: no counter values.
      PrintOptions templ = o;
      templ.stateless = true;
      for (auto& i : s.inner) {
        if (i->name == "timeout") out += " timeout " + i->opts.at("timeout");
        else out += " " + print_stmt(*i, templ);
      }
      if (s.kind == StmtKind::MapStmt) out += " : " + print_expr(*s.exprs.at(2), o);
      return out + " }";
    }
    case StmtKind::Assign:
      return print_expr(*s.exprs.at(0), o) + " set " + print_expr(*s.exprs.at(1), o);
    case StmtKind::FlowOffload: return "flow add @" + opt(s, "table");
    case StmtKind::Xt: return "xt " + s.name;
  }
  return "";
}

std::string print_rule(const Rule& r, const PrintOptions& o) {
  std::vector<std::string> parts;
  for (auto& s : r.stmts) parts.push_back(print_stmt(*s, o));
  std::string out = join(parts, " ");
  if (r.comment) out += " comment \"" + *r.comment + "\"";
  return out;
}

std::string print_set_elements(const SetDecl& set, const PrintOptions& o) {
  // nft puts five short integer-like keys or two addresses/state values on a
  // line, and every other element (maps, concatenations, strings, IPv6) on a
  // line of its own.
  static const std::set<std::string> five = {"nf_proto", "integer", "arp_op", "inet_proto", "inet_service",
                                             "tcp_flag", "dccp_pkttype", "mark", "iface_index", "classid",
                                             "uid", "gid", "ct_dir"};
  static const std::set<std::string> two = {"ipv4_addr", "ct_state", "ct_status", "pkt_type"};
  std::string key_type;
  if (set.key_types.size() == 1) key_type = set.key_types[0];
  if (set.key_typeof.size() == 1 && set.key_typeof[0]) key_type = set.key_typeof[0]->dtype;
  bool is_map = set.is_map || !set.data_types.empty() || !set.data_typeof.empty() || set.data_verdict_or_obj;
  unsigned per_line = 1;
  if (!is_map && five.count(key_type)) per_line = 5;
  if (!is_map && two.count(key_type)) per_line = 2;
  std::string out = "{ ";
  bool interval = std::find(set.flags.begin(), set.flags.end(), "interval") != set.flags.end();
  auto elements = in_kernel_order(set.elements, interval);
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i) out += (i % per_line == 0) ? ",\n\t\t\t     " : ", ";
    out += print_expr(*elements[i], o);
  }
  return out + " }";
}

}  // namespace nfx
