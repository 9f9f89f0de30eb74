#include "eval.h"

#include "trace.h"

#include <fmt/format.h>
#include <nfx/jit.h>
#include <nfx/pipeline.h>
#include <pcap/pcap.h>

#include <sys/time.h>
#include <arpa/inet.h>

#include <cstdio>
#include <functional>
#include <memory>

namespace nfx::cli {

namespace {

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
struct DumperCloser {
  void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); }
};


// The dumper of a pcap file of `dlt` frames at `path`, or null with a message.
bool open_dump(const std::string& path, int dlt, std::unique_ptr<pcap_t, PcapCloser>& dead,
               std::unique_ptr<pcap_dumper_t, DumperCloser>& dump) {
  dead.reset(pcap_open_dead(dlt, 262144));
  dump.reset(pcap_dump_open(dead.get(), path.c_str()));
  if (!dump) std::fprintf(stderr, "Error: %s: %s\n", path.c_str(), pcap_geterr(dead.get()));
  return dump != nullptr;
}

// The addresses given by `option` into the interface.
bool parse_addrs(const std::vector<std::string>& addrs, const char* option, pipeline::Interface& dev) {
  for (const std::string& a : addrs) {
    uint8_t buf[16];
    if (inet_pton(AF_INET, a.c_str(), buf) == 1) {
      dev.addr4.assign(buf, buf + 4);
    } else if (inet_pton(AF_INET6, a.c_str(), buf) == 1) {
      dev.addr6.assign(buf, buf + 16);
    } else {
      std::fprintf(stderr, "Error: %s %s is not an IPv4 or IPv6 address\n", option, a.c_str());
      return false;
    }
  }
  return true;
}

// `text` (empty: not given) into `mac`; `option` names it in the error.
bool parse_mac(const std::string& text, const char* option, std::vector<uint8_t>& mac) {
  if (text.empty()) return true;
  unsigned m[6];
  char end;
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) != 6) {
    std::fprintf(stderr, "Error: %s %s is not a MAC address\n", option, text.c_str());
    return false;
  }
  for (unsigned b : m) mac.push_back(static_cast<uint8_t>(b));
  return true;
}

}  // namespace

