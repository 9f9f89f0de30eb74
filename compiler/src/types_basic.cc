// Basic datatypes of nft's datatype.c: invalid, verdict, nf_proto, bitmask,
// integer (and the hex-printing xinteger), string, boolean.
#include "types.h"
#include "types_internal.h"

#include <fmt/format.h>

#include <cstring>

namespace nfx {

using namespace types_detail;

// --- verdicts ---------------------------------------------------------------------

namespace {

constexpr int32_t kNfDrop = 0, kNfAccept = 1, kNfStolen = 2, kNfQueue = 3;
constexpr int32_t kNftContinue = -1, kNftBreak = -2, kNftJump = -3, kNftGoto = -4, kNftReturn = -5;

ParseResult verdict_parse(const Datatype& dt, const std::string& text, unsigned) {
  static const struct {
    const char* name;
    int32_t code;
  } simple[] = {
      {"accept", kNfAccept}, {"drop", kNfDrop},         {"queue", kNfQueue},
      {"stolen", kNfStolen}, {"continue", kNftContinue}, {"break", kNftBreak},
      {"return", kNftReturn},
  };
  for (const auto& s : simple)
    if (text == s.name) return parse_ok(verdict_value(s.code));
  for (const char* kw : {"jump", "goto"}) {
    size_t n = std::strlen(kw);
    if (text.size() > n + 1 && text.compare(0, n, kw) == 0 && text[n] == ' ') {
      size_t start = text.find_first_not_of(' ', n);
      if (start != std::string::npos)
        return parse_ok(verdict_value(kw[0] == 'j' ? kNftJump : kNftGoto, text.substr(start)));
    }
  }
  // verdict_type_error: jump and goto are left out of the fuzzy match.
  static const std::vector<const char*> names = {"continue", "break", "return", "accept",
                                                 "drop",     "queue", "stolen"};
  if (const char* m = misspell_suggest(text, names))
    return parse_error(fmt::format("Could not parse {}; did you mean `{}'?", dt.desc, m));
  return parse_error(fmt::format("Could not parse {}; did you mean `jump {}'?", dt.desc, text));
}

std::string verdict_print(const Datatype&, const Value& v, const PrintOptions&) {
  int32_t code = verdict_code(v);
  switch (code) {
    case kNftContinue: return "continue";
    case kNftBreak: return "break";
    case kNftJump: return "jump " + verdict_chain(v);
    case kNftGoto: return "goto " + verdict_chain(v);
    case kNftReturn: return "return";
    default: break;
  }
  switch (static_cast<uint32_t>(code) & 0xffu) {  // NF_VERDICT_MASK
    case kNfAccept: return "accept";
    case kNfDrop: return "drop";
    case kNfQueue: return "queue";
    case kNfStolen: return "stolen";
    default: return fmt::format("unknown verdict value {}", static_cast<uint32_t>(code));
  }
}

std::string invalid_print(const Datatype&, const Value& v, const PrintOptions&) {
  return fmt::format("0x{} [invalid type]", big_to_hex(v.be));
}

std::string xinteger_print(const Datatype&, const Value& v, const PrintOptions&) {
  return "0x" + big_to_hex(v.be);
}

// --- strings ------------------------------------------------------------------------

ParseResult string_parse(const Datatype&, const std::string& text, unsigned bits) {
  return finish_string(text, bits);
}

std::string string_print(const Datatype&, const Value& v, const PrintOptions&) {
  std::string s;
  for (uint8_t c : v.be) {
    if (c == 0) break;
    s.push_back(static_cast<char>(c));
  }
  return fmt::format("\"{}\"", s);
}

// --- boolean ------------------------------------------------------------------------

ParseResult boolean_parse(const Datatype& dt, const std::string& text, unsigned bits) {
  // nft's grammar turns the keywords into boolean constants before the
  // datatype parser sees them; accept them here too.
  if (text == "exists") return finish_integer(big_from_u64(1), bits, 1);
  if (text == "missing") return finish_integer(big_from_u64(0), bits, 1);
  Bytes n;
  if (!big_parse(text, n)) return parse_error(fmt::format("Could not parse {}", dt.desc));
  return finish_integer(big_from_u64(big_is_zero(n) ? 0 : 1), bits, 1);
}

}  // namespace

Value verdict_value(int32_t code, const std::string& chain) {
  Value v;
  uint32_t u = static_cast<uint32_t>(code);
  v.be.resize(4 + chain.size());
  for (int i = 0; i < 4; i++) v.be[i] = static_cast<uint8_t>(u >> (24 - 8 * i));
  std::copy(chain.begin(), chain.end(), v.be.begin() + 4);
  v.bits = static_cast<unsigned>(v.be.size() * 8);
  return v;
}

int32_t verdict_code(const Value& v) {
  uint32_t u = 0;
  for (size_t i = 0; i < 4 && i < v.be.size(); i++) u = (u << 8) | v.be[i];
  return static_cast<int32_t>(u);
}

std::string verdict_chain(const Value& v) {
  if (v.be.size() <= 4) return {};
  std::string s(v.be.begin() + 4, v.be.end());
  size_t nul = s.find('\0');
  if (nul != std::string::npos) s.resize(nul);
  return s;
}

namespace types_detail {

const Datatype& invalid_type() {
  static const Datatype d{.name = "invalid", .desc = "invalid", .bits = 0,
                          .order = ByteOrder::Invalid, .base = nullptr, .symbols = {},
                          .is_bitmask = false, .parse = nullptr, .print = invalid_print};
  return d;
}

const Datatype& verdict_type() {
  static const Datatype d{.name = "verdict", .desc = "netfilter verdict", .bits = 0,
                          .order = ByteOrder::Invalid, .base = nullptr, .symbols = {},
                          .is_bitmask = false, .parse = verdict_parse, .print = verdict_print};
  return d;
}

const Datatype& nfproto_type() {
  static const Datatype d{.name = "nf_proto", .desc = "netfilter protocol", .bits = 8,
                          .order = ByteOrder::Invalid, .base = &integer_type(),
                          .symbols = {{"ipv4", 2}, {"ipv6", 10}}};
  return d;
}

const Datatype& bitmask_type() {
  static const Datatype d{.name = "bitmask", .desc = "bitmask", .bits = 0,
                          .order = ByteOrder::Invalid, .base = &integer_type(), .symbols = {},
                          .is_bitmask = true};
  return d;
}

const Datatype& integer_type() {
  static const Datatype d{.name = "integer", .desc = "integer", .bits = 0,
                          .order = ByteOrder::Invalid, .base = nullptr, .symbols = {},
                          .is_bitmask = false, .parse = integer_parse, .print = nullptr};
  return d;
}

const Datatype& xinteger_type() {
  static const Datatype d{.name = "xinteger", .desc = "integer", .bits = 0,
                          .order = ByteOrder::Invalid, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = integer_parse, .print = xinteger_print};
  return d;
}

const Datatype& string_type() {
  static const Datatype d{.name = "string", .desc = "string", .bits = 0,
                          .order = ByteOrder::Host, .base = nullptr, .symbols = {},
                          .is_bitmask = false, .parse = string_parse, .print = string_print};
  return d;
}

const Datatype& boolean_type() {
  static const Datatype d{.name = "boolean", .desc = "boolean type", .bits = 1,
                          .order = ByteOrder::Invalid, .base = &integer_type(),
                          .symbols = {{"exists", 1}, {"missing", 0}}, .is_bitmask = false,
                          .parse = boolean_parse, .print = nullptr};
  return d;
}

}  // namespace types_detail
}  // namespace nfx
