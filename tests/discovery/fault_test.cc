// kill -9 at every named fault-injection point (transport/fault.h): a child
// is armed at one point and runs an operation that passes it; it dies by
// SIGKILL exactly there. Then the survivors must keep going within 1 s, the
// next claimer (or doctor --clean) must free what the dead process held,
// and /dev/shm must hold only live segments once everyone has left.
//
// Links the *_faults variants of the libraries, the only ones with the
// points compiled in.
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "discovery/orphans.h"
#include "discovery/registry.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "tests/transport/ring_test_util.h"
#include "transport/fault.h"
#include "transport/liveness.h"
#include "transport/pool.h"
#include "transport/pool_chain.h"
#include "transport/reader.h"
#include "transport/segment.h"
#include "transport/status_macros.h"
#include "transport/writer.h"

namespace ringcast::discovery {
namespace {

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::KillChild;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::RunInChild;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::UniqueOptions;
using transport::ArmFaultPoint;
using transport::Reader;
using transport::SampleInfo;
using transport::ShmOptions;
using transport::TopicConfig;
using transport::Writer;
using transport::test::Payload;
using transport::test::TagOf;

constexpr int kKilled = 128 + SIGKILL;
constexpr char kTopic[] = "/faults";
// Survivors and the next claimer must get on within this.
constexpr absl::Duration kRecovery = absl::Seconds(1);

// One ring and one subscriber entry: a second claimer can only get the
// entry the dead process held. Pooled, so loans and held chunks exist.
TopicConfig Config() {
  TopicConfig c;
  c.type_name = "test.Faults";
  c.depth = 16;
  c.inline_capacity = 48;
  c.max_publishers = 1;
  c.max_subscribers = 1;
  c.max_held_samples = 2;
  c.max_message_size = 4096;
  return c;
}

// Runs `body` in a child armed at `point` (firing at its pass+1-th hit).
// Returns the child's exit: kKilled when it died at the point.
int RunArmed(const char* point, std::uint32_t pass, const std::function<int()>& body) {
  return RunInChild([&] {
    if (!ArmFaultPoint(point, pass)) return 90;
    return body();
  }, absl::Seconds(20));
}

// Arms `point` from inside an operation, once its set-up is done.
bool Arm(const char* point) { return ArmFaultPoint(point); }

// The time `fn` takes; fails the test if it does not succeed.
template <typename Fn>
absl::Duration Timed(Fn&& fn) {
  const absl::Time start = absl::Now();
  EXPECT_TRUE(fn());
  return absl::Now() - start;
}

// The next publisher: it must get the ring within kRecovery.
std::optional<Writer> NextWriter(const ShmOptions& o, const TopicConfig& c) {
  const absl::Time start = absl::Now();
  absl::StatusOr<Writer> w = Writer::Create(o, kTopic, c);
  EXPECT_LT(absl::Now() - start, kRecovery);
  if (!w.ok()) {
    ADD_FAILURE() << w.status();
    return std::nullopt;
  }
  return *std::move(w);
}

// After everyone has left and doctor --clean has run, nothing of the
// domain may be left.
void ExpectNothingLeft(const ShmOptions& o) {
  const OrphanReport after = FindOrphans(o, /*clean=*/true);
  EXPECT_TRUE(after.errors.empty()) << after.errors[0];
  transport::ReleaseProcessTokens();  // our own liveness file, as at exit
  const std::vector<std::string> left = FilesWithPrefix(kShmDir, o.prefix + ".");
  EXPECT_TRUE(left.empty()) << left.size() << " files left, first " << left[0];
}

// Reads every sample that arrives within `quiet` of the last one.
std::vector<SampleInfo> Drain(Reader& r, absl::Duration quiet = absl::Milliseconds(200)) {
  std::vector<SampleInfo> got;
  std::vector<std::byte> bytes;
  SampleInfo info;
  while (r.Wait(quiet).ok()) {
    absl::StatusOr<bool> took = r.Take(&bytes, &info);
    if (!took.ok() || !*took) break;
    EXPECT_EQ(TagOf(bytes), info.sequence) << "a torn or foreign sample was delivered";
    got.push_back(info);
  }
  return got;
}

// --- Scenarios, one per point; each asserts what must hold afterwards. ---

// A topic creator killed while initialising its segment: the next one
// repairs the half-made segment and the topic works.
void CreatorKilled(const char* point) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  EXPECT_EQ(RunArmed(point, 0, [&] { return Writer::Create(o, kTopic, c).ok() ? 0 : 10; }),
            kKilled);
  std::optional<Writer> w = NextWriter(o, c);
  absl::StatusOr<Reader> r = Reader::Create(o, kTopic, c);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(w->Publish(Payload(w->next_sequence())).ok());
  EXPECT_EQ(Drain(*r).size(), 1u);
  r = absl::CancelledError("closed");
  w.reset();
  ExpectNothingLeft(o);
}

// A claimer killed mid-claim of the one ring (and of the one subscriber
// entry): the next claimer gets the entry within kRecovery.
void ClaimerKilled(const char* point) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  {
    absl::StatusOr<Reader> r = Reader::Create(o, kTopic, c);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(RunArmed(point, 0, [&] { return Writer::Create(o, kTopic, c).ok() ? 0 : 10; }),
              kKilled);
    std::optional<Writer> w = NextWriter(o, c);
    ASSERT_TRUE(w.has_value());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(w->Publish(Payload(w->next_sequence())).ok());
    EXPECT_EQ(Drain(*r).size(), 3u);
  }
  {
    absl::StatusOr<Writer> w = Writer::Create(o, kTopic, c);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(RunArmed(point, 0, [&] { return Reader::Create(o, kTopic, c).ok() ? 0 : 10; }),
              kKilled);
    EXPECT_LT(Timed([&] { return Reader::Create(o, kTopic, c).ok(); }), kRecovery);
  }
  ExpectNothingLeft(o);
}

