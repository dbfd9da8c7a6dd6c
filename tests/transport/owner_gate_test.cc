// The owner gate: a visitor acts on the owner's state only while the owner
// is out, the owner never waits unless a visit is under way, and what one
// side wrote the other sees. ThreadSanitizer checks the last on every run.
#include "transport/owner_gate.h"

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "transport/futex.h"

namespace ringcast::transport::internal {
namespace {

TEST(OwnerGateTest, AVisitorNeverMeetsTheOwnerInside) {
  if (!ProcessFence()) {
#if !defined(__SANITIZE_THREAD__)
    GTEST_SKIP() << "membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) is not available here; "
                    "the visitor would never go in";
#endif
  }
  OwnerGate gate;
  // Plain, not atomic: only one side may touch them at a time.
  std::uint64_t counter = 0;
  bool inside = false;
  std::atomic<bool> stop{false};
  std::uint64_t visits = 0;
  std::uint64_t met_inside = 0;
  std::thread visitor([&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (!stop.load(std::memory_order_relaxed) && absl::Now() < deadline) {
      if (gate.TryVisit()) {
        if (inside) ++met_inside;
        counter += 1'000'000;
        ++visits;
        gate.EndVisit();
      }
      // A visitor comes now and then (each try fences every CPU we run on).
      absl::SleepFor(absl::Microseconds(20));
    }
  });
  constexpr std::uint64_t kRounds = 200'000;
  for (std::uint64_t i = 0; i < kRounds; ++i) {
    gate.Enter();
    inside = true;
    ++counter;
    inside = false;
    gate.Leave();
    // Out of the gate now and then for long enough to be visited.
    if (i % 20'000 == 0) absl::SleepFor(absl::Milliseconds(2));
  }
  stop.store(true, std::memory_order_relaxed);
  visitor.join();
  EXPECT_EQ(met_inside, 0u);
  EXPECT_GT(visits, 0u) << "the visitor never got in while the owner slept";
  // No update of either side was lost.
  EXPECT_EQ(counter, kRounds + visits * 1'000'000);
}

}  // namespace
}  // namespace ringcast::transport::internal
