// The buffer a worker reads a batch of frames into, and queues the
// element's frames in until the batch is written.
#include "../../runtime/daemon/src/frame_batch.h"

#include <gtest/gtest.h>

#include <cstring>

using nfx::daemon::FrameBatch;

namespace {

std::vector<uint8_t> bytes(size_t n, uint8_t fill) { return std::vector<uint8_t>(n, fill); }

}  // namespace

TEST(FrameBatch, KeepsEachFrameItsPortAndBytesOnItsOwnCacheLine) {
  FrameBatch b(4096, 8);
  ASSERT_TRUE(b.add(1, bytes(60, 0xaa)));
  ASSERT_TRUE(b.add(0, bytes(65, 0xbb)));
  // a frame read in place: written at room(), then committed
  std::span<uint8_t> r = b.room();
  std::memset(r.data(), 0xcc, 14);
  b.commit(2, 14);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.port(0), 1u);
  EXPECT_EQ(b.port(1), 0u);
  EXPECT_EQ(b.port(2), 2u);
  EXPECT_EQ(b.frame(0).size(), 60u);
  EXPECT_EQ(b.frame(1).size(), 65u);
  EXPECT_EQ(b.frame(2).size(), 14u);
  for (size_t i = 0; i < 3; ++i) {
    const uint8_t fill = static_cast<uint8_t>(0xaa + 0x11 * i);
    for (uint8_t byte : b.frame(i)) ASSERT_EQ(byte, fill) << "frame " << i;
    EXPECT_EQ((b.frame(i).data() - b.frame(0).data()) % 64, 0) << "frame " << i;
  }
  // 60 bytes take one line, 65 take two: the third starts at 192
  EXPECT_EQ(b.frame(2).data() - b.frame(0).data(), 192);
  EXPECT_EQ(b.room().size(), 4096u - 256u);
}

TEST(FrameBatch, RefusesAFrameWithoutRoomAndTakesItAfterClear) {
  FrameBatch b(256, 2);
  ASSERT_TRUE(b.add(0, bytes(200, 1)));
  EXPECT_FALSE(b.add(0, bytes(60, 2)));  // 56 bytes left
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.frame(0).size(), 200u);
  b.clear();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.room().size(), 256u);
  ASSERT_TRUE(b.add(3, bytes(256, 4)));  // exactly the buffer
  EXPECT_EQ(b.room().size(), 0u);
  EXPECT_FALSE(b.add(3, bytes(1, 5)));
  EXPECT_EQ(b.frame(0).size(), 256u);
}
