// meta time / day / hour as nft_meta_get_eval computes them on the packet's
// time, with the rule's local times converted to UTC at load time from the
// TZ of the process, as nft does. Every test sets TZ itself.
#include <cstdlib>
#include <ctime>

#include "harness.h"

namespace nfx {
namespace {

using namespace packet::testing;
using vmtest::compile;
using vmtest::run_meta;

constexpr uint64_t kSec = 1000000000ull;
constexpr uint64_t kMonday = 1767571200;  // 2026-01-05 00:00:00 UTC, a Monday

void set_tz(const char* tz) {
  setenv("TZ", tz, 1);
  tzset();
}

Bytes frame() {
  Ip4 ip;
  return ethernet(0x0800, ipv4(ip, tcp(40000, 22)));
}

bool accepted(vm::Interpreter& vm, uint64_t secs, int32_t minuteswest = 0) {
  vm::PacketMeta m;
  m.now_ns = secs * kSec + 123;
  m.tz_minuteswest = minuteswest;
  return run_meta(vm, frame(), m).result.accepted;
}

std::unique_ptr<vm::Interpreter> rule(const std::string& match) {
  return compile("table ip t { chain c { type filter hook input priority 0; policy drop;\n" + match + " accept\n} }");
}

TEST(MetaTime, HourRangeInUtc) {
  set_tz("UTC");
  auto vm = rule(R"(meta hour "17:00"-"19:00")");
  ASSERT_TRUE(vm);
  EXPECT_FALSE(accepted(*vm, kMonday + 16 * 3600 + 3599));
  EXPECT_TRUE(accepted(*vm, kMonday + 17 * 3600));
  EXPECT_TRUE(accepted(*vm, kMonday + 18 * 3600 + 1800));
  EXPECT_TRUE(accepted(*vm, kMonday + 19 * 3600));
  EXPECT_FALSE(accepted(*vm, kMonday + 19 * 3600 + 1));
}

TEST(MetaTime, HourIsConvertedFromTheLoadersTimezone) {
  set_tz("NFX-2");  // POSIX: two hours east of UTC, no DST
  auto vm = rule(R"(meta hour "17:00"-"19:00")");
  set_tz("UTC");    // the zone at packet time does not matter, as in the kernel
  ASSERT_TRUE(vm);
  EXPECT_TRUE(accepted(*vm, kMonday + 15 * 3600 + 1800));  // 17:30 local
  EXPECT_FALSE(accepted(*vm, kMonday + 17 * 3600 + 1800));
}

TEST(MetaTime, HourRangeAcrossUtcMidnightBecomesAnOutsideRange) {
  // 17:00-19:00 at UTC-5 is 22:00-00:00 UTC; nft 1.0.6 swaps the ends into
  // `range neq 0 79200`, which leaves out both ends themselves.
  set_tz("NFX5");
  auto vm = rule(R"(meta hour "17:00"-"19:00")");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(accepted(*vm, kMonday + 23 * 3600));   // 18:00 local
  EXPECT_TRUE(accepted(*vm, kMonday + 22 * 3600 + 1));
  EXPECT_FALSE(accepted(*vm, kMonday + 22 * 3600));  // the swapped end itself
  EXPECT_FALSE(accepted(*vm, kMonday + 12 * 3600));
}

TEST(MetaTime, DayUsesTheKernelTimezoneNotTheLoaders) {
  set_tz("NFX-10");  // nft does not convert days
  auto vm = rule(R"(meta day "Monday")");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(accepted(*vm, kMonday + 10 * 3600));
  EXPECT_FALSE(accepted(*vm, kMonday + 86400 + 10 * 3600));    // Tuesday
  EXPECT_FALSE(accepted(*vm, kMonday - 3600));                 // Sunday 23:00 UTC
  EXPECT_TRUE(accepted(*vm, kMonday - 3600, -120));            // ... Monday 01:00 in a UTC+2 sys_tz
  EXPECT_FALSE(accepted(*vm, kMonday + 3600, 120));            // Monday 01:00 UTC is Sunday at UTC-2
}

TEST(MetaTime, DaySetsAndTimeComparisons) {
  set_tz("UTC");
  auto weekend = rule(R"(meta day { "Saturday", "Sunday" })");
  ASSERT_TRUE(weekend);
  EXPECT_TRUE(accepted(*weekend, kMonday - 1));                // Sunday 23:59:59
  EXPECT_FALSE(accepted(*weekend, kMonday));
  EXPECT_TRUE(accepted(*weekend, kMonday - 2 * 86400));        // Saturday 00:00

  set_tz("NFX-1");
  auto after = rule(R"(meta time >= "2026-01-05 10:00")");     // 09:00 UTC
  ASSERT_TRUE(after);
  EXPECT_FALSE(accepted(*after, kMonday + 9 * 3600 - 1));
  EXPECT_TRUE(accepted(*after, kMonday + 9 * 3600));
}

TEST(MetaTime, TimeEqualsTheNanosecondClock) {
  set_tz("UTC");
  auto vm = compile(R"(table ip t { chain c { type filter hook input priority 0; policy drop;
      meta time "2026-01-05 00:00:00" accept
    } })");
  ASSERT_TRUE(vm);
  vm::PacketMeta m;
  m.now_ns = kMonday * kSec;
  EXPECT_TRUE(run_meta(*vm, frame(), m).result.accepted);
  m.now_ns += 1;  // exact nanoseconds, as ktime_get_real_ns
  EXPECT_FALSE(run_meta(*vm, frame(), m).result.accepted);
}

}  // namespace
}  // namespace nfx
