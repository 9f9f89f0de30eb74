// An NFLOG (nfnetlink_log) socket bound to one group, in the current
// namespace: the messages the harness's `log group` rules emit, in order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nfx::oracle {

struct LogMessage {
  std::string prefix;
  std::vector<uint8_t> payload;  // the packet from its network header
};

class NflogSocket {
 public:
  explicit NflogSocket(uint16_t group);
  ~NflogSocket();
  NflogSocket(const NflogSocket&) = delete;
  NflogSocket& operator=(const NflogSocket&) = delete;

  // Next log message, waiting at most timeout_ms; false on timeout.
  bool read(LogMessage& msg, int timeout_ms);

 private:
  void request(const std::vector<uint8_t>& attrs);
  int fd_ = -1;
  uint16_t group_;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0, len_ = 0;
};

}  // namespace nfx::oracle
