#include <nfx/compiler.h>
#include <nlohmann/json.hpp>
namespace nfx {
Script parse_json(const std::string&, const std::string&, Diagnostics&) { return {}; }
}
