// A first-match scan over the rules' ranges, in rule order: the classifier
// for keys too few packets take to be worth a tree. The JIT's classified
// runs use it where a packet breaks a widened field load (see
// compiler/jit/src/classify.cc); tests use it as a reference.
#include <fmt/format.h>

#include <stdexcept>

#include <nfx/vm.h>

namespace nfx::vm {

namespace {

class LinearClassifier final : public Classifier {
 public:
  LinearClassifier(uint32_t fields, const std::vector<std::vector<Range>>& rules) : fields_(fields) {
    starts_.reserve(rules.size() + 1);
    for (const auto& rule : rules) {
      starts_.push_back(static_cast<uint32_t>(ranges_.size()));
      for (const Range& r : rule) {
        if (r.field >= fields) throw std::invalid_argument(fmt::format("range on field {} of {}", r.field, fields));
        ranges_.push_back(r);
      }
    }
    starts_.push_back(static_cast<uint32_t>(ranges_.size()));
  }

  int32_t lookup(const uint64_t* keys) const override {
    for (size_t rule = 0; rule + 1 < starts_.size(); ++rule) {
      bool match = true;
      for (uint32_t i = starts_[rule]; match && i < starts_[rule + 1]; ++i) {
        const uint64_t k = keys[ranges_[i].field];
        match = k <= 0xFFFFFFFFu && ranges_[i].lo <= k && k <= ranges_[i].hi;  // wider keys are broken loads
      }
      if (match) return static_cast<int32_t>(rule);
    }
    return -1;
  }

  size_t memory_bytes() const override {
    return sizeof(*this) + ranges_.capacity() * sizeof(Range) + starts_.capacity() * sizeof(uint32_t);
  }

  std::string describe() const override {
    return fmt::format("linear scan: {} rules, {} fields, {} ranges, {} bytes", starts_.size() - 1, fields_,
                       ranges_.size(), memory_bytes());
  }

 private:
  uint32_t fields_;
  std::vector<Range> ranges_;
  std::vector<uint32_t> starts_;  // rule i's ranges are [starts_[i], starts_[i + 1])
};

}  // namespace

std::unique_ptr<Classifier> Classifier::build_linear(uint32_t fields, const std::vector<std::vector<Range>>& rules) {
  return std::make_unique<LinearClassifier>(fields, rules);
}

}  // namespace nfx::vm
