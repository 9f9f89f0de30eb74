// The oracle's one failure type: every problem ends the run with a message
// and a non-zero exit (main prints it).
#pragma once

#include <stdexcept>
#include <string>

namespace nfx::oracle {

struct OracleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Message plus strerror(errno).
[[noreturn]] void fail_errno(const std::string& what);

}  // namespace nfx::oracle
