// Internet checksums (RFC 1071, incremental updates per RFC 1624 as
// include/net/checksum.h does them) and SCTP's CRC32c.
#include <nfx/packet.h>

#include <array>

#include "internal.h"

namespace nfx::packet {
namespace {

using detail::fits;
using detail::load_be16;
using detail::store_be16;

constexpr std::uint32_t kSctpCsumOff = 8;

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

constexpr std::array<std::uint32_t, 256> kCrc32cTable = make_crc32c_table();

std::uint32_t crc32c_update(std::uint32_t crc, std::span<const std::uint8_t> bytes) {
  for (std::uint8_t b : bytes) crc = kCrc32cTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc;
}

void store_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

// SCTP's checksum of `l4` with its checksum field taken as zero
// (sctp_compute_cksum).
std::uint32_t sctp_crc(std::span<const std::uint8_t> l4) {
  static constexpr std::uint8_t kZero[4] = {0, 0, 0, 0};
  std::uint32_t crc = ~0u;
  crc = crc32c_update(crc, l4.first(kSctpCsumOff));
  crc = crc32c_update(crc, kZero);
  crc = crc32c_update(crc, l4.subspan(kSctpCsumOff + 4));
  return ~crc;
}

// The transport data of a non-fragmented (or first-fragment) IP packet:
// th_off up to the end the IP header gives.
struct Transport {
  std::span<const std::uint8_t> l4;
  std::uint32_t csum_off = 0;  // within l4
  std::uint32_t pseudo = 0;    // pseudo-header sum, 0 where there is none
  std::uint32_t covered = 0;   // bytes the checksum covers
};

std::optional<Transport> transport_of(std::span<const std::uint8_t> frame,
                                      const PacketLayout& l) {
  if (!l.link_ok || !l.l4_valid || l.fragoff != 0) return std::nullopt;
  if (l.protocol != kEthPIp && l.protocol != kEthPIpv6) return std::nullopt;
  const std::uint64_t l3_end = std::uint64_t{l.nh_off} + l.l3_len;
  if (l3_end > frame.size() || l.th_off > l3_end) return std::nullopt;
  const std::optional<std::uint32_t> csum_off = transport_checksum_offset(l.l4proto);
  if (!csum_off) return std::nullopt;

  Transport t;
  t.l4 = frame.subspan(l.th_off, static_cast<std::size_t>(l3_end - l.th_off));
  t.csum_off = *csum_off;
  const std::uint32_t field = l.l4proto == kIpProtoSctp ? 4 : 2;
  if (!fits(t.csum_off, field, t.l4.size())) return std::nullopt;
  const auto len = static_cast<std::uint32_t>(t.l4.size());
  t.covered = len;

  if (l.l4proto == kIpProtoUdplite) {
    // RFC 3828: the length field is the checksum coverage, 0 meaning all.
    const std::uint32_t cov = load_be16(t.l4.data() + 4);
    if (cov != 0) {
      if (cov < 8 || cov > len) return std::nullopt;
      t.covered = cov;
    }
  }
  if (l.l4proto == kIpProtoIcmp || l.l4proto == kIpProtoSctp) return t;

  const std::uint8_t* nh = frame.data() + l.nh_off;
  t.pseudo = l.protocol == kEthPIp ? pseudo_header_sum_ipv4(nh + 12, nh + 16, l.l4proto, len)
                                   : pseudo_header_sum_ipv6(nh + 8, nh + 24, l.l4proto, len);
  return t;
}

// The one's complement sum the checksum covers, with the field as zero.
std::uint32_t sum_without_field(const Transport& t) {
  const auto covered = t.l4.first(t.covered);
  std::uint32_t sum = csum_partial(covered.first(t.csum_off), t.pseudo);
  return csum_partial(covered.subspan(t.csum_off + 2), sum);
}

bool zero_is_mangled(std::uint8_t l4proto) {
  return l4proto == kIpProtoUdp || l4proto == kIpProtoUdplite;
}

}  // namespace

std::uint32_t csum_partial(std::span<const std::uint8_t> bytes, std::uint32_t sum) {
  std::uint64_t acc = sum;
  const std::uint8_t* p = bytes.data();
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  for (; i + 1 < n; i += 2) acc += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (i < n) acc += std::uint32_t{p[i]} << 8;
  while ((acc >> 32) != 0) acc = (acc & 0xffffffffu) + (acc >> 32);
  return static_cast<std::uint32_t>(acc);
}

std::uint32_t csum_add(std::uint32_t a, std::uint32_t b) {
  const std::uint64_t s = std::uint64_t{a} + b;
  return static_cast<std::uint32_t>((s & 0xffffffffu) + (s >> 32));
}

std::uint32_t csum_sub(std::uint32_t a, std::uint32_t b) { return csum_add(a, ~b); }

std::uint16_t csum_fold(std::uint32_t sum) {
  std::uint32_t s = (sum & 0xffff) + (sum >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(~s);
}

std::uint32_t pseudo_header_sum_ipv4(const std::uint8_t saddr[4], const std::uint8_t daddr[4],
                                     std::uint8_t proto, std::uint32_t length) {
  std::uint32_t sum = csum_partial({saddr, 4});
  sum = csum_partial({daddr, 4}, sum);
  sum = csum_add(sum, proto);
  return csum_add(sum, length);
}

std::uint32_t pseudo_header_sum_ipv6(const std::uint8_t saddr[16], const std::uint8_t daddr[16],
                                     std::uint8_t nexthdr, std::uint32_t length) {
  std::uint32_t sum = csum_partial({saddr, 16});
  sum = csum_partial({daddr, 16}, sum);
  sum = csum_add(sum, length >> 16);
  sum = csum_add(sum, length & 0xffff);
  return csum_add(sum, nexthdr);
}

std::uint16_t ipv4_header_checksum(std::span<const std::uint8_t> header) {
  if (header.size() < 12) return csum_fold(csum_partial(header));
  return csum_fold(csum_partial(header.subspan(12), csum_partial(header.first(10))));
}

bool ipv4_header_checksum_ok(std::span<const std::uint8_t> header) {
  return csum_fold(csum_partial(header)) == 0;
}

std::uint32_t crc32c(std::span<const std::uint8_t> bytes) { return ~crc32c_update(~0u, bytes); }

std::optional<std::uint32_t> transport_checksum_offset(std::uint8_t l4proto) {
  switch (l4proto) {
    case kIpProtoTcp: return 16;
    case kIpProtoUdp:
    case kIpProtoUdplite: return 6;
    case kIpProtoIcmp:
    case kIpProtoIcmpv6: return 2;
    case kIpProtoSctp: return kSctpCsumOff;
    default: return std::nullopt;
  }
}

std::optional<std::uint32_t> compute_transport_checksum(std::span<const std::uint8_t> frame,
                                                        const PacketLayout& layout) {
  const std::optional<Transport> t = transport_of(frame, layout);
  if (!t) return std::nullopt;
  if (layout.l4proto == kIpProtoSctp) return sctp_crc(t->l4);
  const std::uint16_t c = csum_fold(sum_without_field(*t));
  if (c == 0 && zero_is_mangled(layout.l4proto)) return 0xffff;  // CSUM_MANGLED_0
  return c;
}

bool fill_transport_checksum(std::span<std::uint8_t> frame, const PacketLayout& layout) {
  const std::optional<std::uint32_t> c = compute_transport_checksum(frame, layout);
  if (!c) return false;
  std::uint8_t* field = frame.data() + layout.th_off + *transport_checksum_offset(layout.l4proto);
  if (layout.l4proto == kIpProtoSctp)
    store_le32(field, *c);
  else
    store_be16(field, static_cast<std::uint16_t>(*c));
  return true;
}

bool transport_checksum_ok(std::span<const std::uint8_t> frame, const PacketLayout& layout) {
  const std::optional<Transport> t = transport_of(frame, layout);
  if (!t) return false;
  const std::uint8_t* field = t->l4.data() + t->csum_off;
  if (layout.l4proto == kIpProtoSctp) return load_le32(field) == sctp_crc(t->l4);
  if (layout.l4proto == kIpProtoUdp && load_be16(field) == 0) return layout.protocol == kEthPIp;
  return csum_fold(csum_partial(t->l4.first(t->covered), t->pseudo)) == 0;
}

bool fill_ipv4_header_checksum(std::span<std::uint8_t> frame, const PacketLayout& layout) {
  if (!layout.link_ok || layout.protocol != kEthPIp) return false;
  if (!fits(layout.nh_off, 20, frame.size())) return false;
  std::uint8_t* iph = frame.data() + layout.nh_off;
  const std::uint32_t hlen = (iph[0] & 0x0f) * 4u;
  if (hlen < 20 || !fits(layout.nh_off, hlen, frame.size())) return false;
  store_be16(iph + 10, ipv4_header_checksum({iph, hlen}));
  return true;
}

std::uint16_t csum_replace(std::uint16_t check, std::uint32_t from, std::uint32_t to) {
  // ~csum_unfold(check): the field widened to 32 bits, then complemented.
  return csum_fold(csum_add(csum_sub(~std::uint32_t{check}, from), to));
}

bool csum_update(std::span<std::uint8_t> frame, std::size_t csum_off,
                 std::span<const std::uint8_t> from, std::span<const std::uint8_t> to,
                 ZeroResult zero) {
  if (from.size() != to.size() || !fits(csum_off, 2, frame.size())) return false;
  std::uint8_t* field = frame.data() + csum_off;
  std::uint16_t c = csum_replace(load_be16(field), csum_partial(from), csum_partial(to));
  if (c == 0 && zero == ZeroResult::Mangle) c = 0xffff;
  store_be16(field, c);
  return true;
}

bool l4_csum_update_pseudo(std::span<std::uint8_t> frame, const PacketLayout& layout,
                           std::span<const std::uint8_t> from, std::span<const std::uint8_t> to) {
  // nft_payload_l4csum_offset: tprot is 0 without L4PROTO.
  if (layout.fragoff != 0 || !layout.l4_valid) return true;
  const std::uint32_t end = detail::data_end(frame, layout);
  std::uint32_t off = 0;
  switch (layout.l4proto) {
    case kIpProtoTcp: off = 16; break;
    case kIpProtoUdp:
      // nft_payload_udp_checksum: an unreadable header or a zero checksum
      // ("none") is left alone.
      if (!fits(layout.th_off, 8, end)) return true;
      if (load_be16(frame.data() + layout.th_off + 6) == 0) return true;
      off = 6;
      break;
    case kIpProtoUdplite: off = 6; break;
    case kIpProtoIcmpv6: off = 2; break;
    default: return true;
  }
  const std::uint64_t csum_off = std::uint64_t{layout.th_off} + off;
  if (!fits(csum_off, 2, end)) return false;
  return csum_update(frame, static_cast<std::size_t>(csum_off), from, to, ZeroResult::Mangle);
}

bool sctp_checksum_recompute(std::span<std::uint8_t> frame, const PacketLayout& layout) {
  if (!layout.l4_valid || layout.l4proto != kIpProtoSctp || layout.fragoff != 0) return true;
  const std::uint32_t end = detail::data_end(frame, layout);
  if (!fits(layout.th_off, 12, end)) return false;
  const auto l4 = std::span<const std::uint8_t>(frame).subspan(layout.th_off, end - layout.th_off);
  store_le32(frame.data() + layout.th_off + kSctpCsumOff, sctp_crc(l4));
  return true;
}

}  // namespace nfx::packet
