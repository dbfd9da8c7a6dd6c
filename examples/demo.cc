// The demo `make demo` runs: one publisher process and two subscriber
// processes on one topic. The "fast" subscriber keeps up; the "slow" one
// takes 3 ms per sample on a 16-deep ring at 1 kHz, so it is lapped, and
// prints the gaps it is told about. Both print what they receive.
// Every endpoint registers in the domain's discovery registry; while they
// run, the demo shows what `ringcast topic list` and `ringcast topic info`
// print, through the same library functions the CLI uses.
//
//   demo                      run all three (forks and execs itself)
//   demo --role=pub|fast|slow run one part
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/inspect.h"
#include "discovery/node.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace {

namespace rt = ringcast::transport;
namespace disc = ringcast::discovery;

constexpr char kTopic[] = "/demo/chatter";
constexpr int kMessages = 400;

// The demo's message: fits one 48-byte inline slot.
struct Chatter {
  std::uint64_t count;
  double value;
  char text[32];
};
static_assert(sizeof(Chatter) == 48);

rt::TopicConfig Config() {
  rt::TopicConfig c;
  c.type_name = "demo.Chatter";
  c.type_hash = 0xC4A77E5;
  c.depth = 16;
  c.inline_capacity = sizeof(Chatter);
  return c;
}

disc::EndpointOptions Endpoint() {
  disc::EndpointOptions eo;
  eo.topic = Config();
  return eo;
}

rt::ShmOptions Options() {
  rt::ShmOptions o;
  if (const char* d = std::getenv("RINGCAST_DOMAIN")) o.domain = std::atoi(d);
  return o;
}

int Publish() {
  // Let the subscribers join first: this topic is volatile.
  absl::SleepFor(absl::Milliseconds(200));
  absl::StatusOr<disc::Node> node = disc::Node::Create(Options(), "talker");
  if (!node.ok()) {
    std::fprintf(stderr, "publisher: %s\n", node.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<disc::Publisher> w = node->CreatePublisher(kTopic, Endpoint());
  if (!w.ok()) {
    std::fprintf(stderr, "publisher: %s\n", w.status().ToString().c_str());
    return 1;
  }
  for (int i = 0; i < kMessages; ++i) {
    Chatter m{};
    m.count = static_cast<std::uint64_t>(i);
    m.value = i * 0.5;
    std::snprintf(m.text, sizeof m.text, "hello #%d", i);
    if (absl::Status s = w->Publish({reinterpret_cast<const std::byte*>(&m), sizeof m}); !s.ok()) {
      std::fprintf(stderr, "publisher: %s\n", s.ToString().c_str());
      return 1;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  std::printf("[pub ] published %d messages on %s\n", kMessages, kTopic);
  return 0;
}

int Subscribe(const char* name, absl::Duration per_sample) {
  absl::StatusOr<disc::Node> node = disc::Node::Create(Options(), absl::StrCat(name, "_listener"));
  if (!node.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, node.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<disc::Subscriber> sub = node->CreateSubscriber(kTopic, Endpoint());
  if (!sub.ok()) {
    std::fprintf(stderr, "%s: %s\n", name, sub.status().ToString().c_str());
    return 1;
  }
  rt::Reader* r = &sub->reader();
  std::vector<std::byte> bytes;
  rt::SampleInfo info;
  constexpr int kGapsShown = 5;
  int gaps = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  for (;;) {
    if (absl::Now() > give_up) {
      std::fprintf(stderr, "%s: gave up waiting for the last message\n", name);
      return 1;
    }
    if (!r->Wait(absl::Milliseconds(100)).ok()) continue;
    absl::StatusOr<bool> got = r->Take(&bytes, &info);
    if (!got.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, got.status().ToString().c_str());
      return 1;
    }
    if (!*got || bytes.size() != sizeof(Chatter)) continue;
    Chatter m;
    std::memcpy(&m, bytes.data(), sizeof m);
    if (info.lost_before > 0 && ++gaps <= kGapsShown) {
      std::printf("[%s] gap: lost %llu samples before seq %llu\n", name,
                  static_cast<unsigned long long>(info.lost_before),
                  static_cast<unsigned long long>(info.sequence));
    }
    if (m.count % 50 == 0 || m.count + 1 == kMessages) {
      std::printf("[%s] seq %llu from publisher %llu: count=%llu value=%.1f text='%s'\n", name,
                  static_cast<unsigned long long>(info.sequence),
                  static_cast<unsigned long long>(info.publisher_id),
                  static_cast<unsigned long long>(m.count), m.value, m.text);
    }
    if (m.count + 1 == kMessages) break;
    absl::SleepFor(per_sample);
  }
  if (gaps > kGapsShown) {
    std::printf("[%s] ... %d more gaps like these\n", name, gaps - kGapsShown);
  }
  std::printf("[%s] done: received %llu, lost %llu\n", name,
              static_cast<unsigned long long>(r->received()),
              static_cast<unsigned long long>(r->lost()));
  return 0;
}

// Prints what `ringcast topic list` and `ringcast topic info /demo/chatter`
// would, once the publisher and both subscribers have registered and a
// few samples have flowed. Waits on the registry's futex, bounded.
void ShowListing() {
  ringcast::cli::Domain domain(Options());
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  for (;;) {
    if (absl::Status s = domain.Refresh(); !s.ok()) {
      std::fprintf(stderr, "listing: %s\n", s.ToString().c_str());
      return;
    }
    int pubs = 0, subs = 0;
    for (const ringcast::cli::TopicRow& t : domain.Topics()) {
      if (t.topic == kTopic) pubs = t.publishers, subs = t.subscribers;
    }
    if (pubs == 1 && subs == 2) break;
    if (absl::Now() > give_up) {
      std::fprintf(stderr, "listing: endpoints did not register within 5 s\n");
      return;
    }
    domain.WaitForChange(give_up - absl::Now());
  }
  absl::SleepFor(absl::Milliseconds(150));  // let samples flow: lag and losses
  if (absl::Status s = domain.Refresh(); !s.ok()) return;
  std::string out = absl::StrCat("\n$ ringcast topic list\n",
                                 ringcast::cli::TopicListText(domain.Topics()));
  absl::StatusOr<ringcast::cli::TopicDetail> info = domain.Describe(kTopic);
  if (info.ok()) {
    absl::StrAppend(&out, "\n$ ringcast topic info ", kTopic, "\n",
                    ringcast::cli::TopicInfoText(*info), "\n");
  }
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
