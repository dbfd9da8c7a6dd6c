#include "ringcast/executor.h"

#include <time.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node_state.h"
#include "transport/futex.h"

namespace ringcast {
namespace {

std::int64_t SteadyNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

void internal::WakeWord::Wake() {
  // Release: the woken executor's acquire load of the word sees what the
  // waker did before (a stop, a trigger, a registration).
  word.fetch_add(1, std::memory_order_release);
  transport::FutexWake(word);
}

void GuardCondition::Trigger() {
  // Relaxed: published by Wake's release.
  triggered_.store(true, std::memory_order_relaxed);
  wake_->guard_pending.store(true, std::memory_order_relaxed);
  wake_->Wake();
}

Executor::Executor(const ExecutorOptions& options)
    : options_(options), wake_(std::make_shared<internal::WakeWord>()) {
  if (options_.batch < 1) options_.batch = 1;
}

Executor::~Executor() = default;

void Executor::Add(const Node& node) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    nodes_.push_back(std::weak_ptr<internal::NodeState>(node.state_));
    ++changes_;
  }
  wake_->Wake();
}

void Executor::AddSubscription(std::shared_ptr<internal::CallbackSubscription> sub) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    direct_.push_back(std::move(sub));
    ++changes_;
  }
  wake_->Wake();
}

absl::StatusOr<Executor::TimerId> Executor::AddTimer(absl::Duration period,
                                                     std::function<void()> fn) {
  if (period <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("timer period ", absl::FormatDuration(period),
                                                   ": valid a duration above zero"));
  }
  if (!fn) return absl::InvalidArgumentError("timer callback is empty");
  TimerId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_timer_++;
    timers_.push_back(
        Timer{id, period, SteadyNs() + absl::ToInt64Nanoseconds(period), std::move(fn)});
    // Relaxed: a hint for the spinning thread, which takes mu_ to look.
    timer_count_.store(timers_.size(), std::memory_order_relaxed);
    ++changes_;
  }
  wake_->Wake();  // a sleeping executor recomputes its timeout
  return id;
}

void Executor::CancelTimer(TimerId id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(timers_, [id](const Timer& t) { return t.id == id; });
  timer_count_.store(timers_.size(), std::memory_order_relaxed);
  ++changes_;
}

std::shared_ptr<GuardCondition> Executor::AddGuardCondition(std::function<void()> fn) {
  std::shared_ptr<GuardCondition> g(new GuardCondition(wake_, std::move(fn)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    guards_.push_back(g);
    ++changes_;
  }
  return g;
}

void Executor::Stop() {
  // Relaxed: published by Wake's release.
  wake_->stop.store(true, std::memory_order_relaxed);
  wake_->Wake();
}

absl::Status Executor::Refresh() {
  subs_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<internal::NodeState>> nodes;
  std::erase_if(nodes_, [&](const std::weak_ptr<internal::NodeState>& w) {
    std::shared_ptr<internal::NodeState> n = w.lock();
    if (n == nullptr) return true;
    nodes.push_back(std::move(n));
    return false;
  });
  bool stale = changes_ != seen_changes_ || node_versions_.size() != nodes.size();
  for (std::size_t i = 0; !stale && i < nodes.size(); ++i) {
    // Acquire: pairs with AddCallback's release, so the list is complete.
    stale = nodes[i]->version.load(std::memory_order_acquire) != node_versions_[i];
  }
  if (stale) {
    seen_changes_ = changes_;
    node_versions_.clear();
    known_.clear();
    for (const auto& n : nodes) {
      node_versions_.push_back(n->version.load(std::memory_order_acquire));
      for (auto& s : n->Callbacks()) known_.push_back(s);
    }
    std::erase_if(direct_, [](const auto& w) { return w.expired(); });
    for (const auto& w : direct_) {
      if (std::find_if(known_.begin(), known_.end(), [&](const auto& k) {
            return !k.owner_before(w) && !w.owner_before(k);
          }) == known_.end()) {
        known_.push_back(w);
      }
    }
  }
  // A subscription its owner dropped or closed drops out here.
  for (const auto& w : known_) {
    std::shared_ptr<internal::CallbackSubscription> s = w.lock();
    if (s != nullptr && !s->raw().closed()) subs_.push_back(std::move(s));
  }
  if (subs_.size() > kMaxSubscriptions) {
    const std::size_t n = subs_.size();
    subs_.clear();
    return absl::ResourceExhaustedError(absl::StrCat(
        "executor serves ", n, " subscriptions; one executor sleeps on at most ",
        kMaxSubscriptions, ": spread them over several executors (threads)"));
  }
  return absl::OkStatus();
}

std::int64_t Executor::NextDueNs() {
  // Relaxed: AddTimer also wakes us, so a timer added after this load is
  // seen at the next look.
  if (timer_count_.load(std::memory_order_relaxed) == 0) return kNever;
  std::lock_guard<std::mutex> lock(mu_);
  std::int64_t next = kNever;
  for (const Timer& t : timers_) next = std::min(next, t.due_ns);
  return next;
}

bool Executor::AnythingReady() {
  // Relaxed: a hint; Wake's release and the word's acquire order the rest.
  if (wake_->stop.load(std::memory_order_relaxed)) return true;
  for (const auto& s : subs_) {
    if (s->raw().HasData()) return true;
  }
  if (wake_->guard_pending.load(std::memory_order_relaxed)) return true;
  const std::int64_t due = NextDueNs();
  return due != kNever && due <= SteadyNs();
}

int Executor::RunReady() {
  int ran = 0;
  // Samples first, a batch per subscription per round: they are what a
  // sleeper is woken for.
  for (const auto& s : subs_) {
    if (s->raw().HasData()) ran += s->Dispatch(options_.batch);
  }
  // Timers due now, in due-time order. Callbacks run without the lock, so
  // they may add or cancel timers.
  const std::int64_t now = timer_count_.load(std::memory_order_relaxed) == 0 ? 0 : SteadyNs();
  while (now != 0) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto due = std::min_element(timers_.begin(), timers_.end(),
                                  [](const Timer& a, const Timer& b) {
                                    return std::tie(a.due_ns, a.id) < std::tie(b.due_ns, b.id);
                                  });
      if (due == timers_.end() || due->due_ns > now) break;
      const std::int64_t period = absl::ToInt64Nanoseconds(due->period);
      due->due_ns += period;
      // Fell a whole period behind: skip to the next due time from now.
      if (due->due_ns <= now) due->due_ns = now + period - (now - due->due_ns) % period;
      fn = due->fn;
    }
    fn();
    ++ran;
  }
  // Guard conditions, when one was triggered.
  if (!wake_->guard_pending.exchange(false, std::memory_order_relaxed)) return ran;
  std::vector<std::shared_ptr<GuardCondition>> fired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(guards_, [&](const std::weak_ptr<GuardCondition>& w) {
      std::shared_ptr<GuardCondition> g = w.lock();
      if (g == nullptr) return true;
      if (g->triggered_.exchange(false, std::memory_order_relaxed)) fired.push_back(std::move(g));
      return false;
    });
  }
  for (const auto& g : fired) {
    if (g->fn_) g->fn_();
    ++ran;
  }
  return ran;
}

