#include "command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "error.h"

namespace nfx::oracle {

void fail_errno(const std::string& what) { throw OracleError(what + ": " + std::strerror(errno)); }

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (pipe2(fd, O_CLOEXEC) != 0) fail_errno("pipe");
  }
  ~Pipe() { close_all(); }
  void close_end(int i) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
  }
  void close_all() {
    close_end(0);
    close_end(1);
  }
};

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input) {
  Pipe in, out, err;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    // The helper must not outlive the oracle (its namespace goes with us).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(in.fd[0], 0);
    dup2(out.fd[1], 1);
    dup2(err.fd[1], 2);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  CommandResult r;
  size_t written = 0;
  if (input.empty()) in.close_end(1);
  // Feed stdin and drain stdout/stderr together so neither side blocks.
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.fd[1] >= 0) fds[idx_in = n++] = {in.fd[1], POLLOUT, 0};
    if (out.fd[0] >= 0) fds[idx_out = n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) fds[idx_err = n++] = {err.fd[0], POLLIN, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno("poll");
    }
    if (idx_in >= 0 && fds[idx_in].revents) {
      ssize_t w = write(in.fd[1], input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 || written == input.size()) in.close_end(1);
    }
    auto drain = [&](int idx, Pipe& p, std::string& dst) {
      if (idx < 0 || !fds[idx].revents) return;
      char buf[8192];
      ssize_t got = read(p.fd[0], buf, sizeof buf);
      if (got > 0)
        dst.append(buf, static_cast<size_t>(got));
      else if (got == 0 || errno != EINTR)
        p.close_end(0);
    };
    drain(idx_out, out, r.out);
    drain(idx_err, err, r.err);
  }
  in.close_end(1);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail_errno("waitpid");
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string run_checked(const std::vector<std::string>& argv, const std::string& input) {
  CommandResult r = run_command(argv, input);
  if (r.status != 0) {
    std::string msg = "`" + joined(argv) + "` failed (exit " + std::to_string(r.status) + ")";
    if (!r.err.empty()) msg += ":\n" + r.err;
    if (!input.empty()) msg += "\ninput was:\n" + input;
    throw OracleError(msg);
  }
  return r.out;
}

bool in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (access((dir + "/" + name).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace nfx::oracle
