// Lookups behind nft's exthdr expression: IPv6 extension headers, TCP
// options, IPv4 options and SCTP chunks (nft_exthdr.c).
#include <nfx/packet.h>

#include "internal.h"

namespace nfx::packet {
namespace {

using detail::fits;
using detail::load_be16;

constexpr std::uint32_t kTcpHdrLen = 20;
constexpr std::uint32_t kTcpMaxHdrLen = 60;  // 20 + MAX_TCP_OPTION_SPACE
constexpr std::uint32_t kSctpHdrLen = 12;
constexpr std::uint32_t kIpHdrLen = 20;

// IPv4 option types __ip_options_compile knows.
constexpr std::uint8_t kIpOptEnd = 0;
constexpr std::uint8_t kIpOptNoop = 1;
constexpr std::uint8_t kIpOptTimestamp = 68;
constexpr std::uint8_t kIpOptCipso = 134;
constexpr std::uint8_t kIpOptTsPrespec = 3;
constexpr std::uint8_t kIpOptTsTsandaddr = 1;
constexpr std::uint8_t kIpOptTsTsonly = 0;

// The options __ip_options_compile records, as offsets from the IP header.
struct CompiledOptions {
  std::uint32_t srr = 0;
  bool is_strictroute = false;
  std::uint32_t rr = 0;
  std::uint32_t ts = 0;
  std::uint32_t router_alert = 0;
  bool cipso = false;
};

// __ip_options_compile(net, opt, NULL, &info) over `optlen` option bytes at
// `opts` (the header is 20 bytes before them). False where it fails. It is
// called without an skb, so there is no route to record into; unknown
// options pass only for a CAP_NET_RAW context, which the hooks run in.
bool compile_ip_options(const std::uint8_t* opts, std::uint32_t optlen, CompiledOptions& o) {
  std::uint32_t pos = 0;
  std::uint32_t l = optlen;
  while (l > 0) {
    const std::uint8_t* p = opts + pos;
    if (p[0] == kIpOptEnd) return true;
    if (p[0] == kIpOptNoop) {
      ++pos;
      --l;
      continue;
    }
    if (l < 2) return false;
    const std::uint32_t len = p[1];
    if (len < 2 || len > l) return false;
    const std::uint32_t at = kIpHdrLen + pos;
    switch (p[0]) {
      case kIpOptSsrr:
      case kIpOptLsrr:
        if (len < 3 || p[2] < 4 || o.srr != 0) return false;
        // Without an skb the route must start at the first address and be
        // whole addresses.
        if (p[2] != 4 || len < 7 || ((len - 3) & 3) != 0) return false;
        o.is_strictroute = p[0] == kIpOptSsrr;
        o.srr = at;
        break;
      case kIpOptRr:
        if (o.rr != 0 || len < 3 || p[2] < 4) return false;
        if (p[2] <= len && p[2] + 3u > len) return false;
        o.rr = at;
        break;
      case kIpOptTimestamp:
        if (o.ts != 0 || len < 4 || p[2] < 5) return false;
        if (p[2] <= len) {
          if (p[2] + 3u > len) return false;
          switch (p[3] & 0x0f) {
            case kIpOptTsTsonly: break;
            case kIpOptTsTsandaddr:
            case kIpOptTsPrespec:
              if (p[2] + 7u > len) return false;
              break;
            default: break;  // accepted with CAP_NET_RAW
          }
        } else if ((p[3] & 0x0f) != kIpOptTsPrespec && (p[3] >> 4) == 15) {
          return false;  // the overflow counter is full
        }
        o.ts = at;
        break;
      case kIpOptRa:
        if (len < 4) return false;
        if (p[2] == 0 && p[3] == 0) o.router_alert = at;
        break;
      case kIpOptCipso:
        // cipso_v4_validate fails when no DOI is configured (or without
        // NetLabel), and a second CIPSO option fails anyway.
        return false;
      default: break;  // SEC, SID and unknown options: CAP_NET_RAW
    }
    pos += len;
    l -= len;
  }
  return true;
}

}  // namespace

std::optional<std::uint32_t> find_ipv6_exthdr(std::span<const std::uint8_t> frame,
                                              const PacketLayout& layout, std::uint8_t target) {
  if (!layout.link_ok || layout.protocol != kEthPIpv6) return std::nullopt;
  const std::uint32_t end = detail::data_end(frame, layout);
  // ipv6_find_hdr reads the fixed header unchecked; every hook that gets
  // here has it, so a frame without it finds nothing.
  if (!fits(layout.nh_off, 40, end)) return std::nullopt;
  std::uint32_t offset = 0;
  if (detail::ipv6_find_hdr(frame.data(), layout.nh_off, end, target, &offset, nullptr, nullptr,
                            false) < 0)
    return std::nullopt;
  return offset;
}

std::optional<OptionRef> find_tcp_option(std::span<const std::uint8_t> frame,
                                         const PacketLayout& layout, std::uint8_t kind) {
  // nft_tcp_header_pointer: tprot is 0 without L4PROTO.
  if (!layout.link_ok || !layout.l4_valid || layout.l4proto != kIpProtoTcp || layout.fragoff != 0)
    return std::nullopt;
  const std::uint32_t end = detail::data_end(frame, layout);
  if (!fits(layout.th_off, kTcpHdrLen, end)) return std::nullopt;
  const std::uint8_t* th = frame.data() + layout.th_off;
  const std::uint32_t hdrlen = (th[12] >> 4) * 4u;
  if (hdrlen < kTcpHdrLen || hdrlen > kTcpMaxHdrLen) return std::nullopt;
  if (!fits(layout.th_off, hdrlen, end)) return std::nullopt;

  // The last header byte is never looked at (i < hdrlen - 1).
  for (std::uint32_t i = kTcpHdrLen; i < hdrlen - 1;) {
    // Beware zero-length options: make finite progress (the kernel's optlen()).
    const std::uint32_t optl = (th[i] <= 1 || th[i + 1] == 0) ? 1 : th[i + 1];
    if (th[i] == kind) {
      if (i + optl > hdrlen) return std::nullopt;
      return OptionRef{layout.th_off + i, optl};
    }
    i += optl;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> find_ipv4_option(std::span<const std::uint8_t> frame,
                                              const PacketLayout& layout, std::uint8_t type) {
  if (!layout.link_ok || layout.protocol != kEthPIp) return std::nullopt;
  const std::uint32_t end = detail::data_end(frame, layout);
  if (!fits(layout.nh_off, kIpHdrLen, end)) return std::nullopt;  // -EBADMSG
  const std::uint8_t* iph = frame.data() + layout.nh_off;
  const int optlen = (iph[0] & 0x0f) * 4 - static_cast<int>(kIpHdrLen);
  if (optlen <= 0) return std::nullopt;  // -ENOENT
  if (!fits(layout.nh_off + kIpHdrLen, static_cast<std::uint32_t>(optlen), end))
    return std::nullopt;  // -EBADMSG

  CompiledOptions o;
  if (!compile_ip_options(iph + kIpHdrLen, static_cast<std::uint32_t>(optlen), o))
    return std::nullopt;

  std::uint32_t at = 0;
  switch (type) {
    case kIpOptSsrr:
    case kIpOptLsrr:
      if (o.srr != 0 && o.is_strictroute == (type == kIpOptSsrr)) at = o.srr;
      break;
    case kIpOptRr: at = o.rr; break;
    case kIpOptRa: at = o.router_alert; break;
    default: return std::nullopt;  // -EOPNOTSUPP
  }
  if (at == 0) return std::nullopt;
  return layout.nh_off + at;
}

std::optional<OptionRef> find_sctp_chunk(std::span<const std::uint8_t> frame,
                                         const PacketLayout& layout, std::uint8_t type) {
  // nft_exthdr_sctp_eval checks the protocol but not the fragment offset: a
  // non-first fragment's data is walked as chunks (measured with
  // nfx_difftest; TCP options, by contrast, are not looked for there).
  if (!layout.link_ok || !layout.l4_valid || layout.l4proto != kIpProtoSctp) return std::nullopt;
  const std::uint64_t end = detail::data_end(frame, layout);
  std::uint64_t offset = std::uint64_t{layout.th_off} + kSctpHdrLen;
  do {
    if (!fits(offset, 4, end)) break;
    const std::uint8_t* ch = frame.data() + offset;
    const std::uint32_t length = load_be16(ch + 2);
    if (length == 0) break;
    if (ch[0] == type) return OptionRef{static_cast<std::uint32_t>(offset), length};
    offset += (length + 3u) & ~3u;  // SCTP_PAD4
  } while (offset < end);
  return std::nullopt;
}

}  // namespace nfx::packet
