#include "netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "command.h"
#include "error.h"

namespace nfx::oracle {

void preflight() {
  if (geteuid() != 0)
    throw OracleError("must run as root (it creates a network namespace, TAP devices and loads nftables rules)");
  struct stat st {};
  if (stat("/dev/net/tun", &st) != 0 || !S_ISCHR(st.st_mode))
    throw OracleError("/dev/net/tun is missing (the kernel's TUN/TAP driver is needed)");
  for (const char* tool : {"nft", "ip", "tc"})
    if (!in_path(tool))
      throw OracleError(std::string(tool) + " is not installed (not found in PATH); install " +
                        (std::string(tool) == "nft" ? "nftables" : "iproute2"));
}

void enter_fresh_netns() {
  if (unshare(CLONE_NEWNET) != 0) fail_errno("unshare(CLONE_NEWNET)");
}

bool sysctl_exists(const std::string& key) { return access(("/proc/sys/" + key).c_str(), W_OK) == 0; }

void write_sysctl(const std::string& key, const std::string& value, bool verify) {
  std::string path = "/proc/sys/" + key;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("open " + path);
  ssize_t w = write(fd, value.data(), value.size());
  int saved = errno;
  close(fd);
  errno = saved;
  if (w != static_cast<ssize_t>(value.size())) fail_errno("write '" + value + "' to " + path);
  if (!verify) return;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string got = ss.str();
  std::string want = value;
  for (std::string* t : {&got, &want})
    while (!t->empty() && (t->back() == '\n' || t->back() == ' ')) t->pop_back();
  if (got != want) throw OracleError(path + " reads back '" + got + "' after writing '" + value + "'");
}

}  // namespace nfx::oracle
