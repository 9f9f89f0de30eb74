// NAT and helper rules through the interpreter and the hook pipeline: what
// loads and what the kernel refuses, nat chains consulted only for a new
// connection, masquerade and redirect addresses, and the FTP helper's edge
// cases (a line split inside a command, an address of a third host, the
// first line of a direction, expectations replaced and timed out).
#include <arpa/inet.h>

#include <string>

#include "harness.h"

namespace nfx::vmtest {
namespace {

using namespace packet::testing;

constexpr uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08;
constexpr uint64_t kSecond = 1'000'000'000;

struct Seg {
  const char* src;
  const char* dst;
  uint16_t sport, dport;
  uint8_t flags;
  uint32_t seq, ack;
  std::string payload;
};

Bytes tcp_frame(const Seg& s) {
  Bytes t(20, 0);
  put16(t, 0, s.sport);
  put16(t, 2, s.dport);
  for (int i = 0; i < 4; ++i) t[4 + i] = static_cast<uint8_t>(s.seq >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) t[8 + i] = static_cast<uint8_t>(s.ack >> (24 - 8 * i));
  t[12] = 5 << 4;
  t[13] = s.flags;
  put16(t, 14, 64240);
  t.insert(t.end(), s.payload.begin(), s.payload.end());
  Ip4 ip;
  ip.proto = kTcp;
  inet_pton(AF_INET, s.src, ip.src.data());
  inet_pton(AF_INET, s.dst, ip.dst.data());
  return ethernet(0x0800, ipv4(ip, t));
}

// Forward `f` from eth0 (inside) or eth1 (outside); the frame that leaves, or empty.
struct Net {
  std::unique_ptr<vm::Interpreter> vm;
  uint64_t now = kSecond;
  pipeline::Interface in{"eth0", 2, {10, 0, 0, 1}, {}, {}, {}}, out{"eth1", 3, {203, 0, 113, 1}, {}, {}, {}};

  Bytes forward(const Seg& s, bool from_outside = false) {
    Bytes f = tcp_frame(s);
    vm::Packet pkt;
    pkt.frame = packet::Frame(f.data(), f.size());
    pkt.meta.now_ns = now += 1000;
    auto r = pipeline::run_path(*vm, pipeline::Path::Forward, pkt, from_outside ? out : in,
                                from_outside ? in : out);
    if (!r.accepted) return {};
    return Bytes(pkt.frame.data(), pkt.frame.data() + pkt.frame.size());
  }
};

std::string addr_at(const Bytes& f, size_t off) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &f[off], buf, sizeof buf);
  return buf;
}

std::string payload_of(const Bytes& f) { return std::string(f.begin() + 14 + 20 + 20, f.end()); }

const char* kFtpRules = R"(table ip nat {
  chain post { type nat hook postrouting priority srcnat; oifname "eth1" masquerade; }
}
table ip filter {
  ct helper ftp-standard { type "ftp" protocol tcp; }
  chain fwd { type filter hook forward priority filter; policy drop;
    tcp dport 21 ct helper set "ftp-standard"
    ct state established,related accept
    ct state new iifname "eth0" accept
  }
  chain related { type filter hook forward priority 10; ct helper "ftp" counter; }
})";

// A control connection from 10.0.0.2:40000 to 192.0.2.7:21 through the
// masquerade, up to the server's first reply and the client's first line.
struct Ftp {
  Net net;
  uint32_t cseq = 100, sseq = 500;
  explicit Ftp(const char* rules = kFtpRules) {
    std::string error;
    net.vm = compile(rules, &error);
    EXPECT_TRUE(net.vm) << error;
  }
  Bytes client(const std::string& text, int shift = 0) {
    Bytes out = net.forward({"10.0.0.2", "192.0.2.7", 40000, 21, kAck | kPsh, cseq, sseq, text});
    cseq += static_cast<uint32_t>(text.size());
    (void)shift;
    return out;
  }
  Bytes server(const std::string& text, int shift = 0) {
    Bytes out = net.forward(
        {"192.0.2.7", "203.0.113.1", 21, 40000, kAck | kPsh, sseq, cseq + static_cast<uint32_t>(shift), text}, true);
    sseq += static_cast<uint32_t>(text.size());
    return out;
  }
  void open() {
    ASSERT_FALSE(net.forward({"10.0.0.2", "192.0.2.7", 40000, 21, kSyn, cseq++, 0, ""}).empty());
    ASSERT_FALSE(net.forward({"192.0.2.7", "203.0.113.1", 21, 40000, kSyn | kAck, sseq++, cseq, ""}, true).empty());
    ASSERT_FALSE(net.forward({"10.0.0.2", "192.0.2.7", 40000, 21, kAck, cseq, sseq, ""}).empty());
    ASSERT_FALSE(server("220 hi\r\n").empty());
    ASSERT_FALSE(client("USER a\r\n").empty());
    ASSERT_FALSE(server("331 pw\r\n").empty());
  }
  // the server's active data connection to the port the client announced
  Bytes data_from_server(uint16_t port) {
    return net.forward({"192.0.2.7", "203.0.113.1", 20, port, kSyn, 9000, 0, ""}, true);
  }
};

