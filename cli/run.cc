#include "run.h"

#include "run_service.h"

#include <fmt/format.h>
#include <nfx/daemon.h>

#include <algorithm>
#include <cstdio>
#include <map>

namespace nfx::cli {

namespace {

// The element's own MAC on a port: locally administered, stable per name.
std::array<uint8_t, 6> port_mac(const std::string& name) {
  uint32_t h = 2166136261u;
  for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return {0x02, 0x6e, static_cast<uint8_t>(h >> 24), static_cast<uint8_t>(h >> 16), static_cast<uint8_t>(h >> 8),
          static_cast<uint8_t>(h)};
}

// "lan0=192.168.1.1/24,fd00:1::1/64" into a port.
bool parse_tap(const std::string& text, router::PortConfig& port, std::string& error) {
  auto eq = text.find('=');
  port.name = text.substr(0, eq);
  if (port.name.empty()) {
    error = fmt::format("--tap '{}': no interface name", text);
    return false;
  }
  if (eq == std::string::npos) return true;
  std::string rest = text.substr(eq + 1);
  for (size_t start = 0; start <= rest.size();) {
    size_t comma = rest.find(',', start);
    std::string one = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    router::Prefix p;
    if (!router::parse_prefix(one, p, error)) {
      error = fmt::format("--tap {}: {}", text, error);
      return false;
    }
    port.addrs.push_back(std::move(p));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

void log_line(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

}  // namespace

int run_element(const RunOptions& o, const ParseOptions& popts) {
  std::string error;
  std::vector<router::PortConfig> ports;
  for (const std::string& t : o.taps) {
    router::PortConfig p;
    if (!parse_tap(t, p, error)) {
      std::fprintf(stderr, "Error: %s\n", error.c_str());
      return 1;
    }
    for (const auto& other : ports)
      if (other.name == p.name) {
        std::fprintf(stderr, "Error: --tap %s is given twice\n", p.name.c_str());
        return 1;
      }
    p.mac = port_mac(p.name);
    ports.push_back(std::move(p));
  }
  if (ports.empty()) {
    std::fprintf(stderr, "Error: no --tap given\n");
    return 1;
  }
  if (o.bridge)
    for (const auto& p : ports)
      if (!p.addrs.empty()) {
        std::fprintf(stderr, "Error: --bridge: port %s has addresses; a bridge's ports have none\n", p.name.c_str());
        return 1;
      }
  for (const std::string& m : o.mtus) {
    auto eq = m.find('=');
    auto it = std::find_if(ports.begin(), ports.end(), [&](const auto& p) { return p.name == m.substr(0, eq); });
    unsigned long v = 0;
    try {
      v = eq == std::string::npos ? 0 : std::stoul(m.substr(eq + 1));
    } catch (const std::exception&) {
      v = 0;
    }
    if (it == ports.end() || v < 68 || v > 65535) {
      std::fprintf(stderr, "Error: --mtu %s: expected NAME=BYTES (68 to 65535) for a --tap\n", m.c_str());
      return 1;
    }
    it->mtu = static_cast<uint32_t>(v);
  }
  std::vector<router::RouteConfig> routes;
  for (const std::string& r : o.routes) {
    router::RouteConfig rc;
    if (!router::parse_route(r, rc, error)) {
      std::fprintf(stderr, "Error: --route %s\n", error.c_str());
      return 1;
    }
    routes.push_back(std::move(rc));
  }

  std::vector<io::Tap> taps;
  std::map<std::string, uint32_t> names;
  try {
    for (auto& p : ports) {
      taps.push_back(io::Tap::open(p.name, o.workers));
      taps.back().set_up();
      // rules name the ports by the indexes they had when opened
      p.index = taps.back().ifindex();
      names[p.name] = p.index;
    }
  } catch (const io::Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  set_interface_names(names);

  std::unique_ptr<router::Element> element;
  try {
    element = std::make_unique<router::Element>(o.bridge ? router::Mode::Bridge : router::Mode::Router, ports, routes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  element->set_log(log_line);
  RulesetService service(o.ruleset, popts, o.jit);
  if (!service.start(*element, error)) {
    std::fputs(error.c_str(), stderr);
    return 1;
  }
  daemon::Options dopts;
  dopts.workers = o.workers;
  dopts.control_socket = o.control;
  dopts.handler = [&service](const std::string& command, daemon::Runner& runner) {
    return service.handle(command, runner);
  };
  dopts.info = log_line;
  try {
    daemon::Runner runner(*element, taps, dopts);
    std::string summary;
    for (const auto& p : ports) {
      std::string addrs;
      for (const auto& a : p.addrs) addrs += " " + router::format_address(a.addr) + "/" + std::to_string(a.len);
      summary += fmt::format(" {}{}", p.name, addrs.empty() ? "" : " (" + addrs.substr(1) + ")");
    }
    log_line(fmt::format("nfx run: {} mode on{}; ruleset {}; control socket {}", o.bridge ? "bridge" : "router",
                         summary, o.ruleset, o.control));
    runner.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  log_line("nfx run: stopped");
  return 0;
}

int run_ctl(const std::string& socket, const std::vector<std::string>& words) {
  std::string command;
  for (const std::string& w : words) command += (command.empty() ? "" : " ") + w;
  try {
    daemon::Answer a = daemon::request(socket, command);
    std::fputs(a.text.c_str(), a.ok ? stdout : stderr);
    return a.ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
}

}  // namespace nfx::cli
