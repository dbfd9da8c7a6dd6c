// Endpoints made through core's Node: registered on creation, unregistered
// on close, data flows through transport; a subscriber waits (bounded) for
// its first publisher on the registry's futex.
#include "ringcast/node.h"

#include <unistd.h>

#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "discovery/registry.h"
#include "gtest/gtest.h"
#include "tests/support/core_support.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"
#include "transport/pool_chain.h"

namespace ringcast {
namespace {

using ::ringcast::testing::ContextFor;
using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::UniqueOptions;
using ::ringcast::testing::WaitChild;
using discovery::EndpointKind;
using discovery::EndpointRecord;
using discovery::Registry;
using discovery::RegistrySnapshot;

// Opaque bytes of type test.Chatter (the strings are literals: they outlive
// every endpoint).
TypeSupport Chatter() {
  TypeSupport t;
  t.type_name = "test.Chatter";
  t.type_hash = 7;
  t.head_size = 8;
  t.fixed_size = false;
  return t;
}

// Depth 16, transient local; the rest of the geometry set explicitly (core
// fills what is left unset with its own defaults): 48 bytes inline, 8
// publishers, 32 subscribers, 8 held samples, inline only.
Qos ChatterQos() {
  return Qos()
      .set_depth(16)
      .set_inline_capacity(48)
      .set_max_publishers(8)
      .set_max_subscribers(32)
      .set_max_held_samples(8)
      .set_max_message_size(0)
      .set_transient_local();
}

// What the registry holds now, read without joining it (a Node does not
// expose its registry).
RegistrySnapshot Snapshot(const transport::ShmOptions& o) {
  absl::StatusOr<Registry> r = Registry::Observe(o);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->Read() : RegistrySnapshot{};
}

TEST(NodeTest, EndpointsRegisterAndUnregister) {
  const transport::ShmOptions o = UniqueOptions();
  {
    absl::StatusOr<Context> ctx = ContextFor(o);
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    absl::StatusOr<Node> node = Node::Create(*ctx, "talker");
    ASSERT_TRUE(node.ok()) << node.status();
    absl::StatusOr<RawPublisher> pub = node->CreateRawPublisher("/chatter", Chatter(), ChatterQos());
    ASSERT_TRUE(pub.ok()) << pub.status();
    absl::StatusOr<RawSubscriber> sub =
        node->CreateRawSubscriber("/chatter", Chatter(), ChatterQos());
    ASSERT_TRUE(sub.ok()) << sub.status();

    RegistrySnapshot snap = Snapshot(o);
    ASSERT_EQ(snap.nodes.size(), 1u);
    ASSERT_EQ(snap.endpoints.size(), 2u);
    for (const EndpointRecord& e : snap.endpoints) {
      EXPECT_EQ(e.topic, "/chatter");
      EXPECT_EQ(e.node_id, node->id());
      EXPECT_EQ(e.type_name, "test.Chatter");
      EXPECT_EQ(e.qos.depth, 16u);
      EXPECT_TRUE(e.qos.transient_local);
      if (e.kind == EndpointKind::kPublisher) {
        EXPECT_EQ(e.id, pub->id());
        EXPECT_EQ(e.transport_index, pub->writer().ring_index());
        EXPECT_EQ(e.transport_id, pub->writer().publisher_id());
      } else {
        EXPECT_EQ(e.id, sub->id());
        EXPECT_EQ(e.transport_index, sub->reader().subscriber_index());
        EXPECT_EQ(e.transport_id, sub->reader().subscriber_id());
      }
    }
    ASSERT_EQ(snap.types.size(), 1u);

    const char msg[] = "hello";
    ASSERT_TRUE(pub->Publish({reinterpret_cast<const std::byte*>(msg), sizeof msg}).ok());
    ASSERT_TRUE(sub->reader().Wait(absl::Seconds(30)).ok());
    std::vector<std::byte> got;
    transport::SampleInfo info;
    ASSERT_TRUE(*sub->reader().Take(&got, &info));
    EXPECT_EQ(std::memcmp(got.data(), msg, sizeof msg), 0);

    pub->Close();
    snap = Snapshot(o);
    ASSERT_EQ(snap.endpoints.size(), 1u);
    EXPECT_EQ(snap.endpoints[0].kind, EndpointKind::kSubscriber);
    // The node entry outlives the Node object while an endpoint exists.
    RawSubscriber kept = *std::move(sub);
    node = absl::CancelledError("dropped");
    absl::StatusOr<Registry> reg = Registry::Open(o);
    ASSERT_TRUE(reg.ok());
    EXPECT_EQ(reg->Read().nodes.size(), 1u);
    kept.Close();
    EXPECT_TRUE(reg->Read().nodes.empty());
    EXPECT_TRUE(reg->Leave());
  }
  transport::ReleaseProcessTokens();  // our own liveness file, as at exit
  EXPECT_TRUE(FilesWithPrefix(kShmDir, o.prefix + ".").empty());
}

// The pool fields resolve like every QoS field (declaration, then the
// configuration's rules, then code, then the defaults, which are
// transport::PoolChainOptions'), but no topic segment fixes them: two
// publishers of one topic each start their pool as their own QoS says.
TEST(NodeTest, PoolQosResolvesLikeTheOthersAndStaysEachPublishersOwn) {
  const transport::ShmOptions o = UniqueOptions();
  {
    ContextOptions co;
    co.config_file = "";
    co.overrides.shm_dir = o.dir;
    co.overrides.shm_prefix = o.prefix;
    co.overrides.domain = o.domain;
    co.overrides.topics.push_back(
        QosRule{"/pool/*", Qos().set_pool_initial_chunks(4).set_pool_release_after(
                               absl::Seconds(30))});
    absl::StatusOr<Context> ctx = Context::Create(co);
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    absl::StatusOr<Node> node = Node::Create(*ctx, "n");
    ASSERT_TRUE(node.ok()) << node.status();
    const Qos declared =
        Qos().set_pool_initial_chunks(8).set_pool_release_after(absl::Seconds(60));
    absl::StatusOr<Qos> q = node->ResolveQos(
        "/pool/a", Chatter(), declared, Qos().set_pool_release_after(absl::Milliseconds(50)));
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->pool_initial_chunks, 4u) << "the configuration over the declaration";
    EXPECT_EQ(q->pool_release_after, absl::Milliseconds(50)) << "code over the configuration";
    q = node->ResolveQos("/other", Chatter(), declared, Qos());
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->pool_initial_chunks, 8u) << "the declaration where nothing else speaks";
    EXPECT_EQ(q->pool_release_after, absl::Seconds(60));
    q = node->ResolveQos("/other", Chatter(), Qos(), Qos());
    ASSERT_TRUE(q.ok()) << q.status();
    const transport::PoolChainOptions defaults;
    EXPECT_EQ(q->pool_initial_chunks, defaults.initial_chunks);
    EXPECT_EQ(q->pool_release_after, defaults.idle);
    // A bad value names where it came from.
    q = node->ResolveQos("/pool/a", Chatter(), Qos(), Qos().set_pool_initial_chunks(0));
    EXPECT_EQ(q.status().message(),
              "QoS of /pool/a from the Qos given in code: qos pool_initial_chunks = 0: valid "
              "1..1048576");
    q = node->ResolveQos("/other", Chatter(), Qos().set_pool_release_after(absl::Hours(2)),
                         Qos());
    EXPECT_EQ(q.status().message(),
              "QoS of /other from its declaration in the .proto: qos pool_release_after = 2h: "
              "valid more than 0 and at most 1h");

