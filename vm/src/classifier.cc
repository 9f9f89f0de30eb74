// Classifier: first-match classification over numeric fields, the decision
// structure the JIT compiles runs of pure match rules into.
//
// The rules are split into a few groups alike in which of the most telling
// fields (for 5-tuples, the two addresses) they leave wide open, in the
// manner of EffiCuts (Vamanan et al., SIGCOMM 2010) and CutSplit (Li et al.,
// INFOCOM 2018), and each group gets a multi-way cut tree in the manner of
// HyperSplit (Qi et al., "Packet classification algorithms: from theory to
// practice", INFOCOM 2009): each node cuts one field's interval into up to
// kFanout pieces at rule endpoints chosen so the pieces hold about equal
// shares of the rules' weighted segments, and the field whose cuts leave
// the smallest children wins. A region with few rules left becomes a leaf
// whose rules are checked in priority order. Along the way a rule that
// covers a whole region hides every later rule there, and in small regions
// each rule that one earlier rule covers there is dropped (redundancy
// removal). A lookup walks the groups' trees side by side, then checks
// their leaves in the order of the groups' first rules, up to the first
// group that cannot beat the match it has.
//
// Values. Fields are at most 32 bits wide. A key above 0xFFFFFFFF (kAbsent
// is one) is a broken load: it lies in no range, so a rule with a range on
// that field cannot match, while a rule without one can. The build sees the
// domain of each field as [0, 2^32], with 2^32 standing for every absent
// key; a rule lacking a field has [0, 2^32] there, a range is clamped to
// [lo, min(hi, 0xFFFFFFFF)], and a rule whose range is empty can never
// match and is left out. Walks see an absent key as 0xFFFFFFFF (no cut
// falls between the two), rule checks tell them apart.
//
// Bounds. The build stops cutting where all regions' rule lists would pass
// a budget of rule copies (Options::entry_budget), so memory and build time
// stay bounded on rule sets that replicate badly: lookups stay exact, with
// bigger leaves. build() throws std::invalid_argument for a range on a
// field >= fields.
//
// Layout (flat arrays, indexes rather than pointers):
//  - nodes: two 64-byte lines each, kFanout - 1 thresholds and the field,
//    then kFanout child references (a node's index, or a leaf's). A key
//    goes to child i where i is the number of thresholds below it (16 at a
//    time in SSE2); unused thresholds are 0xFFFFFFFF, which no key (an
//    absent one being 0xFFFFFFFF there) is above.
//  - leaves: a run of rule records in priority order, in one array of
//    them; a leaf reference is its first record's index. A record is
//    2 * lanes words (for up to 6 fields, one 64-byte line): lo[lanes], then
//    span[lanes] = hi - lo with the top bit flipped, a lane per field (a
//    field the rule lacks: [0, 0xFFFFFFFF]); the lanes after the fields hold
//    lo 0 against a key of 0, so they always pass and their span words are
//    free: the masks of the fields the rule has ranges on (32 per word),
//    then the rule's index with the top bit set on the leaf's last record.
//    A rule check compares 4 lanes at a time: every lane in range, and no
//    absent key on a field with a range.
#include "classifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace nfx::vm {

