// One ClassBench filter line as vm::Classifier ranges, for the classifier's
// benchmark and tests: `@src/len dst/len slo : shi dlo : dhi proto/mask`
// (the flags after that are not read). Fields: 0 source, 1 destination,
// 2 source port, 3 destination port, 4 protocol; an open field (/0,
// 0 : 65535, mask 0) gets no range.
#pragma once

#include <nfx/vm.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace nfx::classbench {

inline constexpr uint32_t kFields = 5;

inline bool parse_filter(const std::string& line, std::vector<vm::Classifier::Range>& rule) {
  unsigned s[4], d[4], slen, dlen, splo, sphi, dplo, dphi, proto, pmask;
  if (std::sscanf(line.c_str(), "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &s[0], &s[1], &s[2], &s[3],
                  &slen, &d[0], &d[1], &d[2], &d[3], &dlen, &splo, &sphi, &dplo, &dphi, &proto, &pmask) != 16)
    return false;
  rule.clear();
  auto prefix = [&](uint32_t field, const unsigned* a, unsigned len) {
    if (len == 0) return;
    const uint32_t addr = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
    const uint32_t mask = len >= 32 ? ~0u : ~(~0u >> len);
    rule.push_back({field, addr & mask, (addr & mask) | ~mask});
  };
  prefix(0, s, slen);
  prefix(1, d, dlen);
  if (!(splo == 0 && sphi == 65535)) rule.push_back({2, splo, sphi});
  if (!(dplo == 0 && dphi == 65535)) rule.push_back({3, dplo, dphi});
  if (pmask) rule.push_back({4, proto & pmask, proto & pmask});
  return true;
}

}  // namespace nfx::classbench
