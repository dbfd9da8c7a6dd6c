// The typed API end to end: every standard message across processes,
// inline and pooled; type mismatches; QoS precedence; samples that outlive
// their subscriber; loans; the held-sample limit; corrupt buffers.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core_test/topics.ringcast.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ringcast/msgs/geometry.ringcast.h"
#include "ringcast/msgs/header.ringcast.h"
#include "ringcast/msgs/image.ringcast.h"
#include "ringcast/msgs/imu.ringcast.h"
#include "ringcast/msgs/point_cloud.ringcast.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/msgs/time.ringcast.h"
#include "ringcast/ringcast.h"
#include "tests/idl/idl_test_util.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/pool_chain.h"

namespace ringcast {
namespace {

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::RunInChild;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::WaitChild;
using ::testing::HasSubstr;
namespace msgs = ::ringcast::msgs::flat;

// A context of its own for each test: a unique prefix, no configuration
// file and no domain from the environment.
Context TestContext(Config overrides = {}) {
  ContextOptions o;
  o.config_file = "";
  overrides.shm_prefix = ::ringcast::testing::UniquePrefix();
  o.overrides = std::move(overrides);
  absl::StatusOr<Context> c = Context::Create(o);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

void ExpectNothingLeft(const Context& ctx) {
  transport::ReleaseProcessTokens();  // our own liveness file, as at exit
  const std::vector<std::string> left = FilesWithPrefix(kShmDir, ctx.shm().prefix + ".");
  EXPECT_TRUE(left.empty()) << left.size() << " files left, first " << left[0];
}

// Three messages of T for `seed`: empty (inline), random (small nesting),
// random with long repeated fields (pooled).
template <typename T>
std::vector<typename T::Proto> Messages(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<typename T::Proto> out(3);
  idl::testing::RandomFill(&out[1], rng, 2, 3);
  idl::testing::RandomFill(&out[2], rng, 3, 300);
  return out;
}

template <typename T>
class RoundTripTest : public ::testing::Test {};
using MsgsTypes =
    ::testing::Types<msgs::String, msgs::Time, msgs::Duration, msgs::Header, msgs::Image,
                     msgs::CompressedImage, msgs::PointField, msgs::PointCloud, msgs::Vector3,
                     msgs::Point, msgs::Quaternion, msgs::Pose, msgs::PoseStamped, msgs::Twist,
                     msgs::Imu>;
TYPED_TEST_SUITE(RoundTripTest, MsgsTypes);

// A child process publishes; we read every field back through the view.
TYPED_TEST(RoundTripTest, EveryFieldAcrossProcessesInlineAndPooled) {
  using T = TypeParam;
  const Context ctx = TestContext();
  // One subscriber: a pool of 8 + 2 x 2 + 4 chunks of 1 MiB fits a container's /dev/shm.
  const Qos qos = Qos().set_max_message_size(1 << 20).set_depth(8).set_max_subscribers(2)
                      .set_max_held_samples(2);
  const std::uint64_t seed = T::kTypeHash;
  absl::StatusOr<Node> node = Node::Create(ctx, "reader");
  ASSERT_TRUE(node.ok()) << node.status();
  absl::StatusOr<Subscriber<T>> sub = node->template CreateSubscriber<T>("/roundtrip", qos);
  ASSERT_TRUE(sub.ok()) << sub.status();
  const pid_t child = StartChild([&] {
    absl::StatusOr<Node> n = Node::Create(ctx, "writer");
    if (!n.ok()) return 10;
    absl::StatusOr<Publisher<T>> pub = n->template CreatePublisher<T>("/roundtrip", qos);
    if (!pub.ok()) return 11;
    for (const auto& m : Messages<T>(seed)) {
      if (!pub->Publish(m).ok()) return 12;
    }
    return 0;
  });
  ASSERT_EQ(WaitChild(child), 0);
  const std::vector<typename T::Proto> expected = Messages<T>(seed);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    absl::StatusOr<std::optional<Sample<T>>> s = sub->Take();
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE(s->has_value()) << "sample " << i;
    typename T::Proto got;
    (**s)->ToProto(&got);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, expected[i]))
        << "sample " << i << "\ngot:\n" << got.DebugString() << "want:\n" << expected[i].DebugString();
    EXPECT_EQ((*s)->sequence(), i);
    // Big enough to leave the 48-byte slot: through the pool.
    EXPECT_EQ((*s)->pooled(), (*s)->bytes().size() > sub->qos().inline_capacity.value()) << i;
  }
  absl::StatusOr<std::optional<Sample<T>>> none = sub->Take();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()) << "exactly three were published";
  sub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

