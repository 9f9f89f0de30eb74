// Classifier: first-match classification over numeric fields, the decision
// structure the JIT compiles runs of pure match rules into.
//
// The structure is a multi-way cut tree in the manner of HyperSplit
// (Qi et al., "Packet classification algorithms: from theory to practice",
// INFOCOM 2009): each node cuts one field's interval into up to kFanout
// pieces at rule endpoints chosen so the pieces hold about equal shares of
// the rules' weighted segments, and the field whose cuts leave the smallest
// children wins. A region with few rules left becomes a leaf whose rules are
// checked in priority order. Along the way a rule that covers a whole region
// hides every later rule there, and in small regions each rule that one
// earlier rule covers there is dropped (redundancy removal).
//
// Values. Fields are at most 32 bits wide. A key above 0xFFFFFFFF (kAbsent
// is one) is a broken load: it lies in no range, so a rule with a range on
// that field cannot match, while a rule without one can. The build sees the
// domain of each field as [0, 2^32], with 2^32 standing for every absent
// key; a rule lacking a field has [0, 2^32] there, a range is clamped to
// [lo, min(hi, 0xFFFFFFFF)], and a rule whose range is empty can never
// match and is left out.
//
// Layout (all flat arrays, indexes rather than pointers):
//  - nodes: one 64-byte line each, kFanout - 1 thresholds, the field and
//    kFanout child references. A key goes to child i where i is the number
//    of thresholds below it; unused thresholds are 0xFFFFFFFF with the last
//    real child repeated after them, so a key above every threshold lands
//    on it whichever slot it counts to.
//  - leaves, in one uint32_t pool: blocks of at most 32 rules in priority
//    order. A block has a header, its rules' indexes, then for each field
//    some rule of the block must check there (the others' ranges cover the
//    leaf's whole region in that field) the field, a mask of the rules that
//    pass it anyway, and the other rules' clipped ranges as lo[] and
//    span[] = hi - lo, so checking a block is a tight loop per field over
//    contiguous words that leaves a bit mask of the rules still matching.
#include "classifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <deque>
#include <limits>
#include <stdexcept>

namespace nfx::vm {

namespace classifier {

namespace {

constexpr uint64_t kTop = uint64_t{1} << 32;  // where absent keys lie in the build's domain
constexpr uint64_t kMaxValue = kTop - 1;
constexpr unsigned kFanout = 8;
constexpr uint32_t kLeaf = 0x80000000u;     // a child reference with this bit is a leaf's pool offset
constexpr uint32_t kNoMatch = 0xFFFFFFFFu;  // the empty leaf
constexpr uint32_t kBlockRules = 32;

struct alignas(64) Node {
  uint32_t h[kFanout - 1];  // child i takes the keys in (h[i-1], h[i]]
  uint32_t field;
  uint32_t child[kFanout];
};
static_assert(sizeof(Node) == 64);

// Block header: rule count, checked field count, last block of its leaf.
constexpr uint32_t block_header(uint32_t rules, uint32_t checks, bool last) {
  return rules | checks << 8 | (last ? 1u << 31 : 0);
}
constexpr uint32_t padded(uint32_t rules) { return (rules + 3) & ~3u; }

struct Shape {
  size_t rules = 0, kept = 0, fields = 0;
  size_t nodes = 0, leaves = 0, max_depth = 0, max_leaf = 0, leaf_rules = 0;
  bool capped = false;  // the entry budget or the depth limit cut the build short somewhere
};

class Tree final : public Classifier {
 public:
  int32_t lookup(const uint64_t* keys) const override {
    uint32_t best = kNoMatch;
    for (const Group& group : groups_) {
      if (group.first >= best) break;
      best = std::min(best, walk(group.root, keys));
    }
    return static_cast<int32_t>(best);
  }

