#include "compare.h"

#include <fmt/format.h>

#include <algorithm>
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

// Replies, with two named normalisations: the IPv4 id (icmp_send takes it
// from the kernel's id generator, a keyed hash; nfx puts 0) and with it the
// header checksum, and on the routed paths the destination MAC (the kernel
// routes replies to the inside gateway; nfx eval has no routing table and
// returns them to the sender).
Bytes comparable_reply(Bytes f, Path path) {
  if (path != Path::Bridge && f.size() >= 6) std::fill(f.begin(), f.begin() + 6, 0);
  if (f.size() >= 34 && f[12] == 0x08 && f[13] == 0x00) {
    f[18] = f[19] = 0;  // id
    f[24] = f[25] = 0;  // header checksum
  }
  return f;
}

}  // namespace

// The host answers, by itself, what is delivered to it (echo replies, TCP
// resets and port unreachables from closed ports) and ARP requests for its
// address; nfx eval has no local stack. Replies are compared for the rest:
// what the ruleset rejected and what forwarding answers (time exceeded).
static bool replies_from_ruleset(const Bytes& frame, bool kernel_accepted, Path path) {
  if (frame.size() >= 14 && frame[12] == 0x08 && frame[13] == 0x06) return false;  // ARP
  return !(path == Path::Input && kernel_accepted);
}

std::vector<Mismatch> compare(const CaseResult& k, const CaseResult& n, Path path, const std::vector<Bytes>& frames) {
  std::vector<Mismatch> out;
  if (k.frames.size() != n.frames.size()) {
    out.push_back({SIZE_MAX, fmt::format("the kernel reported {} frames, nfx {}", k.frames.size(), n.frames.size())});
    return out;
  }
  for (size_t i = 0; i < k.frames.size(); ++i) {
    const FrameOutcome &a = k.frames[i], &b = n.frames[i];
    if (!replies_from_ruleset(frames.at(i), a.accepted, path)) {
      // the host's own answers: not compared
    } else if (a.replies.size() != b.replies.size()) {
      out.push_back({i, fmt::format("kernel sent {} replies, nfx {}", a.replies.size(), b.replies.size())});
    } else {
      for (size_t j = 0; j < a.replies.size(); ++j) {
        Bytes x = comparable_reply(a.replies[j], path), y = comparable_reply(b.replies[j], path);
        if (x != y) out.push_back({i, fmt::format("reply differs:\n      kernel {}\n      nfx    {}", hex(x), hex(y))});
      }
    }
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
