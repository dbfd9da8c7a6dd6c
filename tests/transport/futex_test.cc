// Futex helpers: timeouts, value mismatch, wake-ups across processes.
#include "transport/futex.h"

#include <sys/mman.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace ringcast::transport {
namespace {

// A word in anonymous shared memory, as a segment would hold it.
class SharedWord {
 public:
  SharedWord() {
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    word_ = new (p) std::atomic<std::uint32_t>(0);
  }
  ~SharedWord() { ::munmap(word_, 4096); }
  std::atomic<std::uint32_t>& operator*() { return *word_; }
  std::atomic<std::uint32_t>* get() { return word_; }

 private:
  std::atomic<std::uint32_t>* word_;
};

TEST(FutexTest, TimesOutWhenNobodyWakes) {
  SharedWord w;
  const absl::Time start = absl::Now();
  EXPECT_EQ(FutexWait(*w, 0, absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
}

TEST(FutexTest, ReturnsAtOnceWhenTheWordDiffers) {
  SharedWord w;
  (*w).store(5);
  EXPECT_TRUE(FutexWait(*w, 4, absl::Seconds(10)).ok());
}

TEST(FutexTest, WakeWithoutWaitersWakesNobody) {
  SharedWord w;
  EXPECT_EQ(FutexWake(*w), 0);
}

TEST(FutexTest, WakesAWaiterInAnotherProcess) {
  SharedWord w;
  const pid_t child = ::ringcast::testing::StartChild([&] {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while ((*w).load() == 0) {
      if (!FutexWait(*w, 0, deadline - absl::Now()).ok()) return 1;
    }
    return (*w).load() == 7 ? 0 : 2;
  });
  absl::SleepFor(absl::Milliseconds(50));  // let it sleep (a late sleeper still sees 7)
  (*w).store(7);
  FutexWake(*w);
  EXPECT_EQ(::ringcast::testing::WaitChild(child, absl::Seconds(20)), 0);
}

TEST(FutexTest, WaitAnyReturnsWhenOneOfSeveralWordsIsRung) {
  SharedWord a, b;
  std::thread waker([&] {
    absl::SleepFor(absl::Milliseconds(30));
    (*b).fetch_add(1);
    FutexWake(*b);
  });
  const FutexWaitItem items[] = {{a.get(), 0}, {b.get(), 0}};
  absl::Status s = FutexWaitAny(items, absl::Seconds(10));
  waker.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ((*b).load(), 1u);
}

TEST(FutexTest, WaitAnyTimesOut) {
  SharedWord a;
  const FutexWaitItem items[] = {{a.get(), 0}};
  EXPECT_EQ(FutexWaitAny(items, absl::Milliseconds(20)).code(),
            absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace ringcast::transport
