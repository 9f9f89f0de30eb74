// Workers (frames between TAP queues and the element) and the control
// thread (socket and signals).
#include <nfx/daemon.h>

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "frame_batch.h"

#include <array>
#include <chrono>
#include <sched.h>
#include <sys/stat.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace nfx::daemon {

namespace asio = boost::asio;
using local_stream = asio::local::stream_protocol;

namespace {

// Frames one wake-up takes from a queue before letting the others in.
constexpr size_t kBatch = 64;
constexpr size_t kMaxFrame = 65536 + 14;
// A batch's buffers: 64 frames of 1,500 bytes and room for one more of the
// largest size (a batch of large frames is shorter).
constexpr size_t kBatchBytes = kBatch * 1536 + kMaxFrame;

// One worker: an io_context, and descriptors for its queue of every device.
struct Worker {
  unsigned index = 0;
  asio::io_context ctx{1};
  std::vector<std::unique_ptr<asio::posix::stream_descriptor>> queues;  // per port
  std::vector<int> fds;                                                 // per port
  FrameBatch received{kBatchBytes, kBatch};  // read in one wake-up
  FrameBatch sent{kBatchBytes, 4 * kBatch};   // the element's frames for them
  std::unique_ptr<asio::steady_timer> timer;  // worker 0: the element's timers
  IoStats stats;
  std::thread thread;
};

}  // namespace

struct Runner::Impl {
  Runner& self;
  router::Element& element;
  std::vector<io::Tap>& taps;
  Options options;
  std::vector<std::unique_ptr<Worker>> workers;
  asio::io_context control{1};
  std::unique_ptr<local_stream::acceptor> acceptor;
  asio::signal_set signals{control};
  uint64_t last_collect_ns = 0;
  std::atomic<bool> stopping{false};
  bool bound = false;  // the control socket is ours to remove

  Impl(Runner& r, router::Element& e, std::vector<io::Tap>& t, Options o)
      : self(r), element(e), taps(t), options(std::move(o)) {}

  void info(const std::string& s) {
    if (options.info) options.info(s);
  }

  void wait_readable(Worker& w, uint32_t port) {
    w.queues[port]->async_wait(asio::posix::stream_descriptor::wait_read, [this, &w, port](boost::system::error_code ec) {
      if (ec) return;
      drain(w, port);
      wait_readable(w, port);
    });
  }

  // Up to kBatch frames from the worker's queue of `port`, through the
  // element. In three runs, each of one kind of work: all reads, then the
  // element on every frame (its sends queued), then all writes. Each run
  // finds its code in the CPU's caches, where frame by frame the kernel's
  // read and write paths and the element's evicted one another (measured:
  // the same kernel functions took half as long again per frame).
  void drain(Worker& w, uint32_t port) {
    ++w.stats.batches;
    FrameBatch& in = w.received;
    in.clear();
    while (in.size() < kBatch && in.room().size() >= kMaxFrame) {
      long n = io::read_frame(w.fds[port], in.room());
      if (n <= 0) break;
      in.commit(port, static_cast<size_t>(n));
    }
    if (in.size() == 0) return;
    const router::Sink sink = [this, &w](uint32_t out, std::span<const uint8_t> frame) {
      if (w.sent.add(out, frame)) return;
      send(w);  // full: out with what it holds
      if (!w.sent.add(out, frame) && !io::write_frame(w.fds[out], frame)) ++w.stats.write_failures;
    };
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      // one reading of the clock per batch: the frames of a batch arrive
      // within microseconds of each other, far below conntrack's timeouts
      const uint64_t now = now_ns();
      for (size_t i = 0; i < in.size(); ++i) element.receive(port, in.frame(i), now, sink);
    }
    send(w);
  }

  void send(Worker& w) {
    for (size_t i = 0; i < w.sent.size(); ++i)
      if (!io::write_frame(w.fds[w.sent.port(i)], w.sent.frame(i))) ++w.stats.write_failures;
    w.sent.clear();
  }

  void arm_timer(Worker& w) {
    w.timer->expires_after(std::chrono::milliseconds(100));
    w.timer->async_wait([this, &w](boost::system::error_code ec) {
      if (ec) return;
      const router::Sink sink = [&w](uint32_t out, std::span<const uint8_t> frame) {
        if (!io::write_frame(w.fds[out], frame)) ++w.stats.write_failures;
      };
      {
        std::lock_guard<std::mutex> lock(self.mutex_);
        uint64_t now = now_ns();
        element.tick(now, sink);
        // the kernel's conntrack gc worker: expired entries go
        if (now - last_collect_ns >= 1'000'000'000ull && element.ruleset()) {
          element.ruleset()->conntrack().collect(now);
          last_collect_ns = now;
        }
      }
      arm_timer(w);
    });
  }

  void accept() {
    acceptor->async_accept([this](boost::system::error_code ec, local_stream::socket sock) {
      if (ec) return;
      serve(std::make_shared<local_stream::socket>(std::move(sock)));
      accept();
    });
  }

  void serve(std::shared_ptr<local_stream::socket> sock) {
    auto buf = std::make_shared<asio::streambuf>(4096);
    asio::async_read_until(*sock, *buf, '\n', [this, sock, buf](boost::system::error_code ec, size_t n) {
      if (ec) return;
      std::string line(asio::buffers_begin(buf->data()), asio::buffers_begin(buf->data()) + static_cast<long>(n) - 1);
      Answer a = options.handler ? options.handler(line, self) : Answer{false, "no command handler\n"};
      auto reply = std::make_shared<std::string>((a.ok ? "OK\n" : "ERR\n") + a.text);
      asio::async_write(*sock, asio::buffer(*reply), [sock, reply](boost::system::error_code, size_t) {
        boost::system::error_code ignored;
        sock->shutdown(local_stream::socket::shutdown_both, ignored);
      });
    });
  }

  void wait_signal() {
    signals.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        Answer a = options.handler ? options.handler("reload", self) : Answer{false, "no handler"};
        info(a.ok ? "SIGHUP: " + a.text : "SIGHUP: reload refused, the running ruleset stays:\n" + a.text);
        wait_signal();
        return;
      }
      info(fmt::format("signal {}: stopping", sig));
      self.stop();
    });
  }
};

