// vm::Classifier against a linear scan of the same rules: random rule sets
// built to overlap, repeat and leave fields open, with keys at and around
// the rules' edges and absent keys; odd shapes (no rules, no fields, one
// rule, identical rules, nested ranges, many fields); the build's limits
// forced low; and the ClassBench filter sets of the corpus with 100,000 keys
// each (fewer in unoptimised builds, which run under the sanitizers).
#include <gtest/gtest.h>
#include <nfx/vm.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "classbench_filter.h"
#include "classifier.h"

namespace nfx {
namespace {

using vm::Classifier;
using Rule = std::vector<Classifier::Range>;
using Rules = std::vector<Rule>;

constexpr uint64_t kAbsent = Classifier::kAbsent;

// Unoptimised builds (the sanitizer runs) do less of everything, and build
// only the 1K ClassBench sets but the three checked at length.
#ifdef __OPTIMIZE__
constexpr size_t kCorpusKeys = 100000;
constexpr int kSeeds = 200;
constexpr size_t kScale = 1;
#else
constexpr size_t kCorpusKeys = 3000;
constexpr int kSeeds = 40;
constexpr size_t kScale = 4;
#endif

// The rules' ranges end to end, rule i's at [start[i], start[i + 1]), for a
// linear scan that does not chase a pointer per rule.
struct Flat {
  explicit Flat(const Rules& rules) {
    for (const Rule& rule : rules) {
      start.push_back(static_cast<uint32_t>(ranges.size()));
      ranges.insert(ranges.end(), rule.begin(), rule.end());
    }
    start.push_back(static_cast<uint32_t>(ranges.size()));
  }
  std::vector<uint32_t> start;
  std::vector<Classifier::Range> ranges;
};

// The header's definition: the lowest rule all of whose ranges hold the keys,
// where kAbsent lies in no range.
int32_t linear(const Flat& rules, const uint64_t* keys) {
  for (size_t i = 0; i + 1 < rules.start.size(); ++i) {
    bool match = true;
    for (uint32_t r = rules.start[i]; r < rules.start[i + 1] && match; ++r) {
      const Classifier::Range& range = rules.ranges[r];
      const uint64_t key = keys[range.field];
      match = key != kAbsent && range.lo <= key && key <= range.hi;
    }
    if (match) return static_cast<int32_t>(i);
  }
  return -1;
}

// Checks `keys` (fields values each, fields > 0) against the linear scan,
// and the C entry point against lookup; reports the first few differences.
void expect_same(const Classifier& c, const Rules& rules, uint32_t fields, const std::vector<uint64_t>& keys,
                 const std::string& what) {
  const Flat flat(rules);
  int shown = 0;
  size_t wrong = 0;
  for (size_t k = 0; k * fields < keys.size(); ++k) {
    const uint64_t* key = &keys[k * fields];
    const int32_t want = linear(flat, key), got = c.lookup(key);
    if (got != want || vm::nfx_native_classify(&c, key) != got) {
      ++wrong;
      if (shown++ < 5) {
        std::string text;
        for (uint32_t f = 0; f < fields; ++f) text += (key[f] == kAbsent ? std::string("absent") : std::to_string(key[f])) + " ";
        ADD_FAILURE() << what << ": keys [" << text << "]: classifier " << got << ", linear scan " << want;
      }
    }
  }
  EXPECT_EQ(wrong, 0u) << what << ": " << c.describe();
}

// ---------------------------------------------------------------- random sets

struct Universe {
  uint64_t max;  // values lie in [0, max]
};

uint64_t pick(std::mt19937_64& rng, uint64_t lo, uint64_t hi) {
  return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
}

// A rule set meant to be hard: per field a small or a full 32-bit universe,
// ranges that are points, prefixes, arbitrary spans, the whole universe or
// [0, 0xFFFFFFFF]; fields left out; rules repeated outright or with one
// field changed; now and then an empty range (a rule that never matches).
Rules random_rules(std::mt19937_64& rng, uint32_t fields, size_t count, std::vector<Universe>& universe) {
  universe.clear();
  for (uint32_t f = 0; f < fields; ++f) {
    const uint64_t maxes[] = {3, 15, 255, 65535, 0xFFFFFFFF};
    universe.push_back({maxes[rng() % 5]});
  }
  const int open_percent = static_cast<int>(rng() % 80);
  Rules rules;
  for (size_t i = 0; i < count; ++i) {
    if (!rules.empty() && rng() % 10 == 0) {
      rules.push_back(rules[rng() % rules.size()]);  // a duplicate
      continue;
    }
    if (!rules.empty() && rng() % 8 == 0 && fields) {
      Rule r = rules[rng() % rules.size()];  // a near duplicate
      const uint32_t f = static_cast<uint32_t>(rng() % fields);
      std::erase_if(r, [&](const Classifier::Range& x) { return x.field == f; });
      const uint64_t v = pick(rng, 0, universe[f].max);
      r.push_back({f, v, std::min(universe[f].max, v + rng() % 4)});
      rules.push_back(r);
      continue;
    }
    Rule r;
    for (uint32_t f = 0; f < fields; ++f) {
      if (static_cast<int>(rng() % 100) < open_percent) continue;
      const uint64_t max = universe[f].max;
      uint64_t lo, hi;
      switch (rng() % 7) {
        case 0:  // a point
          lo = hi = pick(rng, 0, max);
          break;
        case 1: {  // a prefix
          const unsigned bits = static_cast<unsigned>(std::bit_width(max));
          const unsigned len = static_cast<unsigned>(rng() % (bits + 1));
          const uint64_t span = len >= bits ? 0 : (max >> len);
          lo = pick(rng, 0, max) & ~span;
          hi = lo | span;
          break;
        }
        case 2:  // the universe
          lo = 0, hi = max;
          break;
        case 3:  // every 32-bit value
          lo = 0, hi = 0xFFFFFFFF;
          break;
        case 4:  // an edge of the 32 bits
          lo = pick(rng, 0xFFFFFFF0, 0xFFFFFFFF), hi = 0xFFFFFFFF;
          break;
        case 5:  // now and then empty: the rule never matches
          if (rng() % 20 == 0) {
            lo = pick(rng, 1, max), hi = lo - 1;
            break;
          }
          [[fallthrough]];
        default:
          lo = pick(rng, 0, max), hi = pick(rng, 0, max);
          if (lo > hi) std::swap(lo, hi);
      }
      r.push_back({f, lo, hi});
    }
    std::shuffle(r.begin(), r.end(), rng);
    rules.push_back(std::move(r));
  }
  return rules;
}

// Keys: uniform over each field's universe (and now and then over all 32
// bits), at and beside random rules' edges, inside random rules, absent.
std::vector<uint64_t> random_keys(std::mt19937_64& rng, const Rules& rules, uint32_t fields,
                                  const std::vector<Universe>& universe, size_t count) {
  std::vector<uint64_t> keys(count * fields);
  for (size_t k = 0; k < count; ++k) {
    uint64_t* key = &keys[k * fields];
    for (uint32_t f = 0; f < fields; ++f)
      key[f] = rng() % 16 == 0 ? pick(rng, 0, 0xFFFFFFFF) : pick(rng, 0, universe[f].max);
    if (!rules.empty() && rng() % 4 != 0) {
      const Rule& r = rules[rng() % rules.size()];
      for (const Classifier::Range& x : r) {
        if (x.lo > x.hi) continue;
        switch (rng() % 5) {
          case 0: key[x.field] = x.lo; break;
          case 1: key[x.field] = x.hi; break;
          case 2: key[x.field] = x.lo ? x.lo - 1 : x.lo; break;
          case 3: key[x.field] = std::min<uint64_t>(x.hi + 1, 0xFFFFFFFF); break;
          default: key[x.field] = pick(rng, x.lo, x.hi);
        }
      }
    }
    for (uint32_t f = 0; f < fields; ++f)
      if (rng() % 12 == 0) key[f] = kAbsent;
  }
  return keys;
}

TEST(Classifier, RandomSetsMatchALinearScan) {
  for (int seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    const uint32_t fields = static_cast<uint32_t>(1 + rng() % 8);
    const size_t count = rng() % 4 == 0 ? rng() % 8 : rng() % 400;
    std::vector<Universe> universe;
    const Rules rules = random_rules(rng, fields, count, universe);
    const auto c = Classifier::build(fields, rules);
    ASSERT_TRUE(c);
    expect_same(*c, rules, fields, random_keys(rng, rules, fields, universe, 1500),
                "seed " + std::to_string(seed) + " (" + std::to_string(fields) + " fields, " +
                    std::to_string(count) + " rules)");
  }
}

TEST(Classifier, LargeRandomSetsMatchALinearScan) {
  for (int seed = 1; seed <= kSeeds / 40; ++seed) {
    std::mt19937_64 rng(1000 + static_cast<uint64_t>(seed));
    const uint32_t fields = 5;
    std::vector<Universe> universe;
    const Rules rules = random_rules(rng, fields, 3000, universe);
    const auto c = Classifier::build(fields, rules);
    expect_same(*c, rules, fields, random_keys(rng, rules, fields, universe, 4000), "large seed " + std::to_string(seed));
  }
}

// Many fields: the records span several lines, and the masks of the fields
// a rule has ranges on take more than one word.
TEST(Classifier, ManyFields) {
  for (uint32_t fields : {7u, 12u, 33u, 64u, 70u}) {
    std::mt19937_64 rng(fields);
    std::vector<Universe> universe;
    const Rules rules = random_rules(rng, fields, 200 / kScale, universe);
    const auto c = Classifier::build(fields, rules);
    expect_same(*c, rules, fields, random_keys(rng, rules, fields, universe, 1000 / kScale),
                std::to_string(fields) + " fields");
  }
}

// The build's limits forced low: leaves then keep whatever rules are left,
// and lookups stay exact.
TEST(Classifier, ExactUnderForcedLimits) {
  struct Case {
    const char* name;
    vm::classifier::Options options;
  };
  std::vector<Case> cases;
  cases.push_back({"leaf of 1", {}});
  cases.back().options.leaf_rules = 1;
  cases.push_back({"depth 0", {}});
  cases.back().options.max_depth = 0;
  cases.push_back({"depth 1", {}});
  cases.back().options.max_depth = 1;
  cases.push_back({"budget 1", {}});
  cases.back().options.entry_budget = 1;
  cases.push_back({"no pruning", {}});
  cases.back().options.prune_rules = 0;
  cases.push_back({"one group", {}});
  cases.back().options.group_fields = 0;
  cases.push_back({"eight groups, no merging", {}});
  cases.back().options.group_fields = 3;
  cases.back().options.min_group = 1;
  cases.back().options.merge_subsets = false;
  for (const Case& test : cases)
    for (int seed = 1; seed <= kSeeds / 10; ++seed) {
      std::mt19937_64 rng(500 + static_cast<uint64_t>(seed));
      const uint32_t fields = static_cast<uint32_t>(1 + rng() % 6);
      std::vector<Universe> universe;
      const Rules rules = random_rules(rng, fields, rng() % 300, universe);
      const auto c = vm::classifier::build(fields, rules, test.options);
      expect_same(*c, rules, fields, random_keys(rng, rules, fields, universe, 800),
                  std::string(test.name) + ", seed " + std::to_string(seed));
    }
}

// ---------------------------------------------------------------- odd shapes

TEST(Classifier, NoRulesMatchNothing) {
  const auto c = Classifier::build(3, {});
  const uint64_t keys[3] = {1, 2, kAbsent};
  EXPECT_EQ(c->lookup(keys), -1);
  EXPECT_FALSE(c->describe().empty());
  EXPECT_GT(c->memory_bytes(), 0u);
}

TEST(Classifier, NoFields) {
  EXPECT_EQ(Classifier::build(0, {{}, {}})->lookup(nullptr), 0);
  EXPECT_EQ(Classifier::build(0, {})->lookup(nullptr), -1);
}

TEST(Classifier, OneRule) {
  const auto c = Classifier::build(2, {{{1, 10, 20}}});
  const uint64_t inside[2] = {kAbsent, 15}, below[2] = {0, 9}, above[2] = {0, 21}, absent[2] = {15, kAbsent};
  EXPECT_EQ(c->lookup(inside), 0) << "field 0 has no range: absent there still matches";
  EXPECT_EQ(c->lookup(below), -1);
  EXPECT_EQ(c->lookup(above), -1);
  EXPECT_EQ(c->lookup(absent), -1) << "absent lies in no range";
}

// An explicit range over every 32-bit value still needs the key: only a
// rule without a range on the field matches an absent key.
TEST(Classifier, FullRangeIsNotWildcard) {
  const auto c = Classifier::build(1, {{{0, 0, 0xFFFFFFFF}}, {}});
  const uint64_t top[1] = {0xFFFFFFFF}, zero[1] = {0}, absent[1] = {kAbsent};
  EXPECT_EQ(c->lookup(top), 0);
  EXPECT_EQ(c->lookup(zero), 0);
  EXPECT_EQ(c->lookup(absent), 1);
  // A range reaching past 32 bits is clamped to them: still no absent key.
  const auto wide = Classifier::build(1, {{{0, 5, ~uint64_t{0}}}, {}});
  EXPECT_EQ(wide->lookup(top), 0);
  EXPECT_EQ(wide->lookup(absent), 1);
}

// Keys above 32 bits are broken loads too, whatever their value.
TEST(Classifier, KeysAbove32BitsAreAbsent) {
  const auto c = Classifier::build(1, {{{0, 0, 0xFFFFFFFF}}, {}});
  const uint64_t wide[1] = {uint64_t{1} << 32};
  EXPECT_EQ(c->lookup(wide), 1);
}

TEST(Classifier, IdenticalRulesKeepTheFirst) {
  Rules rules(600, Rule{{0, 100, 200}, {2, 7, 7}});
  rules.push_back({});
  const auto c = Classifier::build(3, rules);
  const uint64_t hit[3] = {150, 9, 7}, miss[3] = {150, 9, 8};
  EXPECT_EQ(c->lookup(hit), 0);
  EXPECT_EQ(c->lookup(miss), 600);
}

// Thousands of rules over one region of one field, told apart by a single
// value of the other or not at all.
TEST(Classifier, ManyRulesOverOneRegion) {
  Rules rules;
  for (uint64_t i = 0; i < 2000; ++i) rules.push_back({{0, 0, 1000}, {1, i, i}});
  for (uint64_t i = 0; i < 2000; ++i) rules.push_back({{0, 0, 1000}});
  const auto c = Classifier::build(2, rules);
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < 2100; i += 7) keys.insert(keys.end(), {i % 1200, i});
  keys.insert(keys.end(), {5, kAbsent, kAbsent, 5});
  expect_same(*c, rules, 2, keys, "one region");
}

// Nested ranges: each rule inside the one before, the deepest first.
TEST(Classifier, NestedRanges) {
  Rules rules;
  for (uint64_t i = 0; i < 3000; ++i) rules.push_back({{0, 100000 - 30 * (3000 - i), 100000 + 30 * (3000 - i)}});
  std::reverse(rules.begin(), rules.end());
  const auto c = Classifier::build(1, rules);
  std::vector<uint64_t> keys;
  for (uint64_t k = 0; k < 200000; k += 13 * kScale) keys.push_back(k);
  expect_same(*c, rules, 1, keys, "nested");
}

TEST(Classifier, RangeOnAMissingFieldThrows) {
  EXPECT_THROW(Classifier::build(2, {{{2, 0, 1}}}), std::invalid_argument);
}

// ---------------------------------------------------------------- ClassBench

const std::string kClassBench = std::string(NFX_CORPUS_DIR) + "/classbench";

Rules load_classbench(const std::string& name) {
  const std::string path = kClassBench + "/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path << " (NFX_CORPUS_DIR=" << NFX_CORPUS_DIR << ")";
  Rules rules;
  std::string line;
  size_t lines = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    Rule rule;
    EXPECT_TRUE(classbench::parse_filter(line, rule)) << path << ": " << line;
    rules.push_back(std::move(rule));
  }
  EXPECT_EQ(rules.size(), lines);
  return rules;
}

