// forward_bench.py's traffic: UDP frames over FLOWS flows (source ports)
// from SRC to DST, sent through an AF_PACKET socket on IFACE with sendmmsg in
// batches, for SECONDS. Prints the frames it sent.
//
// usage: nfx_udp_blaster IFACE DST_MAC SRC_MAC SRC_IP DST_IP FLOWS SECONDS
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "mac_text.h"
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

uint16_t ip_checksum(const uint8_t* h) {
  uint32_t s = 0;
  for (int i = 0; i < 20; i += 2) s += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  uint8_t dmac[6], smac[6];
  in_addr src{}, dst{};
  if (argc != 8 || !parse_mac(argv[2], dmac) || !parse_mac(argv[3], smac) || inet_pton(AF_INET, argv[4], &src) != 1 ||
      inet_pton(AF_INET, argv[5], &dst) != 1) {
    std::fprintf(stderr, "usage: nfx_udp_blaster IFACE DST_MAC SRC_MAC SRC_IP DST_IP FLOWS SECONDS\n");
    return 2;
  }
  const int flows = std::max(1, std::atoi(argv[6]));
  const double seconds = std::atof(argv[7]);
  int fd = ::socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) {
    std::perror("socket(AF_PACKET)");
    return 1;
  }
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_ifindex = static_cast<int>(if_nametoindex(argv[1]));
  ll.sll_halen = 6;
  std::memcpy(ll.sll_addr, dmac, 6);
  if (ll.sll_ifindex == 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  // one 60-byte frame per flow: Ethernet, IPv4, UDP, 18 bytes of payload
  constexpr size_t kLen = 60;
  std::vector<uint8_t> frames(static_cast<size_t>(flows) * kLen, 0);
  for (int f = 0; f < flows; ++f) {
    uint8_t* p = &frames[static_cast<size_t>(f) * kLen];
    std::memcpy(p, dmac, 6);
    std::memcpy(p + 6, smac, 6);
    p[12] = 0x08;
    uint8_t* ip = p + 14;
    ip[0] = 0x45;
    ip[3] = 46;
    ip[8] = 64;
    ip[9] = 17;
    std::memcpy(ip + 12, &src, 4);
    std::memcpy(ip + 16, &dst, 4);
    uint16_t c = ip_checksum(ip);
    ip[10] = static_cast<uint8_t>(c >> 8);
    ip[11] = static_cast<uint8_t>(c);
    uint8_t* udp = ip + 20;
    uint16_t sport = static_cast<uint16_t>(10000 + f);
    udp[0] = static_cast<uint8_t>(sport >> 8);
    udp[1] = static_cast<uint8_t>(sport);
    udp[2] = 0x13;  // port 5001
    udp[3] = 0x89;
    udp[5] = 26;
  }
  constexpr int kBatch = 64;
  std::vector<iovec> iov(kBatch);
  std::vector<mmsghdr> msgs(kBatch);
  unsigned long long sent = 0;
  int next = 0;
  const double end = now() + seconds;
  while (now() < end) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {&frames[static_cast<size_t>(next) * kLen], kLen};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      next = (next + 1) % flows;
    }
    int n = ::sendmmsg(fd, msgs.data(), kBatch, 0);
    if (n > 0) sent += static_cast<unsigned long long>(n);
  }
  std::printf("%llu\n", sent);
  return 0;
}
