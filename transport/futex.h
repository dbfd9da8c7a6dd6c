// transport/futex.h: futex wait and wake on 32-bit words in shared memory.
// Always the shared (not FUTEX_PRIVATE_FLAG) variants: waiter and waker are
// usually different processes with different mappings of the word.
#ifndef RINGCAST_TRANSPORT_FUTEX_H_
#define RINGCAST_TRANSPORT_FUTEX_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace ringcast::transport {

// Asymmetric fences (membarrier(2), MEMBARRIER_CMD_GLOBAL_EXPEDITED).
// Every publish must order its commit before its look at the sleeping
// masks, and a sleeper its sleeping bit before its last look at the rings
// (otherwise a wake-up is lost). A full fence on each side costs the
// publisher ~4 ns per publish alone and, with a subscriber polling the
// ring from another core, two thirds of its rate. So a publisher fences
// fully only while some subscriber of its topic may sleep:
//  - a subscriber about to sleep for the first time counts itself in its
//    topic's fenced_sleepers, then pays one membarrier (~1 us, plus an
//    interrupt of every CPU running a registered process). From then on
//    every publisher sees the count before its look at the masks, and a
//    publish that read it too early has its commit made visible by that
//    membarrier;
//  - later sleeps of that subscriber fence with a plain full fence, paired
//    with the publisher's full fence: a membarrier per sleep would
//    interrupt the other side of a ping-pong on every message;
//  - a publisher that sees a count of 0 pays a compiler barrier.
// Held reliable publishers and joining reliable subscribers, which sleep
// or join rarely, pay the membarrier each time. Either side falls back
// safely: a process that cannot register fences fully when it publishes,
// and a sleeper whose membarrier fails sleeps at most kUnfencedSleep at a
// time.

// True once this process is registered: its publishers may fence lightly.
bool LightPublisherFence();

// The publisher's side, between its commit and its look at sleepers.
// `sleepers`: its topic's fenced_sleepers, or nullptr where every sleeper
// pays a membarrier (a held reliable publisher). Light, a compiler barrier,
// while no counted sleeper relies on a full fence here.
inline void PublisherFence(bool light,
                           const std::atomic<std::uint32_t>* sleepers = nullptr) {
  if (light) {
    // Keeps the load below after the commit in program order: a membarrier
    // that counted a sleeper either precedes the load, so we see the
    // count, or follows it, and then it made our commit visible to that
    // sleeper. Relaxed: that membarrier is the ordering.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (sleepers == nullptr || sleepers->load(std::memory_order_relaxed) == 0) return;
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

// The sleeper's side, after it announced it sleeps and before it looks
// again. `first`: the sleeper has just counted itself (or is not counted
// at all): pay the membarrier. Otherwise a full fence suffices. False when
// membarrier is unavailable here: the caller's sleep must then be bounded
// by kUnfencedSleep.
bool SleeperFence(bool first = true);
inline constexpr absl::Duration kUnfencedSleep = absl::Milliseconds(1);

// Makes every running thread of this process (and of every process
// registered as LightPublisherFence registers) execute a full fence before
// it returns; a thread that is not running fences when it next runs. False
// when this process cannot (membarrier missing or not registered).
bool ProcessFence();

// One pause of a spin-wait loop (lets the sibling hyper-thread run).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Sleeps while `word` holds `expected`, at most `timeout`. Returns OK when
// woken or when the word no longer holds `expected` (possibly spuriously:
// callers re-check their condition), DeadlineExceeded on timeout.
absl::Status FutexWait(const std::atomic<std::uint32_t>& word,
                       std::uint32_t expected, absl::Duration timeout);

// Wakes up to `count` waiters on `word`; returns how many were woken.
int FutexWake(const std::atomic<std::uint32_t>& word, int count = INT32_MAX);

// One word of a multi-word wait.
struct FutexWaitItem {
  const std::atomic<std::uint32_t>* word;
  std::uint32_t expected;
};

// Sleeps until any word changes from its expected value or is woken, at
// most `timeout` (futex_waitv, Linux 5.16+; at most 128 words). Returns OK,
// DeadlineExceeded, or InvalidArgument for too many words.
absl::Status FutexWaitAny(absl::Span<const FutexWaitItem> items,
                          absl::Duration timeout);

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_FUTEX_H_
