// Reading rulesets from files (nft syntax or libnftables JSON), shared by
// the subcommands.
#pragma once

#include <nfx/compiler.h>

#include <string>

namespace nfx::cli {

// Parses `path` and applies it to `rs` as one transaction. On failure the
// errors, as nft prints them, are in `errors` and `rs` is unchanged.
bool load_ruleset_file(const std::string& path, const ParseOptions& opts, Ruleset& rs, std::string& errors);

}  // namespace nfx::cli
