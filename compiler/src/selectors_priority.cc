// Named base chain priorities (nft's std_prios / bridge_std_prios) and where
// each may be used, plus the way nft lists a priority value.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nfx/grammar.h>

#include "selectors.h"

namespace nfx {
namespace {

struct PrioTag {
  int value;
  const char* name;
};

// ip, ip6, inet, arp, netdev (NF_IP_PRI_*). Order matters for listing.
constexpr PrioTag kStdPrios[] = {
    {-300, "raw"},  {-150, "mangle"},  {-100, "dstnat"},
    {0, "filter"},  {50, "security"},  {100, "srcnat"},
};

// bridge (NF_BR_PRI_*).
constexpr PrioTag kBridgePrios[] = {
    {-300, "dstnat"},
    {-200, "filter"},
    {100, "out"},
    {300, "srcnat"},
};

bool is_ip_like(const std::string& family) {
  return family == "ip" || family == "ip6" || family == "inet";
}

// nft's std_prio_family_hook_compat.
bool compatible(int prio, const std::string& family, const std::string& hook) {
  if (family == "bridge") {
    switch (prio) {
      case -300: return hook == "prerouting";
      case -200: return true;
      case 100: return hook == "output";
      case 300: return hook == "postrouting";
      default: return false;
    }
  }
  switch (prio) {
    case 0:
      return is_ip_like(family) || family == "arp" || family == "netdev";
    case -300:
    case -150:
    case 50:
      return is_ip_like(family);
    case -100:
      return is_ip_like(family) && (hook == "prerouting" || hook == "output");
    case 100:
      return is_ip_like(family) && (hook == "input" || hook == "postrouting");
    default:
      return false;
  }
}

template <typename F>
void for_each_tag(const std::string& family, F&& f) {
  if (family == "bridge") {
    for (const PrioTag& t : kBridgePrios)
      if (!f(t)) return;
  } else {
    for (const PrioTag& t : kStdPrios)
      if (!f(t)) return;
  }
}

}  // namespace

bool named_priority(const std::string& family, const std::string& hook, const std::string& name,
                    int& value) {
  bool found = false;
  for_each_tag(family, [&](const PrioTag& t) {
    if (name == t.name && compatible(t.value, family, hook)) {
      value = t.value;
      found = true;
      return false;
    }
    return true;
  });
  return found;
}

const char* priority_name(const std::string& family, const std::string& hook, int value) {
  const char* name = nullptr;
  for_each_tag(family, [&](const PrioTag& t) {
    if (t.value != value) return true;
    if (compatible(t.value, family, hook)) name = t.name;
    return false;
  });
  return name;
}

std::string priority_to_string(const std::string& family, const std::string& hook, int value) {
  constexpr int64_t kReach = 10;
  std::string out;
  for_each_tag(family, [&](const PrioTag& t) {
    const int64_t offset = static_cast<int64_t>(value) - t.value;
    if (std::llabs(offset) > kReach) return true;
    // The first name within reach decides; if it is not valid here nft
    // prints the number.
    if (!compatible(t.value, family, hook)) return false;
    out = t.name;
    if (offset > 0)
      out += " + " + std::to_string(offset);
    else if (offset < 0)
      out += " - " + std::to_string(-offset);
    return false;
  });
  if (out.empty()) out = std::to_string(value);
  return out;
}

// A chain priority expression (number, name, "name + n") as its value.
long chain_priority_value(const std::string& family, const std::string& hook, const Expr* prio) {
  if (!prio) return 0;
  try {
    if (prio->kind == ExprKind::Number) return std::stol(prio->text, nullptr, 0);
    int base = 0;
    if (!named_priority(family, hook, prio->text, base)) return std::stol(prio->text, nullptr, 0);
    long value = base;
    if (prio->path.size() == 2) {
      long off = std::stol(prio->path[1], nullptr, 0);
      value += prio->path[0] == "-" ? -off : off;
    }
    return value;
  } catch (...) {
    return 0;
  }
}


}  // namespace nfx
