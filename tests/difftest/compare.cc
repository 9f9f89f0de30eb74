#include "compare.h"

#include <fmt/format.h>

#include <cstdint>

namespace nfx::difftest {

std::string hex(const Bytes& b) {
  std::string s;
  for (uint8_t x : b) s += fmt::format("{:02x}", x);
  return s;
}

namespace {

// Frames are compared whole: nfx is given the oracle's MACs, so forwarded
// frames get the same next-hop header (tap1 to the outside gateway).
Bytes comparable(const Bytes& frame, Path) { return frame; }

}  // namespace

std::vector<Mismatch> compare(const CaseResult& k, const CaseResult& n, Path path) {
  std::vector<Mismatch> out;
  if (k.frames.size() != n.frames.size()) {
    out.push_back({SIZE_MAX, fmt::format("the kernel reported {} frames, nfx {}", k.frames.size(), n.frames.size())});
    return out;
  }
  for (size_t i = 0; i < k.frames.size(); ++i) {
    const FrameOutcome &a = k.frames[i], &b = n.frames[i];
    if (a.accepted != b.accepted) {
      out.push_back({i, fmt::format("kernel {}, nfx {}", a.accepted ? "accept" : "drop", b.accepted ? "accept" : "drop")});
      continue;
    }
    if (path == Path::Input || !a.accepted) continue;
    if (a.out.size() != b.out.size()) {
      out.push_back({i, fmt::format("kernel sent {} frames, nfx {}", a.out.size(), b.out.size())});
      continue;
    }
    for (size_t j = 0; j < a.out.size(); ++j) {
      Bytes x = comparable(a.out[j], path), y = comparable(b.out[j], path);
      if (x != y) out.push_back({i, fmt::format("output differs:\n      kernel {}\n      nfx    {}", hex(x), hex(y))});
    }
  }
  for (const auto& [key, kv] : k.counters) {
    auto it = n.counters.find(key);
    const auto& [fam, table, chain, handle] = key;
    if (it == n.counters.end())
      out.push_back({SIZE_MAX, fmt::format("counter of {} {} {} handle {}: nfx has none", fam, table, chain, handle)});
    else if (it->second != kv)
      out.push_back({SIZE_MAX, fmt::format("counter of {} {} {} handle {}: kernel {} packets {} bytes, nfx {} packets {} bytes",
                                           fam, table, chain, handle, kv.first, kv.second, it->second.first, it->second.second)});
  }
  for (const auto& [key, nv] : n.counters)
    if (!k.counters.count(key)) {
      const auto& [fam, table, chain, handle] = key;
      out.push_back({SIZE_MAX, fmt::format("counter of {} {} {} handle {}: the kernel has none", fam, table, chain, handle)});
    }
  return out;
}

}  // namespace nfx::difftest
