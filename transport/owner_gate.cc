#include "transport/owner_gate.h"

#include <sched.h>

#include "transport/futex.h"

namespace ringcast::transport::internal {

bool OwnerGate::TryVisit() {
#if defined(__SANITIZE_THREAD__)
  visitor_.store(1, std::memory_order_seq_cst);
  if (owner_.load(std::memory_order_seq_cst) == 0) return true;
#else
  // Relaxed: the membarrier below orders it. After it, an owner that
  // raised its flag before has it visible to us, and one that raises it
  // later sees ours (Dekker's exclusion, with the owner's fence paid here).
  visitor_.store(1, std::memory_order_relaxed);
  if (ProcessFence()) {
    // Acquire: the owner's last use happens before our visit.
    if (owner_.load(std::memory_order_acquire) == 0) return true;
  }
#endif
  // Relaxed: we did nothing the owner must see.
  visitor_.store(0, std::memory_order_relaxed);
  return false;
}

void OwnerGate::WaitOut() {
  for (;;) {
    // Relaxed: we did nothing yet; the visitor only reads the flag.
    owner_.store(0, std::memory_order_relaxed);
    // Acquire: see what the visit did.
    while (visitor_.load(std::memory_order_acquire) != 0) ::sched_yield();
#if defined(__SANITIZE_THREAD__)
    owner_.store(1, std::memory_order_seq_cst);
    if (visitor_.load(std::memory_order_seq_cst) == 0) return;
#else
    owner_.store(1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (visitor_.load(std::memory_order_acquire) == 0) return;
#endif
  }
}

}  // namespace ringcast::transport::internal
