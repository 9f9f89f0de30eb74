// Predicates inline: compares, ranges, prefixes and flag tests on the
// value's integer; set lookups in constant sets as a switch (exact keys) or
// a binary search tree over sorted intervals. The rest through
// nfx_native_match.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "codegen.h"

namespace nfx::jit {

using llvm::BasicBlock;

namespace {

// The big-endian number of a byte string (memcmp order).
llvm::APInt be_int(const ir::Bytes& bytes, uint32_t len) {
  llvm::APInt v(len * 8, 0);
  for (uint32_t i = 0; i < len && i < bytes.size(); ++i) v.insertBits(llvm::APInt(8, bytes[i]), (len - 1 - i) * 8);
  return v;
}

bool can_order(uint32_t len) { return len == 1 || len % 2 == 0; }

}  // namespace

// A set compiles to code when nothing can change it while the code lives:
// not dynamic, no timeouts, and no statement of its table adds to it or
// deletes from it.
bool Codegen::set_is_constant(int set) {
  if (written_sets_.size() <= table_index_) written_sets_.resize(table_index_ + 1);
  auto& written = written_sets_[table_index_];
  if (!written) {
    written.emplace();
    std::function<void(const std::vector<ir::Stmt>&)> scan = [&](const std::vector<ir::Stmt>& stmts) {
      for (const ir::Stmt& st : stmts) {
        if (st.kind == ir::StmtKind::SetUpdate) written->insert(st.set);
        scan(st.inner);
      }
    };
    for (const ir::Chain& c : table_->chains)
      for (const ir::Rule& r : c.rules) scan(r.stmts);
  }
  const ir::Set& s = table_->sets.at(static_cast<size_t>(set));
  if (s.dynamic || s.has_timeout || s.timeout_ms || written->count(set)) return false;
  for (const ir::Element& e : s.elements)
    if (e.timeout_ms || e.expires_ms) return false;
  return true;
}

namespace {

struct Interval {
  llvm::APInt lo, hi;
  size_t elem;
};

// A one-field interval set's elements of `key_len`-byte keys as sorted
// big-endian intervals, or false if they overlap (the first inserted wins:
// the interpreter's scan decides).
bool sorted_intervals(const ir::Set& set, uint32_t key_len, std::vector<Interval>& iv) {
  for (size_t e = 0; e < set.elements.size(); ++e) {
    const ir::Element& el = set.elements[e];
    if (el.catchall || el.key.size() != key_len) continue;
    const ir::Bytes& end = el.key_end.empty() ? el.key : el.key_end;
    if (end.size() != key_len) continue;
    iv.push_back({be_int(el.key, key_len), be_int(end, key_len), e});
  }
  std::sort(iv.begin(), iv.end(), [](const Interval& a, const Interval& b) { return a.lo.ult(b.lo); });
  for (size_t i = 1; i < iv.size(); ++i)
    if (!iv[i - 1].hi.ult(iv[i].lo)) return false;
  return true;
}

}  // namespace

bool Codegen::set_compiles(int set_index_in_table, uint32_t key_len) {
  const ir::Set& set = table_->sets.at(static_cast<size_t>(set_index_in_table));
  if (!set_is_constant(set_index_in_table) || key_len == 0 || key_len > 16) return false;
  if (!set.interval) return true;
  if (set.field_len.size() > 1 || !can_order(key_len)) return false;
  std::vector<Interval> iv;
  return sorted_intervals(set, key_len, iv);
}

llvm::Value* Codegen::set_index(int set_index_in_table, llvm::Value* key, uint32_t key_len) {
  const ir::Set& set = table_->sets.at(static_cast<size_t>(set_index_in_table));
  int32_t catchall = -1;
  for (size_t e = 0; e < set.elements.size(); ++e)
    if (set.elements[e].catchall && catchall < 0) catchall = static_cast<int32_t>(e);
  llvm::IntegerType* type = int_bytes(key_len);
  llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
  llvm::Value* result = entry.CreateAlloca(b_.getInt32Ty());
  BasicBlock* done = block("set.done");
  BasicBlock* miss = block("set.miss");

  if (!set.interval) {
    // exact keys (nft_set_hash); of two elements with one key the later
    // one answers, as in the interpreter's index
    std::map<ir::Bytes, size_t> index;
    for (size_t e = 0; e < set.elements.size(); ++e)
      if (!set.elements[e].catchall) index[set.elements[e].key] = e;
    auto* sw = b_.CreateSwitch(key, miss, static_cast<unsigned>(index.size()));
    for (const auto& [k, e] : index) {
      if (k.size() != key_len) continue;  // a key of another size never matches
      BasicBlock* hit = block("set.hit");
      sw->addCase(llvm::ConstantInt::get(ctx_, le_int(k, key_len)), hit);
      b_.SetInsertPoint(hit);
      b_.CreateStore(b_.getInt32(static_cast<uint32_t>(e)), result);
      b_.CreateBr(done);
    }
  } else {
    if (set.field_len.size() > 1 || !can_order(key_len)) {
      done->eraseFromParent();
      miss->eraseFromParent();
      return nullptr;
    }
    std::vector<Interval> iv;
    if (!sorted_intervals(set, key_len, iv)) {  // overlapping: first inserted wins; leave it to the interpreter
      done->eraseFromParent();
      miss->eraseFromParent();
      return nullptr;
    }
    llvm::Value* x = key_len == 1 ? key : b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, key);
    // A balanced search over the sorted intervals: the last one starting at
    // or below x is the only candidate.
    std::function<void(size_t, size_t)> search = [&](size_t from, size_t to) {
      if (to - from <= 2) {
        for (size_t i = from; i < to; ++i) {
          BasicBlock* in_lo = block("iv.lo");
          BasicBlock* hit = block("iv.hit");
          BasicBlock* next = block("iv.next");
          b_.CreateCondBr(b_.CreateICmpUGE(x, llvm::ConstantInt::get(type, iv[i].lo)), in_lo, next);
          b_.SetInsertPoint(in_lo);
          b_.CreateCondBr(b_.CreateICmpULE(x, llvm::ConstantInt::get(type, iv[i].hi)), hit, next);
          b_.SetInsertPoint(hit);
          b_.CreateStore(b_.getInt32(static_cast<uint32_t>(iv[i].elem)), result);
          b_.CreateBr(done);
          b_.SetInsertPoint(next);
        }
        b_.CreateBr(miss);
        return;
      }
      size_t mid = from + (to - from) / 2;
      BasicBlock* left = block("iv.left");
      BasicBlock* right = block("iv.right");
      b_.CreateCondBr(b_.CreateICmpULT(x, llvm::ConstantInt::get(type, iv[mid].lo)), left, right);
      b_.SetInsertPoint(left);
      search(from, mid);
      b_.SetInsertPoint(right);
      search(mid, to);
    };
    search(0, iv.size());
  }
  b_.SetInsertPoint(miss);
  b_.CreateStore(b_.getInt32(static_cast<uint32_t>(catchall)), result);
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  stats_.const_sets++;
  return b_.CreateLoad(b_.getInt32Ty(), result);
}

