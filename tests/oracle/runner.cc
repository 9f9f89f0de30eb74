#include "runner.h"

#include <cstring>

#include "error.h"
#include "harness.h"
#include "markers.h"

namespace nfx::oracle {

namespace {

// Markers come out at once (see runner.h); the timeout only turns a broken
// assumption into an error instead of a hang.
constexpr int kMarkerTimeoutMs = 2000;
// Without --replies, what the kernel sends on tap0 (or, on the input path,
// tap1) is discarded every this many frames, before the TAP queue fills.
constexpr uint64_t kDrainEvery = 64;

}  // namespace

Runner::Runner(Path path, Tap& tap0, Tap& tap1, NflogSocket* nflog, bool replies)
    : path_(path), tap0_(tap0), tap1_(tap1), nflog_(nflog), replies_(replies) {}

void Runner::inject(const Frame& frame, uint64_t number, const char* what, Tap* tap) {
  if (int e = (tap ? *tap : tap0_).write(frame))
    throw OracleError("packet " + std::to_string(number) + ": the kernel refused the " + what +
                      " frame: " + std::strerror(e));
}

void Runner::read_until(Tap& tap, uint64_t number, std::vector<Frame>* keep, bool echo_reply) {
  Frame f;
  for (;;) {
    if (!tap.read(f, kMarkerTimeoutMs))
      throw OracleError("packet " + std::to_string(number) + ": the oracle's marker did not come out of " +
                        tap.name() + " within 2 s");
    std::optional<uint64_t> seq = echo_reply    ? echo_reply_seq(f)
                                  : path_ == Path::Bridge ? bridge_marker_seq(f)
                                                          : forward_marker_seq(f);
    if (seq) {
      if (*seq == number) return;
      throw OracleError("packet " + std::to_string(number) + ": marker " + std::to_string(*seq) +
                        " came out of " + tap.name() + " out of order");
    }
    if (keep) keep->push_back(std::move(f));
  }
}

bool Runner::read_log_until(uint64_t number) {
  bool reached = false;
  LogMessage m;
  for (;;) {
    if (!nflog_->read(m, kMarkerTimeoutMs))
      throw OracleError("packet " + std::to_string(number) + ": the oracle's marker was not logged at input within 2 s");
    if (m.prefix == kLogPrefixMarker) {
      std::optional<uint64_t> seq = echo_request_seq_ip(m.payload);
      if (seq && *seq == number) return reached;
      throw OracleError("packet " + std::to_string(number) + ": unexpected marker in the input log");
    }
    if (m.prefix == kLogPrefixAccept) reached = true;
  }
}

PacketResult Runner::run(const Frame& frame, uint64_t number) {
  PacketResult r;
  r.write_error = tap0_.write(frame);
  switch (path_) {
    case Path::Bridge:
      inject(bridge_marker(number), number, "marker");
      read_until(tap1_, number, &r.out, false);
      r.accepted = !r.out.empty();
      // What came back out of tap0 (a netdev reject's reply) is followed by
      // the same marker written into tap1, which the bridge floods to tap0.
      if (replies_) {
        inject(bridge_marker(number), number, "return marker", &tap1_);
        read_until(tap0_, number, &r.replies, false);
      } else if (number % kDrainEvery == 0) {
        tap0_.drain();
      }
      break;
    case Path::Forward:
      inject(forward_marker(number), number, "marker");
      if (replies_) inject(echo_marker(number), number, "echo marker");
      read_until(tap1_, number, &r.out, false);
      r.accepted = !r.out.empty();
      if (replies_)
        read_until(tap0_, number, &r.replies, true);
      else if (number % kDrainEvery == 0)
        tap0_.drain();
      break;
    case Path::Input:
      inject(echo_marker(number), number, "echo marker");
      r.accepted = read_log_until(number);
      if (replies_)
        read_until(tap0_, number, &r.replies, true);
      else if (number % kDrainEvery == 0)
        tap0_.drain();
      if (number % kDrainEvery == 0) tap1_.drain();
      break;
  }
  return r;
}

}  // namespace nfx::oracle
