// cli/verbs.cc: what every verb shares: one-line errors, stopping on
// signals, and the status line of long-running verbs.
#include "cli/verbs.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace ringcast::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

}  // namespace

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "ringcast: %s\n", std::string(status.message()).c_str());
  return 1;
}

int UsageError(const std::string& why) {
  std::fprintf(stderr, "ringcast: %s (see ringcast --help)\n", why.c_str());
  return 2;
}

std::string JsonLine(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::replace) +
         "\n";
}

void StopOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;  // no SA_RESTART: a sleeping futex returns
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool StopRequested() { return g_stop != 0; }

bool SleepUnlessStopped(absl::Duration d) {
  if (g_stop != 0) return false;
  timespec left = absl::ToTimespec(d);
  // nanosleep returns EINTR at the signal; the flag is then set.
  while (::nanosleep(&left, &left) != 0 && errno == EINTR && g_stop == 0) {
  }
  return g_stop == 0;
}

StatusLine::StatusLine() : tty_(::isatty(STDERR_FILENO) == 1), last_(absl::InfinitePast()) {}

StatusLine::~StatusLine() {
  if (tty_ && width_ > 0) std::fputs("\n", stderr);
}

void StatusLine::Show(const std::string& text) {
  const absl::Time now = absl::Now();
  if (tty_) {
    // Pad to the previous width so a shorter line leaves no tail behind.
    std::string padded = text;
    if (padded.size() < width_) padded.append(width_ - padded.size(), ' ');
    std::fprintf(stderr, "\r%s", padded.c_str());
    std::fflush(stderr);
    width_ = text.size();
    return;
  }
  if (now - last_ < absl::Seconds(1)) return;
  last_ = now;
  std::fprintf(stderr, "%s\n", text.c_str());
}

}  // namespace ringcast::cli
