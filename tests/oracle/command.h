// Runs a helper program (nft, ip, tc) as a child of the oracle, so it lives
// in the oracle's network namespace, and captures what it prints.
#pragma once

#include <string>
#include <vector>

namespace nfx::oracle {

struct CommandResult {
  int status = -1;  // exit status, or -1 when killed by a signal
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH. `input` is written to the child's stdin.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "");

// Runs the command and throws OracleError (with its stderr) unless it exits 0.
std::string run_checked(const std::vector<std::string>& argv, const std::string& input = "");

// True if `name` is an executable file in one of PATH's directories.
bool in_path(const std::string& name);

}  // namespace nfx::oracle
