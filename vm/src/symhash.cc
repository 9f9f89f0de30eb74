// symhash: the kernel's nft_symhash hashes __skb_get_hash_symmetric, the
// flow dissector's keys (ethertype, IP protocol, addresses, ports) with the
// addresses sorted and the ports sorted, under siphash with a key drawn at
// random once per boot. That key cannot be known, so no one can reproduce the
// kernel's numbers. DELIBERATE DIFFERENCE: nfx hashes the same keys, sorted
// the same way, with jhash under the interpreter's seed. What holds in both:
// both directions of a flow hash alike, and the result is mapped onto
// [offset, offset + mod) with reciprocal_scale, as nft_symhash_eval does.
// Also deliberately simpler: only the outermost IP header is dissected (no
// tunnels, no MPLS), like a dissector that stops at the first transport.
#include <algorithm>
#include <cstring>

#include "state.h"

namespace nfx::vm {

namespace {

// proto_ports_offset: where the 4 "port" bytes sit in the transport header.
int ports_offset(uint8_t proto) {
  switch (proto) {
    case 6: case 17: case 33: case 50: case 132: case 136:  // tcp udp dccp esp sctp udplite
      return 0;
    case 51: return 4;  // ah: its SPI
    default: return -1;
  }
}

// Puts the smaller of two equal-length byte strings first (network order).
void sort_pair(uint8_t* a, uint8_t* b, size_t n) {
  if (std::memcmp(a, b, n) > 0) std::swap_ranges(a, a + n, b);
}

}  // namespace

uint32_t symhash(const Packet& pkt, uint32_t key) {
  std::span<const uint8_t> f = pkt.frame.bytes();
  const packet::PacketLayout& l = pkt.layout;
  // n_proto(2) ip_proto(1) pad(1) ports(2+2) addresses(2*16)
  uint8_t keys[8 + 32] = {};
  keys[0] = static_cast<uint8_t>(l.protocol >> 8);
  keys[1] = static_cast<uint8_t>(l.protocol);
  size_t addr_len = l.protocol == packet::kEthPIp ? 4 : l.protocol == packet::kEthPIpv6 ? 16 : 0;
  size_t src_at = addr_len == 4 ? 12 : 8;
  bool have_ip = addr_len && l.l4_valid && l.nh_off + src_at + 2 * addr_len <= l.end;
  if (have_ip) {
    std::memcpy(keys + 8, f.data() + l.nh_off + src_at, addr_len);
    std::memcpy(keys + 8 + addr_len, f.data() + l.nh_off + src_at + addr_len, addr_len);
    sort_pair(keys + 8, keys + 8 + addr_len, addr_len);
    keys[2] = l.l4proto;
    // Fragments carry no ports: the symmetric dissector does not parse even
    // the first one.
    int at = ports_offset(l.l4proto);
    if (at >= 0 && !l.fragment && l.th_off + static_cast<uint32_t>(at) + 4 <= l.end) {
      std::memcpy(keys + 4, f.data() + l.th_off + at, 4);
      sort_pair(keys + 4, keys + 6, 2);
    }
  }
  uint32_t h = jhash(keys, have_ip ? 8 + 2 * addr_len : 8, key);
  return h ? h : 1;  // __flow_hash_from_keys never returns 0
}

}  // namespace nfx::vm
