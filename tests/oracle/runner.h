// Pushes test frames through the kernel one at a time and observes what it
// did with each, using the markers (markers.h) to know when the kernel is
// done with a frame:
//   bridge:  write frame, write bridge marker; read tap1 until the marker
//            (and, for replies, write the bridge marker into tap1 and read
//            tap0 until the bridge floods it there).
//   forward: write frame, write forward marker (and, for replies, an echo
//            marker); read tap1 until the forward marker (and tap0 until
//            the echo reply).
//   input:   write frame, write echo marker; read the NFLOG socket until the
//            marker's message (and, for replies, tap0 until the echo reply).
// The kernel handles a frame written to a TAP device synchronously inside
// write() (tun -> netif_receive_skb; the taps have no qdisc), and a marker
// takes the same path as the frame before it, so it comes out after every
// frame the test frame caused on that device.
#pragma once

#include <cstdint>
#include <vector>

#include "nflog.h"
#include "path.h"
#include "tap.h"

namespace nfx::oracle {

struct PacketResult {
  // bridge/forward: something came out of tap1; input: the packet reached
  // the end of the input hook (local delivery).
  bool accepted = false;
  std::vector<Frame> out;      // frames out of tap1, in order (bridge, forward)
  std::vector<Frame> replies;  // frames out of tap0, in order (when asked for)
  int write_error = 0;         // errno when the TAP driver refused the frame
};

class Runner {
 public:
  Runner(Path path, Tap& tap0, Tap& tap1, NflogSocket* nflog, bool replies);
  PacketResult run(const Frame& frame, uint64_t number);

 private:
  // Writes into tap0, or `tap`.
  void inject(const Frame& frame, uint64_t number, const char* what, Tap* tap = nullptr);
  void read_until(Tap& tap, uint64_t number, std::vector<Frame>* keep, bool echo_reply);
  bool read_log_until(uint64_t number);

  Path path_;
  Tap& tap0_;
  Tap& tap1_;
  NflogSocket* nflog_;
  bool replies_;
};

}  // namespace nfx::oracle
