// `nfx ctl list ruleset`: the elements of the sets the packet path changes
// (flags dynamic or timeout) as they stand in the running interpreter, as
// `nft list ruleset` shows them: each element's statements with their
// counters, its timeout where it is not the set's, and the time left before
// it expires.
#include <fmt/format.h>

#include "print.h"
#include "run_service.h"
#include "types.h"

#include <map>

namespace nfx::cli {

namespace {

// nft's time_print: 1d2h3m4s5ms, units that are zero left out.
std::string duration_text(uint64_t ms) {
  static const std::pair<uint64_t, const char*> kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}};
  std::string out;
  for (auto [size, unit] : kUnits) {
    if (ms >= size) out += fmt::format("{}{}", ms / size, unit);
    ms %= size;
  }
  return out.empty() ? "0ms" : out;
}

struct Field {
  std::string dtype;
  unsigned bits = 0;
};

// The key's (or the data's) fields: typeof expressions' types, or the
// named types, sized by the IR's field lengths.
std::vector<Field> fields_of(const std::vector<ExprPtr>& typeof_exprs, const std::vector<std::string>& types,
                             const std::vector<uint32_t>& field_len, uint32_t whole_len) {
  std::vector<Field> out;
  if (!typeof_exprs.empty()) {
    for (const ExprPtr& e : typeof_exprs) out.push_back({e ? e->dtype : std::string(), 0});
  } else {
    for (const std::string& t : types) out.push_back({t, 0});
  }
  for (size_t i = 0; i < out.size(); ++i)
    out[i].bits = 8 * (i < field_len.size() ? field_len[i] : whole_len);
  return out;
}

// The value `bytes` holds (canonical: big-endian fields, each padded to 4
// bytes in a concatenation), or nullptr when it does not fit the fields.
ExprPtr value_expr(const std::vector<Field>& fields, const ir::Bytes& bytes) {
  std::vector<ExprPtr> parts;
  size_t at = 0;
  for (const Field& f : fields) {
    const size_t len = f.bits / 8;
    if (at + len > bytes.size() || !find_datatype(f.dtype)) return nullptr;
    ExprPtr v = make_expr(ExprKind::Value, {});
    v->dtype = f.dtype;
    v->bits = f.bits;
    v->bytes.assign(bytes.begin() + static_cast<long>(at), bytes.begin() + static_cast<long>(at + len));
    parts.push_back(v);
    at += fields.size() > 1 ? (len + 3) / 4 * 4 : len;
  }
  if (parts.size() == 1) return parts[0];
  ExprPtr c = make_expr(ExprKind::Concat, {});
  c->kids = std::move(parts);
  return c;
}

// The statement of the ruleset that made elements with per-element
// statements `inner` (the IR's), found by its rule's handle: its AST
// statement, whose templates print the element's statements.
const Stmt* source_statement(const ir::Table& it, const TableDecl& table, const std::vector<ir::Stmt>* inner) {
  if (!inner) return nullptr;
  for (const ir::Chain& ic : it.chains)
    for (const ir::Rule& ir_rule : ic.rules) {
      size_t nth = 0;
      bool found = false;
      for (const ir::Stmt& s : ir_rule.stmts) {
        if (&s.inner == inner) {
          found = true;
          break;
        }
        if (s.kind == ir::StmtKind::SetUpdate) ++nth;
      }
      if (!found) continue;
      for (const ChainDecl& c : table.chains) {
        if (c.name != ic.name) continue;
        for (const Rule& r : c.rules) {
          if (r.handle != ir_rule.handle) continue;
          for (const StmtPtr& s : r.stmts)
            if (s && (s->kind == StmtKind::SetStmt || s->kind == StmtKind::MapStmt) && nth-- == 0) return s.get();
        }
      }
      return nullptr;
    }
  return nullptr;
}

// The element's statements as `nft list` prints them: the source
// statement's templates with the element's own counter values.
std::vector<std::string> element_statements(const Stmt* source, const std::vector<vm::Interpreter::CounterValue>& counters) {
  std::vector<std::string> out;
  if (!source) return out;
  size_t next = 0;
  for (const StmtPtr& t : source->inner) {
    if (!t || t->name == "timeout") continue;
    Stmt s = *t;
    if (s.kind == StmtKind::Counter && next < counters.size()) {
      s.opts["packets"] = std::to_string(counters[next].packets);
      s.opts["bytes"] = std::to_string(counters[next].bytes);
      ++next;
    }
    out.push_back(print_stmt(s, PrintOptions{}));
  }
  return out;
}

}  // namespace

void copy_live_sets(const vm::Interpreter& vm, Ruleset& rs, uint64_t now_ns) {
  const ir::Program& prog = vm.program();
  for (size_t t = 0; t < prog.tables.size(); ++t) {
    const ir::Table& it = prog.tables[t];
    TableDecl* table = nullptr;
    for (TableDecl& td : rs.tables)
      if (td.family == ir::family_name(it.family) && td.name == it.name) table = &td;
    if (!table) continue;
    for (size_t si = 0; si < it.sets.size(); ++si) {
      const ir::Set& set = it.sets[si];
      if (set.anonymous || set.interval || set.verdict_map || !(set.dynamic || set.has_timeout)) continue;
      SetDecl* decl = nullptr;
      for (SetDecl& sd : table->sets)
        if (sd.name == set.name) decl = &sd;
      if (!decl) continue;
      const std::vector<Field> key =
          fields_of(decl->key_typeof, decl->key_types, set.field_len, set.key_len);
      const std::vector<Field> data = fields_of(decl->data_typeof, decl->data_types, {}, set.data_len);
      // comments stay with the elements the file gave
      std::map<std::string, std::string> comments;
      for (const ExprPtr& e : decl->elements) {
        const Expr* k = e.get();
        if (k && k->kind == ExprKind::Mapping && !k->kids.empty()) k = k->kids[0].get();
        if (k && k->kind == ExprKind::SetElem && !k->kids.empty() && k->elem.comment)
          comments[print_expr(*k->kids[0], PrintOptions{})] = *k->elem.comment;
      }
      // An element whose bytes do not decode (a type the printer lacks)
      // leaves the set as the file declared it rather than a part missing.
      std::vector<ExprPtr> elements;
      bool whole = true;
      for (const vm::Interpreter::SetElementValue& v : vm.set_elements(t, si, now_ns)) {
        ExprPtr k = v.catchall ? make_expr(ExprKind::Wildcard, {}) : value_expr(key, v.key);
        if (!k) {
          whole = false;
          break;
        }
        ExprPtr e = make_expr(ExprKind::SetElem, {});
        e->elem.stmts = element_statements(source_statement(it, *table, v.stmts), v.counters);
        if (v.timeout_ms && v.timeout_ms != set.timeout_ms) e->elem.timeout = duration_text(*v.timeout_ms);
        if (v.expires_ns) e->elem.expires = duration_text((v.expires_ns - now_ns) / 1'000'000);
        if (auto c = comments.find(print_expr(*k, PrintOptions{})); c != comments.end()) e->elem.comment = c->second;
        e->kids.push_back(std::move(k));
        if (set.is_map) {
          ExprPtr d = value_expr(data, v.data);
          if (!d) {
            whole = false;
            break;
          }
          ExprPtr m = make_expr(ExprKind::Mapping, {});
          m->kids = {e, d};
          e = m;
        }
        elements.push_back(std::move(e));
      }
      if (whole) decl->elements = std::move(elements);
    }
  }
}

}  // namespace nfx::cli
