// The oracle's private network namespace: the process unshares its own, so
// everything it creates there (TAP devices, bridge, routes, the ruleset)
// disappears with the process, however it ends -- error, signal or SIGKILL.
// Nothing is named or left behind in the caller's namespace.
#pragma once

#include <string>

namespace nfx::oracle {

// Checks what the oracle needs (root, /dev/net/tun, nft, ip, tc) and throws
// OracleError naming what is missing.
void preflight();

// Moves this process into a fresh, empty network namespace.
void enter_fresh_netns();

// Writes /proc/sys/<key> (e.g. "net/ipv4/ip_forward") in the current
// namespace and (if `verify`) reads it back; throws if the kernel refuses.
void write_sysctl(const std::string& key, const std::string& value, bool verify = true);

bool sysctl_exists(const std::string& key);

}  // namespace nfx::oracle
