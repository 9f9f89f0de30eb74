// The nft command, run inside the oracle's namespace.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace nfx::oracle {

// `nft -f FILE`; throws OracleError with nft's own error text on failure.
void nft_load_file(const std::string& path);

// `nft -j -f -` with a libnftables JSON batch.
void nft_apply_json(const nlohmann::json& batch);

// `nft -j list ruleset`, parsed.
nlohmann::json nft_list_ruleset();

}  // namespace nfx::oracle
