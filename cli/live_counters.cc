// `nfx ctl list ruleset`: the ruleset as loaded, with the counters as they
// stand in the running interpreter (the IR keeps the ruleset's names and
// rule handles, so each rule finds its counters by them).
#include "run_service.h"

#include <map>
#include <tuple>

namespace nfx::cli {

namespace {

// nft's get_rate: the largest of bytes, kbytes, mbytes that divides it.
std::pair<uint64_t, const char*> in_data_unit(uint64_t bytes) {
  static const char* const kUnits[] = {"bytes", "kbytes", "mbytes"};
  size_t i = 0;
  while (bytes && i + 1 < 3 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++i;
  }
  return {bytes, kUnits[i]};
}

// A quota's `used` as nft lists it: left out while nothing is used.
void set_used(std::map<std::string, std::string>& opts, uint64_t used, bool unit_apart) {
  opts.erase("used");
  opts.erase("used_unit");
  if (!used) return;
  auto [n, unit] = in_data_unit(used);
  if (unit_apart) {
    opts["used"] = std::to_string(n);
    opts["used_unit"] = unit;
  } else {
    opts["used"] = std::to_string(n) + " " + unit;
  }
}

}  // namespace

void copy_live_counters(const vm::Interpreter& vm, Ruleset& rs) {
  const ir::Program& prog = vm.program();
  using Key = std::tuple<std::string, std::string, std::string, uint64_t>;  // family, table, chain, handle
  std::map<Key, std::tuple<size_t, size_t, size_t>> rules;
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<size_t, size_t>> objects;
  for (size_t t = 0; t < prog.tables.size(); ++t) {
    const ir::Table& table = prog.tables[t];
    const std::string fam = ir::family_name(table.family);
    for (size_t c = 0; c < table.chains.size(); ++c)
      for (size_t r = 0; r < table.chains[c].rules.size(); ++r)
        rules.try_emplace(Key{fam, table.name, table.chains[c].name, table.chains[c].rules[r].handle}, t, c, r);
    for (size_t o = 0; o < table.objects.size(); ++o)
      if (table.objects[o].type == "counter" || table.objects[o].type == "quota")
        objects[{fam, table.name, table.objects[o].name}] = {t, o};
  }
  for (TableDecl& table : rs.tables) {
    for (ChainDecl& chain : table.chains)
      for (Rule& rule : chain.rules) {
        auto it = rules.find(Key{table.family, table.name, chain.name, rule.handle});
        if (it == rules.end()) continue;
        auto [t, c, r] = it->second;
        // the anonymous counters, in order (named ones are listed with their objects)
        std::vector<vm::Interpreter::CounterValue> values = vm.rule_counters(t, c, r);
        std::vector<vm::Interpreter::CounterValue> anonymous;
        size_t k = 0;
        for (const ir::Stmt& s : prog.tables[t].chains[c].rules[r].stmts) {
          if (s.kind != ir::StmtKind::Counter) continue;
          if (s.obj < 0) anonymous.push_back(values[k]);
          ++k;
        }
        size_t next = 0;
        for (StmtPtr& s : rule.stmts) {
          if (s->kind != StmtKind::Counter || next >= anonymous.size()) continue;
          s->opts["packets"] = std::to_string(anonymous[next].packets);
          s->opts["bytes"] = std::to_string(anonymous[next].bytes);
          ++next;
        }
        // quota statements, in order (a named quota's is listed with its object)
        std::vector<uint64_t> all_used = vm.rule_quotas_used(t, c, r), used;
        k = 0;
        for (const ir::Stmt& s : prog.tables[t].chains[c].rules[r].stmts) {
          if (s.kind != ir::StmtKind::Quota) continue;
          if (s.obj < 0 && k < all_used.size()) used.push_back(all_used[k]);
          ++k;
        }
        next = 0;
        for (StmtPtr& s : rule.stmts)
          if (s->kind == StmtKind::Quota && next < used.size()) set_used(s->opts, used[next++], true);
      }
    for (ObjDecl& obj : table.objs) {
      auto it = objects.find({table.family, table.name, obj.name});
      if (it == objects.end()) continue;
      if (obj.type == "quota") {
        set_used(obj.opts, vm.object_quota_used(it->second.first, it->second.second), false);
        continue;
      }
      if (obj.type != "counter") continue;
      vm::Interpreter::CounterValue v = vm.object_counter(it->second.first, it->second.second);
      obj.opts["packets"] = std::to_string(v.packets);
      obj.opts["bytes"] = std::to_string(v.bytes);
    }
  }
}

}  // namespace nfx::cli
