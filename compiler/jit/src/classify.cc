// The classification compiler: a run of rules that only match header
// fields and end in accept or drop becomes one vm::Classifier. Each rule's
// predicates turn into a range per field word (a prefix into exact words and
// one range, a compare into a range); the native code loads every field the
// run reads once (a load that breaks gives Classifier::kAbsent, which no
// range holds, so exactly the rules that read it fail, as in the
// interpreter), asks the classifier for the first rule that matches, and
// runs that rule's counters and verdict. First-match order is kept: the
// classifier answers the lowest rule, and nothing in the run has side
// effects before its verdict.
#include <fmt/format.h>

#include <map>

#include "codegen.h"

namespace nfx::jit {

namespace {

constexpr size_t kMaxWords = 24;  // field words one run may read

struct Field {
  const ir::Value* value;
  uint32_t words;  // 4-byte words (a value of up to 4 bytes is one number)
  uint32_t first;  // index of its first word among the run's keys
};

struct Shape {
  std::vector<vm::Classifier::Range> ranges;
  std::vector<const ir::Stmt*> counters;
  ir::Verdict verdict;
  uint64_t handle = 0;
  bool never = false;  // contradictory ranges: it cannot match
};

class RunBuilder {
 public:
  std::vector<Field> fields;
  std::map<std::string, size_t> by_key;
  uint32_t words = 0;

  // The rule as ranges, or false if it is not a pure match rule (or would
  // need too many field words).
  bool shape(const ir::Rule& r, Shape& out) {
    size_t i = 0;
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> ranges;
    auto constrain = [&](uint32_t word, uint64_t lo, uint64_t hi) {
      auto [it, fresh] = ranges.try_emplace(word, lo, hi);
      if (!fresh) it->second = {std::max(it->second.first, lo), std::min(it->second.second, hi)};
    };
    for (; i < r.stmts.size() && r.stmts[i].kind == ir::StmtKind::Match; ++i) {
      const ir::Predicate& p = r.stmts[i].pred;
      if (!p.lhs || !value_is_pure(*p.lhs) || !value_is_sized(*p.lhs)) return false;
      const uint32_t len = p.lhs->len;
      if (len == 0 || len > 16) return false;
      const bool small = len <= 4;
      auto number = [&](const ir::Bytes& b) {  // a small field's number, in the value's order
        uint64_t n = 0;
        for (uint32_t k = 0; k < len; ++k) n |= uint64_t{b[p.lhs->order == ir::Order::Big ? k : len - 1 - k]} << (8 * (len - 1 - k));
        return n;
      };
      auto word_of = [&](const ir::Bytes& b, uint32_t w) {  // a long field's word, big-endian
        uint64_t n = 0;
        for (uint32_t k = 4 * w; k < std::min(len, 4 * w + 4); ++k) n = n << 8 | b[k];
        return n;
      };
      switch (p.kind) {
        case ir::PredKind::Cmp: {
          if (p.value.size() != len) return false;
          if (p.op == ir::CmpOp::Eq) {
            uint32_t base = field(*p.lhs);
            if (base == UINT32_MAX) return false;
            if (small) constrain(base, number(p.value), number(p.value));
            else
              for (uint32_t w = 0; w < (len + 3) / 4; ++w) constrain(base + w, word_of(p.value, w), word_of(p.value, w));
            continue;
          }
          if (p.op == ir::CmpOp::Ne || !small) return false;
          uint32_t base = field(*p.lhs);
          if (base == UINT32_MAX) return false;
          uint64_t c = number(p.value), top = (len == 4 ? 0xffffffffull : (1ull << (8 * len)) - 1);
          switch (p.op) {
            case ir::CmpOp::Lt: if (c == 0) out.never = true; else constrain(base, 0, c - 1); break;
            case ir::CmpOp::Le: constrain(base, 0, c); break;
            case ir::CmpOp::Gt: if (c == top) out.never = true; else constrain(base, c + 1, top); break;
            default: constrain(base, c, top); break;
          }
          continue;
        }
        case ir::PredKind::Range: {
          if (p.negate || !small || p.value.size() != len || p.hi.size() != len) return false;
          uint32_t base = field(*p.lhs);
          if (base == UINT32_MAX) return false;
          constrain(base, number(p.value), number(p.hi));
          continue;
        }
        case ir::PredKind::Prefix: {
          if (p.negate || p.lhs->order != ir::Order::Big || p.value.size() != len || p.prefix > len * 8) return false;
          uint32_t base = field(*p.lhs);
          if (base == UINT32_MAX) return false;
          const uint32_t nwords = small ? 1 : (len + 3) / 4;
          for (uint32_t w = 0; w < nwords; ++w) {
            uint32_t from = small ? 0 : 32 * w, width = small ? 8 * len : 8 * (std::min(len, 4 * w + 4) - 4 * w);
            if (p.prefix <= from) {  // wildcard from here on
              // A /0 prefix fixes no bit, but the load must still not break:
              // the first word's whole range keeps kAbsent out.
              if (w == 0) constrain(base, 0, width == 32 ? 0xffffffffull : (1ull << width) - 1);
              break;
            }
            uint64_t v = small ? number(p.value) : word_of(p.value, w);
            uint32_t fixed = std::min(p.prefix - from, width);
            uint64_t free_mask = fixed == width ? 0 : (1ull << (width - fixed)) - 1;
            constrain(base + w, v & ~free_mask, v | free_mask);
          }
          continue;
        }
        default: return false;
      }
    }
    for (; i < r.stmts.size() && r.stmts[i].kind == ir::StmtKind::Counter; ++i) out.counters.push_back(&r.stmts[i]);
    if (i + 1 != r.stmts.size() || r.stmts[i].kind != ir::StmtKind::Verdict) return false;
    const ir::Verdict& v = r.stmts[i].verdict;
    if (v.code != ir::VerdictCode::Accept && v.code != ir::VerdictCode::Drop) return false;
    out.verdict = v;
    out.handle = r.handle;
    for (const auto& [word, lohi] : ranges) {
      if (lohi.first > lohi.second) out.never = true;
      out.ranges.push_back({word, lohi.first, lohi.second});
    }
    return true;
  }

