// Chains and rules as native functions: a rule is a straight line of
// statements that branches to the next rule when a match fails or a load
// breaks; verdicts return, jump is a call, goto a tail call.
#include <fmt/format.h>

#include "codegen.h"

namespace nfx::jit {

using llvm::BasicBlock;

Codegen::Codegen(vm::Interpreter& vm, const Options& options, Stats& stats, llvm::LLVMContext& ctx)
    : vm_(vm), options_(options), stats_(stats), ctx_(ctx), b_(ctx) {}

std::string Codegen::chain_name(size_t table, size_t chain) { return fmt::format("nfx_t{}_c{}", table, chain); }

llvm::Value* Codegen::ptr_const(const void* p) {
  return llvm::ConstantExpr::getIntToPtr(b_.getInt64(reinterpret_cast<uintptr_t>(p)), b_.getInt8PtrTy());
}

// NativeCtx does not change while a chain runs (a rewrite changes the
// bytes, never where they are), so each field is loaded once, at the
// function's entry.
llvm::Value* Codegen::ctx_field(size_t offset, llvm::Type* type) {
  llvm::Value*& cached = ctx_cache_[{fn_, offset}];
  if (!cached) {
    llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
    llvm::Value* at = entry.CreateConstInBoundsGEP1_64(entry.getInt8Ty(), ctx_arg_, offset);
    cached = entry.CreateLoad(type, entry.CreateBitCast(at, type->getPointerTo()));
  }
  return cached;
}

void Codegen::store_handle(uint64_t handle) {
  llvm::Value* at = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), ctx_arg_, offsetof(vm::NativeCtx, handle));
  b_.CreateStore(b_.getInt64(handle), b_.CreateBitCast(at, b_.getInt64Ty()->getPointerTo()));
}

std::unique_ptr<llvm::Module> Codegen::build() {
  module_ = std::make_unique<llvm::Module>("nfx_ruleset", ctx_);
  llvm::Type* i8p = b_.getInt8PtrTy();
  llvm::Type* i32 = b_.getInt32Ty();
  abi_.value = module_->getOrInsertFunction("nfx_native_value", llvm::FunctionType::get(i32, {i8p, i8p, i8p}, false));
  abi_.match = module_->getOrInsertFunction("nfx_native_match", llvm::FunctionType::get(i32, {i8p, i8p}, false));
  abi_.stmt = module_->getOrInsertFunction(
      "nfx_native_stmt", llvm::FunctionType::get(i32, {i8p, i8p, i32->getPointerTo(), i32->getPointerTo()}, false));
  abi_.classify = module_->getOrInsertFunction(
      "nfx_native_classify", llvm::FunctionType::get(i32, {i8p, b_.getInt64Ty()->getPointerTo()}, false));
  for (auto* f : {&abi_.value, &abi_.match, &abi_.stmt, &abi_.classify})
    if (auto* fn = llvm::dyn_cast<llvm::Function>(f->getCallee())) fn->setDoesNotThrow();

  const ir::Program& prog = vm_.program();
  auto* chain_type = llvm::FunctionType::get(i32, {i8p}, false);
  for (size_t t = 0; t < prog.tables.size(); ++t) {
    auto& fns = chains_.emplace_back();
    for (size_t c = 0; c < prog.tables[t].chains.size(); ++c) {
      auto* f = llvm::Function::Create(chain_type, llvm::Function::ExternalLinkage, chain_name(t, c), module_.get());
      f->setDoesNotThrow();
      f->addParamAttr(0, llvm::Attribute::NoAlias);
      fns.push_back(f);
    }
  }
  for (size_t t = 0; t < prog.tables.size(); ++t)
    for (size_t c = 0; c < prog.tables[t].chains.size(); ++c) chain(t, c);
  return std::move(module_);
}

// A long chain is split into functions of at most kChunkRules rules (a
// classifier counts as one), called in turn: LLVM's passes take time that
// grows faster than the size of a function, and a chain of ten thousand
// rules in one function would take minutes to optimise. A chunk returns the
// chain's outcome, or kChunkEnd when its last rule falls through.
constexpr size_t kChunkRules = 64;
constexpr int32_t kChunkEnd = -2;

