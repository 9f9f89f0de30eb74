#include <pcap/pcap.h>

#include <memory>
#include <stdexcept>

#include "case_result.h"

namespace nfx::difftest {

namespace {
struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
struct DumperCloser {
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};
}  // namespace

// Frame i is stamped 1 s + i µs: the kernel ignores it and takes its own
// clock (some 5-20 µs per frame), nfx uses it as the packet's time. With the
// day-long rates the generated limits use, both clocks refill less than a
// millionth of a packet over a whole run.
void write_pcap(const std::string& path, const std::vector<Bytes>& frames) {
  std::unique_ptr<pcap_t, PcapCloser> dead(pcap_open_dead(DLT_EN10MB, 262144));
  std::unique_ptr<pcap_dumper_t, DumperCloser> d(pcap_dump_open(dead.get(), path.c_str()));
  if (!d) throw std::runtime_error(path + ": " + pcap_geterr(dead.get()));
  for (size_t i = 0; i < frames.size(); ++i) {
    pcap_pkthdr h{};
    h.ts.tv_sec = 1 + static_cast<long>(i / 1000000);
    h.ts.tv_usec = static_cast<long>(i % 1000000);
    h.caplen = h.len = static_cast<bpf_u_int32>(frames[i].size());
    pcap_dump(reinterpret_cast<u_char*>(d.get()), &h, frames[i].data());
  }
}

std::vector<Bytes> read_pcap(const std::string& path, std::vector<long>* seconds) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  std::unique_ptr<pcap_t, PcapCloser> p(pcap_open_offline(path.c_str(), err));
  if (!p) throw std::runtime_error(path + ": " + err);
  std::vector<Bytes> out;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p.get(), &h, &data) == 1) {
    out.emplace_back(data, data + h->caplen);
    if (seconds) seconds->push_back(h->ts.tv_sec);
  }
  return out;
}

}  // namespace nfx::difftest