// An owner killed in the middle of releasing its entry.
void ReleaserKilled(const char* point) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  absl::StatusOr<Reader> keep = Reader::Create(o, kTopic, c);  // keeps the topic
  ASSERT_TRUE(keep.ok()) << keep.status();
  EXPECT_EQ(RunArmed(point, 0, [&] {
              absl::StatusOr<Writer> w = Writer::Create(o, kTopic, c);
              if (!w.ok() || !Arm(point)) return 10;
              return 0;  // ~Writer releases the ring: dies there
            }),
            kKilled);
  EXPECT_LT(Timed([&] { return Writer::Create(o, kTopic, c).ok(); }), kRecovery);
  keep = absl::CancelledError("closed");
  ExpectNothingLeft(o);
}

// A reclaimer killed while taking over a dead subscriber that held two
// chunks: the next reclaimer finishes the job and every chunk comes back.
void ReclaimerKilled(const char* point) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  absl::StatusOr<Writer> w = Writer::Create(o, kTopic, c);
  ASSERT_TRUE(w.ok()) << w.status();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = StartChild([&] {
    absl::StatusOr<Reader> r = Reader::Create(o, kTopic, c);
    if (!r.ok()) return 10;
    char b = 's';
    if (::write(ready[1], &b, 1) != 1) return 11;
    std::vector<transport::Sample> held;
    while (held.size() < 2) {
      if (!r->Wait(absl::Seconds(10)).ok()) return 12;
      absl::StatusOr<std::optional<transport::Sample>> s = r->TakeSample();
      if (!s.ok()) return 13;
      if (*s) held.push_back(std::move(**s));
    }
    if (::write(ready[1], &b, 1) != 1) return 14;
    ::pause();
    return 0;
  });
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  const std::vector<std::byte> big(1000, std::byte{7});
  ASSERT_TRUE(w->Publish(big).ok());
  ASSERT_TRUE(w->Publish(big).ok());
  ASSERT_EQ(::read(ready[0], &b, 1), 1) << "the holder did not take both";
  KillChild(holder);
  // Overwrite the ring with inline samples: it drops its references, and
  // only the dead holder's two keep their chunks.
  for (std::uint32_t i = 0; i < c.depth; ++i) ASSERT_TRUE(w->Publish(Payload(i)).ok());
  const std::uint32_t total = w->pool()->chunk_count();
  EXPECT_EQ(w->pool()->CountFree(), total - 2) << "the dead holder's two";
  // Reader::Create reclaims the dead holder's entry before claiming.
  EXPECT_EQ(RunArmed(point, 0, [&] { return Reader::Create(o, kTopic, c).ok() ? 0 : 10; }),
            kKilled);
  EXPECT_LT(Timed([&] { return Reader::Create(o, kTopic, c).ok(); }), kRecovery);
  EXPECT_EQ(w->pool()->CountFree(), total) << "the dead holder's chunks came back";
  w = absl::CancelledError("closed");
  ::close(ready[0]);
  ::close(ready[1]);
  ExpectNothingLeft(o);
}