TEST(TypedTest, AnotherTypeOnATopicIsRefusedNamingBothTypesAndHashes) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "n");
  ASSERT_TRUE(node.ok());
  absl::StatusOr<Publisher<msgs::String>> pub = node->CreatePublisher<msgs::String>("/mixed");
  ASSERT_TRUE(pub.ok()) << pub.status();
  absl::StatusOr<Subscriber<msgs::Imu>> sub = node->CreateSubscriber<msgs::Imu>("/mixed");
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(sub.status().message(), HasSubstr("ringcast.msgs.String"));
  EXPECT_THAT(sub.status().message(), HasSubstr("ringcast.msgs.Imu"));
  EXPECT_THAT(sub.status().message(), HasSubstr(absl::StrFormat("%016x", msgs::String::kTypeHash)));
  EXPECT_THAT(sub.status().message(), HasSubstr(absl::StrFormat("%016x", msgs::Imu::kTypeHash)));
  pub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

// The declaration says depth 8 and 64 KiB; the YAML file raises depth to
// 32; code says 64. Each later source wins for what it sets, and what it
// leaves unset falls through.
TEST(TypedTest, QosPrecedenceIsDeclarationThenYamlThenCode) {
  const std::string dir = absl::StrCat("/tmp/ringcast-qos-", ::getpid());
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", dir).c_str()), 0);
  const std::string file = dir + "/ringcast.yaml";
  std::ofstream(file) << "domain: 3\ntopics:\n  /qos/declared:\n    depth: 32\n"
                      << "  \"/qos/*\":\n    max_held_samples: 2\n";
  ContextOptions o;
  o.config_file = file;
  o.overrides.shm_prefix = ::ringcast::testing::UniquePrefix();
  ::unsetenv("RINGCAST_DOMAIN");
  absl::StatusOr<Context> from_file = Context::Create(o);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->domain(), 3u);
  ::setenv("RINGCAST_DOMAIN", "7", 1);
  absl::StatusOr<Context> ctx = Context::Create(o);
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(ctx->domain(), 7u) << "the environment wins over the file";
  ::setenv("RINGCAST_DOMAIN", "seven", 1);
  absl::StatusOr<Context> bad = Context::Create(o);
  EXPECT_EQ(bad.status().message(),
            "RINGCAST_DOMAIN='seven' is not a domain number; valid 0..65535");
  ::unsetenv("RINGCAST_DOMAIN");
  o.overrides.domain = 9;
  ctx = Context::Create(o);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->domain(), 9u) << "code wins over the file";

  absl::StatusOr<Node> node = Node::Create(*ctx, "qos");
  ASSERT_TRUE(node.ok()) << node.status();
  const TypeSupport type = TypeSupport::Of<core_test::flat::Reading>();
  Qos declared;
  declared.depth = 8;
  declared.max_message_size = 65536;
  absl::StatusOr<Qos> q = node->ResolveQos("/qos/declared", type, declared, Qos());
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(*q->depth, 32u) << "the file over the declaration";
  EXPECT_EQ(*q->max_message_size, 65536u) << "the declaration where the file is silent";
  EXPECT_EQ(*q->max_held_samples, 2u) << "the file's glob";
  q = node->ResolveQos("/qos/declared", type, declared, Qos().set_depth(64));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q->depth, 64u) << "code over the file";
  // The same through a generated topic constant.
  absl::StatusOr<Publisher<core_test::flat::Reading>> pub =
      node->CreatePublisher(core_test::topics::kQosDeclared);
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(*pub->qos().depth, 32u);
  EXPECT_EQ(*pub->qos().max_message_size, 65536u);
  // A bad value names where it came from.
  q = node->ResolveQos("/qos/declared", type, declared, Qos().set_depth(12));
  EXPECT_EQ(q.status().message(),
            "QoS of /qos/declared from the Qos given in code: qos depth = 12: valid a power of "
            "two in 1..65536");
  // Reliable delivery is taken as asked.
  q = node->ResolveQos("/qos/declared", type, declared,
                       Qos().set_reliable(absl::Milliseconds(10)));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(*q->reliability, ReliabilityPolicy::kReliable);
  EXPECT_EQ(*q->reliable_timeout, absl::Milliseconds(10));
  pub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ASSERT_EQ(std::system(absl::StrCat("rm -rf ", dir).c_str()), 0);
  ExpectNothingLeft(*ctx);
}

