// Connection tracking helpers as the kernel's nf_conntrack_ftp/tftp and
// nf_nat_ftp/tftp are: they read a connection's packets for the address of
// the connection it will open next, expect that connection (so it is
// RELATED and follows the master's NAT), and with NAT rewrite the address in
// the payload; TCP sequence numbers are then adjusted in both directions
// (nf_conntrack_seqadj).
//
// Helpers run where the kernel runs them: in nf_confirm, after the last
// hook (postrouting or input), on connections a `ct helper set` rule gave a
// helper to.
#pragma once

#include <nfx/conntrack.h>
#include <nfx/nat.h>
#include <nfx/packet.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace nfx::helpers {

// A helper nfx has (struct nf_conntrack_helper and its expect policy).
struct Helper {
  std::string_view name;   // "ftp", "tftp"
  uint8_t l4proto;         // the protocol its `ct helper` objects name
  size_t max_expected;     // expectations per master
  uint32_t expect_timeout; // seconds
};
// The helper called `name` (as a `ct helper` object's type names it), or nullptr.
const Helper* find(std::string_view name);

// What the confirm step did with a packet.
struct Outcome {
  bool drop = false;
  std::string why;       // drop: why (the kernel's nf_ct_helper_log text)
  bool resized = false;  // the payload changed length: headers after it moved
};

// nf_confirm before the connection is confirmed: the helper of the packet's
// connection (if any) and the sequence adjustment (if the connection has
// one). `frame` may change length; `layout` is the packet's (IpStack).
// Expectations made for a translated connection bind the expected one
// through `nat` (nf_nat_follow_master), which must outlive `table`.
Outcome confirm_step(packet::Frame& frame, const packet::PacketLayout& layout, conntrack::Table& table,
                     nat::Nat& nat, const conntrack::Tracked& t, uint64_t now_ns);

}  // namespace nfx::helpers