    // Chatter's default max_message_size (4096) is one size class.
    absl::StatusOr<RawPublisher> three =
        node->CreateRawPublisher("/pool/a", Chatter(), Qos().set_pool_initial_chunks(3));
    ASSERT_TRUE(three.ok()) << three.status();
    absl::StatusOr<RawPublisher> five =
        node->CreateRawPublisher("/pool/a", Chatter(), Qos().set_pool_initial_chunks(5));
    ASSERT_TRUE(five.ok()) << five.status();
    EXPECT_EQ(three->qos().pool_initial_chunks, 3u);
    EXPECT_EQ(five->qos().pool_initial_chunks, 5u) << "not the first publisher's";
    EXPECT_EQ(five->qos().pool_release_after, absl::Seconds(30)) << "the configuration's";
    for (RawPublisher* p : {&*three, &*five}) {
      absl::StatusOr<RawLoan> loan = p->Loan(1000);
      ASSERT_TRUE(loan.ok()) << loan.status();
      ASSERT_NE(p->writer().pool(), nullptr);
      EXPECT_EQ(p->writer().pool()->Stats().chunks, *p->qos().pool_initial_chunks);
    }
  }
  transport::ReleaseProcessTokens();  // our own liveness file, as at exit
  EXPECT_TRUE(FilesWithPrefix(kShmDir, o.prefix + ".").empty());
}

