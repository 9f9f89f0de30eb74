// Tables, chains, sets and named objects into the IR, keeping the handles
// the kernel assigned (apply.cc) and each rule's source location.
#include <fmt/format.h>

#include "lower.h"
#include "selectors.h"

namespace nfx {

namespace {

uint64_t opt_number(const ObjDecl& o, const char* key, uint64_t dflt = 0) {
  auto it = o.opts.find(key);
  return it == o.opts.end() ? dflt : std::strtoull(it->second.c_str(), nullptr, 0);
}

bool lower_object(lower::Context& ctx, const ObjDecl& o, ir::Object& out) {
  out.type = o.type;
  out.name = o.name;
  out.handle = o.handle;
  if (o.type == "counter") {
    out.packets = opt_number(o, "packets");
    out.bytes = opt_number(o, "bytes");
  } else if (o.type == "quota") {
    ir::Stmt q;
    lower::lower_quota(o.opts, q);
    out.quota_bytes = q.quota_bytes;
    out.quota_used = q.quota_used;
    out.over = q.over;
  } else if (o.type == "limit") {
    ir::Stmt l;
    lower::lower_limit(o.opts, l);
    out.rate = l.rate;
    out.unit_seconds = l.unit_seconds;
    out.burst = l.burst;
    out.limit_bytes = l.limit_bytes;
    out.over = l.over;
  } else if (o.type == "ct helper") {
    // type "ftp" protocol tcp [l3proto ...]: the helper's name and protocol
    auto type = o.opts.find("type");
    auto proto = o.opts.find("protocol");
    if (type != o.opts.end()) {
      out.helper = type->second;
      if (out.helper.size() >= 2 && out.helper.front() == '"') out.helper = out.helper.substr(1, out.helper.size() - 2);
    }
    if (proto != o.opts.end()) out.l4proto = proto->second == "tcp" ? 6 : proto->second == "udp" ? 17 : 0;
  } else {
    return lower::unsupported(ctx, o.loc, o.type + " objects");
  }
  return true;
}

std::string source_of(const SourceLoc& loc) {
  if (!loc.valid()) return {};
  return fmt::format("{}:{}:{}", loc.file ? *loc.file : "<input>", loc.first_line, loc.first_col);
}

bool lower_table(const TableDecl& t, ir::Table& out, Diagnostics& diags) {
  if (!ir::family_from_name(t.family, out.family)) {
    diags.error(t.loc, "unknown family " + t.family);
    return false;
  }
  out.name = t.name;
  out.handle = t.handle;
  for (const auto& f : t.flags) out.dormant |= f == "dormant";
  lower::Context ctx{diags, t, out, {}, {}, {}, 0};
  bool ok = true;
  for (const ChainDecl& c : t.chains) ctx.chain_index[c.name] = static_cast<int>(ctx.chain_index.size());
  for (const ObjDecl& o : t.objs) {
    ir::Object obj;
    if (!lower_object(ctx, o, obj)) {
      ok = false;
      continue;
    }
    ctx.object_index[o.type + " " + o.name] = static_cast<int>(out.objects.size());
    out.objects.push_back(std::move(obj));
  }
  for (const SetDecl& s : t.sets) {
    ir::Set set;
    if (!lower::lower_set_decl(ctx, s, set)) {
      ok = false;
      continue;
    }
    ctx.set_index[s.name] = static_cast<int>(out.sets.size());
    out.sets.push_back(std::move(set));
  }
  for (const ChainDecl& c : t.chains) {
    ir::Chain chain;
    chain.name = c.name;
    chain.handle = c.handle;
    chain.base = c.hook.has_value();
    if (chain.base) {
      chain.type = c.type.value_or("filter");
      chain.hook = *c.hook;
      chain.priority = static_cast<int>(chain_priority_value(t.family, chain.hook, c.priority.get()));
      chain.policy_drop = c.policy && *c.policy == "drop";
      for (auto d : c.devices) {
        if (d.size() >= 2 && d.front() == '"') d = d.substr(1, d.size() - 2);
        chain.devices.push_back(d);
      }
    }
    for (const Rule& r : c.rules) {
      ir::Rule rule;
      rule.handle = r.handle;
      rule.comment = r.comment.value_or("");
      rule.source = source_of(r.loc);
      lower::RuleState st;
      ctx.rule = &st;
      ctx.rule_stmts = &rule.stmts;
      for (const StmtPtr& s : r.stmts) ok &= lower::lower_stmt(ctx, st, *s, rule.stmts);
      ctx.rule = nullptr;
      ctx.rule_stmts = nullptr;
      chain.rules.push_back(std::move(rule));
    }
    out.chains.push_back(std::move(chain));
  }
  return ok;
}

}  // namespace

bool lower_ruleset(const Ruleset& rs, ir::Program& out, Diagnostics& diags) {
  bool ok = true;
  for (const TableDecl& t : rs.tables) {
    ir::Table table;
    ok &= lower_table(t, table, diags);
    out.tables.push_back(std::move(table));
  }
  return ok;
}

}  // namespace nfx