absl::Status Executor::SpinOnce(absl::Duration timeout) {
  // What SpinOnce holds it lets go of when it returns: the executor never
  // keeps a subscription (or its shared memory) alive between calls.
  struct Release {
    std::vector<std::shared_ptr<internal::CallbackSubscription>>* subs;
    ~Release() { subs->clear(); }
  } release{&subs_};
  RINGCAST_RETURN_IF_ERROR(Refresh());
  if (RunReady() > 0) return absl::OkStatus();
  const std::int64_t start = SteadyNs();
  const std::int64_t deadline =
      timeout == absl::InfiniteDuration() ? kNever : start + absl::ToInt64Nanoseconds(timeout);
  // Poll briefly: a sample due within microseconds costs no system call.
  const std::int64_t spin_end = start + absl::ToInt64Nanoseconds(options_.spin);
  while (SteadyNs() < std::min(spin_end, deadline)) {
    for (int i = 0; i < 64; ++i) {
      if (AnythingReady()) {
        RunReady();
        return absl::OkStatus();
      }
      CpuRelax();
    }
  }
  // Sleep on every doorbell and our own word at once. Arm first, then look
  // once more: a publisher either sees our sleeping bit and rings, or we
  // see its sample (Reader::ArmDoorbell).
  std::vector<transport::FutexWaitItem> items;
  items.reserve(subs_.size() + 1);
  // Acquire: pairs with Wake's release.
  items.push_back({&wake_->word, wake_->word.load(std::memory_order_acquire)});
  bool first_sleep = false;  // a subscriber sleeps for the first time
  for (const auto& s : subs_) {
    transport::Reader& r = s->raw().reader();
    first_sleep = r.CountAsSleeper() || first_sleep;
    items.push_back({&r.doorbell(), r.ArmDoorbell(/*fence=*/false)});
  }
  // One sleeper's fence for every doorbell armed above (a membarrier when
  // one of them sleeps for the first time); without membarrier there,
  // publishers that fence lightly may miss our bits: sleep in short slices
  // then.
  const bool fenced = subs_.empty() || transport::SleeperFence(first_sleep);
  absl::Status waited = absl::OkStatus();
  if (!AnythingReady()) {
    std::int64_t until = std::min(deadline, NextDueNs());
    if (!fenced) {
      until = std::min(until, SteadyNs() + absl::ToInt64Nanoseconds(transport::kUnfencedSleep));
    }
    if (until != kNever) {
      waited = transport::FutexWaitAny(items, absl::Nanoseconds(std::max<std::int64_t>(
                                                  0, until - SteadyNs())));
    } else {
      waited = transport::FutexWaitAny(items, absl::InfiniteDuration());
    }
  }
  for (const auto& s : subs_) s->raw().reader().DisarmDoorbell();
  if (!waited.ok() && !absl::IsDeadlineExceeded(waited)) return waited;
  // Our own word changed: a registration, a stop or a guard; look again.
  // Acquire: pairs with Wake's release.
  if (wake_->word.load(std::memory_order_acquire) != items[0].expected) {
    RINGCAST_RETURN_IF_ERROR(Refresh());
  }
  RunReady();
  return absl::OkStatus();
}

absl::Status Executor::Spin() {
  // Relaxed: Stop's Wake orders the rest. A Stop made before Spin began
  // still counts; the stop is consumed when Spin returns.
  while (!wake_->stop.load(std::memory_order_relaxed)) {
    if (absl::Status s = SpinOnce(absl::InfiniteDuration()); !s.ok()) return s;
  }
  wake_->stop.store(false, std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace ringcast
