// The reject statement as nft lists it: numeric codes by name, and the
// family's default (icmp port-unreachable in ip, icmpv6 in ip6, icmpx in
// inet, bridge and netdev) as a bare `reject`.
#include <nfx/compiler.h>

#include "dependencies.h"
#include "types.h"

namespace nfx {

void normalize_reject(Stmt& s, const std::string& family) {
  if (s.kind != StmtKind::Reject) return;
  const std::string kind = s.name;
  if (kind != "icmp" && kind != "icmpv6" && kind != "icmpx") return;
  auto it = s.opts.find("type");
  if (it == s.opts.end()) return;
  const Datatype* dt = find_datatype("reject_" + kind + "_code");
  if (!dt) return;
  ParseResult r = parse_value(*dt, it->second, dt->bits);
  if (!r.value) return;  // left for the constraint check to report
  it->second = print_value(*dt, *r.value, PrintOptions{});
  bool family_default = (family == "ip" && kind == "icmp") || (family == "ip6" && kind == "icmpv6") ||
                        ((family == "inet" || family == "bridge" || family == "netdev") && kind == "icmpx");
  if (family_default && it->second == "port-unreachable") {
    s.name.clear();
    s.opts.erase(it);
  }
}

}  // namespace nfx
