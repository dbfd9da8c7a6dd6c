// Entries of dead processes: a kill -9 leaves registry entries, ring and
// subscriber entries and segments; one reclaiming pass (what every listing
// runs) removes them all. A live pid with another start time is dead; a
// pid of another PID namespace proves nothing.
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "discovery/orphans.h"
#include "discovery/registry.h"
#include "gtest/gtest.h"
#include "ringcast/node.h"
#include "tests/support/core_support.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/pool_chain.h"
#include "transport/topic.h"

namespace ringcast::discovery {
namespace {

using ::ringcast::testing::UniqueOptions;

using ::ringcast::testing::BytesType;
using ::ringcast::testing::ContextFor;
using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::KillChild;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::QosOf;
using ::ringcast::testing::StartChild;

transport::TopicConfig Pooled() {
  transport::TopicConfig c;
  c.type_name = "test.Blob";
  c.type_hash = 42;
  c.depth = 8;
  c.max_publishers = 4;
  c.max_subscribers = 4;
  c.max_message_size = 4096;  // a chunk pool per publisher
  return c;
}
constexpr char kPooledDescriptor[] = "fake descriptor";

// Endpoints of test.Blob on `topic` (through core's Node, like any user's).
absl::StatusOr<RawPublisher> PooledPublisher(Node& node, const std::string& topic) {
  const transport::TopicConfig c = Pooled();
  return node.CreateRawPublisher(topic, BytesType(c, kPooledDescriptor), QosOf(c));
}
absl::StatusOr<RawSubscriber> PooledSubscriber(Node& node, const std::string& topic) {
  const transport::TopicConfig c = Pooled();
  return node.CreateRawSubscriber(topic, BytesType(c, kPooledDescriptor), QosOf(c));
}

// A node of `name` on the test's segments.
absl::StatusOr<Node> MakeNode(const transport::ShmOptions& o, const char* name) {
  absl::StatusOr<Context> ctx = ContextFor(o);
  if (!ctx.ok()) return ctx.status();
  return Node::Create(*ctx, name);
}

// Topic-segment entries of a topic whose owner pid is `pid`, by observing.
int EntriesOf(const transport::ShmOptions& o, const std::string& topic, pid_t pid) {
  absl::StatusOr<transport::TopicSegment> t = transport::TopicSegment::Observe(o, topic);
  if (!t.ok()) return 0;
  int n = 0;
  using transport::internal::EntryState;
  using transport::internal::StateOf;
  for (std::uint32_t i = 0; i < t->geometry().max_publishers; ++i) {
    const auto& rc = t->ring_control(i);
    if (StateOf(rc.state.load(std::memory_order_acquire)) == EntryState::kActive &&
        rc.owner_pid.load(std::memory_order_relaxed) == static_cast<std::uint32_t>(pid)) {
      ++n;
    }
  }
  for (std::uint32_t i = 0; i < t->geometry().max_subscribers; ++i) {
    const auto& sc = t->subscriber_control(i);
    if (StateOf(sc.state.load(std::memory_order_acquire)) == EntryState::kActive &&
        sc.owner_pid.load(std::memory_order_relaxed) == static_cast<std::uint32_t>(pid)) {
      ++n;
    }
  }
  return n;
}

// A child that registers a node with publishers and subscribers, reports
// through `ready`, then waits to be killed.
pid_t StartVictim(const transport::ShmOptions& o, int ready_fd) {
  return StartChild([&o, ready_fd] {
    absl::StatusOr<Node> node = MakeNode(o, "victim");
    if (!node.ok()) return 10;
    std::vector<RawPublisher> pubs;
    std::vector<RawSubscriber> subs;
    for (const char* topic : {"/shared", "/alone"}) {
      absl::StatusOr<RawPublisher> p = PooledPublisher(*node, topic);
      if (!p.ok()) return 11;
      std::vector<std::byte> big(3000, std::byte{7});
      if (!p->Publish(big).ok()) return 12;  // a chunk in the pool
      pubs.push_back(*std::move(p));
      absl::StatusOr<RawSubscriber> s = PooledSubscriber(*node, topic);
      if (!s.ok()) return 13;
      subs.push_back(*std::move(s));
    }
    char b = 'r';
    if (::write(ready_fd, &b, 1) != 1) return 14;
    ::pause();  // until SIGKILL
    return 0;
  });
}

TEST(ReclaimTest, KillNineThenOneListingLeavesNothingBehind) {
  const transport::ShmOptions o = UniqueOptions();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t victim = StartVictim(o, ready[1]);
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1) << "the victim failed to register";
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_EQ(EntriesOf(o, "/shared", victim), 2);
  EXPECT_EQ(EntriesOf(o, "/alone", victim), 2);
  KillChild(victim);  // SIGKILL: no destructor, no atexit
  EXPECT_FALSE(FilesWithPrefix(kShmDir, o.prefix + ".").empty());

