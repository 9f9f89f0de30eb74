// The control commands of `nfx run`: the ruleset it runs (load, reload with
// the JIT compiling behind the interpreter), listings and statistics.
#pragma once

#include <nfx/compiler.h>
#include <nfx/daemon.h>
#include <nfx/jit.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace nfx::cli {

class RulesetService {
 public:
  RulesetService(std::string file, ParseOptions popts, bool jit);
  ~RulesetService();
  // The ruleset of the start file, for the element's first frames.
  bool start(router::Element& element, std::string& errors);
  // "reload [FILE]", "list ruleset", "list conntrack", "list neighbours",
  // "flush conntrack", "stats".
  daemon::Answer handle(const std::string& command, daemon::Runner& runner);

 private:
  struct Loaded;
  // Reads, checks, lowers and loads `file`; nullptr with the errors.
  std::unique_ptr<Loaded> load(const std::string& file, std::string& errors);
  // Puts `next` in the element's hands (which the caller holds); returns the
  // one it replaces, to free outside the element.
  std::unique_ptr<Loaded> install(std::unique_ptr<Loaded> next, router::Element& element);
  daemon::Answer reload(const std::string& file, daemon::Runner& runner);
  daemon::Answer list_ruleset(daemon::Runner& runner);
  daemon::Answer stats(daemon::Runner& runner);
  std::string jit_state() const;

  std::string file_;
  ParseOptions popts_;
  bool jit_;
  std::mutex mutex_;  // one command at a time
  std::unique_ptr<Loaded> current_;
  unsigned loads_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Copies the interpreter's live counter values into the ruleset's counter
// statements and named counters, for `nft list ruleset` output.
void copy_live_counters(const vm::Interpreter& vm, Ruleset& rs);
// Puts the elements the sets that the packet path changes (flags dynamic
// or timeout) hold at `now_ns` into their declarations, as `nft list`
// shows them: statements with live counters, timeouts, time left.
void copy_live_sets(const vm::Interpreter& vm, Ruleset& rs, uint64_t now_ns);

}  // namespace nfx::cli
