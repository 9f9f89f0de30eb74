// A TAP device opened through /dev/net/tun (IFF_TAP | IFF_NO_PI): frames
// written to it enter the kernel as if received on the device; frames the
// kernel transmits on it are read back. The device lives as long as the fd.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nfx::oracle {

using Frame = std::vector<uint8_t>;

class Tap {
 public:
  explicit Tap(const std::string& name);
  ~Tap();
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  const std::string& name() const { return name_; }

  // Injects one frame. Returns 0, or the errno the kernel refused it with
  // (e.g. EINVAL for a frame shorter than an Ethernet header).
  int write(std::span<const uint8_t> frame);

  // Reads the next frame the kernel transmitted on the device, waiting at
  // most timeout_ms. Returns false on timeout.
  bool read(Frame& frame, int timeout_ms);

  // Discards every frame queued now.
  void drain();

 private:
  std::string name_;
  std::vector<uint8_t> buf_;  // one read: a frame is at most 64 KiB
  int fd_ = -1;
};

}  // namespace nfx::oracle
