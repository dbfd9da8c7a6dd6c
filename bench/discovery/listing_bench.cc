// listing_bench: how long `ringcast topic list` takes on a domain with
// 1,000 registered endpoints (issue 4 asks for well under a second).
//
//   listing_bench [--endpoints=N] [--processes=P] [--topics=T] [--runs=R]
//
// P processes each register a node and N/P endpoints through core's
// ringcast::Node (real transport endpoints: half publishers, half
// subscribers, spread over T topics). Then it times, R times each, (a) the
// built `ringcast topic list` binary, exec to exit, output to a pipe, and
// (b) the same listing in process (open the registry, reclaim the dead,
// read, group, render, leave), and prints the median and the extremes.
// Everything runs under a private prefix and is removed at the end.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/inspect.h"
#include "ringcast/node.h"
#include "transport/liveness.h"

namespace {

namespace rt = ringcast::transport;

int Flag(int argc, char** argv, const char* name, int fallback) {
  const std::string prefix = absl::StrCat("--", name, "=");
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    int v = 0;
    if (a.rfind(prefix, 0) == 0 && absl::SimpleAtoi(a.substr(prefix.size()), &v) && v > 0) {
      return v;
    }
  }
  return fallback;
}

// Registers `count` endpoints (node "bench<k>"), signals `ready`, waits
// for `release` to close.
int Child(const rt::ShmOptions& o, int k, int first, int count, int topics, int ready,
          int release) {
  // Exactly the segments `o` names: no configuration file, no
  // RINGCAST_DOMAIN.
  ringcast::ContextOptions co;
  co.config_file = "";
  co.overrides.shm_dir = o.dir;
  co.overrides.shm_prefix = o.prefix;
  co.overrides.domain = o.domain;
  absl::StatusOr<ringcast::Context> ctx = ringcast::Context::Create(co);
  if (!ctx.ok()) {
    std::fprintf(stderr, "child %d: %s\n", k, ctx.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<ringcast::Node> node = ringcast::Node::Create(*ctx, absl::StrCat("bench", k));
  if (!node.ok()) {
    std::fprintf(stderr, "child %d: %s\n", k, node.status().ToString().c_str());
    return 1;
  }
  // Opaque 8-byte-headed messages; every field of the topic's geometry set
  // (core's defaults would allow only 8 publishers and 16 subscribers).
  ringcast::TypeSupport type;
  type.type_name = "bench.Sample";
  type.type_hash = 0xBE5C;
  type.head_size = 8;
  type.fixed_size = false;
  const ringcast::Qos qos = ringcast::Qos()
                                .set_depth(8)
                                .set_inline_capacity(48)
                                .set_max_publishers(64)
                                .set_max_subscribers(64)
                                .set_max_held_samples(8)
                                .set_max_message_size(0);
  std::vector<ringcast::RawPublisher> pubs;
  std::vector<ringcast::RawSubscriber> subs;
  for (int i = first; i < first + count; ++i) {
    const std::string topic = absl::StrCat("/bench/topic", i % topics);
    if (i % 2 == 0) {
      absl::StatusOr<ringcast::RawPublisher> p = node->CreateRawPublisher(topic, type, qos);
      if (!p.ok()) {
        std::fprintf(stderr, "child %d: %s\n", k, p.status().ToString().c_str());
        return 1;
      }
      pubs.push_back(*std::move(p));
    } else {
      absl::StatusOr<ringcast::RawSubscriber> s = node->CreateRawSubscriber(topic, type, qos);
      if (!s.ok()) {
        std::fprintf(stderr, "child %d: %s\n", k, s.status().ToString().c_str());
        return 1;
      }
      subs.push_back(*std::move(s));
    }
  }
  char b = 'r';
  if (::write(ready, &b, 1) != 1) return 1;
  (void)::read(release, &b, 1);
  return 0;
}

// Runs the CLI once with stdout to a pipe we drain; returns seconds, or -1.
double TimeCli(const rt::ShmOptions& o, std::size_t* bytes) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return -1;
  const std::string prefix = absl::StrCat("--prefix=", o.prefix);
  const absl::Time t0 = absl::Now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::execl(RINGCAST_CLI_PATH, "ringcast", prefix.c_str(), "topic", "list",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  char buf[65536];
  *bytes = 0;
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) *bytes += static_cast<std::size_t>(n);
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const double s = absl::ToDoubleSeconds(absl::Now() - t0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? s : -1;
}

void Report(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("%-44s median %8.2f ms   min %8.2f ms   max %8.2f ms   (%zu runs)\n", what,
              v[v.size() / 2] * 1e3, v.front() * 1e3, v.back() * 1e3, v.size());
}

}  // namespace

int main(int argc, char** argv) {
  const int endpoints = Flag(argc, argv, "endpoints", 1000);
  const int processes = Flag(argc, argv, "processes", 4);
  const int topics = Flag(argc, argv, "topics", 100);
  const int runs = Flag(argc, argv, "runs", 11);
  rt::ShmOptions o;
  o.prefix = absl::StrCat("ringcast-bench-", ::getpid());

  int ready[2], release[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(release, O_CLOEXEC) != 0) return 1;
  std::vector<pid_t> children;
  const absl::Time t0 = absl::Now();
  for (int k = 0; k < processes; ++k) {
    const int first = endpoints * k / processes;
    const int count = endpoints * (k + 1) / processes - first;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(release[1]);
      const int code = Child(o, k, first, count, topics, ready[1], release[0]);
      rt::ReleaseProcessTokens();
      ::_exit(code);
    }
    children.push_back(pid);
  }
  ::close(ready[1]);
  ::close(release[0]);
  int ok = 0;
  for (char b; ok < processes && ::read(ready[0], &b, 1) == 1;) ++ok;
  int failures = 0;
  if (ok != processes) {
    std::fprintf(stderr, "listing_bench: only %d of %d processes registered\n", ok, processes);
    failures = 1;
  } else {
    std::printf("%d endpoints (%d processes, %d topics) registered in %.0f ms\n", endpoints,
                processes, topics, absl::ToDoubleMilliseconds(absl::Now() - t0));
    std::vector<double> cli, in_process;
    std::size_t bytes = 0;
    for (int i = 0; i < runs; ++i) {
      const double s = TimeCli(o, &bytes);
      if (s < 0) {
        std::fprintf(stderr, "listing_bench: %s failed\n", RINGCAST_CLI_PATH);
        failures = 1;
        break;
      }
      cli.push_back(s);
    }
    int rows = 0;
    for (int i = 0; i < runs && failures == 0; ++i) {
      const absl::Time s0 = absl::Now();
      ringcast::cli::Domain domain(o);
      if (!domain.Refresh().ok()) {
        failures = 1;
        break;
      }
      const std::vector<ringcast::cli::TopicRow> rows_now = domain.Topics();
      const std::string text = ringcast::cli::TopicListText(rows_now);
      rows = static_cast<int>(rows_now.size());
      in_process.push_back(absl::ToDoubleSeconds(absl::Now() - s0));
    }
    if (failures == 0) {
      std::printf("listing shows %d topics (%zu bytes of text)\n", rows, bytes);
      Report("`ringcast topic list` (exec to exit)", cli);
      Report("topic list in process (open..render..leave)", in_process);
    }
  }
  ::close(release[1]);
  for (const pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures = 1;
  }
  ::close(ready[0]);
  return failures;
}