  // What `ringcast topic list` does: open, reclaim, read, leave.
  absl::StatusOr<Registry> reg = Registry::Open(o);
  ASSERT_TRUE(reg.ok()) << reg.status();
  const ReclaimReport rep = reg->ReclaimDead();
  EXPECT_EQ(rep.dead_nodes.size(), 1u);
  EXPECT_EQ(rep.dead_endpoints.size(), 4u);
  EXPECT_EQ(rep.topic_entries_freed, 4);
  EXPECT_EQ(rep.topics_unlinked.size(), 2u);
  const RegistrySnapshot snap = reg->Read();
  EXPECT_TRUE(snap.nodes.empty());
  EXPECT_TRUE(snap.endpoints.empty());
  EXPECT_TRUE(snap.types.empty()) << "a type nobody uses, stored by the dead";
  EXPECT_TRUE(reg->Leave());
  transport::ReleaseProcessTokens();  // the reclaimer's own liveness file, as at exit
  const std::vector<std::string> left = FilesWithPrefix(kShmDir, o.prefix + ".");
  EXPECT_TRUE(left.empty()) << left.size() << " files left, first " << left[0];
}

TEST(ReclaimTest, KillNineWithALivePeerReclaimsOnlyTheDeadEntries) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Node> peer = MakeNode(o, "peer");
  ASSERT_TRUE(peer.ok()) << peer.status();
  absl::StatusOr<RawSubscriber> mine = PooledSubscriber(*peer, "/shared");
  ASSERT_TRUE(mine.ok()) << mine.status();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t victim = StartVictim(o, ready[1]);
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  ASSERT_TRUE(mine->WaitForPublisher(absl::Seconds(30)).ok());
  ASSERT_EQ(EntriesOf(o, "/shared", victim), 2);
  KillChild(victim);

  absl::StatusOr<Registry> reg = Registry::Open(o);
  ASSERT_TRUE(reg.ok()) << reg.status();
  const ReclaimReport rep = reg->ReclaimDead();
  EXPECT_EQ(rep.dead_endpoints.size(), 4u);
  EXPECT_EQ(rep.topic_entries_freed, 4);
  // /shared stays (we subscribe to it) but holds no entry of the dead.
  ASSERT_EQ(rep.topics_unlinked.size(), 1u);
  EXPECT_EQ(rep.topics_unlinked[0], *transport::TopicSegmentName(o, "/alone"));
  EXPECT_EQ(EntriesOf(o, "/shared", victim), 0);
  const RegistrySnapshot snap = reg->Read();
  ASSERT_EQ(snap.nodes.size(), 1u);
  EXPECT_EQ(snap.nodes[0].name, "peer");
  ASSERT_EQ(snap.endpoints.size(), 1u);
  EXPECT_EQ(snap.endpoints[0].kind, EndpointKind::kSubscriber);
  ASSERT_EQ(snap.types.size(), 1u) << "the type is still in use by the peer";
  EXPECT_FALSE(reg->Leave()) << "the peer still uses the registry";
  // A second pass finds nothing.
  absl::StatusOr<Registry> again = Registry::Open(o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->ReclaimDead().empty());
  again->Leave();
  mine->Close();
  peer = absl::CancelledError("closed");  // drops the node: its entry and the registry go
  transport::ReleaseProcessTokens();       // our own liveness file, as at exit
  const std::vector<std::string> left = FilesWithPrefix(kShmDir, o.prefix + ".");
  EXPECT_TRUE(left.empty()) << left.size() << " files left, first " << left[0];
}

