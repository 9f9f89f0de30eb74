// The TCP tracker: a connection's life through the state table with the
// kernel's timeouts, window tracking (segments past the receiver's window
// and acks of data never sent are invalid), header checks, retransmitted
// SYNs, a RST as the only answer, mid-stream pickup, ignored segments and
// a SYN reopening a closed connection.
#include <gtest/gtest.h>
#include <nfx/conntrack.h>

#include "../packet/frame_builder.h"

namespace nfx::conntrack {
namespace {

using namespace packet::testing;

constexpr uint64_t kSec = 1'000'000'000;
constexpr uint8_t kF = 0x01, kS = 0x02, kR = 0x04, kP = 0x08, kA = 0x10;

const std::array<uint8_t, 4> kClient{10, 0, 0, 1}, kServer{192, 0, 2, 7};

// A TCP segment with real sequence numbers, window and options.
Bytes segment(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
              Bytes options, size_t payload) {
  while (options.size() % 4) options.push_back(0);
  Bytes b(20, 0);
  put16(b, 0, sport);
  put16(b, 2, dport);
  for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) b[8 + i] = static_cast<uint8_t>(ack >> (24 - 8 * i));
  b[12] = static_cast<uint8_t>((20 + options.size()) / 4 << 4);
  b[13] = flags;
  put16(b, 14, win);
  b.insert(b.end(), options.begin(), options.end());
  b.insert(b.end(), payload, 'x');
  return b;
}

// MSS 1460, SACK permitted, window scale 7: what Linux sends in a SYN.
const Bytes kSynOptions = {2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7};

struct Connection {
  Table& table;
  uint64_t now = 0;
  uint16_t cport = 40000, sport = 80;

