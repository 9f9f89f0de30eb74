#include "tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace nfx::oracle {

Tap::Tap(const std::string& name) : name_(name), buf_(65536) {
  fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) fail_errno("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd_, TUNSETIFF, &ifr) != 0) {
    int saved = errno;
    close(fd_);
    errno = saved;
    fail_errno("TUNSETIFF " + name);
  }
}

Tap::~Tap() {
  if (fd_ >= 0) close(fd_);
}

int Tap::write(std::span<const uint8_t> frame) {
  for (;;) {
    ssize_t w = ::write(fd_, frame.data(), frame.size());
    if (w == static_cast<ssize_t>(frame.size())) return 0;
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    throw OracleError("short write to " + name_);
  }
}

bool Tap::read(Frame& frame, int timeout_ms) {
  for (;;) {
    ssize_t got = ::read(fd_, buf_.data(), buf_.size());
    if (got >= 0) {
      frame.assign(buf_.begin(), buf_.begin() + got);
      return true;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) fail_errno("read " + name_);
    pollfd p{fd_, POLLIN, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) fail_errno("poll " + name_);
    if (n == 0) {
      frame.clear();
      return false;
    }
  }
}

void Tap::drain() {
  Frame f;
  while (read(f, 0)) {
  }
}

}  // namespace nfx::oracle
