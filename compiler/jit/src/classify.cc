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
//
// Widened fields. nft loads only the bytes a prefix fixes (`ip saddr
// 10.0.0.0/8` reads one byte, /16 two, /24 three), so a ClassBench-like set
// reads each address as up to four fields; a rule that lacks a field is
// copied into every piece a cut of it makes, and the tree grows large.
// Loads of one header at one offset are therefore read once, as wide as the
// widest of them, and each narrow range is widened to the same bytes
// (shifted up, the new low bytes free). That is exact while the wide load
// fits; a packet where it breaks (a truncated header) is looked up instead
// by a linear scan over the rules as written, on keys loaded as written.
#include <fmt/format.h>

#include <deque>
#include <map>
#include <tuple>

#include "codegen.h"

namespace nfx::jit {

namespace {

constexpr size_t kMaxWords = 24;  // field words one run may read

struct Field {
  const ir::Value* value;
  uint32_t words;  // 4-byte words (a value of up to 4 bytes is one number)
  uint32_t first;  // index of its first word among the run's keys
  bool widened = false;  // a widened load standing for several (Widened)
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

// Where a transport load reads its base from (codegen_value.cc): the
// kernel's fast path for aligned loads differs on later fragments.
bool transport_fast(uint32_t len, uint32_t offset) { return (len == 1 || len == 2 || len == 4) && offset % len == 0; }

// The run's keys with loads of one header at one offset read once.
struct Widened {
  std::deque<ir::Value> values;     // the widened loads (Field::value points here)
  std::vector<Field> fields;
  uint32_t words = 0;
  std::vector<uint32_t> word_of;    // a RunBuilder word -> its word here
  std::vector<uint32_t> shift_of;   // bits its numbers move up by
  bool merged = false;              // some field stands for several loads
};

Widened widen(const RunBuilder& run) {
  auto mergeable = [](const ir::Value& v) {
    return v.kind == ir::ValueKind::Payload && v.len <= 4 && v.order == ir::Order::Big &&
           (v.base == ir::PayloadBase::Network || v.base == ir::PayloadBase::Transport);
  };
  auto group_of = [](const ir::Value& v) {
    bool fast = v.base == ir::PayloadBase::Transport && transport_fast(v.len, v.offset);
    return std::tuple{static_cast<int>(v.base), v.offset, fast};
  };
  std::map<std::tuple<int, uint32_t, bool>, uint32_t> width;  // widest load of each group
  for (const Field& f : run.fields)
    if (mergeable(*f.value)) {
      uint32_t& w = width[group_of(*f.value)];
      w = std::max(w, f.value->len);
    }
  Widened out;
  out.word_of.resize(run.words);
  out.shift_of.resize(run.words);
  std::map<std::tuple<int, uint32_t, bool>, uint32_t> placed;  // group -> its word here
  for (const Field& f : run.fields) {
    if (mergeable(*f.value)) {
      auto g = group_of(*f.value);
      const uint32_t w = width[g];
      const bool same_path = f.value->base != ir::PayloadBase::Transport || transport_fast(w, f.value->offset) == std::get<2>(g);
      if (same_path) {
        auto [it, fresh] = placed.try_emplace(g, out.words);
        if (fresh) {
          ir::Value& wide = out.values.emplace_back(*f.value);
          wide.len = w;
          out.fields.push_back({&wide, 1, out.words++});
        }
        out.word_of[f.first] = it->second;
        out.shift_of[f.first] = 8 * (w - f.value->len);
        continue;
      }
    }
    out.fields.push_back({f.value, f.words, out.words});
    for (uint32_t k = 0; k < f.words; ++k) out.word_of[f.first + k] = out.words + k;
    out.words += f.words;
  }
  // Fields that several loads map to are the widened ones.
  std::vector<uint32_t> users(out.words, 0);
  for (const Field& f : run.fields) users[out.word_of[f.first]]++;
  for (Field& f : out.fields)
    if (users[f.first] > 1) f.widened = true, out.merged = true;
  return out;
}

// A rule's ranges on the widened keys (false: they contradict).
bool widen_ranges(const Widened& wide, const std::vector<vm::Classifier::Range>& ranges,
                  std::vector<vm::Classifier::Range>& out) {
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> at;
  for (const auto& r : ranges) {
    const uint32_t s = wide.shift_of[r.field];
    const uint64_t lo = r.lo << s, hi = r.hi << s | ((uint64_t{1} << s) - 1);
    auto [it, fresh] = at.try_emplace(wide.word_of[r.field], lo, hi);
    if (!fresh) it->second = {std::max(it->second.first, lo), std::min(it->second.second, hi)};
    if (it->second.first > it->second.second) return false;
  }
  out.clear();
  for (const auto& [word, lohi] : at) out.push_back({word, lohi.first, lohi.second});
  return true;
}

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

