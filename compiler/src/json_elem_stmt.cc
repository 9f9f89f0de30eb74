// Stateful statements on set elements. The grammar keeps them as nft's text
// ("counter packets 1 bytes 2", "limit rate over 1 mbytes/second"); JSON has
// them as statement objects. These convert between the two.
#include <sstream>

#include "json_internal.h"

namespace nfx::jsonio {

namespace {

std::string opt(const Stmt& s, const char* key, const std::string& dflt = {}) {
  auto it = s.opts.find(key);
  return it == s.opts.end() ? dflt : it->second;
}

}  // namespace

StmtPtr elem_stmt_from_text(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  if (w.empty()) return nullptr;
  auto s = std::make_shared<Stmt>();
  size_t i = 1;
  auto at = [&](size_t k) { return k < w.size() ? w[k] : std::string(); };
  if (w[0] == "counter") {
    s->kind = StmtKind::Counter;
    for (; i + 1 < w.size(); i += 2) s->opts[w[i]] = w[i + 1];  // packets N bytes N
    return s;
  }
  if (w[0] == "quota") {
    s->kind = StmtKind::Quota;
    if (at(i) == "over" || at(i) == "until") {
      if (at(i) == "over") s->opts["over"] = "1";
      ++i;
    }
    s->opts["bytes"] = at(i);
    s->opts["unit"] = at(i + 1).empty() ? "bytes" : at(i + 1);
    if (at(i + 2) == "used") {
      s->opts["used"] = at(i + 3);
      s->opts["used_unit"] = at(i + 4).empty() ? "bytes" : at(i + 4);
    }
    return s;
  }
  if (w[0] == "last") {
    s->kind = StmtKind::Last;
    if (at(1) == "used" && !at(2).empty()) s->opts["used"] = at(2);
    return s;
  }
  if (w[0] == "limit" && at(1) == "rate") {
    s->kind = StmtKind::Limit;
    i = 2;
    if (at(i) == "over") {
      s->opts["over"] = "1";
      ++i;
    }
    std::string rate = at(i);
    auto slash = rate.find('/');
    if (slash != std::string::npos) {  // 10/second
      s->opts["rate"] = rate.substr(0, slash);
      s->opts["unit"] = rate.substr(slash + 1);
      i += 1;
    } else {  // 1 mbytes/second
      s->opts["rate"] = rate;
      s->opts["unit"] = at(i + 1);
      i += 2;
    }
    if (at(i) == "burst") {
      s->opts["burst"] = at(i + 1);
      s->opts["burst_unit"] = at(i + 2).empty() ? "packets" : at(i + 2);
    }
    return s;
  }
  if (w[0] == "ct" && at(1) == "count") {
    s->kind = StmtKind::Match;
    s->name = "ct count";
    i = 2;
    if (at(i) == "over") {
      s->opts["over"] = "1";
      ++i;
    }
    s->opts["count"] = at(i);
    return s;
  }
  return nullptr;
}

// Must produce what grammar/parser.y.in's elem_stmt_text keeps for the same statement.
std::optional<std::string> elem_stmt_to_text(const Stmt& s) {
  switch (s.kind) {
    case StmtKind::Counter:
      if (!s.opts.count("packets") && !s.opts.count("bytes")) return std::string("counter");
      return "counter packets " + opt(s, "packets", "0") + " bytes " + opt(s, "bytes", "0");
    case StmtKind::Quota: {
      std::string out = "quota ";
      if (s.opts.count("over")) out += "over ";
      out += opt(s, "bytes") + " " + opt(s, "unit");
      if (s.opts.count("used")) out += " used " + opt(s, "used") + " " + opt(s, "used_unit");
      return out;
    }
    case StmtKind::Last:
      return s.opts.count("used") ? "last used " + opt(s, "used") : std::string("last");
    case StmtKind::Limit: {
      std::string out = "limit rate ";
      if (s.opts.count("over")) out += "over ";
      std::string unit = opt(s, "unit");
      out += opt(s, "rate") + (unit.find('/') != std::string::npos ? " " : "/") + unit;
      if (s.opts.count("burst") && opt(s, "burst") != "0")
        out += " burst " + opt(s, "burst") + " " + opt(s, "burst_unit", "packets");
      return out;
    }
    case StmtKind::Match:
      if (s.name == "ct count")
        return std::string("ct count ") + (s.opts.count("over") ? "over " : "") + opt(s, "count");
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace nfx::jsonio
