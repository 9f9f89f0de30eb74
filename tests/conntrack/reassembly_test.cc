// IPv4 reassembly before conntrack (nf_defrag_ipv4) and the cut on the way
// out: fragments in any order, duplicates, overlaps and contradictions,
// zones, the 30 s timeout, DF, and options in the later pieces.
#include <gtest/gtest.h>
#include <nfx/conntrack.h>

#include "../packet/frame_builder.h"

namespace nfx::conntrack {
namespace {

using namespace packet::testing;

constexpr uint64_t kSec = 1'000'000'000;

// A UDP datagram with `len` payload bytes and IP options `options`, cut
// into fragments at the payload offsets `cuts` (multiples of 8).
struct Datagram {
  Bytes whole;
  std::vector<Bytes> pieces;
};
Datagram datagram(size_t len, std::vector<size_t> cuts, Bytes options = {}, uint16_t id = 7, bool df = false) {
  Ip4 ip;
  ip.proto = kUdp;
  ip.options = options;
  Bytes payload(len);
  for (size_t i = 0; i < len; ++i) payload[i] = static_cast<uint8_t>(i);
  Datagram d{ethernet(0x0800, ipv4(ip, udp(4000, 53, payload))), {}};
  const size_t nh = 14, hlen = (d.whole[nh] & 0x0f) * 4u, body = d.whole.size() - nh - hlen;
  put16(d.whole, nh + 4, id);
  cuts.push_back(body);
  size_t from = 0;
  for (size_t to : cuts) {
    Bytes f(d.whole.begin(), d.whole.begin() + static_cast<long>(nh + hlen));
    f.insert(f.end(), d.whole.begin() + static_cast<long>(nh + hlen + from), d.whole.begin() + static_cast<long>(nh + hlen + to));
    put16(f, nh + 2, static_cast<uint16_t>(hlen + to - from));
    put16(f, nh + 6, static_cast<uint16_t>((df ? 0x4000 : 0) | (to < body ? 0x2000 : 0) | from / 8));
    put16(f, nh + 10, 0);
    put16(f, nh + 10, ref_checksum(ref_sum(&f[nh], hlen)));
    d.pieces.push_back(f);
    from = to;
  }
  return d;
}

Defrag feed(Reassembler& r, const Bytes& f, uint64_t now = kSec, uint16_t zone = 0) {
  return r.in(f, packet::parse_layout(f, packet::LinkType::Ethernet, packet::Context::IpStack), zone, now);
}

TEST(Reassembly, AnyOrderGivesTheDatagramBack) {
  Datagram d = datagram(100, {32, 64});
  Reassembler r;
  EXPECT_EQ(feed(r, d.pieces[2]).action, Defrag::Hold);
  EXPECT_EQ(feed(r, d.pieces[0]).action, Defrag::Hold);
  Defrag whole = feed(r, d.pieces[1]);
  ASSERT_EQ(whole.action, Defrag::Replace);
  Bytes expect = d.whole;
  put16(expect, 14 + 10, 0);
  put16(expect, 14 + 10, ref_checksum(ref_sum(&expect[14], 20)));
  EXPECT_EQ(whole.frame, expect);
  EXPECT_EQ(whole.fragments, (std::vector<uint32_t>{32, 32, 44}));
  EXPECT_EQ(r.queues(), 0u);
}

TEST(Reassembly, ADuplicateIsDroppedAnOverlapDropsTheQueue) {
  Datagram d = datagram(100, {32, 64});
  Reassembler r;
  feed(r, d.pieces[0]);
  EXPECT_EQ(feed(r, d.pieces[0]).why, "a duplicate fragment");
  EXPECT_EQ(r.queues(), 1u);
  Datagram other = datagram(100, {24, 64});  // its middle piece starts inside the first
  EXPECT_EQ(feed(r, other.pieces[1]).why, "overlapping fragments");
  EXPECT_EQ(r.queues(), 0u);
  // what is left never completes
  EXPECT_EQ(feed(r, d.pieces[1]).action, Defrag::Hold);
  EXPECT_EQ(feed(r, d.pieces[2]).action, Defrag::Hold);
}

TEST(Reassembly, QueuesAreKeptApartByZoneAndExpire) {
  Datagram d = datagram(100, {48});
  Reassembler r;
  feed(r, d.pieces[0], kSec, 1);
  EXPECT_EQ(feed(r, d.pieces[1], kSec, 2).action, Defrag::Hold);  // another zone's queue
  EXPECT_EQ(r.queues(), 2u);
  EXPECT_EQ(feed(r, d.pieces[1], kSec, 1).action, Defrag::Replace);
  feed(r, d.pieces[0], kSec);
  EXPECT_EQ(feed(r, d.pieces[1], 32 * kSec).action, Defrag::Hold);  // 30 s later the first is gone
}

TEST(Reassembly, ContradictionsAboutTheEndDropTheQueue) {
  Datagram d = datagram(100, {48});
  Datagram shorter = datagram(60, {48});
  Reassembler r;
  feed(r, d.pieces[1]);  // the end is at 108
  EXPECT_EQ(feed(r, shorter.pieces[1]).why, "fragments disagree on the datagram's end");
  EXPECT_EQ(r.queues(), 0u);
}

TEST(Reassembly, AFragmentShorterThanItsLengthIsNotQueued) {
  // found by fuzz_conntrack: an IPv6 fragment whose payload length runs
  // past the frame was copied past its end
  Bytes f = ethernet(0x86dd, ipv6(Ip6{}, {{44, fragment(0, true)}}, kUdp, udp(1, 2, Bytes(40, 'x'))));
  f.resize(f.size() - 10);
  Reassembler r;
  EXPECT_EQ(feed(r, f).why, "fragment cut short");
  EXPECT_EQ(r.queues(), 0u);
}

TEST(Reassembly, DfOnlyWhenTheLargestFragmentHadIt) {
  Datagram d = datagram(100, {48}, {}, 9, true);
  Reassembler r;
  feed(r, d.pieces[0]);
  Defrag whole = feed(r, d.pieces[1]);
  ASSERT_EQ(whole.action, Defrag::Replace);
  EXPECT_EQ(get16(whole.frame, 14 + 6), 0x4000);
}

TEST(Reassembly, CutAgainAsItCameWithOnlyCopiedOptionsLater) {
  // router alert (copied) and a no-copy timestamp option
  Bytes options = {0x94, 0x04, 0x00, 0x00, 0x44, 0x04, 0x05, 0x00};
  Datagram d = datagram(100, {32, 64}, options);
  Reassembler r;
  feed(r, d.pieces[0]);
  feed(r, d.pieces[1]);
  Defrag whole = feed(r, d.pieces[2]);
  ASSERT_EQ(whole.action, Defrag::Replace);
  auto out = refragment_ipv4(whole.frame, 14, whole.fragments, whole.max_size);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], d.pieces[0]);
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(out[i].size(), d.pieces[i].size());
    EXPECT_EQ(Bytes(out[i].begin() + 34, out[i].begin() + 42), (Bytes{0x94, 0x04, 0x00, 0x00, 1, 1, 1, 1}));
    EXPECT_TRUE(packet::ipv4_header_checksum_ok(std::span<const uint8_t>(out[i]).subspan(14, 28)));
    EXPECT_EQ(Bytes(out[i].begin() + 42, out[i].end()), Bytes(d.pieces[i].begin() + 42, d.pieces[i].end()));
  }
  // a payload that changed length is cut by the largest fragment's size
  whole.frame.resize(whole.frame.size() + 8);
  out = refragment_ipv4(whole.frame, 14, whole.fragments, whole.max_size);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(get16(out[2], 14 + 2), 28 + 116 - 2 * 40);
}

}  // namespace
}  // namespace nfx::conntrack
