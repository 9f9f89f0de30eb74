// nf_log_syslog's packet dump: nf_log_dump_packet_common, dump_mac_header,
// dump_ipv4_packet / dump_ipv6_packet (an ICMP error's quoted packet dumped
// once, in brackets), nf_log_dump_tcp_header / _udp_header, dump_arp_packet.
#include "log_format.h"

#include <fmt/format.h>

#include <span>

namespace nfx::vm {

namespace {

constexpr uint32_t kTcpSeq = 0x01, kTcpOpt = 0x02, kIpOpt = 0x04, kMacDecode = 0x20;

using Span = std::span<const uint8_t>;

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// %pI4, and %pI6: eight groups of four hex digits, nothing compressed
std::string addr(const uint8_t* p, bool v6) {
  if (!v6) return fmt::format("{}.{}.{}.{}", p[0], p[1], p[2], p[3]);
  std::string out;
  for (int i = 0; i < 16; i += 2) out += fmt::format("{}{:02x}{:02x}", i ? ":" : "", p[i], p[i + 1]);
  return out;
}

std::string mac(const uint8_t* p) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", p[0], p[1], p[2], p[3], p[4], p[5]);
}

// What is left of the packet from `off`, when a header there is cut short.
std::string incomplete(Span pkt, uint32_t off) {
  return fmt::format("INCOMPLETE [{} bytes] ", pkt.size() > off ? pkt.size() - off : 0);
}

std::string hex_upper(Span bytes) {
  std::string out;
  for (uint8_t b : bytes) out += fmt::format("{:02X}", b);
  return out;
}

// `pkt` is the whole frame; `off` where the header starts.
bool tcp(std::string& m, Span pkt, uint32_t off, bool fragment, uint32_t flags) {
  m += "PROTO=TCP ";
  if (fragment) return false;
  if (off + 20 > pkt.size()) {
    m += incomplete(pkt, off);
    return true;
  }
  const uint8_t* th = pkt.data() + off;
  m += fmt::format("SPT={} DPT={} ", be16(th), be16(th + 2));
  if (flags & kTcpSeq) m += fmt::format("SEQ={} ACK={} ", be32(th + 4), be32(th + 8));
  m += fmt::format("WINDOW={} ", be16(th + 14));
  m += fmt::format("RES=0x{:02x} ", (be32(th + 12) & 0x0f000000u) >> 22);
  static const char* names[] = {"CWR ", "ECE ", "URG ", "ACK ", "PSH ", "RST ", "SYN ", "FIN "};
  for (int bit = 0; bit < 8; ++bit)
    if (th[13] & (0x80 >> bit)) m += names[bit];
  m += fmt::format("URGP={} ", be16(th + 18));
  uint32_t doff = (th[12] >> 4) * 4u;
  if ((flags & kTcpOpt) && doff > 20) {
    if (off + doff > pkt.size()) {
      m += fmt::format("OPT (TRUNCATED) ");
      return true;
    }
    m += "OPT (" + hex_upper(pkt.subspan(off + 20, doff - 20)) + ") ";
  }
  return false;
}

bool udp(std::string& m, Span pkt, uint32_t off, uint8_t proto, bool fragment) {
  m += proto == 17 ? "PROTO=UDP " : "PROTO=UDPLITE ";
  if (fragment) return false;
  if (off + 8 > pkt.size()) {
    m += incomplete(pkt, off);
    return true;
  }
  const uint8_t* uh = pkt.data() + off;
  m += fmt::format("SPT={} DPT={} LEN={} ", be16(uh), be16(uh + 2), be16(uh + 4));
  return false;
}

// ICMP types' minimum lengths (required_len in nf_log_syslog)
uint32_t icmp_required(uint8_t type) {
  switch (type) {
    case 0: case 8: return 8 + 4;   // echo: id, sequence
    case 3: case 4: case 5: case 11: case 12: return 8 + 20;  // errors: the quoted IP header
    case 13: case 14: return 20;    // timestamps
    case 15: case 16: return 8;     // information
    case 17: case 18: return 12;    // address mask
    default: return 0;
  }
}

void ipv4(std::string& m, Span pkt, uint32_t off, uint32_t flags, uint32_t mark, bool outer) {
  if (off + 20 > pkt.size()) {
    m += fmt::format("TRUNCATED={} ", pkt.size() > off ? pkt.size() - off : 0);
    return;
  }
  const uint8_t* ih = pkt.data() + off;
  uint32_t ihl = (ih[0] & 0x0f) * 4u;
  uint16_t frag = be16(ih + 6);
  m += fmt::format("SRC={} DST={} ", addr(ih + 12, false), addr(ih + 16, false));
  m += fmt::format("LEN={} TOS=0x{:02X} PREC=0x{:02X} TTL={} ID={} ", be16(ih + 2), ih[1] & 0x1e, ih[1] & 0xe0,
                   ih[8], be16(ih + 4));
  if (frag & 0x8000) m += "CE ";
  if (frag & 0x4000) m += "DF ";
  if (frag & 0x2000) m += "MF ";
  if (frag & 0x1fff) m += fmt::format("FRAG:{} ", frag & 0x1fff);
  if ((flags & kIpOpt) && ihl > 20) {
    if (off + ihl > pkt.size()) {
      m += "TRUNCATED";
      return;
    }
    m += "OPT (" + hex_upper(pkt.subspan(off + 20, ihl - 20)) + ") ";
  }
  const bool fragment = frag & 0x1fff;
  const uint32_t th = off + ihl;
  switch (ih[9]) {
    case 6:
      if (tcp(m, pkt, th, fragment, flags)) return;
      break;
    case 17:
    case 136:
      if (udp(m, pkt, th, ih[9], fragment)) return;
      break;
    case 1: {
      m += "PROTO=ICMP ";
      if (fragment) break;
      if (th + 4 > pkt.size()) {
        m += incomplete(pkt, th);
        break;
      }
      const uint8_t* ic = pkt.data() + th;
      m += fmt::format("TYPE={} CODE={} ", ic[0], ic[1]);
      uint32_t need = icmp_required(ic[0]);
      if (need && pkt.size() - th < need) {
        m += fmt::format("INCOMPLETE [{} bytes] ", pkt.size() - th);
        break;
      }
      switch (ic[0]) {
        case 0:
        case 8: m += fmt::format("ID={} SEQ={} ", be16(ic + 4), be16(ic + 6)); break;
        case 12: m += fmt::format("PARAMETER={} ", ic[4]); break;
        case 5: m += fmt::format("GATEWAY={} ", addr(ic + 4, false)); break;
        case 3:
        case 4:
        case 11:
          if (outer) {
            m += "[";
            ipv4(m, pkt, th + 8, flags, mark, false);
            m += "] ";
          }
          if (ic[0] == 3 && ic[1] == 4) m += fmt::format("MTU={} ", be16(ic + 6));
          break;
        default: break;
      }
      break;
    }
    case 51:  // AH
      m += "PROTO=AH ";
      if (fragment) break;
      if (th + 8 > pkt.size()) {
        m += incomplete(pkt, th);
        break;
      }
      m += fmt::format("SPI=0x{:x} ", be32(pkt.data() + th + 4));
      break;
    case 50:  // ESP
      m += "PROTO=ESP ";
      if (fragment) break;
      if (th + 4 > pkt.size()) {
        m += incomplete(pkt, th);
        break;
      }
      m += fmt::format("SPI=0x{:x} ", be32(pkt.data() + th));
      break;
    default: m += fmt::format("PROTO={} ", ih[9]); break;
  }
  if (outer && mark) m += fmt::format("MARK=0x{:x} ", mark);
}

bool ipv6_ext(uint8_t h) { return h == 0 || h == 43 || h == 44 || h == 50 || h == 51 || h == 60; }

void ipv6(std::string& m, Span pkt, uint32_t off, uint32_t flags, uint32_t mark, bool outer) {
  if (off + 40 > pkt.size()) {
    m += fmt::format("TRUNCATED={} ", pkt.size() > off ? pkt.size() - off : 0);
    return;
  }
  const uint8_t* ih = pkt.data() + off;
  uint32_t word = be32(ih);
  m += fmt::format("SRC={} DST={} ", addr(ih + 8, true), addr(ih + 24, true));
  m += fmt::format("LEN={} TC={} HOPLIMIT={} FLOWLBL={} ", be16(ih + 4) + 40u, (word & 0x0ff00000u) >> 20, ih[7],
                   word & 0x000fffffu);
  bool fragment = false;
  uint32_t ptr = off + 40;
  uint8_t cur = ih[6];
  while (cur != 59 && ipv6_ext(cur)) {
    if (ptr + 2 > pkt.size()) {
      m += "TRUNCATED";
      return;
    }
    uint32_t hdrlen = 0;
    if (flags & kIpOpt) m += "OPT ( ";
    switch (cur) {
      case 44: {  // fragment
        if (ptr + 8 > pkt.size()) {
          m += "TRUNCATED ";
          return;
        }
        uint16_t fo = be16(pkt.data() + ptr + 2);
        m += fmt::format("FRAG:{} ", fo & 0xfff8);
        if (fo & 1) m += "INCOMPLETE ";
        m += fmt::format("ID:{:08x} ", be32(pkt.data() + ptr + 4));
        if (fo & 0xfff8) fragment = true;
        hdrlen = 8;
        break;
      }
      case 0:
      case 43:
      case 60:
        if (fragment) {
          if (flags & kIpOpt) m += ")";
          return;
        }
        hdrlen = (pkt[ptr + 1] + 1u) * 8u;
        break;
      case 51:
        if (flags & kIpOpt) {
          m += "AH ";
          if (ptr + 8 <= pkt.size()) m += fmt::format("SPI=0x{:x} ", be32(pkt.data() + ptr + 4));
        }
        hdrlen = (pkt[ptr + 1] + 2u) * 4u;
        break;
      case 50:
        if (flags & kIpOpt) {
          m += "ESP ";
          if (fragment) {
            m += ")";
            return;
          }
          if (ptr + 4 <= pkt.size()) m += fmt::format("SPI=0x{:x} )", be32(pkt.data() + ptr));
        }
        return;
      default:
        m += fmt::format("Unknown Ext Hdr {}", cur);
        return;
    }
    if (flags & kIpOpt) m += ") ";
    cur = pkt[ptr];
    ptr += hdrlen;
  }
  switch (cur) {
    case 6:
      if (tcp(m, pkt, ptr, fragment, flags)) return;
      break;
    case 17:
    case 136:
      if (udp(m, pkt, ptr, cur, fragment)) return;
      break;
    case 58: {
      m += "PROTO=ICMPv6 ";
      if (fragment) break;
      if (ptr + 8 > pkt.size()) {
        m += incomplete(pkt, ptr);
        return;
      }
      const uint8_t* ic = pkt.data() + ptr;
      m += fmt::format("TYPE={} CODE={} ", ic[0], ic[1]);
      switch (ic[0]) {
        case 128:
        case 129: m += fmt::format("ID={} SEQ={} ", be16(ic + 4), be16(ic + 6)); break;
        case 130:
        case 131:
        case 132: break;
        case 4: m += fmt::format("POINTER={:08x} ", be32(ic + 4)); [[fallthrough]];
        case 1:
        case 2:
        case 3:
          if (outer) {
            m += "[";
            ipv6(m, pkt, ptr + 8, flags, mark, false);
            m += "] ";
          }
          if (ic[0] == 2) m += fmt::format("MTU={} ", be32(ic + 4));
          break;
        default: break;
      }
      break;
    }
    default: m += fmt::format("PROTO={} ", cur); break;
  }
  if (outer && mark) m += fmt::format("MARK=0x{:x} ", mark);
}

void arp(std::string& m, Span pkt, uint32_t off) {
  if (off + 8 > pkt.size()) {
    m += "TRUNCATED";
    return;
  }
  const uint8_t* ah = pkt.data() + off;
  m += fmt::format("ARP HTYPE={} PTYPE=0x{:04x} OPCODE={}", be16(ah), be16(ah + 2), be16(ah + 6));
  if (be16(ah + 2) != 0x0800 || ah[4] != 6 || ah[5] != 4) return;
  if (off + 28 > pkt.size()) {
    m += fmt::format(" INCOMPLETE [{} bytes]", pkt.size() - off - 8);
    return;
  }
  m += fmt::format(" MACSRC={} IPSRC={} MACDST={} IPDST={}", mac(ah + 8), addr(ah + 14, false), mac(ah + 18),
                   addr(ah + 24, false));
}

}  // namespace

