#include "jit_side.h"

#include <fmt/format.h>

#include <memory>

#include "nfx_side.h"

namespace nfx::difftest {

std::string JitVariant::name() const {
  return fmt::format("{}, {}", opt_level < 0 ? std::string("-O by size") : fmt::format("-O{}", opt_level),
                     classify ? fmt::format("classifiers from {} rules", classify_min_rules) : std::string("no classifiers"));
}

JitVariant jit_variant(int k) {
  JitVariant v;
  switch (k % kJitVariants) {
    case 1: v.opt_level = 2, v.classify_min_rules = 1; break;
    case 2: v.opt_level = 0, v.classify_min_rules = 4; break;
    case 3: v.opt_level = 3, v.classify = false; break;
    default: break;
  }
  return v;
}

const char* pipeline_path_name(pipeline::Path p) {
  switch (p) {
    case pipeline::Path::Input: return "input";
    case pipeline::Path::Forward: return "forward";
    case pipeline::Path::Output: return "output";
    case pipeline::Path::Bridge: return "bridge";
  }
  return "?";
}

namespace {

// Every counter statement of every rule, in program order: names once,
// values after every frame.
std::vector<std::string> counter_names(const vm::Interpreter& vm) {
  std::vector<std::string> out;
  const ir::Program& p = vm.program();
  for (const ir::Table& t : p.tables)
    for (const ir::Chain& c : t.chains)
      for (const ir::Rule& rule : c.rules) {
        size_t k = 0;
        for (const ir::Stmt& s : rule.stmts) {
          if (s.kind != ir::StmtKind::Counter) continue;
          std::string what = s.obj >= 0 ? fmt::format("counter {}", t.objects[static_cast<size_t>(s.obj)].name)
                                        : fmt::format("counter #{}", k + 1);
          out.push_back(fmt::format("{} {} {} handle {} {}", ir::family_name(t.family), t.name, c.name, rule.handle, what));
          ++k;
        }
      }
  return out;
}

std::vector<vm::Interpreter::CounterValue> counter_values(const vm::Interpreter& vm) {
  std::vector<vm::Interpreter::CounterValue> out;
  const ir::Program& p = vm.program();
  for (size_t t = 0; t < p.tables.size(); ++t)
    for (size_t c = 0; c < p.tables[t].chains.size(); ++c)
      for (size_t r = 0; r < p.tables[t].chains[c].rules.size(); ++r) {
        auto values = vm.rule_counters(t, c, r);
        out.insert(out.end(), values.begin(), values.end());
      }
  return out;
}

bool same(const vm::Interpreter::CounterValue& a, const vm::Interpreter::CounterValue& b) {
  return a.packets == b.packets && a.bytes == b.bytes;
}

std::string verdict_text(ir::VerdictCode v) {
  switch (v) {
    case ir::VerdictCode::Accept: return "accept";
    case ir::VerdictCode::Drop: return "drop";
    case ir::VerdictCode::Stolen: return "stolen";
    case ir::VerdictCode::Queue: return "queue";
    default: return fmt::format("verdict {}", static_cast<int>(v));
  }
}

std::string decision_text(const vm::Decision& d) {
  if (d.chain.empty()) return fmt::format("{} (no chain ran)", verdict_text(d.verdict));
  if (d.by_policy) return fmt::format("{} by the policy of {} {} {}", verdict_text(d.verdict), d.family, d.table, d.chain);
  return fmt::format("{} by {} {} {} rule handle {}", verdict_text(d.verdict), d.family, d.table, d.chain, d.handle);
}

bool same_decision(const vm::Decision& a, const vm::Decision& b) {
  return a.verdict == b.verdict && a.by_policy == b.by_policy && a.family == b.family && a.table == b.table &&
         a.chain == b.chain && (a.by_policy || a.handle == b.handle) && a.log == b.log;
}

Bytes bytes_of(const packet::Frame& f) { return Bytes(f.data(), f.data() + f.size()); }

// What the two runs of one frame show differently ("" when nothing).
void compare_frame(size_t i, const pipeline::PathResult& a, const vm::Packet& pa, const pipeline::PathResult& b,
                   const vm::Packet& pb, std::vector<Mismatch>& out) {
  auto add = [&](std::string what) { out.push_back({i, std::move(what)}); };
  if (a.accepted != b.accepted)
    add(fmt::format("interpreter {}, jit {}", a.accepted ? "got through" : "dropped", b.accepted ? "got through" : "dropped"));
  if (a.dropped_before != b.dropped_before)
    add(fmt::format("dropped before the hooks: interpreter '{}', jit '{}'", a.dropped_before, b.dropped_before));
  for (size_t h = 0; h < std::max(a.hooks.size(), b.hooks.size()); ++h) {
    if (h >= a.hooks.size() || h >= b.hooks.size()) {
      add(fmt::format("the interpreter ran {} hooks, the jit {}", a.hooks.size(), b.hooks.size()));
      break;
    }
    const vm::Decision &x = a.hooks[h], &y = b.hooks[h];
    if (!same_decision(x, y)) {
      std::string what = fmt::format("hook {}: interpreter {}, jit {}", h + 1, decision_text(x), decision_text(y));
      if (x.log != y.log) what += fmt::format(" (log: interpreter {} lines, jit {})", x.log.size(), y.log.size());
      add(what);
      break;  // the later hooks follow from it
    }
  }
  if (a.replies.size() != b.replies.size()) {
    add(fmt::format("the interpreter sent {} replies, the jit {}", a.replies.size(), b.replies.size()));
  } else {
    for (size_t j = 0; j < a.replies.size(); ++j)
      if (bytes_of(a.replies[j]) != bytes_of(b.replies[j]))
        add(fmt::format("reply {} differs:\n      interpreter {}\n      jit         {}", j + 1, hex(bytes_of(a.replies[j])),
                        hex(bytes_of(b.replies[j]))));
  }
  if (bytes_of(pa.frame) != bytes_of(pb.frame))
    add(fmt::format("the frame after the path differs:\n      interpreter {}\n      jit         {}", hex(bytes_of(pa.frame)),
                    hex(bytes_of(pb.frame))));
  const vm::PacketMeta &ma = pa.meta, &mb = pb.meta;
  if (ma.mark != mb.mark || ma.priority != mb.priority || ma.pkttype != mb.pkttype || ma.nftrace != mb.nftrace)
    add(fmt::format("meta after the path: interpreter mark {:#x} priority {:#x} pkttype {} nftrace {}, "
                    "jit mark {:#x} priority {:#x} pkttype {} nftrace {}",
                    ma.mark, ma.priority, ma.pkttype, ma.nftrace, mb.mark, mb.priority, mb.pkttype, mb.nftrace));
}

std::unique_ptr<vm::Interpreter> load_program(ir::Program prog, uint64_t seed, std::string& error) {
  std::vector<std::string> errors;
  auto vm = vm::Interpreter::load(std::move(prog), errors, seed);
  for (const auto& e : errors) error += e + "\n";
  return vm;
}

}  // namespace

JitCaseResult run_jit_case(const std::string& ruleset_file, const std::vector<Bytes>& frames, pipeline::Path path,
                           const JitVariant& variant, uint64_t seed) {
  JitCaseResult res;
  ir::Program prog;
  if (!lower_file(ruleset_file, prog, res.error)) return res;
  auto interp = load_program(prog, seed, res.error);
  auto native = interp ? load_program(std::move(prog), seed, res.error) : nullptr;
  if (!interp || !native) return res;
  jit::Options opts;
  opts.opt_level = variant.opt_level;
  opts.classify = variant.classify;
  opts.classify_min_rules = variant.classify_min_rules;
  try {
    native->install_native(jit::compile(*native, opts, &res.stats));
  } catch (const std::exception& e) {
    res.error = fmt::format("the jit failed: {}", e.what());
    return res;
  }
  if (!native->native_installed()) {
    res.error = "no native code installed";
    return res;
  }
  const std::vector<std::string> names = counter_names(*interp);
  bool counters_differ = false;
  for (size_t i = 0; i < frames.size(); ++i) {
    vm::Packet pa = make_packet(frames[i], i), pb = make_packet(frames[i], i);
    pipeline::PathResult ra = pipeline::run_path(*interp, path, pa, tap0(), tap1());
    pipeline::PathResult rb = pipeline::run_path(*native, path, pb, tap0(), tap1());
    ++res.frames;
    res.accepted += ra.accepted;
    res.hooks += ra.hooks.size();
    compare_frame(i, ra, pa, rb, pb, res.mismatches);
    // Counters after every frame until they first differ: the frame that
    // made them differ is named.
    if (!counters_differ) {
      auto ca = counter_values(*interp), cb = counter_values(*native);
      for (size_t k = 0; k < ca.size() && k < cb.size(); ++k)
        if (!same(ca[k], cb[k])) {
          res.mismatches.push_back({i, fmt::format("{} first differs: interpreter {} packets {} bytes, jit {} packets {} bytes",
                                                   names.at(k), ca[k].packets, ca[k].bytes, cb[k].packets, cb[k].bytes)});
          counters_differ = true;
        }
    }
  }
  // After the run: every counter.
  auto ca = counter_values(*interp), cb = counter_values(*native);
  res.counters = ca.size();
  for (size_t k = 0; k < ca.size(); ++k)
    if (!same(ca[k], cb[k]))
      res.mismatches.push_back({SIZE_MAX, fmt::format("after the run, {}: interpreter {} packets {} bytes, jit {} packets {} bytes",
                                                      names.at(k), ca[k].packets, ca[k].bytes, cb[k].packets, cb[k].bytes)});
  return res;
}

}  // namespace nfx::difftest