// Samples may outlive their subscriber and node: their bytes stay mapped
// (ASan would catch a read of an unmapped chunk).
TEST(TypedTest, SampleOutlivesItsSubscriberAndNode) {
  const Context ctx = TestContext();
  std::optional<Sample<msgs::String>> inline_sample, pooled_sample;
  {
    absl::StatusOr<Node> node = Node::Create(ctx, "n");
    ASSERT_TRUE(node.ok());
    const Qos qos = Qos().set_max_message_size(4096);
    absl::StatusOr<Subscriber<msgs::String>> sub =
        node->CreateSubscriber<msgs::String>("/outlive", qos);
    absl::StatusOr<Publisher<msgs::String>> pub =
        node->CreatePublisher<msgs::String>("/outlive", qos);
    ASSERT_TRUE(sub.ok() && pub.ok());
    ringcast::msgs::String m;
    m.set_data("short");
    ASSERT_TRUE(pub->Publish(m).ok());
    m.set_data(std::string(1000, 'x'));
    ASSERT_TRUE(pub->Publish(m).ok());
    inline_sample = std::move(**sub->Take());
    pooled_sample = std::move(**sub->Take());
  }  // subscriber, publisher and node gone
  EXPECT_FALSE(inline_sample->pooled());
  EXPECT_TRUE(pooled_sample->pooled());
  EXPECT_EQ((*inline_sample)->data(), "short");
  EXPECT_EQ((*pooled_sample)->data().size(), 1000u);
  inline_sample.reset();
  pooled_sample.reset();
  ExpectNothingLeft(ctx);
}

// Reliable QoS end to end: a reliable subscriber that does not take holds
// the publisher, which fails after its timeout naming the subscriber; once
// the subscriber takes, publishing goes on, and nothing was lost.
TEST(TypedTest, AReliableSubscriberHoldsThePublisher) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "n");
  ASSERT_TRUE(node.ok());
  const Qos qos = Qos().set_depth(4).set_reliable(absl::Milliseconds(30));
  absl::StatusOr<Subscriber<msgs::String>> sub =
      node->CreateSubscriber<msgs::String>("/reliable", qos);
  absl::StatusOr<Publisher<msgs::String>> pub =
      node->CreatePublisher<msgs::String>("/reliable", qos);
  ASSERT_TRUE(sub.ok() && pub.ok()) << sub.status() << pub.status();
  ringcast::msgs::String m;
  for (int i = 0; i < 4; ++i) {
    m.set_data(absl::StrCat(i));
    ASSERT_TRUE(pub->Publish(m).ok()) << i;
  }
  m.set_data("4");
  const absl::Status held = pub->Publish(m);
  EXPECT_EQ(held.code(), absl::StatusCode::kDeadlineExceeded) << held;
  EXPECT_THAT(held.message(), ::testing::HasSubstr("reliable subscriber"));
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::optional<Sample<msgs::String>>> s = sub->Take();
    ASSERT_TRUE(s.ok() && s->has_value());
    EXPECT_EQ((**s)->data(), absl::StrCat(i));
    EXPECT_EQ((*s)->lost_before(), 0u);
  }
  ASSERT_TRUE(pub->Publish(m).ok());
  absl::StatusOr<std::optional<Sample<msgs::String>>> s = sub->Take();
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((**s)->data(), "4");
  pub = absl::CancelledError("closed");
  sub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

