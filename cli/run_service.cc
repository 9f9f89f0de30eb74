#include "run_service.h"

#include "ruleset_file.h"

#include <fmt/format.h>

#include <sstream>

namespace nfx::cli {

// A loaded ruleset: its model (for listings), its interpreter, and the
// compile that turns it native while the interpreter serves.
struct RulesetService::Loaded {
  std::string file;
  Ruleset rs;
  std::shared_ptr<vm::Interpreter> vm;
  std::unique_ptr<jit::Tier> tier;
  ~Loaded() { tier.reset(); }  // the compile refers to the interpreter: it ends first
};

RulesetService::RulesetService(std::string file, ParseOptions popts, bool jit)
    : file_(std::move(file)), popts_(std::move(popts)), jit_(jit) {}

RulesetService::~RulesetService() = default;

std::unique_ptr<RulesetService::Loaded> RulesetService::load(const std::string& file, std::string& errors) {
  auto next = std::make_unique<Loaded>();
  next->file = file;
  if (!load_ruleset_file(file, popts_, next->rs, errors)) return nullptr;
  ir::Program prog;
  Diagnostics diags;
  if (!lower_ruleset(next->rs, prog, diags)) {
    errors += diags.format();
    return nullptr;
  }
  std::vector<std::string> load_errors;
  std::unique_ptr<vm::Interpreter> vm = vm::Interpreter::load(std::move(prog), load_errors);
  if (!vm) {
    for (const std::string& e : load_errors) errors += "Error: " + e + "\n";
    return nullptr;
  }
  next->vm = std::move(vm);
  return next;
}

std::unique_ptr<RulesetService::Loaded> RulesetService::install(std::unique_ptr<Loaded> next,
                                                                router::Element& element) {
  next->vm->start_clock(daemon::Runner::now_ns());  // elements with a timeout count from now
  element.set_ruleset(next->vm);  // the caller holds the element
  if (jit_) next->tier = std::make_unique<jit::Tier>(*next->vm);
  std::unique_ptr<Loaded> old = std::move(current_);
  current_ = std::move(next);
  ++loads_;
  return old;
}

bool RulesetService::start(router::Element& element, std::string& errors) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::unique_ptr<Loaded> first = load(file_, errors);
  if (!first) return false;
  install(std::move(first), element);
  return true;
}

daemon::Answer RulesetService::handle(const std::string& command, daemon::Runner& runner) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::istringstream in(command);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  const std::string verb = words.empty() ? "" : words[0];
  const std::string what = words.size() > 1 ? words[1] : "";
  if (verb == "reload" && words.size() <= 2) return reload(words.size() == 2 ? words[1] : file_, runner);
  if (verb == "list" && what == "ruleset" && words.size() == 2) return list_ruleset(runner);
  if (verb == "list" && what == "conntrack" && words.size() == 2) {
    return runner.with_element([&](router::Element& e) {
      uint64_t now = daemon::Runner::now_ns();
      std::string out;
      for (const std::string& l : e.ruleset()->conntrack().list(now)) out += l + "\n";
      return daemon::Answer{true, out};
    });
  }
  if (verb == "list" && (what == "neighbours" || what == "neighbors") && words.size() == 2) {
    return runner.with_element([&](router::Element& e) {
      std::string out;
      for (const std::string& l : e.neighbours(daemon::Runner::now_ns())) out += l + "\n";
      return daemon::Answer{true, out};
    });
  }
  if (verb == "flush" && what == "conntrack" && words.size() == 2) {
    return runner.with_element([&](router::Element& e) {
      size_t n = e.ruleset()->conntrack().size();
      e.ruleset()->conntrack().flush();
      return daemon::Answer{true, fmt::format("conntrack: {} flow entries have been deleted.\n", n)};
    });
  }
  if (verb == "stats" && words.size() == 1) return stats(runner);
  return {false, fmt::format("Error: unknown command '{}' (reload [FILE], list ruleset, list conntrack, list "
                             "neighbours, flush conntrack, stats)\n",
                             command)};
}

daemon::Answer RulesetService::reload(const std::string& file, daemon::Runner& runner) {
  std::string errors;
  // parsed, checked and loaded beside the running one: an error changes nothing
  std::unique_ptr<Loaded> next = load(file, errors);
  if (!next) return {false, errors.empty() ? "Error: the ruleset did not load\n" : errors};
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Loaded> old;
  runner.with_element([&](router::Element& e) {
    old = install(std::move(next), e);
    return 0;
  });
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  old.reset();  // outside the element: waits for its compile, then frees its interpreter
  return {true, fmt::format("reloaded {} (switched in {:.1f} ms; connection tracking kept)\n", file, ms)};
}

daemon::Answer RulesetService::list_ruleset(daemon::Runner& runner) {
  runner.with_element([&](router::Element&) {
    copy_live_counters(*current_->vm, current_->rs);
    copy_live_sets(*current_->vm, current_->rs, daemon::Runner::now_ns());
    return 0;
  });
  return {true, print_ruleset(current_->rs, PrintOptions{})};
}

std::string RulesetService::jit_state() const {
  if (!jit_) return "off (interpreter)";
  const jit::Tier& tier = *current_->tier;
  if (!tier.done()) return "compiling (the interpreter runs meanwhile)";
  if (tier.failed()) return "failed, the interpreter runs: " + tier.error();
  return fmt::format("native ({} chains, {} rules compiled in {:.1f} ms)", tier.stats().chains,
                     tier.stats().rules, tier.stats().total_ms());
}

daemon::Answer RulesetService::stats(daemon::Runner& runner) {
  router::Stats s;
  std::vector<std::string> names;
  size_t entries = 0;
  runner.with_element([&](router::Element& e) {
    s = e.stats();
    entries = e.ruleset()->conntrack().size();
    for (uint32_t p = 0; p < e.port_count(); ++p) names.push_back(e.port(p).name);
    return 0;
  });
  daemon::IoStats io = runner.io_stats();
  double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::string out = fmt::format("uptime: {:.1f} s\nruleset: {} (loads: {})\njit: {}\nconntrack: {} entries\n", up,
                                current_->file, loads_, jit_state(), entries);
  for (size_t p = 0; p < names.size(); ++p) {
    const router::PortStats& ps = s.ports[p];
    out += fmt::format("interface {}: rx {} packets {} bytes, tx {} packets {} bytes, rx dropped {}\n", names[p],
                       ps.rx_packets, ps.rx_bytes, ps.tx_packets, ps.tx_bytes, ps.rx_dropped);
  }
  out += fmt::format("packets: forwarded {}, local in {}, local out {}, dropped {}, write failures {}\n",
                     s.forwarded, s.local_in, s.local_out, s.dropped, io.write_failures);
  out += fmt::format("icmp errors rate-limited: all destinations {}, per destination {}\n", s.icmp_limited_global,
                     s.icmp_limited_host);
  for (const auto& [hook, n] : s.hooks) out += fmt::format("hook {}: {} packets\n", hook, n);
  for (const auto& [why, n] : s.drops) out += fmt::format("drop {}: {}\n", why, n);
  return {true, out};
}

}  // namespace nfx::cli
