// Applies parsed commands to a ruleset as one transaction, as the kernel
// does with nft's batch: everything checks out, or nothing changes.
#include <fmt/format.h>

#include <algorithm>

#include "constraints.h"
#include "eval.h"
#include "print.h"

namespace nfx {

namespace {

class Transaction {
 public:
  Transaction(Ruleset& rs, Diagnostics& diags) : rs_(rs), diags_(diags) {}

  void run(const Command& cmd);

 private:
  TableDecl* find_table(const std::string& family, const std::string& name) {
    for (auto& t : rs_.tables)
      if (t.family == family && t.name == name) return &t;
    return nullptr;
  }
  TableDecl* need_table(const Command& cmd) {
    TableDecl* t = find_table(fam(cmd), cmd.table);
    if (!t) diags_.error(cmd.loc, fmt::format("Could not process rule: No such file or directory\n"
                                              "table '{}' does not exist in family {}", cmd.table, fam(cmd)));
    return t;
  }
  static std::string fam(const Command& cmd) { return cmd.family.empty() ? "ip" : cmd.family; }
  static ChainDecl* find_chain(TableDecl& t, const std::string& name) {
    for (auto& c : t.chains)
      if (c.name == name) return &c;
    return nullptr;
  }
  static SetDecl* find_set(TableDecl& t, const std::string& name) {
    for (auto& s : t.sets)
      if (s.name == name) return &s;
    return nullptr;
  }

  void add_table(const Command& cmd, const TableDecl& decl, bool exclusive);
  void add_chain(TableDecl& t, const ChainDecl& decl, bool exclusive, const SourceLoc& loc);
  void add_rule(TableDecl& t, ChainDecl& c, Rule rule, const Command* cmd);
  void add_set(TableDecl& t, const SetDecl& decl, bool exclusive, const SourceLoc& loc);
  void add_obj(TableDecl& t, const ObjDecl& decl, bool exclusive, const SourceLoc& loc);
  void add_flowtable(TableDecl& t, const FlowtableDecl& decl, bool exclusive, const SourceLoc& loc);
  void add_elements(TableDecl& t, SetDecl& s, std::vector<ExprPtr> elems);
  void remove(const Command& cmd);
  void flush(const Command& cmd);