TEST(TypedTest, DroppedLoanReturnsItsChunk) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "n");
  ASSERT_TRUE(node.ok());
  absl::StatusOr<Publisher<msgs::Image>> pub =
      node->CreatePublisher<msgs::Image>("/loans", Qos().set_max_message_size(1 << 16));
  ASSERT_TRUE(pub.ok()) << pub.status();
  const transport::PoolChain* pool = pub->raw().writer().pool();
  ASSERT_NE(pool, nullptr);
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<Loan<msgs::Image>> loan = pub->Loan(50000);
    ASSERT_TRUE(loan.ok()) << i << ": " << loan.status();
    EXPECT_TRUE(loan->pooled());
    (*loan)->set_width(7);
  }  // each dropped unpublished
  EXPECT_EQ(pool->CountFree(), pool->chunk_count());
  EXPECT_LE(pool->chunk_count(), 2u) << "one chunk at a time needs no growth";
  pub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

// pool_initial_chunks is what a size class commits at its first loan:
// nothing before it, exactly that many chunks (one segment) after it.
// Unset, it is transport's default (2), and a resolved Qos reports both
// pool fields either way.
TEST(TypedTest, PoolInitialChunksIsWhatTheFirstLoanCommits) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "n");
  ASSERT_TRUE(node.ok());
  const transport::PoolChainOptions defaults;
  // 50000 bytes go to the class of max_message_size (the next is 32 KiB).
  absl::StatusOr<Publisher<msgs::Image>> three = node->CreatePublisher<msgs::Image>(
      "/pool/three", Qos().set_max_message_size(1 << 16).set_pool_initial_chunks(3));
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->qos().pool_initial_chunks, 3u);
  EXPECT_EQ(three->qos().pool_release_after, defaults.idle);
  const transport::PoolChain* pool = three->raw().writer().pool();
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->Stats().chunks, 0u) << "nothing committed before a loan";
  EXPECT_EQ(pool->Stats().segments, 0u);
  {
    absl::StatusOr<Loan<msgs::Image>> loan = three->Loan(50000);
    ASSERT_TRUE(loan.ok()) << loan.status();
    ASSERT_TRUE(loan->pooled());
    EXPECT_EQ(pool->Stats().chunks, 3u);
    EXPECT_EQ(pool->Stats().segments, 1u);
  }
  EXPECT_EQ(pool->Stats().chunks, 3u) << "the first segment stays";

  absl::StatusOr<Publisher<msgs::Image>> two =
      node->CreatePublisher<msgs::Image>("/pool/default", Qos().set_max_message_size(1 << 16));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->qos().pool_initial_chunks, defaults.initial_chunks);
  EXPECT_EQ(two->qos().pool_release_after, defaults.idle);
  pool = two->raw().writer().pool();
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->Stats().chunks, 0u);
  {
    absl::StatusOr<Loan<msgs::Image>> loan = two->Loan(50000);
    ASSERT_TRUE(loan.ok()) << loan.status();
    EXPECT_EQ(pool->Stats().chunks, 2u);
    EXPECT_EQ(pool->Stats().segments, 1u);
  }
  three = absl::CancelledError("closed");
  two = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

// pool_release_after is how long a segment the pool grew by stays wholly
// free before it is given back, with no call from the publisher: the pool
// shrinks back to its first segment.
TEST(TypedTest, PoolReleaseAfterLetsAGrownPoolShrinkBack) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "n");
  ASSERT_TRUE(node.ok());
  absl::StatusOr<Publisher<msgs::Image>> pub = node->CreatePublisher<msgs::Image>(
      "/pool/shrink", Qos()
                          .set_max_message_size(1 << 16)
                          .set_pool_initial_chunks(1)
                          .set_pool_release_after(absl::Milliseconds(1)));
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->qos().pool_release_after, absl::Milliseconds(1));
  const transport::PoolChain* pool = pub->raw().writer().pool();
  ASSERT_NE(pool, nullptr);
  absl::Time last_use;
  {
    // Three at once from 1 chunk: segments of 1, 1 (the class doubles to
    // 2) and 2 (to 4).
    std::vector<Loan<msgs::Image>> held;
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<Loan<msgs::Image>> loan = pub->Loan(50000);
      ASSERT_TRUE(loan.ok()) << i << ": " << loan.status();
      held.push_back(*std::move(loan));
    }
    EXPECT_EQ(pool->Stats().segments, 3u);
    EXPECT_EQ(pool->Stats().chunks, 4u);
    last_use = absl::Now();
  }  // all dropped unpublished
  // No further call: the grown segments go once free for 1 ms.
  ASSERT_TRUE(::ringcast::testing::WaitUntil([&] { return pool->Stats().segments == 1; }))
      << pool->Stats().segments << " segments";
  EXPECT_GE(absl::Now() - last_use, absl::Milliseconds(1)) << "released before the idle time";
  EXPECT_EQ(pool->Stats().chunks, 1u);
  ASSERT_TRUE(pub->Loan(50000).ok());
  pub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

