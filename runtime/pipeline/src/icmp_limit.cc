// The IP stack's ICMP rate limits (net/ipv4/icmp.c, net/ipv6/icmp.c,
// inet_peer_xrlim_allow), as kernels since 6.12 apply them: the global
// budget is asked first, the destination's bucket second, and the budget
// is spent only by a message that goes.
#include <nfx/pipeline.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace nfx::pipeline {

namespace {

constexpr uint64_t kMs = 1'000'000, kSecond = 1'000'000'000;
constexpr uint64_t kBurstFactor = 6;  // XRLIM_BURST_FACTOR: six messages back to back
constexpr uint8_t kNrIcmpTypes = 18;  // NR_ICMP_TYPES: higher types are never limited

struct Error {
  bool v6 = false;
  uint8_t type = 0, code = 0;
  std::span<const uint8_t> dst;
};

// The ICMP or ICMPv6 message `ip` carries (nullopt: another protocol).
std::optional<Error> icmp_of(std::span<const uint8_t> ip) {
  if (ip.size() < 20) return std::nullopt;
  const unsigned version = ip[0] >> 4;
  if (version == 4) {
    const size_t ihl = (ip[0] & 0x0fu) * 4u;
    if (ip[9] != 1 || ihl < 20 || ip.size() < ihl + 2) return std::nullopt;
    return Error{false, ip[ihl], ip[ihl + 1], ip.subspan(16, 4)};
  }
  // the stack's own ICMPv6 messages carry no extension headers
  if (version != 6 || ip.size() < 42 || ip[6] != 58) return std::nullopt;
  return Error{true, ip[40], ip[41], ip.subspan(24, 16)};
}

}  // namespace

// icmp_global_allow: a credit is there, or the time since the last refill
// (20 ms at least, a second at most) brings msgs_per_sec's share of it.
bool IcmpRateLimit::global_allow(uint64_t now_ns) {
  if (!started_) {  // the first message finds the budget full
    started_ = true;
    credit_ = config_.msgs_burst;
    stamp_ns_ = now_ns;
  }
  if (credit_ > 0) return true;
  const uint64_t delta = std::min(now_ns - std::min(now_ns, stamp_ns_), kSecond);
  if (delta < kSecond / 50) return false;
  const int64_t incr = static_cast<int64_t>(config_.msgs_per_sec * delta / kSecond);
  if (incr == 0) return false;
  stamp_ns_ = now_ns;
  credit_ = std::min<int64_t>(credit_ + incr, config_.msgs_burst);
  return true;
}

bool IcmpRateLimit::allow(std::span<const uint8_t> ip, uint64_t now_ns) {
  const std::optional<Error> e = icmp_of(ip);
  if (!e) return true;
  // icmpv4_mask_allow / icmpv6_mask_allow
  if (!e->v6) {
    if (e->type > kNrIcmpTypes || (e->type == 3 && e->code == 4)) return true;  // PMTU discovery goes
    if (!(config_.ratemask >> e->type & 1)) return true;
  } else {
    if (!(config_.ratemask6[e->type / 64] >> (e->type % 64) & 1)) return true;
    if (e->type == 2) return true;  // packet too big: PMTU discovery goes
  }
  if (!global_allow(now_ns)) {
    ++limited_global_;
    return false;
  }
  // icmpv4_xrlim_allow / icmpv6_xrlim_allow
  uint64_t timeout = uint64_t{e->v6 ? config_.ratelimit6_ms : config_.ratelimit_ms} * kMs;
  if (e->v6) {
    const unsigned plen = prefix_len6 ? std::min(prefix_len6(e->dst), 128u) : 128u;
    if (plen < 128) timeout >>= (128 - plen) >> 5;  // wider prefixes get more
  }
  std::array<uint8_t, 17> key{};
  key[0] = e->v6 ? 6 : 4;
  std::memcpy(key.data() + 1, e->dst.data(), e->dst.size());
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    // inet_getpeer: none to be had lets the message go
    if (peers_.size() >= config_.max_peers) {
      --credit_;
      return true;
    }
    // a new peer's last message is long past: its bucket starts full
    it = peers_.emplace(key, Peer{0, now_ns - std::min(now_ns, 60 * kSecond)}).first;
  }
  Peer& p = it->second;
  uint64_t tokens = p.tokens_ns + (now_ns - std::min(now_ns, p.last_ns));
  p.last_ns = now_ns;
  tokens = std::min(tokens, kBurstFactor * timeout);
  const bool go = tokens >= timeout;
  if (go) tokens -= timeout;
  p.tokens_ns = tokens;
  if (!go) {
    ++limited_host_;
    return false;
  }
  // icmp_global_consume takes 0, 1 or 2 credits at random; one on average
  --credit_;
  return true;
}

void IcmpRateLimit::forget_idle(uint64_t now_ns) {
  const uint64_t full = kBurstFactor * uint64_t{std::max(config_.ratelimit_ms, config_.ratelimit6_ms)} * kMs;
  std::erase_if(peers_, [&](const auto& kv) { return now_ns - std::min(now_ns, kv.second.last_ns) >= full; });
}

}  // namespace nfx::pipeline
