// What the oracle adds to the loaded ruleset so that its markers always get
// through, and so that it can see the input hook's verdict.
//
// Markers must pass every base chain the ruleset has on their way; an
// `accept` in one base chain does not stop a later base chain on the same
// hook from dropping, so a separate early table is not enough. Instead the
// oracle inserts one rule at the *head* of every user base chain a marker
// can traverse, matching only markers and accepting them:
//   bridge path:           bridge and netdev chains:
//                            ether saddr 02:6e:66:78:ff:fe ether type 0x88b5 accept
//   forward / input paths: ip, inet and netdev chains:
//                            ip saddr 198.19.255.254 accept
//                            ip daddr 198.19.255.254 accept   (echo replies)
// The rules are inserted after the ruleset is loaded, so every user object
// keeps the handle the kernel gave it; they never match a test frame (input
// frames that would match are refused, see markers.h), so test frames meet
// exactly the user's rules, in the user's order, and no user counter,
// quota, limit or set ever sees a marker.
//
// For the router paths the oracle also adds its own table `inet nfx_oracle`:
//   prerouting/output at priority -1000 (before defrag and conntrack):
//     markers and their replies are `notrack`, so they create no conntrack
//     entries (no NAT, no change to the user's ct state/count);
//   input path only, input at priority 2147483647 (after every user chain;
//     a user input chain at that same priority is refused):
//     `log group 28262 queue-threshold 1` for every packet that got that far
//     (markers with their own prefix), read back on an NFLOG socket: a test
//     frame reached local delivery iff a log message precedes its marker's.
#pragma once

#include <nlohmann/json.hpp>

#include "path.h"

namespace nfx::oracle {

inline constexpr const char* kHarnessTable = "nfx_oracle";
inline constexpr const char* kMarkerComment = "nfx-oracle-marker";
inline constexpr const char* kLogPrefixMarker = "nfx-oracle-marker";
inline constexpr const char* kLogPrefixAccept = "nfx-oracle-accept";
inline constexpr uint16_t kLogGroup = 28262;

// From `nft -j list ruleset` of the user's ruleset, the libnftables JSON
// batch that installs the harness. Throws OracleError if the ruleset cannot
// be observed exactly (a table named nfx_oracle, an input chain at the
// highest priority).
nlohmann::json harness_commands(const nlohmann::json& listing, Path path);

}  // namespace nfx::oracle
