// Benchmark sender: pushes a ClassBench trace's packets into veth interfaces
// as Ethernet frames through AF_PACKET with sendmmsg, and prints how long
// each pass took. Used by kernel_classify.py; not a test.
//
// usage: nfx_kernel_send TRACE PACKETS PASSES IFACE=DSTMAC...
//
// Each trace line `src dst sport dport proto` becomes one IPv4 frame (TTL 64,
// valid header checksum) whose transport header starts with the two ports:
// TCP gets a 20-byte header (ACK), UDP an 8-byte one, any other protocol 8
// bytes (the ports, then zeros). L4 checksums are left zero: forwarding does
// not look at them. A warm-up pass goes to every interface first; then each
// pass sends all frames to one interface, the interfaces in turn, so that the
// routers' figures are measured interleaved. On a veth whose peer has no XDP
// or NAPI the receive side runs in the sender's own softirq, so a pass's time
// covers the routers' work on its frames: its wall time, and its thread CPU
// time, which leaves out the time other processes held the CPU (without
// CONFIG_IRQ_TIME_ACCOUNTING, softirq work is charged to the task it ran in).
//
// Output, one JSON line:
//   {"packets": N, "ns": {"IFACE": [pass wall ns, ...], ...}, "cpu_ns": {...}}
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Target {
  std::string name;
  uint8_t mac[6];
  int fd = -1;
};

void put16(std::vector<uint8_t>& f, size_t at, uint16_t v) {
  f[at] = v >> 8;
  f[at + 1] = v & 0xff;
}

void put32(std::vector<uint8_t>& f, size_t at, uint32_t v) {
  put16(f, at, v >> 16);
  put16(f, at + 2, v & 0xffff);
}

std::vector<uint8_t> frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                           uint8_t proto, uint16_t id) {
  size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
  std::vector<uint8_t> f(14 + 20 + l4, 0);
  // Ethernet addresses are filled in per target; the type is IPv4.
  put16(f, 12, ETHERTYPE_IP);
  f[14] = 0x45;
  put16(f, 16, 20 + l4);
  put16(f, 18, id);
  f[22] = 64;
  f[23] = proto;
  put32(f, 26, src);
  put32(f, 30, dst);
  uint32_t sum = 0;
  for (size_t i = 14; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(f, 24, ~sum & 0xffff);
  put16(f, 34, sport);
  put16(f, 36, dport);
  if (proto == IPPROTO_TCP) {
    f[46] = 5 << 4;   // data offset
    f[47] = 0x10;     // ACK
    put16(f, 48, 65535);
  } else if (proto == IPPROTO_UDP) {
    put16(f, 38, 8);
  }
  return f;
}

bool parse_target(const char* arg, Target& t) {
  const char* eq = std::strchr(arg, '=');
  if (!eq) return false;
  t.name.assign(arg, eq);
  unsigned m[6];
  if (std::sscanf(eq + 1, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
    return false;
  for (int i = 0; i < 6; ++i) t.mac[i] = static_cast<uint8_t>(m[i]);
  return true;
}

int open_socket(const Target& t, uint8_t src_mac[6]) {
  int fd = socket(AF_PACKET, SOCK_RAW, 0);  // protocol 0: receives nothing
  if (fd < 0) return -1;
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = static_cast<int>(if_nametoindex(t.name.c_str()));
  if (sll.sll_ifindex == 0 || bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  std::ifstream mac("/sys/class/net/" + t.name + "/address");
  unsigned m[6] = {};
  std::string text;
  mac >> text;
  std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
  for (int i = 0; i < 6; ++i) src_mac[i] = static_cast<uint8_t>(m[i]);
  return fd;
}

long long thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// Sends every frame once; returns false on an error other than a full queue.
bool send_all(int fd, std::vector<std::vector<uint8_t>>& frames) {
  constexpr size_t kBatch = 64;
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  size_t next = 0;
  while (next < frames.size()) {
    size_t n = std::min(kBatch, frames.size() - next);
    for (size_t i = 0; i < n; ++i) {
      iov[i] = {frames[next + i].data(), frames[next + i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    if (sent < 0) {
      if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
      std::perror("sendmmsg");
      return false;
    }
    next += static_cast<size_t>(sent);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s TRACE PACKETS PASSES IFACE=DSTMAC...\n", argv[0]);
    return 2;
  }
  size_t limit = std::stoul(argv[2]);
  int passes = std::stoi(argv[3]);
  std::vector<std::vector<uint8_t>> base;
  std::ifstream in(argv[1]);
  std::string line;
  while (base.size() < limit && std::getline(in, line)) {
    std::istringstream ls(line);
    unsigned long src, dst, sport, dport, proto;
    if (!(ls >> src >> dst >> sport >> dport >> proto)) continue;
    base.push_back(frame(static_cast<uint32_t>(src), static_cast<uint32_t>(dst),
                         static_cast<uint16_t>(sport), static_cast<uint16_t>(dport),
                         static_cast<uint8_t>(proto), static_cast<uint16_t>(base.size())));
  }
  if (base.empty()) {
    std::fprintf(stderr, "no packets in %s\n", argv[1]);
    return 1;
  }
  std::vector<Target> targets(argc - 4);
  std::vector<std::vector<std::vector<uint8_t>>> frames(targets.size());
  for (size_t t = 0; t < targets.size(); ++t) {
    uint8_t src_mac[6];
    if (!parse_target(argv[t + 4], targets[t]) || (targets[t].fd = open_socket(targets[t], src_mac)) < 0) {
      std::fprintf(stderr, "bad target or socket: %s (%s)\n", argv[t + 4], std::strerror(errno));
      return 1;
    }
    frames[t] = base;
    for (auto& f : frames[t]) {
      std::memcpy(f.data(), targets[t].mac, 6);
      std::memcpy(f.data() + 6, src_mac, 6);
    }
  }
  for (size_t t = 0; t < targets.size(); ++t)
    if (!send_all(targets[t].fd, frames[t])) return 1;
  std::vector<std::vector<long long>> wall(targets.size()), cpu(targets.size());
  for (int p = 0; p < passes; ++p) {
    for (size_t t = 0; t < targets.size(); ++t) {
      long long c0 = thread_cpu_ns();
      auto t0 = std::chrono::steady_clock::now();
      if (!send_all(targets[t].fd, frames[t])) return 1;
      auto t1 = std::chrono::steady_clock::now();
      cpu[t].push_back(thread_cpu_ns() - c0);
      wall[t].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
  }
  std::printf("{\"packets\": %zu", base.size());
  for (auto [key, v] : {std::pair{"ns", &wall}, std::pair{"cpu_ns", &cpu}}) {
    std::printf(", \"%s\": {", key);
    for (size_t t = 0; t < targets.size(); ++t) {
      std::printf("%s\"%s\": [", t ? ", " : "", targets[t].name.c_str());
      for (size_t p = 0; p < (*v)[t].size(); ++p) std::printf("%s%lld", p ? ", " : "", (*v)[t][p]);
      std::printf("]");
    }
    std::printf("}");
  }
  std::printf("}\n");
  return 0;
}