// As the kernel refuses them (Operation not supported), with the rule's place.
std::string front_end_error(const std::string& text) {
  Diagnostics diags;
  Script script = parse_string(text, "<test>", diags);
  Ruleset rs;
  if (!diags.has_errors()) apply_script(script, rs, diags);
  return diags.format();
}

TEST(NatRules, NatStatementsOutsideNatChainsAreRefused) {
  std::string error = front_end_error("table ip t { chain f { type filter hook forward priority 0; masquerade; } }");
  EXPECT_NE(error.find("<test>:1:61-70: Error: Could not process rule: Operation not supported"), std::string::npos)
      << error;
  error = front_end_error("table ip t { chain p { type nat hook prerouting priority -100; snat to 1.2.3.4; } }");
  EXPECT_NE(error.find("Operation not supported"), std::string::npos) << error;
}

TEST(NatRules, UnknownHelperTypesAreRefused) {
  std::string error;
  EXPECT_FALSE(compile(R"(table ip t { ct helper h { type "sip" protocol udp; }
    chain f { type filter hook forward priority 0; ct helper set "h"; } })",
                       &error));
  EXPECT_NE(error.find("ftp (tcp) and tftp (udp)"), std::string::npos) << error;
}

TEST(NatRules, OnlyTheFirstPacketMeetsTheNatChains) {
  Net net;
  std::string error;
  net.vm = compile(R"(table ip nat {
    chain post { type nat hook postrouting priority srcnat; counter; oifname "eth1" masquerade; }
  })",
                   &error);
  ASSERT_TRUE(net.vm) << error;
  Bytes syn = net.forward({"10.0.0.2", "192.0.2.7", 40000, 80, kSyn, 1, 0, ""});
  ASSERT_FALSE(syn.empty());
  EXPECT_EQ(addr_at(syn, 14 + 12), "203.0.113.1");
  Bytes reply = net.forward({"192.0.2.7", "203.0.113.1", 80, 40000, kSyn | kAck, 7, 2, ""}, true);
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(addr_at(reply, 14 + 16), "10.0.0.2");
  ASSERT_FALSE(net.forward({"10.0.0.2", "192.0.2.7", 40000, 80, kAck, 2, 8, ""}).empty());
  EXPECT_EQ(net.vm->rule_counters(0, 0, 0).at(0).packets, 1u);  // the SYN only
}

TEST(NatRules, MasqueradeWithoutAnOutputAddressDrops) {
  Net net;
  net.out.addr4.clear();
  net.vm = compile(R"(table ip nat { chain post { type nat hook postrouting priority srcnat; masquerade; } })");
  ASSERT_TRUE(net.vm);
  EXPECT_TRUE(net.forward({"10.0.0.2", "192.0.2.7", 40000, 80, kSyn, 1, 0, ""}).empty());
}

TEST(NatRules, DnatToAPortAndTheReplyBack) {
  Net net;
  net.vm = compile(R"(table ip nat {
    chain pre { type nat hook prerouting priority dstnat; iifname "eth1" tcp dport 8080 dnat to 10.0.0.9:80; }
  })");
  ASSERT_TRUE(net.vm);
  Bytes in = net.forward({"192.0.2.7", "203.0.113.1", 5555, 8080, kSyn, 1, 0, ""}, true);
  ASSERT_FALSE(in.empty());
  EXPECT_EQ(addr_at(in, 14 + 16), "10.0.0.9");
  EXPECT_EQ(get16(in, 14 + 22), 80);
  Bytes back = net.forward({"10.0.0.9", "192.0.2.7", 80, 5555, kSyn | kAck, 9, 2, ""});
  ASSERT_FALSE(back.empty());
  EXPECT_EQ(addr_at(back, 14 + 12), "203.0.113.1");
  EXPECT_EQ(get16(back, 14 + 20), 8080);
}

