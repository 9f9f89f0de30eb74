// The plain forwarder, forward_bench.py's baseline: reads frames from one
// TAP device and writes them to another, rewriting the Ethernet addresses
// (as any router must) and doing nothing else. The same I/O as nfx run's
// (non-blocking descriptors, a batch of reads per wake-up), none of its work.
//
// usage: nfx_tap_forwarder IN_TAP OUT_TAP DST_MAC SRC_MAC
// Runs until killed; prints "ready" once both devices are open.
#include <nfx/io.h>

#include <poll.h>

#include <array>
#include <cstdio>

#include "mac_text.h"
#include <cstring>

int main(int argc, char** argv) {
  uint8_t macs[12];
  if (argc != 5 || !parse_mac(argv[3], macs) || !parse_mac(argv[4], macs + 6)) {
    std::fprintf(stderr, "usage: nfx_tap_forwarder IN_TAP OUT_TAP DST_MAC SRC_MAC\n");
    return 2;
  }
  try {
    nfx::io::Tap in = nfx::io::Tap::open(argv[1], 1), out = nfx::io::Tap::open(argv[2], 1);
    in.set_up();
    out.set_up();
    std::printf("ready\n");
    std::fflush(stdout);
    static std::array<uint8_t, 65550> buf;
    pollfd p{in.fd(0), POLLIN, 0};
    for (;;) {
      if (::poll(&p, 1, -1) < 0) continue;
      for (int i = 0; i < 64; ++i) {
        long n = nfx::io::read_frame(in.fd(0), buf);
        if (n <= 0) break;
        if (n >= 14) std::memcpy(buf.data(), macs, 12);
        nfx::io::write_frame(out.fd(0), {buf.data(), static_cast<size_t>(n)});
      }
    }
  } catch (const nfx::io::Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
}
