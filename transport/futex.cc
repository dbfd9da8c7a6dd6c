#include "transport/futex.h"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "absl/strings/str_cat.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

namespace ringcast::transport {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "a futex word is a plain 32-bit word");

std::uint32_t* Addr(const std::atomic<std::uint32_t>& word) {
  return const_cast<std::uint32_t*>(reinterpret_cast<const std::uint32_t*>(&word));
}

timespec ClampedTimespec(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  return absl::ToTimespec(d);
}

absl::Status WaitResult(long r, absl::string_view what) {
  if (r >= 0) return absl::OkStatus();
  switch (errno) {
    case EAGAIN:  // the word had already changed
    case EINTR:   // a signal: the caller re-checks and may wait again
      return absl::OkStatus();
    case ETIMEDOUT:
      return absl::DeadlineExceededError(absl::StrCat(what, " timed out"));
    default:
      return absl::ErrnoToStatus(errno, what);
  }
}

}  // namespace

absl::Status FutexWait(const std::atomic<std::uint32_t>& word,
                       std::uint32_t expected, absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) {
    return WaitResult(::syscall(SYS_futex, Addr(word), FUTEX_WAIT, expected,
                                nullptr, nullptr, 0),
                      "futex wait");
  }
  const timespec ts = ClampedTimespec(timeout);  // FUTEX_WAIT: relative timeout
  return WaitResult(
      ::syscall(SYS_futex, Addr(word), FUTEX_WAIT, expected, &ts, nullptr, 0),
      "futex wait");
}

int FutexWake(const std::atomic<std::uint32_t>& word, int count) {
  const long r = ::syscall(SYS_futex, Addr(word), FUTEX_WAKE, count, nullptr,
                           nullptr, 0);
  return r < 0 ? 0 : static_cast<int>(r);
}

absl::Status FutexWaitAny(absl::Span<const FutexWaitItem> items,
                          absl::Duration timeout) {
  constexpr std::size_t kMax = 128;  // FUTEX_WAITV_MAX
  if (items.empty() || items.size() > kMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "futex_waitv over ", items.size(), " words; valid: 1..", kMax));
  }
  struct futex_waitv waiters[kMax] = {};
  for (std::size_t i = 0; i < items.size(); ++i) {
    waiters[i].val = items[i].expected;
    waiters[i].uaddr = reinterpret_cast<std::uintptr_t>(Addr(*items[i].word));
    waiters[i].flags = FUTEX_32;  // shared: no FUTEX_PRIVATE_FLAG
  }
  // futex_waitv takes an absolute timeout on the given clock.
  timespec abs{};
  timespec* abs_ptr = nullptr;
  if (timeout != absl::InfiniteDuration()) {
    ::clock_gettime(CLOCK_MONOTONIC, &abs);
    const timespec rel = ClampedTimespec(timeout);
    abs.tv_sec += rel.tv_sec;
    abs.tv_nsec += rel.tv_nsec;
    if (abs.tv_nsec >= 1000000000) {
      abs.tv_sec += 1;
      abs.tv_nsec -= 1000000000;
    }
    abs_ptr = &abs;
  }
  return WaitResult(::syscall(SYS_futex_waitv, waiters, items.size(), 0,
                              abs_ptr, CLOCK_MONOTONIC),
                    "futex_waitv");
}

namespace {

bool MembarrierGlobalExpedited() {
  const long cmds = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  return cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0 &&
         (cmds & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0;
}

}  // namespace

bool LightPublisherFence() {
  // Once per process; after fork the child inherits the registration.
  static const bool registered =
      MembarrierGlobalExpedited() &&
      ::syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
  return registered;
}

bool ProcessFence() {
  return LightPublisherFence() &&
         ::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;
}

bool SleeperFence(bool first) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!first) return true;
  static const bool available = MembarrierGlobalExpedited();
  return available && ::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0;
}

}  // namespace ringcast::transport
