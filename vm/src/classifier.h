// The classifier's build knobs, for tests and benches that want to look at
// other shapes than Classifier::build's defaults (vm/src/classifier.cc).
#pragma once

#include <nfx/vm.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace nfx::vm::classifier {

struct Options {
  // A region with at most this many rules left becomes a leaf.
  uint32_t leaf_rules = 16;
  // Regions with at most this many rules drop every rule that one rule
  // before it covers there (pairwise, so quadratic: kept small).
  uint32_t prune_rules = 32;
  // Cut levels below the root at most; a region this deep becomes a leaf
  // with whatever rules it still has.
  uint32_t max_depth = 40;
  // Rule copies all regions together (each node's and leaf's rule list)
  // may hold: a region whose cutting would pass it becomes a leaf with the
  // rules it has. Bounds the leaves' records (a rule copy each: 8 bytes a
  // field, rounded up, 64 for 5-tuples) and the build's work on sets that
  // replicate badly. 0: 24 per rule plus 4096, but no more than 64 MiB of
  // records' worth (or one more per rule, if that is more).
  uint64_t entry_budget = 0;
  // Rule groups (a tree each): by which of the group_fields most telling
  // fields a rule is large on (so at most 2^group_fields groups), none
  // under min_group rules (or 1/64 of them); a field counts as large for a
  // rule whose range there is over 1/large_share of the span of all rules'
  // ranges.
  uint32_t group_fields = 2;
  uint32_t min_group = 32;
  uint64_t large_share = 16;
  bool merge_subsets = true;
};

std::unique_ptr<Classifier> build(uint32_t fields, const std::vector<std::vector<Classifier::Range>>& rules,
                                  const Options& options);

}  // namespace nfx::vm::classifier
