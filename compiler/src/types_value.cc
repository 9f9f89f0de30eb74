// Value, the big-number helpers, the generic symbol-table machinery of nft's
// datatype.c, the datatype registry and the parse_value/print_value dispatch.
#include "types.h"
#include "types_internal.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>

namespace nfx {

using namespace types_detail;

// --- Value ---------------------------------------------------------------------

Value Value::from_u64(uint64_t v, unsigned bits) {
  Value r;
  r.bits = bits;
  size_t n = (bits + 7) / 8;
  r.be.assign(n, 0);
  if (bits < 64) v &= (uint64_t{1} << bits) - 1;
  for (size_t i = 0; i < n && i < 8; i++) r.be[n - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  return r;
}

Value Value::from_bytes(std::vector<uint8_t> bytes, unsigned bits) {
  Value r;
  if (bits == 0) bits = static_cast<unsigned>(bytes.size() * 8);
  r.bits = bits;
  size_t n = (bits + 7) / 8;
  if (bytes.size() > n) {
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() - n));
  } else if (bytes.size() < n) {
    bytes.insert(bytes.begin(), n - bytes.size(), 0);
  }
  r.be = std::move(bytes);
  return r;
}

bool Value::fits_u64() const {
  for (size_t i = 0; i + 8 < be.size(); i++)
    if (be[i] != 0) return false;
  return true;
}

uint64_t Value::to_u64() const {
  uint64_t v = 0;
  size_t start = be.size() > 8 ? be.size() - 8 : 0;
  for (size_t i = start; i < be.size(); i++) v = (v << 8) | be[i];
  return v;
}

bool Value::is_zero() const {
  return std::all_of(be.begin(), be.end(), [](uint8_t b) { return b == 0; });
}

std::vector<Value> split_bitmask(const Value& v) {
  std::vector<Value> out;
  if (big_popcount(v.be) < 2) {
    out.push_back(v);
    return out;
  }
  size_t n = v.be.size();
  for (unsigned bit = 0; bit < n * 8; bit++) {
    if (!big_bit(v.be, bit)) continue;
    Value f;
    f.bits = v.bits;
    f.be.assign(n, 0);
    f.be[n - 1 - bit / 8] = static_cast<uint8_t>(1u << (bit % 8));
    out.push_back(std::move(f));
  }
  return out;
}

