// Readable IR (`nfx compile --emit=ir`): one block per rule, one line per
// statement, values written as function-like terms with hex constants.
#include <fmt/format.h>

#include <nfx/ir.h>

namespace nfx::ir {

namespace {

std::string hex(const Bytes& b) {
  std::string out = "0x";
  for (uint8_t c : b) out += fmt::format("{:02x}", c);
  return b.empty() ? "0x" : out;
}

const char* base_name(PayloadBase b) {
  switch (b) {
    case PayloadBase::Link: return "link";
    case PayloadBase::Network: return "network";
    case PayloadBase::Transport: return "transport";
    case PayloadBase::Inner: return "inner";
  }
  return "?";
}

const char* exthdr_name(ExthdrOp op) {
  switch (op) {
    case ExthdrOp::Ipv6: return "ipv6";
    case ExthdrOp::TcpOpt: return "tcpopt";
    case ExthdrOp::Ipv4: return "ipv4";
    case ExthdrOp::Sctp: return "sctp";
  }
  return "?";
}

const char* dir_name(CtDir d) { return d == CtDir::Original ? "original," : d == CtDir::Reply ? "reply," : ""; }

const char* cmp_name(CmpOp op) {
  static const char* names[] = {"==", "!=", "<", ">", "<=", ">="};
  return names[static_cast<int>(op)];
}

std::string order_suffix(const Value& v) { return v.order == Order::Host ? "/host" : ""; }

std::string verdict_text(const Verdict& v, const Table* t) {
  auto chain = [&] { return t && v.chain >= 0 ? t->chains[v.chain].name : fmt::format("#{}", v.chain); };
  switch (v.code) {
    case VerdictCode::Drop: return "drop";
    case VerdictCode::Accept: return "accept";
    case VerdictCode::Stolen: return "stolen";
    case VerdictCode::Queue: return fmt::format("queue {}-{}{}{}", v.queue_num, v.queue_to,
                                                v.queue_bypass ? " bypass" : "", v.queue_fanout ? " fanout" : "");
    case VerdictCode::Continue: return "continue";
    case VerdictCode::Break: return "break";
    case VerdictCode::Jump: return "jump " + chain();
    case VerdictCode::Goto: return "goto " + chain();
    case VerdictCode::Return: return "return";
  }
  return "?";
}

std::string set_name(const Table* t, int set) {
  return t && set >= 0 && set < static_cast<int>(t->sets.size()) ? "@" + t->sets[set].name : fmt::format("@#{}", set);
}

std::string value_text(const Value& v, const Table* t);

std::string args_text(const Value& v, const Table* t) {
  std::string out;
  for (size_t i = 0; i < v.args.size(); ++i) out += (i ? ", " : "") + value_text(*v.args[i], t);
  return out;
}

std::string value_text(const Value& v, const Table* t) {
  switch (v.kind) {
    case ValueKind::Const: return hex(v.data) + order_suffix(v);
    case ValueKind::Payload: return fmt::format("payload({}+{},{})", base_name(v.base), v.offset, v.len);
    case ValueKind::Exthdr:
      return fmt::format("exthdr({} {},{},{}{})", exthdr_name(v.exthdr), v.type, v.offset, v.len,
                         v.present ? ",present" : "");
    case ValueKind::Meta: return fmt::format("meta({}){}", v.key, order_suffix(v));
    case ValueKind::Ct: return fmt::format("ct({}{}){}", dir_name(v.dir), v.key, order_suffix(v));
    case ValueKind::Rt: return fmt::format("rt({})", v.key);
    case ValueKind::Fib: return fmt::format("fib(flags={:#x},{})", v.flags, v.key);
    case ValueKind::Socket: return fmt::format("socket({},{})", v.key, v.level);
    case ValueKind::Numgen:
      return fmt::format("numgen({},mod {},+{})", v.flags ? "random" : "inc", v.modulus, v.add);
    case ValueKind::Hash:
      if (v.symmetric) return fmt::format("symhash(mod {},+{})", v.modulus, v.add);
      return fmt::format("jhash({},seed {:#x},mod {},+{})", args_text(v, t), v.seed, v.modulus, v.add);
    case ValueKind::Bitwise:
      return fmt::format("({} & {} ^ {})", args_text(v, t), hex(v.data), hex(v.xor_data));
    case ValueKind::Binop: {
      const char* op = v.op == BinOp::And ? "&" : v.op == BinOp::Or ? "|" : "^";
      return fmt::format("({} {} {})", value_text(*v.args.at(0), t), op, value_text(*v.args.at(1), t));
    }
    case ValueKind::Shift: return fmt::format("({} {} {})", args_text(v, t), v.left ? "<<" : ">>", v.shift);
    case ValueKind::ByteOrder: return fmt::format("{}{}({})", v.hton ? "hton" : "ntoh", v.size * 8, args_text(v, t));
    case ValueKind::Concat: return fmt::format("concat({})", args_text(v, t));
    case ValueKind::MapLookup: return fmt::format("{}[{}]", set_name(t, v.set), args_text(v, t));
  }
  return "?";
}

std::string predicate_text(const Predicate& p, const Table* t) {
  std::string lhs = p.lhs ? value_text(*p.lhs, t) : "?";
  switch (p.kind) {
    case PredKind::Cmp: return fmt::format("{} {} {}", lhs, cmp_name(p.op), hex(p.value));
    case PredKind::Range: return fmt::format("{} {}in {}..{}", lhs, p.negate ? "not " : "", hex(p.value), hex(p.hi));
    case PredKind::Prefix: return fmt::format("{} {}in {}/{}", lhs, p.negate ? "not " : "", hex(p.value), p.prefix);
    case PredKind::Flags: return fmt::format("{} & {} {} 0", lhs, hex(p.value), p.negate ? "==" : "!=");
    case PredKind::Lookup: return fmt::format("{} {}in {}", lhs, p.negate ? "not " : "", set_name(t, p.set));
  }
  return "?";
}

std::string opt_value(const ValuePtr& v, const Table* t) { return v ? value_text(*v, t) : "-"; }

std::string stmt_text(const Stmt& s, const Table* t) {
  switch (s.kind) {
    case StmtKind::Match: return "match " + predicate_text(s.pred, t);
    case StmtKind::Verdict: return "verdict " + verdict_text(s.verdict, t);
    case StmtKind::VerdictMap: return fmt::format("vmap {}[{}]", set_name(t, s.set), opt_value(s.value, t));
    case StmtKind::Counter:
      return s.obj >= 0 && t ? "counter name " + t->objects[s.obj].name : std::string("counter");
    case StmtKind::Limit:
      if (s.obj >= 0 && t) return "limit name " + t->objects[s.obj].name;
      return fmt::format("limit {}{} {}/{}s burst {}", s.over ? "over " : "", s.rate, s.limit_bytes ? "bytes" : "packets",
                         s.unit_seconds, s.burst);
    case StmtKind::Quota:
      if (s.obj >= 0 && t) return "quota name " + t->objects[s.obj].name;
      return fmt::format("quota {}{} bytes used {}", s.over ? "over " : "", s.quota_bytes, s.quota_used);
    case StmtKind::Log: return fmt::format("log prefix \"{}\" level {} group {}", s.prefix, s.level, s.group);
    case StmtKind::MetaSet: return fmt::format("meta({}) := {}", s.key, opt_value(s.value, t));
    case StmtKind::CtSet: return fmt::format("ct({}{}) := {}", dir_name(s.dir), s.key, opt_value(s.value, t));
    case StmtKind::PayloadSet:
      return fmt::format("payload({}+{},{}) := {} csum {}@{}{}", base_name(s.base), s.offset, s.len,
                         opt_value(s.value, t), s.csum_type, s.csum_offset, s.csum_l4 ? " +l4" : "");
    case StmtKind::ExthdrSet:
      return fmt::format("exthdr({} {},{},{}) := {}", exthdr_name(s.exthdr), s.type, s.offset, s.len,
                         opt_value(s.value, t));
    case StmtKind::Nat: {
      static const char* names[] = {"snat", "dnat", "masquerade", "redirect"};
      return fmt::format("{} family {} addr {}..{} port {}..{} flags {:#x}", names[static_cast<int>(s.nat)], s.nat_family,
                         opt_value(s.addr_min, t), opt_value(s.addr_max, t), opt_value(s.port_min, t),
                         opt_value(s.port_max, t), s.nat_flags);
    }
    case StmtKind::Reject: return fmt::format("reject type {} code {}", s.reject_type, s.reject_code);
    case StmtKind::Notrack: return "notrack";
    case StmtKind::SetUpdate: {
      static const char* ops[] = {"add", "update", "delete"};
      std::string out = fmt::format("{} {} {}", ops[static_cast<int>(s.set_op)], set_name(t, s.set), opt_value(s.value, t));
      if (s.data) out += " : " + value_text(*s.data, t);
      if (s.timeout_ms) out += fmt::format(" timeout {}ms", *s.timeout_ms);
      for (auto& i : s.inner) out += " [" + stmt_text(i, t) + "]";
      return out;
    }
    case StmtKind::ObjRef: return s.name + " " + (s.obj >= 0 && t ? t->objects[s.obj].name : "?");
    case StmtKind::Dup: return fmt::format("dup {} {}", opt_value(s.value, t), opt_value(s.data, t));
    case StmtKind::Fwd: return fmt::format("fwd {} {}", opt_value(s.value, t), opt_value(s.data, t));
    case StmtKind::Last: return "last";
  }
  return "?";
}

}  // namespace

std::string print_value(const Value& v) { return value_text(v, nullptr); }
std::string print_predicate(const Predicate& p) { return predicate_text(p, nullptr); }

std::string print_program(const Program& p) {
  std::string out;
  for (const Table& t : p.tables) {
    out += fmt::format("table {} {} (handle {}){}\n", family_name(t.family), t.name, t.handle, t.dormant ? " dormant" : "");
    for (const Set& s : t.sets) {
      out += fmt::format("  set {} (handle {}) key {}B{}{}{}{}: {} elements\n", s.name, s.handle, s.key_len,
                         s.is_map ? fmt::format(" data {}B", s.data_len) : "", s.verdict_map ? " verdicts" : "",
                         s.interval ? " interval" : "", s.dynamic ? " dynamic" : "", s.elements.size());
    }
    for (const Object& o : t.objects) out += fmt::format("  {} {} (handle {})\n", o.type, o.name, o.handle);
    for (const Chain& c : t.chains) {
      out += fmt::format("  chain {} (handle {})", c.name, c.handle);
      if (c.base)
        out += fmt::format(" type {} hook {} priority {} policy {}", c.type, c.hook, c.priority,
                           c.policy_drop ? "drop" : "accept");
      out += "\n";
      for (const Rule& r : c.rules) {
        out += fmt::format("    rule {}{}{}\n", r.handle, r.source.empty() ? "" : " at " + r.source,
                           r.comment.empty() ? "" : " comment \"" + r.comment + "\"");
        for (const Stmt& s : r.stmts) out += "      " + stmt_text(s, &t) + "\n";
      }
    }
  }
  return out;
}

}  // namespace nfx::ir
