#include "transport/pool_keeper.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "transport/pool_chain.h"
#include "transport/warn.h"

namespace ringcast::transport::internal {
namespace {

std::int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Keeper {
 public:
  // Never destroyed: its thread may outlive static destruction.
  static Keeper& Get() {
    static Keeper* keeper = [] {
      auto* k = new Keeper();
      // A child of fork() has no keeper thread, and the pools on the list
      // are its parent's: it must not release them. Lock across fork so the list is never copied half-made.
      pthread_atfork([] { Get().mu_.lock(); }, [] { Get().mu_.unlock(); },
                     [] {
                       Keeper& self = Get();
                       self.watch_.clear();
                       self.running_ = false;
                       self.mu_.unlock();
                     });
      return k;
    }();
    return *keeper;
  }

  void Start(Keepable* what, absl::Duration idle) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::int64_t first =
        SteadyNowNs() + std::max<std::int64_t>(absl::ToInt64Nanoseconds(idle) / 4, 1);
    auto it = std::find_if(watch_.begin(), watch_.end(),
                           [&](const Watched& w) { return w.what == what; });
    if (it == watch_.end()) {
      watch_.push_back(Watched{what, first});
    } else {
      it->next_ns = std::min(it->next_ns, first);
    }
    if (running_) {
      wake_.notify_one();
      return;
    }
    try {
      std::thread([this] { Run(); }).detach();
      running_ = true;
    } catch (const std::system_error& e) {
      WarnOnce("pool.keeper", absl::StrCat("cannot start the thread that shrinks grown chunk "
                                           "pools (", e.what(), "); they keep what they grew"));
    }
  }

  bool Stop(Keepable* what) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(watch_.begin(), watch_.end(),
                           [&](const Watched& w) { return w.what == what; });
    if (it == watch_.end()) return false;
    *it = watch_.back();
    watch_.pop_back();
    if (watch_.empty()) wake_.notify_one();  // let the thread end now
    return true;
  }

 private:
  struct Watched {
    Keepable* what;
    std::int64_t next_ns;  // when to look next
  };

  Keeper() = default;

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!watch_.empty()) {
      const std::int64_t now = SteadyNowNs();
      std::int64_t next = PoolChain::kNever;
      for (std::size_t i = 0; i < watch_.size();) {
        Watched& w = watch_[i];
        // Under mu_, so Stop cannot return while we look at w.what.
        if (w.next_ns <= now) w.next_ns = w.what->KeepUp(now);
        if (w.next_ns == PoolChain::kNever) {  // back to its first segments
          w = watch_.back();
          watch_.pop_back();
          continue;
        }
        next = std::min(next, w.next_ns);
        ++i;
      }
      if (watch_.empty()) break;
      wake_.wait_for(lock, std::chrono::nanoseconds(next - now));
    }
    running_ = false;
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Watched> watch_;  // guarded by mu_
  bool running_ = false;        // a thread runs Run(); guarded by mu_
};

}  // namespace

void StartKeeping(Keepable* what, absl::Duration idle) { Keeper::Get().Start(what, idle); }

bool StopKeeping(Keepable* what) { return Keeper::Get().Stop(what); }

}  // namespace ringcast::transport::internal
