#include "markers.h"

#include <cstring>

#include "topology.h"

namespace nfx::oracle {

namespace {

constexpr uint8_t kMagic[8] = {'N', 'F', 'X', 'O', 'R', 'A', 'C', 'L'};
constexpr Mac kMarkerSrc = {0x02, 0x6e, 0x66, 0x78, 0xff, 0xfe};
constexpr Mac kBridgeMarkerDst = {0x02, 0x6e, 0x66, 0x78, 0xff, 0xfd};
constexpr uint8_t kMarkerSrcIp[4] = {198, 19, 255, 254};
constexpr uint8_t kForwardMarkerDstIp[4] = {198, 19, 255, 253};
constexpr uint8_t kMarkerProto = 253;
constexpr uint16_t kEchoId = 0x6e66;

void put16(Frame& f, size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}
uint16_t get16(std::span<const uint8_t> f, size_t at) { return static_cast<uint16_t>(f[at] << 8 | f[at + 1]); }

uint16_t checksum(std::span<const uint8_t> b) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += static_cast<uint32_t>(b[i] << 8 | b[i + 1]);
  if (b.size() % 2) sum += static_cast<uint32_t>(b.back() << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// 16 bytes: magic + big-endian number.
void put_tag(Frame& f, size_t at, uint64_t seq) {
  std::memcpy(&f[at], kMagic, 8);
  for (int i = 0; i < 8; ++i) f[at + 8 + static_cast<size_t>(i)] = static_cast<uint8_t>(seq >> (56 - 8 * i));
}
std::optional<uint64_t> get_tag(std::span<const uint8_t> f, size_t at) {
  if (f.size() < at + 16 || std::memcmp(&f[at], kMagic, 8) != 0) return std::nullopt;
  uint64_t seq = 0;
  for (size_t i = 0; i < 8; ++i) seq = seq << 8 | f[at + 8 + i];
  return seq;
}

Frame ether(const Mac& dst, const Mac& src, uint16_t type, size_t payload) {
  Frame f(14 + payload, 0);
  std::memcpy(&f[0], dst.data(), 6);
  std::memcpy(&f[6], src.data(), 6);
  put16(f, 12, type);
  return f;
}

// IPv4 header at offset 14 (20 bytes, no options), checksum filled in.
void ipv4(Frame& f, uint8_t proto, const uint8_t* src, const uint8_t* dst) {
  size_t total = f.size() - 14;
  f[14] = 0x45;
  put16(f, 16, static_cast<uint16_t>(total));
  f[22] = 64;
  f[23] = proto;
  std::memcpy(&f[26], src, 4);
  std::memcpy(&f[30], dst, 4);
  put16(f, 24, checksum(std::span<const uint8_t>(f).subspan(14, 20)));
}

bool is_ipv4(std::span<const uint8_t> f) { return f.size() >= 34 && get16(f, 12) == 0x0800 && f[14] == 0x45; }

}  // namespace

Frame bridge_marker(uint64_t seq) {
  Frame f = ether(kBridgeMarkerDst, kMarkerSrc, kMarkerEthertype, 46);
  put_tag(f, 14, seq);
  return f;
}

Frame forward_marker(uint64_t seq) {
  Frame f = ether(kTap0Mac, kMarkerSrc, 0x0800, 20 + 16);
  ipv4(f, kMarkerProto, kMarkerSrcIp, kForwardMarkerDstIp);
  put_tag(f, 34, seq);
  return f;
}

Frame echo_marker(uint64_t seq) {
  Frame f = ether(kTap0Mac, kMarkerSrc, 0x0800, 20 + 8 + 16);
  ipv4(f, 1, kMarkerSrcIp, kTap0Ip.data());
  f[34] = 8;  // echo request
  put16(f, 38, kEchoId);
  put16(f, 40, static_cast<uint16_t>(seq));
  put_tag(f, 42, seq);
  put16(f, 36, checksum(std::span<const uint8_t>(f).subspan(34)));
  return f;
}

std::optional<uint64_t> bridge_marker_seq(std::span<const uint8_t> f) {
  if (f.size() < 30 || std::memcmp(&f[6], kMarkerSrc.data(), 6) != 0 || get16(f, 12) != kMarkerEthertype)
    return std::nullopt;
  return get_tag(f, 14);
}

std::optional<uint64_t> forward_marker_seq(std::span<const uint8_t> f) {
  if (!is_ipv4(f) || f[23] != kMarkerProto || std::memcmp(&f[26], kMarkerSrcIp, 4) != 0) return std::nullopt;
  return get_tag(f, 34);
}

std::optional<uint64_t> echo_reply_seq(std::span<const uint8_t> f) {
  if (!is_ipv4(f) || f[23] != 1 || std::memcmp(&f[30], kMarkerSrcIp, 4) != 0 || f.size() < 42 || f[34] != 0 ||
      get16(f, 38) != kEchoId)
    return std::nullopt;
  return get_tag(f, 42);
}

std::optional<uint64_t> echo_request_seq_ip(std::span<const uint8_t> p) {
  if (p.size() < 28 || p[0] != 0x45 || p[9] != 1 || std::memcmp(&p[12], kMarkerSrcIp, 4) != 0 || p[20] != 8 ||
      get16(p, 24) != kEchoId)
    return std::nullopt;
  return get_tag(p, 28);
}

std::optional<std::string> marker_collision(std::span<const uint8_t> f, bool bridge) {
  if (bridge) {
    if (f.size() >= 14 && std::memcmp(&f[6], kMarkerSrc.data(), 6) == 0 && get16(f, 12) == kMarkerEthertype)
      return std::string("its source MAC and ethertype are the oracle's marker (") + kMarkerMac + ", 0x88b5)";
    return std::nullopt;
  }
  if (f.size() >= 34 && get16(f, 12) == 0x0800 &&
      (std::memcmp(&f[26], kMarkerSrcIp, 4) == 0 || std::memcmp(&f[30], kMarkerSrcIp, 4) == 0))
    return std::string("it uses the oracle's marker address ") + kMarkerIp;
  return std::nullopt;
}

}  // namespace nfx::oracle
