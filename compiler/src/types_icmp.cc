// ICMP, ICMPv6 and IGMP datatypes (nft's proto.c and datatype.c): message
// types, and the codes of the icmp/icmpv6 headers and of the reject
// statement.
#include "types.h"
#include "types_internal.h"

namespace nfx {

using namespace types_detail;

namespace {

const std::vector<SymbolEntry>& icmp_code_symbols() {
  static const std::vector<SymbolEntry> t = {
      {"net-unreachable", 0},  {"host-unreachable", 1}, {"prot-unreachable", 2},
      {"port-unreachable", 3}, {"net-prohibited", 9},   {"host-prohibited", 10},
      {"admin-prohibited", 13}, {"frag-needed", 4},
  };
  return t;
}

const std::vector<SymbolEntry>& icmpv6_code_symbols() {
  static const std::vector<SymbolEntry> t = {
      {"no-route", 0},         {"admin-prohibited", 1}, {"addr-unreachable", 3},
      {"port-unreachable", 4}, {"policy-fail", 5},      {"reject-route", 6},
  };
  return t;
}

const std::vector<SymbolEntry>& icmpx_code_symbols() {
  // NFT_REJECT_ICMPX_*
  static const std::vector<SymbolEntry> t = {
      {"port-unreachable", 1},
      {"admin-prohibited", 3},
      {"no-route", 0},
      {"host-unreachable", 2},
  };
  return t;
}

// The header code types parse the names (nft keeps them for backward
// compatibility with the reject statement) but list as numbers.
std::string numeric_print(const Datatype& dt, const Value& v, const PrintOptions&) {
  return integer_print(dt, v);
}

}  // namespace

namespace types_detail {

const Datatype& icmp_type_type() {
  static const Datatype d{.name = "icmp_type", .desc = "ICMP type", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"echo-reply", 0},
                                      {"destination-unreachable", 3},
                                      {"source-quench", 4},
                                      {"redirect", 5},
                                      {"echo-request", 8},
                                      {"router-advertisement", 9},
                                      {"router-solicitation", 10},
                                      {"time-exceeded", 11},
                                      {"parameter-problem", 12},
                                      {"timestamp-request", 13},
                                      {"timestamp-reply", 14},
                                      {"info-request", 15},
                                      {"info-reply", 16},
                                      {"address-mask-request", 17},
                                      {"address-mask-reply", 18}}};
  return d;
}

const Datatype& icmp6_type_type() {
  static const Datatype d{.name = "icmpv6_type", .desc = "ICMPv6 type", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"destination-unreachable", 1},
                                      {"packet-too-big", 2},
                                      {"time-exceeded", 3},
                                      {"parameter-problem", 4},
                                      {"echo-request", 128},
                                      {"echo-reply", 129},
                                      {"mld-listener-query", 130},
                                      {"mld-listener-report", 131},
                                      {"mld-listener-done", 132},
                                      {"mld-listener-reduction", 132},
                                      {"nd-router-solicit", 133},
                                      {"nd-router-advert", 134},
                                      {"nd-neighbor-solicit", 135},
                                      {"nd-neighbor-advert", 136},
                                      {"nd-redirect", 137},
                                      {"router-renumbering", 138},
                                      {"ind-neighbor-solicit", 141},
                                      {"ind-neighbor-advert", 142},
                                      {"mld2-listener-report", 143}}};
  return d;
}

const Datatype& icmp_code_type() {
  static const Datatype d{.name = "icmp_code", .desc = "icmp code", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = icmp_code_symbols(), .is_bitmask = false, .parse = nullptr,
                          .print = numeric_print};
  return d;
}

const Datatype& icmpv6_code_type() {
  static const Datatype d{.name = "icmpv6_code", .desc = "icmpv6 code", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = icmpv6_code_symbols(), .is_bitmask = false, .parse = nullptr,
                          .print = numeric_print};
  return d;
}

const Datatype& icmpx_code_type() {
  static const Datatype d{.name = "icmpx_code", .desc = "icmpx code", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = icmpx_code_symbols(), .is_bitmask = false, .parse = nullptr,
                          .print = numeric_print};
  return d;
}

const Datatype& reject_icmp_code_type() {
  static const Datatype d{.name = "reject_icmp_code", .desc = "reject icmp code", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = icmp_code_symbols()};
  return d;
}

const Datatype& reject_icmpv6_code_type() {
  static const Datatype d{.name = "reject_icmpv6_code", .desc = "reject icmpv6 code", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = icmpv6_code_symbols()};
  return d;
}

const Datatype& reject_icmpx_code_type() {
  static const Datatype d{.name = "reject_icmpx_code", .desc = "reject icmpx code", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = icmpx_code_symbols()};
  return d;
}

const Datatype& igmp_type_type() {
  static const Datatype d{.name = "igmp_type", .desc = "IGMP type", .bits = 8,
                          .order = ByteOrder::Network, .base = &integer_type(),
                          .symbols = {{"membership-query", 0x11},
                                      {"membership-report-v1", 0x12},
                                      {"membership-report-v2", 0x16},
                                      {"membership-report-v3", 0x22},
                                      {"leave-group", 0x17}}};
  return d;
}

}  // namespace types_detail
}  // namespace nfx
