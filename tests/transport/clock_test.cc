// The publish clock: stamps follow CLOCK_REALTIME closely, whether they
// come from the TSC or from the wall clock.
#include "transport/clock.h"

#include <algorithm>
#include <cstdlib>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "transport/process.h"

namespace ringcast::transport {
namespace {

// Over 300 ms of stamps (several re-anchorings), every stamp lies between
// the wall clock read just before and just after it, give or take 50 us.
TEST(PublishClockTest, StampsFollowTheWallClock) {
  PublishClock clock;
  constexpr std::int64_t kSlack = 50'000;
  std::int64_t worst = 0;
  const absl::Time end = absl::Now() + absl::Milliseconds(300);
  int n = 0;
  while (absl::Now() < end) {
    for (int i = 0; i < 1000; ++i, ++n) {
      const std::int64_t before = WallNanos();
      const std::int64_t stamp = clock.Now();
      const std::int64_t after = WallNanos();
      worst = std::max({worst, before - stamp, stamp - after});
    }
  }
  EXPECT_LT(worst, kSlack) << "over " << n << " stamps"
                           << (InvariantTsc() ? " (TSC)" : " (wall clock)");
}

// A clock idle for longer than its re-anchoring interval does not
// extrapolate a stale rate across the gap.
TEST(PublishClockTest, AClockIdleForAWhileIsStillRight) {
  PublishClock clock;
  for (int i = 0; i < 3; ++i) {
    const absl::Time until = absl::Now() + absl::Milliseconds(60);
    while (absl::Now() < until) (void)clock.Now();
    absl::SleepFor(absl::Milliseconds(250));
    const std::int64_t before = WallNanos();
    const std::int64_t stamp = clock.Now();
    const std::int64_t after = WallNanos();
    EXPECT_GE(stamp, before - 50'000);
    EXPECT_LE(stamp, after + 50'000);
  }
}

// A clock created after another one of the process measured the
// counter's rate extrapolates from its first stamp (a new publisher pays
// no clock_gettime per publish), and its stamps are right at once.
TEST(PublishClockTest, ANewClockStartsFromTheProcesssRate) {
  if (!InvariantTsc()) GTEST_SKIP() << "no invariant TSC here: every stamp is clock_gettime";
  {
    PublishClock first;
    const absl::Time until = absl::Now() + absl::Milliseconds(120);
    while (absl::Now() < until) (void)first.Now();
    ASSERT_TRUE(first.extrapolating()) << "120 ms of stamps measured no rate";
  }
  PublishClock clock;
  EXPECT_FALSE(clock.extrapolating());
  for (int i = 0; i < 1000; ++i) {
    const std::int64_t before = WallNanos();
    const std::int64_t stamp = clock.Now();
    const std::int64_t after = WallNanos();
    EXPECT_TRUE(clock.extrapolating()) << "stamp " << i;
    EXPECT_GE(stamp, before - 50'000);
    EXPECT_LE(stamp, after + 50'000);
    if (HasFailure()) break;
  }
}

}  // namespace
}  // namespace ringcast::transport
