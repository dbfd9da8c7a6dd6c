#include "transport/clock.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "transport/process.h"

namespace ringcast::transport {
namespace {

bool ProbeInvariantTsc() {
#if defined(__x86_64__)
  const int fd = ::open("/proc/cpuinfo", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  // The first CPU's flags line is enough: the flags are the same on all.
  std::string text;
  char buf[4096];
  ssize_t n;
  while (text.size() < (1u << 16) && (n = ::read(fd, buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<std::size_t>(n));
    if (text.find("\nflags") != std::string::npos &&
        text.find('\n', text.find("\nflags") + 1) != std::string::npos) {
      break;
    }
  }
  ::close(fd);
  const std::size_t at = text.find("\nflags");
  if (at == std::string::npos) return false;
  const std::string flags = " " + text.substr(at, text.find('\n', at + 1) - at) + " ";
  return flags.find(" constant_tsc ") != std::string::npos &&
         flags.find(" nonstop_tsc ") != std::string::npos;
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