  Ruleset& rs_;
  Diagnostics& diags_;
};

// Deep copy so a failed transaction leaves the caller's ruleset untouched and
// evaluation can rewrite expressions in place.
ExprPtr clone(const ExprPtr& e) {
  if (!e) return nullptr;
  auto c = std::make_shared<Expr>(*e);
  for (auto& k : c->kids) k = clone(k);
  return c;
}

Rule clone(const Rule& r) {
  Rule out = r;
  for (auto& s : out.stmts) {
    s = std::make_shared<Stmt>(*s);
    for (auto& e : s->exprs) e = clone(e);
    for (auto& i : s->inner) i = std::make_shared<Stmt>(*i);
  }
  return out;
}

void Transaction::run(const Command& cmd) {
  bool exclusive = cmd.verb == Verb::Create;
  switch (cmd.verb) {
    case Verb::Add:
    case Verb::Create:
    case Verb::Insert:
    case Verb::Replace:
      break;
    case Verb::Delete:
    case Verb::Destroy:
      remove(cmd);
      return;
    case Verb::Flush:
      flush(cmd);
      return;
    case Verb::Rename: {
      TableDecl* t = need_table(cmd);
      if (!t) return;
      ChainDecl* c = find_chain(*t, cmd.chain);
      if (!c) { diags_.error(cmd.loc, "Could not process rule: No such file or directory"); return; }
      c->name = cmd.name;
      return;
    }
    default:
      return;  // list/reset/get have no effect on the ruleset text
  }
  switch (cmd.what) {
    case ObjKind::Table:
      add_table(cmd, *cmd.table_decl, exclusive);
      return;
    case ObjKind::Chain: {
      TableDecl* t = need_table(cmd);
      if (t) add_chain(*t, *cmd.chain_decl, exclusive, cmd.loc);
      return;
    }
    case ObjKind::Rule: {
      TableDecl* t = need_table(cmd);
      if (!t) return;
      ChainDecl* c = find_chain(*t, cmd.chain);
      if (!c) {
        diags_.error(cmd.loc, fmt::format("Could not process rule: No such file or directory\n"
                                          "chain '{}' does not exist", cmd.chain));
        return;
      }
      add_rule(*t, *c, clone(*cmd.rule), &cmd);
      return;
    }
    case ObjKind::Set:
    case ObjKind::Map: {
      TableDecl* t = need_table(cmd);
      if (t) add_set(*t, *cmd.set_decl, exclusive, cmd.loc);
      return;
    }
    case ObjKind::Element: {
      TableDecl* t = need_table(cmd);
      if (!t) return;
      SetDecl* s = find_set(*t, cmd.set);
      if (!s) {
        diags_.error(cmd.loc, fmt::format("Could not process rule: No such file or directory\n"
                                          "set '{}' does not exist", cmd.set));
        return;
      }
      std::vector<ExprPtr> elems;
      for (auto& e : cmd.elements) elems.push_back(clone(e));
      add_elements(*t, *s, std::move(elems));
      return;
    }
    case ObjKind::Obj: {
      TableDecl* t = need_table(cmd);
      if (t) add_obj(*t, *cmd.obj_decl, exclusive, cmd.loc);
      return;
    }
    case ObjKind::Flowtable: {
      TableDecl* t = need_table(cmd);
      if (t) add_flowtable(*t, *cmd.flowtable_decl, exclusive, cmd.loc);
      return;
    }
    default:
      return;
  }
}

void Transaction::add_table(const Command& cmd, const TableDecl& decl, bool exclusive) {
  TableDecl* t = find_table(fam(cmd), decl.name);
  if (t && exclusive) {
    diags_.error(cmd.loc, "Could not process rule: File exists");
    return;
  }
  if (!t) {
    TableDecl fresh;
    fresh.loc = decl.loc;
    fresh.family = fam(cmd);
    fresh.name = decl.name;
    fresh.handle = rs_.next_handle++;
    rs_.tables.push_back(std::move(fresh));
    t = &rs_.tables.back();
  }
  if (!decl.flags.empty()) t->flags = decl.flags;
  if (decl.comment) t->comment = decl.comment;
  // nft expands a table block into: chains, objects, sets, flowtables, then
  // rules; the kernel numbers them in that order (`nft -a list ruleset`).
  for (auto& c : decl.chains) {
    ChainDecl shell = c;
    shell.rules.clear();
    add_chain(*t, shell, false, c.loc);
  }
  for (auto& o : decl.objs) add_obj(*t, o, false, o.loc);
  for (auto& s : decl.sets) add_set(*t, s, false, s.loc);
  for (auto& f : decl.flowtables) add_flowtable(*t, f, false, f.loc);
  for (auto& c : decl.chains) {
    ChainDecl* chain = find_chain(*t, c.name);
    if (!chain) continue;
    for (auto& r : c.rules) add_rule(*t, *chain, clone(r), nullptr);
  }
}

void Transaction::add_chain(TableDecl& t, const ChainDecl& decl, bool exclusive, const SourceLoc& loc) {
  ChainDecl* c = find_chain(t, decl.name);
  if (c && exclusive) {
    diags_.error(loc, "Could not process rule: File exists");
    return;
  }
  if (decl.type && !decl.hook) {
    diags_.error(loc, "base chain needs a hook");
    return;
  }
  if (!c) {
    ChainDecl fresh = decl;
    fresh.rules.clear();
    fresh.handle = t.next_handle++;
    t.chains.push_back(std::move(fresh));
    c = &t.chains.back();
  } else {
    if (decl.type) { c->type = decl.type; c->hook = decl.hook; c->priority = decl.priority; c->devices = decl.devices; }
    if (decl.policy) c->policy = decl.policy;
    if (decl.comment) c->comment = decl.comment;
  }
  for (auto& r : decl.rules) add_rule(t, *c, clone(r), nullptr);
}

namespace {

// Whether nft keeps `{ ... }` as a set: more than one element, or one that
// is a concatenation (a single value, prefix or range becomes a compare).
bool kept_as_set(const Expr& set) {
  if (set.kids.size() > 1) return true;
  if (set.kids.empty() || !set.kids[0]) return false;
  const Expr* el = set.kids[0].get();
  if (el->kind == ExprKind::SetElem && !el->kids.empty() && el->kids[0]) el = el->kids[0].get();
  return el->kind == ExprKind::Concat;
}

// Anonymous sets the kernel creates for a rule: set lookups nft keeps as
// sets and every literal map or verdict map.
uint64_t count_anonymous_sets(const Expr& e) {
  uint64_t n = 0;
  if (e.kind == ExprKind::Relational && e.kids.size() == 2 && e.kids[1] && e.kids[1]->kind == ExprKind::Set &&
      kept_as_set(*e.kids[1]))
    n++;
  if (e.kind == ExprKind::Map && e.kids.size() == 2 && e.kids[1] && e.kids[1]->kind == ExprKind::Set) n++;
  for (const auto& k : e.kids)
    if (k) n += count_anonymous_sets(*k);
  return n;
}

uint64_t count_anonymous_sets(const Rule& rule) {
  uint64_t n = 0;
  for (const auto& s : rule.stmts)
    for (const auto& e : s->exprs)
      if (e) n += count_anonymous_sets(*e);
  return n;
}

}  // namespace

void Transaction::add_rule(TableDecl& t, ChainDecl& c, Rule rule, const Command* cmd) {
  EvalContext ctx{diags_, &t, t.family};
  if (!eval_rule(ctx, rule)) return;
  if (!check_rule_constraints(ctx, c, rule, cmd ? cmd->loc : rule.loc)) return;
  // A set the rule adds to, updates or deletes from: the kernel gives it a
  // size of 65535 if it has none (nft_dynset_init), and nft flags a set
  // (not a map) named by such a statement dynamic (NFT_SET_EVAL).
  for (const StmtPtr& st : rule.stmts) {
    if (!st || (st->kind != StmtKind::SetStmt && st->kind != StmtKind::MapStmt) || st->exprs.empty() || !st->exprs[0])
      continue;
    SetDecl* set = find_set(t, st->exprs[0]->text);
    if (!set) continue;
    if (!set->size) set->size = 65535;
    if (st->kind == StmtKind::SetStmt && std::find(set->flags.begin(), set->flags.end(), "dynamic") == set->flags.end())
      set->flags.push_back("dynamic");
  }
  // Each anonymous set or map the rule creates takes a handle first.
  t.next_handle += count_anonymous_sets(rule);
  rule.handle = t.next_handle++;
  auto& rules = c.rules;
  if (!cmd) { rules.push_back(std::move(rule)); return; }
  auto find_handle = [&](uint64_t h) {
    return std::find_if(rules.begin(), rules.end(), [&](const Rule& r) { return r.handle == h; });
  };
  if (cmd->verb == Verb::Replace) {
    auto it = find_handle(*cmd->handle);
    if (it == rules.end()) { diags_.error(cmd->loc, "Could not process rule: No such file or directory"); return; }
    rule.handle = it->handle;
    *it = std::move(rule);
    return;
  }
  bool insert = cmd->verb == Verb::Insert;
  if (cmd->position || cmd->handle) {
    auto it = find_handle(cmd->position ? *cmd->position : *cmd->handle);
    if (it == rules.end()) { diags_.error(cmd->loc, "Could not process rule: No such file or directory"); return; }
    rules.insert(insert ? it : it + 1, std::move(rule));
  } else if (cmd->index) {
    if (*cmd->index > rules.size()) { diags_.error(cmd->loc, "Could not process rule: No such file or directory"); return; }
    rules.insert(rules.begin() + *cmd->index + (insert ? 0 : 1), std::move(rule));
  } else if (insert) {
    rules.insert(rules.begin(), std::move(rule));
  } else {
    rules.push_back(std::move(rule));
  }
}

void Transaction::add_set(TableDecl& t, const SetDecl& decl, bool exclusive, const SourceLoc& loc) {
  SetDecl* s = find_set(t, decl.name);
  if (s && exclusive) {
    diags_.error(loc, "Could not process rule: File exists");
    return;
  }
  if (decl.key_types.empty() && decl.key_typeof.empty() && !s) {
    diags_.error(loc, fmt::format("set definition does not specify key"));
    return;
  }
  if (!s) {
    SetDecl fresh = decl;
    fresh.elements.clear();
    for (auto& e : fresh.key_typeof) e = clone(e);
    for (auto& e : fresh.data_typeof) e = clone(e);
    EvalContext ctx{diags_, &t, t.family};
    std::vector<ExprPtr> none;
    eval_elements(ctx, fresh, none);  // types the typeof expressions
    fresh.handle = t.next_handle++;
    t.sets.push_back(std::move(fresh));
    s = &t.sets.back();
  }
  std::vector<ExprPtr> elems;
  for (auto& e : decl.elements) elems.push_back(clone(e));
  add_elements(t, *s, std::move(elems));
}

void Transaction::add_elements(TableDecl& t, SetDecl& s, std::vector<ExprPtr> elems) {
  EvalContext ctx{diags_, &t, t.family};
  if (!eval_elements(ctx, s, elems)) return;
  if (!check_element_constraints(ctx, s, elems)) return;
  for (auto& e : elems) s.elements.push_back(std::move(e));
}

void Transaction::add_obj(TableDecl& t, const ObjDecl& decl, bool exclusive, const SourceLoc& loc) {
  EvalContext ctx{diags_, &t, t.family};
  if (!check_obj_constraints(ctx, decl)) return;
  for (auto& o : t.objs)
    if (o.type == decl.type && o.name == decl.name) {
      if (exclusive) diags_.error(loc, "Could not process rule: File exists");
      return;
    }
  ObjDecl fresh = decl;
  fresh.handle = t.next_handle++;
  t.objs.push_back(std::move(fresh));
}

void Transaction::add_flowtable(TableDecl& t, const FlowtableDecl& decl, bool exclusive, const SourceLoc& loc) {
  for (auto& f : t.flowtables)
    if (f.name == decl.name) {
      if (exclusive) diags_.error(loc, "Could not process rule: File exists");
      return;
    }
  FlowtableDecl fresh = decl;
  fresh.handle = t.next_handle++;
  t.flowtables.push_back(std::move(fresh));
}

void Transaction::remove(const Command& cmd) {
  bool quiet = cmd.verb == Verb::Destroy;
  auto missing = [&] { if (!quiet) diags_.error(cmd.loc, "Could not process rule: No such file or directory"); };
  auto& tables = rs_.tables;
  if (cmd.what == ObjKind::Table) {
    auto it = std::find_if(tables.begin(), tables.end(), [&](const TableDecl& t) {
      return t.family == fam(cmd) && (cmd.handle ? t.handle == *cmd.handle : t.name == cmd.table);
    });
    if (it == tables.end()) return missing();
    tables.erase(it);
    return;
  }
  TableDecl* t = find_table(fam(cmd), cmd.table);
  if (!t) return missing();
  auto erase_if = [&](auto& vec, auto pred) {
    auto it = std::find_if(vec.begin(), vec.end(), pred);
    if (it == vec.end()) return missing();
    vec.erase(it);
  };
  switch (cmd.what) {
    case ObjKind::Chain:
      erase_if(t->chains, [&](const ChainDecl& c) { return cmd.handle ? c.handle == *cmd.handle : c.name == cmd.chain; });
      break;
    case ObjKind::Rule: {
      ChainDecl* c = find_chain(*t, cmd.chain);
      if (!c) return missing();
      erase_if(c->rules, [&](const Rule& r) { return cmd.handle && r.handle == *cmd.handle; });
      break;
    }
    case ObjKind::Set:
    case ObjKind::Map:
      erase_if(t->sets, [&](const SetDecl& s) { return cmd.handle ? s.handle == *cmd.handle : s.name == cmd.set; });
      break;
    case ObjKind::Element: {
      SetDecl* s = find_set(*t, cmd.set);
      if (!s) return missing();
      EvalContext ctx{diags_, t, t->family};
      std::vector<ExprPtr> elems;
      for (auto& e : cmd.elements) elems.push_back(clone(e));
      if (!eval_elements(ctx, *s, elems)) return;
      PrintOptions po;
      for (auto& e : elems) {
        std::string key = print_expr(*e, po);
        auto it = std::find_if(s->elements.begin(), s->elements.end(),
                               [&](const ExprPtr& x) { return print_expr(*x, po) == key; });
        if (it == s->elements.end()) { missing(); continue; }
        s->elements.erase(it);
      }
      break;
    }
    case ObjKind::Flowtable:
      erase_if(t->flowtables, [&](const FlowtableDecl& f) { return cmd.handle ? f.handle == *cmd.handle : f.name == cmd.name; });
      break;
    case ObjKind::Obj:
      erase_if(t->objs, [&](const ObjDecl& o) {
        return o.type == cmd.obj_type && (cmd.handle ? o.handle == *cmd.handle : o.name == cmd.name);
      });
      break;
    default:
      break;
  }
}

void Transaction::flush(const Command& cmd) {
  if (cmd.what == ObjKind::Ruleset) {
    if (cmd.family.empty()) rs_.tables.clear();
    else std::erase_if(rs_.tables, [&](const TableDecl& t) { return t.family == cmd.family; });
    return;
  }
  TableDecl* t = need_table(cmd);
  if (!t) return;
  switch (cmd.what) {
    case ObjKind::Table:
      for (auto& c : t->chains) c.rules.clear();
      for (auto& s : t->sets) s.elements.clear();
      break;
    case ObjKind::Chain: {
      ChainDecl* c = find_chain(*t, cmd.chain);
      if (!c) { diags_.error(cmd.loc, "Could not process rule: No such file or directory"); return; }
      c->rules.clear();
      break;
    }
    case ObjKind::Set:
    case ObjKind::Map: {
      SetDecl* s = find_set(*t, cmd.set);
      if (!s) { diags_.error(cmd.loc, "Could not process rule: No such file or directory"); return; }
      s->elements.clear();
      break;
    }
    default:
      break;
  }
}

}  // namespace

bool apply_script(const Script& script, Ruleset& rs, Diagnostics& diags) {
  Ruleset work = rs;
  // tables hold shared expression pointers; evaluation only rewrites fresh clones
  Transaction tx(work, diags);
  for (const auto& cmd : script.commands) tx.run(cmd);
  if (diags.has_errors()) return false;
  rs = std::move(work);
  return true;
}

}  // namespace nfx
