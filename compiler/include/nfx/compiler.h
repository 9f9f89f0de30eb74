// nfx compiler: semantic analysis of parsed nft scripts into a ruleset model,
// and printing that model back as `nft list ruleset` text or libnftables JSON.
//
// This is the one public header of the compiler library.
#pragma once

#include <nfx/grammar.h>
#include <nfx/ir.h>

#include <map>
#include <string>
#include <vector>

namespace nfx {

// nft's listing options with nft's meanings.
struct PrintOptions {
  bool handles = false;     // -a
  bool stateless = false;   // -s: omit counter/quota values
  bool terse = false;       // -t: omit set elements
  bool numeric = false;     // -n: numeric everything (implies -N -S -p style numbers)
  bool service = false;     // -S: ports as service names
  bool literal = false;     // -N: reverse-resolve addresses (never done offline)
  bool guid = false;        // -u: uid/gid as names
  bool numeric_priority = false;  // -y
  bool numeric_protocol = false;  // -p
  bool numeric_time = false;      // -T
  bool json = false;        // -j
};

// The ruleset a script builds, tables in creation order. The model reuses
// the grammar's declarations; semantic analysis fills in types and values.
struct Ruleset {
  std::vector<TableDecl> tables;
  uint64_t next_handle = 1;
};

// Applies every command of `script` to `rs` as the kernel would in one
// transaction (add/create/insert/replace/delete/flush/rename/reset), after
// checking names, types, values and dependencies. On any error nothing of
// the script is applied, the errors are in `diags`, and false is returned.
bool apply_script(const Script& script, Ruleset& rs, Diagnostics& diags);

// `nft list ruleset` text.
std::string print_ruleset(const Ruleset& rs, const PrintOptions& opts);
// `nft -j list ruleset` (libnftables JSON schema), pretty-printed as the
// shell dumps store it.
std::string print_ruleset_json(const Ruleset& rs, const PrintOptions& opts);
// Parses libnftables JSON input (a {"nftables": [...]} document) into a script.
Script parse_json(const std::string& text, const std::string& name, Diagnostics& diags);

// Lowers a checked ruleset to the IR (issue: the interpreter and JIT run
// it). Implicit protocol dependencies come back as explicit matches. Whatever
// the executors cannot run yet is reported as an error at its location.
bool lower_ruleset(const Ruleset& rs, ir::Program& out, Diagnostics& diags);

// Interface names the ruleset's iif/oif (and their listing) resolve to before
// the host's own interfaces: nfx run's ports, which may live in another
// network namespace. Process-wide; set it before loading rulesets.
void set_interface_names(std::map<std::string, uint32_t> names);

}  // namespace nfx
