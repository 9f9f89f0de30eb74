// Stateful values of the user's ruleset after the run, from
// `nft -j list ruleset`: for every user rule with a counter or quota,
//   {"family","table","chain","handle", "counter":{"packets","bytes"},
//    "quota":{"bytes","used","inv"}}
// (the first counter / quota of the rule; a rule with more than one of a
// kind also gets "counters" / "quotas" arrays holding all of them, in rule
// order), and for every named counter or quota object
//   {"family","table","object":NAME, "counter":{...} | "quota":{...}}.
// Quota sizes are in bytes. Rules the oracle inserted and its own table are
// left out: only rules present right after loading (`user_rules`) count.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>

namespace nfx::oracle {

using RuleKey = std::tuple<std::string, std::string, std::string, long>;  // family, table, chain, handle

std::set<RuleKey> user_rules(const nlohmann::json& listing);

nlohmann::json collect_counters(const nlohmann::json& listing, const std::set<RuleKey>& user);

}  // namespace nfx::oracle