namespace classifier {

namespace {

constexpr uint64_t kTop = uint64_t{1} << 32;  // where absent keys lie in the build's domain
constexpr uint64_t kMaxValue = kTop - 1;
constexpr unsigned kFanout = 16;
constexpr uint32_t kLeaf = 0x80000000u;     // a child reference with this bit is a leaf: its first record
constexpr uint32_t kNoMatch = 0xFFFFFFFFu;  // the empty leaf
constexpr uint32_t kBias = 0x80000000u;     // flips unsigned order into signed
constexpr uint32_t kLast = 0x80000000u;     // on a record's rule index: the leaf's last record
constexpr uint32_t kStackLanes = 64;        // key lanes a lookup keeps on its stack
constexpr size_t kMaxGroups = 8;

struct alignas(64) Node {
  uint32_t h[kFanout - 1];  // child i takes the keys in (h[i-1], h[i]]; stored ^ kBias
  uint32_t field;
  uint32_t child[kFanout];
};
static_assert(sizeof(Node) == 8 * kFanout && kFanout == 16);

// The child of `node` that `key` goes to: how many thresholds lie below it.
// The thresholds are stored with the top bit flipped, so they compare
// signed, and node.field in the last slot is masked off.
inline uint32_t child_index(const Node& node, uint32_t key) {
#if defined(__SSE2__)
  const __m128i k = _mm_set1_epi32(static_cast<int>(key ^ kBias));
  const __m128i* h = reinterpret_cast<const __m128i*>(node.h);
  const __m128i below01 = _mm_packs_epi32(_mm_cmpgt_epi32(k, _mm_load_si128(h)), _mm_cmpgt_epi32(k, _mm_load_si128(h + 1)));
  const __m128i below23 =
      _mm_packs_epi32(_mm_cmpgt_epi32(k, _mm_load_si128(h + 2)), _mm_cmpgt_epi32(k, _mm_load_si128(h + 3)));
  const uint32_t below = static_cast<uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(below01, below23))) & 0x7FFF;
  return static_cast<uint32_t>(std::countr_one(below));
#else
  uint32_t below = 0;
  for (uint32_t j = 0; j < kFanout - 1; ++j)
    below += static_cast<int32_t>(key ^ kBias) > static_cast<int32_t>(node.h[j]);
  return below;
#endif
}

struct alignas(64) Line {
  uint32_t w[16];
};

struct Shape {
  size_t rules = 0, kept = 0, fields = 0;
  size_t nodes = 0, leaves = 0, max_depth = 0, max_leaf = 0, leaf_rules = 0;
  bool capped = false;  // the entry budget or the depth limit cut the build short somewhere
};

// What the build makes: the groups' trees, their nodes and leaf records.
struct Tree {
  explicit Tree(uint32_t fields)
      : fields_(fields), masks_((fields + 31) / 32), lanes_((fields + masks_ + 1 + 3) & ~3u) {}

  size_t memory_bytes() const {
    return nodes_.capacity() * sizeof(Node) + records_.capacity() * sizeof(Line) + groups_.capacity() * sizeof(Group);
  }

  // A tree per group of rules alike in which fields they leave (nearly)
  // open, in the order of their first rules: a group whose first rule comes
  // after the best match so far cannot improve on it.
  struct Group {
    uint32_t first = 0;  // its first rule
    uint32_t root = kNoMatch;
  };
  const uint32_t fields_, masks_, lanes_;
  std::vector<Group> groups_;
  std::vector<Node> nodes_;
  std::vector<Line> records_;
  uint32_t record_count_ = 0;
  Shape shape_;
};

// Lookups in a Tree of kFields fields, 1 to 6 (one word of field masks, 4
// or 8 lanes), with the loops over them unrolled; 0: any number, as the
// tree says.
template <uint32_t kFields>
class Lookup final : public Classifier {
  static constexpr uint32_t kLanes = kFields == 0 ? 0 : kFields <= 2 ? 4 : 8;

 public:
  explicit Lookup(std::unique_ptr<Tree> tree) : t_(std::move(tree)) {
    if (kFields && (t_->fields_ != kFields || t_->lanes_ != kLanes || t_->masks_ != 1))
      throw std::logic_error("classifier: lookup for another shape of tree");
  }

  int32_t lookup(const uint64_t* keys) const override {
    if constexpr (kLanes != 0) {
      alignas(16) uint32_t lanes[kLanes + 4];
      return find(keys, lanes);
    } else if (t_->lanes_ + t_->masks_ <= kStackLanes) {
      alignas(16) uint32_t lanes[kStackLanes];
      return find(keys, lanes);
    } else {
      std::vector<Line> lanes((t_->lanes_ + t_->masks_ + 15) / 16);
      return find(keys, lanes.front().w);
    }
  }

  size_t memory_bytes() const override { return sizeof(*this) + sizeof(Tree) + t_->memory_bytes(); }

  std::string describe() const override {
    const Shape& shape = t_->shape_;
    return fmt::format(
        "cut trees: {} rules ({} can match), {} fields; {} groups, {} nodes, {} leaves, depth {}; "
        "leaf rules max {} avg {:.1f}; {} bytes{}",
        shape.rules, shape.kept, shape.fields, t_->groups_.size(), shape.nodes, shape.leaves, shape.max_depth,
        shape.max_leaf, shape.leaves ? static_cast<double>(shape.leaf_rules) / static_cast<double>(shape.leaves) : 0.0,
        memory_bytes(), shape.capped ? " (capped)" : "");
  }

