// Helpers shared by the packet library's sources; not part of the API.
#pragma once

#include <nfx/packet.h>

#include <cstddef>
#include <cstdint>

namespace nfx::packet::detail {

inline std::uint16_t load_be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

inline void store_be16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// Whether [off, off + n) lies within [0, end). Written so that no sum can
// wrap: offsets come from packet fields.
inline bool fits(std::uint64_t off, std::uint64_t n, std::uint64_t end) {
  return off <= end && n <= end - off;
}

// The bound every read obeys: the kernel's skb end, never past our bytes.
inline std::uint32_t data_end(std::span<const std::uint8_t> frame, const PacketLayout& l) {
  return frame.size() < l.end ? static_cast<std::uint32_t>(frame.size()) : l.end;
}

// Fills the network and transport fields of `l` for an IPv4 / IPv6 packet
// at l.nh_off (layout_ipv4.cc, layout_ipv6.cc).
void parse_ipv4(const std::uint8_t* data, PacketLayout& l);
void parse_ipv6(const std::uint8_t* data, PacketLayout& l);

// ipv6_find_hdr over data[nh_off, end): `target` -1 finds the last header.
// Returns the header type found, or -1 (-ENOENT/-EBADMSG). On success
// *offset is the absolute offset of that header, except for a non-first
// fragment with target -1, where *offset is left as it was (the kernel
// leaves it 0). *fragoff gets the final fragment offset (bytes), *saw_frag
// whether a fragment header was met (IP6_FH_F_FRAG). stop_at_auth is
// IP6_FH_F_AUTH. The caller guarantees the 40-byte header is readable.
int ipv6_find_hdr(const std::uint8_t* data, std::uint32_t nh_off, std::uint32_t end, int target,
                  std::uint32_t* offset, std::uint16_t* fragoff, bool* saw_frag,
                  bool stop_at_auth);

}  // namespace nfx::packet::detail

namespace nfx::packet::detail {

// The 20-byte TCP header of a reset answering the TCP header `oth` (20
// readable bytes) whose segment carries `payload` bytes after its header
// (nf_reject_ip_tcphdr_put / nf_reject_ip6_tcphdr_put, checksum left 0).
void put_tcp_reset(const std::uint8_t* oth, std::uint32_t payload, std::uint8_t* out);

// The TCP checksum of the 20-byte header `tcp` given its pseudo-header sum.
inline void fill_tcp_checksum(std::uint8_t* tcp, std::uint32_t pseudo) {
  tcp[16] = tcp[17] = 0;
  store_be16(tcp + 16, csum_fold(csum_partial({tcp, 20}, pseudo)));
}

}  // namespace nfx::packet::detail
