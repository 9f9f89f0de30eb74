#include "pcap_io.h"

#include "error.h"

namespace nfx::oracle {

std::vector<Frame> read_pcap(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (!p) throw OracleError("cannot read pcap " + path + ": " + err);
  if (pcap_datalink(p) != DLT_EN10MB) {
    pcap_close(p);
    throw OracleError(path + ": link type is not Ethernet (DLT_EN10MB)");
  }
  std::vector<Frame> frames;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
    if (h->caplen < h->len) {
      pcap_close(p);
      throw OracleError(path + ": frame " + std::to_string(frames.size() + 1) + " is truncated (caplen " +
                        std::to_string(h->caplen) + " < len " + std::to_string(h->len) + ")");
    }
    frames.emplace_back(data, data + h->caplen);
  }
  if (rc == -1) {
    std::string msg = path + ": " + pcap_geterr(p);
    pcap_close(p);
    throw OracleError(msg);
  }
  pcap_close(p);
  return frames;
}

PcapWriter::PcapWriter(const std::string& path) : path_(path) {
  pcap_ = pcap_open_dead(DLT_EN10MB, 262144);
  if (!pcap_) throw OracleError("pcap_open_dead failed");
  dumper_ = pcap_dump_open(pcap_, path.c_str());
  if (!dumper_) {
    std::string msg = "cannot write pcap " + path + ": " + pcap_geterr(pcap_);
    pcap_close(pcap_);
    throw OracleError(msg);
  }
}

PcapWriter::~PcapWriter() {
  if (dumper_) pcap_dump_close(dumper_);
  if (pcap_) pcap_close(pcap_);
}

void PcapWriter::write(const Frame& frame, long packet, long index) {
  pcap_pkthdr h{};
  h.ts.tv_sec = packet;
  h.ts.tv_usec = index;
  h.caplen = h.len = static_cast<bpf_u_int32>(frame.size());
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, frame.data());
}

}  // namespace nfx::oracle
