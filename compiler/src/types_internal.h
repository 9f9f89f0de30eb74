// Internals shared by the types_*.cc files: big-number helpers, the generic
// symbol-table parser and printer (datatype.c's symbolic_constant_*), the
// integer printer with nft's per-type base formats, and the accessors of
// every registered datatype. Not for use outside the types_*.cc files.
#pragma once

#include "types.h"

#include <nfx/compiler.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nfx::types_detail {

using Bytes = std::vector<uint8_t>;  // big-endian unsigned number, any length

// --- big numbers -----------------------------------------------------------

// Parses like mpz_set_str(v, text, 0): "0x"/"0X" hex, "0b"/"0B" binary, a
// leading "0" octal, else decimal; white space is ignored. Negative numbers
// and empty strings are refused.
bool big_parse(const std::string& text, Bytes& out);
Bytes big_from_u64(uint64_t v);
Bytes big_trim(const Bytes& b);                 // drops leading zero bytes
unsigned big_bitlen(const Bytes& b);            // 0 for zero
bool big_is_zero(const Bytes& b);
std::string big_to_dec(const Bytes& b);
std::string big_to_hex(const Bytes& b);         // lower case, no prefix, "0" for zero
Bytes big_mask(unsigned bits);                  // 2^bits - 1
bool big_bit(const Bytes& b, unsigned n);       // bit n, counted from the lsb
unsigned big_popcount(const Bytes& b);

// --- print options as nft's output flags -------------------------------------

inline bool numeric_symbol(const PrintOptions& o) { return o.numeric; }
inline bool numeric_proto(const PrintOptions& o) { return o.numeric || o.numeric_protocol; }
inline bool numeric_time(const PrintOptions& o) { return o.numeric || o.numeric_time; }

// --- results ----------------------------------------------------------------

ParseResult parse_error(std::string msg);
ParseResult parse_ok(Value v);

// Range-checks a parsed number against `bits` (nft's expr_evaluate_integer:
// "Value N exceeds valid range 0-M") and sizes it. `natural_bits` is the
// width the type's own parser produced, used when `bits` is 0.
ParseResult finish_integer(const Bytes& num, unsigned bits, unsigned natural_bits = 0);
// Length-checks a string against `bits` ("String exceeds maximum length of
// N") and zero-pads it to the field width.
ParseResult finish_string(const std::string& s, unsigned bits);

// --- generic machinery (datatype.c) --------------------------------------------

// integer_type_parse: mpz number, else "Could not parse <desc of dt>".
ParseResult integer_parse(const Datatype& dt, const std::string& text, unsigned bits);
// symbolic_constant_parse: a symbol of `tbl`, else the base type's parser;
// on failure a did-you-mean suggestion from `tbl` when one is close.
ParseResult symbolic_constant_parse(const Datatype& dt, const std::vector<SymbolEntry>& tbl,
                                    const std::string& text, unsigned bits);
// symbolic_constant_print: the symbol whose value equals v (first in table
// order), quoted if asked, else the integer printer.
std::string symbolic_constant_print(const Datatype& dt, const std::vector<SymbolEntry>& tbl,
                                    const Value& v, bool quotes, const PrintOptions& opts);
// integer_type_print: decimal, or the first base format found along the
// datatype chain (bitmask 0x%x, mark 0x%08x, dscp 0x%02x, ecn 0x%01x,
// ether_type 0x%04x, xinteger 0x%x).
std::string integer_print(const Datatype& dt, const Value& v);
// nft's misspell.c: the closest candidate within its threshold, or nullptr.
const char* misspell_suggest(const std::string& text, const std::vector<const char*>& candidates);

// Follows `base` links: does dt derive from (or equal) `ancestor`?
bool derives_from(const Datatype& dt, const Datatype& ancestor);

// --- registered datatypes ------------------------------------------------------

// types_basic.cc
const Datatype& invalid_type();
const Datatype& verdict_type();
const Datatype& nfproto_type();
const Datatype& bitmask_type();
const Datatype& integer_type();
const Datatype& xinteger_type();
const Datatype& string_type();
const Datatype& boolean_type();
// types_inet.cc
const Datatype& lladdr_type();
const Datatype& ipaddr_type();
const Datatype& ip6addr_type();
const Datatype& etheraddr_type();
const Datatype& ethertype_type();
const Datatype& arpop_type();
const Datatype& inet_protocol_type();
const Datatype& inet_service_type();
const Datatype& tcp_flag_type();
const Datatype& mptcp_subtype_type();
const Datatype& dccp_pkttype_type();
const Datatype& mh_type_type();
const Datatype& dscp_type();
const Datatype& ecn_type();
// types_icmp.cc
const Datatype& icmp_type_type();
const Datatype& icmp6_type_type();
const Datatype& icmp_code_type();
const Datatype& icmpv6_code_type();
const Datatype& icmpx_code_type();
const Datatype& reject_icmp_code_type();
const Datatype& reject_icmpv6_code_type();
const Datatype& reject_icmpx_code_type();
const Datatype& igmp_type_type();
// types_ct.cc
const Datatype& ct_state_type();
const Datatype& ct_dir_type();
const Datatype& ct_status_type();
const Datatype& ct_event_type();
const Datatype& ct_label_type();
// types_meta.cc
const Datatype& time_type();
const Datatype& mark_type();
const Datatype& ifindex_type();
const Datatype& arphrd_type();
const Datatype& realm_type();
const Datatype& tchandle_type();
const Datatype& uid_type();
const Datatype& gid_type();
const Datatype& pkttype_type();
const Datatype& devgroup_type();
const Datatype& fib_addr_type();
const Datatype& ifname_type();
const Datatype& date_type();
const Datatype& hour_type();
const Datatype& day_type();
const Datatype& cgroupv2_type();

}  // namespace nfx::types_detail
