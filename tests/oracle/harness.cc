#include "harness.h"

#include <climits>
#include <set>
#include <string>

#include "error.h"
#include "markers.h"

namespace nfx::oracle {

namespace {

using nlohmann::json;

json match(const char* proto, const char* field, const json& value) {
  return {{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", proto}, {"field", field}}}}}, {"right", value}}}};
}

json accept() { return {{"accept", nullptr}}; }

json rule(const std::string& family, const std::string& table, const std::string& chain, json expr) {
  return {{"family", family}, {"table", table}, {"chain", chain}, {"expr", std::move(expr)}};
}

json insert_marker_rule(const std::string& family, const std::string& table, const std::string& chain, json expr) {
  json r = rule(family, table, chain, std::move(expr));
  r["comment"] = kMarkerComment;
  return {{"insert", {{"rule", r}}}};
}

json add(const char* what, json obj) { return {{"add", {{what, std::move(obj)}}}}; }

json base_chain(const char* name, const char* hook, long prio) {
  return {{"family", "inet"}, {"table", kHarnessTable}, {"name", name}, {"type", "filter"},
          {"hook", hook},     {"prio", prio},           {"policy", "accept"}};
}

json log_stmt(const char* prefix) {
  return {{"log", {{"prefix", prefix}, {"group", kLogGroup}, {"queue-threshold", 1}}}};
}

}  // namespace

json harness_commands(const json& listing, Path path) {
  json cmds = json::array();
  bool bridge = path == Path::Bridge;
  std::set<std::string> families =
      bridge ? std::set<std::string>{"bridge", "netdev"} : std::set<std::string>{"ip", "inet", "netdev"};

  for (const auto& item : listing.at("nftables")) {
    if (item.contains("table")) {
      const auto& t = item["table"];
      if (t.value("family", "") == "inet" && t.value("name", "") == kHarnessTable)
        throw OracleError("the ruleset defines table inet nfx_oracle, which the oracle reserves for itself");
    }
    if (!item.contains("chain")) continue;
    const auto& c = item["chain"];
    if (!c.contains("hook")) continue;
    std::string family = c.at("family"), table = c.at("table"), name = c.at("name"), hook = c.at("hook");
    if (path == Path::Input && hook == "input" && c.value("prio", 0L) == INT_MAX &&
        (family == "ip" || family == "ip6" || family == "inet"))
      throw OracleError("chain " + family + " " + table + " " + name +
                        " sits at input priority 2147483647, where the oracle observes the input verdict");
    if (!families.count(family)) continue;
    if (bridge) {
      cmds.push_back(insert_marker_rule(
          family, table, name, {match("ether", "saddr", kMarkerMac), match("ether", "type", "0x88b5"), accept()}));
    } else {
      // Inserted at the head in turn: the daddr rule ends up second.
      cmds.push_back(insert_marker_rule(family, table, name, {match("ip", "daddr", kMarkerIp), accept()}));
      cmds.push_back(insert_marker_rule(family, table, name, {match("ip", "saddr", kMarkerIp), accept()}));
    }
  }

  if (!bridge) {
    cmds.push_back(add("table", {{"family", "inet"}, {"name", kHarnessTable}}));
    cmds.push_back(add("chain", base_chain("pre", "prerouting", -1000)));
    cmds.push_back(add("rule", rule("inet", kHarnessTable, "pre", {match("ip", "saddr", kMarkerIp), {{"notrack", nullptr}}})));
    cmds.push_back(add("chain", base_chain("out", "output", -1000)));
    cmds.push_back(add("rule", rule("inet", kHarnessTable, "out", {match("ip", "daddr", kMarkerIp), {{"notrack", nullptr}}})));
    // What the kernel's own stack sends (resets for closed ports, echo
    // replies, ICMP errors) is left out of connection tracking: nfx does not
    // play the host's stack, and such packets would change the state of the
    // connections the test frames make. Rejects' replies keep the
    // connection of the packet they answer (nf_ct_attach), so notrack does
    // not touch them.
    cmds.push_back(add("rule", rule("inet", kHarnessTable, "out", {{{"notrack", nullptr}}})));
    if (path == Path::Input) {
      cmds.push_back(add("chain", base_chain("in", "input", INT_MAX)));
      cmds.push_back(add("rule", rule("inet", kHarnessTable, "in",
                                      {match("ip", "saddr", kMarkerIp), log_stmt(kLogPrefixMarker), accept()})));
      cmds.push_back(add("rule", rule("inet", kHarnessTable, "in", {log_stmt(kLogPrefixAccept)})));
    }
  }
  return json{{"nftables", cmds}};
}

}  // namespace nfx::oracle
