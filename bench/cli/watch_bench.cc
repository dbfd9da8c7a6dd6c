// watch_bench: what watching a topic costs its publisher. `ringcast topic
// hz` and `ringcast top` read the rings' counters and the publish times
// still in them, without subscribing; this measures that claim. One
// publisher of 64-byte messages (no subscriber, best effort) publishes as
// fast as it can on core 0 for --seconds, three ways, interleaved over
// --runs rounds:
//   1. alone;
//   2. with the built `ringcast topic hz TOPIC` running (pinned to core 1);
//   3. with the built `ringcast top` running (pinned to core 1).
// Each way's throughput is the median of its rounds; the ratios to the
// first are printed last (1.00 = watching costs nothing).
//
//   watch_bench [--json] [--runs=N] [--seconds=S]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/common/bench_util.h"
#include "ringcast/ringcast.h"

namespace ringcast::bench {
namespace {

constexpr char kTopic[] = "/bench/watched";
constexpr std::size_t kPayload = 64;

int g_runs = 5;
double g_seconds = 2;

struct Watcher {
  pid_t pid = -1;
  int out = -1;
};

// Starts the built CLI with `args` on `o`'s segments, pinned to core 1,
// and waits for its first report (so it is watching when we measure).
Watcher StartWatcher(const transport::ShmOptions& o, std::vector<std::string> args) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {};
  std::vector<std::string> all = {"ringcast", absl::StrCat("--prefix=", o.prefix),
                                  absl::StrCat("--domain=", o.domain)};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    Pin(1);
    ::dup2(out[1], STDOUT_FILENO);
    ::execv(RINGCAST_CLI_PATH, argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  pollfd p{out[0], POLLIN, 0};
  char buf[4096];
  if (::poll(&p, 1, 30'000) <= 0 || ::read(out[0], buf, sizeof buf) <= 0) {
    std::fprintf(stderr, "watch_bench: %s %s never reported\n", RINGCAST_CLI_PATH,
                 args[0].c_str());
  }
  return {pid, out[0]};
}

// Ctrl-C, as a user would; true if it exited 0.
bool StopWatcher(Watcher& w) {
  if (w.pid <= 0) return false;
  ::kill(w.pid, SIGINT);
  // Drain what it still writes, so it never blocks on a full pipe.
  char buf[4096];
  while (::read(w.out, buf, sizeof buf) > 0) {
  }
  ::close(w.out);
  return Reap(w.pid);
}

// Publishes 64-byte messages as fast as it can for g_seconds; msgs/s.
double Throughput(RawPublisher& pub) {
  std::array<std::byte, kPayload> payload{};
  std::uint64_t n = 0;
  const absl::Time t0 = absl::Now();
  const absl::Time end = t0 + absl::Seconds(g_seconds);
  absl::Time now = t0;
  while (now < end) {
    for (int i = 0; i < 1024; ++i, ++n) {
      std::memcpy(payload.data(), &n, sizeof n);
      if (!pub.Publish(payload).ok()) return -1;
    }
    now = absl::Now();
  }
  return static_cast<double>(n) / absl::ToDoubleSeconds(now - t0);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Run() {
  const transport::ShmOptions o = BenchOptions();
  ContextOptions co;
  co.config_file = "";
  co.overrides.shm_prefix = o.prefix;
  co.overrides.domain = o.domain;
  absl::StatusOr<Context> ctx = Context::Create(co);
  if (!ctx.ok()) {
    std::fprintf(stderr, "watch_bench: %s\n", ctx.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<Node> node = Node::Create(*ctx, "watched");
  if (!node.ok()) {
    std::fprintf(stderr, "watch_bench: %s\n", node.status().ToString().c_str());
    return 1;
  }
  TypeSupport type;
  type.type_name = "bench.Bytes64";
  type.type_hash = 0xB64;
  type.head_size = 8;
  type.fixed_size = false;
  absl::StatusOr<RawPublisher> pub = node->CreateRawPublisher(
      kTopic, type, Qos().set_depth(256).set_inline_capacity(kPayload).set_max_message_size(0));
  if (!pub.ok()) {
    std::fprintf(stderr, "watch_bench: %s\n", pub.status().ToString().c_str());
    return 1;
  }
  Pin(0);
  std::vector<double> alone, hz, top;
  bool clean = true;
  for (int r = 0; r < g_runs; ++r) {
    alone.push_back(Throughput(*pub));
    Watcher w = StartWatcher(o, {"topic", "hz", kTopic});
    hz.push_back(Throughput(*pub));
    clean = StopWatcher(w) && clean;
    w = StartWatcher(o, {"top"});
    top.push_back(Throughput(*pub));
    clean = StopWatcher(w) && clean;
  }
  const double a = Median(alone), h = Median(hz), t = Median(top);
  if (!g_json) {
    std::printf("publisher of 64 B messages, no subscriber, core 0; watchers on core 1;\n"
                "median of %d interleaved runs of %.1f s each\n",
                g_runs, g_seconds);
  }
  ReportValue("publish 64 B alone", "throughput", a / 1e6, "M msg/s");
  ReportValue("publish 64 B + `topic hz`", "throughput", h / 1e6, "M msg/s");
  ReportValue("publish 64 B + `top`", "throughput", t / 1e6, "M msg/s");
  ReportValue("with `topic hz` / alone", "ratio", h / a, "x");
  ReportValue("with `top` / alone", "ratio", t / a, "x");
  if (!clean) std::fprintf(stderr, "watch_bench: a watcher did not exit 0 on Ctrl-C\n");
  return clean && a > 0 && h > 0 && t > 0 ? 0 : 1;
}

}  // namespace
}  // namespace ringcast::bench

int main(int argc, char** argv) {
  using namespace ringcast::bench;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") g_json = true;
    if (a.rfind("--runs=", 0) == 0) (void)absl::SimpleAtoi(a.substr(7), &g_runs);
    if (a.rfind("--seconds=", 0) == 0) (void)absl::SimpleAtod(a.substr(10), &g_seconds);
  }
  g_runs = std::max(1, g_runs);
  g_seconds = std::clamp(g_seconds, 0.1, 60.0);
  return Run();
}
