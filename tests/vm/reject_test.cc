// The reject statement in the interpreter and the pipeline: the packet is
// dropped, the reply leaves by the input interface through the hooks of
// the way out, and load refuses what the kernel refuses.
#include <gtest/gtest.h>
#include <nfx/compiler.h>
#include <nfx/pipeline.h>

#include "../packet/frame_builder.h"

namespace nfx {
namespace {

using namespace packet::testing;

// Checked and lowered ruleset text.
ir::Program lower_text(const std::string& text) {
  Diagnostics diags;
  Script script = parse_string(text, "<test>", diags);
  Ruleset rs;
  EXPECT_TRUE(!diags.has_errors() && apply_script(script, rs, diags)) << diags.format();
  ir::Program prog;
  EXPECT_TRUE(lower_ruleset(rs, prog, diags)) << diags.format();
  return prog;
}

std::unique_ptr<vm::Interpreter> compile(const std::string& text, std::string* error = nullptr,
                                         vm::KernelFeatures features = {}) {
  std::vector<std::string> errors;
  auto vm = vm::Interpreter::load(lower_text(text), errors, 0, features);
  if (!vm && error)
    for (auto& e : errors) *error += e + "\n";
  return vm;
}

pipeline::PathResult run(vm::Interpreter& vm, const Bytes& frame, pipeline::Path path) {
  vm::Packet pkt;
  pkt.frame = packet::Frame(frame.data(), frame.size());
  pipeline::Interface iif{"eth0", 2, {198, 51, 100, 1}, {}, {}, {}}, oif{"eth1", 3, {}, {}, {}, {}};
  return pipeline::run_path(vm, path, pkt, iif, oif);
}

Bytes syn() { return ethernet(0x0800, ipv4(Ip4{}, tcp(40000, 22))); }

TEST(Reject, DropsAndSendsTheResetBackWithTheMacsSwapped) {
  auto vm = compile("table inet t { chain c { type filter hook input priority 0; tcp dport 22 reject with tcp reset } }");
  ASSERT_TRUE(vm);
  pipeline::PathResult r = run(*vm, syn(), pipeline::Path::Input);
  EXPECT_FALSE(r.accepted);
  EXPECT_EQ(r.decision.verdict, ir::VerdictCode::Drop);
  EXPECT_EQ(r.decision.handle, 2u);
  ASSERT_EQ(r.replies.size(), 1u);
  const packet::Frame& f = r.replies[0];
  ASSERT_EQ(f.size(), 54u);
  Bytes in = syn();
  EXPECT_TRUE(std::equal(f.data(), f.data() + 6, in.begin() + 6));
  EXPECT_TRUE(std::equal(f.data() + 6, f.data() + 12, in.begin()));
  EXPECT_EQ(f.data()[14 + 9], kTcp);
  EXPECT_EQ(f.data()[14 + 33], 0x14);
}

TEST(Reject, ForwardedPacketsGetIcmpErrorsFromTheInterfaceAddress) {
  auto vm = compile("table ip t { chain c { type filter hook forward priority 0; reject } }");
  ASSERT_TRUE(vm);
  pipeline::PathResult r = run(*vm, ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2))), pipeline::Path::Forward);
  EXPECT_FALSE(r.accepted);
  ASSERT_EQ(r.replies.size(), 1u);
  const uint8_t* ip = r.replies[0].data() + 14;
  EXPECT_EQ(ip[12], 198);
  EXPECT_EQ(ip[15], 1);
  EXPECT_EQ(ip[20], 3);
  EXPECT_EQ(ip[21], 3);  // port unreachable
}

TEST(Reject, TheReplyMeetsTheOutputHooks) {
  auto vm = compile(R"(table ip t {
    chain c { type filter hook input priority 0; reject with tcp reset }
    chain o { type filter hook output priority 0; tcp flags rst drop } })");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(run(*vm, syn(), pipeline::Path::Input).replies.empty());
}

