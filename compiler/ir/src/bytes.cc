// Big-endian byte-string arithmetic for constants and register values.
#include <algorithm>
#include <bit>

#include <nfx/ir.h>

namespace nfx::ir {

static_assert(std::endian::native == std::endian::little,
              "host-order values are stored reversed from big-endian; a big-endian host needs no reversal");

Bytes be_resize(const Bytes& b, size_t len) {
  Bytes out(len, 0);
  for (size_t i = 0; i < len && i < b.size(); ++i) out[len - 1 - i] = b[b.size() - 1 - i];
  return out;
}

Bytes be_shift_left(const Bytes& b, unsigned bits) {
  Bytes out(b.size(), 0);
  size_t bytes = bits / 8, rem = bits % 8;
  for (size_t i = 0; i + bytes < b.size(); ++i) {
    unsigned v = b[i + bytes] << rem;
    if (rem && i + bytes + 1 < b.size()) v |= b[i + bytes + 1] >> (8 - rem);
    out[i] = static_cast<uint8_t>(v);
  }
  return out;
}

Bytes be_shift_right(const Bytes& b, unsigned bits) {
  Bytes out(b.size(), 0);
  size_t bytes = bits / 8, rem = bits % 8;
  for (size_t i = bytes; i < b.size(); ++i) {
    unsigned v = b[i - bytes] >> rem;
    if (rem && i - bytes >= 1) v |= (b[i - bytes - 1] << (8 - rem)) & 0xff;
    out[i] = static_cast<uint8_t>(v);
  }
  return out;
}

Bytes be_from_u64(uint64_t v, size_t len) {
  Bytes out(len, 0);
  for (size_t i = 0; i < len && i < 8; ++i) out[len - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  return out;
}

uint64_t be_to_u64(const Bytes& b) {
  uint64_t v = 0;
  size_t start = b.size() > 8 ? b.size() - 8 : 0;
  for (size_t i = start; i < b.size(); ++i) v = (v << 8) | b[i];
  return v;
}

Bytes reversed(Bytes b) {
  std::reverse(b.begin(), b.end());
  return b;
}

const char* family_name(Family f) {
  switch (f) {
    case Family::Ip: return "ip";
    case Family::Ip6: return "ip6";
    case Family::Inet: return "inet";
    case Family::Arp: return "arp";
    case Family::Bridge: return "bridge";
    case Family::Netdev: return "netdev";
  }
  return "?";
}

bool family_from_name(const std::string& name, Family& out) {
  static const std::pair<const char*, Family> names[] = {{"ip", Family::Ip},       {"ip6", Family::Ip6},
                                                         {"inet", Family::Inet},   {"arp", Family::Arp},
                                                         {"bridge", Family::Bridge}, {"netdev", Family::Netdev}};
  for (auto& [n, f] : names)
    if (name == n) {
      out = f;
      return true;
    }
  return false;
}

}  // namespace nfx::ir