namespace types_detail {

// --- big numbers -----------------------------------------------------------------

static int digit_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// Multiplies `acc` by `base` and adds `digit` in place.
static void big_muladd(Bytes& acc, unsigned base, unsigned digit) {
  unsigned carry = digit;
  for (size_t i = acc.size(); i-- > 0;) {
    unsigned x = acc[i] * base + carry;
    acc[i] = static_cast<uint8_t>(x & 0xff);
    carry = x >> 8;
  }
  while (carry) {
    acc.insert(acc.begin(), static_cast<uint8_t>(carry & 0xff));
    carry >>= 8;
  }
}

bool big_parse(const std::string& text, Bytes& out) {
  const char* s = text.c_str();
  unsigned char c;
  do c = static_cast<unsigned char>(*s++);
  while (std::isspace(c));
  if (c == '-') return false;  // mpz takes it; no nft value can be negative
  if (digit_value(c) >= 10) return false;
  unsigned base = 10;
  if (c == '0') {
    base = 8;
    c = static_cast<unsigned char>(*s++);
    if (c == 'x' || c == 'X') {
      base = 16;
      c = static_cast<unsigned char>(*s++);
    } else if (c == 'b' || c == 'B') {
      base = 2;
      c = static_cast<unsigned char>(*s++);
    }
  }
  Bytes acc;
  for (; c != 0; c = static_cast<unsigned char>(*s++)) {
    if (std::isspace(c)) continue;
    int d = digit_value(c);
    if (d >= static_cast<int>(base)) return false;
    big_muladd(acc, base, static_cast<unsigned>(d));
  }
  out = big_trim(acc);
  return true;
}

Bytes big_from_u64(uint64_t v) {
  Bytes b;
  while (v) {
    b.insert(b.begin(), static_cast<uint8_t>(v & 0xff));
    v >>= 8;
  }
  return b;
}

Bytes big_trim(const Bytes& b) {
  size_t i = 0;
  while (i < b.size() && b[i] == 0) i++;
  return Bytes(b.begin() + static_cast<long>(i), b.end());
}

unsigned big_bitlen(const Bytes& b) {
  for (size_t i = 0; i < b.size(); i++) {
    if (b[i] == 0) continue;
    unsigned top = 0;
    for (unsigned x = b[i]; x; x >>= 1) top++;
    return static_cast<unsigned>((b.size() - i - 1) * 8 + top);
  }
  return 0;
}

bool big_is_zero(const Bytes& b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

std::string big_to_dec(const Bytes& in) {
  Bytes b = big_trim(in);
  if (b.empty()) return "0";
  std::string digits;
  while (!b.empty()) {
    unsigned rem = 0;
    Bytes q;
    q.reserve(b.size());
    for (uint8_t byte : b) {
      unsigned cur = rem * 256 + byte;
      uint8_t qd = static_cast<uint8_t>(cur / 10);
      rem = cur % 10;
      if (!q.empty() || qd != 0) q.push_back(qd);
    }
    digits.push_back(static_cast<char>('0' + rem));
    b = std::move(q);
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string big_to_hex(const Bytes& in) {
  Bytes b = big_trim(in);
  if (b.empty()) return "0";
  std::string s = fmt::format("{:x}", b[0]);
  for (size_t i = 1; i < b.size(); i++) s += fmt::format("{:02x}", b[i]);
  return s;
}

Bytes big_mask(unsigned bits) {
  Bytes b((bits + 7) / 8, 0xff);
  if (bits % 8 && !b.empty()) b[0] = static_cast<uint8_t>((1u << (bits % 8)) - 1);
  return b;
}

bool big_bit(const Bytes& b, unsigned n) {
  if (n / 8 >= b.size()) return false;
  return (b[b.size() - 1 - n / 8] >> (n % 8)) & 1;
}

unsigned big_popcount(const Bytes& b) {
  unsigned n = 0;
  for (uint8_t x : b) n += static_cast<unsigned>(__builtin_popcount(x));
  return n;
}

// --- results ----------------------------------------------------------------------

ParseResult parse_error(std::string msg) {
  ParseResult r;
  r.error = std::move(msg);
  return r;
}

ParseResult parse_ok(Value v) {
  ParseResult r;
  r.value = std::move(v);
  return r;
}

ParseResult finish_integer(const Bytes& num, unsigned bits, unsigned natural_bits) {
  Bytes n = big_trim(num);
  unsigned target = bits ? bits : natural_bits;
  if (target == 0) target = std::max(8u, static_cast<unsigned>(n.size() * 8));
  if (big_bitlen(n) > target) {
    return parse_error(fmt::format("Value {} exceeds valid range 0-{}", big_to_dec(n),
                                   big_to_dec(big_mask(target))));
  }
  return parse_ok(Value::from_bytes(std::move(n), target));
}

ParseResult finish_string(const std::string& s, unsigned bits) {
  // nft's string constants carry their NUL: (strlen + 1) bytes.
  unsigned target = bits ? bits : static_cast<unsigned>((s.size() + 1) * 8);
  if ((s.size() + 1) * 8 > target) {
    return parse_error(fmt::format("String exceeds maximum length of {}", target / 8));
  }
  Value v;
  v.bits = target;
  v.be.assign((target + 7) / 8, 0);
  std::memcpy(v.be.data(), s.data(), s.size());
  return parse_ok(std::move(v));
}

// --- generic machinery ------------------------------------------------------------

bool derives_from(const Datatype& dt, const Datatype& ancestor) {
  for (const Datatype* d = &dt; d; d = d->base)
    if (d == &ancestor) return true;
  return false;
}

ParseResult integer_parse(const Datatype& dt, const std::string& text, unsigned bits) {
  Bytes n;
  if (!big_parse(text, n)) return parse_error(fmt::format("Could not parse {}", dt.desc));
  return finish_integer(n, bits);
}

ParseResult symbolic_constant_parse(const Datatype& dt, const std::vector<SymbolEntry>& tbl,
                                    const std::string& text, unsigned bits) {
  for (const SymbolEntry& s : tbl) {
    if (text == s.name) return finish_integer(big_from_u64(s.value), bits, dt.bits);
  }
  // The parser of the nearest base type (integer for all symbol tables).
  for (const Datatype* d = dt.base; d; d = d->base) {
    if (!d->parse) continue;
    // Parse without a width first: only a failure to parse (not a value out
    // of range, which nft finds later while evaluating) earns a suggestion.
    ParseResult r = d->parse(dt, text, 0);
    if (!r.value) {
      std::vector<const char*> names;
      for (const SymbolEntry& s : tbl) names.push_back(s.name);
      if (const char* m = misspell_suggest(text, names)) {
        return parse_error(
            fmt::format("Could not parse {} expression; did you you mean `{}`?", dt.desc, m));
      }
      return r;
    }
    return finish_integer(r.value->be, bits, dt.bits);
  }
  return parse_error(fmt::format("Could not parse {}", dt.desc));
}

std::string symbolic_constant_print(const Datatype& dt, const std::vector<SymbolEntry>& tbl,
                                    const Value& v, bool quotes, const PrintOptions& opts) {
  if (!numeric_symbol(opts) && v.fits_u64()) {
    uint64_t val = v.to_u64();
    for (const SymbolEntry& s : tbl) {
      if (s.value == val) return quotes ? fmt::format("\"{}\"", s.name) : std::string(s.name);
    }
  }
  return integer_print(dt, v);
}

std::string integer_print(const Datatype& dt, const Value& v) {
  // nft's basefmt strings, searched from the value's type down the chain.
  for (const Datatype* d = &dt; d; d = d->base) {
    int width = -1;
    std::string_view n = d->name;
    if (n == "bitmask" || n == "xinteger") width = 0;
    else if (n == "mark") width = 8;
    else if (n == "dscp") width = 2;
    else if (n == "ecn") width = 1;
    else if (n == "ether_type") width = 4;
    if (width < 0) continue;
    std::string hex = big_to_hex(v.be);
    if (hex.size() < static_cast<size_t>(width)) hex.insert(0, static_cast<size_t>(width) - hex.size(), '0');
    return "0x" + hex;
  }
  return big_to_dec(v.be);
}

// nft's misspell.c, including its quirks (1-based character indexing into
// 0-based strings and a row stride of len_b), so that suggestions match.
static unsigned string_distance(const char* a, const char* b) {
  unsigned len_a = static_cast<unsigned>(std::strlen(a));
  unsigned len_b = static_cast<unsigned>(std::strlen(b));
  std::vector<unsigned> distance(static_cast<size_t>(len_a + 1) * (len_b + 1), 0);
  auto D = [&](unsigned i, unsigned j) -> unsigned& { return distance[i * len_b + j]; };
  for (unsigned i = 0; i <= len_a; i++) D(i, 0) = i;
  for (unsigned j = 0; j <= len_b; j++) D(0, j) = j;
  for (unsigned i = 1; i <= len_a; i++) {
    for (unsigned j = 1; j <= len_b; j++) {
      unsigned subcost = (a[i] == b[j]) ? 0 : 1;
      unsigned del = D(i - 1, j) + 1;
      unsigned ins = D(i, j - 1) + 1;
      unsigned tra = D(i - 1, j - 1) + subcost;
      D(i, j) = std::min({del, ins, tra});
      if (i > 1 && j > 1 && a[i] == b[j - 1] && a[i - 1] == b[j])
        D(i, j) = std::min(D(i, j), D(i - 2, j - 2) + subcost);
    }
  }
  return D(len_a, len_b);
}

const char* misspell_suggest(const std::string& text, const std::vector<const char*>& candidates) {
  unsigned min_distance = UINT_MAX;
  const char* best = nullptr;
  for (const char* cand : candidates) {
    unsigned len_a = static_cast<unsigned>(text.size());
    unsigned len_b = static_cast<unsigned>(std::strlen(cand));
    unsigned max_len = std::max(len_a, len_b), min_len = std::min(len_a, len_b);
    if (max_len <= 1) continue;
    unsigned threshold = (max_len - min_len <= 1) ? std::max((max_len + 2) / 3, 1u)
                                                  : (max_len + 2 + 2) / 3;
    unsigned d = string_distance(text.c_str(), cand);
    if (d > threshold) continue;
    if (d < min_distance) {
      min_distance = d;
      best = cand;
    }
  }
  return best;
}

}  // namespace types_detail

// --- registry ---------------------------------------------------------------------

const std::vector<const Datatype*>& all_datatypes() {
  // nft's TYPE_* order (datatype_lookup_byname returns the first match, so
  // "time" is the relative time type), then nfx's private types.
  static const std::vector<const Datatype*> all = {
      &invalid_type(),       &verdict_type(),        &nfproto_type(),
      &bitmask_type(),       &integer_type(),        &string_type(),
      &lladdr_type(),        &ipaddr_type(),         &ip6addr_type(),
      &etheraddr_type(),     &ethertype_type(),      &arpop_type(),
      &inet_protocol_type(), &inet_service_type(),   &icmp_type_type(),
      &tcp_flag_type(),      &dccp_pkttype_type(),   &mh_type_type(),
      &time_type(),          &mark_type(),           &ifindex_type(),
      &arphrd_type(),        &realm_type(),          &tchandle_type(),
      &uid_type(),           &gid_type(),            &ct_state_type(),
      &ct_dir_type(),        &ct_status_type(),      &icmp6_type_type(),
      &ct_label_type(),      &pkttype_type(),        &icmp_code_type(),
      &icmpv6_code_type(),   &icmpx_code_type(),     &devgroup_type(),
      &dscp_type(),          &ecn_type(),            &fib_addr_type(),
      &boolean_type(),       &ct_event_type(),       &ifname_type(),
      &igmp_type_type(),     &date_type(),           &hour_type(),
      &day_type(),           &cgroupv2_type(),
      // nfx: not registered by nft, but nft has them as private types.
      &xinteger_type(),      &reject_icmp_code_type(), &reject_icmpv6_code_type(),
      &reject_icmpx_code_type(), &mptcp_subtype_type(),
  };
  return all;
}

const Datatype* find_datatype(const std::string& name) {
  // Aliases for names nft does not register under a name of their own.
  if (name == "date") return &date_type();
  if (name == "cgroupv2") return &cgroupv2_type();
  if (name == "ct_id") return &integer_type();
  for (const Datatype* d : all_datatypes())
    if (name == d->name) return d;
  return nullptr;
}

// --- dispatch -----------------------------------------------------------------------

static bool is_bitmask_type(const Datatype& dt) {
  for (const Datatype* d = &dt; d; d = d->base)
    if (d->is_bitmask) return true;
  return false;
}

ParseResult parse_value(const Datatype& dt, const std::string& text, unsigned bits) {
  if (bits == 0) bits = dt.bits;
  // "a,b,c" for flag types: the form print_value produces (nft's grammar
  // builds the same OR of flags from its comma lists).
  if (is_bitmask_type(dt) && text.find(',') != std::string::npos) {
    Bytes acc;
    size_t start = 0;
    for (;;) {
      size_t comma = text.find(',', start);
      std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      size_t b = part.find_first_not_of(" \t"), e = part.find_last_not_of(" \t");
      part = b == std::string::npos ? std::string() : part.substr(b, e - b + 1);
      ParseResult r = parse_value(dt, part, bits);
      if (!r.value) return r;
      const Bytes& v = r.value->be;
      if (acc.size() < v.size()) acc.insert(acc.begin(), v.size() - acc.size(), 0);
      for (size_t i = 0; i < v.size(); i++) acc[acc.size() - v.size() + i] |= v[i];
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return finish_integer(acc, bits, dt.bits);
  }
  for (const Datatype* d = &dt; d; d = d->base) {
    if (d->parse) return d->parse(dt, text, bits);
    if (!d->symbols.empty()) return symbolic_constant_parse(dt, d->symbols, text, bits);
  }
  return parse_error(fmt::format("Could not parse symbolic {} expression", dt.desc));
}

static std::string print_one(const Datatype& dt, const Value& v, const PrintOptions& opts) {
  for (const Datatype* d = &dt; d; d = d->base) {
    if (d->print) return d->print(dt, v, opts);
    if (!d->symbols.empty()) return symbolic_constant_print(dt, d->symbols, v, false, opts);
  }
  return integer_print(dt, v);
}

std::string print_value(const Datatype& dt, const Value& v, const PrintOptions& opts) {
  // Flag lists only for types with named flags; a bare bitmask (comp flags)
  // prints as one number.
  bool named_flags = false;
  for (const Datatype* d = &dt; d && !named_flags; d = d->base) named_flags = !d->symbols.empty();
  if (is_bitmask_type(dt) && named_flags && big_popcount(v.be) >= 2) {
    std::string out;
    for (const Value& f : split_bitmask(v)) {
      if (!out.empty()) out += ',';
      out += print_one(dt, f, opts);
    }
    return out;
  }
  return print_one(dt, v, opts);
}

}  // namespace nfx
