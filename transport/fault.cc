#include "transport/fault.h"

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace ringcast::transport {
namespace {

// The armed point (an index into kFaultPoints, -1 = none) and how many
// hits pass before it fires. Process-local: a test arms a forked child.
std::atomic<int> g_armed{-1};
std::atomic<std::uint32_t> g_passes{0};

int IndexOf(absl::string_view name) {
  for (std::size_t i = 0; i < kFaultPoints.size(); ++i) {
    if (name == kFaultPoints[i]) return static_cast<int>(i);
  }
  return -1;
}

// RINGCAST_FAULT_POINT=<name>[:<passes>], read once.
void ArmFromEnvironment() {
  const char* env = std::getenv("RINGCAST_FAULT_POINT");
  if (env == nullptr || *env == '\0') return;
  absl::string_view spec(env);
  std::uint32_t passes = 0;
  if (const std::size_t colon = spec.find(':'); colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(spec.substr(colon + 1), &passes)) return;
    spec = spec.substr(0, colon);
  }
  ArmFaultPoint(std::string(spec).c_str(), passes);
}

}  // namespace

namespace internal {

void FaultPoint(const char* name) {
  static const bool from_env = (ArmFromEnvironment(), true);
  (void)from_env;
  // Relaxed: process-local test control, set before the code under test runs.
  const int armed = g_armed.load(std::memory_order_relaxed);
  if (armed < 0 || std::strcmp(kFaultPoints[armed], name) != 0) return;
  if (g_passes.load(std::memory_order_relaxed) > 0) {
    g_passes.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  ::raise(SIGKILL);
}

}  // namespace internal

bool ArmFaultPoint(const char* name, std::uint32_t pass) {
  if (!FaultPointsCompiledIn()) return false;
  const int i = IndexOf(name);
  if (i < 0) return false;
  g_passes.store(pass, std::memory_order_relaxed);
  g_armed.store(i, std::memory_order_relaxed);
  return true;
}

bool FaultPointsCompiledIn() {
#ifdef RINGCAST_FAULT_INJECTION
  return true;
#else
  return false;
#endif
}

}  // namespace ringcast::transport