 private:
  uint32_t lane_count() const { return kLanes ? kLanes : t_->lanes_; }
  uint32_t mask_count() const { return kLanes ? 1 : t_->masks_; }
  uint32_t field_count() const { return kFields ? kFields : t_->fields_; }

  // lookup() with room for the key lanes (16-byte aligned).
  int32_t find(const uint64_t* keys, uint32_t* lanes) const {
    // Key lanes: each field's key, 0xFFFFFFFF when absent, then 0 (the
    // lanes of the records' free words), then the masks of the absent
    // fields (32 a word).
    const uint32_t lane_count = this->lane_count(), masks = mask_count(), fields = field_count();
#pragma GCC unroll 8
    for (uint32_t l = 0; l < lane_count; ++l) lanes[l] = 0;
    if constexpr (kFields != 0) {
      uint32_t absent = 0;
#pragma GCC unroll 8
      for (uint32_t f = 0; f < kFields; ++f) {
        const uint64_t key = keys[f];
        lanes[f] = key > kMaxValue ? 0xFFFFFFFFu : static_cast<uint32_t>(key);
        absent |= uint32_t{key > kMaxValue} << f;
      }
      lanes[kLanes] = absent;
    } else {
      for (uint32_t m = 0; m < masks; ++m) {
        uint32_t absent = 0;
        for (uint32_t f = 32 * m, end = std::min(fields, 32 * m + 32); f < end; ++f) {
          const uint64_t key = keys[f];
          lanes[f] = key > kMaxValue ? 0xFFFFFFFFu : static_cast<uint32_t>(key);
          absent |= uint32_t{key > kMaxValue} << (f % 32);
        }
        lanes[lane_count + m] = absent;
      }
    }

    const Node* nodes = t_->nodes_.data();
    const std::vector<Tree::Group>& groups = t_->groups_;
    if (groups.size() == 1) {
      uint32_t ref = groups[0].root;
      while (!(ref & kLeaf)) {
        const Node& node = nodes[ref];
        ref = node.child[child_index(node, lanes[node.field])];
      }
      return static_cast<int32_t>(scan(ref, lanes));
    }
    // The trees side by side, a level at a time, so their loads overlap;
    // then their leaves in the order of the groups' first rules.
    uint32_t refs[kMaxGroups];
    for (size_t g = 0; g < groups.size(); ++g) refs[g] = groups[g].root;
    for (uint32_t inner = kLeaf; inner & kLeaf;) {
      inner = 0;
      for (size_t g = 0; g < groups.size(); ++g) {
        if (refs[g] & kLeaf) continue;
        const Node& node = nodes[refs[g]];
        refs[g] = node.child[child_index(node, lanes[node.field])];
        inner |= ~refs[g];
      }
    }
    uint32_t best = kNoMatch;
    for (size_t g = 0; g < groups.size() && groups[g].first < best; ++g) best = std::min(best, scan(refs[g], lanes));
    return static_cast<int32_t>(best);
  }

  // The first rule of a leaf that matches (kNoMatch: none).
  uint32_t scan(uint32_t ref, const uint32_t* lanes) const {
    if (ref == kNoMatch) return kNoMatch;
    const uint32_t stride = 2 * lane_count(), id_at = lane_count() + field_count() + mask_count();
    for (const uint32_t* record = t_->records_.front().w + size_t{ref & ~kLeaf} * stride;; record += stride) {
      const uint32_t id = record[id_at];
      if (matches(record, lanes)) return id & ~kLast;
      if (id & kLast) return kNoMatch;
    }
  }