  // The first rule of one group's tree that matches (kNoMatch: none).
  uint32_t walk(uint32_t ref, const uint64_t* keys) const {
    const Node* nodes = nodes_.data();
    while (!(ref & kLeaf)) {
      const Node& node = nodes[ref];
      const uint64_t wide = keys[node.field];
      const uint32_t key = wide > kMaxValue ? 0xFFFFFFFFu : static_cast<uint32_t>(wide);
      const uint32_t* h = node.h;
      ref = node.child[((key > h[0]) + (key > h[1])) + ((key > h[2]) + (key > h[3])) +
                       ((key > h[4]) + (key > h[5]) + (key > h[6]))];
    }
    if (ref == kNoMatch) return kNoMatch;
    return scan(pool_.data() + (ref & ~kLeaf), keys);
  }

  size_t memory_bytes() const override {
    return sizeof(*this) + nodes_.capacity() * sizeof(Node) + pool_.capacity() * sizeof(uint32_t);
  }

  std::string describe() const override {
    return fmt::format(
        "cut trees: {} rules ({} can match), {} fields; {} groups, {} nodes, {} leaves, depth {}; leaf rules max {} avg {:.1f}; "
        "{} bytes{}",
        shape_.rules, shape_.kept, shape_.fields, groups_.size(), shape_.nodes, shape_.leaves, shape_.max_depth, shape_.max_leaf,
        shape_.leaves ? static_cast<double>(shape_.leaf_rules) / static_cast<double>(shape_.leaves) : 0.0,
        memory_bytes(), shape_.capped ? " (capped)" : "");
  }

  static uint32_t scan(const uint32_t* block, const uint64_t* keys) {
    for (;;) {
      const uint32_t header = block[0];
      const uint32_t n = header & 0x3F, checks = (header >> 8) & 0xFF, stride = padded(n);
      const uint32_t* ids = block + 1;
      const uint32_t* check = ids + n;
      const uint32_t* end = check + checks * (2 + 2 * stride);
      uint32_t live = n == 32 ? ~0u : (1u << n) - 1;
      for (uint32_t c = 0; c < checks && live; ++c, check += 2 + 2 * stride) {
        const uint64_t key = keys[check[0]];
        uint32_t in = 0;
        if (key <= kMaxValue) {
          const uint32_t k = static_cast<uint32_t>(key);
          const uint32_t* lo = check + 2;
          const uint32_t* span = lo + stride;
          for (uint32_t i = 0; i < n; ++i) in |= static_cast<uint32_t>(k - lo[i] <= span[i]) << i;
        }
        live &= in | check[1];
      }
      if (live) return ids[std::countr_zero(live)];
      if (header >> 31) return kNoMatch;
      block = end;
    }
  }

  // A tree per group of rules alike in which fields they leave (nearly)
  // open, in the order of their first rules: a group whose first rule comes
  // after the best match so far cannot improve on it.
  struct Group {
    uint32_t first = 0;  // its first rule
    uint32_t root = kNoMatch;
  };
  std::vector<Group> groups_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> pool_;
  Shape shape_;
};

class Builder {
 public:
  Builder(uint32_t fields, const Options& options) : fields_(fields), options_(options) {}

  // Adds rule `index`; false when it can never match.
  bool add(const std::vector<Classifier::Range>& ranges, uint32_t index) {
    const size_t base = lo_.size();
    lo_.resize(base + fields_, 0);
    hi_.resize(base + fields_, kTop);
    for (const Classifier::Range& range : ranges) {
      if (range.field >= fields_)
        throw std::invalid_argument(
            fmt::format("classifier: rule {} has a range on field {} of {}", index, range.field, fields_));
      lo_[base + range.field] = std::max(lo_[base + range.field], range.lo);
      hi_[base + range.field] = std::min(hi_[base + range.field], std::min(range.hi, kMaxValue));
    }
    for (uint32_t f = 0; f < fields_; ++f)
      if (lo_[base + f] > hi_[base + f]) {
        lo_.resize(base);
        hi_.resize(base);
        return false;
      }
    ids_.push_back(index);
    return true;
  }

