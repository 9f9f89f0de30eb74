// Named limit and quota objects: the same token bucket and quota as the
// anonymous statements, with one state shared by every rule that names them.
#include "harness.h"

namespace nfx {
namespace {

using namespace packet::testing;
using vmtest::compile;
using vmtest::run;

constexpr uint64_t kT0 = 1000000000000ull;

Bytes tcp4(uint16_t dport) {
  Ip4 ip;
  return ethernet(0x0800, ipv4(ip, tcp(40000, dport)));
}

bool accepted(vm::Interpreter& vm, uint16_t dport, uint64_t now = kT0) {
  return run(vm, tcp4(dport), pipeline::Path::Input, now).result.accepted;
}

TEST(NamedObjects, QuotaIsSharedByEveryRuleThatNamesIt) {
  size_t len = tcp4(22).size() - 14;
  auto vm = compile("table ip t {\n quota q { " + std::to_string(3 * len + 1) + " bytes }\n" +
                    R"(chain c { type filter hook input priority 0; policy drop;
      tcp dport 22 quota name "q" accept
      tcp dport 80 quota name "q" accept
    } })");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(accepted(*vm, 22));
  EXPECT_TRUE(accepted(*vm, 80));
  EXPECT_TRUE(accepted(*vm, 22));
  EXPECT_FALSE(accepted(*vm, 80));  // the fourth packet overall uses it up
  EXPECT_FALSE(accepted(*vm, 22));
}

TEST(NamedObjects, QuotaOverAndUsedAndUnits) {
  // 1 kbytes with 1000 used: 24 bytes left, so the first packet goes over.
  auto vm = compile(R"(table ip t {
    quota q { over 1 kbytes used 1000 bytes }
    chain c { type filter hook input priority 0; policy accept;
      quota name "q" drop
    } })");
  ASSERT_TRUE(vm);
  EXPECT_FALSE(accepted(*vm, 22));
  EXPECT_FALSE(accepted(*vm, 22));
}

TEST(NamedObjects, LimitIsOneBucketAcrossRulesAndChains) {
  auto vm = compile(R"(table ip t {
    limit l { rate 2/second burst 2 packets }
    chain other { limit name "l" accept }
    chain c { type filter hook input priority 0; policy drop;
      tcp dport 22 limit name "l" accept
      tcp dport 80 jump other
    } })");
  ASSERT_TRUE(vm);
  EXPECT_TRUE(accepted(*vm, 22));
  EXPECT_TRUE(accepted(*vm, 80));
  EXPECT_FALSE(accepted(*vm, 22));                 // burst of 2 used by both rules
  EXPECT_FALSE(accepted(*vm, 80));
  EXPECT_TRUE(accepted(*vm, 80, kT0 + 500000000));  // one token per 0.5 s
  EXPECT_FALSE(accepted(*vm, 22, kT0 + 500000000));
}

TEST(NamedObjects, LimitOverAndByteRates) {
  size_t len = tcp4(22).size() - 14;
  // `over`: matches once the rate is exceeded; the default packet burst is 5.
  auto over = compile(R"(table ip t {
    limit l { rate over 1/minute }
    chain c { type filter hook input priority 0; policy accept;
      limit name "l" drop
    } })");
  ASSERT_TRUE(over);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(accepted(*over, 22)) << i;
  EXPECT_FALSE(accepted(*over, 22));

  // A byte rate with a byte burst: the bucket holds rate + burst bytes.
  auto bytes = compile("table ip t {\n limit l { rate " + std::to_string(len) + " bytes/second burst " +
                       std::to_string(len) + " bytes }\n" + R"(chain c { type filter hook input priority 0; policy drop;
      limit name "l" accept
    } })");
  ASSERT_TRUE(bytes);
  EXPECT_TRUE(accepted(*bytes, 22));
  EXPECT_TRUE(accepted(*bytes, 22));
  EXPECT_FALSE(accepted(*bytes, 22));
  EXPECT_TRUE(accepted(*bytes, 22, kT0 + 1000000000));
}

}  // namespace
}  // namespace nfx
