// The kernel's jhash (Bob Jenkins' lookup3, include/linux/jhash.h): the hash
// expression and symhash use it, so results match the kernel's for a seed.
#include <cstring>

#include <nfx/packet.h>

namespace nfx::packet {

namespace {

constexpr uint32_t kJhashInitval = 0xdeadbeef;

inline uint32_t rol32(uint32_t w, unsigned s) { return (w << s) | (w >> (32 - s)); }

inline void mix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c; a ^= rol32(c, 4); c += b;
  b -= a; b ^= rol32(a, 6); a += c;
  c -= b; c ^= rol32(b, 8); b += a;
  a -= c; a ^= rol32(c, 16); c += b;
  b -= a; b ^= rol32(a, 19); a += c;
  c -= b; c ^= rol32(b, 4); b += a;
}

inline void final(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b; c -= rol32(b, 14);
  a ^= c; a -= rol32(c, 11);
  b ^= a; b -= rol32(a, 25);
  c ^= b; c -= rol32(b, 16);
  a ^= c; a -= rol32(c, 4);
  b ^= a; b -= rol32(a, 14);
  c ^= b; c -= rol32(b, 24);
}

// The kernel reads 32-bit words in host (little-endian) order.
inline uint32_t word(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

}  // namespace

uint32_t jhash(const uint8_t* k, size_t length, uint32_t initval) {
  uint32_t a, b, c;
  a = b = c = kJhashInitval + static_cast<uint32_t>(length) + initval;
  while (length > 12) {
    a += word(k);
    b += word(k + 4);
    c += word(k + 8);
    mix(a, b, c);
    length -= 12;
    k += 12;
  }
  switch (length) {  // the last bytes, as the kernel's fall-through switch adds them
    case 12: c += static_cast<uint32_t>(k[11]) << 24; [[fallthrough]];
    case 11: c += static_cast<uint32_t>(k[10]) << 16; [[fallthrough]];
    case 10: c += static_cast<uint32_t>(k[9]) << 8; [[fallthrough]];
    case 9: c += k[8]; [[fallthrough]];
    case 8: b += static_cast<uint32_t>(k[7]) << 24; [[fallthrough]];
    case 7: b += static_cast<uint32_t>(k[6]) << 16; [[fallthrough]];
    case 6: b += static_cast<uint32_t>(k[5]) << 8; [[fallthrough]];
    case 5: b += k[4]; [[fallthrough]];
    case 4: a += static_cast<uint32_t>(k[3]) << 24; [[fallthrough]];
    case 3: a += static_cast<uint32_t>(k[2]) << 16; [[fallthrough]];
    case 2: a += static_cast<uint32_t>(k[1]) << 8; [[fallthrough]];
    case 1:
      a += k[0];
      final(a, b, c);
      break;
    case 0:
      break;
  }
  return c;
}

}  // namespace nfx::packet
