// The FTP helper (nf_conntrack_ftp, nf_nat_ftp): PORT and EPRT commands
// from the client, 227 and 229 replies from the server, read where a line
// starts; the data connection they announce is expected, and with NAT the
// address in the text is rewritten to the translated one.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cstring>
#include <strings.h>

#include "internal.h"

namespace nfx::helpers {

namespace {

using conntrack::Dir;

enum class FtpType { Port, Eprt, Pasv, Epsv };

// What a command or reply announces (struct nf_conntrack_man).
struct Announced {
  uint8_t l3;
  std::array<uint8_t, 16> addr{};
  uint16_t port = 0;
};

// try_number: `count` numbers separated by `sep`, ended by `term` (or by
// anything when term is 0); the length read, 0 if malformed.
size_t try_number(const char* data, size_t dlen, uint32_t* out, size_t count, char sep, char term) {
  std::fill(out, out + count, 0);
  size_t i = 0, len = 0;
  for (; len < dlen && i < count; ++len, ++data) {
    if (*data >= '0' && *data <= '9') {
      out[i] = out[i] * 10 + static_cast<uint32_t>(*data - '0');
    } else if (*data == sep) {
      ++i;
    } else {
      if ((*data == term || !term) && i == count - 1) return len;
      return 0;
    }
  }
  return 0;
}

// try_rfc959: h1,h2,h3,h4,p1,p2.
size_t try_rfc959(const char* data, size_t dlen, Announced& a, char term, size_t&) {
  uint32_t n[6];
  size_t len = try_number(data, dlen, n, 6, ',', term);
  if (!len) return 0;
  for (int i = 0; i < 4; ++i) a.addr[static_cast<size_t>(i)] = static_cast<uint8_t>(n[i]);
  a.port = static_cast<uint16_t>((n[4] << 8) | n[5]);
  return len;
}

// try_rfc1123: a 227 reply's numbers start at its first digit.
size_t try_rfc1123(const char* data, size_t dlen, Announced& a, char, size_t& offset) {
  size_t i = 0;
  while (i < dlen && !std::isdigit(static_cast<unsigned char>(data[i]))) ++i;
  if (i == dlen) return 0;
  offset += i;
  return try_rfc959(data + i, dlen - i, a, 0, offset);
}

// get_port: a port number ended by `delim`; the offset after it, or 0.
size_t get_port(const char* data, size_t start, size_t dlen, char delim, uint16_t& port) {
  uint16_t tmp = 0;
  for (size_t i = start; i < dlen; ++i) {
    if (data[i] == delim) {
      if (tmp == 0) break;
      port = tmp;
      return i + 1;
    }
    if (data[i] < '0' || data[i] > '9') break;
    tmp = static_cast<uint16_t>(tmp * 10 + (data[i] - '0'));
  }
  return 0;
}

// in6_pton up to `term`: the length of the address text, 0 if malformed.
size_t ipv6_text(const char* data, size_t dlen, uint8_t* out, char term) {
  size_t n = 0;
  while (n < dlen && n < 64 && data[n] != term) ++n;
  if (n == dlen || n == 0 || n >= 64) return 0;
  char buf[64];
  std::memcpy(buf, data, n);
  buf[n] = 0;
  return inet_pton(AF_INET6, buf, out) == 1 ? n : 0;
}

// try_eprt: |1|a.b.c.d|port| or |2|ipv6|port|.
size_t try_eprt(const char* data, size_t dlen, Announced& a, char, size_t&) {
  if (dlen <= 3) return 0;
  const char delim = data[0];
  if (std::isdigit(static_cast<unsigned char>(delim)) || delim < 33 || delim > 126 || data[2] != delim) return 0;
  if ((a.l3 == conntrack::kNfprotoIpv4 && data[1] != '1') || (a.l3 == conntrack::kNfprotoIpv6 && data[1] != '2'))
    return 0;
  size_t length;
  if (data[1] == '1') {
    uint32_t n[4];
    length = try_number(data + 3, dlen - 3, n, 4, '.', delim);
    if (length)
      for (int i = 0; i < 4; ++i) a.addr[static_cast<size_t>(i)] = static_cast<uint8_t>(n[i]);
  } else {
    length = ipv6_text(data + 3, dlen - 3, a.addr.data(), delim);
  }
  if (!length) return 0;
  return get_port(data, 3 + length + 1, dlen, delim, a.port);
}

// try_epsv_response: |||port|.
size_t try_epsv(const char* data, size_t dlen, Announced& a, char, size_t&) {
  if (dlen <= 3) return 0;
  const char delim = data[0];
  if (std::isdigit(static_cast<unsigned char>(delim)) || delim < 33 || delim > 126 || data[1] != delim ||
      data[2] != delim)
    return 0;
  return get_port(data, 3, dlen, delim, a.port);
}

struct Search {
  const char* pattern;
  char skip, term;
  FtpType type;
  size_t (*getnum)(const char*, size_t, Announced&, char, size_t&);
};
// By direction: the client's commands, the server's replies.
constexpr Search kSearch[2][2] = {
    {{"PORT", ' ', '\r', FtpType::Port, try_rfc959}, {"EPRT", ' ', '\r', FtpType::Eprt, try_eprt}},
    {{"227 ", 0, 0, FtpType::Pasv, try_rfc1123}, {"229 ", '(', ')', FtpType::Epsv, try_epsv}},
};

// find_pattern: 1 and the numbers' offset and length when the line starts
// with the pattern and parses; 0 when it does not start with it; -1 when it
// does but is cut short or malformed.
int find_pattern(const char* data, size_t dlen, const Search& s, size_t& off, size_t& len, Announced& a) {
  const size_t plen = std::strlen(s.pattern);
  if (dlen <= plen) return strncasecmp(data, s.pattern, dlen) == 0 ? -1 : 0;
  if (strncasecmp(data, s.pattern, plen) != 0) return 0;
  size_t i = plen;
  if (s.skip) {
    for (; data[i] != s.skip; ++i)
      if (i == dlen - 1) return -1;
    ++i;
  }
  off = i;
  len = s.getnum(data + i, dlen - i, a, s.term, off);
  return len ? 1 : -1;
}

bool seq_after_newline(const conntrack::Entry& ct, Dir dir, uint32_t seq) {
  const size_t d = static_cast<size_t>(dir);
  for (size_t i = 0; ct.ext && i < ct.ext->ftp_seq_after_nl_count[d]; ++i)
    if (ct.ext->ftp_seq_after_nl[d][i] == seq) return true;
  return false;
}

// update_nl_seq: remembers the two latest line starts of a direction.
void remember_newline(conntrack::Entry& ct, Dir dir, uint32_t seq) {
  const size_t d = static_cast<size_t>(dir);
  auto& seqs = ct.extend().ftp_seq_after_nl[d];
  uint8_t& count = ct.extend().ftp_seq_after_nl_count[d];
  for (size_t i = 0; i < count; ++i)
    if (seqs[i] == seq) return;
  if (count < 2) {
    seqs[count++] = seq;
    return;
  }
  const size_t oldest = static_cast<int32_t>(seqs[0] - seqs[1]) < 0 ? 0 : 1;
  if (static_cast<int32_t>(seqs[oldest] - seq) < 0) seqs[oldest] = seq;
}

// nf_nat_ftp_fmt_cmd: the announcement with the translated address and port.
std::string format(FtpType type, uint8_t l3, const std::array<uint8_t, 16>& a, uint16_t port) {
  switch (type) {
    case FtpType::Port:
    case FtpType::Pasv: return fmt::format("{},{},{},{},{},{}", a[0], a[1], a[2], a[3], port >> 8, port & 0xff);
    case FtpType::Eprt:
      if (l3 == conntrack::kNfprotoIpv4) return fmt::format("|1|{}.{}.{}.{}|{}|", a[0], a[1], a[2], a[3], port);
      // %pI6: eight groups of four hex digits
      return fmt::format("|2|{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}:{:02x}{:02x}:"
                         "{:02x}{:02x}|{}|",
                         a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
                         a[14], a[15], port);
    case FtpType::Epsv: return fmt::format("|||{}|", port);
  }
  return {};
}

}  // namespace

Outcome ftp_help(HelperPacket& p) {
  conntrack::Entry& ct = *p.ct;
  // until there has been traffic both ways, packets are not read
  if (p.info != conntrack::Info::Established && p.info != conntrack::Info::EstablishedReply) return {};
  if (p.th + 20 > p.end) return {};
  const uint8_t* tcp = p.frame.data() + p.th;
  const size_t data_off = p.th + (tcp[12] >> 4) * 4u;
  if (data_off >= p.end) return {};  // no payload
  const size_t dlen = p.end - data_off;
  const char* data = reinterpret_cast<const char*>(p.frame.data() + data_off);
  const bool ends_in_nl = data[dlen - 1] == '\n';
  const uint32_t seq = (uint32_t{tcp[4]} << 24 | uint32_t{tcp[5]} << 16 | uint32_t{tcp[6]} << 8 | tcp[7]);
  const uint32_t next_seq = seq + static_cast<uint32_t>(dlen);
  const size_t d = static_cast<size_t>(p.dir);
  Outcome out;
  auto finish = [&] {
    if (ends_in_nl) remember_newline(ct, p.dir, next_seq);
    return out;
  };
  // only a segment that starts a line is read
  if (!seq_after_newline(ct, p.dir, seq)) return finish();

  Announced a;
  a.l3 = ct.tuple[d].l3;
  a.addr = ct.tuple[d].src;  // an EPSV reply names no address: the server's own
  const Search* found_search = nullptr;
  size_t off = 0, len = 0;
  int found = 0;
  for (const Search& s : kSearch[d]) {
    found = find_pattern(data, dlen, s, off, len, a);
    found_search = &s;
    if (found) break;
  }
  if (found == -1) {
    // a partial match: dropped, so that tracking stays exact
    out.drop = true;
    out.why = fmt::format("nf_ct_ftp: partial matching of `{}'", found_search->pattern);
    return out;
  }
  if (found == 0) return finish();

  const Dir other = p.dir == Dir::Original ? Dir::Reply : Dir::Original;
  const size_t o = static_cast<size_t>(other);
  std::array<uint8_t, 16> daddr = ct.tuple[o].dst;
  // an address other than the sender's own is not expected (the helper's
  // `loose` option is off): no hole towards a third host
  if (a.l3 == ct.tuple[d].l3 && a.addr != ct.tuple[d].src) return finish();

  const Helper& ftp = *find("ftp");
  conntrack::Expectation e = expectation(p, ftp, kIpprotoTcp, ct.tuple[o].src, daddr, a.port);
  const size_t max_expected = ftp.max_expected;

  if (ct.status & (conntrack::kSrcNat | conntrack::kDstNat)) {
    // nf_nat_ftp: the data connection comes from wherever this packet
    // goes; announce the translated address and a port free for it
    const std::array<uint8_t, 16> new_addr = ct.tuple[o].dst;
    e.saved_port = e.tuple.dport;
    e.dir = other;
    follow_master(e, p);
    uint16_t port = a.port;
    bool added = false;
    // nf_nat_exp_find_port: the same port if free, else others above it
    const int range = 65535 - a.port;
    int attempts = std::min(range, 128);
    for (;;) {
      e.tuple.dport = port;
      conntrack::ExpectResult r = p.table.expect(e, max_expected, p.now_ns);
      if (r == conntrack::ExpectResult::Added) {
        added = true;
        break;
      }
      if (r != conntrack::ExpectResult::Busy || --attempts < 0 || range <= 0) break;
      port = static_cast<uint16_t>(a.port + static_cast<uint16_t>(p.now_ns % static_cast<uint32_t>(range)));
    }
    if (!added) {
      out.drop = true;
      out.why = "nf_nat_ftp: all ports in use";
      return out;
    }
    const std::string text = format(found_search->type, ct.tuple[d].l3, new_addr, port);
    if (!mangle_tcp_payload(p, off, len, text)) {
      out.drop = true;
      out.why = "nf_nat_ftp: cannot mangle packet";
      return out;
    }
    out.resized = text.size() != len;
    return finish();
  }
  if (p.table.expect(e, max_expected, p.now_ns) != conntrack::ExpectResult::Added) {
    out.drop = true;
    out.why = "nf_ct_ftp: cannot add expectation";
    return out;
  }
  return finish();
}

}  // namespace nfx::helpers
