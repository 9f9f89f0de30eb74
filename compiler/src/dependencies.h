// Protocol dependencies as nft lists them: a match that only states what a
// following match implies (`ip protocol 6` before `tcp dport 22` in an ip
// table, `meta l4proto 1` before `icmp type ...`) is what the kernel stores
// as the implicit dependency, so nft's listing leaves it out. We drop it at
// evaluation so text and JSON listings agree with nft's.
#pragma once

#include <nfx/grammar.h>

#include <string>

namespace nfx {

void elide_redundant_dependencies(Rule& rule, const std::string& family);

}  // namespace nfx
