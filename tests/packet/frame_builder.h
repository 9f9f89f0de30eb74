// A small frame builder for the packet tests: Ethernet (with tags), IPv4
// (with options and fragment fields), IPv6 (with extension headers), TCP,
// UDP, ICMP, ICMPv6 and SCTP, with lengths and checksums filled in by
// reference code of its own (not the library's), so that the library's
// checksums are checked against an independent computation.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace nfx::packet::testing {

using Bytes = std::vector<std::uint8_t>;

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

inline std::uint16_t get16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

// RFC 1071 by the book: 32-bit accumulator of big-endian words.
inline std::uint32_t ref_sum(const std::uint8_t* p, std::size_t n, std::uint32_t acc = 0) {
  std::uint64_t s = acc;
  for (std::size_t i = 0; i < n; i += 2) s += (std::uint32_t{p[i]} << 8) | (i + 1 < n ? p[i + 1] : 0);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint32_t>(s);
}

inline std::uint16_t ref_checksum(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// Bitwise CRC32c, reflected polynomial 0x82F63B78.
inline std::uint32_t ref_crc32c(const std::uint8_t* p, std::size_t n) {
  std::uint32_t crc = ~0u;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

constexpr std::uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmp6 = 58, kSctp = 132, kUdplite = 136;

// Ethernet II with tags outermost first, each (TPID, TCI).
inline Bytes ethernet(std::uint16_t type, const Bytes& payload,
                      const std::vector<std::pair<std::uint16_t, std::uint16_t>>& tags = {}) {
  Bytes b = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
  for (auto [tpid, tci] : tags) {
    b.insert(b.end(), {0, 0, 0, 0});
    put16(b, b.size() - 4, tpid);
    put16(b, b.size() - 2, tci);
  }
  b.insert(b.end(), {0, 0});
  put16(b, b.size() - 2, type);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

inline Bytes tcp(std::uint16_t sport, std::uint16_t dport, Bytes options = {},
                 const Bytes& payload = {}, std::uint8_t flags = 0x02) {
  while (options.size() % 4 != 0) options.push_back(0);  // EOL padding
  Bytes b(20, 0);
  put16(b, 0, sport);
  put16(b, 2, dport);
  b[7] = 1;  // sequence number 1
  b[12] = static_cast<std::uint8_t>(((20 + options.size()) / 4) << 4);
  b[13] = flags;
  put16(b, 14, 64240);
  b.insert(b.end(), options.begin(), options.end());
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

inline Bytes udp(std::uint16_t sport, std::uint16_t dport, const Bytes& payload = {}) {
  Bytes b(8, 0);
  put16(b, 0, sport);
  put16(b, 2, dport);
  put16(b, 4, static_cast<std::uint16_t>(8 + payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

inline Bytes icmp_echo(std::uint8_t type = 8, const Bytes& payload = {'p', 'i', 'n', 'g'}) {
  Bytes b = {type, 0, 0, 0, 0x12, 0x34, 0, 1};
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// An SCTP packet: common header and the given chunks (each type, flags,
// value), each chunk padded to 4 bytes.
inline Bytes sctp(std::uint16_t sport, std::uint16_t dport,
                  const std::vector<std::pair<std::uint8_t, Bytes>>& chunks) {
  Bytes b(12, 0);
  put16(b, 0, sport);
  put16(b, 2, dport);
  b[7] = 0x2a;  // verification tag
  for (const auto& [type, value] : chunks) {
    const std::size_t at = b.size();
    b.insert(b.end(), {type, 0, 0, 0});
    put16(b, at + 2, static_cast<std::uint16_t>(4 + value.size()));
    b.insert(b.end(), value.begin(), value.end());
    while (b.size() % 4 != 0) b.push_back(0);
  }
  return b;
}

// Stores the transport checksum of `l4` given a pseudo-header sum (0 and
// with_pseudo false for ICMP and SCTP).
inline void fill_l4(Bytes& l4, std::uint8_t proto, std::uint32_t pseudo) {
  std::size_t off = 0;
  switch (proto) {
    case kTcp: off = 16; break;
    case kUdp:
    case kUdplite: off = 6; break;
    case kIcmp:
    case kIcmp6: off = 2; break;
    case kSctp: {
      if (l4.size() < 12) return;
      for (int i = 0; i < 4; ++i) l4[8 + i] = 0;
      const std::uint32_t c = ref_crc32c(l4.data(), l4.size());
      for (int i = 0; i < 4; ++i) l4[8 + i] = static_cast<std::uint8_t>(c >> (8 * i));
      return;
    }
    default: return;
  }
  if (l4.size() < off + 2) return;
  put16(l4, off, 0);
  std::uint16_t c = ref_checksum(ref_sum(l4.data(), l4.size(), proto == kIcmp ? 0 : pseudo));
  if (c == 0 && (proto == kUdp || proto == kUdplite)) c = 0xffff;
  put16(l4, off, c);
}

struct Ip4 {
  std::uint8_t proto = kTcp;
  std::array<std::uint8_t, 4> src{192, 0, 2, 1};
  std::array<std::uint8_t, 4> dst{198, 51, 100, 2};
  Bytes options;           // padded with EOL to a multiple of 4
  std::uint16_t frag = 0;  // flags and fragment offset field
  std::uint8_t ttl = 64;
};

inline Ip4 ip4_proto(std::uint8_t proto) {
  Ip4 ip;
  ip.proto = proto;
  return ip;
}

inline Bytes ipv4(const Ip4& ip, Bytes l4) {
  Bytes opts = ip.options;
  while (opts.size() % 4 != 0) opts.push_back(0);
  Bytes h(20, 0);
  h[0] = static_cast<std::uint8_t>(0x40 | ((20 + opts.size()) / 4));
  put16(h, 2, static_cast<std::uint16_t>(20 + opts.size() + l4.size()));
  put16(h, 4, 0x1234);
  put16(h, 6, ip.frag);
  h[8] = ip.ttl;
  h[9] = ip.proto;
  std::copy(ip.src.begin(), ip.src.end(), h.begin() + 12);
  std::copy(ip.dst.begin(), ip.dst.end(), h.begin() + 16);
  h.insert(h.end(), opts.begin(), opts.end());
  put16(h, 10, ref_checksum(ref_sum(h.data(), h.size())));
  if ((ip.frag & 0x1fff) == 0) {
    std::uint32_t pseudo = ref_sum(ip.src.data(), 4);
    pseudo = ref_sum(ip.dst.data(), 4, pseudo);
    pseudo = ref_sum(Bytes{0, ip.proto}.data(), 2, pseudo);
    const auto len = static_cast<std::uint16_t>(l4.size());
    pseudo = ref_sum(Bytes{static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)}.data(), 2,
                     pseudo);
    fill_l4(l4, ip.proto, pseudo);
  }
  h.insert(h.end(), l4.begin(), l4.end());
  return h;
}

// IPv6 extension headers: the builder fills each header's next-header byte.
inline Bytes hop_by_hop(Bytes options) {  // options padded with PadN/Pad1 to 8n - 2
  Bytes b = {0, 0};
  b.insert(b.end(), options.begin(), options.end());
  const std::size_t pad = (8 - b.size() % 8) % 8;
  if (pad == 1) b.push_back(0);
  else if (pad > 1) {
    b.push_back(1);
    b.push_back(static_cast<std::uint8_t>(pad - 2));
    b.insert(b.end(), pad - 2, 0);
  }
  b[1] = static_cast<std::uint8_t>(b.size() / 8 - 1);
  return b;
}
inline Bytes dest_options(Bytes options) { return hop_by_hop(std::move(options)); }
inline Bytes routing(std::uint8_t type = 0, std::uint8_t segments_left = 0, int addresses = 1) {
  Bytes b(8 + 16 * addresses, 0);
  b[1] = static_cast<std::uint8_t>(2 * addresses);
  b[2] = type;
  b[3] = segments_left;
  return b;
}
inline Bytes fragment(std::uint16_t offset_units, bool more, std::uint32_t id = 7) {
  Bytes b(8, 0);
  put16(b, 2, static_cast<std::uint16_t>((offset_units << 3) | (more ? 1 : 0)));
  b[7] = static_cast<std::uint8_t>(id);
  return b;
}
inline Bytes auth_header(int payload_words = 4) {  // AH length is in 4-byte units minus 2
  Bytes b(4 * (payload_words + 2), 0);
  b[1] = static_cast<std::uint8_t>(payload_words);
  return b;
}

struct Ip6 {
  std::array<std::uint8_t, 16> src{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::array<std::uint8_t, 16> dst{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
};

// exts: (type, header bytes). The transport checksum is filled unless a
// fragment header with a non-zero offset is in the chain.
inline Bytes ipv6(const Ip6& ip, const std::vector<std::pair<std::uint8_t, Bytes>>& exts,
                  std::uint8_t proto, Bytes l4) {
  Bytes h(40, 0);
  h[0] = 0x60;
  h[7] = 64;
  std::copy(ip.src.begin(), ip.src.end(), h.begin() + 8);
  std::copy(ip.dst.begin(), ip.dst.end(), h.begin() + 24);
  h[6] = exts.empty() ? proto : exts[0].first;
  bool later_fragment = false;
  Bytes chain;
  for (std::size_t i = 0; i < exts.size(); ++i) {
    Bytes e = exts[i].second;
    e[0] = i + 1 < exts.size() ? exts[i + 1].first : proto;
    if (exts[i].first == 44 && (get16(e, 2) & ~7) != 0) later_fragment = true;
    chain.insert(chain.end(), e.begin(), e.end());
  }
  if (!later_fragment) {
    std::uint32_t pseudo = ref_sum(ip.src.data(), 16);
    pseudo = ref_sum(ip.dst.data(), 16, pseudo);
    const auto len = static_cast<std::uint32_t>(l4.size());
    const Bytes tail = {static_cast<std::uint8_t>(len >> 24), static_cast<std::uint8_t>(len >> 16),
                        static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len),
                        0, 0, 0, proto};
    pseudo = ref_sum(tail.data(), tail.size(), pseudo);
    fill_l4(l4, proto, pseudo);
  }
  put16(h, 4, static_cast<std::uint16_t>(chain.size() + l4.size()));
  return cat({h, chain, l4});
}

}  // namespace nfx::packet::testing
