// IPv4 reject replies, as net/ipv4/netfilter/nf_reject_ipv4.c builds them
// for bridge and netdev chains (nf_reject_skb_v4_*) and sends them for ip
// and inet chains (nf_send_reset, nf_send_unreach -> icmp_send).
#include <nfx/packet.h>

#include <algorithm>
#include <cstring>

#include "internal.h"

namespace nfx::packet {
namespace {

using detail::fits;
using detail::load_be16;
using detail::load_be32;
using detail::store_be16;

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kIpProtoGre = 47;
constexpr std::uint8_t kIcmpDestUnreach = 3;
constexpr std::uint8_t kNrIcmpTypes = 18;  // NR_ICMP_TYPES
constexpr std::uint32_t kIpOffsetMask = 0x1fff;
constexpr std::uint32_t kDeviceQuoteMax = 536;  // nf_reject_skb_v4_unreach: "576 bytes" less 40
constexpr std::uint32_t kIcmpSendRoom = 576 - 20 - 8;  // icmp_send without echoed options
constexpr std::uint8_t kTtl = 64;  // sysctl_ip_default_ttl, and ip4_dst_hoplimit of a route without one

std::uint32_t ihl_bytes(std::span<const std::uint8_t> pkt) { return (pkt[0] & 0x0fu) * 4u; }
bool non_first_fragment(std::span<const std::uint8_t> pkt) { return (load_be16(&pkt[6]) & kIpOffsetMask) != 0; }

// icmp_pointers[type].error: the errors, and the types the kernel discards
// (1, 2, 6, 7, 9, 10), which icmp_send does not answer either (measured:
// no time exceeded for a router advertisement).
bool icmp_is_error(std::uint8_t type) {
  switch (type) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 9: case 10: case 11: case 12: return true;
    default: return false;
  }
}

// nf_reject_iphdr_validate: a whole IPv4 header within skb->len.
bool device_header_ok(std::span<const std::uint8_t> pkt) {
  if (pkt.size() < 20) return false;
  if ((pkt[0] & 0x0f) < 5 || (pkt[0] >> 4) != 4) return false;
  std::uint32_t tot = load_be16(&pkt[2]);
  if (pkt.size() < tot || tot < ihl_bytes(pkt)) return false;
  return ihl_bytes(pkt) <= pkt.size();
}

// The IP stack's packets had their header checked by ip_rcv (or the inet
// ingress validation); this only keeps the reads inside `pkt`.
bool stack_header_ok(std::span<const std::uint8_t> pkt) {
  return pkt.size() >= 20 && (pkt[0] >> 4) == 4 && (pkt[0] & 0x0f) >= 5 && ihl_bytes(pkt) <= pkt.size();
}

// nf_reject_iphdr_put: 20 bytes, tos 0, id 0, DF, addresses swapped.
void put_reply_header(Bytes& out, std::span<const std::uint8_t> pkt, std::uint8_t proto) {
  out.assign(20, 0);
  out[0] = 0x45;
  store_be16(&out[6], 0x4000);
  out[8] = kTtl;
  out[9] = proto;
  std::memcpy(&out[12], &pkt[16], 4);
  std::memcpy(&out[16], &pkt[12], 4);
}

void finish_header(Bytes& out) {
  store_be16(&out[2], static_cast<std::uint16_t>(out.size()));
  store_be16(&out[10], 0);
  store_be16(&out[10], ipv4_header_checksum({out.data(), 20}));
}

// nf_reject_ip_tcphdr_get: the TCP header to answer, or nullptr.
const std::uint8_t* tcp_to_answer(std::span<const std::uint8_t> pkt) {
  if (non_first_fragment(pkt) || pkt[9] != kIpProtoTcp) return nullptr;
  std::uint32_t th = ihl_bytes(pkt);
  if (!fits(th, 20, pkt.size())) return nullptr;
  const std::uint8_t* oth = &pkt[th];
  if (oth[13] & 0x04) return nullptr;  // no RST for a RST
  if (!nf_ip_checksum_ok(pkt, th, kIpProtoTcp)) return nullptr;
  return oth;
}

// The reply quotes `len` bytes; the checksum check runs on the packet
// trimmed to its IP length (pskb_trim_rcsum), where the verifier wants one.
bool unreach_checksum_ok(std::span<const std::uint8_t> trimmed) {
  std::uint32_t th = ihl_bytes(trimmed);
  std::uint8_t proto = trimmed[9];
  return !nf_reject_verify_csum(trimmed, th, proto) || nf_ip_checksum_ok(trimmed, th, proto);
}

Bytes icmp_reply(std::span<const std::uint8_t> pkt, std::span<const std::uint8_t> quote, std::uint8_t code,
                 std::uint8_t type = kIcmpDestUnreach, std::uint32_t info = 0) {
  Bytes out;
  put_reply_header(out, pkt, kIpProtoIcmp);
  out.insert(out.end(), {type, code, 0, 0, static_cast<std::uint8_t>(info >> 24), static_cast<std::uint8_t>(info >> 16),
                         static_cast<std::uint8_t>(info >> 8), static_cast<std::uint8_t>(info)});
  out.insert(out.end(), quote.begin(), quote.end());
  store_be16(&out[22], csum_fold(csum_partial({out.data() + 20, out.size() - 20})));
  finish_header(out);
  return out;
}

}  // namespace

