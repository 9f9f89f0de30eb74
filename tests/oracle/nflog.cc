#include "nflog.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace nfx::oracle {

namespace {

void put_attr(std::vector<uint8_t>& b, uint16_t type, const void* data, size_t len) {
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
  a.nla_type = type;
  size_t at = b.size();
  b.resize(at + NLA_ALIGN(a.nla_len), 0);
  std::memcpy(&b[at], &a, sizeof a);
  std::memcpy(&b[at + NLA_HDRLEN], data, len);
}

}  // namespace

NflogSocket::NflogSocket(uint16_t group) : group_(group), buf_(1 << 17) {
  fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_NETFILTER);
  if (fd_ < 0) fail_errno("socket(NETLINK_NETFILTER)");
  int rcvbuf = 8 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) fail_errno("bind NFLOG socket");

  std::vector<uint8_t> attrs;
  nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_BIND};
  put_attr(attrs, NFULA_CFG_CMD, &cmd, sizeof cmd);
  nfulnl_msg_config_mode mode{};
  mode.copy_range = htonl(0xffff);
  mode.copy_mode = NFULNL_COPY_PACKET;
  put_attr(attrs, NFULA_CFG_MODE, &mode, sizeof mode);
  uint32_t one = htonl(1);
  put_attr(attrs, NFULA_CFG_QTHRESH, &one, sizeof one);  // one message per packet, sent at once
  request(attrs);
}

NflogSocket::~NflogSocket() {
  if (fd_ >= 0) close(fd_);
}

void NflogSocket::request(const std::vector<uint8_t>& attrs) {
  std::vector<uint8_t> msg(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)));
  nlmsghdr h{};
  h.nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h.nlmsg_seq = ++seq_;
  nfgenmsg g{};
  g.nfgen_family = AF_UNSPEC;
  g.version = NFNETLINK_V0;
  g.res_id = htons(group_);
  std::memcpy(&msg[NLMSG_HDRLEN], &g, sizeof g);
  msg.insert(msg.end(), attrs.begin(), attrs.end());
  h.nlmsg_len = static_cast<uint32_t>(msg.size());
  std::memcpy(msg.data(), &h, sizeof h);
  if (send(fd_, msg.data(), msg.size(), 0) != static_cast<ssize_t>(msg.size())) fail_errno("send NFLOG config");

  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0) throw OracleError("no answer to the NFLOG configuration request");
    ssize_t got = recv(fd_, buf_.data(), buf_.size(), 0);
    if (got < 0) fail_errno("recv NFLOG ack");
    size_t len = static_cast<size_t>(got);
    for (size_t at = 0; at + NLMSG_HDRLEN <= len;) {
      auto* nh = reinterpret_cast<nlmsghdr*>(&buf_[at]);
      if (nh->nlmsg_len < NLMSG_HDRLEN || nh->nlmsg_len > len - at) break;
      at += NLMSG_ALIGN(nh->nlmsg_len);
      if (nh->nlmsg_type != NLMSG_ERROR || nh->nlmsg_seq != seq_) continue;
      auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(nh));
      if (e->error != 0) {
        errno = -e->error;
        fail_errno("NFLOG bind to group " + std::to_string(group_));
      }
      return;
    }
  }
}

bool NflogSocket::read(LogMessage& msg, int timeout_ms) {
  for (;;) {
    while (pos_ < len_) {
      auto* nh = reinterpret_cast<nlmsghdr*>(&buf_[pos_]);
      size_t left = len_ - pos_;
      if (left < NLMSG_HDRLEN || nh->nlmsg_len < NLMSG_HDRLEN || nh->nlmsg_len > left) {
        pos_ = len_;
        break;
      }
      pos_ += NLMSG_ALIGN(nh->nlmsg_len);
      if (nh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)) continue;
      msg.prefix.clear();
      msg.payload.clear();
      size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
      auto* base = reinterpret_cast<uint8_t*>(nh);
      while (off + NLA_HDRLEN <= nh->nlmsg_len) {
        nlattr a;
        std::memcpy(&a, base + off, sizeof a);
        if (a.nla_len < NLA_HDRLEN || off + a.nla_len > nh->nlmsg_len) break;
        const uint8_t* data = base + off + NLA_HDRLEN;
        size_t dlen = a.nla_len - NLA_HDRLEN;
        switch (a.nla_type & NLA_TYPE_MASK) {
          case NFULA_PREFIX: msg.prefix.assign(reinterpret_cast<const char*>(data), strnlen(reinterpret_cast<const char*>(data), dlen)); break;
          case NFULA_PAYLOAD: msg.payload.assign(data, data + dlen); break;
          default: break;
        }
        off += NLA_ALIGN(a.nla_len);
      }
      return true;
    }
    ssize_t got = recv(fd_, buf_.data(), buf_.size(), 0);
    if (got > 0) {
      pos_ = 0;
      len_ = static_cast<size_t>(got);
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == ENOBUFS) throw OracleError("NFLOG socket overran: log messages were lost");
    if (got < 0 && errno != EAGAIN) fail_errno("recv NFLOG");
    pollfd p{fd_, POLLIN, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) fail_errno("poll NFLOG");
    if (n == 0) return false;
  }
}

}  // namespace nfx::oracle