void Codegen::chain(size_t t, size_t c) {
  table_index_ = t;
  table_ = &vm_.program().tables[t];
  const ir::Chain& ch = table_->chains[c];
  llvm::Function* main = chains_[t][c];
  stats_.chains++;
  const bool chunked = ch.rules.size() > kChunkRules;
  std::vector<llvm::Function*> chunks;
  auto start = [&](llvm::Function* f) {
    fn_ = f;
    ctx_arg_ = f->getArg(0);
    b_.SetInsertPoint(block("entry"));
  };
  auto new_chunk = [&] {
    auto* f = llvm::Function::Create(main->getFunctionType(), llvm::Function::InternalLinkage,
                                     fmt::format("{}_k{}", main->getName().str(), chunks.size()), module_.get());
    f->addFnAttr(llvm::Attribute::NoInline);
    f->setDoesNotThrow();
    f->addParamAttr(0, llvm::Attribute::NoAlias);
    chunks.push_back(f);
    start(f);
  };
  if (chunked) new_chunk();
  else start(main);
  size_t units = 0;
  for (size_t i = 0; i < ch.rules.size();) {
    if (chunked && units == kChunkRules) {
      b_.CreateRet(b_.getInt32(kChunkEnd));
      new_chunk();
      units = 0;
    }
    BasicBlock* next = block("next");
    size_t taken = options_.classify ? classify_run(ch, i, next) : 0;
    if (taken == 0) {
      rule(ch.rules[i], next);
      taken = 1;
    }
    ++units;
    stats_.rules += taken;
    i += taken;
    b_.SetInsertPoint(next);
  }
  b_.CreateRet(b_.getInt32(chunked ? kChunkEnd : -1));
  if (!chunked) return;
  start(main);
  for (llvm::Function* f : chunks) {
    llvm::Value* r = b_.CreateCall(f, {ctx_arg_});
    BasicBlock* done = block("chunk.out");
    BasicBlock* on = block("chunk.next");
    b_.CreateCondBr(b_.CreateICmpEQ(r, b_.getInt32(kChunkEnd)), on, done);
    b_.SetInsertPoint(done);
    b_.CreateRet(r);
    b_.SetInsertPoint(on);
  }
  b_.CreateRet(b_.getInt32(-1));
}

void Codegen::counter(const ir::Stmt& s) {
  uint64_t* cell = vm_.counter_cell(table_index_, s);
  llvm::Type* i64 = b_.getInt64Ty();
  auto* packets = llvm::ConstantExpr::getIntToPtr(b_.getInt64(reinterpret_cast<uintptr_t>(cell)), i64->getPointerTo());
  auto* bytes = llvm::ConstantExpr::getIntToPtr(b_.getInt64(reinterpret_cast<uintptr_t>(cell + 1)), i64->getPointerTo());
  b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64, packets), b_.getInt64(1)), packets);
  llvm::Value* len = b_.CreateZExt(ctx_field(offsetof(vm::NativeCtx, skb_len), b_.getInt32Ty()), i64);
  b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64, bytes), len), bytes);
}

void Codegen::rule(const ir::Rule& r, BasicBlock* next) {
  for (const ir::Stmt& s : r.stmts) {
    switch (s.kind) {
      case ir::StmtKind::Match: {
        BasicBlock* yes = block("match");
        predicate(s.pred, yes, next);
        b_.SetInsertPoint(yes);
        continue;
      }
      case ir::StmtKind::Verdict:
        if (s.verdict.code == ir::VerdictCode::Continue) continue;  // does not end the rule
        stats_.inlined_stmts++;
        verdict(s.verdict, r.handle, next);
        return;
      case ir::StmtKind::Counter:
        stats_.inlined_stmts++;
        counter(s);
        continue;
      case ir::StmtKind::VerdictMap:
        if (set_is_constant(s.set) && s.value->len <= 16) {
          BasicBlock* fail = block("vmap.break");
          llvm::Value* key = value(*s.value, fail);
          llvm::Value* index = key ? set_index(s.set, key, s.value->len) : nullptr;
          if (index) {
            stats_.inlined_stmts++;
            const ir::Set& set = table_->sets[static_cast<size_t>(s.set)];
            BasicBlock* cont = block("vmap.continue");
            auto* sw = b_.CreateSwitch(index, fail, static_cast<unsigned>(set.elements.size()));
            for (size_t e = 0; e < set.elements.size(); ++e) {
              const ir::Verdict& v = set.elements[e].verdict;
              if (v.code == ir::VerdictCode::Continue) {
                sw->addCase(b_.getInt32(static_cast<uint32_t>(e)), cont);
                continue;
              }
              BasicBlock* act = block("vmap.verdict");
              sw->addCase(b_.getInt32(static_cast<uint32_t>(e)), act);
              b_.SetInsertPoint(act);
              verdict(v, r.handle, next);
            }
            b_.SetInsertPoint(fail);
            b_.CreateBr(next);
            b_.SetInsertPoint(cont);
            continue;
          }
          // not compiled: whatever was emitted only loaded; start again through the ABI
          b_.CreateBr(fail);
          b_.SetInsertPoint(fail);
        }
        [[fallthrough]];
      default: {
        stats_.abi_stmts++;
        llvm::Type* i32 = b_.getInt32Ty();
        llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
        llvm::Value* code = entry.CreateAlloca(i32);
        llvm::Value* chain = entry.CreateAlloca(i32);
        llvm::Value* rc = b_.CreateCall(abi_.stmt, {exec(), ptr_const(&s), code, chain});
        BasicBlock* go_on = block("stmt.on");
        BasicBlock* gave = block("stmt.verdict");
        auto* sw = b_.CreateSwitch(rc, next, 2);
        sw->addCase(b_.getInt32(1), go_on);
        sw->addCase(b_.getInt32(2), gave);
        b_.SetInsertPoint(gave);
        dynamic_verdict(b_.CreateLoad(i32, code), b_.CreateLoad(i32, chain), r.handle, next);
        b_.SetInsertPoint(go_on);
        continue;
      }
    }
  }
  b_.CreateBr(next);
}

