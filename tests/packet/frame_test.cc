// Frame buffers: headroom and tailroom, copies, VLAN tag insertion and
// removal.
#include <gtest/gtest.h>

#include <nfx/packet.h>

#include "frame_builder.h"

namespace nfx::packet {
namespace {

using namespace testing;

Bytes bytes_of(const Frame& f) { return Bytes(f.data(), f.data() + f.size()); }

TEST(Frame, OwnsItsBytes) {
  Bytes src = {1, 2, 3, 4};
  Frame f(src);
  src[0] = 9;
  EXPECT_EQ(bytes_of(f), (Bytes{1, 2, 3, 4}));
  EXPECT_EQ(f.headroom(), Frame::kDefaultHeadroom);
  EXPECT_EQ(f.tailroom(), Frame::kDefaultTailroom);
  Frame copy = f;
  copy.data()[1] = 7;
  EXPECT_EQ(f.data()[1], 2);
  EXPECT_EQ(bytes_of(copy), (Bytes{1, 7, 3, 4}));
}

TEST(Frame, PushAndPull) {
  Frame f(Bytes{5, 6});
  std::uint8_t* d = f.push_front(3);
  EXPECT_EQ(d, f.data());
  EXPECT_EQ(bytes_of(f), (Bytes{0, 0, 0, 5, 6}));
  EXPECT_EQ(f.headroom(), Frame::kDefaultHeadroom - 3);
  EXPECT_TRUE(f.pull_front(4));
  EXPECT_EQ(bytes_of(f), (Bytes{6}));
  EXPECT_FALSE(f.pull_front(2));
  EXPECT_EQ(bytes_of(f), (Bytes{6}));
  EXPECT_TRUE(f.pull_front(1));
  EXPECT_TRUE(f.empty());
}

TEST(Frame, PushBeyondHeadroomReallocates) {
  Frame f(Bytes{1, 2, 3}, 2, 0);
  f.push_front(10);
  ASSERT_EQ(f.size(), 13u);
  EXPECT_EQ(bytes_of(f), (Bytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}));
  EXPECT_EQ(f.headroom(), Frame::kDefaultHeadroom);
  Frame empty;
  empty.push_front(4);
  EXPECT_EQ(bytes_of(empty), (Bytes{0, 0, 0, 0}));
}

TEST(Frame, Resize) {
  Frame f(Bytes{1, 2, 3}, 4, 2);
  f.resize(5);
  EXPECT_EQ(bytes_of(f), (Bytes{1, 2, 3, 0, 0}));
  f.resize(2);
  EXPECT_EQ(bytes_of(f), (Bytes{1, 2}));
  f.resize(200);  // beyond the tailroom
  EXPECT_EQ(f.size(), 200u);
  EXPECT_EQ(f.data()[0], 1);
  EXPECT_EQ(f.data()[2], 0);  // bytes once cut off come back zeroed
  EXPECT_EQ(f.data()[199], 0);
  EXPECT_EQ(f.headroom(), 4u);
}

TEST(Frame, VlanTagRoundTrip) {
  const Bytes plain = ethernet(0x0800, ipv4({}, tcp(1, 2)));
  const Bytes tagged = ethernet(0x0800, ipv4({}, tcp(1, 2)), {{0x8100, 0x0123}});
  Frame f(plain);
  ASSERT_TRUE(insert_vlan_tag(f, 0x8100, 0x0123));
  EXPECT_EQ(bytes_of(f), tagged);
  std::uint16_t tpid = 0, tci = 0;
  ASSERT_TRUE(remove_vlan_tag(f, &tpid, &tci));
  EXPECT_EQ(tpid, 0x8100);
  EXPECT_EQ(tci, 0x0123);
  EXPECT_EQ(bytes_of(f), plain);
  EXPECT_FALSE(remove_vlan_tag(f));  // no tag left
  Frame tiny(Bytes(11, 0));
  EXPECT_FALSE(insert_vlan_tag(tiny, 0x8100, 1));
}

}  // namespace
}  // namespace nfx::packet