// Inline loans: the first is built in the publisher's own buffer, one
// taken while it is out gets a buffer of its own; both publish in the
// order published, a dropped one frees the buffer for the next, and a
// closed publisher refuses to loan, naming its topic.
TEST(TypedTest, InlineLoansAtOnceAndAfterCloseBehave) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "n");
  ASSERT_TRUE(node.ok());
  absl::StatusOr<Subscriber<msgs::String>> sub =
      node->CreateSubscriber<msgs::String>("/inline", Qos().set_depth(8));
  absl::StatusOr<Publisher<msgs::String>> pub =
      node->CreatePublisher<msgs::String>("/inline", Qos().set_depth(8));
  ASSERT_TRUE(sub.ok() && pub.ok());
  {
    absl::StatusOr<Loan<msgs::String>> first = pub->Loan();
    absl::StatusOr<Loan<msgs::String>> second = pub->Loan();
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_NE(first->capacity(), 0u);
    EXPECT_FALSE(first->pooled() || second->pooled());
    ASSERT_TRUE((*first)->set_data("one").ok());
    ASSERT_TRUE((*second)->set_data("two").ok());
    EXPECT_EQ(first->size(), 8u + 3u);  // the head, then the text
    ASSERT_TRUE(pub->Publish(std::move(*second)).ok());
    ASSERT_TRUE(pub->Publish(std::move(*first)).ok());
  }
  {
    absl::StatusOr<Loan<msgs::String>> dropped = pub->Loan();
    ASSERT_TRUE(dropped.ok());
    ASSERT_TRUE((*dropped)->set_data("never sent").ok());
  }  // dropped unpublished: the buffer is free again, the head zeroed anew
  {
    absl::StatusOr<Loan<msgs::String>> third = pub->Loan();
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(third->size(), 8u) << "a new loan starts from an empty message";
    ASSERT_TRUE((*third)->set_data("three").ok());
    ASSERT_TRUE(pub->Publish(std::move(*third)).ok());
  }
  for (const char* want : {"two", "one", "three"}) {
    absl::StatusOr<std::optional<Sample<msgs::String>>> s = sub->Take();
    ASSERT_TRUE(s.ok() && s->has_value()) << want;
    EXPECT_EQ((**s)->data(), want);
  }
  absl::StatusOr<std::optional<Sample<msgs::String>>> none = sub->Take();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()) << "the dropped loan was published";

  absl::StatusOr<Loan<msgs::String>> open = pub->Loan();
  ASSERT_TRUE(open.ok());
  pub->Close();
  EXPECT_THAT(pub->Publish(std::move(*open)).message(), HasSubstr("/inline is closed"));
  open = absl::CancelledError("dropped");  // refused, so still ours: a loan never outlives its
                                           // publisher
  absl::StatusOr<Loan<msgs::String>> late = pub->Loan();
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(late.status().message(), HasSubstr("publisher on /inline is closed"));
  sub->Close();
  EXPECT_THAT(sub->Take().status().message(), HasSubstr("subscriber on /inline is closed"));
  sub = absl::CancelledError("closed");
  pub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

TEST(TypedTest, HeldSampleLimitIsAnErrorNamingTheLimit) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "n");
  ASSERT_TRUE(node.ok());
  const Qos qos = Qos().set_max_message_size(4096).set_max_held_samples(2);
  absl::StatusOr<Subscriber<msgs::String>> sub = node->CreateSubscriber<msgs::String>("/held", qos);
  absl::StatusOr<Publisher<msgs::String>> pub = node->CreatePublisher<msgs::String>("/held", qos);
  ASSERT_TRUE(sub.ok() && pub.ok());
  ringcast::msgs::String m;
  m.set_data(std::string(500, 'h'));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pub->Publish(m).ok());
  absl::StatusOr<std::optional<Sample<msgs::String>>> a = sub->Take(), b = sub->Take();
  ASSERT_TRUE(a.ok() && b.ok() && *a && *b);
  absl::StatusOr<std::optional<Sample<msgs::String>>> c = sub->Take();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("max_held_samples"));
  EXPECT_THAT(c.status().message(), HasSubstr("holds 2 pooled samples"));
  a->reset();  // release one: the third arrives
  c = sub->Take();
  ASSERT_TRUE(c.ok() && *c) << c.status();
  sub = absl::CancelledError("closed");
  pub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

