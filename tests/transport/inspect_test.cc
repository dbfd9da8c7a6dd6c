// Topic snapshots (transport/inspect.h): what live publishers and
// subscribers look like from outside (samples, bytes, the publish times and
// sizes still in a ring, lag, losses, sleeping, chunks held), and that
// looking changes nothing: not a byte of the segment, not the subscriber
// table, not whether a name lives on.
#include "transport/inspect.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/pool_chain.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::RunInChild;
using ::ringcast::testing::UniqueOptions;

TopicConfig Inline(std::uint32_t depth = 16) {
  TopicConfig c;
  c.type_name = "test.Counter";
  c.type_hash = 0x1234;
  c.depth = depth;
  c.max_publishers = 4;
  c.max_subscribers = 8;
  return c;
}

TopicConfig Pooled() {
  TopicConfig c = Inline(8);
  c.type_name = "test.Blob";
  c.max_message_size = 4096;
  c.max_held_samples = 4;
  return c;
}

std::vector<std::byte> Bytes(std::size_t n, std::uint8_t fill = 7) {
  return std::vector<std::byte>(n, std::byte{fill});
}

// The files of a test's prefix, sorted.
std::vector<std::string> Files(const ShmOptions& o) {
  std::vector<std::string> f = FilesWithPrefix(kShmDir, o.prefix + ".");
  std::sort(f.begin(), f.end());
  return f;
}