TEST(Reject, NetdevRepliesLeaveByTheDevice) {
  auto vm = compile("table netdev t { chain c { type filter hook ingress device eth0 priority 0; reject } }");
  ASSERT_TRUE(vm);
  pipeline::PathResult r = run(*vm, ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2))), pipeline::Path::Bridge);
  EXPECT_FALSE(r.accepted);
  ASSERT_EQ(r.replies.size(), 1u);
  EXPECT_EQ(r.replies[0].data()[14 + 8], 64);
  EXPECT_EQ(r.replies[0].data()[14 + 20], 3);
  Bytes bcast = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2)));
  std::fill(bcast.begin(), bcast.begin() + 6, 0xff);
  EXPECT_TRUE(run(*vm, bcast, pipeline::Path::Bridge).replies.empty());
}

TEST(Reject, BridgeRepliesKeepTheVlanTag) {
  auto vm = compile("table bridge t { chain c { type filter hook prerouting priority 0; reject } }", nullptr,
                    vm::KernelFeatures{true});
  ASSERT_TRUE(vm);
  Bytes f = ethernet(0x0800, ipv4(ip4_proto(kUdp), udp(1, 2)), {{0x8100, 0x2005}});
  pipeline::PathResult r = run(*vm, f, pipeline::Path::Bridge);
  ASSERT_EQ(r.replies.size(), 1u);
  const uint8_t* e = r.replies[0].data();
  EXPECT_EQ(get16(Bytes(e, e + 18), 12), 0x8100);
  EXPECT_EQ(get16(Bytes(e, e + 18), 14), 0x2005);
  EXPECT_EQ(get16(Bytes(e, e + 18), 16), 0x0800);
}

// The compiler refuses a reject in a base chain at the wrong hook already;
// the interpreter checks the IR it is given on its own, through jumps, as
// the kernel does. `hook` replaces base chain `chain`'s hook in the IR.
std::string load_errors(const std::string& text, const std::string& chain, const std::string& hook,
                        vm::KernelFeatures features = {}) {
  ir::Program prog = lower_text(text);
  for (ir::Table& t : prog.tables)
    for (ir::Chain& c : t.chains)
      if (c.name == chain) c.hook = hook;
  std::vector<std::string> errors;
  auto vm = vm::Interpreter::load(std::move(prog), errors, 0, features);
  std::string out;
  for (auto& e : errors) out += e + "\n";
  return vm ? "loaded" : out;
}

TEST(Reject, LoadRefusesWhatTheKernelRefuses) {
  std::string why = load_errors("table ip t { chain c { type filter hook input priority 0; reject } }", "c",
                                "postrouting");
  EXPECT_NE(why.find("not allowed at hook postrouting"), std::string::npos) << why;
  why = load_errors(R"(table ip t { chain u { reject }
    chain c { type filter hook input priority 0; jump u } })", "c", "postrouting");
  EXPECT_NE(why.find("chain ip t u"), std::string::npos) << why;
  why = load_errors("table netdev t { chain c { type filter hook ingress device eth0 priority 0; reject } }", "c",
                    "egress");
  EXPECT_NE(why.find("hook egress"), std::string::npos) << why;
  why = load_errors("table bridge t { chain c { type filter hook prerouting priority 0; reject } }", "c",
                    "prerouting");
  EXPECT_NE(why.find("CONFIG_NFT_BRIDGE_REJECT"), std::string::npos) << why;
  EXPECT_EQ(load_errors("table bridge t { chain c { type filter hook prerouting priority 0; reject } }", "c",
                        "prerouting", vm::KernelFeatures{true}),
            "loaded");
  why = load_errors("table bridge t { chain c { type filter hook prerouting priority 0; reject } }", "c", "forward",
                    vm::KernelFeatures{true});
  EXPECT_NE(why.find("hook forward"), std::string::npos) << why;
  EXPECT_TRUE(compile("table inet t { chain c { type filter hook ingress device eth0 priority 0; reject } }"));
  EXPECT_TRUE(compile("table ip t { chain u { reject } chain c { type filter hook output priority 0; jump u } }"));
}

TEST(Reject, OutputPathRepliesAreForThisHost) {
  auto vm = compile("table ip t { chain c { type filter hook output priority 0; reject with tcp reset } }");
  ASSERT_TRUE(vm);
  pipeline::PathResult r = run(*vm, syn(), pipeline::Path::Output);
  EXPECT_FALSE(r.accepted);
  EXPECT_TRUE(r.replies.empty());
}

}  // namespace
}  // namespace nfx
