// The text of a `log` statement line, as the kernel's nf_log_syslog writes
// it to the kernel log.
#pragma once

#include <nfx/vm.h>

#include <string>

namespace nfx::vm {

// `prefix`, then "IN=... OUT=... ", the link header (MAC=, when there is an
// input device), and the network and transport headers field by field, in
// nf_log_syslog's order and spelling. `flags` are the NF_LOG_* bits (tcp
// sequence 0x01, tcp options 0x02, ip options 0x04, skuid 0x08 (no sockets
// here: nothing printed), ether 0x20).
std::string format_log(const std::string& prefix, uint32_t flags, const Packet& pkt);

}  // namespace nfx::vm