  Tracked send(bool from_client, uint32_t seq, uint32_t ack, uint8_t flags, size_t payload = 0,
               uint16_t win = 502, Bytes options = {}) {
    Ip4 ip;
    ip.proto = kTcp;
    ip.src = from_client ? kClient : kServer;
    ip.dst = from_client ? kServer : kClient;
    Bytes seg = from_client ? segment(cport, sport, seq, ack, flags, win, options, payload)
                            : segment(sport, cport, seq, ack, flags, win, options, payload);
    Bytes frame = ethernet(0x0800, ipv4(ip, seg));
    auto layout = packet::parse_layout(frame, packet::LinkType::Ethernet, packet::Context::IpStack);
    Tracked t = table.in(frame, layout, TrackHook::Prerouting, 0, now);
    if (t.entry) {
      EXPECT_TRUE(table.confirm(t, now));
    }
    return t;
  }
  Tracked client(uint32_t seq, uint32_t ack, uint8_t flags, size_t payload = 0) {
    return send(true, seq, ack, flags, payload);
  }
  Tracked server(uint32_t seq, uint32_t ack, uint8_t flags, size_t payload = 0) {
    return send(false, seq, ack, flags, payload);
  }
  // SYN, SYN/ACK, ACK: client ISN 1000, server ISN 5000.
  void handshake() {
    send(true, 1000, 0, kS, 0, 64240, kSynOptions);
    send(false, 5000, 1001, kS | kA, 0, 65160, kSynOptions);
    client(1001, 5001, kA);
  }
};

uint64_t seconds_left(const Tracked& t, uint64_t now) { return (t.entry->expires_ns - now) / kSec; }

TEST(ConntrackTcp, HandshakeDataAndTeardown) {
  Table table;
  Connection c{table};
  Tracked syn = c.send(true, 1000, 0, kS, 0, 64240, kSynOptions);
  EXPECT_EQ(syn.info, Info::New);
  EXPECT_EQ(syn.entry->tcp.state, TcpState::SynSent);
  EXPECT_EQ(seconds_left(syn, 0), 120u);

  Tracked synack = c.send(false, 5000, 1001, kS | kA, 0, 65160, kSynOptions);
  EXPECT_EQ(synack.info, Info::EstablishedReply);
  EXPECT_EQ(synack.entry->tcp.state, TcpState::SynRecv);
  EXPECT_EQ(seconds_left(synack, 0), 60u);
  EXPECT_FALSE(synack.entry->status & kAssured);

  Tracked ack = c.client(1001, 5001, kA);
  EXPECT_EQ(ack.info, Info::Established);
  EXPECT_EQ(ack.entry->tcp.state, TcpState::Established);
  EXPECT_TRUE(ack.entry->status & kAssured);
  EXPECT_EQ(seconds_left(ack, 0), 432000u);
  EXPECT_EQ(format_entry(*ack.entry, 0),
            "tcp      6 432000 ESTABLISHED src=10.0.0.1 dst=192.0.2.7 sport=40000 dport=80 "
            "src=192.0.2.7 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1");

  // data not yet acknowledged: the shorter timeout until the ack
  Tracked data = c.client(1001, 5001, kA | kP, 100);
  EXPECT_EQ(seconds_left(data, 0), 300u);
  Tracked acked = c.server(5001, 1101, kA);
  EXPECT_EQ(seconds_left(acked, 0), 432000u);

  EXPECT_EQ(c.client(1101, 5001, kF | kA).entry->tcp.state, TcpState::FinWait);
  Tracked cw = c.server(5001, 1102, kA);
  EXPECT_EQ(cw.entry->tcp.state, TcpState::CloseWait);
  EXPECT_EQ(seconds_left(cw, 0), 60u);
  Tracked la = c.server(5001, 1102, kF | kA);
  EXPECT_EQ(la.entry->tcp.state, TcpState::LastAck);
  EXPECT_EQ(seconds_left(la, 0), 30u);
  Tracked tw = c.client(1102, 5002, kA);
  EXPECT_EQ(tw.entry->tcp.state, TcpState::TimeWait);
  EXPECT_EQ(format_entry(*tw.entry, 0),
            "tcp      6 120 TIME_WAIT src=10.0.0.1 dst=192.0.2.7 sport=40000 dport=80 "
            "src=192.0.2.7 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1");
}

TEST(ConntrackTcp, SegmentsOutsideTheWindowAreInvalid) {
  Table table;
  Connection c{table};
  c.handshake();
  // far past what the server's window allows
  Tracked ahead = c.client(1001 + 50'000'000, 5001, kA | kP, 10);
  EXPECT_EQ(ahead.info, Info::None);
  EXPECT_EQ(state_bits(ahead.info), kStateInvalid);
  EXPECT_EQ(ahead.why, "SEQ is over upper bound (over the window of the receiver)");
  // acknowledging data the client never sent
  Tracked acks_future = c.server(5001, 1001 + 500'000, kA);
  EXPECT_EQ(acks_future.why, "ACK is over upper bound (ACKed data not seen yet)");
  // the connection is unharmed
  Tracked fine = c.client(1001, 5001, kA | kP, 10);
  EXPECT_EQ(fine.info, Info::Established);
  EXPECT_EQ(fine.entry->tcp.state, TcpState::Established);
  // data from long before what the server acknowledged: let through as
  // part of the connection, the windows untouched
  c.server(5001, 1011, kA);
  Tracked old = c.client(1011 - 10'000'000, 5001, kA | kP, 10);
  EXPECT_EQ(old.info, Info::Established);
  EXPECT_EQ(old.why, "SEQ is under lower bound (already ACKed data retransmitted)");
  EXPECT_EQ(old.entry->tcp.seen[0].end, 1011u);
}

TEST(ConntrackTcp, HeaderChecks) {
  Table table;
  Connection c{table};
  EXPECT_EQ(c.client(1000, 0, kS | kF).why, "invalid tcp flag combination");
  EXPECT_EQ(c.client(1000, 0, 0).why, "invalid tcp flag combination");
  // an ACK cannot start a connection in SYN_SENT's place, a SYN/ACK never
  EXPECT_EQ(c.client(1000, 0, kS | kA).why, "invalid packet to start a TCP connection");
  Ip4 ip;
  ip.proto = kTcp;
  ip.src = kClient;
  ip.dst = kServer;
  Bytes frame = ethernet(0x0800, ipv4(ip, segment(40000, 80, 1000, 0, kS, 64240, {}, 0)));
  frame[14 + 20 + 16] ^= 0xff;  // checksum
  auto layout = packet::parse_layout(frame, packet::LinkType::Ethernet, packet::Context::IpStack);
  EXPECT_EQ(table.in(frame, layout, TrackHook::Prerouting, 0, 0).why, "bad checksum");
  EXPECT_EQ(table.size(), 0u);
}

TEST(ConntrackTcp, RetransmittedSynDoesNotRenewTheTimeout) {
  Table table;
  Connection c{table};
  c.send(true, 1000, 0, kS, 0, 64240, kSynOptions);
  c.now = 10 * kSec;
  Tracked again = c.send(true, 1000, 0, kS, 0, 64240, kSynOptions);
  EXPECT_EQ(again.info, Info::New);
  EXPECT_EQ(again.entry->expires_ns, 120 * kSec);
}

TEST(ConntrackTcp, ARstAsTheOnlyAnswerEndsTheConnection) {
  Table table;
  Connection c{table};
  c.send(true, 1000, 0, kS, 0, 64240, kSynOptions);
  ASSERT_EQ(table.size(), 1u);
  Tracked rst = c.server(0, 1001, kR | kA);
  EXPECT_EQ(rst.info, Info::EstablishedReply);
  EXPECT_EQ(rst.entry->tcp.state, TcpState::Close);
  EXPECT_EQ(table.size(), 0u);
}

TEST(ConntrackTcp, MidStreamPickup) {
  Table table;
  Connection c{table};
  Tracked first = c.client(777000, 999000, kA | kP, 20);
  EXPECT_EQ(first.info, Info::New);
  EXPECT_EQ(first.entry->tcp.state, TcpState::Established);
  EXPECT_EQ(seconds_left(first, 0), 300u) << "not answered yet: no five-day timeout";
  Tracked answer = c.server(999000, 777020, kA);
  EXPECT_EQ(answer.info, Info::EstablishedReply);
  EXPECT_FALSE(answer.entry->status & kAssured);
  Tracked next = c.client(777020, 999000, kA | kP, 20);
  EXPECT_TRUE(next.entry->status & kAssured);
  EXPECT_EQ(seconds_left(next, 0), 300u) << "its data is not acknowledged yet";

  Config strict;
  strict.tcp_loose = false;
  Table no_pickup(strict);
  Connection d{no_pickup};
  EXPECT_EQ(d.client(777000, 999000, kA).why, "not picking up an established connection (tcp_loose is off)");
}

TEST(ConntrackTcp, ASynInsideAnEstablishedConnectionIsIgnored) {
  Table table;
  Connection c{table};
  c.handshake();
  Tracked syn = c.send(true, 424242, 0, kS, 0, 64240, kSynOptions);
  EXPECT_EQ(syn.info, Info::Established) << "passes with its connection";
  EXPECT_EQ(syn.entry->tcp.state, TcpState::Established);
  EXPECT_EQ(syn.why, "packet ignored in state ESTABLISHED");
}

TEST(ConntrackTcp, ASynReopensAClosedConnection) {
  Table table;
  Connection c{table};
  c.handshake();
  c.client(1001, 5001, kF | kA);
  c.server(5001, 1002, kF | kA);
  Tracked last = c.client(1002, 5002, kA);
  ASSERT_EQ(last.entry->tcp.state, TcpState::TimeWait);
  Tracked reopen = c.send(true, 90000, 0, kS, 0, 64240, kSynOptions);
  EXPECT_EQ(reopen.info, Info::New);
  EXPECT_NE(reopen.entry, last.entry);
  EXPECT_EQ(reopen.entry->tcp.state, TcpState::SynSent);
  EXPECT_FALSE(reopen.entry->status & kAssured);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ConntrackTcp, ResetsCloseAnEstablishedConnection) {
  Table table;
  Connection c{table};
  c.handshake();
  // a RST at the sequence the server expects next
  Tracked rst = c.client(1001, 5001, kR | kA);
  EXPECT_EQ(rst.info, Info::Established);
  EXPECT_EQ(rst.entry->tcp.state, TcpState::Close);
  EXPECT_EQ(seconds_left(rst, 0), 10u);
}

}  // namespace
}  // namespace nfx::conntrack
