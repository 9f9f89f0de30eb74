#include "frame_gen.h"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

#include <nfx/packet.h>

namespace nfx::difftest {

uint32_t csum_add(const uint8_t* p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(p[len - 1] << 8);
  return sum;
}

uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

namespace {

constexpr uint8_t kRouterInsideMac[6] = {0x02, 0x6e, 0x66, 0x78, 0x00, 0x01};

void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void push16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void push32(Bytes& b, uint32_t v) {
  push16(b, static_cast<uint16_t>(v >> 16));
  push16(b, static_cast<uint16_t>(v));
}

void push_mac(Bytes& b, const std::string& text) {
  unsigned m[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
    throw std::logic_error("bad MAC in pool: " + text);
  for (unsigned x : m) b.push_back(static_cast<uint8_t>(x));
}

std::array<uint8_t, 4> ipv4(const std::string& text) {
  std::array<uint8_t, 4> a{};
  if (inet_pton(AF_INET, text.c_str(), a.data()) != 1) throw std::logic_error("bad IPv4 in pool: " + text);
  return a;
}
std::array<uint8_t, 16> ipv6(const std::string& text) {
  std::array<uint8_t, 16> a{};
  if (inet_pton(AF_INET6, text.c_str(), a.data()) != 1) throw std::logic_error("bad IPv6 in pool: " + text);
  return a;
}

// The transport layer and what the network header must say about it.
struct Transport {
  uint8_t proto = 0;
  Bytes bytes;
  int csum_at = -1;   // offset of a pseudo-header checksum in `bytes` (-1: none)
  bool udp_zero_ok = false;
  bool sctp = false;
};

uint16_t port(Random& r) { return r.chance(80) ? r.pick(Pools::ports) : static_cast<uint16_t>(r.between(0, 65535)); }

void payload(Random& r, Bytes& b, size_t max) {
  size_t n = r.chance(30) ? 0 : r.between(0, max);
  for (size_t i = 0; i < n; ++i) b.push_back(r.byte());
}

Transport tcp(Random& r) {
  Transport t;
  t.proto = 6;
  Bytes& b = t.bytes;
  push16(b, port(r));
  push16(b, port(r));
  push32(b, r.chance(50) ? 0 : static_cast<uint32_t>(r.between(0, 0xffffffff)));
  push32(b, r.chance(50) ? 0 : static_cast<uint32_t>(r.between(0, 0xffffffff)));
  Bytes opts;
  if (r.chance(40)) {
    int n = static_cast<int>(r.between(1, 4));
    for (int i = 0; i < n; ++i) {
      switch (r.between(0, 7)) {
        case 0: opts.insert(opts.end(), {2, 4, 0x05, 0xb4}); break;              // mss 1460
        case 1: opts.insert(opts.end(), {3, 3, static_cast<uint8_t>(r.between(0, 14))}); break;  // wscale
        case 2: opts.insert(opts.end(), {4, 2}); break;                          // sack-permitted
        case 3: opts.insert(opts.end(), {8, 10, 0, 0, 0, 1, 0, 0, 0, 2}); break;  // timestamp
        case 4: opts.push_back(1); break;                                        // nop
        case 5: opts.insert(opts.end(), {5, 10, 0, 0, 0, 1, 0, 0, 0, 9}); break;  // sack block
        case 6: opts.insert(opts.end(), {30, 4, 0x10, 0x01}); break;             // mptcp
        default: opts.insert(opts.end(), {static_cast<uint8_t>(r.between(9, 254)), 2}); break;
      }
    }
    if (r.chance(20)) opts.push_back(0);  // end of list
    while (opts.size() % 4) opts.push_back(r.chance(50) ? 1 : 0);
    if (opts.size() > 40) opts.resize(40);
  }
  b.push_back(static_cast<uint8_t>(((20 + opts.size()) / 4) << 4 | (r.chance(5) ? r.between(1, 15) : 0)));
  static const std::vector<uint8_t> flags = {0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01, 0x29, 0x00, 0xff, 0xc2};
  b.push_back(r.chance(85) ? r.pick(flags) : r.byte());
  push16(b, r.chance(70) ? static_cast<uint16_t>(r.pick(std::vector<uint16_t>{0, 1024, 29200, 65535}))
                         : static_cast<uint16_t>(r.between(0, 65535)));
  push16(b, 0);  // checksum
  push16(b, r.chance(90) ? 0 : static_cast<uint16_t>(r.between(0, 65535)));
  b.insert(b.end(), opts.begin(), opts.end());
  t.csum_at = 16;
  payload(r, b, 100);
  return t;
}

Transport udp(Random& r, bool lite) {
  Transport t;
  t.proto = lite ? 136 : 17;
  Bytes& b = t.bytes;
  push16(b, port(r));
  push16(b, port(r));
  push16(b, 0);
  push16(b, 0);
  payload(r, b, 120);
  // UDP: the length; UDP-Lite: the checksum coverage (0 = all).
  put16(b, 4, lite ? static_cast<uint16_t>(r.chance(50) ? 0 : 8) : static_cast<uint16_t>(b.size()));
  t.csum_at = 6;
  t.udp_zero_ok = !lite;
  return t;
}

Transport icmp(Random& r) {
  Transport t;
  t.proto = 1;
  Bytes& b = t.bytes;
  static const std::vector<uint8_t> types = {8, 0, 3, 11, 5, 13, 14, 12, 9, 10, 4, 17, 18};
  b.push_back(r.chance(90) ? r.pick(types) : r.byte());
  b.push_back(r.chance(70) ? 0 : static_cast<uint8_t>(r.between(0, 15)));
  push16(b, 0);
  push16(b, static_cast<uint16_t>(r.chance(50) ? 0x1234 : r.between(0, 65535)));
  push16(b, static_cast<uint16_t>(r.between(0, 10)));
  payload(r, b, 64);
  if (r.chance(95)) put16(b, 2, static_cast<uint16_t>(~csum_fold(csum_add(b.data(), b.size()))));
  return t;
}

Transport icmpv6(Random& r) {
  Transport t;
  t.proto = 58;
  Bytes& b = t.bytes;
  static const std::vector<uint8_t> types = {128, 129, 1, 2, 3, 4, 133, 134, 135, 136, 137, 130, 131, 132, 143};
  b.push_back(r.chance(90) ? r.pick(types) : r.byte());
  b.push_back(r.chance(70) ? 0 : static_cast<uint8_t>(r.between(0, 7)));
  push16(b, 0);
  push16(b, static_cast<uint16_t>(r.chance(50) ? 0x1234 : r.between(0, 65535)));
  push16(b, static_cast<uint16_t>(r.between(0, 10)));
  payload(r, b, 64);
  t.csum_at = 2;
  return t;
}

Transport sctp(Random& r) {
  Transport t;
  t.proto = 132;
  t.sctp = true;
  Bytes& b = t.bytes;
  push16(b, port(r));
  push16(b, port(r));
  push32(b, static_cast<uint32_t>(r.between(0, 0xffffffff)));
  push32(b, 0);  // crc32c
  int chunks = static_cast<int>(r.between(0, 3));
  for (int i = 0; i < chunks; ++i) {
    static const std::vector<uint8_t> types = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 64, 192, 193};
    uint8_t type = r.chance(90) ? r.pick(types) : r.byte();
    size_t body = r.between(0, 16);
    b.push_back(type);
    b.push_back(r.chance(70) ? 0 : r.byte());
    push16(b, static_cast<uint16_t>(4 + body));
    for (size_t k = 0; k < body; ++k) b.push_back(r.byte());
    while (b.size() % 4) b.push_back(0);
  }
  return t;
}

Transport other(Random& r) {
  Transport t;
  static const std::vector<uint8_t> protos = {2, 33, 47, 50, 51, 4, 41, 103, 253, 0};
  t.proto = r.chance(90) ? r.pick(protos) : r.byte();
  Bytes& b = t.bytes;
  if (t.proto == 33) {  // DCCP: ports, data offset, type
    push16(b, port(r));
    push16(b, port(r));
    b.push_back(3);
    b.push_back(0);
    push16(b, 0);
    b.push_back(static_cast<uint8_t>(r.between(0, 9) << 1 | 1));
    b.push_back(0);
    for (int i = 0; i < 6; ++i) b.push_back(r.byte());
  } else if (t.proto == 51) {  // AH
    b.push_back(59);
    b.push_back(4);
    push16(b, 0);
    push32(b, static_cast<uint32_t>(r.between(0, 0xffff)));
    push32(b, static_cast<uint32_t>(r.between(0, 10)));
    for (int i = 0; i < 12; ++i) b.push_back(r.byte());
  } else if (t.proto == 50) {  // ESP
    push32(b, static_cast<uint32_t>(r.chance(50) ? 0x100 : r.between(0, 0xffffffff)));
    push32(b, static_cast<uint32_t>(r.between(0, 10)));
  } else if (t.proto == 47) {  // GRE
    push16(b, 0);
    push16(b, r.chance(50) ? 0x0800 : 0x86dd);
  } else if (t.proto == 2) {  // IGMP
    static const std::vector<uint8_t> types = {0x11, 0x12, 0x16, 0x17, 0x22};
    b.push_back(r.pick(types));
    b.push_back(0);
    push16(b, 0);
    push32(b, 0xe0000001);
    put16(b, 2, static_cast<uint16_t>(~csum_fold(csum_add(b.data(), b.size()))));
  }
  payload(r, b, 40);
  return t;
}

Transport transport(Random& r, bool v6) {
  unsigned x = static_cast<unsigned>(r.between(0, 99));
  if (x < 40) return tcp(r);
  if (x < 62) return udp(r, false);
  if (x < 72) return v6 ? icmpv6(r) : icmp(r);
  if (x < 77) return v6 ? icmp(r) : icmpv6(r);  // the "wrong" ICMP, still a valid header
  if (x < 82) return sctp(r);
  if (x < 86) return udp(r, true);
  return other(r);
}

// Pseudo-header checksums and SCTP's crc32c once the addresses are known.
void finish_transport(Transport& t, const uint8_t* src, const uint8_t* dst, size_t alen, Random& r) {
  if (t.sctp) {
    uint32_t c = packet::crc32c(t.bytes);
    if (r.chance(8)) c ^= 1;
    std::memcpy(&t.bytes[8], &c, 4);  // stored little-endian, as SCTP does
    return;
  }
  if (t.csum_at < 0 || t.bytes.size() < static_cast<size_t>(t.csum_at) + 2) return;
  if (t.udp_zero_ok && r.chance(10)) return;  // no checksum
  uint32_t sum = csum_add(src, alen);
  sum = csum_add(dst, alen, sum);
  sum += t.proto;
  sum += static_cast<uint32_t>(t.bytes.size() & 0xffff) + static_cast<uint32_t>(t.bytes.size() >> 16);
  sum = csum_add(t.bytes.data(), t.bytes.size(), sum);
  uint16_t c = static_cast<uint16_t>(~csum_fold(sum));
  if (c == 0 && t.proto == 17) c = 0xffff;
  if (r.chance(6)) c ^= 0x0101;  // a wrong checksum
  put16(t.bytes, static_cast<size_t>(t.csum_at), c);
}

std::string ipv4_src(Random& r) { return r.pick(Pools::ipv4_hosts); }
std::string ipv4_dst(Random& r, Path path) {
  if (path == Path::Input) return "198.18.0.1";
  return r.pick(Pools::ipv4_hosts);
}

void ipv4_packet(Random& r, Path path, Bytes& f) {
  auto src = ipv4(ipv4_src(r)), dst = ipv4(ipv4_dst(r, path));
  if (path == Path::Bridge && r.chance(5)) dst = {224, 0, 0, static_cast<uint8_t>(r.between(1, 255))};
  Transport t = transport(r, false);
  Bytes opts;
  // Routers write their address or a timestamp into record-route and
  // timestamp options (ip_options_compile, before prerouting's successors);
  // nfx does not process IP options, so routed frames carry only the ones
  // a router leaves alone.
  if (r.chance(10)) {
    static const std::vector<int> bridged = {0, 1, 2, 3}, routed = {0, 2};
    switch (r.pick(path == Path::Bridge ? bridged : routed)) {
      case 0: opts = {1, 1, 1, 0}; break;                                   // nops, end
      case 1: opts = {7, 7, 4, 0, 0, 0, 0, 0}; break;                       // record route
      case 2: opts = {148, 4, 0, 0}; break;                                 // router alert
      default: opts = {68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}; break;        // timestamp
    }
  }
  bool fragment = r.chance(8);
  uint16_t frag = fragment ? static_cast<uint16_t>((r.chance(50) ? 0x2000 : 0) | r.between(r.chance(50) ? 0 : 1, 40))
                           : (r.chance(60) ? 0x4000 : 0);
  if (!fragment || (frag & 0x1fff) == 0) finish_transport(t, src.data(), dst.data(), 4, r);
  size_t at = f.size();
  size_t hl = 20 + opts.size();
  f.push_back(static_cast<uint8_t>(0x40 | hl / 4));
  f.push_back(r.chance(70) ? r.pick(Pools::tos_values) : r.byte());
  push16(f, static_cast<uint16_t>(hl + t.bytes.size()));
  bool any_fragment = (frag & 0x3fff) != 0;
  push16(f, any_fragment ? r.fragment_id() : static_cast<uint16_t>(r.chance(50) ? 0 : r.between(0, 0x7fff)));
  push16(f, frag);
  f.push_back(r.chance(85) ? r.pick(Pools::ttls) : r.byte());
  f.push_back(t.proto);
  push16(f, 0);
  f.insert(f.end(), src.begin(), src.end());
  f.insert(f.end(), dst.begin(), dst.end());
  f.insert(f.end(), opts.begin(), opts.end());
  uint16_t c = static_cast<uint16_t>(~csum_fold(csum_add(&f[at], hl)));
  if (r.chance(3)) c ^= 0x8000;
  put16(f, at + 10, c);
  f.insert(f.end(), t.bytes.begin(), t.bytes.end());
}

void ipv6_packet(Random& r, Path path, Bytes& f) {
  auto src = ipv6(r.pick(Pools::ipv6_hosts));
  auto dst = ipv6(path == Path::Input ? std::string("fd6e:6678::1") : r.pick(Pools::ipv6_hosts));
  if (path == Path::Bridge && r.chance(5)) dst = ipv6("ff02::1");
  Transport t = transport(r, true);
  // Extension headers: hop-by-hop first, then any of destination options,
  // routing, fragment.
  Bytes ext;
  uint8_t first = t.proto;
  // (a fixed array: GCC 12 warns falsely on small vectors of bytes here)
  std::array<uint8_t, 4> chain{};
  size_t chain_len = 0;
  if (r.chance(15))
    for (uint8_t h : {0, 60, 43, 44})
      if (r.chance(h == 43 ? 30 : 40)) chain[chain_len++] = h;
  bool later_fragment = false;
  for (size_t i = 0; i < chain_len; ++i) {
    uint8_t next = i + 1 < chain_len ? chain[i + 1] : t.proto;
    uint8_t h = chain[i];
    ext.push_back(next);
    if (h == 44) {
      ext.push_back(0);
      uint16_t off = r.chance(50) ? 0 : static_cast<uint16_t>(r.between(1, 100));
      later_fragment = off != 0;
      push16(ext, static_cast<uint16_t>(off << 3 | (r.chance(60) ? 1 : 0)));
      push32(ext, r.fragment_id());
    } else if (h == 43) {
      ext.push_back(2);  // 24 bytes: type 0..4, segments left, one address
      ext.push_back(static_cast<uint8_t>(r.chance(50) ? 4 : r.between(0, 3)));
      ext.push_back(static_cast<uint8_t>(r.between(0, 1)));
      for (int k = 0; k < 20; ++k) ext.push_back(0);
    } else {
      static const uint8_t padn[] = {0, 1, 4, 0, 0, 0, 0};  // 8 bytes: one PadN
      ext.insert(ext.end(), std::begin(padn), std::end(padn));
    }
  }
  if (chain_len) first = chain[0];
  if (!later_fragment) finish_transport(t, src.data(), dst.data(), 16, r);
  uint32_t flow = r.chance(60) ? 0 : static_cast<uint32_t>(r.between(0, 0xfffff));
  uint8_t tc = r.chance(70) ? r.pick(Pools::tos_values) : r.byte();
  push32(f, 6u << 28 | static_cast<uint32_t>(tc) << 20 | flow);
  push16(f, static_cast<uint16_t>(ext.size() + t.bytes.size()));
  f.push_back(first);
  f.push_back(r.chance(85) ? r.pick(Pools::ttls) : r.byte());
  f.insert(f.end(), src.begin(), src.end());
  f.insert(f.end(), dst.begin(), dst.end());
  f.insert(f.end(), ext.begin(), ext.end());
  f.insert(f.end(), t.bytes.begin(), t.bytes.end());
}

void arp_packet(Random& r, Bytes& f) {
  push16(f, 1);
  push16(f, 0x0800);
  f.push_back(6);
  f.push_back(4);
  push16(f, static_cast<uint16_t>(r.chance(80) ? r.between(1, 2) : r.between(3, 10)));
  push_mac(f, r.pick(Pools::host_macs));
  auto s = ipv4(r.pick(Pools::ipv4_hosts));
  f.insert(f.end(), s.begin(), s.end());
  for (int i = 0; i < 6; ++i) f.push_back(0);
  auto d = ipv4(r.chance(30) ? std::string("198.18.0.1") : r.pick(Pools::ipv4_hosts));
  f.insert(f.end(), d.begin(), d.end());
}

// Malformations applied to a finished frame.
void malform(Random& r, Bytes& f) {
  switch (r.between(0, 3)) {
    case 0:  // truncated anywhere past the Ethernet header
      if (f.size() > 15) f.resize(r.between(14, f.size() - 1));
      break;
    case 1: {  // a few corrupted bytes
      int n = static_cast<int>(r.between(1, 4));
      for (int i = 0; i < n && f.size() > 14; ++i) f[r.between(14, f.size() - 1)] = r.byte();
      break;
    }
    case 2:  // trailing garbage (Ethernet padding)
      for (int i = 0, n = static_cast<int>(r.between(1, 40)); i < n; ++i) f.push_back(r.chance(50) ? 0 : r.byte());
      break;
    default:  // a corrupted header length or version nibble
      if (f.size() > 14) f[14] = static_cast<uint8_t>((r.chance(50) ? f[14] & 0xf0 : 0x40) | r.between(0, 15));
      break;
  }
}

}  // namespace

// Whether an input-path frame still goes to the router itself: a corrupted
// destination address would be forwarded (or dropped) by the kernel, while
// nfx eval's input path means local delivery.
static bool still_local(const Bytes& f) {
  if (f.size() < 14) return true;
  uint16_t type = static_cast<uint16_t>(f[12] << 8 | f[13]);
  if (type == 0x0800 && f.size() >= 34) return f[30] == 198 && f[31] == 18 && f[32] == 0 && f[33] == 1;
  if (type == 0x86dd && f.size() >= 54) return ipv6("fd6e:6678::1") == [&] {
    std::array<uint8_t, 16> a{};
    std::memcpy(a.data(), &f[38], 16);
    return a;
  }();
  return true;
}

// Whether a routed frame's IPv4 options are ones the receive path leaves
// alone: ip_rcv_options compiles them after prerouting, answering malformed
// ones with a parameter problem and writing into record-route and timestamp
// options; nfx does not model IPv4 option processing (a named difference).
static bool options_left_alone(const Bytes& f) {
  if (f.size() < 15 || f[12] != 0x08 || f[13] != 0x00) return true;
  unsigned ihl = f[14] & 0x0f;
  if (ihl <= 5 || (f[14] >> 4) != 4) return true;  // none, or ip_rcv drops it first
  if (ihl != 6 || f.size() < 38) return false;
  static const uint8_t nops[4] = {1, 1, 1, 0}, router_alert[4] = {148, 4, 0, 0};
  return std::memcmp(&f[34], nops, 4) == 0 || std::memcmp(&f[34], router_alert, 4) == 0;
}

static Bytes random_frame_once(Random& r, Path path);

Bytes random_frame(Random& r, Path path) {
  for (;;) {
    Bytes f = random_frame_once(r, path);
    if (path != Path::Bridge && !options_left_alone(f)) continue;
    if (path != Path::Input || still_local(f)) return f;
  }
}

static Bytes random_frame_once(Random& r, Path path) {
  Bytes f;
  if (path == Path::Bridge) {
    push_mac(f, r.chance(85) ? r.pick(Pools::host_macs) : r.pick(Pools::group_macs));
    push_mac(f, r.pick(Pools::host_macs));
  } else {
    f.insert(f.end(), kRouterInsideMac, kRouterInsideMac + 6);
    push_mac(f, r.pick(Pools::host_macs));
  }
  // 802.1Q / 802.1ad tags (bridge only: the router path has no VLAN devices).
  if (path == Path::Bridge && r.chance(12)) {
    bool qinq = r.chance(25);
    push16(f, qinq ? 0x88a8 : 0x8100);
    push16(f, static_cast<uint16_t>(r.between(0, 7) << 13 | (r.chance(90) ? r.pick(Pools::vlan_ids) : r.between(0, 4095))));
    if (qinq) {
      push16(f, 0x8100);
      push16(f, static_cast<uint16_t>(r.between(0, 7) << 13 | r.pick(Pools::vlan_ids)));
    }
  }
  unsigned x = static_cast<unsigned>(r.between(0, 99));
  if (x < 62) {
    push16(f, 0x0800);
    ipv4_packet(r, path, f);
  } else if (x < 90) {
    push16(f, 0x86dd);
    ipv6_packet(r, path, f);
  } else if (x < 96 && path != Path::Input) {  // the oracle does not observe ARP's input hook
    push16(f, 0x0806);
    arp_packet(r, f);
  } else {
    static const std::vector<uint16_t> types = {0x88cc, 0x8847, 0x1234, 0x0842, 0x0600, 0x05dc};
    push16(f, r.pick(types));
    payload(r, f, 60);
  }
  if (r.chance(10)) malform(r, f);
  return f;
}

}  // namespace nfx::difftest