TEST(NodeTest, TypeMismatchIsAClearErrorAndLeavesNoEntry) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Context> ctx = ContextFor(o);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  absl::StatusOr<Node> node = Node::Create(*ctx, "n");
  ASSERT_TRUE(node.ok()) << node.status();
  absl::StatusOr<RawPublisher> pub = node->CreateRawPublisher("/typed", Chatter(), ChatterQos());
  ASSERT_TRUE(pub.ok());
  TypeSupport other = Chatter();
  other.type_name = "test.Other";
  absl::StatusOr<RawSubscriber> bad = node->CreateRawSubscriber("/typed", other, ChatterQos());
  EXPECT_TRUE(absl::IsFailedPrecondition(bad.status())) << bad.status();
  EXPECT_EQ(Snapshot(o).endpoints.size(), 1u);
}

TEST(NodeTest, SubscriberWaitsForItsFirstPublisherAcrossProcesses) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Context> ctx = ContextFor(o);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  absl::StatusOr<Node> node = Node::Create(*ctx, "listener");
  ASSERT_TRUE(node.ok()) << node.status();
  absl::StatusOr<RawSubscriber> sub = node->CreateRawSubscriber("/late", Chatter(), ChatterQos());
  ASSERT_TRUE(sub.ok()) << sub.status();
  const absl::Status none = sub->WaitForPublisher(absl::Milliseconds(100));
  EXPECT_TRUE(absl::IsDeadlineExceeded(none)) << none;
  EXPECT_NE(std::string(none.message()).find("/late"), std::string::npos);

  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = StartChild([&] {
    ::close(go[1]);
    char b;
    if (::read(go[0], &b, 1) != 1) return 9;
    absl::SleepFor(absl::Milliseconds(200));
    absl::StatusOr<Node> n = Node::Create(*ctx, "talker");
    if (!n.ok()) return 10;
    absl::StatusOr<RawPublisher> p = n->CreateRawPublisher("/late", Chatter(), ChatterQos());
    if (!p.ok()) return 11;
    const char msg[] = "late hello";
    if (!p->Publish({reinterpret_cast<const std::byte*>(msg), sizeof msg}).ok()) return 12;
    // Stay until the subscriber has read (it closes the pipe).
    (void)::read(go[0], &b, 1);
    return 0;
  });
  ::close(go[0]);
  char b = 'g';
  ASSERT_EQ(::write(go[1], &b, 1), 1);
  const absl::Time t0 = absl::Now();
  const absl::Status found = sub->WaitForPublisher(absl::Seconds(60));
  EXPECT_TRUE(found.ok()) << found;
  EXPECT_LT(absl::Now() - t0, absl::Seconds(50));
  // Transient local: the publisher's first sample is in its ring.
  ASSERT_TRUE(sub->reader().Wait(absl::Seconds(30)).ok());
  ::close(go[1]);
  EXPECT_EQ(WaitChild(child), 0);
}

