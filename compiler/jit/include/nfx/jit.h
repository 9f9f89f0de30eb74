// nfx jit: the IR compiled to native code with LLVM ORC (LLJIT).
//
// This is the one public header of the jit library. compile() turns the
// program an interpreter holds into one LLVM module: a native function per
// chain (user chains too: jump is a call, goto a tail call), payload and
// meta loads with their bounds checks inlined, compares, ranges, prefixes,
// flag tests and bitwise ops inlined, constant sets as switches or search
// trees, and runs of rules that only match header fields and end in accept
// or drop as one first-match classifier (vm::Classifier). Whatever it does
// not compile itself it hands to the interpreter's own code through the vm's
// C ABI, so native code runs every construct the interpreter runs, on the
// interpreter's counters and sets. install the result with
// vm::Interpreter::install_native; Tier does that in the background.
#pragma once

#include <nfx/vm.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

namespace nfx::jit {

struct Options {
  // LLVM's -O level for the module (0-3); -1 picks by size: LLVM's passes
  // and instruction selection take milliseconds per rule, so a ruleset with
  // thousands of rules outside classifiers gets fewer of them.
  int opt_level = -1;
  bool classify = true;              // compile runs of pure match rules into classifiers
  size_t classify_min_rules = 12;    // shorter runs stay straight-line code
};

struct Stats {
  double codegen_ms = 0, optimize_ms = 0, native_ms = 0;  // building IR, LLVM passes, machine code
  double total_ms() const { return codegen_ms + optimize_ms + native_ms; }
  int opt_level = 0;                         // the level used
  size_t chains = 0, rules = 0;
  size_t inlined_preds = 0, abi_preds = 0;   // predicates compiled inline / through the C ABI
  size_t inlined_stmts = 0, abi_stmts = 0;   // non-match statements
  size_t const_sets = 0;                     // set lookups compiled to switches or search trees
  size_t classifiers = 0, classified_rules = 0;
  size_t classifier_bytes = 0;
  std::string summary() const;
};

// Compiles the interpreter's program. Throws std::runtime_error if LLVM fails.
std::unique_ptr<vm::NativeCode> compile(vm::Interpreter& vm, const Options& options = {}, Stats* stats = nullptr);

// The stages `nfx compile --emit` prints: the module's LLVM IR after the
// passes, and the host's assembly for it.
enum class Emit { Llvm, Asm };
std::string emit(vm::Interpreter& vm, Emit what, const Options& options = {});

// Tiering: the interpreter serves packets at once while a thread compiles;
// the native code is installed atomically when it is ready.
class Tier {
 public:
  Tier(vm::Interpreter& vm, Options options = {});
  ~Tier();  // waits for the compile
  void wait();
  // Whether the compile has ended (installed or failed); error() and stats()
  // may be read only then.
  bool done() const { return done_.load(std::memory_order_acquire); }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  const Stats& stats() const { return stats_; }

 private:
  std::thread thread_;
  Stats stats_;
  std::string error_;
  std::atomic<bool> done_{false};
};

}  // namespace nfx::jit
