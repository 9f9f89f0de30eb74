// nfx io: TAP devices, the wires nfx run moves frames over.
//
// This is the one public header of the io library. A TAP device is opened
// with IFF_TAP | IFF_NO_PI: each read() is one Ethernet frame the kernel side
// of the device transmitted, each write() one frame it receives. With more
// than one queue the device is multi-queue (IFF_MULTI_QUEUE) and every queue
// has its own descriptor, so each worker can own one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nfx::io {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Tap {
 public:
  // Creates the device `name` or attaches to the existing one, with `queues`
  // descriptors (non-blocking). Throws Error naming the device and the
  // reason (no /dev/net/tun, not root, busy, ...).
  static Tap open(const std::string& name, unsigned queues);
  Tap(Tap&&) noexcept;
  Tap& operator=(Tap&&) noexcept;
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;
  ~Tap();

  const std::string& name() const { return name_; }
  uint32_t ifindex() const { return ifindex_; }  // in the namespace it was opened in
  // The MAC of the kernel's side of the device (the host behind it).
  const std::array<uint8_t, 6>& peer_mac() const { return peer_mac_; }
  unsigned queues() const { return static_cast<unsigned>(fds_.size()); }
  int fd(unsigned queue) const { return fds_.at(queue); }
  // Brings the kernel side up (IFF_UP), as `ip link set NAME up` does.
  void set_up();

 private:
  Tap() = default;
  std::string name_;
  uint32_t ifindex_ = 0;
  std::array<uint8_t, 6> peer_mac_{};
  std::vector<int> fds_;
};

// One frame from a non-blocking descriptor into `buf`: its length, 0 when
// none is waiting (EAGAIN), -1 on an error (errno set).
long read_frame(int fd, std::span<uint8_t> buf);
// One frame out; false when the device's queue is full or down (the frame
// is dropped, as a full transmit queue drops it).
bool write_frame(int fd, std::span<const uint8_t> frame);

}  // namespace nfx::io