// The whole segment file, as bytes.
std::string SegmentBytes(const ShmOptions& o, const std::string& name) {
  std::ifstream in(absl::StrCat(o.dir, name), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(InspectTest, ObservingATopicWithoutASegmentIsNotFound) {
  const ShmOptions o = UniqueOptions();
  EXPECT_TRUE(absl::IsNotFound(TopicObserver::Open(o, "/nowhere").status()));
  EXPECT_TRUE(absl::IsNotFound(SnapshotTopic(o, "/nowhere").status()));
}

TEST(InspectTest, InlineRingAndSubscriberFigures) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Inline();
  absl::StatusOr<Reader> r = Reader::Create(o, "/inline", c);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<Writer> w = Writer::Create(o, "/inline", c);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::vector<std::size_t> sizes = {0, 1, 8, 9, 33, 48, 16, 2, 40, 5};
  std::uint64_t total = 0;
  for (const std::size_t n : sizes) {
    ASSERT_TRUE(w->Publish(Bytes(n)).ok());
    total += n;
  }
  absl::StatusOr<TopicObserver> observer = TopicObserver::Open(o, "/inline");
  ASSERT_TRUE(observer.ok()) << observer.status();
  EXPECT_EQ(observer->topic(), "/inline");
  EXPECT_EQ(observer->segment_name(), *TopicSegmentName(o, "/inline"));

  TopicSnapshot s = observer->Snapshot(/*with_recent=*/true);
  EXPECT_EQ(s.topic, "/inline");
  EXPECT_EQ(s.segment, observer->segment_name());
  EXPECT_EQ(s.type_name, "test.Counter");
  EXPECT_EQ(s.type_hash, 0x1234u);
  EXPECT_EQ(s.depth, 16u);
  EXPECT_EQ(s.slot_size, 64u);
  EXPECT_EQ(s.inline_capacity, 48u);
  EXPECT_EQ(s.max_publishers, 4u);
  EXPECT_EQ(s.max_subscribers, 8u);
  EXPECT_EQ(s.max_message_size, 0u);
  EXPECT_GT(s.segment_bytes, 0u);
  EXPECT_EQ(s.pool_bytes, 0u);
  EXPECT_TRUE(s.named_pools.empty());

  ASSERT_EQ(s.rings.size(), 1u);
  const RingSnapshot& ring = s.rings[0];
  EXPECT_EQ(ring.index, w->ring_index());
  EXPECT_EQ(ring.state, EntryPhase::kActive);
  EXPECT_TRUE(ring.owner_alive);
  EXPECT_EQ(ring.owner_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(ring.publisher_id, w->publisher_id());
  EXPECT_EQ(ring.pool_id, 0u);
  EXPECT_EQ(ring.start_seq, 0u);
  EXPECT_EQ(ring.head, sizes.size());
  EXPECT_EQ(ring.samples, sizes.size());
  EXPECT_EQ(ring.bytes, total);
  EXPECT_EQ(ring.anomalies, 0u);
  EXPECT_EQ(s.ring(w->ring_index()), &s.rings[0]);

  ASSERT_EQ(s.subscribers.size(), 1u);
  const SubscriberSnapshot& sub = s.subscribers[0];
  EXPECT_EQ(sub.index, r->subscriber_index());
  EXPECT_EQ(sub.state, EntryPhase::kActive);
  EXPECT_TRUE(sub.owner_alive);
  EXPECT_EQ(sub.subscriber_id, r->subscriber_id());
  EXPECT_EQ(sub.owner_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_FALSE(sub.reliable);
  EXPECT_FALSE(sub.transient_local);
  EXPECT_FALSE(sub.sleeping);
  EXPECT_EQ(sub.received, 0u);
  EXPECT_EQ(sub.lost, 0u);
  EXPECT_EQ(sub.lag, sizes.size());
  EXPECT_EQ(sub.chunks_held, 0u);

  // The publish times and sizes still in the ring, oldest first: what the
  // subscriber then receives.
  ASSERT_EQ(ring.recent.size(), sizes.size());
  std::vector<std::byte> got;
  SampleInfo info;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const SlotSample& x = ring.recent[k];
    EXPECT_EQ(x.sequence, k);
    EXPECT_EQ(x.size, sizes[k]) << k;
    EXPECT_FALSE(x.pooled);
    ASSERT_TRUE(*r->Take(&got, &info));
    EXPECT_EQ(info.sequence, x.sequence);
    EXPECT_EQ(info.publish_time_ns, x.publish_ns) << k;
    if (k > 0) {
      EXPECT_GE(x.publish_ns, ring.recent[k - 1].publish_ns);
    }
    if (k == 3) {
      // Part-way through, the lag is what is left to read.
      const TopicSnapshot mid = observer->Snapshot();
      ASSERT_EQ(mid.subscribers.size(), 1u);
      EXPECT_EQ(mid.subscribers[0].received, 4u);
      EXPECT_EQ(mid.subscribers[0].lag, sizes.size() - 4);
      EXPECT_TRUE(mid.rings[0].recent.empty()) << "recent only when asked";
    }
  }
  EXPECT_EQ(ring.last_publish_ns, ring.recent.back().publish_ns);

  // A new snapshot of its own: `ring` still points into `s`.
  const TopicSnapshot after = observer->Snapshot();
  ASSERT_EQ(after.subscribers.size(), 1u);
  EXPECT_EQ(after.subscribers[0].received, sizes.size());
  EXPECT_EQ(after.subscribers[0].lag, 0u);

  // The cheap polling view agrees.
  const std::vector<RingCounters> counters = observer->Counters();
  ASSERT_EQ(counters.size(), 4u);
  const RingCounters& mine = counters[w->ring_index()];
  EXPECT_TRUE(mine.active);
  EXPECT_EQ(mine.publisher_id, w->publisher_id());
  EXPECT_EQ(mine.head, sizes.size());
  EXPECT_EQ(mine.bytes, total);
  EXPECT_EQ(mine.last_publish_ns, ring.last_publish_ns);
  for (const RingCounters& other : counters) {
    if (other.index != w->ring_index()) {
      EXPECT_FALSE(other.active);
    }
  }
  EXPECT_EQ(observer->ActiveSubscribers(), 1u);
}

TEST(InspectTest, RecentHoldsOnlyWhatTheRingStillHolds) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Inline(4);
  absl::StatusOr<Writer> w = Writer::Create(o, "/wrap", c);
  ASSERT_TRUE(w.ok()) << w.status();
  for (std::size_t i = 0; i < 10; ++i) ASSERT_TRUE(w->Publish(Bytes(i)).ok());
  absl::StatusOr<TopicSnapshot> s = SnapshotTopic(o, "/wrap", /*with_recent=*/true);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->rings.size(), 1u);
  EXPECT_EQ(s->rings[0].samples, 10u);
  ASSERT_EQ(s->rings[0].recent.size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(s->rings[0].recent[k].sequence, 6 + k);
    EXPECT_EQ(s->rings[0].recent[k].size, 6 + k);
  }
}

