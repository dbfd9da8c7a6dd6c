// The demo `make demo` runs: one publisher process and two subscriber
// processes on /demo/chatter, through the typed API. The "fast" subscriber
// keeps up; the "slow" one takes 3 ms per sample on a 16-deep ring at
// 1 kHz, so it is lapped and prints the gaps it is told about. While they
// run, the demo runs the real `ringcast topic list` and `ringcast topic
// info /demo/chatter` and shows what they print.
//
//   demo                      run all three (forks and execs itself)
//   demo --role=pub|fast|slow run one part
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "examples/chatter.ringcast.h"
#include "ringcast/ringcast.h"

#ifndef RINGCAST_CLI_PATH
#error "RINGCAST_CLI_PATH must name the built ringcast binary"
#endif

namespace {

using Chatter = examples::flat::Chatter;
constexpr char kTopic[] = "/demo/chatter";
constexpr int kMessages = 400;

// The demo's topic has no declaration: its QoS is said here, the same in
// every process (the first endpoint creates the topic with it).
ringcast::Qos DemoQos() { return ringcast::Qos().set_depth(16); }

int Fail(const std::string& who, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", who.c_str(), s.ToString().c_str());
  return 1;
}

int Publish() {
  auto ctx = ringcast::Context::Create();
  if (!ctx.ok()) return Fail("publisher", ctx.status());
  auto node = ringcast::Node::Create(*ctx, "talker");
  if (!node.ok()) return Fail("publisher", node.status());
  auto pub = node->CreatePublisher<Chatter>(kTopic, DemoQos());
  if (!pub.ok()) return Fail("publisher", pub.status());
  // Let the subscribers join first: this topic is volatile.
  absl::SleepFor(absl::Milliseconds(200));
  for (int i = 0; i < kMessages; ++i) {
    auto loan = pub->Loan();  // built in place, published with one copy into the slot
    if (!loan.ok()) return Fail("publisher", loan.status());
    (*loan)->set_count(static_cast<std::uint64_t>(i));
    if (absl::Status s = (*loan)->set_text(absl::StrCat("hello #", i)); !s.ok()) {
      return Fail("publisher", s);
    }
    if (absl::Status s = pub->Publish(std::move(*loan)); !s.ok()) return Fail("publisher", s);
    absl::SleepFor(absl::Milliseconds(1));
  }
  std::printf("[pub ] published %d messages on %s\n", kMessages, kTopic);
  return 0;
}

int Subscribe(const std::string& name, absl::Duration per_sample) {
  auto ctx = ringcast::Context::Create();
  if (!ctx.ok()) return Fail(name, ctx.status());
  auto node = ringcast::Node::Create(*ctx, name + "_listener");
  if (!node.ok()) return Fail(name, node.status());
  auto sub = node->CreateSubscriber<Chatter>(kTopic, DemoQos());
  if (!sub.ok()) return Fail(name, sub.status());
  constexpr int kGapsShown = 5;
  int gaps = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  ringcast::Sample<Chatter> s;
  for (;;) {
    if (absl::Now() > give_up) {
      std::fprintf(stderr, "%s: gave up waiting for the last message\n", name.c_str());
      return 1;
    }
    if (!sub->Wait(absl::Milliseconds(100)).ok()) continue;
    absl::StatusOr<bool> got = sub->Take(&s);
    if (!got.ok()) return Fail(name, got.status());
    if (!*got) continue;
    if (s.lost_before() > 0 && ++gaps <= kGapsShown) {
      std::printf("[%s] gap: lost %lu samples before seq %lu\n", name.c_str(), s.lost_before(),
                  s.sequence());
    }
    const std::uint64_t count = s->count();
    if (count % 50 == 0 || count + 1 == kMessages) {
      std::printf("[%s] seq %lu from publisher %lu: count=%lu text='%.*s'\n", name.c_str(),
                  s.sequence(), s.publisher_id(), count, static_cast<int>(s->text().size()),
                  s->text().data());
    }
    if (count + 1 == kMessages) break;
    absl::SleepFor(per_sample);
  }
  if (gaps > kGapsShown) std::printf("[%s] ... %d more gaps like these\n", name.c_str(), gaps - kGapsShown);
  std::printf("[%s] done: received %lu, lost %lu\n", name.c_str(), sub->received(), sub->lost());
  return 0;
}

// Runs the ringcast CLI with `args`; returns what it printed on stdout.
std::string RunCli(const std::vector<std::string>& args) {
  int out[2];
  if (::pipe(out) != 0) return "";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> argv{const_cast<char*>("ringcast")};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(RINGCAST_CLI_PATH, argv.data());
    std::perror("execv " RINGCAST_CLI_PATH);
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return text;
}

// Shows what the real CLI prints once the publisher and both subscribers
// have registered and samples have flowed for a while (lag and losses).
void ShowListing() {
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  std::string list;
  while (absl::Now() < give_up) {
    list = RunCli({"topic", "list"});
    // "TOPIC TYPE HASH PUBS SUBS": wait for 1 publisher and 2 subscribers.
    if (list.find(kTopic) != std::string::npos &&
        list.find(" 1     2\n") != std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  // The publisher waits 200 ms for its subscribers, then publishes at
  // 1 kHz: by now samples have flowed and the slow one lags.
  absl::SleepFor(absl::Milliseconds(400));
  const std::string out =
      absl::StrCat("\n$ ringcast topic list\n", RunCli({"topic", "list"}),
                   "\n$ ringcast topic info ", kTopic, "\n", RunCli({"topic", "info", kTopic}),
                   "\n");
  // One write, so the subscribers' lines do not interleave with it.
  (void)!::write(STDOUT_FILENO, out.data(), out.size());
}

pid_t Spawn(const char* role) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string arg = absl::StrCat("--role=", role);
    ::execl("/proc/self/exe", "demo", arg.c_str(), static_cast<char*>(nullptr));
    std::perror("execl");
    ::_exit(127);
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string role = argc > 1 ? argv[1] : "";
  if (role == "--role=pub") return Publish();
  if (role == "--role=fast") return Subscribe("fast", absl::ZeroDuration());
  if (role == "--role=slow") return Subscribe("slow", absl::Milliseconds(3));
  if (!role.empty()) {
    std::fprintf(stderr, "usage: demo [--role=pub|fast|slow]\n");
    return 2;
  }
  std::printf("ringcast demo: 1 publisher, 2 subscribers on %s (depth 16, 1 kHz)\n", kTopic);
  const pid_t pids[] = {Spawn("fast"), Spawn("slow"), Spawn("pub")};
  ShowListing();
  int failures = 0;
  for (const pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  std::printf(failures == 0 ? "demo finished\n" : "demo: %d part(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