// A publisher killed between popping a chunk and handing out the loan.
void LoanerKilled(const char* point) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  absl::StatusOr<Reader> r = Reader::Create(o, kTopic, c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(RunArmed(point, 0, [&] {
              absl::StatusOr<Writer> w = Writer::Create(o, kTopic, c);
              return w.ok() && w->Loan(100).ok() ? 0 : 10;
            }),
            kKilled);
  std::optional<Writer> w = NextWriter(o, c);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->Publish(std::vector<std::byte>(1000)).ok());
  // The dead publisher's pool went with its ring: only ours is left (its
  // first segment, made by the publish).
  const std::string pools = absl::StrCat(o.prefix, ".0.p.");
  EXPECT_EQ(FilesWithPrefix(kShmDir, pools).size(), 1u);
  EXPECT_EQ(Drain(*r).size(), 1u);
  w.reset();
  r = absl::CancelledError("closed");
  ExpectNothingLeft(o);
}

// A publisher killed while its pool grows (a segment made, not yet
// recorded) or shrinks (a segment marked retired, or unlinked, not yet
// forgotten): the next publisher's claim removes every segment of the dead
// one's pool, and the subscriber goes on with the new publisher.
void PoolChangerKilled(const char* point) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  absl::StatusOr<Reader> r = Reader::Create(o, kTopic, c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(RunArmed(point, 1, [&] {
              transport::WriterOptions wo;
              wo.pool.initial_chunks = 1;
              wo.pool.idle = absl::Milliseconds(1);
              absl::StatusOr<Writer> w = Writer::Create(o, kTopic, c, wo);
              if (!w.ok()) return 10;
              // Three loans at once grow the pool; dropped and left idle,
              // its later segments go (the keeper's thread releases them).
              // Bounded: the point fires long before.
              for (int round = 0; round < 2000; ++round) {
                std::vector<transport::ChunkLoan> loans;
                for (int k = 0; k < 3; ++k) {
                  absl::StatusOr<transport::ChunkLoan> loan = w->Loan(1000);
                  if (!loan.ok()) return 11;
                  loans.push_back(*std::move(loan));
                }
                loans.clear();
                absl::SleepFor(absl::Milliseconds(3));
              }
              return 12;
            }),
            kKilled);
  std::optional<Writer> w = NextWriter(o, c);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE(w->Publish(std::vector<std::byte>(1000)).ok());
  const std::string pools = absl::StrCat(o.prefix, ".0.p.");
  EXPECT_EQ(FilesWithPrefix(kShmDir, pools).size(), 1u) << "only our pool's first segment";
  EXPECT_EQ(Drain(*r).size(), 1u);
  w.reset();
  r = absl::CancelledError("closed");
  ExpectNothingLeft(o);
}

// A publisher killed in the middle of its sixth publish: the subscriber
// gets the complete samples, never a torn one, and the next publisher on
// the ring continues after them without reusing a sequence.
void PublisherKilled(const char* point) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  absl::StatusOr<Reader> r = Reader::Create(o, kTopic, c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(RunArmed(point, 5, [&] {
              absl::StatusOr<Writer> w = Writer::Create(o, kTopic, c);
              if (!w.ok()) return 10;
              for (int i = 0; i < 10; ++i) (void)w->Publish(Payload(w->next_sequence()));
              return 0;
            }),
            kKilled);
  const std::vector<SampleInfo> first = Drain(*r);
  ASSERT_GE(first.size(), 5u);
  ASSERT_LE(first.size(), 6u);  // the sixth is complete once committed
  std::optional<Writer> w = NextWriter(o, c);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->next_sequence(), first.back().sequence + 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(w->Publish(Payload(w->next_sequence())).ok());
  const std::vector<SampleInfo> second = Drain(*r);
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(second[0].sequence, first.back().sequence + 1);
  EXPECT_EQ(second[0].lost_before, 0u);
  EXPECT_EQ(r->lost(), 0u);
  w.reset();
  r = absl::CancelledError("closed");
  ExpectNothingLeft(o);
}

