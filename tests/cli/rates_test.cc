// `ringcast topic hz|bw|delay` and `ringcast top` end to end: the built
// binary watches topics that this test's publisher threads drive at known
// rates and sizes; its --json reports are parsed and checked. The bounds
// are generous (machines are shared, and CI runs this under sanitizers):
// these tests check behaviour, not speed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "discovery/registry.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/ringcast.h"
#include "tests/support/core_support.h"
#include "tests/support/cli_support.h"
#include "tests/support/test_support.h"
#include "transport/inspect.h"
#include "transport/liveness.h"

#ifndef RINGCAST_CLI_PATH
#error "RINGCAST_CLI_PATH must name the built ringcast binary"
#endif

namespace ringcast {
namespace {

using ::ringcast::testing::ContextFor;
using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::KillChild;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::UniqueOptions;
using Json = nlohmann::json;
namespace flat = ::ringcast::msgs::flat;

using Spawned = ::ringcast::testing::CliChild;
using Result = ::ringcast::testing::CliResult;
using ::ringcast::testing::kCliTimeout;
using ::ringcast::testing::ReadUntil;

// The CLI on `o`'s prefix with `args`.
std::vector<std::string> OnPrefix(const transport::ShmOptions& o, std::vector<std::string> args) {
  args.insert(args.begin(), absl::StrCat("--prefix=", o.prefix));
  return args;
}
Spawned Spawn(const transport::ShmOptions& o, const std::vector<std::string>& args) {
  return ::ringcast::testing::SpawnCli(OnPrefix(o, args));
}
Result RunCli(const transport::ShmOptions& o, const std::vector<std::string>& args) {
  return ::ringcast::testing::RunCli(OnPrefix(o, args));
}
int Reap(pid_t pid, absl::Time deadline) { return ::ringcast::testing::ReapCli(pid, deadline); }

// The last of the JSON lines in `out` (a live verb prints one per report).
Json LastReport(const std::string& out) {
  const std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  if (lines.empty()) return Json();
  Json j = Json::parse(lines.back(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << lines.back();
  return j;
}

double Number(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : -1;
}

// Files of the prefix other than this process's own liveness file.
std::vector<std::string> Leftovers(const transport::ShmOptions& o) {
  transport::ReleaseProcessTokens();
  return FilesWithPrefix(kShmDir, o.prefix + ".");
}

// A thread publishing msgs::String samples of `text` on `topic` at `hz`,
// paced to a deadline: it sleeps while the next one is far and spins
// when it is near; if it falls far behind it starts over rather than
// catching up in a burst.
class Pacer {
 public:
  Pacer(Publisher<flat::String> pub, double hz, std::string text)
      : pub_(std::move(pub)), thread_([this, hz, text = std::move(text)] { Run(hz, text); }) {}
  ~Pacer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t published() const { return published_; }
  bool failed() const { return failed_; }

 private:
  void Run(double hz, const std::string& text) {
    msgs::String m;
    m.set_data(text);
    const absl::Duration period = absl::Seconds(1 / hz);
    absl::Time next = absl::Now();
    while (!stop_) {
      if (!pub_.Publish(m).ok()) failed_ = true;
      ++published_;
      next += period;
      absl::Time now = absl::Now();
      if (now - next > 20 * period) next = now;  // descheduled: start over
      if (next - now > absl::Milliseconds(2)) absl::SleepFor(next - now - absl::Milliseconds(1));
      while (!stop_ && absl::Now() < next) {
      }
    }
  }

  Publisher<flat::String> pub_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<std::uint64_t> published_{0};
  std::thread thread_;
};

struct Domain {
  Context ctx;
  Node node;
};

Domain MakeDomain(const transport::ShmOptions& o) {
  absl::StatusOr<Context> ctx = ContextFor(o);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  absl::StatusOr<Node> node = Node::Create(*ctx, "pacer");
  EXPECT_TRUE(node.ok()) << node.status();
  return {*ctx, *std::move(node)};
}

std::unique_ptr<Pacer> StartPacer(Node& node, const std::string& topic, double hz,
                                  std::uint32_t depth = 16, std::string text = "tick") {
  absl::StatusOr<Publisher<flat::String>> pub =
      node.CreatePublisher<flat::String>(topic, Qos().set_depth(depth));
  EXPECT_TRUE(pub.ok()) << pub.status();
  if (!pub.ok()) return nullptr;
  return std::make_unique<Pacer>(*std::move(pub), hz, std::move(text));
}

// `topic hz TOPIC` against a publisher at `hz`: the last of two reports.
Json HzOf(const transport::ShmOptions& o, const std::string& topic) {
  const Result r = RunCli(o, {"topic", "hz", topic, "--json", "--count", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 2u) << r.out;
  return LastReport(r.out);
}

void ExpectHzNear(double want, double tolerance, std::uint32_t depth) {
  const transport::ShmOptions o = UniqueOptions();
  {
    Domain d = MakeDomain(o);
    std::unique_ptr<Pacer> pacer = StartPacer(d.node, "/paced", want, depth);
    ASSERT_NE(pacer, nullptr);
    Json j = HzOf(o, "/paced");
    EXPECT_EQ(j["topic"], "/paced");
    EXPECT_EQ(j["publishers"], 1);
    EXPECT_NEAR(Number(j, "hz"), want, want * tolerance) << j.dump();
    // Periods from the publish times still in the ring.
    EXPECT_GT(Number(j, "window"), 0) << j.dump();
    const double mean = Number(j, "period_mean_s");
    EXPECT_NEAR(mean, 1 / want, tolerance / want) << j.dump();
    EXPECT_LE(Number(j, "period_min_s"), mean) << j.dump();
    EXPECT_GE(Number(j, "period_max_s"), mean) << j.dump();
    EXPECT_GE(Number(j, "period_std_dev_s"), 0) << j.dump();
    pacer->Stop();
    EXPECT_FALSE(pacer->failed());
  }
  const std::vector<std::string> left = Leftovers(o);
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];
}

TEST(RatesTest, HzReadsTenHz) { ExpectHzNear(10, 0.3, 16); }

// A ring of depth 16 holds 16 ms of a 1 kHz topic: the rate still comes
// right, from the ring's counters across looks.
TEST(RatesTest, HzReadsOneKilohertzOnARingOfSixteen) { ExpectHzNear(1000, 0.3, 16); }

TEST(RatesTest, HzReadsAHundredKilohertz) {
  const transport::ShmOptions o = UniqueOptions();
  {
    Domain d = MakeDomain(o);
    std::unique_ptr<Pacer> pacer = StartPacer(d.node, "/fast", 100'000, 64);
    ASSERT_NE(pacer, nullptr);
    Json j = HzOf(o, "/fast");
    EXPECT_GT(Number(j, "hz"), 10'000) << j.dump();
    EXPECT_LT(Number(j, "hz"), 130'000) << j.dump();
    pacer->Stop();
  }
  EXPECT_TRUE(Leftovers(o).empty());
}

TEST(RatesTest, HzWithoutTopicReportsEveryTopic) {
  const transport::ShmOptions o = UniqueOptions();
  {
    Domain d = MakeDomain(o);
    std::unique_ptr<Pacer> a = StartPacer(d.node, "/a", 50);
    std::unique_ptr<Pacer> b = StartPacer(d.node, "/b", 20);
    ASSERT_TRUE(a && b);
    const Result r = RunCli(o, {"topic", "hz", "--json", "--count", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    Json j = LastReport(r.out);
    ASSERT_TRUE(j.contains("topics") && j["topics"].size() == 2) << r.out;
    EXPECT_EQ(j["topics"][0]["topic"], "/a");
    EXPECT_NEAR(Number(j["topics"][0], "hz"), 50, 15) << r.out;
    EXPECT_EQ(j["topics"][1]["topic"], "/b");
    EXPECT_NEAR(Number(j["topics"][1], "hz"), 20, 6) << r.out;
    // The text form: one line per topic.
    const Result text = RunCli(o, {"topic", "hz", "--count", "1", "--interval", "0.5"});
    ASSERT_EQ(text.code, 0) << text.err;
    const std::vector<std::string> lines = absl::StrSplit(text.out, '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 2u) << text.out;
    EXPECT_TRUE(absl::StartsWith(lines[0], "/a: ")) << text.out;
    EXPECT_TRUE(absl::StrContains(lines[1], " Hz")) << text.out;
  }
  EXPECT_TRUE(Leftovers(o).empty());
}

// bw against messages of known flat sizes: one inline, one in a pool chunk.
TEST(RatesTest, BwReportsExactMeanSizes) {
  const transport::ShmOptions o = UniqueOptions();
  {
    Domain d = MakeDomain(o);
    const std::string small(10, 's'), big(3000, 'b');
    std::unique_ptr<Pacer> a = StartPacer(d.node, "/small", 200, 16, small);
    std::unique_ptr<Pacer> b = StartPacer(d.node, "/big", 100, 16, big);
    ASSERT_TRUE(a && b);
    for (const auto& [topic, text, hz] :
         {std::tuple("/small", small, 200.0), std::tuple("/big", big, 100.0)}) {
      msgs::String m;
      m.set_data(text);
      const double size = static_cast<double>(flat::StringBuilder::FlatSize(m));
      const Result r = RunCli(o, {"topic", "bw", topic, "--json", "--count", "2"});
      ASSERT_EQ(r.code, 0) << r.err;
      Json j = LastReport(r.out);
      EXPECT_EQ(Number(j, "size_mean"), size) << j.dump();
      EXPECT_EQ(Number(j, "size_min"), size) << j.dump();
      EXPECT_EQ(Number(j, "size_max"), size) << j.dump();
      EXPECT_NEAR(Number(j, "bytes_per_s"), size * hz, size * hz * 0.3) << j.dump();
    }
  }
  EXPECT_TRUE(Leftovers(o).empty());
}

TEST(RatesTest, DelayReportsTheAgeOfTheNewestSample) {
  const transport::ShmOptions o = UniqueOptions();
  {
    Domain d = MakeDomain(o);
    std::unique_ptr<Pacer> pacer = StartPacer(d.node, "/fresh", 1000);
    ASSERT_NE(pacer, nullptr);
    const Result r = RunCli(o, {"topic", "delay", "/fresh", "--json", "--count", "2"});
    ASSERT_EQ(r.code, 0) << r.err;
    Json j = LastReport(r.out);
    EXPECT_EQ(j["publishers"], 1) << j.dump();
    EXPECT_GT(Number(j, "window"), 10) << j.dump();
    const double p50 = Number(j, "delay_p50_s"), p99 = Number(j, "delay_p99_s");
    EXPECT_GE(p50, 0) << j.dump();
    EXPECT_LE(p50, p99) << j.dump();
    EXPECT_LE(p99, Number(j, "delay_max_s")) << j.dump();
    EXPECT_LT(p50, 0.1) << "a 1 kHz topic's newest sample is about 0.5 ms old: " << j.dump();
  }
  EXPECT_TRUE(Leftovers(o).empty());
}

// Subscribers registered and in the topic segment, as a reader sees them.
std::pair<int, int> Subscribers(const transport::ShmOptions& o, const std::string& topic) {
  int registered = 0;
  if (absl::StatusOr<discovery::Registry> reg = discovery::Registry::Observe(o); reg.ok()) {
    for (const auto& e : reg->Read(/*with_types=*/false).endpoints) {
      registered += e.topic == topic && e.kind == discovery::EndpointKind::kSubscriber;
    }
  }
  absl::StatusOr<transport::TopicSnapshot> s = transport::SnapshotTopic(o, topic);
  return {registered, s.ok() ? static_cast<int>(s->subscribers.size()) : -1};
}

TEST(RatesTest, WatchingLeavesTheSubscriberTableUntouched) {
  const transport::ShmOptions o = UniqueOptions();
  {
    Domain d = MakeDomain(o);
    absl::StatusOr<Subscriber<flat::String>> sub = d.node.CreateSubscriber<flat::String>("/w");
    ASSERT_TRUE(sub.ok()) << sub.status();
    std::unique_ptr<Pacer> pacer = StartPacer(d.node, "/w", 500);
    ASSERT_NE(pacer, nullptr);
    ASSERT_EQ(Subscribers(o, "/w"), std::make_pair(1, 1));
    std::vector<Spawned> watchers;
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"topic", "hz", "/w", "--json"},
          {"topic", "hz", "--json"},
          {"topic", "bw", "/w", "--json"},
          {"topic", "delay", "/w", "--json"},
          {"top", "--json"}}) {
      watchers.push_back(Spawn(o, args));
      ASSERT_GT(watchers.back().pid, 0);
    }
    // Every watcher is reporting: during, nobody more is subscribed.
    for (const Spawned& w : watchers) {
      const std::string first = ReadUntil(w.out, absl::Now() + kCliTimeout, [](const std::string& s) {
        return absl::StrContains(s, "\n");
      });
      EXPECT_FALSE(first.empty()) << "a watcher never reported";
      EXPECT_EQ(Subscribers(o, "/w"), std::make_pair(1, 1)) << first;
    }
    // top counts the one subscriber, and sees it fall behind (it never reads).
    const Result top = RunCli(o, {"top", "--once", "--json", "--interval", "0.5"});
    ASSERT_EQ(top.code, 0) << top.err;
    Json j = LastReport(top.out);
    ASSERT_EQ(j["topics"].size(), 1u) << top.out;
    EXPECT_EQ(j["topics"][0]["subscribers"], 1) << top.out;
    EXPECT_GT(Number(j["topics"][0], "worst_lag"), 0) << top.out;
    for (const Spawned& w : watchers) {
      ASSERT_EQ(::kill(w.pid, SIGINT), 0);
      EXPECT_EQ(Reap(w.pid, absl::Now() + kCliTimeout), 0);
      ::close(w.out);
      ::close(w.err);
    }
    EXPECT_EQ(Subscribers(o, "/w"), std::make_pair(1, 1)) << "after";
    pacer->Stop();
  }
  EXPECT_TRUE(Leftovers(o).empty());
}

TEST(RatesTest, TopOnceListsEveryTopicWithItsFigures) {
  const transport::ShmOptions o = UniqueOptions();
  {
    Domain d = MakeDomain(o);
    std::unique_ptr<Pacer> a = StartPacer(d.node, "/top/a", 100, 16, std::string(100, 'a'));
    std::unique_ptr<Pacer> b = StartPacer(d.node, "/top/b", 25);
    ASSERT_TRUE(a && b);
    absl::StatusOr<Subscriber<flat::String>> sub = d.node.CreateSubscriber<flat::String>("/top/b");
    ASSERT_TRUE(sub.ok()) << sub.status();
    const Result r = RunCli(o, {"top", "--once", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 1u) << r.out;
    Json j = LastReport(r.out);
    EXPECT_EQ(j["nodes"], 1) << r.out;
    ASSERT_EQ(j["topics"].size(), 2u) << r.out;
    Json& ta = j["topics"][0];
    Json& tb = j["topics"][1];
    EXPECT_EQ(ta["topic"], "/top/a");
    EXPECT_EQ(ta["type"], "ringcast.msgs.String");
    EXPECT_EQ(ta["publishers"], 1);
    EXPECT_EQ(ta["subscribers"], 0);
    EXPECT_NEAR(Number(ta, "hz"), 100, 30) << r.out;
    msgs::String m;
    m.set_data(std::string(100, 'a'));
    const double size = static_cast<double>(flat::StringBuilder::FlatSize(m));
    EXPECT_NEAR(Number(ta, "bytes_per_s"), 100 * size, 30 * size) << r.out;
    EXPECT_EQ(tb["topic"], "/top/b");
    EXPECT_EQ(tb["subscribers"], 1);
    EXPECT_NEAR(Number(tb, "hz"), 25, 8) << r.out;
    EXPECT_GT(Number(tb, "worst_lag"), 0) << r.out;
    EXPECT_EQ(Number(tb, "lost"), 0) << r.out;
    // The text screen names both.
    const Result text = RunCli(o, {"top", "--once", "--interval", "0.2"});
    ASSERT_EQ(text.code, 0) << text.err;
    EXPECT_TRUE(absl::StrContains(text.out, "/top/a")) << text.out;
    EXPECT_TRUE(absl::StrContains(text.out, "WORST LAG")) << text.out;
  }
  EXPECT_TRUE(Leftovers(o).empty());
}

// One line on stderr, nothing on stdout, exit 1.
void ExpectOneLineError(const Result& r, const std::string& mentions) {
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.err, "ringcast: ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, mentions)) << r.err;
}

TEST(RatesTest, AnUnknownTopicIsOneLineAndExitOne) {
  const transport::ShmOptions o = UniqueOptions();
  for (const char* verb : {"hz", "bw", "delay"}) {
    ExpectOneLineError(RunCli(o, {"topic", verb, "/nowhere", "--json"}), "no topic /nowhere");
    ExpectOneLineError(RunCli(o, {"topic", verb, "bad name"}), "invalid topic name");
  }
  EXPECT_TRUE(Leftovers(o).empty());
}

TEST(RatesTest, SigintAndSigtermStopHzAndTopCleanly) {
  const transport::ShmOptions o = UniqueOptions();
  {
    Domain d = MakeDomain(o);
    std::unique_ptr<Pacer> pacer = StartPacer(d.node, "/sig", 200);
    ASSERT_NE(pacer, nullptr);
    for (const int sig : {SIGINT, SIGTERM}) {
      for (const std::vector<std::string>& args :
           {std::vector<std::string>{"topic", "hz", "/sig"}, {"topic", "hz", "--json"},
            {"top"}, {"top", "--json"}}) {
        const Spawned w = Spawn(o, args);
        ASSERT_GT(w.pid, 0);
        const std::string first = ReadUntil(w.out, absl::Now() + kCliTimeout,
                                            [](const std::string& s) { return !s.empty(); });
        EXPECT_FALSE(first.empty()) << args[0] << " never reported";
        ASSERT_EQ(::kill(w.pid, sig), 0);
        EXPECT_EQ(Reap(w.pid, absl::Now() + kCliTimeout), 0) << "signal " << sig << " " << first;
        ::close(w.out);
        ::close(w.err);
      }
    }
    pacer->Stop();
  }
  // The watchers that held the registry left it: nothing remains.
  const std::vector<std::string> left = Leftovers(o);
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];
}

}  // namespace
}  // namespace ringcast