// A publisher writing bytes that are not a valid String (a reference past
// the end): the subscriber gets a DataLoss error for that sample, counted,
// and the next good sample still arrives.
TEST(TypedTest, CorruptPooledBufferIsAnErrorForThatSampleAndTheNextArrives) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "n");
  ASSERT_TRUE(node.ok());
  const Qos qos = Qos().set_max_message_size(4096);
  absl::StatusOr<Subscriber<msgs::String>> sub = node->CreateSubscriber<msgs::String>("/bad", qos);
  absl::StatusOr<Publisher<msgs::String>> pub = node->CreatePublisher<msgs::String>("/bad", qos);
  ASSERT_TRUE(sub.ok() && pub.ok());
  // Head: data's Ref {offset 8, count 4000} in a 1000-byte buffer.
  std::vector<std::byte> bad(1000);
  const std::uint32_t ref[2] = {8, 4000};
  std::memcpy(bad.data(), ref, sizeof ref);
  ASSERT_TRUE(pub->raw().Publish(bad).ok());
  ringcast::msgs::String good;
  good.set_data(std::string(200, 'g'));
  ASSERT_TRUE(pub->Publish(good).ok());
  absl::StatusOr<std::optional<Sample<msgs::String>>> s = sub->Take();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("is not a valid ringcast.msgs.String"));
  EXPECT_THAT(s.status().message(), HasSubstr("sample 0"));
  s = sub->Take();
  ASSERT_TRUE(s.ok() && *s) << s.status();
  EXPECT_EQ((**s)->data(), good.data());
  s = absl::CancelledError("released");
  sub = absl::CancelledError("closed");
  pub = absl::CancelledError("closed");
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

// A container's /dev/shm is 64 MiB unless told otherwise: a domain's
// registry and twenty small topics at default QoS, each with a publisher,
// a subscriber and a sample, take less than half of it.
TEST(FootprintTest, RegistryAndTwentySmallTopicsAtDefaultQosFitInHalfOf64MiB) {
  const Context ctx = TestContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "footprint");
  ASSERT_TRUE(node.ok()) << node.status();
  std::vector<Publisher<msgs::String>> pubs;
  std::vector<Subscriber<msgs::String>> subs;
  ringcast::msgs::String hello;
  hello.set_data("hello");
  for (int i = 0; i < 20; ++i) {
    const std::string topic = absl::StrFormat("/footprint/t%d", i);
    absl::StatusOr<Publisher<msgs::String>> pub = node->CreatePublisher<msgs::String>(topic);
    ASSERT_TRUE(pub.ok()) << pub.status();
    absl::StatusOr<Subscriber<msgs::String>> sub = node->CreateSubscriber<msgs::String>(topic);
    ASSERT_TRUE(sub.ok()) << sub.status();
    ASSERT_TRUE(pub->Publish(hello).ok());
    pubs.push_back(*std::move(pub));
    subs.push_back(*std::move(sub));
  }
  const transport::SpaceUsage used = transport::MeasureSpace(ctx.shm());
  EXPECT_GE(used.domain_files, 21u);  // the registry, 20 topics (and pools, liveness files)
  EXPECT_LE(used.domain_bytes, std::uint64_t{32} << 20)
      << used.domain_bytes << " bytes in " << used.domain_files << " files, the largest "
      << used.largest << " with " << used.largest_bytes;
  std::printf("registry and 20 small topics: %lu bytes in %lu files (largest %s, %lu)\n",
              used.domain_bytes, used.domain_files, used.largest.c_str(), used.largest_bytes);
  subs.clear();
  pubs.clear();
  node = absl::CancelledError("closed");
  ExpectNothingLeft(ctx);
}

}  // namespace
}  // namespace ringcast