  const Widened wide = widen(run);
  std::vector<std::vector<vm::Classifier::Range>> rules, wide_rules;
  std::vector<size_t> rule_of;  // classifier rule -> shape
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::vector<vm::Classifier::Range> ranges;
    if (shapes[i].never || !widen_ranges(wide, shapes[i].ranges, ranges)) continue;
    rules.push_back(shapes[i].ranges);
    wide_rules.push_back(std::move(ranges));
    rule_of.push_back(i);
  }
  auto classifier = vm::Classifier::build(wide.words, wide_rules);
  auto narrow = wide.merged ? vm::Classifier::build_linear(run.words, rules) : nullptr;
  stats_.classifiers++;
  stats_.classified_rules += shapes.size();
  stats_.classifier_bytes += classifier->memory_bytes() + (narrow ? narrow->memory_bytes() : 0);

  // The keys: every field loaded once; where a widened load breaks, the
  // loads as written and the linear scan.
  llvm::Type* i64 = b_.getInt64Ty();
  // Stores the fields' numbers into a new key array; a broken load stores
  // kAbsent, or for a widened field goes to `widened_fail` if there is one.
  auto load_keys = [&](const std::vector<Field>& fields, uint32_t words, llvm::BasicBlock* widened_fail) {
    llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
    llvm::Value* keys = entry.CreateAlloca(i64, b_.getInt32(std::max<uint32_t>(words, 1)));
    for (const Field& f : fields) {
      const bool to_narrow = f.widened && widened_fail;
      llvm::BasicBlock* absent = to_narrow ? widened_fail : block("field.absent");
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
      if (!to_narrow) {
        b_.SetInsertPoint(absent);
        for (uint32_t w = 0; w < f.words; ++w) store(w, b_.getInt64(vm::Classifier::kAbsent));
        b_.CreateBr(after);
      }
      b_.SetInsertPoint(after);
    }
    return keys;
  };
  llvm::BasicBlock* narrow_keys = narrow ? block("classify.narrow") : nullptr;
  llvm::BasicBlock* looked_up = block("classify.hit");
  std::vector<std::pair<llvm::Value*, llvm::BasicBlock*>> hits;
  llvm::Value* wide_keys = load_keys(wide.fields, wide.words, narrow_keys);
  hits.emplace_back(b_.CreateCall(abi_.classify, {ptr_const(classifier.get()), wide_keys}), b_.GetInsertBlock());
  b_.CreateBr(looked_up);
  if (narrow) {
    b_.SetInsertPoint(narrow_keys);
    llvm::Value* keys = load_keys(run.fields, run.words, nullptr);
    hits.emplace_back(b_.CreateCall(abi_.classify, {ptr_const(narrow.get()), keys}), b_.GetInsertBlock());
    b_.CreateBr(looked_up);
    classifiers_.push_back(std::move(narrow));
  }
  b_.SetInsertPoint(looked_up);
  llvm::PHINode* hit = b_.CreatePHI(b_.getInt32Ty(), static_cast<unsigned>(hits.size()));
  for (auto& [v, from] : hits) hit->addIncoming(v, from);
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
