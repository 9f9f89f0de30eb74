#include "counters.h"

#include "error.h"
#include "harness.h"

namespace nfx::oracle {

namespace {

using nlohmann::json;

long long unit_bytes(const std::string& unit) {
  if (unit == "bytes") return 1;
  if (unit == "kbytes") return 1LL << 10;
  if (unit == "mbytes") return 1LL << 20;
  if (unit == "gbytes") return 1LL << 30;
  throw OracleError("unknown quota unit in nft's listing: " + unit);
}

// A rule's anonymous quota: {"val","val_unit","used","used_unit","inv"}.
json rule_quota(const json& q) {
  long long bytes = q.at("val").get<long long>() * unit_bytes(q.value("val_unit", "bytes"));
  long long used = q.value("used", 0LL) * unit_bytes(q.value("used_unit", "bytes"));
  return {{"bytes", bytes}, {"used", used}, {"inv", q.value("inv", false)}};
}

RuleKey key_of(const json& r) {
  return {r.at("family"), r.at("table"), r.at("chain"), r.at("handle").get<long>()};
}

}  // namespace

std::set<RuleKey> user_rules(const json& listing) {
  std::set<RuleKey> keys;
  for (const auto& item : listing.at("nftables"))
    if (item.contains("rule")) keys.insert(key_of(item["rule"]));
  return keys;
}

json collect_counters(const json& listing, const std::set<RuleKey>& user) {
  json out = json::array();
  for (const auto& item : listing.at("nftables")) {
    if (item.contains("rule")) {
      const auto& r = item["rule"];
      if (!user.count(key_of(r))) continue;
      json counters = json::array(), quotas = json::array();
      for (const auto& e : r.value("expr", json::array())) {
        // A named reference ({"counter": "name"}) is reported with its object.
        if (e.contains("counter") && e["counter"].is_object())
          counters.push_back({{"packets", e["counter"].at("packets")}, {"bytes", e["counter"].at("bytes")}});
        if (e.contains("quota") && e["quota"].is_object()) quotas.push_back(rule_quota(e["quota"]));
      }
      if (counters.empty() && quotas.empty()) continue;
      json entry = {{"family", r["family"]}, {"table", r["table"]}, {"chain", r["chain"]}, {"handle", r["handle"]}};
      if (!counters.empty()) entry["counter"] = counters[0];
      if (!quotas.empty()) entry["quota"] = quotas[0];
      if (counters.size() > 1) entry["counters"] = counters;
      if (quotas.size() > 1) entry["quotas"] = quotas;
      out.push_back(entry);
      continue;
    }
    for (const char* kind : {"counter", "quota"}) {
      if (!item.contains(kind) || !item[kind].is_object()) continue;
      const auto& o = item[kind];
      if (o.value("table", "") == kHarnessTable && o.value("family", "") == "inet") continue;
      json entry = {{"family", o.at("family")}, {"table", o.at("table")}, {"object", o.at("name")}};
      if (std::string(kind) == "counter")
        entry["counter"] = {{"packets", o.at("packets")}, {"bytes", o.at("bytes")}};
      else
        entry["quota"] = {{"bytes", o.at("bytes")}, {"used", o.value("used", 0LL)}, {"inv", o.value("inv", false)}};
      out.push_back(entry);
    }
  }
  return out;
}

}  // namespace nfx::oracle
