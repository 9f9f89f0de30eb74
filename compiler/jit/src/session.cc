// The module's life: LLVM's passes over it, machine code through ORC's
// LLJIT, the chain functions looked up, and the text stages for
// `nfx compile --emit`.
#include <fmt/format.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <chrono>
#include <mutex>
#include <stdexcept>

#include "codegen.h"

namespace nfx::jit {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void init_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

template <typename T>
T check(llvm::Expected<T> v, const char* what) {
  if (!v) throw std::runtime_error(fmt::format("jit: {}: {}", what, llvm::toString(v.takeError())));
  return std::move(*v);
}

void check(llvm::Error e, const char* what) {
  if (e) throw std::runtime_error(fmt::format("jit: {}: {}", what, llvm::toString(std::move(e))));
}

llvm::CodeGenOpt::Level codegen_level(int opt) {
  return opt <= 0 ? llvm::CodeGenOpt::None : opt == 1 ? llvm::CodeGenOpt::Less : opt == 2 ? llvm::CodeGenOpt::Default : llvm::CodeGenOpt::Aggressive;
}

llvm::orc::JITTargetMachineBuilder host(const Options& o) {
  auto jtmb = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "host target");
  jtmb.setCodeGenOptLevel(codegen_level(o.opt_level));
  return jtmb;
}

// Builds the module and runs the optimisation pipeline of `opt_level`.
struct Built {
  std::unique_ptr<llvm::LLVMContext> ctx;
  std::unique_ptr<llvm::Module> module;
  std::vector<std::unique_ptr<vm::Classifier>> classifiers;
};

// Rules compiled as straight-line code (not in a classifier) decide the
// level when it is left to the size: -O2 up to 1,000 of them, -O1 up to
// 4,000, -O0 beyond.
int auto_level(const Options& o, const Stats& s) {
  if (o.opt_level >= 0) return o.opt_level;
  size_t straight = s.rules - s.classified_rules;
  return straight <= 1000 ? 2 : straight <= 4000 ? 1 : 0;
}

Built build(vm::Interpreter& vm, Options o, Stats& stats, llvm::TargetMachine& tm) {
  Built out;
  out.ctx = std::make_unique<llvm::LLVMContext>();
  auto t0 = Clock::now();
  Codegen cg(vm, o, stats, *out.ctx);
  out.module = cg.build();
  out.classifiers = cg.take_classifiers();
  out.module->setDataLayout(tm.createDataLayout());
  out.module->setTargetTriple(tm.getTargetTriple().str());
  std::string why;
  llvm::raw_string_ostream err(why);
  if (llvm::verifyModule(*out.module, &err)) throw std::runtime_error("jit: invalid module: " + err.str());
  stats.codegen_ms = ms_since(t0);
  o.opt_level = stats.opt_level = auto_level(o, stats);
  tm.setOptLevel(codegen_level(o.opt_level));

  t0 = Clock::now();
  if (o.opt_level > 0) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(&tm);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    auto level = o.opt_level == 1 ? llvm::OptimizationLevel::O1 : o.opt_level == 2 ? llvm::OptimizationLevel::O2 : llvm::OptimizationLevel::O3;
    pb.buildPerModuleDefaultPipeline(level).run(*out.module, mam);
  }
  stats.optimize_ms = ms_since(t0);
  return out;
}

class NativeModule : public vm::NativeCode {
 public:
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::vector<std::vector<vm::NativeChainFn>> fns;
  std::vector<std::unique_ptr<vm::Classifier>> classifiers;
  vm::NativeChainFn chain(size_t table, size_t chain) const override {
    return table < fns.size() && chain < fns[table].size() ? fns[table][chain] : nullptr;
  }
};

llvm::orc::SymbolMap abi_symbols(llvm::orc::LLJIT& jit) {
  llvm::orc::SymbolMap syms;
  auto add = [&](const char* name, auto* fn) {
    syms[jit.mangleAndIntern(name)] = llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(fn),
                                                               llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  };
  add("nfx_native_value", &vm::nfx_native_value);
  add("nfx_native_match", &vm::nfx_native_match);
  add("nfx_native_stmt", &vm::nfx_native_stmt);
  add("nfx_native_classify", &vm::nfx_native_classify);
  return syms;
}

}  // namespace

std::unique_ptr<vm::NativeCode> compile(vm::Interpreter& vm, const Options& options, Stats* stats_out) {
  init_llvm();
  Stats stats;
  auto jtmb = host(options);
  auto tm = check(jtmb.createTargetMachine(), "target machine");
  Built built = build(vm, options, stats, *tm);
  jtmb.setCodeGenOptLevel(codegen_level(stats.opt_level));

  auto t0 = Clock::now();
  auto out = std::make_unique<NativeModule>();
  out->jit = check(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create(), "LLJIT");
  check(out->jit->getMainJITDylib().define(llvm::orc::absoluteSymbols(abi_symbols(*out->jit))), "C ABI symbols");
  check(out->jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(built.module), std::move(built.ctx))), "add module");
  const ir::Program& prog = vm.program();
  for (size_t t = 0; t < prog.tables.size(); ++t) {
    auto& fns = out->fns.emplace_back();
    for (size_t c = 0; c < prog.tables[t].chains.size(); ++c) {
      auto sym = check(out->jit->lookup(Codegen::chain_name(t, c)), "chain lookup");
      fns.push_back(reinterpret_cast<vm::NativeChainFn>(sym.getAddress()));
    }
  }
  out->classifiers = std::move(built.classifiers);
  stats.native_ms = ms_since(t0);
  if (stats_out) *stats_out = stats;
  return out;
}

std::string emit(vm::Interpreter& vm, Emit what, const Options& options) {
  init_llvm();
  Stats stats;
  auto tm = check(host(options).createTargetMachine(), "target machine");
  Built built = build(vm, options, stats, *tm);
  std::string text;
  llvm::raw_string_ostream os(text);
  if (what == Emit::Llvm) {
    built.module->print(os, nullptr);
    return os.str();
  }
  llvm::SmallString<0> buf;
  llvm::raw_svector_ostream asm_os(buf);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, asm_os, nullptr, llvm::CGFT_AssemblyFile))
    throw std::runtime_error("jit: this target cannot print assembly");
  pm.run(*built.module);
  return std::string(buf.str());
}

std::string Stats::summary() const {
  return fmt::format(
      "-O{}: {} chains, {} rules; predicates {} inline, {} via the vm; statements {} inline, {} via the vm; "
      "{} constant set lookups; {} classifiers over {} rules ({} bytes); codegen {:.1f} ms, passes {:.1f} ms, "
      "machine code {:.1f} ms",
      opt_level, chains, rules, inlined_preds, abi_preds, inlined_stmts, abi_stmts, const_sets, classifiers, classified_rules,
      classifier_bytes, codegen_ms, optimize_ms, native_ms);
}

Tier::Tier(vm::Interpreter& vm, Options options) {
  thread_ = std::thread([this, &vm, options] {
    try {
      vm.install_native(compile(vm, options, &stats_));
    } catch (const std::exception& e) {
      error_ = e.what();
    }
    done_.store(true, std::memory_order_release);
  });
}

Tier::~Tier() { wait(); }

void Tier::wait() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace nfx::jit
