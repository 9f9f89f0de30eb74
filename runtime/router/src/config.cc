// Addresses, prefixes and routes as the command line and config file give them.
#include "internal.h"

#include <arpa/inet.h>
#include <fmt/format.h>

namespace nfx::router {

bool parse_prefix(const std::string& text, Prefix& out, std::string& error) {
  std::string addr = text, len;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    len = text.substr(slash + 1);
  }
  uint8_t buf[16];
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) out.addr.assign(buf, buf + 4);
  else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) out.addr.assign(buf, buf + 16);
  else {
    error = fmt::format("'{}' is not an IPv4 or IPv6 address", addr);
    return false;
  }
  unsigned max = out.v6() ? 128 : 32;
  if (len.empty()) {
    out.len = static_cast<uint8_t>(max);
    return true;
  }
  unsigned n = 0;
  for (char c : len) {
    if (c < '0' || c > '9' || (n = n * 10 + static_cast<unsigned>(c - '0')) > max) {
      error = fmt::format("'{}': the prefix length is 0 to {}", text, max);
      return false;
    }
  }
  out.len = static_cast<uint8_t>(n);
  return true;
}

std::string format_address(const std::vector<uint8_t>& addr) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.size() == 4) inet_ntop(AF_INET, addr.data(), buf, sizeof buf);
  else if (addr.size() == 16) inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
  else return "?";
  return buf;
}

bool parse_route(const std::string& text, RouteConfig& out, std::string& error) {
  auto eq = text.find('=');
  if (eq == std::string::npos) {
    error = fmt::format("route '{}': expected DESTINATION=GATEWAY or DESTINATION=dev:PORT", text);
    return false;
  }
  std::string dst = text.substr(0, eq), via = text.substr(eq + 1);
  out = RouteConfig{};
  if (via.rfind("dev:", 0) == 0) {
    out.dev = via.substr(4);
  } else {
    Prefix gw;
    if (!parse_prefix(via, gw, error) || gw.len != (gw.v6() ? 128 : 32)) {
      if (error.empty()) error = fmt::format("route '{}': the gateway is an address, not a prefix", text);
      error = fmt::format("route '{}': {}", text, error);
      return false;
    }
    out.gateway = gw.addr;
  }
  if (dst == "default" || dst == "default6") {
    bool v6 = dst == "default6" || out.gateway.size() == 16;
    out.dst.addr.assign(v6 ? 16 : 4, 0);
    out.dst.len = 0;
  } else if (!parse_prefix(dst, out.dst, error)) {
    error = fmt::format("route '{}': {}", text, error);
    return false;
  }
  if (!out.gateway.empty() && out.gateway.size() != out.dst.addr.size()) {
    error = fmt::format("route '{}': the gateway is not of the destination's family", text);
    return false;
  }
  return true;
}

}  // namespace nfx::router