TEST(InspectTest, PooledSamplesShowTheirMessageSizesAndHeldChunks) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Pooled();
  absl::StatusOr<Reader> r = Reader::Create(o, "/pooled", c);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<Writer> w = Writer::Create(o, "/pooled", c);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::vector<std::size_t> sizes = {10, 1000, 4096, 48, 49};
  std::uint64_t total = 0;
  for (const std::size_t n : sizes) {
    ASSERT_TRUE(w->Publish(Bytes(n)).ok()) << n;
    total += n;
  }
  absl::StatusOr<ChunkLoan> loan = w->Loan(3000);
  ASSERT_TRUE(loan.ok()) << loan.status();
  ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
  total += 3000;

  absl::StatusOr<TopicObserver> observer = TopicObserver::Open(o, "/pooled");
  ASSERT_TRUE(observer.ok()) << observer.status();
  TopicSnapshot s = observer->Snapshot(/*with_recent=*/true, /*with_pools=*/true);
  EXPECT_EQ(s.max_message_size, 4096u);
  EXPECT_EQ(s.max_held_samples, 4u);
  ASSERT_EQ(s.rings.size(), 1u);
  const RingSnapshot& ring = s.rings[0];
  ASSERT_NE(w->pool(), nullptr);
  EXPECT_EQ(ring.pool_id, w->pool()->family());
  EXPECT_EQ(s.named_pools, std::vector<std::uint64_t>{w->pool()->family()});
  // What the pool commits, as its publisher counts it.
  const PoolUse own = w->pool()->Stats();
  EXPECT_EQ(ring.pool.committed_bytes, own.committed_bytes);
  EXPECT_EQ(ring.pool.segments, own.segments);
  EXPECT_EQ(ring.pool.chunks, own.chunks);
  EXPECT_EQ(ring.pool.planned_bytes, own.planned_bytes);
  ASSERT_EQ(ring.pool.classes.size(), own.classes.size());
  EXPECT_EQ(s.pool_bytes, own.committed_bytes);
  EXPECT_TRUE(s.drained_pools.empty()) << "its publisher is alive";
  EXPECT_GT(s.pool_bytes, 4096u);
  EXPECT_EQ(ring.samples, 6u);
  EXPECT_EQ(ring.bytes, total) << "a pooled sample counts its message, not its reference";
  const std::vector<std::size_t> want_sizes = {10, 1000, 4096, 48, 49, 3000};
  const std::vector<bool> want_pooled = {false, true, true, false, true, true};
  ASSERT_EQ(ring.recent.size(), want_sizes.size());
  for (std::size_t k = 0; k < want_sizes.size(); ++k) {
    EXPECT_EQ(ring.recent[k].sequence, k);
    EXPECT_EQ(ring.recent[k].size, want_sizes[k]) << k;
    EXPECT_EQ(ring.recent[k].pooled, want_pooled[k]) << k;
  }

  // Holding pooled samples shows as chunks held; releasing them, not.
  std::vector<Sample> held;
  for (int k = 0; k < 3; ++k) {
    absl::StatusOr<std::optional<Sample>> x = r->TakeSample();
    ASSERT_TRUE(x.ok() && x->has_value());
    held.push_back(**std::move(x));
  }
  s = observer->Snapshot();
  ASSERT_EQ(s.subscribers.size(), 1u);
  EXPECT_EQ(s.subscribers[0].chunks_held, 2u) << "samples 1 and 2 are pooled, 0 is inline";
  EXPECT_EQ(s.subscribers[0].received, 3u);
  EXPECT_EQ(s.subscribers[0].lag, 3u);
  held.clear();
  EXPECT_EQ(observer->Snapshot().subscribers[0].chunks_held, 0u);
}

