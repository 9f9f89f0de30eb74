// Conntrack datatypes (nft's ct.c): ct_state, ct_dir, ct_status, ct_event,
// ct_label.
#include "types.h"
#include "types_internal.h"

#include <fmt/format.h>

#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace nfx {

using namespace types_detail;

namespace {

constexpr const char* kConnlabelConf = "/etc/connlabel.conf";
constexpr unsigned kCtLabelBits = 128;

struct Label {
  std::string name;
  uint64_t bit;
};

// rt_symbol_table_init("/etc/connlabel.conf"): "<bit> <name>" lines, decimal
// or 0x hex, '#' comments. Debian ships no such file, so this is usually empty.
const std::vector<Label>& connlabels() {
  static const std::vector<Label> table = [] {
    std::vector<Label> t;
    FILE* f = std::fopen(kConnlabelConf, "r");
    if (!f) return t;
    char buf[512], name[512];
    while (std::fgets(buf, sizeof(buf), f)) {
      char* p = buf;
      while (*p == ' ' || *p == '\t') p++;
      if (*p == '#' || *p == '\n' || *p == '\0') continue;
      unsigned val;
      if (std::sscanf(p, "0x%x %511s", &val, name) == 2 || std::sscanf(p, "%u %511s", &val, name) == 2)
        t.push_back({name, val});
      else
        break;
    }
    std::fclose(f);
    return t;
  }();
  return table;
}

ParseResult ct_label_parse(const Datatype& dt, const std::string& text, unsigned bits) {
  uint64_t bit = 0;
  bool found = false;
  for (const Label& l : connlabels()) {
    if (text == l.name) {
      bit = l.bit;
      found = true;
      break;
    }
  }
  if (!found) {
    char* ptr = nullptr;
    errno = 0;
    bit = std::strtoull(text.c_str(), &ptr, 0);
    if (*ptr)
      return parse_error(
          fmt::format("{}: could not parse {} \"{}\"", kConnlabelConf, dt.desc, text));
    if (errno)
      return parse_error(fmt::format("{}: could not parse {} \"{}\": {}", kConnlabelConf, dt.desc,
                                     text, std::strerror(errno)));
  }
  if (bit >= kCtLabelBits)
    return parse_error(
        fmt::format("{}: bit {} out of range ({} max)", text, bit, kCtLabelBits));
  Bytes v(kCtLabelBits / 8, 0);
  v[v.size() - 1 - bit / 8] = static_cast<uint8_t>(1u << (bit % 8));
  return finish_integer(v, bits, kCtLabelBits);
}

std::string ct_label_print(const Datatype&, const Value& v, const PrintOptions&) {
  // mpz_scan1: the lowest set bit (ULONG_MAX if none).
  unsigned long bit = ULONG_MAX;
  for (unsigned i = 0; i < v.be.size() * 8; i++) {
    if (big_bit(v.be, i)) {
      bit = i;
      break;
    }
  }
  for (const Label& l : connlabels())
    if (l.bit == bit) return fmt::format("\"{}\"", l.name);
  return std::to_string(bit);
}

}  // namespace

namespace types_detail {

const Datatype& ct_state_type() {
  static const Datatype d{.name = "ct_state", .desc = "conntrack state", .bits = 32,
                          .order = ByteOrder::Host, .base = &bitmask_type(),
                          .symbols = {{"invalid", 1},
                                      {"new", 8},
                                      {"established", 2},
                                      {"related", 4},
                                      {"untracked", 64}},
                          .is_bitmask = true};
  return d;
}

const Datatype& ct_dir_type() {
  static const Datatype d{.name = "ct_dir", .desc = "conntrack direction", .bits = 8,
                          .order = ByteOrder::Invalid, .base = &integer_type(),
                          .symbols = {{"original", 0}, {"reply", 1}}};
  return d;
}

const Datatype& ct_status_type() {
  static const Datatype d{.name = "ct_status", .desc = "conntrack status", .bits = 32,
                          .order = ByteOrder::Host, .base = &bitmask_type(),
                          .symbols = {{"expected", 1},
                                      {"seen-reply", 2},
                                      {"assured", 4},
                                      {"confirmed", 8},
                                      {"snat", 0x10},
                                      {"dnat", 0x20},
                                      {"dying", 0x200}},
                          .is_bitmask = true};
  return d;
}

const Datatype& ct_event_type() {
  static const Datatype d{.name = "ct_event", .desc = "conntrack event bits", .bits = 32,
                          .order = ByteOrder::Host, .base = &bitmask_type(),
                          .symbols = {{"new", 1 << 0},
                                      {"related", 1 << 1},
                                      {"destroy", 1 << 2},
                                      {"reply", 1 << 3},
                                      {"assured", 1 << 4},
                                      {"protoinfo", 1 << 5},
                                      {"helper", 1 << 6},
                                      {"mark", 1 << 7},
                                      {"seqadj", 1 << 8},
                                      {"secmark", 1 << 9},
                                      {"label", 1 << 10}},
                          .is_bitmask = true};
  return d;
}

const Datatype& ct_label_type() {
  static const Datatype d{.name = "ct_label", .desc = "conntrack label", .bits = kCtLabelBits,
                          .order = ByteOrder::Host, .base = &bitmask_type(), .symbols = {},
                          .is_bitmask = true, .parse = ct_label_parse, .print = ct_label_print};
  return d;
}

}  // namespace types_detail
}  // namespace nfx