TEST(ReclaimTest, ChunksHeldByAKilledSubscriberGoBackToThePool) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Node> me = MakeNode(o, "publisher");
  ASSERT_TRUE(me.ok()) << me.status();
  absl::StatusOr<RawPublisher> pub = PooledPublisher(*me, "/held");
  ASSERT_TRUE(pub.ok()) << pub.status();
  const transport::PoolChain* pool = pub->writer().pool();
  ASSERT_NE(pool, nullptr);
  // Chunks referenced now (the pool grows as loans need it).
  auto in_use = [&] { return pool->chunk_count() - pool->CountFree(); };
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  const pid_t victim = StartChild([&] {
    ::close(go[1]);
    absl::StatusOr<Node> node = MakeNode(o, "hoarder");
    if (!node.ok()) return 10;
    absl::StatusOr<RawSubscriber> sub = PooledSubscriber(*node, "/held");
    if (!sub.ok()) return 11;
    char b = 's';
    if (::write(ready[1], &b, 1) != 1) return 12;  // subscribed
    if (::read(go[0], &b, 1) != 1) return 13;      // published
    std::vector<transport::Sample> kept;
    while (kept.size() < 3) {
      if (!sub->reader().Wait(absl::Seconds(30)).ok()) return 14;
      absl::StatusOr<std::optional<transport::Sample>> s = sub->reader().TakeSample();
      if (!s.ok() || !s->has_value() || !(*s)->pooled()) return 15;
      kept.push_back(std::move(**s));
    }
    if (::write(ready[1], &b, 1) != 1) return 16;  // holding 3 chunks
    ::pause();
    return 0;
  });
  ::close(go[0]);
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  std::vector<std::byte> big(3000, std::byte{1});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pub->Publish(big).ok());
  ASSERT_EQ(::write(go[1], &b, 1), 1);
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  // The ring holds a reference to each of the 3 chunks, the hoarder a second.
  EXPECT_EQ(in_use(), 3u);
  KillChild(victim);
  ::close(ready[0]);
  ::close(ready[1]);
  ::close(go[1]);
  absl::StatusOr<Registry> reg = Registry::Open(o);
  ASSERT_TRUE(reg.ok()) << reg.status();
  const ReclaimReport rep = reg->ReclaimDead();
  EXPECT_EQ(rep.dead_endpoints.size(), 1u);
  EXPECT_EQ(rep.topic_entries_freed, 1);
  reg->Leave();
  // The hoarder's references came back. With no subscriber left, each loan
  // also gives back the ring's references to what was published before (a
  // volatile topic keeps no history): every chunk but the last published
  // one comes back.
  for (std::uint32_t i = 0; i < Pooled().depth; ++i) {
    ASSERT_TRUE(pub->Publish(big).ok());
  }
  EXPECT_EQ(in_use(), 1u);
}

TEST(ReclaimTest, LivePidWithAnotherStartTimeIsDead) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o);
  ASSERT_TRUE(reg.ok()) << reg.status();
  const ProcessIdentity me = *ProcessIdentity::Self(o);
  // Our own pid (alive) and a live token, but another start time: the
  // entry's process was an earlier holder of this pid.
  ProcessIdentity reused = me;
  reused.start_time = me.start_time + 12345;
  // Same again, but recorded in another PID namespace: proves nothing.
  ProcessIdentity foreign = reused;
  foreign.pid_ns = me.pid_ns + 1;

  const EntryHandle real = *reg->AddNode("real", me);
  const EntryHandle fake = *reg->AddNode("fake", reused);
  const EntryHandle far = *reg->AddNode("far", foreign);
  EndpointSpec spec;
  spec.topic = "/fake";
  spec.type_name = "test.Fake";
  ASSERT_TRUE(reg->AddEndpoint(fake, spec, reused).ok());

  const ReclaimReport rep = reg->ReclaimDead();
  ASSERT_EQ(rep.dead_nodes.size(), 1u);
  EXPECT_EQ(rep.dead_nodes[0].name, "fake");
  ASSERT_EQ(rep.dead_endpoints.size(), 1u);
  EXPECT_EQ(rep.dead_endpoints[0].topic, "/fake");
  const RegistrySnapshot snap = reg->Read();
  ASSERT_EQ(snap.nodes.size(), 2u);
  EXPECT_TRUE(snap.endpoints.empty());
  reg->RemoveNode(real);
  reg->RemoveNode(far);
  EXPECT_TRUE(reg->Leave());
}

TEST(ReclaimTest, DoctorFindsAndCleansTopicsOutsideTheRegistry) {
  const transport::ShmOptions o = UniqueOptions();
  // A process that made a transport endpoint without registering it, and
  // died: only the doctor's directory scan can find its traces.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t victim = StartChild([&] {
    absl::StatusOr<transport::Writer> w =
        transport::Writer::Create(o, "/unregistered", Pooled());
    if (!w.ok()) return 10;
    char b = 'r';
    if (::write(ready[1], &b, 1) != 1) return 11;
    ::pause();
    return 0;
  });
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  KillChild(victim);
  const OrphanReport look = FindOrphans(o, /*clean=*/false);
  EXPECT_EQ(look.stale_topic_entries.size(), 1u);
  EXPECT_EQ(look.orphan_topics.size(), 1u);
  EXPECT_EQ(look.dead_tokens.size(), 1u);
  EXPECT_FALSE(FilesWithPrefix(kShmDir, o.prefix + ".").empty()) << "looking removes nothing";
  const OrphanReport clean = FindOrphans(o, /*clean=*/true);
  EXPECT_EQ(clean.orphan_topics.size(), 1u);
  transport::ReleaseProcessTokens();  // the cleaner's own liveness file, as at exit
  const std::vector<std::string> left = FilesWithPrefix(kShmDir, o.prefix + ".");
  EXPECT_TRUE(left.empty()) << left.size() << " files left, first " << left[0];
  EXPECT_TRUE(FindOrphans(o, false).empty());
}

}  // namespace
}  // namespace ringcast::discovery
