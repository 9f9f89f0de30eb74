#include "topology.h"

#include <fmt/format.h>

#include <cstring>

#include "command.h"
#include "error.h"
#include "netns.h"

namespace nfx::oracle {

namespace {

std::string mac_text(const Mac& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void sysctl_all_default(const std::string& family, const std::string& name, const std::string& value,
                        bool verify = true) {
  write_sysctl("net/" + family + "/conf/all/" + name, value, verify);
  write_sysctl("net/" + family + "/conf/default/" + name, value, verify);
}

// tc cannot go in ip's batch; noqueue makes transmission on the taps
// synchronous (no qdisc that could defer a frame to a softirq). Done while
// the taps are down.
void noqueue() {
  run_checked({"tc", "-batch", "-"}, "qdisc replace dev tap0 root noqueue\nqdisc replace dev tap1 root noqueue\n");
}

}  // namespace

void prepare_common() {
  // br_netfilter (built in here) would pass bridged IP traffic through the
  // ip/ip6/arp hooks; its switches are per namespace and default to on.
  for (const char* f : {"arptables", "iptables", "ip6tables"}) {
    std::string key = std::string("net/bridge/bridge-nf-call-") + f;
    if (sysctl_exists(key)) write_sysctl(key, "0");
  }
  // Frames written to a tap are processed inside write() unless RPS hands
  // them to another CPU's backlog: keep RPS off on the taps.
  if (sysctl_exists("net/core/rps_default_mask")) write_sysctl("net/core/rps_default_mask", "0", false);
  // No IPv6 link-local addresses, DAD, router solicitations or RA handling
  // on devices created from now on.
  sysctl_all_default("ipv6", "addr_gen_mode", "1");
  sysctl_all_default("ipv6", "accept_dad", "0");
  sysctl_all_default("ipv6", "accept_ra", "0");
  sysctl_all_default("ipv6", "autoconf", "0");
  sysctl_all_default("ipv6", "router_solicitations", "0");
  write_sysctl("net/ipv6/auto_flowlabels", "0");
}

void setup_bridge() {
  sysctl_all_default("ipv6", "disable_ipv6", "1");
  noqueue();
  run_checked({"ip", "-batch", "-"}, fmt::format(R"(link set lo up
link set tap0 address {} multicast off
link set tap1 address {} multicast off
link add br0 address {} type bridge stp_state 0 mcast_snooping 0 mcast_querier 0 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0
link set br0 multicast off
link set tap0 master br0
link set tap1 master br0
link set dev tap0 type bridge_slave learning off flood on mcast_flood on bcast_flood on
link set dev tap1 type bridge_slave learning off flood on mcast_flood on bcast_flood on
link set tap0 up
link set tap1 up
link set br0 up
)",
                                                 mac_text(kTap0Mac), mac_text(kTap1Mac), mac_text(kBridgeMac)));
}

void prepare_router() {
  sysctl_all_default("ipv4", "rp_filter", "0");
  sysctl_all_default("ipv4", "accept_local", "1");
  sysctl_all_default("ipv4", "send_redirects", "0");
  sysctl_all_default("ipv6", "disable_ipv6", "0");
  // tap0's MLD reports (see await_mld_reports): MLDv1, whose join sends one
  // report at once and repeats it once after a random delay below the
  // interval -- one jiffy, so at once too. (The interval is stored in
  // jiffies, so it reads back rounded up.)
  sysctl_all_default("ipv6", "force_mld_version", "1");
  sysctl_all_default("ipv6", "mldv1_unsolicited_report_interval", "1", false);
  // ICMP errors are never rate limited, so replies do not depend on timing.
  write_sysctl("net/ipv4/icmp_ratemask", "0");
  write_sysctl("net/ipv4/icmp_ratelimit", "0");
  write_sysctl("net/ipv6/icmp/ratelimit", "0");
  if (sysctl_exists("net/ipv6/icmp/ratemask")) write_sysctl("net/ipv6/icmp/ratemask", "\n");  // empty
}

void setup_router() {
  // Multicast goes off before forwarding is switched on, so the taps never
  // join ff02::2 (and so never send MLD reports).
  run_checked({"ip", "-batch", "-"}, fmt::format(R"(link set lo up
link set tap0 address {} multicast off
link set tap1 address {} multicast off
addr add 198.18.0.1/32 dev tap0
addr add 198.18.1.1/32 dev tap1
addr add fd6e:6678::1/128 dev tap0 nodad
)",
                                                 mac_text(kTap0Mac), mac_text(kTap1Mac)));
  // The qdisc changes while the taps are down: a qdisc swap on a running
  // device drops what is sent meanwhile.
  noqueue();
  write_sysctl("net/ipv4/ip_forward", "1");
  write_sysctl("net/ipv6/conf/all/forwarding", "1");
  run_checked({"ip", "-batch", "-"}, fmt::format(R"(link set tap0 up
link set tap1 up
neigh replace 198.18.1.2 lladdr {out} dev tap1 nud permanent
neigh replace fe80::2 lladdr {out} dev tap1 nud permanent
neigh replace 198.18.0.2 lladdr {in} dev tap0 nud permanent
neigh replace fe80::2 lladdr {in} dev tap0 nud permanent
route add default via 198.18.1.2 dev tap1 onlink
route add default via fe80::2 dev tap1
route add default via 198.18.0.2 dev tap0 onlink table 100
route add default via fe80::2 dev tap0 table 100
rule add iif lo lookup 100 pref 100
)",
                                                 fmt::arg("out", mac_text(kOutsideGatewayMac)),
                                                 fmt::arg("in", mac_text(kInsideGatewayMac))));
  run_checked({"ip", "-6", "rule", "add", "iif", "lo", "lookup", "100", "pref", "100"});
}

void await_mld_reports(Tap& tap0) {
  constexpr int count = 2;
  // MLDv1 reports go to the group itself: ff02::1:ff00:1.
  static constexpr uint8_t kMldDst[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x01};
  auto is_report = [](const Frame& f) {
    return f.size() > 14 && std::memcmp(f.data(), kMldDst, 6) == 0 && f[12] == 0x86 && f[13] == 0xdd;
  };
  Frame f;
  for (int seen = 0; seen < count; ++seen) {
    if (!tap0.read(f, 2000))
      throw OracleError(fmt::format("tap0 sent {} of its {} MLD reports within 2 s after setup", seen, count));
    if (!is_report(f)) throw OracleError("tap0 sent an unexpected frame during setup");
  }
  // Belt and braces: the interface must then stay quiet.
  while (tap0.read(f, 20))
    if (!is_report(f)) throw OracleError("tap0 sent an unexpected frame during setup");
}

}  // namespace nfx::oracle