  // Whether a rule record holds the key lanes.
  bool matches(const uint32_t* lo, const uint32_t* lanes) const {
    const uint32_t lane_count = this->lane_count(), masks = mask_count(), fields = field_count();
    const uint32_t* span = lo + lane_count;
    uint32_t out = 0;
#if defined(__SSE2__)
    const __m128i bias = _mm_set1_epi32(static_cast<int>(kBias));
    __m128i any = _mm_setzero_si128();
#pragma GCC unroll 2
    for (uint32_t l = 0; l < lane_count; l += 4) {
      // (key - lo) <= span unsigned, as (key - lo) ^ bias <= span ^ bias signed.
      const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i*>(lanes + l));
      const __m128i d = _mm_xor_si128(_mm_sub_epi32(k, _mm_load_si128(reinterpret_cast<const __m128i*>(lo + l))), bias);
      any = _mm_or_si128(any, _mm_cmpgt_epi32(d, _mm_load_si128(reinterpret_cast<const __m128i*>(span + l))));
    }
    out = static_cast<uint32_t>(_mm_movemask_epi8(any));
#else
    // The same, a lane at a time.
    for (uint32_t l = 0; l < lane_count; ++l)
      out |= static_cast<int32_t>((lanes[l] - lo[l]) ^ kBias) > static_cast<int32_t>(span[l]);
#endif
    for (uint32_t m = 0; m < masks; ++m) out |= lanes[lane_count + m] & span[fields + m];
    return out == 0;
  }

  std::unique_ptr<Tree> t_;
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
    fill_records();
    std::vector<Group> groups = partition();
    const uint64_t n = ids_.size(), record_bytes = 8 * uint64_t{Tree(fields_).lanes_};
    const uint64_t budget = options_.entry_budget
                                ? options_.entry_budget
                                : std::min(24 * n + 4096, std::max(n + 4096, (uint64_t{64} << 20) / record_bytes));
    std::unique_ptr<Tree> tree = grow(groups, budget);
    // A group small on every field a bigger group is small on, and on one
    // more, joins it when the joint tree holds about as many rule copies as
    // the two apart: it cuts those fields anyway, and a lookup walks one tree
    // fewer. Tried on real builds, as whether cuts there replicate the
    // bigger group's rules depends on the rules.
    for (std::vector<std::pair<uint64_t, uint64_t>> tried; options_.merge_subsets;) {
      size_t from = groups.size(), into = groups.size();
      for (size_t a = 0; a < groups.size(); ++a)
        for (size_t b = 0; b < groups.size(); ++b)
          if (b != a && (groups[a].large & ~groups[b].large) == 0 &&
              std::popcount(groups[b].large & ~groups[a].large) == 1 &&
              groups[b].rules.size() >= groups[a].rules.size() &&
              std::find(tried.begin(), tried.end(), std::pair{groups[a].large, groups[b].large}) == tried.end() &&
              (from == groups.size() || groups[a].rules.size() < groups[from].rules.size()))
            from = a, into = b;
      if (from == groups.size()) break;
      tried.emplace_back(groups[from].large, groups[into].large);
      std::vector<Group> joint(1, Group{groups[into].large, {}, 0});
      joint[0].rules.resize(groups[into].rules.size() + groups[from].rules.size());
      std::merge(groups[into].rules.begin(), groups[into].rules.end(), groups[from].rules.begin(),
                 groups[from].rules.end(), joint[0].rules.begin());
      const uint64_t apart = groups[into].entries + groups[from].entries, limit = apart + apart / 4;
      std::unique_ptr<Tree> trial = grow(joint, 4 * limit, true);
      if (trial->shape_.capped || joint[0].entries > limit) continue;
      groups[into] = std::move(joint[0]);
      groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(from));
      tree = grow(groups, budget);
    }
    tree->shape_.rules = rules;
    return tree;
  }

 private:
  // A rule group: which of the telling fields its rules are large on, the
  // rules in priority order, and the rule copies its tree's leaves hold.
  struct Group {
    uint64_t large = 0;
    std::vector<uint32_t> rules;
    uint64_t entries = 0;
  };

  // Builds a tree for each group (setting their entries), cutting a region
  // only while all the regions made hold at most `budget` rule copies (which
  // bounds the leaves' records, and the work); a trial gives up there.
  std::unique_ptr<Tree> grow(std::vector<Group>& groups, uint64_t budget, bool trial = false) {
    tree_ = std::make_unique<Tree>(fields_);
    tree_->shape_.kept = ids_.size();
    tree_->shape_.fields = fields_;
    budget_ = budget;
    entries_ = 0;
    groups_ = &groups;
    last_child_.clear();
    std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.rules[0] < b.rules[0]; });
    tree_->groups_.resize(groups.size());
    for (uint32_t g = 0; g < groups.size(); ++g) {
      tree_->groups_[g].first = ids_[groups[g].rules.front()];
      groups[g].entries = 0;
      Work root;
      root.parent = kNoMatch;
      root.slot = g;
      root.group = g;
      root.region.resize(2 * size_t{fields_});
      for (uint32_t f = 0; f < fields_; ++f) root.region[2 * f] = 0, root.region[2 * f + 1] = kTop;
      root.rules = groups[g].rules;
      queue_.push_back(std::move(root));
    }
    while (!queue_.empty()) {
      if (trial && entries_ > budget_) {
        tree_->shape_.capped = true;
        queue_.clear();
        break;
      }
      Work work = std::move(queue_.front());
      queue_.pop_front();
      process(work);
    }
    tree_->nodes_.shrink_to_fit();
    tree_->records_.shrink_to_fit();
    tree_->shape_.nodes = tree_->nodes_.size();
    return std::move(tree_);
  }

  // Each rule's record, as leaves copy it.
  void fill_records() {
    const Tree shape(fields_);
    const uint32_t lanes = shape.lanes_, masks = shape.masks_;
    canon_.assign(ids_.size() * 2 * lanes, 0);
    for (uint32_t r = 0; r < ids_.size(); ++r) {
      uint32_t* lo = &canon_[size_t{r} * 2 * lanes];
      uint32_t* span = lo + lanes;
      for (uint32_t l = 0; l < lanes; ++l) span[l] = 0xFFFFFFFFu ^ kBias;
      for (uint32_t f = 0; f < fields_; ++f) {
        if (hi(r, f) == kTop) continue;
        lo[f] = static_cast<uint32_t>(this->lo(r, f));
        span[f] = static_cast<uint32_t>(hi(r, f) - this->lo(r, f)) ^ kBias;
      }
      for (uint32_t m = 0; m < masks; ++m) {
        uint32_t mask = 0;
        for (uint32_t f = 32 * m; f < fields_ && f < 32 * m + 32; ++f)
          if (hi(r, f) < kTop) mask |= 1u << (f % 32);
        span[fields_ + m] = mask;
      }
      span[fields_ + masks] = ids_[r];
    }
  }

  struct Work {
    uint32_t parent = kNoMatch;  // the node whose child this is (kNoMatch: the root)
    uint32_t slot = 0;
    uint32_t depth = 0;
    uint32_t group = 0;
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
  // fields to, until none has under min_group rules (or 1/64 of them).
  // Each group's rules are in priority order.
  std::vector<Group> partition() const {
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
    static_assert(kMaxGroups == 8);
    telling.resize(std::min<size_t>(telling.size(), std::min<uint32_t>(options_.group_fields, 3)));

    std::vector<Group> groups;
    for (uint32_t r = 0; r < n; ++r) {
      uint64_t mask = 0;
      for (size_t t = 0; t < telling.size(); ++t)
        if (large(r, telling[t].second)) mask |= uint64_t{1} << t;
      auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.large == mask; });
      if (it == groups.end()) it = groups.insert(groups.end(), Group{mask, {}, 0});
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
    return groups;
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
    if (rules.size() <= options_.leaf_rules) return link(work.parent, work.slot, leaf(rules, work));
    if (work.depth >= options_.max_depth || entries_ + rules.size() > budget_ || !choose(rules, region) ||
        entries_ + best_entries_ > budget_) {
      tree_->shape_.capped = true;
      return link(work.parent, work.slot, leaf(rules, work));
    }

    const uint32_t field = best_field_;
    const std::vector<uint64_t>& cuts = best_cuts_;
    const uint32_t children = static_cast<uint32_t>(cuts.size()) + 1;
    const uint32_t index = static_cast<uint32_t>(tree_->nodes_.size());
    Node& node = tree_->nodes_.emplace_back();
    last_child_.push_back(children - 1);
    node.field = field;
    for (uint32_t j = 0; j < kFanout - 1; ++j)
      node.h[j] = (j < cuts.size() ? static_cast<uint32_t>(cuts[j]) : 0xFFFFFFFFu) ^ kBias;
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
      child.group = work.group;
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

      uint64_t entries = 0;
      for (uint32_t rule : rules) {
        const auto first = std::lower_bound(cuts_.begin(), cuts_.end(), std::max(lo(rule, f), rlo)) - cuts_.begin();
        const auto last = std::lower_bound(cuts_.begin(), cuts_.end(), std::min(hi(rule, f), rhi)) - cuts_.begin();
        entries += static_cast<uint64_t>(last - first + 1);
      }
      const double score = static_cast<double>(entries) / static_cast<double>(cuts_.size() + 1);
      if (score < best) {
        best = score;
        best_entries_ = entries;
        found = true;
        best_field_ = f;
        best_cuts_ = cuts_;
      }
    }
    return found;
  }

  uint32_t leaf(const std::vector<uint32_t>& rules, const Work& work) {
    if (rules.empty()) return kNoMatch;
    Shape& shape = tree_->shape_;
    ++shape.leaves;
    shape.leaf_rules += rules.size();
    (*groups_)[work.group].entries += rules.size();
    shape.max_leaf = std::max(shape.max_leaf, rules.size());
    shape.max_depth = std::max<size_t>(shape.max_depth, work.depth);
    const size_t stride = 2 * size_t{tree_->lanes_};
    const uint32_t first = tree_->record_count_;
    if (rules.size() >= kLeaf - 1 - first) throw std::length_error("classifier: too many rule copies");
    tree_->record_count_ += static_cast<uint32_t>(rules.size());
    tree_->records_.resize((size_t{tree_->record_count_} * stride + 15) / 16);
    uint32_t* record = tree_->records_.front().w + size_t{first} * stride;
    for (uint32_t rule : rules) {
      std::memcpy(record, &canon_[size_t{rule} * stride], stride * sizeof(uint32_t));
      record += stride;
    }
    record[-static_cast<ptrdiff_t>(stride) + tree_->lanes_ + fields_ + tree_->masks_] |= kLast;
    return kLeaf | first;
  }

  const uint32_t fields_;
  const Options options_;
  std::vector<uint64_t> lo_, hi_;  // per rule that can match, per field: its range (no range: [0, kTop])
  std::vector<uint32_t> ids_;      // per rule that can match: its index in the input
  std::unique_ptr<Tree> tree_;
  std::deque<Work> queue_;
  std::vector<uint32_t> last_child_;  // per node: its last real child slot
  uint64_t budget_ = 0, entries_ = 0;
  std::vector<Group>* groups_ = nullptr;  // what grow() builds
  // choose()'s scratch and result.
  std::vector<uint64_t> events_, bounds_, counts_, cuts_, best_cuts_;
  std::vector<uint32_t> canon_;  // each rule's record
  uint32_t best_field_ = 0;
  uint64_t best_entries_ = 0;
};

}  // namespace

std::unique_ptr<Classifier> build(uint32_t fields, const std::vector<std::vector<Classifier::Range>>& rules,
                                  const Options& options) {
  if (rules.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw std::invalid_argument("classifier: too many rules");
  Builder builder(fields, options);
  for (size_t i = 0; i < rules.size(); ++i) builder.add(rules[i], static_cast<uint32_t>(i));
  std::unique_ptr<Tree> tree = builder.run(rules.size());
  switch (fields) {
    case 1:
      return std::make_unique<Lookup<1>>(std::move(tree));
    case 2:
      return std::make_unique<Lookup<2>>(std::move(tree));
    case 3:
      return std::make_unique<Lookup<3>>(std::move(tree));
    case 4:
      return std::make_unique<Lookup<4>>(std::move(tree));
    case 5:
      return std::make_unique<Lookup<5>>(std::move(tree));
    case 6:
      return std::make_unique<Lookup<6>>(std::move(tree));
    default:
      return std::make_unique<Lookup<0>>(std::move(tree));
  }
}

}  // namespace classifier

std::unique_ptr<Classifier> Classifier::build(uint32_t fields, const std::vector<std::vector<Range>>& rules) {
  return classifier::build(fields, rules, classifier::Options{});
}

}  // namespace nfx::vm
