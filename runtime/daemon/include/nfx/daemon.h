// nfx daemon: the element (nfx/router.h) running on TAP devices.
//
// This is the one public header of the daemon library. Workers are threads,
// each with its own Boost.Asio io_context owning one queue of every TAP
// device: it reads the frames that arrive there, runs them through the
// element, and writes what leaves to its own queue of the output device.
// The element is one (a single connection table and ruleset state), so the
// workers take turns on it, a batch of frames at a time. A control thread
// serves the Unix control socket (mode 0600) and the signals: SIGHUP asks
// the command handler to reload, SIGTERM and SIGINT stop everything.
#pragma once

#include <nfx/io.h>
#include <nfx/router.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nfx::daemon {

// A control command ("reload FILE", "list ruleset", ...) and its answer.
struct Answer {
  bool ok = true;
  std::string text;
};
class Runner;
using CommandHandler = std::function<Answer(const std::string& command, Runner& runner)>;

struct Options {
  unsigned workers = 1;         // one per TAP queue
  std::string control_socket;   // path of the Unix socket ("" : none)
  CommandHandler handler;       // control commands and SIGHUP ("reload")
  std::function<void(const std::string&)> info;  // what the daemon reports (stderr)
};

// Per-worker figures the element does not keep.
struct IoStats {
  uint64_t batches = 0, write_failures = 0;
};

class Runner {
 public:
  // `taps[i]` is the element's port i; each has options.workers queues.
  Runner(router::Element& element, std::vector<io::Tap>& taps, Options options);
  ~Runner();
  // Runs until stop() or SIGTERM/SIGINT. Throws io::Error if the control
  // socket cannot be bound.
  void run();
  void stop();

  // Runs `fn` on the element while no worker touches it.
  template <typename F>
  auto with_element(F&& fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    return fn(element_);
  }
  IoStats io_stats() const;
  static uint64_t now_ns();

 private:
  struct Impl;
  router::Element& element_;
  std::mutex mutex_;
  std::unique_ptr<Impl> impl_;
};

// The client side of the control socket: sends `command`, returns the answer.
// Throws io::Error when nothing listens there.
Answer request(const std::string& socket_path, const std::string& command);

}  // namespace nfx::daemon
