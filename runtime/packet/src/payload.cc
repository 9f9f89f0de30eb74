// Payload loads with the kernel's bounds (nft_payload_eval): where each
// base starts, and when a load breaks the rule instead of reading.
#include <nfx/packet.h>

#include <cstring>

#include "internal.h"

namespace nfx::packet {

std::optional<std::uint32_t> payload_base_offset(std::span<const std::uint8_t> frame,
                                                 const PacketLayout& layout, PayloadBase base) {
  if (!layout.link_ok) return std::nullopt;
  switch (base) {
    case PayloadBase::Link:
      // skb_mac_header_was_set and skb_mac_header_len != 0. The VLAN tag the
      // kernel rebuilds (nft_payload_copy_vlan) is inline in our bytes.
      if (layout.mac_off < 0 || layout.nh_off <= static_cast<std::uint32_t>(layout.mac_off))
        return std::nullopt;
      return static_cast<std::uint32_t>(layout.mac_off);
    case PayloadBase::Network: return layout.nh_off;
    case PayloadBase::Transport:
      if (!layout.l4_valid || layout.fragoff != 0) return std::nullopt;
      return layout.th_off;
    case PayloadBase::Inner: {
      // nft_payload_inner_offset: after the UDP header, the whole TCP header,
      // a version-0 GRE header without routing (plus its checksum, key and
      // sequence words), or right at an IP-in-IP packet.
      if (!layout.l4_valid || layout.fragoff != 0) return std::nullopt;
      const std::uint32_t end = detail::data_end(frame, layout);
      switch (layout.l4proto) {
        case kIpProtoUdp: return layout.th_off + 8;
        case kIpProtoTcp:
          if (!detail::fits(layout.th_off, 20, end)) return std::nullopt;
          return layout.th_off + (frame[layout.th_off + 12] >> 4) * 4u;
        case 4: return layout.th_off;  // IPPROTO_IPIP
        case 47: {                      // IPPROTO_GRE
          if (!detail::fits(layout.th_off, 4, end)) return std::nullopt;
          const std::uint8_t flags = frame[layout.th_off], version = frame[layout.th_off + 1] & 0x07;
          if (version != 0 || (flags & 0x40)) return std::nullopt;  // GRE_VERSION_0, no GRE_ROUTING
          std::uint32_t off = 4;
          if (flags & 0x80) off += 4;  // GRE_CSUM: checksum and reserved
          if (flags & 0x20) off += 4;  // GRE_KEY
          if (flags & 0x10) off += 4;  // GRE_SEQ
          return layout.th_off + off;
        }
        default: return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

bool payload_load(std::span<const std::uint8_t> frame, const PacketLayout& layout,
                  PayloadBase base, std::uint32_t offset, std::uint32_t len, std::uint8_t* out) {
  const std::optional<std::uint32_t> start = payload_base_offset(frame, layout, base);
  if (!start) return false;
  const std::uint64_t at = std::uint64_t{*start} + offset;
  if (!detail::fits(at, len, detail::data_end(frame, layout))) return false;
  if (len != 0) std::memcpy(out, frame.data() + at, len);

  // nft_payload_copy_vlan rebuilds the encapsulated type from skb->protocol,
  // which differs from the bytes only for an 802.3 length (kEthP8022/8023).
  constexpr std::uint64_t kEncapOff = 16;
  if (base == PayloadBase::Link && layout.vlan_present) {
    const std::uint8_t proto[2] = {static_cast<std::uint8_t>(layout.protocol >> 8),
                                   static_cast<std::uint8_t>(layout.protocol)};
    for (std::uint64_t i = 0; i < 2; ++i) {
      const std::uint64_t pos = layout.mac_off + kEncapOff + i;
      if (pos >= at && pos < at + len) out[pos - at] = proto[i];
    }
  }
  return true;
}

}  // namespace nfx::packet