TEST(InspectTest, LostAndTransientLocal) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Inline(4);
  absl::StatusOr<Writer> w = Writer::Create(o, "/lossy", c);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->Publish(Bytes(1)).ok());
  ReaderOptions ro;
  ro.transient_local = true;
  absl::StatusOr<Reader> r = Reader::Create(o, "/lossy", c, ro);
  ASSERT_TRUE(r.ok()) << r.status();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(w->Publish(Bytes(2)).ok());
  std::vector<std::byte> got;
  SampleInfo info;
  while (*r->Take(&got, &info)) {
  }
  ASSERT_GT(r->lost(), 0u);
  absl::StatusOr<TopicSnapshot> s = SnapshotTopic(o, "/lossy");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->subscribers.size(), 1u);
  EXPECT_TRUE(s->subscribers[0].transient_local);
  EXPECT_EQ(s->subscribers[0].received, r->received());
  EXPECT_EQ(s->subscribers[0].lost, r->lost());
  EXPECT_EQ(s->subscribers[0].received + s->subscribers[0].lost, 21u);
  EXPECT_EQ(s->subscribers[0].lag, 0u);
}

TEST(InspectTest, ASubscriberWaitingOnItsDoorbellShowsAsSleeping) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Inline();
  absl::StatusOr<Writer> w = Writer::Create(o, "/sleepy", c);
  ASSERT_TRUE(w.ok()) << w.status();
  ReaderOptions ro;
  ro.spin = absl::ZeroDuration();  // sleep at once
  absl::StatusOr<Reader> r = Reader::Create(o, "/sleepy", c, ro);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<TopicObserver> observer = TopicObserver::Open(o, "/sleepy");
  ASSERT_TRUE(observer.ok()) << observer.status();
  EXPECT_FALSE(observer->Snapshot().subscribers.at(0).sleeping);

  absl::Status waited;
  std::thread waiter([&] { waited = r->Wait(absl::Seconds(30)); });
  bool saw_sleeping = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!saw_sleeping && absl::Now() < deadline) {
    saw_sleeping = observer->Snapshot().subscribers.at(0).sleeping;
    if (!saw_sleeping) absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_TRUE(w->Publish(Bytes(8)).ok());  // wakes it
  waiter.join();
  EXPECT_TRUE(saw_sleeping);
  EXPECT_TRUE(waited.ok()) << waited;
  EXPECT_FALSE(observer->Snapshot().subscribers.at(0).sleeping);
}