TEST(NodeTest, EightProcessesMakeAHundredRealEndpointsEachConcurrently) {
  // Like RegistryTest.EightProcesses..., but through Node: every endpoint
  // also claims a ring or subscriber entry in one of 25 shared topics.
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Context> ctx = ContextFor(o);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  constexpr int kProcs = 8, kEach = 100, kTopics = 25;
  Qos qos = ChatterQos();
  qos.set_volatile();
  qos.set_max_publishers(64);
  qos.set_max_subscribers(64);
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  std::vector<pid_t> children;
  for (int k = 0; k < kProcs; ++k) {
    children.push_back(StartChild([&, k] {
      ::close(ready[0]);
      ::close(release[1]);
      absl::StatusOr<Node> node = Node::Create(*ctx, absl::StrCat("proc", k));
      if (!node.ok()) return 10;
      std::vector<RawPublisher> pubs;
      std::vector<RawSubscriber> subs;
      for (int i = 0; i < kEach; ++i) {
        const std::string topic = absl::StrCat("/multi/t", (k * kEach + i) % kTopics);
        if (i % 2 == 0) {
          absl::StatusOr<RawPublisher> p = node->CreateRawPublisher(topic, Chatter(), qos);
          if (!p.ok()) return 11;
          pubs.push_back(*std::move(p));
        } else {
          absl::StatusOr<RawSubscriber> sb = node->CreateRawSubscriber(topic, Chatter(), qos);
          if (!sb.ok()) return 12;
          subs.push_back(*std::move(sb));
        }
      }
      char b = 'r';
      if (::write(ready[1], &b, 1) != 1) return 13;
      (void)::read(release[0], &b, 1);
      return 0;  // endpoints close: every entry is removed cleanly
    }, absl::Seconds(120)));
  }
  ::close(ready[1]);
  ::close(release[0]);
  int registered = 0;
  for (char b; registered < kProcs && ::read(ready[0], &b, 1) == 1;) ++registered;
  ASSERT_EQ(registered, kProcs) << "a child failed to register";
  absl::StatusOr<Registry> reg = Registry::Open(o);
  ASSERT_TRUE(reg.ok()) << reg.status();
  const RegistrySnapshot snap = reg->Read();
  EXPECT_EQ(snap.nodes.size(), static_cast<std::size_t>(kProcs));
  ASSERT_EQ(snap.endpoints.size(), static_cast<std::size_t>(kProcs * kEach));
  std::set<std::uint64_t> ids;
  std::map<std::string, std::set<std::pair<int, std::uint32_t>>> slots;  // per topic
  for (const EndpointRecord& e : snap.endpoints) {
    ids.insert(e.id);
    EXPECT_NE(e.transport_index, discovery::internal::kNoTransport) << e.topic;
    // No two endpoints of a topic hold the same ring or subscriber entry.
    EXPECT_TRUE(slots[e.topic]
                    .insert({e.kind == EndpointKind::kPublisher ? 0 : 1, e.transport_index})
                    .second)
        << e.topic << " index " << e.transport_index;
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kProcs * kEach));
  EXPECT_EQ(slots.size(), static_cast<std::size_t>(kTopics));
  EXPECT_TRUE(reg->ReclaimDead().empty()) << "everyone is alive";
  ::close(release[1]);
  for (const pid_t pid : children) EXPECT_EQ(WaitChild(pid), 0);
  ::close(ready[0]);
  EXPECT_TRUE(reg->Read().endpoints.empty()) << "closed endpoints unregister";
  EXPECT_TRUE(reg->Leave());
  transport::ReleaseProcessTokens();
  const std::vector<std::string> left = FilesWithPrefix(kShmDir, o.prefix + ".");
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];
}

}  // namespace
}  // namespace ringcast
