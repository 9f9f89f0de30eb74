// `nfx run` (the TAP-attached element) and `nfx ctl` (its control socket).
#pragma once

#include <nfx/compiler.h>

#include <string>
#include <vector>

namespace nfx::cli {

struct RunOptions {
  std::vector<std::string> taps;    // NAME[=ADDR/LEN[,ADDR/LEN...]]
  std::vector<std::string> routes;  // DEST=GATEWAY, DEST=dev:NAME
  std::vector<std::string> mtus;    // NAME=BYTES
  std::string ruleset;
  bool bridge = false;
  unsigned workers = 1;
  std::string control = "/run/nfx.sock";
  bool jit = true;
  std::string config;  // a file of more options
};

// Adds the options of a config file (run_config.cc gives its format) to `o`.
bool read_run_config(const std::string& path, RunOptions& o, std::string& error);

// Both return the process exit code.
int run_element(const RunOptions& o, const ParseOptions& popts);
int run_ctl(const std::string& socket, const std::vector<std::string>& words);

}  // namespace nfx::cli