TEST(InspectTest, ObservingChangesNoByteOfTheSegment) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Pooled();
  absl::StatusOr<Reader> r = Reader::Create(o, "/still", c);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<Writer> w = Writer::Create(o, "/still", c);
  ASSERT_TRUE(w.ok()) << w.status();
  for (const std::size_t n : {5, 500, 50, 4000}) ASSERT_TRUE(w->Publish(Bytes(n)).ok());
  std::vector<std::byte> got;
  SampleInfo info;
  ASSERT_TRUE(*r->Take(&got, &info));

  const std::string name = *TopicSegmentName(o, "/still");
  const std::string before = SegmentBytes(o, name);
  ASSERT_FALSE(before.empty());
  const std::vector<std::string> files_before = Files(o);
  {
    absl::StatusOr<TopicObserver> observer = TopicObserver::Open(o, "/still");
    ASSERT_TRUE(observer.ok()) << observer.status();
    for (int k = 0; k < 3; ++k) {
      const TopicSnapshot s = observer->Snapshot(/*with_recent=*/true);
      EXPECT_EQ(s.subscribers.size(), 1u) << "an observer takes no subscriber entry";
      EXPECT_EQ(s.rings.size(), 1u);
      (void)observer->Counters();
      EXPECT_EQ(observer->ActiveSubscribers(), 1u);
    }
    absl::StatusOr<TopicObserver> by_segment = TopicObserver::OpenSegment(o, name);
    ASSERT_TRUE(by_segment.ok()) << by_segment.status();
    EXPECT_EQ(by_segment->topic(), "/still");
    (void)by_segment->Snapshot(/*with_recent=*/true);
  }
  EXPECT_EQ(SegmentBytes(o, name), before) << "a snapshot wrote into the segment";
  EXPECT_EQ(Files(o), files_before);
}

TEST(InspectTest, AnObserverNeverPinsTheName) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Inline();
  std::optional<absl::StatusOr<Writer>> w;
  w.emplace(Writer::Create(o, "/fleeting", c));
  ASSERT_TRUE(w->ok()) << w->status();
  ASSERT_TRUE((*w)->Publish(Bytes(3)).ok());
  absl::StatusOr<TopicObserver> observer = TopicObserver::Open(o, "/fleeting");
  ASSERT_TRUE(observer.ok()) << observer.status();
  const std::string path = absl::StrCat(o.dir, *TopicSegmentName(o, "/fleeting"));
  ASSERT_EQ(::access(path.c_str(), F_OK), 0);
  w.reset();  // the last participant leaves: the name goes, observed or not
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the observer kept the segment alive";
  // The mapping stays readable: the departed publisher's ring is free now.
  const TopicSnapshot s = observer->Snapshot(/*with_recent=*/true);
  EXPECT_TRUE(s.rings.empty());
  EXPECT_TRUE(s.subscribers.empty());
  EXPECT_TRUE(absl::IsNotFound(TopicObserver::Open(o, "/fleeting").status()));
}

TEST(InspectTest, AKilledPublisherShowsAsDeadAndItsTokenIsLeftAlone) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Inline();
  absl::StatusOr<Reader> r = Reader::Create(o, "/victim", c);  // keeps the topic
  ASSERT_TRUE(r.ok()) << r.status();
  pid_t child = 0;
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const int code = RunInChild([&] {
    absl::StatusOr<Writer> w = Writer::Create(o, "/victim", c);
    if (!w.ok() || !w->Publish(Bytes(4)).ok()) return 1;
    const pid_t me = ::getpid();
    if (::write(pipefd[1], &me, sizeof me) != sizeof me) return 2;
    ::kill(me, SIGKILL);  // no destructor, no atexit
    return 3;
  });
  EXPECT_EQ(code, 128 + SIGKILL);
  ASSERT_EQ(::read(pipefd[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  ::close(pipefd[0]);
  ::close(pipefd[1]);

  const std::vector<std::string> files_before = Files(o);
  absl::StatusOr<TopicSnapshot> s = SnapshotTopic(o, "/victim");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->rings.size(), 1u);
  EXPECT_EQ(s->rings[0].state, EntryPhase::kActive);
  EXPECT_FALSE(s->rings[0].owner_alive);
  EXPECT_EQ(s->rings[0].owner_pid, static_cast<std::uint32_t>(child));
  EXPECT_EQ(s->rings[0].samples, 1u);
  ASSERT_EQ(s->subscribers.size(), 1u);
  EXPECT_TRUE(s->subscribers[0].owner_alive);
  EXPECT_EQ(s->subscribers[0].lag, 1u);
  EXPECT_EQ(Files(o), files_before)
      << "a look removed the dead publisher's liveness file";
  SweepDeadTokens(o);
}

}  // namespace
}  // namespace ringcast::transport