// A subscriber killed between referencing a chunk and recording it, or
// between clearing its record and returning the chunk: its entry is
// reclaimed by the next subscriber, and the publisher goes on loaning.
void TakerKilled(const char* point) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  absl::StatusOr<Writer> w = Writer::Create(o, kTopic, c);
  ASSERT_TRUE(w.ok()) << w.status();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t taker = StartChild([&] {
    absl::StatusOr<Reader> r = Reader::Create(o, kTopic, c);
    if (!r.ok() || !Arm(point)) return 10;
    char b = 'r';
    if (::write(ready[1], &b, 1) != 1) return 11;
    for (;;) {
      if (!r->Wait(absl::Seconds(10)).ok()) return 12;
      absl::StatusOr<std::optional<transport::Sample>> s = r->TakeSample();
      if (!s.ok()) return 13;  // dropping the sample releases its chunk
    }
  });
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  ASSERT_TRUE(w->Publish(std::vector<std::byte>(1000)).ok());
  EXPECT_EQ(testing::WaitChild(taker, absl::Seconds(20)), kKilled);
  EXPECT_LT(Timed([&] { return Reader::Create(o, kTopic, c).ok(); }), kRecovery);
  // At most the one chunk in flight at the kill stays referenced; the pool
  // never runs dry for the publisher.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(w->Publish(std::vector<std::byte>(1000)).ok()) << i;
  EXPECT_LE(w->pool()->chunk_count() - w->pool()->CountFree(), c.depth + 1);
  w = absl::CancelledError("closed");
  ::close(ready[0]);
  ::close(ready[1]);
  ExpectNothingLeft(o);
}

using Scenario = void (*)(const char*);
const std::map<std::string, Scenario>& Scenarios() {
  static const auto* m = new std::map<std::string, Scenario>{
      {"segment.init.allocated", CreatorKilled},
      {"segment.init.written", CreatorKilled},
      {"entry.claim.token", ClaimerKilled},
      {"entry.claim.state", ClaimerKilled},
      {"entry.claim.written", ClaimerKilled},
      {"entry.release.state", ReleaserKilled},
      {"entry.takeover.token", ReclaimerKilled},
      {"entry.takeover.cleaned", ReclaimerKilled},
      {"entry.takeover.state", ReclaimerKilled},
      {"pool.loan.allocated", LoanerKilled},
      {"pool.grow.created", PoolChangerKilled},
      {"pool.shrink.retired", PoolChangerKilled},
      {"pool.shrink.unlinked", PoolChangerKilled},
      {"publish.slot.odd", PublisherKilled},
      {"publish.committed", PublisherKilled},
      {"reader.take.acquired", TakerKilled},
      {"reader.release.cleared", TakerKilled},
  };
  return *m;
}

class TransportFaultTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TransportFaultTest, KillNineHereLeavesNothingStuck) {
  ASSERT_TRUE(transport::FaultPointsCompiledIn());
  auto it = Scenarios().find(GetParam());
  ASSERT_NE(it, Scenarios().end()) << "fault point " << GetParam() << " has no scenario";
  it->second(GetParam());
}

INSTANTIATE_TEST_SUITE_P(EveryPoint, TransportFaultTest,
                         ::testing::ValuesIn(transport::kFaultPoints.begin(),
                                             transport::kFaultPoints.end()),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (ch == '.') ch = '_';
                           }
                           return name;
                         });

// The registry's entries live by the same state machine: a node killed at
// each point of claiming, releasing and reclaiming a node entry leaves an
// entry the next node to join (with room for one node) gets within 1 s.
class RegistryFaultTest : public ::testing::TestWithParam<const char*> {};

RegistryConfig OneNode() {
  RegistryConfig rc;
  rc.max_nodes = 1;
  rc.max_endpoints = 4;
  rc.max_types = 2;
  return rc;
}

// A node's registration, made and dropped with the registry alone the way
// core's ringcast::Node does it (core is built only on the non-fault
// libraries, so this binary cannot link it).
struct JoinedNode {
  Registry registry;
  EntryHandle entry;
};