std::string format_log(const std::string& prefix, uint32_t flags, const Packet& pkt) {
  const packet::PacketLayout& l = pkt.layout;
  Span frame = pkt.frame.bytes();
  Span bytes = frame.first(std::min<size_t>(frame.size(), std::max<uint32_t>(l.end, l.nh_off)));
  std::string m = fmt::format("{}IN={} OUT={} ", prefix, pkt.meta.iifname, pkt.meta.oifname);
  const bool arp_packet = l.protocol == packet::kEthPArp;
  if (!pkt.meta.iifname.empty() && !arp_packet) {
    // dump_mac_header: decoded with `flags ether`, else the raw header
    if ((flags & kMacDecode) && l.mac_off >= 0 && frame.size() >= static_cast<size_t>(l.mac_off) + 14) {
      const uint8_t* h = frame.data() + l.mac_off;
      m += fmt::format("MACSRC={} MACDST={} MACPROTO={:04x} ", mac(h + 6), mac(h), be16(h + 12));
    } else {
      m += "MAC=";
      if (l.mac_off >= 0 && static_cast<uint32_t>(l.mac_off) + 14 <= frame.size() && l.nh_off > 0) {
        const uint8_t* h = frame.data() + l.mac_off;
        m += fmt::format("{:02x}", h[0]);
        for (int i = 1; i < 14; ++i) m += fmt::format(":{:02x}", h[i]);
      }
      m += " ";
    }
  }
  if (l.protocol == packet::kEthPIp) ipv4(m, bytes, l.nh_off, flags, pkt.meta.mark, true);
  else if (l.protocol == packet::kEthPIpv6) ipv6(m, bytes, l.nh_off, flags, pkt.meta.mark, true);
  else if (arp_packet) arp(m, frame, l.nh_off);
  return m;
}

}  // namespace nfx::vm
