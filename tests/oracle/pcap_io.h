// Reading the input frames and writing the output frames (libpcap,
// Ethernet link type only).
#pragma once

#include <pcap/pcap.h>

#include <string>
#include <vector>

#include "tap.h"

namespace nfx::oracle {

// Every frame of an Ethernet pcap; throws on another link type or on a
// frame stored truncated (caplen < len).
std::vector<Frame> read_pcap(const std::string& path);

class PcapWriter {
 public:
  explicit PcapWriter(const std::string& path);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Output frames are stamped (packet number, index among that packet's
  // outputs) as seconds and microseconds, so each names its input frame.
  void write(const Frame& frame, long packet, long index);

 private:
  pcap_t* pcap_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  std::string path_;
};

}  // namespace nfx::oracle
