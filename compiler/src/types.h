// Datatypes of the nft language: how a symbol or number becomes a typed value
// and how a typed value is printed back, as nft does it (datatype.c's role).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nfx {

struct PrintOptions;

// A typed constant: `bits` wide, stored big-endian in `be` (size = ceil(bits/8)).
// Host-order datatypes (meta mark, ct mark...) are stored here as plain
// numbers too; byte order only matters when lowering to the IR.
struct Value {
  std::vector<uint8_t> be;
  unsigned bits = 0;

  static Value from_u64(uint64_t v, unsigned bits);
  static Value from_bytes(std::vector<uint8_t> bytes, unsigned bits);
  bool fits_u64() const;
  uint64_t to_u64() const;  // low 64 bits
  bool is_zero() const;
  bool operator==(const Value& o) const { return bits == o.bits && be == o.be; }
  bool operator<(const Value& o) const { return be < o.be; }  // same width only
};

enum class ByteOrder { Invalid, Network, Host };

struct SymbolEntry {
  const char* name;
  uint64_t value;
};

struct Datatype;

// Result of parsing a symbol: a value, or an error message as nft words it.
struct ParseResult {
  std::optional<Value> value;
  std::string error;
};

struct Datatype {
  const char* name;       // "ipv4_addr"
  const char* desc;       // "IPv4 address"
  unsigned bits;          // 0: variable length (strings)
  ByteOrder order;
  const Datatype* base;   // integer, bitmask, string...
  std::vector<SymbolEntry> symbols;  // symbolic constants, in nft's print order
  bool is_bitmask = false;          // values print as a,b,c flag lists
  // Parses a bare word or quoted string (without quotes) into a value of
  // `bits` width (bits may be narrower than the type: ip dscp is 6 bits).
  ParseResult (*parse)(const Datatype& dt, const std::string& text, unsigned bits) = nullptr;
  // Prints a value; nullptr: use the base type's printer.
  std::string (*print)(const Datatype& dt, const Value& v, const PrintOptions& opts) = nullptr;
};

// Lookup by nft name ("ipv4_addr", "inet_service", "ct_state", ...).
const Datatype* find_datatype(const std::string& name);
// All registered datatypes (for `nft describe`-like listings and tests).
const std::vector<const Datatype*>& all_datatypes();

// Parse text as a value of `dt` (symbols first, then the type's own syntax,
// then numbers in decimal/hex/octal), range-checked against `bits`.
ParseResult parse_value(const Datatype& dt, const std::string& text, unsigned bits);
// Print `v` as nft lists it.
std::string print_value(const Datatype& dt, const Value& v, const PrintOptions& opts);

}  // namespace nfx

// --- Additions (types_*.cc) -------------------------------------------------
namespace nfx {

// Splits a bitmask value into its single-bit flags, lowest bit first, as
// nft's bitmask_expr_to_binops does (a value with 0 or 1 bit set comes back
// alone). print_value joins them with ","; callers printing `a | b` join the
// print_value of each flag themselves.
std::vector<Value> split_bitmask(const Value& v);

// Verdict values (datatype "verdict"): 32-bit verdict code, big-endian,
// followed for jump/goto by the chain name. Codes are nft's: NF_DROP 0,
// NF_ACCEPT 1, NF_STOLEN 2, NF_QUEUE 3, NFT_CONTINUE -1, NFT_BREAK -2,
// NFT_JUMP -3, NFT_GOTO -4, NFT_RETURN -5. parse_value accepts "accept",
// "drop", ..., "jump <chain>", "goto <chain>".
Value verdict_value(int32_t code, const std::string& chain = {});
int32_t verdict_code(const Value& v);
std::string verdict_chain(const Value& v);

// Notes on the registry:
// - find_datatype("time") is the relative time type (ct expiration, ms), as
//   nft's datatype_lookup_byname; meta time's date type (also named "time" by
//   nft, nanoseconds since the epoch) is find_datatype("date").
// - "cgroupv2" finds nft's "cgroupsv2"; "ct_id" finds "integer" (nft types
//   ct id as a plain integer).
// - "xinteger" prints integers in hex (nft's raw payloads, ip frag-off);
//   "reject_icmp_code", "reject_icmpv6_code", "reject_icmpx_code" are the
//   reject statement's codes, which print as names, whereas icmp_code,
//   icmpv6_code and icmpx_code (payload fields) parse names but print numbers.
// - Always go through parse_value/print_value: they range-check, size the
//   value to `bits`, split bitmasks and apply symbol tables.

}  // namespace nfx
