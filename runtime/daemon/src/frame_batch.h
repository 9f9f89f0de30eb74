// A batch of frames packed into one buffer allocated once: the frames a
// worker reads in one wake-up, or the frames the element sends while it
// handles them. Each frame starts on a cache line.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace nfx::daemon {

class FrameBatch {
 public:
  struct Frame {
    uint32_t port;
    size_t offset;
    size_t size;
  };

  FrameBatch(size_t bytes, size_t frames) : buf_(bytes) { frames_.reserve(frames); }

  // Where the next frame goes: the free rest of the buffer.
  std::span<uint8_t> room() { return {buf_.data() + used_, buf_.size() - used_}; }
  // The next frame, `size` bytes written at room(), belongs to the batch.
  void commit(uint32_t port, size_t size) {
    frames_.push_back({port, used_, size});
    used_ = std::min(buf_.size(), (used_ + size + 63) & ~size_t{63});
  }
  // A copy of `frame`; false if the buffer has no room for it.
  bool add(uint32_t port, std::span<const uint8_t> frame) {
    std::span<uint8_t> r = room();
    if (frame.size() > r.size()) return false;
    std::copy(frame.begin(), frame.end(), r.begin());
    commit(port, frame.size());
    return true;
  }

  size_t size() const { return frames_.size(); }
  uint32_t port(size_t i) const { return frames_[i].port; }
  std::span<const uint8_t> frame(size_t i) const { return {buf_.data() + frames_[i].offset, frames_[i].size}; }
  void clear() {
    frames_.clear();
    used_ = 0;
  }

 private:
  std::vector<uint8_t> buf_;
  std::vector<Frame> frames_;
  size_t used_ = 0;
};

}  // namespace nfx::daemon
