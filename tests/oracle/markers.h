// Marker frames: after each test frame the oracle injects a marker that the
// ruleset under test is made unable to drop (see harness.h), then reads
// until the marker comes out. Everything that came out before it belongs
// to the test frame; no timeouts are involved. Each marker carries the test
// frame's number, so a marker can never be mistaken for another.
//
//   bridge marker:  02:6e:66:78:ff:fe -> 02:6e:66:78:ff:fd (unknown unicast,
//                   flooded, never delivered locally), ethertype 0x88b5,
//                   payload "NFXORACL" + 64-bit number.
//   forward marker: IPv4 198.19.255.254 -> 198.19.255.253, protocol 253,
//                   TTL 64, payload as above; routed out of tap1.
//   echo marker:    IPv4 ICMP echo request 198.19.255.254 -> 198.18.0.1,
//                   id 0x6e66, payload as above; delivered locally, so it
//                   reaches the end of the input hook, and its echo reply
//                   comes out of tap0 (see topology.h).
//
// 198.19.255.254 (and the bridge marker's source MAC with ethertype
// 0x88b5) are reserved to the oracle: input frames using them are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "tap.h"

namespace nfx::oracle {

inline constexpr const char* kMarkerIp = "198.19.255.254";
inline constexpr const char* kMarkerMac = "02:6e:66:78:ff:fe";
inline constexpr uint16_t kMarkerEthertype = 0x88b5;

Frame bridge_marker(uint64_t seq);
Frame forward_marker(uint64_t seq);
Frame echo_marker(uint64_t seq);

// Each returns the marker's number if the frame is that kind of marker as it
// leaves the kernel (forward: after TTL decrement and MAC rewrite; echo: the
// reply on tap0).
std::optional<uint64_t> bridge_marker_seq(std::span<const uint8_t> frame);
std::optional<uint64_t> forward_marker_seq(std::span<const uint8_t> frame);
std::optional<uint64_t> echo_reply_seq(std::span<const uint8_t> frame);

// The echo marker's number from its IPv4 packet (no Ethernet header), as
// the NFLOG payload shows it at the input hook.
std::optional<uint64_t> echo_request_seq_ip(std::span<const uint8_t> packet);

// Why an input frame would be taken for a marker, or nothing.
std::optional<std::string> marker_collision(std::span<const uint8_t> frame, bool bridge);

}  // namespace nfx::oracle
