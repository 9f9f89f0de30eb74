#include "random_source.h"

namespace nfx::difftest {

const char* path_name(Path p) {
  switch (p) {
    case Path::Bridge: return "bridge";
    case Path::Forward: return "forward";
    case Path::Input: return "input";
  }
  return "?";
}

const std::vector<std::string> Pools::host_macs = {"02:00:00:00:00:aa", "02:00:00:00:00:bb", "02:00:00:00:00:cc",
                                                   "0a:1b:2c:3d:4e:5f"};
const std::vector<std::string> Pools::group_macs = {"ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "33:33:00:00:00:01",
                                                    "01:80:c2:00:00:00"};
const std::vector<std::string> Pools::ipv4_hosts = {"10.0.0.1",    "10.0.0.2",   "10.0.0.77",   "10.0.1.5",
                                                    "10.0.1.200",  "192.168.1.1", "192.168.1.254", "203.0.113.9",
                                                    "172.16.5.4",  "8.8.8.8"};
const std::vector<std::string> Pools::ipv4_prefixes = {"10.0.0.0/24", "10.0.0.0/8", "10.0.1.0/25", "192.168.1.0/24",
                                                       "203.0.113.0/28", "172.16.0.0/12", "0.0.0.0/1"};
const std::vector<std::string> Pools::ipv6_hosts = {"2001:db8::1", "2001:db8::2", "2001:db8:0:1::5", "2001:db8:ff::9",
                                                    "fd00::1", "2a00:1450::200e"};
const std::vector<std::string> Pools::ipv6_prefixes = {"2001:db8::/64", "2001:db8::/32", "fd00::/8", "2001:db8:0:1::/64",
                                                       "::/1"};
const std::vector<uint16_t> Pools::ports = {22, 53, 80, 123, 443, 1000, 1500, 2000, 8080, 65535, 0, 33434};
const std::vector<uint8_t> Pools::ttls = {1, 2, 5, 63, 64, 128, 255, 0};
const std::vector<uint8_t> Pools::tos_values = {0x00, 0x10, 0x28, 0x48, 0xb8, 0xc0, 0x01, 0x02, 0x03, 0xfe};
const std::vector<uint16_t> Pools::vlan_ids = {0, 1, 5, 100, 4094, 4095};

}  // namespace nfx::difftest