namespace detail {

void put_tcp_reset(const std::uint8_t* oth, std::uint32_t payload, std::uint8_t* out) {
  std::memset(out, 0, 20);
  std::memcpy(out, oth + 2, 2);
  std::memcpy(out + 2, oth, 2);
  out[12] = 5 << 4;
  std::uint8_t flags = 0x04;  // RST
  if (oth[13] & 0x10) {       // ACK: the reset takes the acknowledged sequence number
    std::memcpy(out + 4, oth + 8, 4);
  } else {
    std::uint32_t ack = load_be32(oth + 4) + ((oth[13] >> 1) & 1) + (oth[13] & 1) + payload;
    for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<std::uint8_t>(ack >> (24 - 8 * i));
    flags |= 0x10;
  }
  out[13] = flags;
}

}  // namespace detail

std::uint8_t reject_icmpx_code_v4(std::uint8_t icmpx) {
  static constexpr std::uint8_t kCodes[4] = {0, 3, 1, 13};  // net, port, host unreachable; filtered
  return icmpx < 4 ? kCodes[icmpx] : 0;
}

// DCCP is checked like any other protocol: kernel 6.16 retired DCCP, and
// with it its place in this list (measured with nfx_difftest: no reject
// reply for a DCCP packet whose payload does not sum to zero).
bool nf_reject_verify_csum(std::span<const std::uint8_t> pkt, std::uint32_t dataoff, std::uint8_t proto) {
  switch (proto) {
    case kIpProtoUdp:  // optional checksum: zero means none
      return !fits(dataoff, 8, pkt.size()) || load_be16(&pkt[dataoff + 6]) != 0;
    case kIpProtoGre:
    case kIpProtoAh:
    case kIpProtoEsp:
    case kIpProtoSctp:
    case kIpProtoUdplite:
      return false;
  }
  return true;
}

bool nf_ip_checksum_ok(std::span<const std::uint8_t> pkt, std::uint32_t dataoff, std::uint8_t proto) {
  if (pkt.size() < 20 || dataoff > pkt.size()) return false;
  std::uint32_t sum = 0;
  if (proto == kIpProtoTcp || proto == kIpProtoUdp)
    sum = pseudo_header_sum_ipv4(&pkt[12], &pkt[16], proto, static_cast<std::uint32_t>(pkt.size() - dataoff));
  return csum_fold(csum_partial(pkt, sum)) == 0;
}

std::optional<Bytes> reject_ipv4_tcp_reset(std::span<const std::uint8_t> pkt, RejectVia via, const RejectRoute& route) {
  if (via == RejectVia::Device ? !device_header_ok(pkt) : !stack_header_ok(pkt)) return std::nullopt;
  const std::uint8_t* oth = tcp_to_answer(pkt);
  if (!oth) return std::nullopt;
  if (via == RejectVia::Stack && route.bcast_mcast) return std::nullopt;
  Bytes out;
  put_reply_header(out, pkt, kIpProtoTcp);
  out.resize(40);
  auto len = static_cast<std::uint32_t>(pkt.size());
  detail::put_tcp_reset(oth, len - ihl_bytes(pkt) - (oth[12] >> 4) * 4u, &out[20]);
  detail::fill_tcp_checksum(&out[20], pseudo_header_sum_ipv4(&out[12], &out[16], kIpProtoTcp, 20));
  finish_header(out);
  return out;
}

std::optional<Bytes> reject_ipv4_unreach(std::span<const std::uint8_t> pkt, std::uint8_t code, RejectVia via,
                                         const RejectRoute& route) {
  if (via == RejectVia::Device) {
    if (!device_header_ok(pkt) || non_first_fragment(pkt)) return std::nullopt;
    // No unreachable for a destination unreachable (nf_skb_is_icmp_unreach),
    // its type read after the whole header, options included (measured:
    // with NOP options a type-3 packet gets no reply, an echo request does).
    std::uint32_t th = ihl_bytes(pkt);
    if (pkt[9] == kIpProtoIcmp && pkt.size() > th && pkt[th] == kIcmpDestUnreach) return std::nullopt;
    std::uint32_t len = std::min<std::uint32_t>(kDeviceQuoteMax, static_cast<std::uint32_t>(pkt.size()));
    // The quote is taken from the untrimmed bytes: its length was fixed
    // before the trim, which only shortens skb->len.
    if (!unreach_checksum_ok(pkt.first(load_be16(&pkt[2])))) return std::nullopt;
    return icmp_reply(pkt, pkt.first(len), code);
  }

  if (!stack_header_ok(pkt) || non_first_fragment(pkt)) return std::nullopt;
  if (!unreach_checksum_ok(pkt)) return std::nullopt;  // nf_send_unreach
  return icmp_send_v4(pkt, kIcmpDestUnreach, code, route);
}

std::optional<Bytes> icmp_send_v4(std::span<const std::uint8_t> pkt, std::uint8_t type, std::uint8_t code,
                                  const RejectRoute& route, std::uint32_t info) {
  if (!stack_header_ok(pkt) || non_first_fragment(pkt)) return std::nullopt;
  if (!route.pkt_host || route.bcast_mcast) return std::nullopt;
  if (pkt[9] == kIpProtoIcmp) {
    std::uint32_t th = ihl_bytes(pkt);
    if (th >= pkt.size()) return std::nullopt;
    if (pkt[th] > kNrIcmpTypes || icmp_is_error(pkt[th])) return std::nullopt;
  }
  std::uint32_t len = std::min<std::uint32_t>(kIcmpSendRoom, static_cast<std::uint32_t>(pkt.size()));
  Bytes out = icmp_reply(pkt, pkt.first(len), code, type, info);
  out[1] = static_cast<std::uint8_t>((pkt[1] & 0x1e) | 0xc0);  // RT_TOS | IPTOS_PREC_INTERNETCONTROL
  store_be16(&out[6], 0);                                       // no DF (the ICMP socket's PMTUDISC_DONT)
  std::memcpy(&out[12], route.icmp_saddr, 4);
  finish_header(out);
  return out;
}

}  // namespace nfx::packet
