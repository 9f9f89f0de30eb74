#include "nft.h"

#include "command.h"
#include "error.h"

namespace nfx::oracle {

void nft_load_file(const std::string& path) {
  CommandResult r = run_command({"nft", "-f", path});
  if (r.status != 0)
    throw OracleError("nft could not load the ruleset " + path + " (exit " + std::to_string(r.status) + "):\n" +
                      r.err + r.out);
}

void nft_apply_json(const nlohmann::json& batch) { run_checked({"nft", "-j", "-f", "-"}, batch.dump() + "\n"); }

nlohmann::json nft_list_ruleset() {
  std::string out = run_checked({"nft", "-j", "list", "ruleset"});
  try {
    return nlohmann::json::parse(out);
  } catch (const nlohmann::json::exception& e) {
    throw OracleError(std::string("cannot parse `nft -j list ruleset`: ") + e.what());
  }
}

}  // namespace nfx::oracle
