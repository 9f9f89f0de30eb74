// The plain forwarder, forward_bench.py's baseline: reads frames from one
// TAP device and writes them to another, rewriting the Ethernet addresses
// (as any router must) and doing nothing else.
//
// Its I/O is nfx run's: non-blocking descriptors, up to 64 frames read per
// wake-up into one buffer (each on a cache line), then all of them written.
// With `framewise`, each frame is written as soon as it is read instead
// (the simplest forwarder, whose kernel read and write paths alternate).
//
// usage: nfx_tap_forwarder IN_TAP OUT_TAP DST_MAC SRC_MAC [framewise]
// Runs until killed; prints "ready" once both devices are open.
#include <nfx/io.h>

#include <poll.h>

#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "mac_text.h"

namespace {

constexpr size_t kBatch = 64;
constexpr size_t kMaxFrame = 65536 + 14;

}  // namespace

int main(int argc, char** argv) {
  uint8_t macs[12];
  const bool framewise = argc == 6 && std::string_view(argv[5]) == "framewise";
  if ((argc != 5 && !framewise) || !parse_mac(argv[3], macs) || !parse_mac(argv[4], macs + 6)) {
    std::fprintf(stderr, "usage: nfx_tap_forwarder IN_TAP OUT_TAP DST_MAC SRC_MAC [framewise]\n");
    return 2;
  }
  try {
    nfx::io::Tap in = nfx::io::Tap::open(argv[1], 1), out = nfx::io::Tap::open(argv[2], 1);
    in.set_up();
    out.set_up();
    std::printf("ready\n");
    std::fflush(stdout);
    std::vector<uint8_t> buf(kBatch * 1536 + kMaxFrame);
    size_t offsets[kBatch + 1], sizes[kBatch];
    pollfd p{in.fd(0), POLLIN, 0};
    for (;;) {
      if (::poll(&p, 1, -1) < 0) continue;
      size_t count = 0;
      offsets[0] = 0;
      for (size_t reads = 0; reads < kBatch && buf.size() - offsets[count] >= kMaxFrame; ++reads) {
        uint8_t* frame = buf.data() + offsets[count];
        long n = nfx::io::read_frame(in.fd(0), {frame, buf.size() - offsets[count]});
        if (n <= 0) break;
        if (n >= 14) std::memcpy(frame, macs, 12);
        if (framewise) {
          nfx::io::write_frame(out.fd(0), {frame, static_cast<size_t>(n)});
          continue;
        }
        sizes[count] = static_cast<size_t>(n);
        offsets[count + 1] = (offsets[count] + sizes[count] + 63) & ~size_t{63};
        ++count;
      }
      for (size_t i = 0; i < count; ++i) nfx::io::write_frame(out.fd(0), {buf.data() + offsets[i], sizes[i]});
    }
  } catch (const nfx::io::Error& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
}