  std::unique_ptr<Tree> run(size_t rules) {
    tree_ = std::make_unique<Tree>();
    tree_->shape_.rules = rules;
    tree_->shape_.kept = ids_.size();
    tree_->shape_.fields = fields_;
    budget_ = options_.entry_budget ? options_.entry_budget : 64 * uint64_t{ids_.size()} + (uint64_t{1} << 20);

    std::vector<std::vector<uint32_t>> groups = partition();
    tree_->groups_.resize(groups.size());
    for (uint32_t g = 0; g < groups.size(); ++g) {
      tree_->groups_[g].first = ids_[groups[g].front()];
      Work root;
      root.parent = kNoMatch;
      root.slot = g;
      root.region.resize(2 * size_t{fields_});
      for (uint32_t f = 0; f < fields_; ++f) root.region[2 * f] = 0, root.region[2 * f + 1] = kTop;
      root.rules = std::move(groups[g]);
      queue_.push_back(std::move(root));
    }
    while (!queue_.empty()) {
      Work work = std::move(queue_.front());
      queue_.pop_front();
      process(work);
    }
    tree_->nodes_.shrink_to_fit();
    tree_->pool_.shrink_to_fit();
    tree_->shape_.nodes = tree_->nodes_.size();
    return std::move(tree_);
  }

 private:
  struct Work {
    uint32_t parent = kNoMatch;  // the node whose child this is (kNoMatch: the root)
    uint32_t slot = 0;
    uint32_t depth = 0;
    std::vector<uint64_t> region;  // per field: lo, hi
    std::vector<uint32_t> rules;   // in priority order
  };

  uint64_t lo(uint32_t rule, uint32_t field) const { return lo_[size_t{rule} * fields_ + field]; }
  uint64_t hi(uint32_t rule, uint32_t field) const { return hi_[size_t{rule} * fields_ + field]; }

  bool covers_region(uint32_t rule, const uint64_t* region) const {
    for (uint32_t f = 0; f < fields_; ++f)
      if (lo(rule, f) > region[2 * f] || hi(rule, f) < region[2 * f + 1]) return false;
    return true;
  }

  // Whether `outer` matches wherever `inner` does inside `region`.
  bool covers(uint32_t outer, uint32_t inner, const uint64_t* region) const {
    for (uint32_t f = 0; f < fields_; ++f)
      if (lo(outer, f) > std::max(lo(inner, f), region[2 * f]) || hi(outer, f) < std::min(hi(inner, f), region[2 * f + 1]))
        return false;
    return true;
  }

  void prune(std::vector<uint32_t>& rules, const uint64_t* region) const {
    size_t kept = 0;
    for (size_t i = 0; i < rules.size(); ++i) {
      bool hidden = false;
      for (size_t j = 0; j < kept && !hidden; ++j) hidden = covers(rules[j], rules[i], region);
      if (!hidden) rules[kept++] = rules[i];
    }
    rules.resize(kept);
  }

