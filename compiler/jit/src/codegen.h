// The jit's code generator: one LLVM module for an interpreter's program.
#pragma once

#include <nfx/jit.h>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace nfx::jit {

// What native code calls back into (vm.h's C ABI), declared in the module.
struct Abi {
  llvm::FunctionCallee value, match, stmt, classify;
};

class Codegen {
 public:
  Codegen(vm::Interpreter& vm, const Options& options, Stats& stats, llvm::LLVMContext& ctx);
  // Builds the module; the chain of table t, chain c is named chain_name(t, c).
  std::unique_ptr<llvm::Module> build();
  static std::string chain_name(size_t table, size_t chain);
  // Classifiers the module points at: they live as long as the code.
  std::vector<std::unique_ptr<vm::Classifier>> take_classifiers() { return std::move(classifiers_); }

  // ---- used by the per-construct emitters (codegen_*.cc)
  llvm::IRBuilder<>& b() { return b_; }
  llvm::LLVMContext& ctx() { return ctx_; }
  llvm::Function* fn() { return fn_; }
  const ir::Table& table() const { return *table_; }
  const Options& options() const { return options_; }
  Stats& stats() { return stats_; }
  llvm::BasicBlock* block(const char* name) { return llvm::BasicBlock::Create(ctx_, name, fn_); }
  llvm::IntegerType* int_bytes(uint32_t n) { return llvm::IntegerType::get(ctx_, n * 8); }
  llvm::Value* ptr_const(const void* p);          // an i8* to host memory
  llvm::Value* ctx_field(size_t offset, llvm::Type* type);  // loads a NativeCtx field
  llvm::Value* exec() { return ctx_field(offsetof(vm::NativeCtx, exec), b_.getInt8PtrTy()); }
  void store_handle(uint64_t handle);

  // codegen_value.cc: a value as an integer of len*8 bits whose little-endian
  // bytes are the value's bytes; on NFT_BREAK control goes to `fail`. Values
  // longer than 16 bytes are not compiled (null).
  llvm::Value* value(const ir::Value& v, llvm::BasicBlock* fail);
  // The value through the C ABI (any construct the interpreter runs).
  llvm::Value* value_by_abi(const ir::Value& v, llvm::BasicBlock* fail);
  // codegen_match.cc: branches to `yes` when the predicate holds, else `no`.
  void predicate(const ir::Predicate& p, llvm::BasicBlock* yes, llvm::BasicBlock* no);
  // A constant set's element index for `key` (-1: none) as an i32, or null
  // when the set is not compiled (dynamic, timeouts, concatenated ranges).
  llvm::Value* set_index(int set, llvm::Value* key, uint32_t key_len);
  bool set_is_constant(int set);
  // Whether set_index compiles the set for keys of key_len bytes: callers
  // ask before they emit the key, which the ABI would otherwise evaluate a
  // second time (a numgen key counted twice).
  bool set_compiles(int set, uint32_t key_len);

  // codegen_chain.cc: leaves the chain with a verdict: returns it, calls or
  // tail-calls a chain. `next` is where a rule goes on (jump's return,
  // continue, break).
  void verdict(const ir::Verdict& v, uint64_t handle, llvm::BasicBlock* next);
  // A verdict chosen at run time (i32 code and chain), as nfx_native_stmt gives it.
  void dynamic_verdict(llvm::Value* code, llvm::Value* chain, uint64_t handle, llvm::BasicBlock* next);
  void counter(const ir::Stmt& s);

  // classify.cc: the longest run of rules from `first` it compiles into a
  // classifier, emitted at the current point (control goes to `next` when no
  // rule of the run matches); returns how many rules it took (0: none).
  size_t classify_run(const ir::Chain& chain, size_t first, llvm::BasicBlock* next);

 private:
  void chain(size_t t, size_t c);
  void rule(const ir::Rule& r, llvm::BasicBlock* next);

  vm::Interpreter& vm_;
  const Options& options_;
  Stats& stats_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  std::unique_ptr<llvm::Module> module_;
  Abi abi_;
  std::vector<std::vector<llvm::Function*>> chains_;  // [table][chain]
  std::vector<std::unique_ptr<vm::Classifier>> classifiers_;
  size_t table_index_ = 0;
  const ir::Table* table_ = nullptr;
  llvm::Function* fn_ = nullptr;
  llvm::Value* ctx_arg_ = nullptr;
  std::map<std::pair<llvm::Function*, size_t>, llvm::Value*> ctx_cache_;
  std::vector<std::optional<std::set<int>>> written_sets_;  // [table]: sets statements write

 public:
  size_t table_index() const { return table_index_; }
  vm::Interpreter& interpreter() { return vm_; }
  const Abi& abi() const { return abi_; }
  llvm::Function* chain_fn(size_t chain) { return chains_[table_index_][chain]; }
};

// Whether a value has no side effects and reads only the packet and its
// metadata (so evaluating it early, or not at all, changes nothing).
// A byte string as the integer of `len` bytes whose little-endian bytes
// they are (how values live in registers here).
inline llvm::APInt le_int(const ir::Bytes& bytes, uint32_t len) {
  llvm::APInt v(len * 8, 0);
  for (uint32_t i = 0; i < len && i < bytes.size(); ++i) v.insertBits(llvm::APInt(8, bytes[i]), i * 8);
  return v;
}

bool value_is_pure(const ir::Value& v);
// Whether every node of a value has the length it declares (a byte-order
// swap keeps its argument's, a concatenation pads its parts): only then is
// it compiled as an integer.
bool value_is_sized(const ir::Value& v);

}  // namespace nfx::jit