 private:
  // The first key word of a field, adding it if new (UINT32_MAX: too many).
  uint32_t field(const ir::Value& v) {
    std::string key = fmt::format("{}|{}|{}", ir::print_value(v), v.len, static_cast<int>(v.order));
    if (auto it = by_key.find(key); it != by_key.end()) return fields[it->second].first;
    uint32_t n = v.len <= 4 ? 1 : (v.len + 3) / 4;
    if (words + n > kMaxWords) return UINT32_MAX;
    by_key[key] = fields.size();
    fields.push_back({&v, n, words});
    words += n;
    return fields.back().first;
  }
};

}  // namespace

size_t Codegen::classify_run(const ir::Chain& chain, size_t first, llvm::BasicBlock* next) {
  RunBuilder run;
  std::vector<Shape> shapes;
  for (size_t i = first; i < chain.rules.size(); ++i) {
    RunBuilder trial = run;  // a rule that does not fit leaves the run as it was
    Shape s;
    if (!trial.shape(chain.rules[i], s)) break;
    run = std::move(trial);
    shapes.push_back(std::move(s));
  }
  if (shapes.size() < options_.classify_min_rules) return 0;

  std::vector<std::vector<vm::Classifier::Range>> rules;
  std::vector<size_t> rule_of;  // classifier rule -> shape
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (shapes[i].never) continue;
    rules.push_back(shapes[i].ranges);
    rule_of.push_back(i);
  }
  auto classifier = vm::Classifier::build(run.words, rules);
  stats_.classifiers++;
  stats_.classified_rules += shapes.size();
  stats_.classifier_bytes += classifier->memory_bytes();

