// transport/clock.h: the publish time stamp, read on every publish.
//
// CLOCK_REALTIME through the vDSO costs 25-45 ns on a virtual machine whose
// clock source is kvm-clock (measured on the reference machine), more than
// the rest of a publish. Where the CPU's time stamp counter is invariant
// (constant_tsc and nonstop_tsc in /proc/cpuinfo, x86-64 only), PublishClock
// extrapolates CLOCK_REALTIME from it: one RDTSC per stamp, and a
// clock_gettime every kReanchor (50 ms) to re-anchor and to re-measure the
// counter's rate over the last interval. Between anchors a stamp is off
// CLOCK_REALTIME by the rate error times the time since the anchor (well
// under a microsecond: the rate is measured over 50 ms with two readings of
// ~40 ns jitter each), and a step of CLOCK_REALTIME (settimeofday) shows
// within 50 ms. A new clock starts from the rate its process last
// measured. Elsewhere, and until a process has measured its first rate
// (the first 25-50 ms of its first publisher), every stamp is a
// clock_gettime.
#ifndef RINGCAST_TRANSPORT_CLOCK_H_
#define RINGCAST_TRANSPORT_CLOCK_H_

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace ringcast::transport {

// True where the TSC ticks at one rate in every state and on every CPU.
bool InvariantTsc();

// One per thread of use (a Writer has its own): not thread-safe.
class PublishClock {
 public:
  PublishClock();

  // Nanoseconds since the epoch, as CLOCK_REALTIME.
  std::int64_t Now() {
#if defined(__x86_64__)
    if (mult_ != 0) {
      const std::uint64_t dt = __rdtsc() - anchor_tsc_;
      // An unsigned dt also sends a counter that went backwards (another
      // CPU's, not synchronised) to the slow path.
      if (dt < reanchor_ticks_) {
        return anchor_ns_ + static_cast<std::int64_t>((static_cast<unsigned __int128>(dt) * mult_) >> 32);
      }
    }
#endif
    return Reanchor();
  }

  // True while stamps come from the TSC (a rate is known).
  bool extrapolating() const { return mult_ != 0; }

  static constexpr std::int64_t kReanchorNs = 50'000'000;

 private:
  std::int64_t Reanchor();
  void SetRate(std::uint64_t mult);

  std::uint64_t anchor_tsc_ = 0;
  std::int64_t anchor_ns_ = 0;
  std::uint64_t mult_ = 0;  // ns per tick << 32; 0 = not measured yet
  std::uint64_t reanchor_ticks_ = 0;
  bool tsc_ = false;
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_CLOCK_H_
