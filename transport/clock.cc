#include "transport/clock.h"

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

}  // namespace

bool InvariantTsc() {
  static const bool invariant = ProbeInvariantTsc();
  return invariant;
}

PublishClock::PublishClock() : tsc_(InvariantTsc()) {}

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
    mult_ = static_cast<std::uint64_t>((static_cast<unsigned __int128>(dns) << 32) / dt);
    // kReanchorNs worth of ticks at that rate.
    reanchor_ticks_ = static_cast<std::uint64_t>(
        (static_cast<unsigned __int128>(kReanchorNs) << 32) / (mult_ == 0 ? 1 : mult_));
  } else if (anchor_ns_ == 0 || dns > 4 * kReanchorNs || dns < 0) {
    // First use, or a long pause: no rate yet, or a stale one. Until the
    // next interval is measured, stamp with the wall clock (mult_ = 0),
    // and re-anchor when that interval is over.
    mult_ = 0;
  } else {
    return ns;  // too short an interval to measure: keep the anchor
  }
  anchor_tsc_ = tsc;
  anchor_ns_ = ns;
  return ns;
#endif
}

}  // namespace ringcast::transport