// Keys as a trace would have them: inside a random rule (a random point of
// each of its ranges, the rest random over the field's width) for two in
// three, uniform over each field's width otherwise; now and then a port or
// the protocol absent.
std::vector<uint64_t> classbench_keys(const Rules& rules, size_t count, std::mt19937_64& rng) {
  const uint64_t width[5] = {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF, 0xFFFF, 0xFF};
  std::vector<uint64_t> keys(count * 5);
  for (size_t k = 0; k < count; ++k) {
    uint64_t* key = &keys[k * 5];
    for (int f = 0; f < 5; ++f) key[f] = pick(rng, 0, width[f]);
    if (rng() % 3 != 0)
      for (const Classifier::Range& r : rules[rng() % rules.size()]) key[r.field] = pick(rng, r.lo, r.hi);
    if (rng() % 50 == 0) key[2 + rng() % 3] = kAbsent;
  }
  return keys;
}

TEST(Classifier, CorpusIsThere) {
  ASSERT_TRUE(std::filesystem::is_directory(kClassBench))
      << kClassBench << " is missing: configure with -DNFX_CORPUS_DIR=<corpus with classbench/>";
}

class ClassBench : public testing::TestWithParam<const char*> {};

TEST_P(ClassBench, MatchesALinearScan) {
  const Rules rules = load_classbench(GetParam());
  ASSERT_GT(rules.size(), 1000u);
  const auto c = Classifier::build(5, rules);
  std::mt19937_64 rng(42);
  expect_same(*c, rules, 5, classbench_keys(rules, kCorpusKeys, rng), GetParam());
  RecordProperty("shape", c->describe());
}

INSTANTIATE_TEST_SUITE_P(Classifier, ClassBench, testing::Values("acl1_10k", "fw1_10k", "ipc1_10k"));

// Every set builds, with bounded memory; a few keys each.
TEST(Classifier, EveryClassBenchSetBuilds) {
  ASSERT_TRUE(std::filesystem::is_directory(kClassBench)) << kClassBench << " is missing";
  size_t sets = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kClassBench)) {
    const std::string name = entry.path().filename().string();
    if (name.find('_') == std::string::npos || name.ends_with(".md")) continue;
    ++sets;
    if (kScale > 1 && name.ends_with("_10k")) continue;
    const Rules rules = load_classbench(name);
    const auto c = Classifier::build(5, rules);
    EXPECT_LT(c->memory_bytes(), size_t{64} << 20) << name << ": " << c->describe();
    std::mt19937_64 rng(7);
    expect_same(*c, rules, 5, classbench_keys(rules, kCorpusKeys / 100, rng), name);
  }
  EXPECT_EQ(sets, 24u);
}

}  // namespace
}  // namespace nfx
