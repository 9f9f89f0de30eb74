// `nfx run --config FILE`: the command line's options, one per line, without
// their dashes:
//   # a home gateway
//   tap lan0=192.168.1.1/24,fd00:1::1/64
//   tap wan0=203.0.113.2/24
//   route default=203.0.113.1
//   ruleset gateway.nft          (relative to the file's directory)
//   workers 2
//   mtu wan0=1492
//   control /run/nfx.sock
//   bridge                       (no value)
//   no-jit                       (no value)
#include "run.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace nfx::cli {

bool read_run_config(const std::string& path, RunOptions& o, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = fmt::format("{}: cannot read the file", path);
    return false;
  }
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string key, value, extra;
    if (!(words >> key)) continue;
    words >> value;
    auto fail = [&](const std::string& why) {
      error = fmt::format("{}:{}: {}", path, n, why);
      return false;
    };
    if (words >> extra) return fail(fmt::format("'{}' takes one value", key));
    const bool flag = key == "bridge" || key == "no-jit";
    if (flag != value.empty()) return fail(flag ? fmt::format("'{}' takes no value", key)
                                                : fmt::format("'{}' needs a value", key));
    if (key == "tap") o.taps.push_back(value);
    else if (key == "route") o.routes.push_back(value);
    else if (key == "mtu") o.mtus.push_back(value);
    else if (key == "ruleset") o.ruleset = std::filesystem::path(value).is_absolute() ? value : (dir / value).string();
    else if (key == "control") o.control = value;
    else if (key == "bridge") o.bridge = true;
    else if (key == "no-jit") o.jit = false;
    else if (key == "workers") {
      try {
        size_t used = 0;
        unsigned long w = std::stoul(value, &used);
        if (used != value.size() || w < 1 || w > 64) throw std::out_of_range("workers");
        o.workers = static_cast<unsigned>(w);
      } catch (const std::exception&) {
        return fail("workers is 1 to 64");
      }
    } else {
      return fail(fmt::format("unknown option '{}' (tap, route, mtu, ruleset, control, workers, bridge, no-jit)", key));
    }
  }
  return true;
}

}  // namespace nfx::cli
