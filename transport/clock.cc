#include "transport/clock.h"

#include <atomic>
#include <cstring>
#include <string>

#include "transport/process.h"

namespace ringcast::transport {
namespace {

bool ProbeInvariantTsc() {
#if defined(__x86_64__)
  // The first CPU's record, flags included, fits one read of 8 KiB; the
  // flags are the same on every CPU.
  char buf[8192];
  if (ReadSmallFile("/proc/cpuinfo", buf, sizeof buf) <= 0) return false;
  const char* flags = std::strstr(buf, "\nflags");
  if (flags == nullptr) return false;
  const char* end = std::strchr(flags + 1, '\n');
  const std::string line =
      std::string(flags, end == nullptr ? std::strlen(flags) : end - flags) + " ";
  return line.find(" constant_tsc ") != std::string::npos &&
         line.find(" nonstop_tsc ") != std::string::npos;
#else
  return false;
#endif
}

// The rate the last PublishClock of this process measured (ns per tick
// << 32; 0 = none yet): the counter's rate is the machine's, so a new
// clock, or one back from a long pause, starts from it instead of stamping
// with clock_gettime until it has measured its own. Relaxed: a rate is
// one word, and any recent one will do.
std::atomic<std::uint64_t> g_rate{0};

}  // namespace

bool InvariantTsc() {
  static const bool invariant = ProbeInvariantTsc();
  return invariant;
}

PublishClock::PublishClock() : tsc_(InvariantTsc()) {}

void PublishClock::SetRate(std::uint64_t mult) {
  mult_ = mult;
  // kReanchorNs worth of ticks at that rate (none without one).
  reanchor_ticks_ = mult == 0 ? 0
                              : static_cast<std::uint64_t>(
                                    (static_cast<unsigned __int128>(kReanchorNs) << 32) / mult);
}

std::int64_t PublishClock::Reanchor() {
  const std::int64_t ns = WallNanos();
  if (!tsc_) return ns;
#if defined(__x86_64__)
  const std::uint64_t tsc = __rdtsc();
  const std::uint64_t dt = tsc - anchor_tsc_;
  const std::int64_t dns = ns - anchor_ns_;
  // Measure the rate over the interval just ended, if it is long enough to
  // be precise and short enough to be one stretch of the same clock (not
  // a publisher idle for hours, nor a clock step).
  if (anchor_ns_ != 0 && dns >= kReanchorNs / 2 && dns <= 4 * kReanchorNs && dt > 0 &&
      dt < (std::uint64_t{1} << 40)) {
    SetRate(static_cast<std::uint64_t>((static_cast<unsigned __int128>(dns) << 32) / dt));
    g_rate.store(mult_, std::memory_order_relaxed);
  } else if (anchor_ns_ == 0 || dns > 4 * kReanchorNs || dns < 0) {
    // First use, or a long pause (or a clock step): take the process's
    // last measured rate from this new anchor on, or, if there is none
    // yet, stamp with the wall clock (mult_ = 0) until the next interval
    // is measured.
    SetRate(g_rate.load(std::memory_order_relaxed));
  } else {
    return ns;  // too short an interval to measure: keep the anchor
  }
  anchor_tsc_ = tsc;
  anchor_ns_ = ns;
  return ns;
#endif
}

}  // namespace ringcast::transport
