// Meta, routing and socket datatypes (nft's meta.c, rt.c, fib.c and the
// time/mark/cgroupv2 types of datatype.c): time, mark, iface_index,
// iface_type, realm, classid, uid, gid, pkt_type, devgroup, fib_addrtype,
// ifname, the date type of meta time, hour, day, cgroupsv2.
#include <nfx/compiler.h>

#include "types.h"
#include "types_internal.h"

#include <fmt/format.h>

#include <dirent.h>
#include <net/if.h>
#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>

namespace nfx {

using namespace types_detail;

namespace {

// --- relative time (ms) ------------------------------------------------------------

uint32_t str2int(const char* s) {
  int number;
  return std::sscanf(s, "%d", &number) == 1 ? static_cast<uint32_t>(number) : 0;
}

// nft's time_parse: "1d2h3m4s5ms" in milliseconds; a bare number is seconds.
bool time_parse(const std::string& text, uint64_t& res, std::string& err) {
  enum { DAY = 1, HOUR = 2, MIN = 4, SECS = 8, MSECS = 16 };
  const unsigned max_digits = 8;
  const char* str = text.c_str();
  const char* c = str;
  size_t len = text.size();
  unsigned k = 0, mask = 0;
  uint64_t d = 0, h = 0, m = 0, s = 0, ms = 0;
  for (size_t i = 0; i < len; i++, c++) {
    switch (*c) {
      case 'd':
        if (mask & DAY) return err = "Day has been specified twice", false;
        d = str2int(c - k);
        k = 0;
        mask |= DAY;
        break;
      case 'h':
        if (mask & HOUR) return err = "Hour has been specified twice", false;
        h = str2int(c - k);
        k = 0;
        mask |= HOUR;
        break;
      case 'm':
        if (std::strcmp(c, "ms") == 0) {
          if (mask & MSECS) return err = "Millisecond has been specified twice", false;
          ms = str2int(c - k);
          c++;
          i++;
          k = 0;
          mask |= MSECS;
          break;
        }
        if (mask & MIN) return err = "Minute has been specified twice", false;
        m = str2int(c - k);
        k = 0;
        mask |= MIN;
        break;
      case 's':
        if (mask & SECS) return err = "Second has been specified twice", false;
        s = str2int(c - k);
        k = 0;
        mask |= SECS;
        break;
      default:
        if (!std::isdigit(static_cast<unsigned char>(*c))) return err = "wrong time format", false;
        if (k++ >= max_digits) return err = "value too large", false;
        break;
    }
  }
  if (!mask)
    res = static_cast<uint64_t>(static_cast<int64_t>(std::atoi(str)) * 1000);
  else
    res = 24ull * 60 * 60 * 1000 * d + 60ull * 60 * 1000 * h + 60ull * 1000 * m + 1000ull * s + ms;
  return true;
}

ParseResult time_type_parse(const Datatype&, const std::string& text, unsigned bits) {
  uint64_t ms;
  std::string err;
  if (!time_parse(text, ms, err)) return parse_error(err);
  if (ms > UINT32_MAX) return parse_error("value too large");
  return finish_integer(big_from_u64(ms), bits, 32);
}

std::string time_type_print(const Datatype&, const Value& v, const PrintOptions& opts) {
  uint64_t ms = v.to_u64();
  if (numeric_time(opts)) return fmt::format("{}s", ms / 1000);
  uint64_t days = ms / 86400000;
  ms %= 86400000;
  uint64_t hours = ms / 3600000;
  ms %= 3600000;
  uint64_t minutes = ms / 60000;
  ms %= 60000;
  uint64_t seconds = ms / 1000;
  ms %= 1000;
  std::string out;
  if (days) out += fmt::format("{}d", days);
  if (hours) out += fmt::format("{}h", hours);
  if (minutes) out += fmt::format("{}m", minutes);
  if (seconds) out += fmt::format("{}s", seconds);
  if (ms) out += fmt::format("{}ms", ms);
  if (out.empty()) out = "0s";
  return out;
}

// --- mark (rt_marks: no such file on Debian, so numbers only) ------------------------

ParseResult mark_parse(const Datatype& dt, const std::string& text, unsigned bits) {
  static const std::vector<SymbolEntry> rt_marks;
  return symbolic_constant_parse(dt, rt_marks, text, bits);
}

// --- interfaces --------------------------------------------------------------------------

std::map<std::string, uint32_t>& interface_names() {
  static std::map<std::string, uint32_t> names;
  return names;
}

ParseResult ifindex_parse(const Datatype&, const std::string& text, unsigned bits) {
  auto known = interface_names().find(text);
  long ifindex = known != interface_names().end() ? static_cast<long>(known->second)
                 : text == "lo"                   ? 1
                                                  : static_cast<long>(if_nametoindex(text.c_str()));
  if (ifindex == 0) {
    char* end = nullptr;
    errno = 0;
    long res = std::strtol(text.c_str(), &end, 10);
    if (res < 0 || res > INT_MAX || *end || errno) return parse_error("Interface does not exist");
    ifindex = res;
  }
  return finish_integer(big_from_u64(static_cast<uint64_t>(ifindex)), bits, 32);
}

std::string ifindex_print(const Datatype&, const Value& v, const PrintOptions&) {
  auto ifindex = static_cast<unsigned>(v.to_u64());
  char name[IF_NAMESIZE];
  for (const auto& [known, index] : interface_names())
    if (index == ifindex) return fmt::format("\"{}\"", known);
  if (ifindex == 1) return "\"lo\"";
  if (if_indextoname(ifindex, name)) return fmt::format("\"{}\"", name);
  return std::to_string(static_cast<int>(ifindex));
}

// --- realm, devgroup: iproute2 tables, as Debian ships them -------------------------

std::string quoted_symbol_print(const Datatype& dt, const Value& v, const PrintOptions& opts) {
  return symbolic_constant_print(dt, dt.symbols, v, true, opts);
}

// --- classid ------------------------------------------------------------------------------

constexpr uint32_t kTcHRoot = 0xFFFFFFFFu, kTcHUnspec = 0;

ParseResult tchandle_parse(const Datatype& dt, const std::string& text, unsigned bits) {
  uint32_t handle;
  auto err = [&] { return parse_error(fmt::format("Could not parse {}", dt.desc)); };
  if (text == "root") {
    handle = kTcHRoot;
  } else if (text == "none") {
    handle = kTcHUnspec;
  } else if (text.find(':') != std::string::npos) {
    const char* s = text.c_str();
    char* colon = nullptr;
    char* end = nullptr;
    errno = 0;
    auto tmp = static_cast<uint32_t>(std::strtoul(s, &colon, 16));
    if (errno != 0 || s == colon) return err();
    if (*colon != ':') return err();
    handle = tmp << 16;
    errno = 0;
    tmp = static_cast<uint32_t>(std::strtoul(colon + 1, &end, 16));
    if (errno != 0 || *end) return err();
    handle |= tmp;
  } else {
    handle = static_cast<uint32_t>(std::strtoull(text.c_str(), nullptr, 0));
  }
  return finish_integer(big_from_u64(handle), bits, 32);
}

std::string tchandle_print(const Datatype&, const Value& v, const PrintOptions&) {
  auto handle = static_cast<uint32_t>(v.to_u64());
  if (handle == kTcHRoot) return "root";
  if (handle == kTcHUnspec) return "none";
  return fmt::format("{:x}:{:x}", handle >> 16, handle & 0xffff);
}

// --- uid, gid: Debian's base-passwd accounts ------------------------------------------

const std::vector<SymbolEntry>& users() {
  static const std::vector<SymbolEntry> t = {
      {"root", 0},  {"daemon", 1}, {"bin", 2},       {"sys", 3},     {"sync", 4},
      {"games", 5}, {"man", 6},    {"lp", 7},        {"mail", 8},    {"news", 9},
      {"uucp", 10}, {"proxy", 13}, {"www-data", 33}, {"backup", 34}, {"list", 38},
      {"irc", 39},  {"_apt", 42},  {"nobody", 65534},
  };
  return t;
}

const std::vector<SymbolEntry>& groups() {
  static const std::vector<SymbolEntry> t = {
      {"root", 0},     {"daemon", 1},    {"bin", 2},       {"sys", 3},       {"adm", 4},
      {"tty", 5},      {"disk", 6},      {"lp", 7},        {"mail", 8},      {"news", 9},
      {"uucp", 10},    {"man", 12},      {"proxy", 13},    {"kmem", 15},     {"dialout", 20},
      {"fax", 21},     {"voice", 22},    {"cdrom", 24},    {"floppy", 25},   {"tape", 26},
      {"sudo", 27},    {"audio", 29},    {"dip", 30},      {"www-data", 33}, {"backup", 34},
      {"operator", 37}, {"list", 38},    {"irc", 39},      {"src", 40},      {"shadow", 42},
      {"utmp", 43},    {"video", 44},    {"sasl", 45},     {"plugdev", 46},  {"staff", 50},
      {"games", 60},   {"users", 100},   {"nogroup", 65534},
  };
  return t;
}

ParseResult id_parse(const std::vector<SymbolEntry>& tbl, const char* missing,
                     const std::string& text, unsigned bits) {
  for (const SymbolEntry& e : tbl)
    if (text == e.name) return finish_integer(big_from_u64(e.value), bits, 32);
  char* endptr = nullptr;
  uint64_t id = std::strtoull(text.c_str(), &endptr, 0);
  if (id > UINT32_MAX) return parse_error("Value too large");
  if (*endptr) return parse_error(missing);
  return finish_integer(big_from_u64(id), bits, 32);
}

ParseResult uid_parse(const Datatype&, const std::string& text, unsigned bits) {
  return id_parse(users(), "User does not exist", text, bits);
}

ParseResult gid_parse(const Datatype&, const std::string& text, unsigned bits) {
  return id_parse(groups(), "Group does not exist", text, bits);
}

std::string uid_print(const Datatype& dt, const Value& v, const PrintOptions& opts) {
  if (opts.guid) {
    auto uid = static_cast<uint32_t>(v.to_u64());
    for (const SymbolEntry& e : users())
      if (e.value == uid) return fmt::format("\"{}\"", e.name);
    return std::to_string(static_cast<int32_t>(uid));
  }
  return integer_print(dt, v);
}

std::string gid_print(const Datatype& dt, const Value& v, const PrintOptions& opts) {
  if (opts.guid) {
    auto gid = static_cast<uint32_t>(v.to_u64());
    for (const SymbolEntry& e : groups())
      if (e.value == gid) return fmt::format("\"{}\"", e.name);
    return std::to_string(gid);
  }
  return integer_print(dt, v);
}

// --- meta time (ns since the epoch), hour (s since midnight UTC), day ----------------

long local_gmtoff(time_t at) {
  struct tm tm;
  if (!localtime_r(&at, &tm)) return 0;
  return tm.tm_gmtoff;
}

ParseResult date_parse(const Datatype&, const std::string& text, unsigned bits) {
  uint64_t tstamp = 0;
  bool ok = false;
  struct tm tm;
  std::memset(&tm, 0, sizeof(tm));
  if (strptime(text.c_str(), "%Y-%m-%d %T", &tm) || strptime(text.c_str(), "%Y-%m-%d %R", &tm) ||
      strptime(text.c_str(), "%Y-%m-%d", &tm)) {
    time_t ts = timegm(&tm);
    if (ts != static_cast<time_t>(-1)) {
      struct tm cur;
      if (localtime_r(&ts, &cur)) {
        tstamp = static_cast<uint64_t>(ts - cur.tm_gmtoff);
        ok = true;
      }
    }
  }
  if (!ok) {
    char* end = nullptr;
    tstamp = std::strtoul(text.c_str(), &end, 0);
    if (*end != '\0' || end == text.c_str()) return parse_error("Cannot parse date");
  }
  tstamp *= 1000000000ull;
  return finish_integer(big_from_u64(tstamp), bits, 64);
}

std::string date_print(const Datatype&, const Value& v, const PrintOptions&) {
  uint64_t t = v.to_u64() / 1000000000ull;
  t += static_cast<uint64_t>(local_gmtoff(static_cast<time_t>(t)));
  auto ts = static_cast<time_t>(t);
  struct tm tm;
  char buf[21];
  if (gmtime_r(&ts, &tm) && std::strftime(buf, sizeof(buf) - 1, "%Y-%m-%d %T", &tm))
    return fmt::format("\"{}\"", buf);
  return "Error converting timestamp to printed time";
}

constexpr int32_t kSecondsPerDay = 86400;

ParseResult hour_parse(const Datatype&, const std::string& text, unsigned bits) {
  const char* sym = text.c_str();
  char* endp = nullptr;
  uint32_t result = static_cast<uint32_t>(std::strtoul(sym, &endp, 0));
  if (*endp == '\0' && endp != sym) return finish_integer(big_from_u64(result), bits, 32);
  result = 0;

  time_t now = time(nullptr);
  struct tm cur_data;
  const struct tm* cur = (now != static_cast<time_t>(-1) && localtime_r(&now, &cur_data))
                             ? &cur_data
                             : nullptr;
  struct tm tm;
  std::memset(&tm, 0, sizeof(tm));
  const char* end = strptime(sym, "%T", &tm);
  bool convert = end && *end == '\0';
  if (!convert) {
    end = strptime(sym, "%R", &tm);
    convert = end && *end == '\0';
    if (!convert && end && *end)
      return parse_error(fmt::format("Can't parse trailing input: \"{}\"\n", end));
  }
  if (!convert) {
    uint64_t ms;
    std::string err;
    if (!time_parse(text, ms, err)) return parse_error(err);
    result = static_cast<uint32_t>(ms / 1000);
  }
  if (result == 0)
    result = static_cast<uint32_t>(tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
  if (cur) {
    if (static_cast<long>(result) >= cur->tm_gmtoff)
      result = static_cast<uint32_t>((result - cur->tm_gmtoff) % kSecondsPerDay);
    else
      result = static_cast<uint32_t>(kSecondsPerDay - cur->tm_gmtoff + result);
  }
  return finish_integer(big_from_u64(result), bits, 32);
}

std::string hour_print(const Datatype&, const Value& v, const PrintOptions&) {
  auto seconds = static_cast<uint32_t>(v.to_u64());
  time_t now = time(nullptr);
  struct tm cur;
  if (now != static_cast<time_t>(-1) && localtime_r(&now, &cur)) {
    auto adj = static_cast<int32_t>(seconds + cur.tm_gmtoff);
    if (adj < 0)
      adj += kSecondsPerDay;
    else if (adj >= kSecondsPerDay)
      adj -= kSecondsPerDay;
    seconds = static_cast<uint32_t>(adj);
  }
  uint32_t minutes = seconds / 60;
  seconds %= 60;
  uint32_t hours = minutes / 60;
  minutes %= 60;
  std::string out = fmt::format("\"{:02d}:{:02d}", hours, minutes);
  if (seconds) out += fmt::format(":{:02d}", seconds);
  return out + "\"";
}

ParseResult day_parse(const Datatype& dt, const std::string& text, unsigned bits) {
  // The evaluation context's maxval for meta day comes first.
  ParseResult r = symbolic_constant_parse(dt, dt.symbols, text, 64);
  if (!r.value) return r;
  const Value& v = *r.value;
  if (!v.fits_u64() || v.to_u64() > 6)
    return parse_error(fmt::format("Value {} exceeds valid range 0-6", big_to_dec(v.be)));
  return finish_integer(v.be, bits, 8);
}

// --- cgroupsv2 ------------------------------------------------------------------------------

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

ParseResult cgroupv2_parse(const Datatype&, const std::string& text, unsigned bits) {
  std::string path = std::string(kCgroupRoot) + "/" + text;
  struct stat st;
  if (stat(path.c_str(), &st) < 0)
    return parse_error(fmt::format("cgroupv2 path fails: {}", std::strerror(errno)));
  return finish_integer(big_from_u64(static_cast<uint64_t>(st.st_ino)), bits, 64);
}

bool cgroupv2_find(const std::string& dir, uint64_t id, std::string& out, int depth) {
  if (depth > 64) return false;
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  bool found = false;
  while (struct dirent* ent = readdir(d)) {
    if (!std::strcmp(ent->d_name, ".") || !std::strcmp(ent->d_name, "..")) continue;
    std::string name = dir + "/" + ent->d_name;
    if (ent->d_ino == id) {
      out = name;
      found = true;
      break;
    }
    struct stat st;
    if (stat(name.c_str(), &st) >= 0 && S_ISDIR(st.st_mode) && cgroupv2_find(name, id, out, depth + 1)) {
      found = true;
      break;
    }
  }
  closedir(d);
  return found;
}

std::string cgroupv2_print(const Datatype&, const Value& v, const PrintOptions&) {
  uint64_t id = v.to_u64();
  std::string path;
  if (cgroupv2_find(kCgroupRoot, id, path, 0))
    return fmt::format("\"{}\"", path.substr(std::strlen(kCgroupRoot) + 1));
  return std::to_string(id);
}

}  // namespace

namespace types_detail {

const Datatype& time_type() {
  static const Datatype d{.name = "time", .desc = "relative time", .bits = 32,
                          .order = ByteOrder::Host, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = time_type_parse, .print = time_type_print};
  return d;
}

const Datatype& mark_type() {
  static const Datatype d{.name = "mark", .desc = "packet mark", .bits = 32,
                          .order = ByteOrder::Host, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = mark_parse, .print = nullptr};
  return d;
}

const Datatype& ifindex_type() {
  static const Datatype d{.name = "iface_index", .desc = "network interface index", .bits = 32,
                          .order = ByteOrder::Host, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = ifindex_parse, .print = ifindex_print};
  return d;
}

const Datatype& arphrd_type() {
  static const Datatype d{.name = "iface_type", .desc = "network interface type", .bits = 16,
                          .order = ByteOrder::Host, .base = &integer_type(),
                          .symbols = {{"ether", 1},
                                      {"ppp", 512},
                                      {"ipip", 768},
                                      {"ipip6", 769},
                                      {"loopback", 772},
                                      {"sit", 776},
                                      {"ipgre", 778}}};
  return d;
}

const Datatype& realm_type() {
  static const Datatype d{.name = "realm", .desc = "routing realm", .bits = 32,
                          .order = ByteOrder::Host, .base = &integer_type(),
                          .symbols = {{"cosmos", 0}},  // Debian's /etc/iproute2/rt_realms
                          .is_bitmask = false, .parse = nullptr, .print = quoted_symbol_print};
  return d;
}

const Datatype& tchandle_type() {
  static const Datatype d{.name = "classid", .desc = "TC classid", .bits = 32,
                          .order = ByteOrder::Host, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = tchandle_parse, .print = tchandle_print};
  return d;
}

const Datatype& uid_type() {
  static const Datatype d{.name = "uid", .desc = "user ID", .bits = 32, .order = ByteOrder::Host,
                          .base = &integer_type(), .symbols = {}, .is_bitmask = false,
                          .parse = uid_parse, .print = uid_print};
  return d;
}

const Datatype& gid_type() {
  static const Datatype d{.name = "gid", .desc = "group ID", .bits = 32, .order = ByteOrder::Host,
                          .base = &integer_type(), .symbols = {}, .is_bitmask = false,
                          .parse = gid_parse, .print = gid_print};
  return d;
}

const Datatype& pkttype_type() {
  static const Datatype d{.name = "pkt_type", .desc = "packet type", .bits = 8,
                          .order = ByteOrder::Host, .base = &integer_type(),
                          .symbols = {{"host", 0},
                                      {"unicast", 0},  // backwards compat
                                      {"broadcast", 1},
                                      {"multicast", 2},
                                      {"other", 3}}};
  return d;
}

const Datatype& devgroup_type() {
  static const Datatype d{.name = "devgroup", .desc = "devgroup name", .bits = 32,
                          .order = ByteOrder::Host, .base = &integer_type(),
                          .symbols = {{"default", 0}},  // Debian's /etc/iproute2/group
                          .is_bitmask = false, .parse = nullptr, .print = quoted_symbol_print};
  return d;
}

const Datatype& fib_addr_type() {
  static const Datatype d{.name = "fib_addrtype", .desc = "fib address type", .bits = 32,
                          .order = ByteOrder::Host, .base = &integer_type(),
                          .symbols = {{"unspec", 0},
                                      {"unicast", 1},
                                      {"local", 2},
                                      {"broadcast", 3},
                                      {"anycast", 4},
                                      {"multicast", 5},
                                      {"blackhole", 6},
                                      {"unreachable", 7},
                                      {"prohibit", 8}}};
  return d;
}

const Datatype& ifname_type() {
  static const Datatype d{.name = "ifname", .desc = "network interface name", .bits = 128,
                          .order = ByteOrder::Host, .base = &string_type(), .symbols = {}};
  return d;
}

const Datatype& date_type() {
  static const Datatype d{.name = "time", .desc = "Relative time of packet reception", .bits = 64,
                          .order = ByteOrder::Host, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = date_parse, .print = date_print};
  return d;
}

const Datatype& hour_type() {
  static const Datatype d{.name = "hour", .desc = "Hour of day of packet reception", .bits = 32,
                          .order = ByteOrder::Host, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = hour_parse, .print = hour_print};
  return d;
}

const Datatype& day_type() {
  static const Datatype d{.name = "day", .desc = "Day of week of packet reception", .bits = 8,
                          .order = ByteOrder::Host, .base = &integer_type(),
                          .symbols = {{"Sunday", 0},
                                      {"Monday", 1},
                                      {"Tuesday", 2},
                                      {"Wednesday", 3},
                                      {"Thursday", 4},
                                      {"Friday", 5},
                                      {"Saturday", 6}},
                          .is_bitmask = false, .parse = day_parse, .print = quoted_symbol_print};
  return d;
}

const Datatype& cgroupv2_type() {
  static const Datatype d{.name = "cgroupsv2", .desc = "cgroupsv2 path", .bits = 64,
                          .order = ByteOrder::Host, .base = &integer_type(), .symbols = {},
                          .is_bitmask = false, .parse = cgroupv2_parse, .print = cgroupv2_print};
  return d;
}

}  // namespace types_detail

void set_interface_names(std::map<std::string, uint32_t> names) { interface_names() = std::move(names); }

}  // namespace nfx
