// NAT as nf_nat does it: a binding per connection and manip type, made
// once by the first packet (from a nat chain's snat/dnat/masquerade/redirect
// or, when no rule binds it, a null binding), recorded by rewriting the
// connection's reply tuple; every packet of the connection is then rewritten
// from its tuples, in both directions, with incremental checksum updates.
//
// The hooks: destination NAT in prerouting and output (priority -100),
// source NAT in postrouting and input (100). The pipeline runs the nat
// chains there; this library makes the bindings and rewrites the packets.
#pragma once

#include <nfx/conntrack.h>
#include <nfx/packet.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <span>

namespace nfx::nat {

enum class Manip : uint8_t { Src, Dst };

// Where the packet is (enum nf_inet_hooks, the four NAT hooks).
enum class Hook : uint8_t { Prerouting, Input, Output, Postrouting };
// HOOK2MANIP: source NAT in postrouting and input, destination NAT before routing.
Manip manip_of(Hook h);

// NF_NAT_RANGE_* flags.
enum RangeFlags : uint32_t {
  kMapIps = 1u << 0,
  kProtoSpecified = 1u << 1,
  kProtoRandom = 1u << 2,
  kPersistent = 1u << 3,
  kProtoRandomFully = 1u << 4,
  kProtoOffset = 1u << 5,
  kNetmap = 1u << 6,
};
inline constexpr uint32_t kProtoRandomAll = kProtoRandom | kProtoRandomFully;

// struct nf_nat_range2: addresses (IPv4 in the first 4 bytes) and
// transport ids (ports, ICMP ids; host order), both bounds included.
struct Range {
  uint32_t flags = 0;
  std::array<uint8_t, 16> min_addr{}, max_addr{};
  uint16_t min_proto = 0, max_proto = 0;
  uint16_t base_proto = 0;  // kProtoOffset: the port the range is an offset from
};

// The state NAT keeps beside the conntrack table: the source bindings by
// original source (nf_nat_bysource), so a client keeps its translated
// address and port across connections, and the random source for port
// searches. Shared, like the table, by a reloaded ruleset.
class Nat {
 public:
  explicit Nat(uint64_t seed = 0);
  ~Nat();
  Nat(const Nat&) = delete;
  Nat& operator=(const Nat&) = delete;

  // nf_nat_setup_info: binds `ct` (unconfirmed, not yet bound for `m`) to a
  // tuple within `range`, unique in `table`: the original one when it is
  // free and in range, else a source already mapped for the same client,
  // else an address of the range (by a hash of the addresses) with a free
  // transport id. False when the connection is already bound for `m` (the
  // packet is to be dropped). `now_ns`: entries expired by then are free.
  bool setup(conntrack::Table& table, const std::shared_ptr<conntrack::Entry>& ct, const Range& range, Manip m,
             uint64_t now_ns);
  // nf_nat_alloc_null_binding: no translation, but bound, so later chains
  // are not consulted again.
  bool null_binding(conntrack::Table& table, const std::shared_ptr<conntrack::Entry>& ct, Manip m, uint64_t now_ns);

  // Entries in the source index (for tests).
  size_t sources() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// nf_nat_initialized: whether `ct` has its `m` binding.
bool initialized(const conntrack::Entry& ct, Manip m);

// nf_nat_packet: rewrites the packet of `ct` travelling in `dir` for the
// manip of `hook`, if the connection is translated that way. `frame` with
// `layout` (IpStack context); headers do not move. False: the packet is to
// be dropped (its headers are cut short of what must be rewritten).
bool translate(std::span<uint8_t> frame, const packet::PacketLayout& layout, const conntrack::Entry& ct,
               conntrack::Dir dir, Hook hook);

// nf_nat_icmp_reply_translation / nf_nat_icmpv6_reply_translation: an ICMP
// error RELATED to `ct`: the packet inside translated back as the
// connection saw it, the ICMP checksum recomputed, then the outer header as
// a reply. False: the packet is to be dropped.
bool translate_icmp_error(std::span<uint8_t> frame, const packet::PacketLayout& layout, const conntrack::Entry& ct,
                          conntrack::Dir dir, Hook hook);

// Whether the packet is an ICMP or ICMPv6 message (through IPv6 extension
// headers, as nf_nat_ipv6_fn skips them): RELATED ones go to
// translate_icmp_error and never through the nat chains.
bool is_icmp(std::span<const uint8_t> frame, const packet::PacketLayout& layout);

}  // namespace nfx::nat