TEST(FtpHelper, PortIsRewrittenAndTheDataConnectionIsRelated) {
  Ftp ftp;
  ftp.open();
  Bytes port = ftp.client("PORT 10,0,0,2,156,66\r\n");
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(payload_of(port), "PORT 203,0,113,1,156,66\r\n");
  EXPECT_TRUE(packet::transport_checksum_ok(port, packet::parse_layout(port, packet::LinkType::Ethernet, packet::Context::IpStack)));
  // the server's answer acknowledges the longer text: the client sees its own numbering
  Bytes ok = ftp.server("200 ok\r\n", 3);
  ASSERT_FALSE(ok.empty());
  EXPECT_EQ(get16(ok, 14 + 20 + 8) << 16 | get16(ok, 14 + 20 + 10), ftp.cseq);
  // the announced connection is RELATED (the policy would drop a new one)
  Bytes data = ftp.data_from_server(40002);
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(addr_at(data, 14 + 16), "10.0.0.2");
  EXPECT_EQ(ftp.net.vm->rule_counters(1, 1, 0).at(0).packets, 1u);  // ct helper "ftp": the data connection
  // used up: a second connection to the same port is new, and dropped
  EXPECT_TRUE(ftp.net.forward({"192.0.2.7", "203.0.113.1", 21, 40002, kSyn, 1, 0, ""}, true).empty());
}

TEST(FtpHelper, ACommandSplitAcrossSegmentsIsDropped) {
  Ftp ftp;
  ftp.open();
  EXPECT_TRUE(ftp.client("POR").empty());  // a partial match: dropped, so tracking stays exact
}

TEST(FtpHelper, AMalformedPortIsDropped) {
  Ftp ftp;
  ftp.open();
  EXPECT_TRUE(ftp.client("PORT 10,0,0,2,x\r\n").empty());
}

TEST(FtpHelper, AThirdHostIsNotExpected) {
  Ftp ftp;
  ftp.open();
  Bytes port = ftp.client("PORT 10,0,0,99,156,66\r\n");
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(payload_of(port), "PORT 10,0,0,99,156,66\r\n");  // left alone
  EXPECT_TRUE(ftp.data_from_server(40002).empty());
}

TEST(FtpHelper, TheFirstLineOfADirectionIsNotRead) {
  Ftp ftp;
  ASSERT_FALSE(ftp.net.forward({"10.0.0.2", "192.0.2.7", 40000, 21, kSyn, ftp.cseq++, 0, ""}).empty());
  ASSERT_FALSE(
      ftp.net.forward({"192.0.2.7", "203.0.113.1", 21, 40000, kSyn | kAck, ftp.sseq++, ftp.cseq, ""}, true).empty());
  ASSERT_FALSE(ftp.net.forward({"10.0.0.2", "192.0.2.7", 40000, 21, kAck, ftp.cseq, ftp.sseq, ""}).empty());
  ASSERT_FALSE(ftp.server("220 hi\r\n").empty());
  Bytes port = ftp.client("PORT 10,0,0,2,156,66\r\n");  // no line before it in this direction
  ASSERT_FALSE(port.empty());
  EXPECT_EQ(payload_of(port), "PORT 10,0,0,2,156,66\r\n");
  EXPECT_TRUE(ftp.data_from_server(40002).empty());
}

TEST(FtpHelper, ANewAnnouncementReplacesTheOldAndExpectationsExpire) {
  Ftp ftp;
  ftp.open();
  ASSERT_FALSE(ftp.client("PORT 10,0,0,2,156,66\r\n").empty());
  ASSERT_FALSE(ftp.server("200 ok\r\n", 3).empty());
  ASSERT_FALSE(ftp.client("PORT 10,0,0,2,156,67\r\n").empty());
  EXPECT_EQ(ftp.net.vm->conntrack().expectations(ftp.net.now).size(), 1u);  // one per master
  EXPECT_TRUE(ftp.data_from_server(40002).empty());
  ftp.net.now += 301 * kSecond;  // the ftp helper's 5 minutes are over
  EXPECT_TRUE(ftp.data_from_server(40003).empty());
}

}  // namespace
}  // namespace nfx::vmtest
