// The `packet:` line of a trace. The kernel sends up to 16 bytes of link
// header, up to 40 of network header (ending at the transport header) and up
// to 20 of transport header; nft decodes them into payload expressions per
// protocol, leaves out filtered fields (versions, lengths of headers,
// checksums, TCP sequence numbers...), drops a protocol field when the next
// header's fields make it implicit, and prints what is left over as a raw
// `@nh,OFF,LEN 0x...` / `@th,OFF,LEN 0x...`. The field lists and their order
// below are what nft 1.0.6 printed on kernel 6.18 for these protocols.
#include <fmt/format.h>

#include "trace.h"
#include "types.h"

namespace nfx::cli {

namespace {

using Bytes = std::vector<uint8_t>;

struct Out {
  std::string text;
  void add(const std::string& field, const char* dtype, const Bytes& be, unsigned bits) {
    const Datatype* dt = find_datatype(dtype);
    Value v = Value::from_bytes(be, bits);
    text += field + " " + (dt ? print_value(*dt, v, PrintOptions{}) : std::string("?")) + " ";
  }
  void num(const std::string& field, const char* dtype, uint64_t n, unsigned bits) {
    Bytes be((bits + 7) / 8);
    for (size_t i = be.size(); i-- > 0; n >>= 8) be[i] = static_cast<uint8_t>(n);
    add(field, dtype, be, bits);
  }
  // A raw payload expression for the bytes nft has no field for.
  void raw(const char* base, size_t off_bytes, const uint8_t* p, size_t n) {
    if (n == 0) return;
    std::string hex;
    for (size_t i = 0; i < n; ++i) hex += fmt::format("{:02x}", p[i]);
    size_t nz = hex.find_first_not_of('0');
    hex = nz == std::string::npos ? "0" : hex.substr(nz);
    text += fmt::format("@{},{},{} 0x{} ", base, off_bytes * 8, n * 8, hex);
  }
};

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
Bytes slice(const uint8_t* p, size_t n) { return Bytes(p, p + n); }

// Transport header fields; false when nft would not decode this protocol.
bool transport(Out& o, uint8_t proto, const uint8_t* p, size_t n) {
  switch (proto) {
    case 6: {  // tcp: sequence, ackseq, doff, reserved, checksum, urgptr filtered
      if (n < 20) return false;
      o.num("tcp sport", "inet_service", be16(p), 16);
      o.num("tcp dport", "inet_service", be16(p + 2), 16);
      uint8_t f = p[13];
      if (f && !(f & (f - 1))) o.num("tcp flags ==", "tcp_flag", f, 8);
      else o.text += fmt::format("tcp flags == 0x{:x} ", f);
      o.num("tcp window", "integer", be16(p + 14), 16);
      return true;
    }
    case 17: {  // udp: checksum filtered
      if (n < 8) return false;
      o.num("udp sport", "inet_service", be16(p), 16);
      o.num("udp dport", "inet_service", be16(p + 2), 16);
      o.num("udp length", "integer", be16(p + 4), 16);
      o.raw("th", 8, p + 8, n - 8);
      return true;
    }
    case 1:  // icmp: the templates at offset 4 are id and sequence, whatever the type
      if (n < 8) return false;
      o.num("icmp type", "icmp_type", p[0], 8);
      o.num("icmp code", "reject_icmp_code", p[1], 8);  // printed by name, unlike in listings
      o.num("icmp id", "integer", be16(p + 4), 16);
      o.num("icmp sequence", "integer", be16(p + 6), 16);
      o.raw("th", 8, p + 8, n - 8);
      return true;
    case 58:  // icmpv6: the template at offset 4 is parameter-problem
      if (n < 8) return false;
      o.num("icmpv6 type", "icmpv6_type", p[0], 8);
      o.num("icmpv6 code", "reject_icmpv6_code", p[1], 8);
      o.num("icmpv6 parameter-problem", "integer",
            static_cast<uint64_t>(be16(p + 4)) << 16 | be16(p + 6), 32);
      o.raw("th", 8, p + 8, n - 8);
      return true;
  }
  return false;
}

}  // namespace

std::string trace_packet_fields(const std::string& family, const vm::Packet& pkt) {
  Out o;
  const vm::PacketMeta& m = pkt.meta;
  if (m.iif) o.text += fmt::format("iif \"{}\" ", m.iifname);
  if (m.oif) o.text += fmt::format("oif \"{}\" ", m.oifname);
  const packet::PacketLayout& l = pkt.layout;
  std::span<const uint8_t> f = pkt.frame.bytes();
  // A received frame keeps its Ethernet header; a locally sent one has none yet.
  if (l.link == packet::LinkType::Ethernet && l.mac_off == 0 && m.iif && f.size() >= 14) {
    o.add("ether saddr", "ether_addr", slice(f.data() + 6, 6), 48);
    o.add("ether daddr", "ether_addr", slice(f.data(), 6), 48);
    if (l.protocol != packet::kEthPIp && l.protocol != packet::kEthPIpv6) o.num("ether type", "ether_type", l.protocol, 16);
  }
  uint32_t nh_end = std::min<uint32_t>(l.l4_valid ? l.th_off : l.end, l.end);
  if (nh_end <= l.nh_off) return o.text;
  const uint8_t* nh = f.data() + l.nh_off;
  size_t nh_len = std::min<size_t>(nh_end - l.nh_off, 40);
  // In ip and ip6 tables the protocol field goes when the transport header
  // is decoded; inet, bridge and netdev tables keep it.
  bool keep_proto = family != "ip" && family != "ip6";
  Out th;
  bool decoded = false;
  if (l.l4_valid && !(l.protocol == packet::kEthPIpv6 && l.fragoff)) {
    size_t th_len = l.th_off < l.end ? std::min<size_t>(l.end - l.th_off, 20) : 0;
    decoded = transport(th, l.l4proto, f.data() + l.th_off, th_len);
    if (!decoded) th.raw("th", 0, f.data() + l.th_off, th_len);
  }
  if (l.protocol == packet::kEthPIp && nh_len >= 20) {
    o.add("ip saddr", "ipv4_addr", slice(nh + 12, 4), 32);
    o.add("ip daddr", "ipv4_addr", slice(nh + 16, 4), 32);
    o.num("ip dscp", "dscp", nh[1] >> 2, 6);
    o.num("ip ecn", "ecn", nh[1] & 3, 2);
    o.num("ip ttl", "integer", nh[8], 8);
    o.num("ip id", "integer", be16(nh + 4), 16);
    if (keep_proto || !decoded) o.num("ip protocol", "inet_proto", nh[9], 8);
    o.num("ip length", "integer", be16(nh + 2), 16);
    o.raw("nh", 20, nh + 20, nh_len - 20);  // options
  } else if (l.protocol == packet::kEthPIpv6 && nh_len >= 40) {
    uint32_t w = static_cast<uint32_t>(nh[0]) << 24 | nh[1] << 16 | nh[2] << 8 | nh[3];
    o.add("ip6 saddr", "ipv6_addr", slice(nh + 8, 16), 128);
    o.add("ip6 daddr", "ipv6_addr", slice(nh + 24, 16), 128);
    o.num("ip6 dscp", "dscp", (w >> 22) & 0x3f, 6);
    o.num("ip6 ecn", "ecn", (w >> 20) & 3, 2);
    o.num("ip6 hoplimit", "integer", nh[7], 8);
    o.num("ip6 flowlabel", "integer", w & 0xfffff, 20);
    if (keep_proto || !decoded) o.num("ip6 nexthdr", "inet_proto", nh[6], 8);
    o.num("ip6 length", "integer", be16(nh + 4), 16);
  } else {
    o.raw("nh", 0, nh, nh_len);
  }
  return o.text + th.text;
}

}  // namespace nfx::cli
