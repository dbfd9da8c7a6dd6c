// The Executor: one thread, many subscriptions, timers, guard conditions,
// Stop from a signal handler, and no CPU while idle.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/ringcast.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"

namespace ringcast {
namespace {

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
namespace msgs = ::ringcast::msgs::flat;

Context TestContext() {
  ContextOptions o;
  o.config_file = "";
  o.overrides.shm_prefix = ::ringcast::testing::UniquePrefix();
  absl::StatusOr<Context> c = Context::Create(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

void ExpectNothingLeft(const Context& ctx) {
  transport::ReleaseProcessTokens();
  const std::vector<std::string> left = FilesWithPrefix(kShmDir, ctx.shm().prefix + ".");
  EXPECT_TRUE(left.empty()) << left.size() << " files left, first " << left[0];
}

double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// 50 subscriptions on one thread: every sample reaches the callback of its
// own topic, in order per topic.
TEST(ExecutorTest, FiftySubscriptionsOneThreadEverySampleToTheRightCallback) {
  const Context ctx = TestContext();
  constexpr int kTopics = 50, kEach = 20;
  absl::StatusOr<Node> node = Node::Create(ctx, "many");
  ASSERT_TRUE(node.ok()) << node.status();
  std::vector<std::vector<std::string>> got(kTopics);
  std::vector<Subscriber<msgs::String>> subs;
  std::vector<Publisher<msgs::String>> pubs;
  const std::thread::id main_thread = std::this_thread::get_id();
  std::atomic<bool> wrong_thread{false};
  for (int t = 0; t < kTopics; ++t) {
    const std::string topic = absl::StrCat("/many/t", t);
    absl::StatusOr<Subscriber<msgs::String>> s = node->CreateSubscriber<msgs::String>(
        topic, [&, t](Sample<msgs::String> sample) {
          if (std::this_thread::get_id() != main_thread) wrong_thread = true;
          got[t].emplace_back(sample->data());
        });
    ASSERT_TRUE(s.ok()) << s.status();
    subs.push_back(*std::move(s));
    absl::StatusOr<Publisher<msgs::String>> p = node->CreatePublisher<msgs::String>(topic);
    ASSERT_TRUE(p.ok()) << p.status();
    pubs.push_back(*std::move(p));
  }
  Executor exec;
  exec.Add(*node);
  std::thread publisher([&] {
    for (int i = 0; i < kEach; ++i) {
      for (int t = 0; t < kTopics; ++t) {
        ringcast::msgs::String m;
        m.set_data(absl::StrCat(t, ":", i));
        (void)pubs[t].Publish(m);
      }
      absl::SleepFor(absl::Microseconds(200));
    }
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  auto done = [&] {
    for (const auto& g : got) {
      if (g.size() < kEach) return false;
    }
    return true;
  };
  while (!done() && absl::Now() < give_up) ASSERT_TRUE(exec.SpinOnce(absl::Milliseconds(100)).ok());
  publisher.join();
  EXPECT_FALSE(wrong_thread);
  for (int t = 0; t < kTopics; ++t) {
    ASSERT_EQ(got[t].size(), static_cast<std::size_t>(kEach)) << "topic " << t;
    for (int i = 0; i < kEach; ++i) EXPECT_EQ(got[t][i], absl::StrCat(t, ":", i));
  }
  subs.clear();
  pubs.clear();
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

// With nothing to do the executor sleeps: a second of Spin costs (almost)
// no CPU, and a sample published then still wakes it.
TEST(ExecutorTest, IdleCostsNoCpuAndASampleStillWakesIt) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "idle");
  ASSERT_TRUE(node.ok());
  std::atomic<int> received{0};
  std::vector<Subscriber<msgs::String>> subs;
  for (int t = 0; t < 10; ++t) {
    absl::StatusOr<Subscriber<msgs::String>> s = node->CreateSubscriber<msgs::String>(
        absl::StrCat("/idle/t", t), [&](Sample<msgs::String>) { ++received; });
    ASSERT_TRUE(s.ok());
    subs.push_back(*std::move(s));
  }
  absl::StatusOr<Publisher<msgs::String>> pub = node->CreatePublisher<msgs::String>("/idle/t3");
  ASSERT_TRUE(pub.ok());
  Executor exec;
  exec.Add(*node);
  std::thread spinner([&] { EXPECT_TRUE(exec.Spin().ok()); });
  absl::SleepFor(absl::Milliseconds(100));  // let it fall asleep
  const double before = CpuSeconds();
  absl::SleepFor(absl::Seconds(1));
  const double idle_cpu = CpuSeconds() - before;
  EXPECT_LT(idle_cpu, 0.05) << "an idle executor must sleep, not poll";
  ringcast::msgs::String m;
  m.set_data("wake");
  ASSERT_TRUE(pub->Publish(m).ok());
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (received == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(received, 1);
  exec.Stop();
  spinner.join();
  subs.clear();
  pub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

Executor* g_exec = nullptr;
void StopOnSignal(int) { g_exec->Stop(); }

TEST(ExecutorTest, StopFromASignalHandlerEndsSpin) {
  Executor exec;
  g_exec = &exec;
  struct sigaction sa {};
  struct sigaction old {};
  sa.sa_handler = StopOnSignal;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  const pthread_t me = ::pthread_self();
  std::thread killer([&] {
    absl::SleepFor(absl::Milliseconds(100));
    ::pthread_kill(me, SIGUSR1);  // lands on the spinning thread, mid-sleep
  });
  const absl::Time start = absl::Now();
  EXPECT_TRUE(exec.Spin().ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  killer.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  g_exec = nullptr;
}

TEST(ExecutorTest, StopFromAnotherThreadAndBeforeSpin) {
  Executor exec;
  exec.Stop();
  const absl::Time start = absl::Now();
  EXPECT_TRUE(exec.Spin().ok()) << "a Stop made before Spin counts";
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(50));
    exec.Stop();
  });
  EXPECT_TRUE(exec.Spin().ok());
  stopper.join();
}

// Timers on the steady clock fire in due-time order, and the executor
// sleeps exactly until the next one.
TEST(ExecutorTest, TimersFireInOrder) {
  Executor exec;
  std::vector<std::string> order;
  ASSERT_TRUE(exec.AddTimer(absl::Milliseconds(30), [&] { order.push_back("a30"); }).ok());
  ASSERT_TRUE(exec.AddTimer(absl::Milliseconds(20), [&] { order.push_back("b20"); }).ok());
  ASSERT_TRUE(exec.AddTimer(absl::Milliseconds(70), [&] {
                    order.push_back("c70");
                    exec.Stop();
                  })
                  .ok());
  EXPECT_TRUE(exec.Spin().ok());
  // Due times: b20 at 20, a30 at 30, b20 at 40, a30 at 60, b20 at 60, c70 at 70.
  ASSERT_GE(order.size(), 5u);
  EXPECT_EQ(order[0], "b20");
  EXPECT_EQ(order[1], "a30");
  EXPECT_EQ(order[2], "b20");
  EXPECT_EQ(order.back(), "c70");
  EXPECT_FALSE(exec.AddTimer(absl::ZeroDuration(), [] {}).ok());
}

TEST(ExecutorTest, GuardConditionRunsOnTheExecutorsThread) {
  Executor exec;
  std::atomic<int> runs{0};
  std::thread::id where;
  std::shared_ptr<GuardCondition> guard = exec.AddGuardCondition([&] {
    where = std::this_thread::get_id();
    if (++runs == 2) exec.Stop();
  });
  std::thread spinner([&] { EXPECT_TRUE(exec.Spin().ok()); });
  const std::thread::id spinner_id = spinner.get_id();
  guard->Trigger();
  while (runs == 0) absl::SleepFor(absl::Milliseconds(1));
  guard->Trigger();
  spinner.join();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(where, spinner_id);
}

}  // namespace
}  // namespace ringcast
