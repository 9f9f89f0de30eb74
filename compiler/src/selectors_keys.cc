// Key tables of the non-payload selectors: meta, ct, rt, socket, osf, ipsec
// (xfrm), tunnel and fib results, with nft's datatypes, widths, which keys
// take a direction or may be set, and the kernel's key numbers.
#include <cstring>
#include <string>
#include <vector>

#include "selectors.h"

namespace nfx {
namespace {

constexpr bool kHost = false;
constexpr bool kBig = true;

struct Entry {
  KeyDesc desc;
  int kernel_id;
  bool big_endian;
};

struct Table {
  std::vector<KeyDesc> keys;  // what all_keys() hands out
  std::vector<Entry> entries;
};

Table make_table(std::vector<Entry> entries) {
  Table t;
  t.entries = std::move(entries);
  t.keys.reserve(t.entries.size());
  for (const Entry& e : t.entries) t.keys.push_back(e.desc);
  return t;
}

// meta: ids are enum nft_meta_keys. Width 0 never occurs here.
Table build_meta() {
  constexpr unsigned B = kBare;
  constexpr unsigned S = kSettable;
  constexpr unsigned P = kPrintsBare;
  return make_table({
      {{"length", "integer", 32, 0}, 0, kHost},
      {{"protocol", "ether_type", 16, 0}, 1, kBig},
      {{"priority", "classid", 32, S}, 2, kHost},
      {{"mark", "mark", 32, B | S}, 3, kHost},
      {{"iif", "iface_index", 32, B | P}, 4, kHost},
      {{"oif", "iface_index", 32, B | P}, 5, kHost},
      {{"iifname", "ifname", 128, B | P}, 6, kHost},
      {{"oifname", "ifname", 128, B | P}, 7, kHost},
      {{"iiftype", "iface_type", 16, B}, 8, kHost},
      {{"oiftype", "iface_type", 16, B}, 9, kHost},
      {{"skuid", "uid", 32, B}, 10, kHost},
      {{"skgid", "gid", 32, B}, 11, kHost},
      {{"nftrace", "integer", 1, B | S}, 12, kHost},
      {{"rtclassid", "realm", 32, B}, 13, kHost},
      {{"secmark", "integer", 32, S}, 14, kHost},
      {{"nfproto", "nf_proto", 8, 0}, 15, kHost},
      {{"l4proto", "inet_proto", 8, 0}, 16, kHost},
      {{"ibrname", "ifname", 128, B}, 17, kHost},
      {{"obrname", "ifname", 128, B}, 18, kHost},
      {{"pkttype", "pkt_type", 8, B | S}, 19, kHost},
      {{"cpu", "integer", 32, B}, 20, kHost},
      {{"iifgroup", "devgroup", 32, B | P}, 21, kHost},
      {{"oifgroup", "devgroup", 32, B | P}, 22, kHost},
      {{"cgroup", "integer", 32, B}, 23, kHost},
      // No byte order of its own; nft keeps it big endian to avoid conversion.
      {{"random", "integer", 32, 0}, 24, kBig},
      {{"ipsec", "boolean", 8, B}, 25, kHost},
      {{"iifkind", "ifname", 128, 0}, 26, kHost},
      {{"oifkind", "ifname", 128, 0}, 27, kHost},
      {{"ibrpvid", "integer", 16, 0}, 28, kHost},
      {{"ibrvproto", "ether_type", 16, 0}, 29, kBig},
      {{"time", "date", 64, B}, 30, kHost},
      {{"day", "day", 8, B}, 31, kHost},
      {{"hour", "hour", 32, B}, 32, kHost},
      {{"sdif", "iface_index", 32, 0}, 33, kHost},
      {{"sdifname", "ifname", 128, 0}, 34, kHost},
      {{"broute", "integer", 1, S}, 35, kHost},
      // 36 is the kernel's private __NFT_META_IIFTYPE.
      {{"ibrhwaddr", "ether_addr", 48, 0}, 37, kBig},
  });
}

// ct: ids are enum nft_ct_keys. Direction rules follow the kernel's
// nft_ct_get_init: addresses and ports need original/reply, l3proto/protocol
// and the counters take one optionally, the rest take none.
Table build_ct() {
  constexpr unsigned N = kNoDir;
  constexpr unsigned D = kDirectional;
  constexpr unsigned R = kDirectional | kNeedsDir;
  constexpr unsigned S = kSettable;
  return make_table({
      {{"state", "ct_state", 32, N}, 0, kHost},
      {{"direction", "ct_dir", 8, N}, 1, kHost},
      {{"status", "ct_status", 32, N}, 2, kHost},
      {{"mark", "mark", 32, N | S}, 3, kHost},
      {{"secmark", "integer", 32, N | S}, 4, kHost},
      {{"expiration", "time", 32, N}, 5, kHost},
      // "ct helper set" assigns a ct helper object.
      {{"helper", "string", 128, N | S}, 6, kHost},
      {{"l3proto", "nf_proto", 8, D}, 7, kHost},
      {{"saddr", "invalid", 0, R | kNeedsFamily}, 8, kBig},
      {{"daddr", "invalid", 0, R | kNeedsFamily}, 9, kBig},
      {{"protocol", "inet_proto", 8, D}, 10, kBig},
      {{"proto-src", "inet_service", 16, R}, 11, kBig},
      {{"proto-dst", "inet_service", 16, R}, 12, kBig},
      {{"label", "ct_label", 128, N | S}, 13, kHost},
      // Without a direction the counters add up both directions.
      {{"packets", "integer", 64, D | kBoth}, 14, kHost},
      {{"bytes", "integer", 64, D | kBoth}, 15, kHost},
      {{"avgpkt", "integer", 64, D | kBoth}, 16, kHost},
      {{"zone", "integer", 16, D | S}, 17, kHost},
      {{"event", "ct_event", 32, N | S}, 18, kHost},
      {{"ip saddr", "ipv4_addr", 32, R}, 19, kBig},
      {{"ip daddr", "ipv4_addr", 32, R}, 20, kBig},
      {{"ip6 saddr", "ipv6_addr", 128, R}, 21, kBig},
      {{"ip6 daddr", "ipv6_addr", 128, R}, 22, kBig},
      {{"id", "integer", 32, N}, 23, kBig},
  });
}

// rt: ids are enum nft_rt_keys; plain "nexthop" follows the family.
Table build_rt() {
  return make_table({
      {{"classid", "realm", 32, 0}, 0, kHost},
      {{"nexthop", "invalid", 0, kNeedsFamily}, 1, kBig},
      {{"ip nexthop", "ipv4_addr", 32, 0}, 1, kBig},
      {{"ip6 nexthop", "ipv6_addr", 128, 0}, 2, kBig},
      {{"mtu", "integer", 16, 0}, 3, kHost},
      {{"ipsec", "boolean", 8, 0}, 4, kHost},
  });
}

Table build_socket() {
  return make_table({
      {{"transparent", "integer", 8, 0}, 0, kHost},
      {{"mark", "mark", 32, 0}, 1, kHost},
      {{"wildcard", "integer", 8, 0}, 2, kHost},
      {{"cgroupv2", "cgroupsv2", 64, kNeedsLevel}, 3, kHost},
  });
}

// osf has no key: "version" is the NFT_OSF_F_VERSION flag on the name lookup.
Table build_osf() {
  return make_table({
      {{"name", "string", 128, 0}, 0, kHost},
      {{"version", "string", 128, 0}, 1, kHost},
  });
}

// ipsec in|out [spnum N] <key>: ids are enum nft_xfrm_keys. nft writes the
// addresses with their family ("ipsec in ip saddr"); the plain names stand for
// the address of the family in context (ids given for IPv4).
Table build_ipsec() {
  return make_table({
      {{"reqid", "integer", 32, 0}, 5, kHost},
      {{"spi", "integer", 32, 0}, 6, kBig},
      {{"saddr", "invalid", 0, kNeedsFamily}, 3, kBig},
      {{"daddr", "invalid", 0, kNeedsFamily}, 1, kBig},
      {{"ip saddr", "ipv4_addr", 32, 0}, 3, kBig},
      {{"ip daddr", "ipv4_addr", 32, 0}, 1, kBig},
      {{"ip6 saddr", "ipv6_addr", 128, 0}, 4, kBig},
      {{"ip6 daddr", "ipv6_addr", 128, 0}, 2, kBig},
  });
}

Table build_tunnel() {
  return make_table({
      {{"path", "boolean", 8, 0}, 0, kHost},
      {{"id", "integer", 32, 0}, 1, kHost},
  });
}

// fib <flags> <result>: ids are enum nft_fib_result.
Table build_fib() {
  return make_table({
      {{"oif", "iface_index", 32, 0}, 1, kHost},
      {{"oifname", "string", 128, 0}, 2, kHost},
      {{"type", "fib_addrtype", 32, 0}, 3, kHost},
      // `check`: the oif result with NFTA_FIB_F_PRESENT, a boolean (exists/missing)
      {{"check", "boolean", 1, 0}, 1, kHost},
  });
}

const Table& table(KeyFamily fam) {
  static const Table meta = build_meta();
  static const Table ct = build_ct();
  static const Table rt = build_rt();
  static const Table socket = build_socket();
  static const Table osf = build_osf();
  static const Table ipsec = build_ipsec();
  static const Table tunnel = build_tunnel();
  static const Table fib = build_fib();
  switch (fam) {
    case KeyFamily::Meta: return meta;
    case KeyFamily::Ct: return ct;
    case KeyFamily::Rt: return rt;
    case KeyFamily::Socket: return socket;
    case KeyFamily::Osf: return osf;
    case KeyFamily::Ipsec: return ipsec;
    case KeyFamily::Tunnel: return tunnel;
    case KeyFamily::FibResult: return fib;
  }
  return meta;
}

struct KeyAlias {
  KeyFamily fam;
  const char* alias;
  const char* key;
};

// Old or JSON spellings nft still accepts.
constexpr KeyAlias kKeyAliases[] = {
    {KeyFamily::Meta, "ibriport", "ibrname"},
    {KeyFamily::Meta, "obriport", "obrname"},
    {KeyFamily::Meta, "ibridgename", "ibrname"},
    {KeyFamily::Meta, "obridgename", "obrname"},
    {KeyFamily::Meta, "secpath", "ipsec"},
};

const Entry* find_entry(KeyFamily fam, const std::string& name) {
  const Table& t = table(fam);
  for (const Entry& e : t.entries)
    if (name == e.desc.name) return &e;
  for (const KeyAlias& a : kKeyAliases) {
    if (a.fam != fam || name != a.alias) continue;
    for (const Entry& e : t.entries)
      if (std::strcmp(e.desc.name, a.key) == 0) return &e;
  }
  return nullptr;
}

}  // namespace

const std::vector<KeyDesc>& all_keys(KeyFamily fam) { return table(fam).keys; }

const KeyDesc* find_key(KeyFamily fam, const std::string& name) {
  const Entry* e = find_entry(fam, name);
  if (e == nullptr) return nullptr;
  // Hand out the element of all_keys() so pointers compare equal.
  const Table& t = table(fam);
  return &t.keys[static_cast<size_t>(e - t.entries.data())];
}

bool key_extra(KeyFamily fam, const std::string& name, KeyExtra& out) {
  const Entry* e = find_entry(fam, name);
  if (e == nullptr) return false;
  out.kernel_id = e->kernel_id;
  out.big_endian = e->big_endian;
  return true;
}

const std::vector<FibFlagDesc>& fib_flags() {
  static const std::vector<FibFlagDesc> v = {
      {"saddr", 1u << 0}, {"daddr", 1u << 1}, {"mark", 1u << 2},
      {"iif", 1u << 3},   {"oif", 1u << 4},   {"present", 1u << 5},
  };
  return v;
}

}  // namespace nfx
