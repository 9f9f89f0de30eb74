// IPv6 reject replies, as net/ipv6/netfilter/nf_reject_ipv6.c builds them
// for bridge and netdev chains (nf_reject_skb_v6_*) and sends them for ip6
// and inet chains (nf_send_reset6, nf_send_unreach6 -> icmp6_send).
#include <nfx/packet.h>

#include <algorithm>
#include <cstring>

#include "internal.h"

namespace nfx::packet {
namespace {

using detail::fits;
using detail::load_be16;
using detail::store_be16;

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kIcmpv6DestUnreach = 1;
constexpr std::uint32_t kDeviceQuoteMax = 1220;            // nf_reject_skb_v6_unreach
constexpr std::uint32_t kIcmp6SendQuoteMax = 1280 - 40 - 8;  // IPV6_MIN_MTU less the headers
constexpr std::uint8_t kHopLimit = 64;                      // devconf hop_limit, ip6_dst_hoplimit

// ipv6_skip_exthdr from the end of the fixed header: the offset of the first
// header that is not an extension header (-1 when the chain is unreadable
// or ends in no-next-header), its type in *proto, and the last fragment
// header's offset field (network order bits) in *frag. A non-first fragment
// stops the walk at its fragment header, *proto staying 44.
long skip_exthdr(std::span<const std::uint8_t> pkt, std::uint8_t* proto, std::uint16_t* frag) {
  std::uint8_t next = pkt[6];
  std::uint64_t at = 40;
  *frag = 0;
  for (;;) {
    bool ext = next == kIpProtoHopopts || next == kIpProtoRouting || next == kIpProtoFragment ||
               next == kIpProtoAh || next == kIpProtoNone || next == kIpProtoDstopts;
    if (!ext) break;
    if (next == kIpProtoNone || !fits(at, 2, pkt.size())) return -1;
    std::uint64_t len;
    if (next == kIpProtoFragment) {
      if (!fits(at + 2, 2, pkt.size())) return -1;
      *frag = load_be16(&pkt[at + 2]);
      if (*frag & ~0x7u) break;
      len = 8;
    } else if (next == kIpProtoAh) {
      len = (pkt[at + 1] + 2u) * 4u;
    } else {
      len = (pkt[at + 1] + 1u) * 8u;
    }
    next = pkt[at];
    at += len;
  }
  *proto = next;
  return static_cast<long>(at);
}

// __ipv6_addr_type(addr) & IPV6_ADDR_UNICAST: everything but ::, multicast
// and v4-mapped addresses.
bool addr_unicast(const std::uint8_t* a) {
  if (a[0] == 0xff) return false;
  static constexpr std::uint8_t kZero[16] = {};
  if (std::memcmp(a, kZero, 16) == 0) return false;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kMapped, 12) != 0;
}

// nf_reject_ip6hdr_validate
bool device_header_ok(std::span<const std::uint8_t> pkt) {
  return pkt.size() >= 40 && (pkt[0] >> 4) == 6 && load_be16(&pkt[4]) + 40u <= pkt.size();
}

// nf_reject_v6_csum_ok / reject6_csum_ok on `pkt` (trimmed where the kernel
// trims it).
bool csum_ok(std::span<const std::uint8_t> pkt) {
  std::uint8_t proto = 0;
  std::uint16_t frag = 0;
  long th = skip_exthdr(pkt, &proto, &frag);
  if (th < 0 || static_cast<std::uint64_t>(th) >= pkt.size() || (frag & ~0x7u) != 0) return false;
  auto off = static_cast<std::uint32_t>(th);
  return !nf_reject_verify_csum(pkt, off, proto) || nf_ip6_checksum_ok(pkt, off, proto);
}

// The packet as nf_reject_v6_csum_ok trims it: to payload_len + 40 unless
// the payload length is 0 (a jumbogram).
std::span<const std::uint8_t> trimmed(std::span<const std::uint8_t> pkt) {
  std::uint32_t plen = load_be16(&pkt[4]);
  return plen ? pkt.first(std::min<std::size_t>(pkt.size(), plen + 40u)) : pkt;
}

// nf_reject_ip6hdr_put: version 6, traffic class and flow label 0.
void put_reply_header(Bytes& out, std::span<const std::uint8_t> pkt, std::uint8_t proto) {
  out.assign(40, 0);
  out[0] = 0x60;
  out[6] = proto;
  out[7] = kHopLimit;
  std::memcpy(&out[8], &pkt[24], 16);
  std::memcpy(&out[24], &pkt[8], 16);
}

Bytes icmp6_reply(std::span<const std::uint8_t> pkt, std::span<const std::uint8_t> quote, std::uint8_t code,
                  const std::uint8_t* saddr, std::uint8_t type = kIcmpv6DestUnreach, std::uint32_t info = 0) {
  Bytes out;
  put_reply_header(out, pkt, kIpProtoIcmpv6);
  std::memcpy(&out[8], saddr, 16);
  out.insert(out.end(), {type, code, 0, 0, static_cast<std::uint8_t>(info >> 24), static_cast<std::uint8_t>(info >> 16),
                         static_cast<std::uint8_t>(info >> 8), static_cast<std::uint8_t>(info)});
  out.insert(out.end(), quote.begin(), quote.end());
  auto plen = static_cast<std::uint32_t>(out.size() - 40);
  store_be16(&out[4], static_cast<std::uint16_t>(plen));
  std::uint32_t sum = pseudo_header_sum_ipv6(&out[8], &out[24], kIpProtoIcmpv6, plen);
  store_be16(&out[42], csum_fold(csum_partial({out.data() + 40, plen}, sum)));
  return out;
}

// is_ineligible: icmp6_send answers no ICMPv6 error (nor a truncated
// ICMPv6 header); an unreadable header chain is eligible.
bool ineligible(std::span<const std::uint8_t> pkt) {
  std::uint8_t proto = 0;
  std::uint16_t frag = 0;
  long th = skip_exthdr(pkt, &proto, &frag);
  if (th < 0 || proto != kIpProtoIcmpv6) return false;
  auto off = static_cast<std::uint64_t>(th);
  return off >= pkt.size() || !(pkt[off] & 0x80);
}

}  // namespace

