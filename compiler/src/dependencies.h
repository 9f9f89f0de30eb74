// Protocol dependencies as nft lists them: a match that only states what a
// following match implies (`ip protocol 6` before `tcp dport 22` in an ip
// table, `meta l4proto 1` before `icmp type ...`) is what the kernel stores
// as the implicit dependency, so nft's listing leaves it out. We drop it at
// evaluation so text and JSON listings agree with nft's.
#pragma once

#include <nfx/grammar.h>

#include <string>
#include <vector>

namespace nfx {

void elide_redundant_dependencies(Rule& rule, const std::string& family);

// A match statement `rel` at `loc`, for the dependencies nft inserts.
StmtPtr make_match_stmt(ExprPtr rel, const SourceLoc& loc);

// Inserts the `icmp type { ... }` set match nft adds before an icmp/icmpv6
// field that several message types carry (icmp id, icmpv6 taddr...), unless
// the rule matches the type first; returns the indexes of inserted statements.
std::vector<size_t> add_icmp_type_dependencies(Rule& rule);

// reject_listing.cc: numeric reject codes by name; the family's default
// `reject with ... port-unreachable` as a bare `reject`.
void normalize_reject(Stmt& s, const std::string& family);
// In inet, bridge and netdev: a bare reject after a network protocol match
// lists as `reject with icmp(v6) port-unreachable`, dropping the protocol key
// match (meta nfproto, meta protocol, ether type) it makes redundant.
void resolve_reject_family(Rule& rule, const std::string& family);
// `reject with tcp reset` without a transport match: nft adds `meta l4proto 6`
// first. Returns true if statement 0 was inserted.
bool add_reject_l4_dependency(Rule& rule, const std::string& family);

// True if `icmp type VALUE` (dep) is the single-type dependency of `next`.
bool elides_icmp_type(const Expr& dep, uint64_t value, const Expr& next);

}  // namespace nfx
