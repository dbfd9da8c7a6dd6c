// Shared by the benchmark programs: pinning, percentiles, result output
// (a table or one JSON object per result), and a peer process.
#ifndef RINGCAST_BENCH_COMMON_BENCH_UTIL_H_
#define RINGCAST_BENCH_COMMON_BENCH_UTIL_H_

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "transport/liveness.h"
#include "transport/shm_options.h"

namespace ringcast::bench {

inline bool g_json = false;

inline void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)sched_setaffinity(0, sizeof set, &set);
}

inline std::int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

struct Stats {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

inline Stats Percentiles(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
  };
  return {at(0.5), at(0.9), at(0.99), at(0.999), v.back()};
}

// Several runs of one case, each over fresh shared memory (so over other
// physical pages, whose cache placement moves cross-core latency by tens of
// nanoseconds on some hosts): each percentile is the median of the runs',
// the max is the largest.
inline Stats MedianOfRuns(const std::vector<Stats>& runs) {
  if (runs.empty()) return {};
  auto median = [&](double Stats::*field) {
    std::vector<double> v;
    for (const Stats& r : runs) v.push_back(r.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  Stats out{median(&Stats::p50), median(&Stats::p90), median(&Stats::p99),
            median(&Stats::p999), 0};
  for (const Stats& r : runs) out.max = std::max(out.max, r.max);
  return out;
}

inline void PrintLatencyHeader(const char* title) {
  if (g_json) return;
  std::printf("%s\n%-36s %9s %9s %9s %9s %10s\n", title, "case", "p50", "p90", "p99", "p99.9",
              "max");
}

inline void ReportLatency(const std::string& name, const Stats& s) {
  if (g_json) {
    const std::pair<const char*, double> metrics[] = {
        {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"p99.9", s.p999}, {"max", s.max}};
    for (const auto& [metric, value] : metrics) {
      std::printf("{\"case\":\"%s\",\"metric\":\"one_way_%s\",\"value\":%.1f,\"unit\":\"ns\"}\n",
                  name.c_str(), metric, value);
    }
  } else {
    std::printf("%-36s %9.0f %9.0f %9.0f %9.0f %10.0f\n", name.c_str(), s.p50, s.p90, s.p99,
                s.p999, s.max);
  }
}

inline void ReportValue(const std::string& name, const char* metric, double value,
                        const char* unit) {
  if (g_json) {
    std::printf("{\"case\":\"%s\",\"metric\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"}\n",
                name.c_str(), metric, value, unit);
  } else {
    std::printf("%-36s %-12s %14.3f %s\n", name.c_str(), metric, value, unit);
  }
}

// Segments of one benchmark run: a prefix of its own, a domain per process.
inline transport::ShmOptions BenchOptions() {
  transport::ShmOptions o;
  o.prefix = "ringcast-bench";
  o.domain = static_cast<std::uint32_t>(::getpid()) % 60000;
  return o;
}

// Forks `child` pinned to core `cpu` (dies by SIGALRM after 120 s if it
// hangs) and pins the caller to core 0. Returns the child's pid.
template <typename Child>
pid_t StartPeer(Child child, int cpu = 1) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    Pin(cpu);
    ::alarm(120);
    const int code = child();
    transport::ReleaseProcessTokens();
    ::_exit(code);
  }
  Pin(0);
  return pid;
}

// Waits for `pid`; true if it exited 0.
inline bool Reap(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace ringcast::bench

#endif  // RINGCAST_BENCH_COMMON_BENCH_UTIL_H_
