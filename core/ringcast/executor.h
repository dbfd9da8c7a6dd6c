// core/ringcast/executor.h: one thread that serves any number of callback
// subscriptions, timers and guard conditions.
//
//   ringcast::Executor exec;
//   exec.Add(*node);                                  // its callback subscribers
//   exec.AddTimer(absl::Milliseconds(100), [&] { ... });
//   exec.Spin();                                      // until exec.Stop()
//
// While nothing is ready the thread sleeps on every subscription's doorbell
// at once (futex_waitv) and on its own wake word, with the next timer's due
// time as the timeout: an idle executor uses no CPU and never polls. When
// woken it takes up to `batch` samples from each ready subscription in
// turn, so a busy topic never starves the others; samples a callback was
// too slow for are lost and reported as always (Sample::lost_before).
//
// Thread safety: Spin/SpinOnce run on one thread at a time. Add, AddTimer,
// CancelTimer and Stop may be called from any thread; Stop and
// GuardCondition::Trigger also from a signal handler.
#ifndef RINGCAST_CORE_RINGCAST_EXECUTOR_H_
#define RINGCAST_CORE_RINGCAST_EXECUTOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ringcast/node.h"
#include "ringcast/subscriber.h"

namespace ringcast {

namespace internal {
// The executor's own futex word: bumped by Stop, guard triggers and
// registrations so that a sleeping executor wakes. Process-local.
struct WakeWord {
  std::atomic<std::uint32_t> word{0};
  std::atomic<bool> stop{false};
  // Set by a guard's Trigger, so the executor looks at its guards only then.
  std::atomic<bool> guard_pending{false};
  void Wake();  // async-signal-safe
};
}  // namespace internal

// A condition the user triggers (from any thread or a signal handler); the
// executor then runs its callback on its own thread, once per trigger burst.
class GuardCondition {
 public:
  void Trigger();

 private:
  friend class Executor;
  GuardCondition(std::shared_ptr<internal::WakeWord> wake, std::function<void()> fn)
      : wake_(std::move(wake)), fn_(std::move(fn)) {}
  std::shared_ptr<internal::WakeWord> wake_;
  std::function<void()> fn_;
  std::atomic<bool> triggered_{false};
};

struct ExecutorOptions {
  // How long a wake-up polls the subscriptions before sleeping again (as
  // transport::ReaderOptions::spin); zero sleeps at once.
  absl::Duration spin = absl::Microseconds(20);
  // Samples taken from one subscription before the next gets its turn.
  int batch = 16;
};

class Executor {
 public:
  // The most subscriptions one executor sleeps on (futex_waitv takes 128
  // words; one is the executor's own).
  static constexpr std::size_t kMaxSubscriptions = 127;
  using TimerId = std::uint64_t;

  explicit Executor(const ExecutorOptions& options = {});
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Serves every callback subscriber `node` has now and makes later.
  void Add(const Node& node);
  // Serves one callback subscriber. InvalidArgument if it has no callback.
  template <typename T>
  absl::Status Add(const Subscriber<T>& subscriber) {
    if (subscriber.callback_ == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "subscriber on ", subscriber.topic(),
          " has no callback; make it with node->CreateSubscriber(topic, callback)"));
    }
    AddSubscription(subscriber.callback_);
    return absl::OkStatus();
  }

  // Calls `fn` every `period` (on the steady clock; the first call one
  // period from now). Due timers fire in due-time order; a timer that fell
  // more than a period behind skips the missed calls instead of bursting.
  // InvalidArgument for a period <= 0.
  absl::StatusOr<TimerId> AddTimer(absl::Duration period, std::function<void()> fn);
  void CancelTimer(TimerId id);

  // A guard condition whose trigger makes the executor call `fn`.
  std::shared_ptr<GuardCondition> AddGuardCondition(std::function<void()> fn);

  // Serves until Stop(). ResourceExhausted past kMaxSubscriptions; other
  // errors of the wait itself.
  absl::Status Spin();
  // Runs what is ready; if nothing is, waits up to `timeout` for something
  // and runs it. OK also when the timeout passed with nothing to do.
  absl::Status SpinOnce(absl::Duration timeout);
  // Makes Spin return (after the callback running now), or the next Spin
  // return at once if none runs. Any thread, and async-signal-safe.
  void Stop();

 private:
  struct Timer {
    TimerId id;
    absl::Duration period;
    std::int64_t due_ns;  // steady clock
    std::function<void()> fn;
  };
  void AddSubscription(std::shared_ptr<internal::CallbackSubscription> sub);
  absl::Status Refresh();
  // Runs due timers, triggered guards and up to `batch` samples of every
  // subscription with data; returns how many things it ran.
  int RunReady();
  bool AnythingReady();
  std::int64_t NextDueNs();

  ExecutorOptions options_;
  std::shared_ptr<internal::WakeWord> wake_;

  std::mutex mu_;  // guards what the Add*/Cancel* calls change
  // Weak: an executor never keeps a node or a subscription alive.
  std::vector<std::weak_ptr<internal::NodeState>> nodes_;
  std::vector<std::weak_ptr<internal::CallbackSubscription>> direct_;
  std::vector<Timer> timers_;
  std::vector<std::weak_ptr<GuardCondition>> guards_;
  TimerId next_timer_ = 1;
  std::atomic<std::size_t> timer_count_{0};  // timers_.size(), read without mu_
  std::uint64_t changes_ = 1;  // +1 on every registration change

  // The spinning thread's copies.
  std::uint64_t seen_changes_ = 0;
  std::vector<std::uint64_t> node_versions_;
  std::vector<std::weak_ptr<internal::CallbackSubscription>> known_;
  // Locked from known_ for the length of one SpinOnce.
  std::vector<std::shared_ptr<internal::CallbackSubscription>> subs_;
};

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_EXECUTOR_H_
