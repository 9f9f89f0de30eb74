// The network the oracle builds inside its namespace. Addresses and MACs
// are fixed so that tests (and nfx's own model of the same network) can
// address frames to it:
//
//   bridge:  tap0 and tap1 are ports of br0 (02:6e:66:78:00:05); STP,
//            learning and multicast snooping off, flooding on, IPv6 off
//            everywhere, br_netfilter's call-iptables off. Every frame is
//            flooded from tap0 to tap1 unchanged, except what the bridge
//            keeps: frames for br0's MAC, invalid source MACs, link-local
//            01:80:c2:00:00:0X groups (but :00 is forwarded with STP off).
//
//   router (forward and input paths):
//            tap0 02:6e:66:78:00:01  198.18.0.1/32, fd6e:6678::1/128   "inside"
//            tap1 02:6e:66:78:00:02  198.18.1.1/32                     "outside"
//            forwarded traffic:  default via 198.18.1.2 / fe80::2 on tap1,
//                                neighbour 02:6e:66:78:00:03 (permanent)
//            traffic the kernel sends itself (ICMP errors, echo replies,
//            resets): policy rule `iif lo lookup 100`, whose default route
//            is via 198.18.0.2 / fe80::2 on tap0, neighbour 02:6e:66:78:00:04
//            (permanent) -- so replies never come out of tap1.
//            No link-local addresses, no DAD, no router solicitations,
//            permanent neighbours, multicast off on the taps (so they never
//            join ff02::2): the kernel sends nothing on its own, except the
//            MLD reports on tap0 for fd6e:6678::1's solicited-node group
//            (joined so that neighbour solicitations for it are answered):
//            MLDv1 sends exactly two when tap0 comes up (the join, and its
//            repeat after a delay below one jiffy); the oracle awaits both
//            before the ruleset is loaded, so no chain ever sees them.
#pragma once

#include <array>
#include <cstdint>

#include "tap.h"

namespace nfx::oracle {

using Mac = std::array<uint8_t, 6>;

inline constexpr Mac kTap0Mac = {0x02, 0x6e, 0x66, 0x78, 0x00, 0x01};
inline constexpr Mac kTap1Mac = {0x02, 0x6e, 0x66, 0x78, 0x00, 0x02};
inline constexpr Mac kOutsideGatewayMac = {0x02, 0x6e, 0x66, 0x78, 0x00, 0x03};
inline constexpr Mac kInsideGatewayMac = {0x02, 0x6e, 0x66, 0x78, 0x00, 0x04};
inline constexpr Mac kBridgeMac = {0x02, 0x6e, 0x66, 0x78, 0x00, 0x05};

inline constexpr std::array<uint8_t, 4> kTap0Ip = {198, 18, 0, 1};

// Sysctls and devices for the bridge path (taps must already exist).
void setup_bridge();

// Sysctls, addresses and routes for the forward and input paths. Part of
// the sysctls must be written before the taps exist, part after: call
// prepare_router() first, then create the taps, then setup_router().
void prepare_router();
void setup_router();

// Reads tap0's two MLD reports after setup_router(), then makes sure tap0
// stays quiet; throws if anything else, or too little, comes.
void await_mld_reports(Tap& tap0);

// Sysctls common to both, written before any device is created.
void prepare_common();

}  // namespace nfx::oracle