// What Node::Create does: join (or create) the registry, reclaim what dead
// processes left there, claim a node entry.
absl::StatusOr<JoinedNode> JoinAsNode(const ShmOptions& o, absl::string_view name) {
  absl::StatusOr<ProcessIdentity> me = ProcessIdentity::Self(o);
  if (!me.ok()) return me.status();
  absl::StatusOr<Registry> registry = Registry::OpenOrCreate(o, OneNode());
  if (!registry.ok()) return registry.status();
  registry->ReclaimDead();
  absl::StatusOr<EntryHandle> entry = registry->AddNode(name, *me);
  if (!entry.ok()) {
    registry->Leave();
    return entry.status();
  }
  return JoinedNode{*std::move(registry), *entry};
}

// What dropping the Node does: release its entry, then leave the registry.
void LeaveAsNode(JoinedNode& node) {
  node.registry.RemoveNode(node.entry);
  node.registry.Leave();
}

// Joins as node `name` and, unless killed on the way, leaves again: 0, or
// 10 if joining failed.
int JoinAndLeave(const ShmOptions& o, absl::string_view name) {
  absl::StatusOr<JoinedNode> n = JoinAsNode(o, name);
  if (!n.ok()) return 10;
  LeaveAsNode(*n);
  return 0;
}

TEST_P(RegistryFaultTest, KillNineHereLeavesNoEntryStuck) {
  const std::string point = GetParam();
  const ShmOptions o = UniqueOptions();
  // A live participant keeps the registry (and so the stuck entry) alive.
  absl::StatusOr<Registry> keep = Registry::OpenOrCreate(o, OneNode());
  ASSERT_TRUE(keep.ok()) << keep.status();
  if (point.rfind("entry.takeover.", 0) == 0) {
    // A node that dies holding its entry, then a reclaimer killed taking
    // it over.
    const pid_t dead = StartChild([&] {
      absl::StatusOr<JoinedNode> n = JoinAsNode(o, "victim");
      if (!n.ok()) { fprintf(stderr, "victim: %s\n", n.status().ToString().c_str()); return 10; }
      ::pause();
      return 0;
    });
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (keep->Read().nodes.empty() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_EQ(keep->Read().nodes.size(), 1u) << "the victim did not register";
    KillChild(dead);
    EXPECT_EQ(RunArmed(point.c_str(), 0, [&] { return JoinAndLeave(o, "r"); }), kKilled);
  } else if (point == "entry.release.state") {
    EXPECT_EQ(RunArmed(point.c_str(), 0, [&] {
                absl::StatusOr<JoinedNode> n = JoinAsNode(o, "leaver");
                if (!n.ok() || !Arm(point.c_str())) return 10;
                LeaveAsNode(*n);  // releases the entry: dies there
                return 0;
              }),
              kKilled);
  } else {
    EXPECT_EQ(RunArmed(point.c_str(), 0, [&] { return JoinAndLeave(o, "claimer"); }), kKilled);
  }
  std::optional<JoinedNode> node;
  EXPECT_LT(Timed([&] {
              absl::StatusOr<JoinedNode> n = JoinAsNode(o, "next");
              if (!n.ok()) ADD_FAILURE() << n.status();
              if (n.ok()) node.emplace(*std::move(n));
              return n.ok();
            }),
            kRecovery);
  if (node) LeaveAsNode(*node);
  node.reset();
  EXPECT_TRUE(keep->Leave());
  keep = absl::CancelledError("closed");
  ExpectNothingLeft(o);
}

INSTANTIATE_TEST_SUITE_P(EntryPoints, RegistryFaultTest,
                         ::testing::Values("entry.claim.token", "entry.claim.state",
                                           "entry.claim.written", "entry.release.state",
                                           "entry.takeover.token", "entry.takeover.cleaned",
                                           "entry.takeover.state"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (ch == '.') ch = '_';
                           }
                           return name;
                         });