int run_eval(const Ruleset& rs, const EvalOptions& o) {
  pipeline::Path path;
  if (!pipeline::path_from_name(o.path, path)) {
    std::fprintf(stderr, "Error: unknown path '%s' (input, forward, output or bridge)\n", o.path.c_str());
    return 1;
  }
  ir::Program prog;
  Diagnostics diags;
  bool lowered = lower_ruleset(rs, prog, diags);
  if (!diags.all().empty()) std::fputs(diags.format().c_str(), stderr);
  if (!lowered) return 1;
  std::vector<std::string> errors;
  auto vm = vm::Interpreter::load(std::move(prog), errors, o.seed);
  if (!vm) {
    for (const auto& e : errors) std::fprintf(stderr, "Error: %s\n", e.c_str());
    return 1;
  }
  if (o.jit) {
    try {
      vm->install_native(jit::compile(*vm));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "Error: %s\n", e.what());
      return 1;
    }
  }

  char err[PCAP_ERRBUF_SIZE] = {0};
  std::unique_ptr<pcap_t, PcapCloser> in(pcap_open_offline(o.pcap.c_str(), err));
  if (!in) {
    std::fprintf(stderr, "Error: %s: %s\n", o.pcap.c_str(), err);
    return 1;
  }
  int dlt = pcap_datalink(in.get());
  packet::LinkType link;
  if (dlt == DLT_EN10MB) link = packet::LinkType::Ethernet;
  else if (dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6) link = packet::LinkType::RawIp;
  else {
    std::fprintf(stderr, "Error: %s: link type %s is not Ethernet or raw IP\n", o.pcap.c_str(),
                 pcap_datalink_val_to_name(dlt));
    return 1;
  }
  std::unique_ptr<pcap_t, PcapCloser> dead, dead_replies;
  std::unique_ptr<pcap_dumper_t, DumperCloser> out, replies;
  if (!o.out_pcap.empty() && !open_dump(o.out_pcap, dlt, dead, out)) return 1;
  if (!o.replies_pcap.empty() && !open_dump(o.replies_pcap, dlt, dead_replies, replies)) return 1;

  // meta day follows the kernel's sys_tz, as nft_meta_weekday does
  struct timezone ktz{};
  struct timeval tv{};
  gettimeofday(&tv, &ktz);

  pipeline::Interface iif{o.iif, 2, {}, {}, {}, {}}, oif{o.oif, 3, {}, {}, {}, {}};
  if (!parse_addrs(o.iif_addrs, "--iif-addr", iif) || !parse_addrs(o.oif_addrs, "--oif-addr", oif) || !parse_mac(o.iif_mac, "--iif-mac", iif.mac) ||
      !parse_mac(o.oif_mac, "--oif-mac", oif.mac) || !parse_mac(o.next_hop_mac, "--next-hop-mac", oif.peer_mac))
    return 1;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  uint64_t n = 0, last_ns = 0;
  int rc;
  TracePrinter tracer(rs, o.trace);
  while ((rc = pcap_next_ex(in.get(), &hdr, &data)) == 1) {
    ++n;
    vm::Packet pkt;
    tracer.begin_packet(n);
    // Any trace callback keeps run_hook in the interpreter: with --jit and
    // no --trace the chains run natively (and nftrace prints nothing).
    std::function<void(const vm::TraceEvent&)> trace;
    if (!o.jit || o.trace) trace = [&](const vm::TraceEvent& ev) { std::fputs(tracer.event(ev, pkt).c_str(), stdout); };
    pkt.frame = packet::Frame(data, hdr->caplen);
    pkt.layout.link = link;
    pkt.meta.now_ns = static_cast<uint64_t>(hdr->ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(hdr->ts.tv_usec) * 1000ull;
    pkt.meta.tz_minuteswest = ktz.tz_minuteswest;
    last_ns = pkt.meta.now_ns;
    pipeline::PathResult r = pipeline::run_path(*vm, path, pkt, iif, oif, trace);
    for (const auto& line : r.log) std::fprintf(stderr, "log: %s\n", line.c_str());
    const vm::Decision& d = r.decision;
    std::string verdict = r.accepted ? "accept" : "drop";
    if (o.json) {
      std::string line = fmt::format("{{\"packet\": {}, \"verdict\": \"{}\"", n, verdict);
      if (!d.chain.empty()) line += fmt::format(", \"chain\": \"{} {} {}\"", d.family, d.table, d.chain);
      if (!d.chain.empty() && !d.by_policy) line += fmt::format(", \"handle\": {}", d.handle);
      std::printf("%s}\n", line.c_str());
    } else {
      std::string who = d.chain.empty() ? (r.dropped_before.empty() ? "no chain" : "dropped by " + r.dropped_before)
                        : d.by_policy ? fmt::format("{} {} {} policy", d.family, d.table, d.chain)
                                      : fmt::format("{} {} {} handle {}", d.family, d.table, d.chain, d.handle);
      std::printf("packet %llu: %s (%s)\n", static_cast<unsigned long long>(n), verdict.c_str(), who.c_str());
    }
    if (out && r.accepted && path != pipeline::Path::Input) {
      pcap_pkthdr oh = *hdr;
      oh.caplen = oh.len = static_cast<bpf_u_int32>(pkt.frame.size());
      pcap_dump(reinterpret_cast<u_char*>(out.get()), &oh, pkt.frame.data());
    }
    for (size_t k = 0; replies && k < r.replies.size(); ++k) {
      pcap_pkthdr rh{};
      rh.ts.tv_sec = static_cast<time_t>(n);
      rh.ts.tv_usec = static_cast<suseconds_t>(k);
      rh.caplen = rh.len = static_cast<bpf_u_int32>(r.replies[k].size());
      pcap_dump(reinterpret_cast<u_char*>(replies.get()), &rh, r.replies[k].data());
    }
  }
  if (rc == PCAP_ERROR) {
    std::fprintf(stderr, "Error: %s: %s\n", o.pcap.c_str(), pcap_geterr(in.get()));
    return 1;
  }
  if (o.conntrack) {
    // as `conntrack -L` lists it at the time of the last packet
    for (const std::string& line : vm->conntrack().list(last_ns)) std::printf("%s\n", line.c_str());
    std::fprintf(stderr, "conntrack: %zu flow entries have been shown.\n", vm->conntrack().size());
  }
  return 0;
}

}  // namespace nfx::cli
