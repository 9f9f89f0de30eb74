// nft's payload merging (rule.c stmt_reduce / payload_do_merge): equality
// matches on adjacent header bytes are sent to the kernel as one load and
// one compare, which the listing splits again in header order, at the place
// of one of the merged matches. The visible effect is an order: `icmp code 1
// icmp type 2` lists as `icmp type 2 icmp code 1`.
#pragma once

#include <nfx/grammar.h>

#include <string>

namespace nfx {

// Reorders `rule`'s matches as nft's merge and listing do. The link-layer
// dependency nft inserts (`ether type 8021q` before `vlan id` in bridge)
// takes part in the merge, as it does in nft.
void order_merged_payloads(Rule& rule, const std::string& family);

}  // namespace nfx