// A claimer killed between its claiming CAS and its activation (right
// after the CAS, or with the fields written), in the endpoint and type
// tables (node entries: RegistryFaultTest above). The entry stays Claiming
// under the dead claimer's token: no listing shows it, a reclaimer reports
// it stuck and frees it, and the next claimer of that one-entry table gets
// it within kRecovery.
class RegistryClaimingTest
    : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(RegistryClaimingTest, ClaimerKilledBeforeActivationLeavesAReclaimableEntry) {
  const std::string point = std::get<0>(GetParam());
  const std::string table = std::get<1>(GetParam());
  const ShmOptions o = UniqueOptions();
  RegistryConfig rc;
  rc.max_nodes = 1;
  rc.max_endpoints = 1;
  rc.max_types = 1;
  absl::StatusOr<Registry> keep = Registry::OpenOrCreate(o, rc);
  ASSERT_TRUE(keep.ok()) << keep.status();
  absl::StatusOr<ProcessIdentity> me = ProcessIdentity::Self(o);
  ASSERT_TRUE(me.ok()) << me.status();
  absl::StatusOr<EntryHandle> node = keep->AddNode("keeper", *me);
  ASSERT_TRUE(node.ok()) << node.status();
  // Claims the table's one entry for `who`.
  auto add = [&](Registry& r, const ProcessIdentity& who) -> absl::StatusOr<EntryHandle> {
    if (table == "endpoint") {
      EndpointSpec spec;
      spec.topic = "/claiming";
      spec.type_name = "test.Claiming";
      return r.AddEndpoint(*node, spec, who);
    }
    RINGCAST_RETURN_IF_ERROR(r.AddType("test.Claiming", 42, "descriptor", who));
    return EntryHandle{};
  };
  EXPECT_EQ(RunArmed(point.c_str(), 0, [&] {
              absl::StatusOr<ProcessIdentity> child = ProcessIdentity::Self(o);
              absl::StatusOr<Registry> r = Registry::Open(o);
              if (!child.ok() || !r.ok()) return 10;
              return add(*r, *child).ok() ? 0 : 11;  // dies inside the claim
            }),
            kKilled);

  const RegistrySnapshot before = keep->Read();
  EXPECT_TRUE(before.endpoints.empty() && before.types.empty()) << "a Claiming entry was listed";
  const ReclaimReport look = keep->ReclaimDead(/*dry_run=*/true);
  ASSERT_EQ(look.stuck_entries.size(), 1u);
  EXPECT_EQ(look.stuck_entries[0], absl::StrCat(table, " entry 0: claiming, its holder is dead"));
  // The table is full, so the claim reclaims the stuck entry first.
  absl::StatusOr<EntryHandle> mine;
  EXPECT_LT(Timed([&] {
              mine = add(*keep, *me);
              return mine.ok();
            }),
            kRecovery)
      << mine.status();
  const RegistrySnapshot after = keep->Read();
  EXPECT_EQ(after.endpoints.size() + after.types.size(), 1u);
  EXPECT_TRUE(keep->ReclaimDead(/*dry_run=*/true).stuck_entries.empty());

  if (table == "endpoint" && mine.ok()) keep->RemoveEndpoint(*mine);
  keep->RemoveNode(*node);
  EXPECT_TRUE(keep->Leave());
  keep = absl::CancelledError("closed");
  ExpectNothingLeft(o);
}

INSTANTIATE_TEST_SUITE_P(
    ClaimToActivate, RegistryClaimingTest,
    ::testing::Combine(::testing::Values("entry.claim.state", "entry.claim.written"),
                       ::testing::Values("endpoint", "type")),
    [](const ::testing::TestParamInfo<std::tuple<const char*, const char*>>& info) {
      std::string name = absl::StrCat(std::get<1>(info.param), "_", std::get<0>(info.param));
      for (char& ch : name) {
        if (ch == '.') ch = '_';
      }
      return name;
    });

// A creator killed during initialisation leaves a segment without magic.
// doctor lists it as half-made (not "could not check") once its grace has
// passed, and --clean removes it.
TEST(HalfMadeTest, DoctorListsAndCleansASegmentWhoseCreatorDied) {
  const ShmOptions o = UniqueOptions();
  EXPECT_EQ(RunArmed("segment.init.allocated", 0,
                     [&] { return Writer::Create(o, kTopic, Config()).ok() ? 0 : 10; }),
            kKilled);
  absl::SleepFor(transport::Segment::kHalfMadeGrace + absl::Milliseconds(100));
  const OrphanReport look = FindOrphans(o, /*clean=*/false);
  ASSERT_EQ(look.half_made.size(), 1u);
  EXPECT_TRUE(look.errors.empty()) << look.errors[0];
  EXPECT_EQ(FindOrphans(o, /*clean=*/true).half_made.size(), 1u);
  EXPECT_TRUE(FindOrphans(o, /*clean=*/false).empty());
  ExpectNothingLeft(o);
}

}  // namespace
}  // namespace ringcast::discovery