void Codegen::predicate(const ir::Predicate& p, BasicBlock* yes, BasicBlock* no) {
  const uint32_t len = p.lhs ? p.lhs->len : 0;
  auto by_abi = [&] {
    stats_.abi_preds++;
    llvm::Value* r = b_.CreateCall(abi_.match, {exec(), ptr_const(&p)});
    b_.CreateCondBr(b_.CreateICmpNE(r, b_.getInt32(0)), yes, no);
  };
  bool shape_ok = len > 0 && len <= 16;
  switch (p.kind) {
    case ir::PredKind::Cmp: shape_ok &= p.value.size() == len && (p.op == ir::CmpOp::Eq || p.op == ir::CmpOp::Ne || can_order(len)); break;
    case ir::PredKind::Range: shape_ok &= p.value.size() == len && p.hi.size() == len && can_order(len); break;
    case ir::PredKind::Prefix: shape_ok &= p.value.size() == len && p.prefix <= len * 8; break;
    case ir::PredKind::Flags: shape_ok &= p.value.size() == len; break;
    case ir::PredKind::Lookup: shape_ok &= set_compiles(p.set, len); break;
  }
  if (!shape_ok) return by_abi();
  // a load that breaks makes the predicate false, negated or not
  llvm::Value* x = value(*p.lhs, no);
  if (!x) return by_abi();
  stats_.inlined_preds++;
  llvm::IntegerType* type = int_bytes(len);
  const bool big = p.lhs->order == ir::Order::Big;
  // numbers in the order the interpreter's compare() uses
  auto num = [&](llvm::Value* v) { return big && len > 1 ? b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, v) : v; };
  auto num_const = [&](const ir::Bytes& bytes) {
    return llvm::ConstantInt::get(type, big ? be_int(bytes, len) : le_int(bytes, len));
  };
  llvm::Value* holds = nullptr;
  switch (p.kind) {
    case ir::PredKind::Cmp: {
      if (p.op == ir::CmpOp::Eq || p.op == ir::CmpOp::Ne) {
        llvm::Value* c = llvm::ConstantInt::get(type, le_int(p.value, len));
        holds = p.op == ir::CmpOp::Eq ? b_.CreateICmpEQ(x, c) : b_.CreateICmpNE(x, c);
        break;
      }
      llvm::Value* n = num(x);
      llvm::Value* c = num_const(p.value);
      switch (p.op) {
        case ir::CmpOp::Lt: holds = b_.CreateICmpULT(n, c); break;
        case ir::CmpOp::Gt: holds = b_.CreateICmpUGT(n, c); break;
        case ir::CmpOp::Le: holds = b_.CreateICmpULE(n, c); break;
        default: holds = b_.CreateICmpUGE(n, c); break;
      }
      break;
    }
    case ir::PredKind::Range: {
      llvm::Value* n = num(x);
      holds = b_.CreateAnd(b_.CreateICmpUGE(n, num_const(p.value)), b_.CreateICmpULE(n, num_const(p.hi)));
      if (p.negate) holds = b_.CreateNot(holds);
      break;
    }
    case ir::PredKind::Prefix: {
      ir::Bytes mask(len, 0);
      for (uint32_t bit = 0; bit < p.prefix; ++bit) mask[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
      llvm::APInt m = le_int(mask, len);
      holds = b_.CreateICmpEQ(b_.CreateAnd(x, llvm::ConstantInt::get(type, m)),
                              llvm::ConstantInt::get(type, le_int(p.value, len) & m));
      if (p.negate) holds = b_.CreateNot(holds);
      break;
    }
    case ir::PredKind::Flags:
      holds = b_.CreateICmpNE(b_.CreateAnd(x, llvm::ConstantInt::get(type, le_int(p.value, len))), llvm::ConstantInt::get(type, 0));
      if (p.negate) holds = b_.CreateNot(holds);
      break;
    case ir::PredKind::Lookup: {
      llvm::Value* index = set_index(p.set, x, len);
      if (!index) {  // overlapping intervals: the interpreter's scan decides
        stats_.inlined_preds--;
        return by_abi();
      }
      holds = b_.CreateICmpSGE(index, b_.getInt32(0));
      if (p.negate) holds = b_.CreateNot(holds);
      break;
    }
  }
  b_.CreateCondBr(holds, yes, no);
}

}  // namespace nfx::jit