Runner::Runner(router::Element& element, std::vector<io::Tap>& taps, Options options)
    : element_(element), impl_(std::make_unique<Impl>(*this, element, taps, std::move(options))) {
  Impl& m = *impl_;
  if (m.options.workers == 0) m.options.workers = 1;
  for (unsigned i = 0; i < m.options.workers; ++i) {
    auto w = std::make_unique<Worker>();
    w->index = i;
    for (io::Tap& t : taps) {
      if (t.queues() <= i) throw io::Error(fmt::format("tap '{}' has {} queues for {} workers", t.name(), t.queues(), m.options.workers));
      int fd = ::dup(t.fd(i));  // the descriptor object closes its own copy
      w->fds.push_back(fd);
      w->queues.push_back(std::make_unique<asio::posix::stream_descriptor>(w->ctx, fd));
    }
    m.workers.push_back(std::move(w));
  }
  m.workers[0]->timer = std::make_unique<asio::steady_timer>(m.workers[0]->ctx);
}

Runner::~Runner() {
  stop();
  for (auto& w : impl_->workers)
    if (w->thread.joinable()) w->thread.join();
  if (impl_->bound) ::unlink(impl_->options.control_socket.c_str());
}

void Runner::run() {
  Impl& m = *impl_;
  if (!m.options.control_socket.empty()) {
    {
      // a socket someone still answers on is another nfx run's: leave it
      local_stream::socket probe(m.control);
      boost::system::error_code ec;
      probe.connect(local_stream::endpoint(m.options.control_socket), ec);
      if (!ec)
        throw io::Error(fmt::format("control socket {}: another nfx run listens there", m.options.control_socket));
    }
    ::unlink(m.options.control_socket.c_str());
    m.acceptor = std::make_unique<local_stream::acceptor>(m.control);
    boost::system::error_code ec;
    local_stream::endpoint ep(m.options.control_socket);
    m.acceptor->open(ep.protocol(), ec);
    // created 0600 from the start: no moment in which others may connect
    mode_t old = ::umask(0177);
    if (!ec) m.acceptor->bind(ep, ec);
    ::umask(old);
    m.bound = !ec;
    if (!ec) m.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw io::Error(fmt::format("control socket {}: {}", m.options.control_socket, ec.message()));
    ::chmod(m.options.control_socket.c_str(), 0600);
    m.accept();
  }
  m.signals.add(SIGTERM);
  m.signals.add(SIGINT);
  m.signals.add(SIGHUP);
  m.wait_signal();
  for (auto& w : m.workers) {
    for (uint32_t p = 0; p < w->queues.size(); ++p) m.wait_readable(*w, p);
    if (w->timer) m.arm_timer(*w);
    Worker* wp = w.get();
    w->thread = std::thread([wp] {
      // A descriptor table of its own: the kernel then looks the worker's
      // descriptors up without taking a reference to the file on every
      // read and write, as it does for a table threads share (measured:
      // ~70 ns per forwarded frame). The worker only uses descriptors that
      // exist now; each copy stays open until the thread ends.
      ::unshare(CLONE_FILES);
      wp->ctx.run();
    });
  }
  auto guard = asio::make_work_guard(m.control);
  m.control.run();
  for (auto& w : m.workers) {
    w->ctx.stop();
    if (w->thread.joinable()) w->thread.join();
  }
}

void Runner::stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->control.stop();
  for (auto& w : impl_->workers) w->ctx.stop();
}

IoStats Runner::io_stats() const {
  IoStats s;
  for (const auto& w : impl_->workers) {
    s.batches += w->stats.batches;
    s.write_failures += w->stats.write_failures;
  }
  return s;
}

uint64_t Runner::now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

Answer request(const std::string& socket_path, const std::string& command) {
  asio::io_context ctx;
  local_stream::socket sock(ctx);
  boost::system::error_code ec;
  sock.connect(local_stream::endpoint(socket_path), ec);
  if (ec) throw io::Error(fmt::format("{}: {} (is nfx run running?)", socket_path, ec.message()));
  std::string line = command + "\n";
  asio::write(sock, asio::buffer(line), ec);
  if (ec) throw io::Error(fmt::format("{}: {}", socket_path, ec.message()));
  std::string reply;
  asio::read(sock, asio::dynamic_buffer(reply), ec);
  if (ec && ec != asio::error::eof) throw io::Error(fmt::format("{}: {}", socket_path, ec.message()));
  Answer a;
  auto nl = reply.find('\n');
  std::string status = reply.substr(0, nl);
  a.ok = status == "OK";
  a.text = nl == std::string::npos ? "" : reply.substr(nl + 1);
  if (status != "OK" && status != "ERR") throw io::Error(fmt::format("{}: not an nfx control socket", socket_path));
  return a;
}

}  // namespace nfx::daemon
