// Frame: an owned byte buffer with room in front (for tags and
// encapsulation) and behind (for growth), like an skb's linear area.
#include <nfx/packet.h>

#include <algorithm>
#include <cstring>

#include "internal.h"

namespace nfx::packet {

Frame::Frame(std::span<const std::uint8_t> bytes, std::size_t headroom, std::size_t tailroom)
    : buf_(headroom + bytes.size() + tailroom), head_(headroom), len_(bytes.size()) {
  if (!bytes.empty()) std::memcpy(buf_.data() + head_, bytes.data(), bytes.size());
}

Frame::Frame(const std::uint8_t* bytes, std::size_t len)
    : Frame(std::span<const std::uint8_t>(bytes, len)) {}

std::uint8_t* Frame::push_front(std::size_t n) {
  if (n > head_) {
    // Reallocate with the default headroom left over after the push.
    std::vector<std::uint8_t> grown(kDefaultHeadroom + n + len_ + tailroom());
    if (len_ != 0) std::memcpy(grown.data() + kDefaultHeadroom + n, data(), len_);
    buf_ = std::move(grown);
    head_ = kDefaultHeadroom + n;
  }
  head_ -= n;
  len_ += n;
  std::memset(data(), 0, n);
  return data();
}

bool Frame::pull_front(std::size_t n) {
  if (n > len_) return false;
  head_ += n;
  len_ -= n;
  return true;
}

void Frame::resize(std::size_t n) {
  if (n > len_) {
    if (n - len_ > tailroom()) buf_.resize(head_ + n + kDefaultTailroom);
    std::memset(buf_.data() + head_ + len_, 0, n - len_);
  }
  len_ = n;
}

void Frame::assign(std::span<const std::uint8_t> bytes) {
  std::size_t need = kDefaultHeadroom + bytes.size() + kDefaultTailroom;
  if (buf_.size() < need) buf_.resize(need);
  head_ = kDefaultHeadroom;
  len_ = bytes.size();
  if (!bytes.empty()) std::memcpy(buf_.data() + head_, bytes.data(), bytes.size());
}

bool insert_vlan_tag(Frame& frame, std::uint16_t tpid, std::uint16_t tci) {
  constexpr std::size_t kAddrs = 12;
  if (frame.size() < kAddrs) return false;
  std::uint8_t* d = frame.push_front(4);
  std::memmove(d, d + 4, kAddrs);
  detail::store_be16(d + kAddrs, tpid);
  detail::store_be16(d + kAddrs + 2, tci);
  return true;
}

bool remove_vlan_tag(Frame& frame, std::uint16_t* tpid, std::uint16_t* tci) {
  constexpr std::size_t kAddrs = 12;
  if (frame.size() < kAddrs + 4) return false;
  std::uint8_t* d = frame.data();
  const std::uint16_t proto = detail::load_be16(d + kAddrs);
  if (proto != kEthP8021Q && proto != kEthP8021AD) return false;
  if (tpid != nullptr) *tpid = proto;
  if (tci != nullptr) *tci = detail::load_be16(d + kAddrs + 2);
  std::memmove(d + 4, d, kAddrs);
  frame.pull_front(4);
  return true;
}

}  // namespace nfx::packet
