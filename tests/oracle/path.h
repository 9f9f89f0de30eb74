// Which way test frames go through the kernel.
#pragma once

#include <string>

namespace nfx::oracle {

enum class Path { Bridge, Forward, Input };

inline const char* path_name(Path p) {
  switch (p) {
    case Path::Bridge: return "bridge";
    case Path::Forward: return "forward";
    case Path::Input: return "input";
  }
  return "?";
}

}  // namespace nfx::oracle