  // The keys: every field loaded once.
  llvm::Type* i64 = b_.getInt64Ty();
  llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
  llvm::Value* keys = entry.CreateAlloca(i64, b_.getInt32(std::max<uint32_t>(run.words, 1)));
  for (const Field& f : run.fields) {
    llvm::BasicBlock* absent = block("field.absent");
    llvm::BasicBlock* after = block("field.done");
    llvm::Value* x = value(*f.value, absent);
    const uint32_t len = f.value->len;
    auto store = [&](uint32_t word, llvm::Value* n) {
      b_.CreateStore(n, b_.CreateConstInBoundsGEP1_64(i64, keys, f.first + word));
    };
    // The big-endian number of `width` bytes: byte-swapped as 4 bytes, then
    // shifted down (bswap needs an even number of bytes).
    auto big_number = [&](llvm::Value* bytes, uint32_t width) {
      if (width == 1) return b_.CreateZExt(bytes, i64);
      llvm::Value* n = b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, b_.CreateZExt(bytes, b_.getInt32Ty()));
      return b_.CreateZExt(b_.CreateLShr(n, 8 * (4 - width)), i64);
    };
    if (len <= 4) {
      store(0, f.value->order == ir::Order::Big ? big_number(x, len) : b_.CreateZExt(x, i64));
    } else {
      for (uint32_t w = 0; w < f.words; ++w) {
        uint32_t width = std::min(len, 4 * w + 4) - 4 * w;
        store(w, big_number(b_.CreateTrunc(b_.CreateLShr(x, 32 * w), b_.getIntNTy(8 * width)), width));
      }
    }
    b_.CreateBr(after);
    b_.SetInsertPoint(absent);
    for (uint32_t w = 0; w < f.words; ++w) store(w, b_.getInt64(vm::Classifier::kAbsent));
    b_.CreateBr(after);
    b_.SetInsertPoint(after);
  }
  llvm::Value* hit = b_.CreateCall(abi_.classify, {ptr_const(classifier.get()), keys});
  llvm::BasicBlock* matched = block("classified");
  b_.CreateCondBr(b_.CreateICmpSGE(hit, b_.getInt32(0)), matched, next);
  b_.SetInsertPoint(matched);
  // Counters of the rules that have them, then the rule's handle and
  // verdict from two constant tables: a switch with a block per rule would
  // cost LLVM seconds at ten thousand rules.
  llvm::BasicBlock* decide = block("classified.verdict");
  std::vector<size_t> counted;
  for (size_t k = 0; k < rule_of.size(); ++k)
    if (!shapes[rule_of[k]].counters.empty()) counted.push_back(k);
  auto* sw = b_.CreateSwitch(hit, decide, static_cast<unsigned>(counted.size()));
  for (size_t k : counted) {
    llvm::BasicBlock* count = block("classified.counter");
    sw->addCase(b_.getInt32(static_cast<uint32_t>(k)), count);
    b_.SetInsertPoint(count);
    for (const ir::Stmt* c : shapes[rule_of[k]].counters) counter(*c);
    b_.CreateBr(decide);
  }
  b_.SetInsertPoint(decide);
  std::vector<llvm::Constant*> handles, codes;
  for (size_t k : rule_of) {
    handles.push_back(b_.getInt64(shapes[k].handle));
    codes.push_back(b_.getInt32(static_cast<uint32_t>(shapes[k].verdict.code)));
  }
  auto table = [&](llvm::Type* type, std::vector<llvm::Constant*>& values, const char* name) {
    auto* array = llvm::ArrayType::get(type, values.size());
    auto* g = new llvm::GlobalVariable(*module_, array, true, llvm::GlobalValue::PrivateLinkage,
                                       llvm::ConstantArray::get(array, values), name);
    llvm::Value* idx[] = {b_.getInt64(0), b_.CreateZExt(hit, b_.getInt64Ty())};
    return b_.CreateLoad(type, b_.CreateInBoundsGEP(array, g, idx));
  };
  llvm::Value* handle = table(b_.getInt64Ty(), handles, "classified_handles");
  llvm::Value* code = table(b_.getInt32Ty(), codes, "classified_verdicts");
  llvm::Value* at = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), ctx_arg_, offsetof(vm::NativeCtx, handle));
  b_.CreateStore(handle, b_.CreateBitCast(at, b_.getInt64Ty()->getPointerTo()));
  b_.CreateRet(code);
  classifiers_.push_back(std::move(classifier));
  return shapes.size();
}

}  // namespace nfx::jit