std::uint8_t reject_icmpx_code_v6(std::uint8_t icmpx) {
  static constexpr std::uint8_t kCodes[4] = {0, 4, 3, 1};  // no route, port, address unreachable; prohibited
  return icmpx < 4 ? kCodes[icmpx] : 0;
}

bool nf_ip6_checksum_ok(std::span<const std::uint8_t> pkt, std::uint32_t dataoff, std::uint8_t proto) {
  if (pkt.size() < 40 || dataoff > pkt.size()) return false;
  auto len = static_cast<std::uint32_t>(pkt.size() - dataoff);
  std::uint32_t sum = pseudo_header_sum_ipv6(&pkt[8], &pkt[24], proto, len);
  return csum_fold(csum_partial(pkt.subspan(dataoff), sum)) == 0;
}

std::optional<Bytes> reject_ipv6_tcp_reset(std::span<const std::uint8_t> pkt, RejectVia via, const RejectRoute&) {
  if (via == RejectVia::Device ? !device_header_ok(pkt) : (pkt.size() < 40 || (pkt[0] >> 4) != 6))
    return std::nullopt;
  if (via == RejectVia::Stack && (!addr_unicast(&pkt[8]) || !addr_unicast(&pkt[24]))) return std::nullopt;
  // nf_reject_ip6_tcphdr_get
  std::uint8_t proto = 0;
  std::uint16_t frag = 0;
  long th = skip_exthdr(pkt, &proto, &frag);
  if (th < 0 || static_cast<std::uint64_t>(th) > pkt.size()) return std::nullopt;
  auto off = static_cast<std::uint32_t>(th);
  auto tcplen = static_cast<std::uint32_t>(pkt.size() - off);
  if (proto != kIpProtoTcp || tcplen < 20) return std::nullopt;
  const std::uint8_t* oth = &pkt[off];
  if (oth[13] & 0x04) return std::nullopt;
  if (!nf_ip6_checksum_ok(pkt, off, kIpProtoTcp)) return std::nullopt;

  Bytes out;
  put_reply_header(out, pkt, kIpProtoTcp);
  out.resize(60);
  store_be16(&out[4], 20);
  detail::put_tcp_reset(oth, tcplen - (oth[12] >> 4) * 4u, &out[40]);
  detail::fill_tcp_checksum(&out[40], pseudo_header_sum_ipv6(&out[8], &out[24], kIpProtoTcp, 20));
  return out;
}

std::optional<Bytes> reject_ipv6_unreach(std::span<const std::uint8_t> pkt, std::uint8_t code, RejectVia via,
                                         const RejectRoute& route) {
  if (via == RejectVia::Device) {
    if (!device_header_ok(pkt)) return std::nullopt;
    // nf_skb_is_icmp6_unreach
    std::uint8_t proto = 0;
    std::uint16_t frag = 0;
    long th = skip_exthdr(pkt, &proto, &frag);
    if (th >= 0 && static_cast<std::uint64_t>(th) < pkt.size() && frag == 0 && proto == kIpProtoIcmpv6 &&
        pkt[static_cast<std::size_t>(th)] == kIcmpv6DestUnreach)
      return std::nullopt;
    // The quote length is fixed before the trim, and taken from the
    // untrimmed bytes.
    std::uint32_t len = std::min<std::uint32_t>(kDeviceQuoteMax, static_cast<std::uint32_t>(pkt.size()));
    if (!csum_ok(trimmed(pkt))) return std::nullopt;
    return icmp6_reply(pkt, pkt.first(len), code, &pkt[24]);
  }

  if (pkt.size() < 40 || (pkt[0] >> 4) != 6) return std::nullopt;
  if (!csum_ok(pkt)) return std::nullopt;  // reject6_csum_ok: the IP stack already trimmed
  return icmp_send_v6(pkt, kIcmpv6DestUnreach, code, route);
}

std::optional<Bytes> icmp_send_v6(std::span<const std::uint8_t> pkt, std::uint8_t type, std::uint8_t code,
                                  const RejectRoute& route, std::uint32_t info) {
  if (pkt.size() < 40 || (pkt[0] >> 4) != 6) return std::nullopt;
  if (pkt[24] == 0xff || !route.pkt_host) return std::nullopt;
  static constexpr std::uint8_t kZero[16] = {};
  if (pkt[8] == 0xff || std::memcmp(&pkt[8], kZero, 16) == 0) return std::nullopt;
  if (ineligible(pkt)) return std::nullopt;
  std::uint32_t len = std::min<std::uint32_t>(kIcmp6SendQuoteMax, static_cast<std::uint32_t>(pkt.size()));
  return icmp6_reply(pkt, pkt.first(len), code, route.icmp_saddr, type, info);
}

}  // namespace nfx::packet
