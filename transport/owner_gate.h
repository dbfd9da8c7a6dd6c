// transport/owner_gate.h: lets a rare visitor thread act on an object that
// one owner thread uses all the time, without the owner paying for a lock.
// The owner brackets every use with Enter/Leave: two plain stores and a
// load. The visitor asks first (TryVisit): it raises its flag, makes every
// thread of the process fence (membarrier, futex.h), and goes in only if
// the owner is out; an owner that comes in meanwhile waits at Enter until
// the visitor is done. Where membarrier is missing the visitor never goes
// in. (ThreadSanitizer builds use sequentially consistent flags on both
// sides instead, which it can follow.)
#ifndef RINGCAST_TRANSPORT_OWNER_GATE_H_
#define RINGCAST_TRANSPORT_OWNER_GATE_H_

#include <atomic>
#include <cstdint>

namespace ringcast::transport::internal {

class OwnerGate {
 public:
  void Enter() {
#if defined(__SANITIZE_THREAD__)
    owner_.store(1, std::memory_order_seq_cst);
    if (visitor_.load(std::memory_order_seq_cst) != 0) WaitOut();
#else
    // Relaxed, then only a compiler barrier: the visitor's membarrier
    // orders our flag before our look at its flag (see TryVisit).
    owner_.store(1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    // Acquire: a visit that ended happens before what we do now.
    if (visitor_.load(std::memory_order_acquire) != 0) [[unlikely]] WaitOut();
#endif
  }
  // Release: what we did happens before a visit that finds us out.
  void Leave() { owner_.store(0, std::memory_order_release); }

  // True when the visitor may act (until EndVisit): the owner is out and
  // stays out. False, holding nothing, when the owner is in or this
  // process cannot fence the owner's thread.
  bool TryVisit();
  // Release: what the visitor did happens before the owner's next Enter.
  void EndVisit() { visitor_.store(0, std::memory_order_release); }

 private:
  void WaitOut();  // the owner, while a visit lasts

  std::atomic<std::uint32_t> owner_{0};
  std::atomic<std::uint32_t> visitor_{0};
};

// Enter/Leave for a scope (nothing with a null gate).
class OwnerScope {
 public:
  explicit OwnerScope(OwnerGate* gate) : gate_(gate) {
    if (gate_ != nullptr) gate_->Enter();
  }
  ~OwnerScope() {
    if (gate_ != nullptr) gate_->Leave();
  }
  OwnerScope(const OwnerScope&) = delete;
  OwnerScope& operator=(const OwnerScope&) = delete;

 private:
  OwnerGate* gate_;
};

}  // namespace ringcast::transport::internal

#endif  // RINGCAST_TRANSPORT_OWNER_GATE_H_