  // Splits the rules into groups by which of the most telling fields they
  // are large on, in the manner of EffiCuts (Vamanan et al., SIGCOMM 2010)
  // and CutSplit (Li et al., INFOCOM 2018): cutting a field splits the
  // rules small there and copies the large ones into every piece, so rules
  // large where others are small get trees of their own. A rule is large on
  // a field where it has no range or one over 1/large_share of what all
  // rules' ranges there span; the telling fields are the group_fields with
  // the most distinct small ranges (for 5-tuples: the two addresses). The
  // smallest group then merges into the one it adds the fewest large
  // fields to, until none has under min_group rules (or 1/64 of them). The
  // groups, each in priority order, come out in the order of their first
  // rules.
  std::vector<std::vector<uint32_t>> partition() const {
    const uint32_t n = static_cast<uint32_t>(ids_.size());
    if (n == 0) return {};
    std::vector<uint64_t> low(fields_, kTop), high(fields_, 0);
    for (uint32_t r = 0; r < n; ++r)
      for (uint32_t f = 0; f < fields_; ++f)
        if (hi(r, f) < kTop) low[f] = std::min(low[f], lo(r, f)), high[f] = std::max(high[f], hi(r, f));
    auto large = [&](uint32_t r, uint32_t f) {
      return hi(r, f) == kTop || (hi(r, f) - lo(r, f) + 1) * options_.large_share > high[f] - low[f] + 1;
    };
    std::vector<std::pair<size_t, uint32_t>> telling;  // distinct small ranges, field
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (uint32_t f = 0; f < fields_; ++f) {
      ranges.clear();
      for (uint32_t r = 0; r < n; ++r)
        if (!large(r, f)) ranges.emplace_back(lo(r, f), hi(r, f));
      std::sort(ranges.begin(), ranges.end());
      const size_t distinct = static_cast<size_t>(std::unique(ranges.begin(), ranges.end()) - ranges.begin());
      if (distinct > 1) telling.emplace_back(distinct, f);
    }
    std::sort(telling.begin(), telling.end(), std::greater<>());
    telling.resize(std::min<size_t>(telling.size(), std::min<uint32_t>(options_.group_fields, 64)));

    struct Group {
      uint64_t large = 0;
      std::vector<uint32_t> rules;
    };
    std::vector<Group> groups;
    for (uint32_t r = 0; r < n; ++r) {
      uint64_t mask = 0;
      for (size_t t = 0; t < telling.size(); ++t)
        if (large(r, telling[t].second)) mask |= uint64_t{1} << t;
      auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.large == mask; });
      if (it == groups.end()) it = groups.insert(groups.end(), Group{mask, {}});
      it->rules.push_back(r);
    }
    const size_t min_group = std::max<size_t>(options_.min_group, n / 64);
    while (groups.size() > 1) {
      size_t small = 0;
      for (size_t g = 1; g < groups.size(); ++g)
        if (groups[g].rules.size() < groups[small].rules.size()) small = g;
      if (groups[small].rules.size() >= min_group) break;
      size_t into = small == 0 ? 1 : 0;
      auto added = [&](size_t g) { return std::popcount(groups[g].large | groups[small].large) - std::popcount(groups[g].large); };
      for (size_t g = 0; g < groups.size(); ++g)
        if (g != small && (added(g) < added(into) ||
                           (added(g) == added(into) && groups[g].rules.size() > groups[into].rules.size())))
          into = g;
      std::vector<uint32_t> merged(groups[into].rules.size() + groups[small].rules.size());
      std::merge(groups[into].rules.begin(), groups[into].rules.end(), groups[small].rules.begin(),
                 groups[small].rules.end(), merged.begin());
      groups[into].rules = std::move(merged);
      groups[into].large |= groups[small].large;
      groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(small));
    }
    std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.rules[0] < b.rules[0]; });
    std::vector<std::vector<uint32_t>> out;
    for (Group& g : groups) out.push_back(std::move(g.rules));
    return out;
  }

  void link(uint32_t parent, uint32_t slot, uint32_t ref) {
    if (parent == kNoMatch) {
      tree_->groups_[slot].root = ref;
      return;
    }
    Node& node = tree_->nodes_[parent];
    node.child[slot] = ref;
    if (slot == last_child_[parent])
      for (uint32_t s = slot + 1; s < kFanout; ++s) node.child[s] = ref;
  }

  void process(Work& work) {
    std::vector<uint32_t>& rules = work.rules;
    const uint64_t* region = work.region.data();
    for (size_t i = 0; i < rules.size(); ++i)
      if (covers_region(rules[i], region)) {
        rules.resize(i + 1);
        break;
      }
    if (rules.size() > 1 && rules.size() <= options_.prune_rules) prune(rules, region);
    if (rules.size() <= options_.leaf_rules) return link(work.parent, work.slot, leaf(rules, region, work.depth));
    if (work.depth >= options_.max_depth || entries_ > budget_ || !choose(rules, region)) {
      tree_->shape_.capped = true;
      return link(work.parent, work.slot, leaf(rules, region, work.depth));
    }

    const uint32_t field = best_field_;
    const std::vector<uint64_t>& cuts = best_cuts_;
    const uint32_t children = static_cast<uint32_t>(cuts.size()) + 1;
    const uint32_t index = static_cast<uint32_t>(tree_->nodes_.size());
    Node& node = tree_->nodes_.emplace_back();
    last_child_.push_back(children - 1);
    node.field = field;
    for (uint32_t j = 0; j < kFanout - 1; ++j) node.h[j] = j < cuts.size() ? static_cast<uint32_t>(cuts[j]) : 0xFFFFFFFFu;
    link(work.parent, work.slot, index);

    std::vector<std::vector<uint32_t>> lists(children);
    const uint64_t rlo = region[2 * field], rhi = region[2 * field + 1];
    for (uint32_t rule : rules) {
      const auto first = std::lower_bound(cuts.begin(), cuts.end(), std::max(lo(rule, field), rlo)) - cuts.begin();
      const auto last = std::lower_bound(cuts.begin(), cuts.end(), std::min(hi(rule, field), rhi)) - cuts.begin();
      for (auto c = first; c <= last; ++c) lists[static_cast<size_t>(c)].push_back(rule);
    }
    for (uint32_t c = 0; c < children; ++c) {
      if (lists[c].empty()) {
        link(index, c, kNoMatch);
        continue;
      }
      Work child;
      child.parent = index;
      child.slot = c;
      child.depth = work.depth + 1;
      child.region = work.region;
      child.region[2 * field] = c == 0 ? rlo : cuts[c - 1] + 1;
      child.region[2 * field + 1] = c + 1 == children ? rhi : cuts[c];
      child.rules = std::move(lists[c]);
      entries_ += child.rules.size();
      queue_.push_back(std::move(child));
    }
  }

  // Picks the field and cuts for a region: on each field, cuts at the
  // boundaries where the running weight of the elementary segments (the
  // rules over each, at least 1) crosses each kFanout-th of the total; the
  // field whose children then hold the fewest rules on average wins.
  // False when no field has two segments (every rule spans the region).
  bool choose(const std::vector<uint32_t>& rules, const uint64_t* region) {
    double best = std::numeric_limits<double>::infinity();
    bool found = false;
    for (uint32_t f = 0; f < fields_; ++f) {
      const uint64_t rlo = region[2 * f], rhi = region[2 * f + 1];
      events_.clear();
      for (uint32_t rule : rules) {
        events_.push_back(std::max(lo(rule, f), rlo) << 1 | 1);
        events_.push_back((std::min(hi(rule, f), rhi) + 1) << 1);
      }
      std::sort(events_.begin(), events_.end());
      bounds_.assign(1, rlo);
      counts_.assign(1, 0);
      int64_t over = 0;
      for (size_t i = 0; i < events_.size();) {
        const uint64_t x = events_[i] >> 1;
        for (; i < events_.size() && events_[i] >> 1 == x; ++i) over += (events_[i] & 1) ? 1 : -1;
        // No cut between 0xFFFFFFFF and the absent keys: walks see those
        // as 0xFFFFFFFF, and leaves tell them apart.
        if (x > rhi || x == kTop) break;
        if (x == bounds_.back()) {
          counts_.back() = static_cast<uint64_t>(over);
        } else {
          bounds_.push_back(x);
          counts_.push_back(static_cast<uint64_t>(over));
        }
      }
      const size_t segments = bounds_.size();
      if (segments < 2) continue;

      uint64_t total = 0;
      for (uint64_t c : counts_) total += std::max<uint64_t>(c, 1);
      cuts_.clear();
      uint64_t run = 0, target = 1;
      for (size_t j = 0; j + 1 < segments && target < kFanout; ++j) {
        run += std::max<uint64_t>(counts_[j], 1);
        if (run * kFanout < total * target) continue;
        cuts_.push_back(bounds_[j + 1] - 1);
        while (target < kFanout && run * kFanout >= total * target) ++target;
      }
      if (cuts_.empty()) cuts_.push_back(bounds_[segments - 1] - 1);

      sizes_.assign(cuts_.size() + 2, 0);
      uint64_t entries = 0;
      for (uint32_t rule : rules) {
        const auto first = std::lower_bound(cuts_.begin(), cuts_.end(), std::max(lo(rule, f), rlo)) - cuts_.begin();
        const auto last = std::lower_bound(cuts_.begin(), cuts_.end(), std::min(hi(rule, f), rhi)) - cuts_.begin();
        ++sizes_[static_cast<size_t>(first)];
        --sizes_[static_cast<size_t>(last) + 1];
        entries += static_cast<uint64_t>(last - first + 1);
      }
      const double score = static_cast<double>(entries) / static_cast<double>(cuts_.size() + 1);
      if (score < best) {
        best = score;
        found = true;
        best_field_ = f;
        best_cuts_ = cuts_;
      }
    }
    return found;
  }

  uint32_t leaf(const std::vector<uint32_t>& rules, const uint64_t* region, uint32_t depth) {
    if (rules.empty()) return kNoMatch;
    Shape& shape = tree_->shape_;
    ++shape.leaves;
    shape.leaf_rules += rules.size();
    shape.max_leaf = std::max(shape.max_leaf, rules.size());
    shape.max_depth = std::max<size_t>(shape.max_depth, depth);
    std::vector<uint32_t>& pool = tree_->pool_;
    const uint32_t offset = static_cast<uint32_t>(pool.size());
    for (size_t first = 0; first < rules.size(); first += kBlockRules) {
      const uint32_t n = static_cast<uint32_t>(std::min<size_t>(kBlockRules, rules.size() - first));
      const uint32_t stride = padded(n);
      const size_t header = pool.size();
      pool.push_back(0);
      for (uint32_t i = 0; i < n; ++i) pool.push_back(ids_[rules[first + i]]);
      uint32_t checks = 0;
      for (uint32_t f = 0; f < fields_; ++f) {
        const uint64_t rlo = region[2 * f], rhi = region[2 * f + 1];
        uint32_t pass = 0;
        for (uint32_t i = 0; i < n; ++i)
          if (lo(rules[first + i], f) <= rlo && hi(rules[first + i], f) >= rhi) pass |= 1u << i;
        if (pass == (n == 32 ? ~0u : (1u << n) - 1)) continue;
        ++checks;
        pool.push_back(f);
        pool.push_back(pass);
        const size_t lo_at = pool.size();
        pool.resize(pool.size() + 2 * stride, 0);
        for (uint32_t i = 0; i < n; ++i) {
          if (pass >> i & 1) continue;
          // Not covering the region, so a real range: hi <= kMaxValue.
          const uint64_t l = std::max(lo(rules[first + i], f), rlo), h = std::min(hi(rules[first + i], f), rhi);
          pool[lo_at + i] = static_cast<uint32_t>(l);
          pool[lo_at + stride + i] = static_cast<uint32_t>(h - l);
        }
      }
      pool[header] = block_header(n, checks, first + n == rules.size());
    }
    return kLeaf | offset;
  }

  const uint32_t fields_;
  const Options options_;
  std::vector<uint64_t> lo_, hi_;  // per rule that can match, per field: its range (no range: [0, kTop])
  std::vector<uint32_t> ids_;      // per rule that can match: its index in the input
  std::unique_ptr<Tree> tree_;
  std::deque<Work> queue_;
  std::vector<uint32_t> last_child_;  // per node: its last real child slot
  uint64_t budget_ = 0, entries_ = 0;
  // choose()'s scratch and result.
  std::vector<uint64_t> events_, bounds_, counts_, cuts_, best_cuts_;
  std::vector<int64_t> sizes_;
  uint32_t best_field_ = 0;
};

}  // namespace

std::unique_ptr<Classifier> build(uint32_t fields, const std::vector<std::vector<Classifier::Range>>& rules,
                                  const Options& options) {
  if (rules.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw std::invalid_argument("classifier: too many rules");
  Builder builder(fields, options);
  for (size_t i = 0; i < rules.size(); ++i) builder.add(rules[i], static_cast<uint32_t>(i));
  return builder.run(rules.size());
}

}  // namespace classifier

std::unique_ptr<Classifier> Classifier::build(uint32_t fields, const std::vector<std::vector<Range>>& rules) {
  return classifier::build(fields, rules, classifier::Options{});
}

}  // namespace nfx::vm