void Codegen::verdict(const ir::Verdict& v, uint64_t handle, BasicBlock* next) {
  switch (v.code) {
    case ir::VerdictCode::Continue:
    case ir::VerdictCode::Break: b_.CreateBr(next); return;
    case ir::VerdictCode::Return: b_.CreateRet(b_.getInt32(-1)); return;
    case ir::VerdictCode::Jump: {
      llvm::Value* r = b_.CreateCall(chain_fn(static_cast<size_t>(v.chain)), {ctx_arg_});
      BasicBlock* done = block("jump.verdict");
      b_.CreateCondBr(b_.CreateICmpSGE(r, b_.getInt32(0)), done, next);
      b_.SetInsertPoint(done);
      b_.CreateRet(r);
      return;
    }
    case ir::VerdictCode::Goto: {
      auto* call = b_.CreateCall(chain_fn(static_cast<size_t>(v.chain)), {ctx_arg_});
      call->setTailCall();
      b_.CreateRet(call);
      return;
    }
    case ir::VerdictCode::Queue: {
      store_handle(handle);
      // no queue listener: as the interpreter turns it
      b_.CreateRet(b_.getInt32(static_cast<int32_t>(v.queue_bypass ? ir::VerdictCode::Accept : ir::VerdictCode::Drop)));
      return;
    }
    default:
      store_handle(handle);
      b_.CreateRet(b_.getInt32(static_cast<int32_t>(v.code)));
      return;
  }
}

void Codegen::dynamic_verdict(llvm::Value* code, llvm::Value* chain, uint64_t handle, BasicBlock* next) {
  BasicBlock* final_block = block("verdict.final");
  BasicBlock* jump = block("verdict.jump");
  BasicBlock* go = block("verdict.goto");
  BasicBlock* ret = block("verdict.return");
  auto* sw = b_.CreateSwitch(code, final_block, 4);
  sw->addCase(b_.getInt32(static_cast<int32_t>(ir::VerdictCode::Jump)), jump);
  sw->addCase(b_.getInt32(static_cast<int32_t>(ir::VerdictCode::Goto)), go);
  sw->addCase(b_.getInt32(static_cast<int32_t>(ir::VerdictCode::Return)), ret);
  sw->addCase(b_.getInt32(static_cast<int32_t>(ir::VerdictCode::Break)), next);
  sw->addCase(b_.getInt32(static_cast<int32_t>(ir::VerdictCode::Continue)), next);
  b_.SetInsertPoint(final_block);
  store_handle(handle);
  b_.CreateRet(code);
  b_.SetInsertPoint(ret);
  b_.CreateRet(b_.getInt32(-1));

  // The target chain, chosen at run time: a switch over the table's chains.
  auto call_target = [&](BasicBlock* at, bool tail) {
    b_.SetInsertPoint(at);
    BasicBlock* none = block("verdict.nochain");
    auto* targets = b_.CreateSwitch(chain, none, static_cast<unsigned>(chains_[table_index_].size()));
    b_.SetInsertPoint(none);
    b_.CreateBr(next);
    for (size_t c = 0; c < chains_[table_index_].size(); ++c) {
      if (table_->chains[c].base) continue;  // base chains are no jump targets
      BasicBlock* call_block = block(tail ? "goto.call" : "jump.call");
      targets->addCase(b_.getInt32(static_cast<uint32_t>(c)), call_block);
      b_.SetInsertPoint(call_block);
      auto* r = b_.CreateCall(chain_fn(c), {ctx_arg_});
      if (tail) {
        r->setTailCall();
        b_.CreateRet(r);
      } else {
        BasicBlock* done = block("jump.verdict");
        b_.CreateCondBr(b_.CreateICmpSGE(r, b_.getInt32(0)), done, next);
        b_.SetInsertPoint(done);
        b_.CreateRet(r);
      }
    }
  };
  call_target(jump, false);
  call_target(go, true);
}

}  // namespace nfx::jit
