// The registry on its own: layout pinned, entries round-trip, full tables
// and corrupt headers give clear errors, types are stored once, and 8
// processes registering at once neither lose nor duplicate an entry.
#include "discovery/registry.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"

namespace ringcast::discovery {
namespace {

using ::ringcast::testing::UniqueOptions;

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::WaitChild;
using ::testing::HasSubstr;

RegistryConfig Small() {
  RegistryConfig c;
  c.max_nodes = 16;
  c.max_endpoints = 64;
  c.max_types = 8;
  c.max_descriptor_size = 1024;
  return c;
}

EndpointSpec Spec(EndpointKind kind, const std::string& topic) {
  EndpointSpec s;
  s.kind = kind;
  s.topic = topic;
  s.type_name = "test.Thing";
  s.type_hash = 0x1234;
  s.qos.depth = 16;
  s.qos.reliable = true;
  s.qos.max_message_size = 4096;
  return s;
}

TEST(RegistryLayoutTest, VersionAndSizesArePinned) {
  // Any change here is a change of the shared-memory format: bump
  // kRegistryLayoutVersion and update this test together.
  EXPECT_EQ(internal::kRegistryLayoutVersion, 3u);
  EXPECT_EQ(sizeof(internal::RegistryHeader), 128u);
  EXPECT_EQ(sizeof(internal::NodeEntry), 256u);
  EXPECT_EQ(sizeof(internal::EndpointEntry), 512u);
  EXPECT_EQ(sizeof(internal::TypeEntry), 256u);
  EXPECT_EQ(internal::kTypeStride, 256u);
  EXPECT_EQ(internal::DescriptorStride(1000), 4096u);
  EXPECT_EQ(internal::DescriptorStride(16384), 16384u);
  EXPECT_EQ(RegistrySegmentName(UniqueOptions()).find("/ringcast-t"), 0u);
}

TEST(RegistryTest, ConfigOutOfRangeNamesTheField) {
  RegistryConfig c;
  c.max_endpoints = 0;
  const absl::Status s = ValidateRegistryConfig(c);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), HasSubstr("max_endpoints = 0"));
}

TEST(RegistryTest, NodesEndpointsAndTypesRoundTrip) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o, Small());
  ASSERT_TRUE(reg.ok()) << reg.status();
  absl::StatusOr<ProcessIdentity> me = ProcessIdentity::Self(o);
  ASSERT_TRUE(me.ok()) << me.status();
  const std::uint32_t g0 = reg->generation();
  absl::StatusOr<EntryHandle> node = reg->AddNode("talker", *me);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_NE(reg->generation(), g0);
  absl::StatusOr<EntryHandle> ep = reg->AddEndpoint(*node, Spec(EndpointKind::kPublisher, "/a/b"), *me);
  ASSERT_TRUE(ep.ok()) << ep.status();
  reg->SetTransport(*ep, 3, 77);
  ASSERT_TRUE(reg->AddType("test.Thing", 0x1234, "descriptor\0bytes", *me).ok());

  RegistrySnapshot snap = reg->Read();
  ASSERT_EQ(snap.nodes.size(), 1u);
  EXPECT_EQ(snap.nodes[0].name, "talker");
  EXPECT_EQ(snap.nodes[0].owner.pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(snap.nodes[0].owner.token, me->token);
  EXPECT_EQ(snap.nodes[0].owner.start_time, me->start_time);
  EXPECT_EQ(snap.nodes[0].exe, me->exe);
  ASSERT_EQ(snap.endpoints.size(), 1u);
  const EndpointRecord& e = snap.endpoints[0];
  EXPECT_EQ(e.topic, "/a/b");
  EXPECT_EQ(e.type_name, "test.Thing");
  EXPECT_EQ(e.type_hash, 0x1234u);
  EXPECT_EQ(e.kind, EndpointKind::kPublisher);
  EXPECT_EQ(e.node_id, node->id);
  EXPECT_EQ(e.qos.depth, 16u);
  EXPECT_TRUE(e.qos.reliable);
  EXPECT_FALSE(e.qos.transient_local);
  EXPECT_EQ(e.qos.max_message_size, 4096u);
  EXPECT_EQ(e.transport_index, 3u);
  EXPECT_EQ(e.transport_id, 77u);
  ASSERT_EQ(snap.types.size(), 1u);
  EXPECT_EQ(snap.types[0].name, "test.Thing");
  EXPECT_EQ(snap.types[0].descriptor, "descriptor");  // a string_view of a literal stops at NUL

  // A second registration of the type is a no-op; a different hash is new.
  ASSERT_TRUE(reg->AddType("test.Thing", 0x1234, "other", *me).ok());
  ASSERT_TRUE(reg->AddType("test.Thing", 0x9999, std::string(1000, 'x'), *me).ok());
  snap = reg->Read();
  ASSERT_EQ(snap.types.size(), 2u);
  EXPECT_EQ(snap.types[1].descriptor, std::string(1000, 'x'));

  const absl::Status big = reg->AddType("test.Big", 1, std::string(1025, 'x'), *me);
  EXPECT_TRUE(absl::IsInvalidArgument(big)) << big;
  EXPECT_THAT(std::string(big.message()), HasSubstr("max_descriptor_size of 1024"));

  reg->RemoveEndpoint(*ep);
  reg->RemoveNode(*node);
  reg->RemoveNode(*node);  // twice is harmless: the epoch no longer matches
  snap = reg->Read();
  EXPECT_TRUE(snap.nodes.empty());
  EXPECT_TRUE(snap.endpoints.empty());
  EXPECT_TRUE(reg->Leave());
}

// Bytes of /dev/shm the file at `path` holds (allocated blocks, not its length).
std::uint64_t Resident(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_blocks) * 512 : 0;
}

TEST(RegistryTest, DefaultRegistryHoldsUnderOneMebibyteAndDescriptorsTakePagesAsTheyArrive) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o, RegistryConfig{});
  ASSERT_TRUE(reg.ok()) << reg.status();
  const std::string path = std::string(o.dir) + RegistrySegmentName(o);
  const std::uint64_t empty = Resident(path);
  EXPECT_GT(empty, 0u);
  EXPECT_LE(empty, std::uint64_t{1} << 20) << "the default registry holds " << empty << " bytes";
  // The file is as long as every descriptor slot, but those are holes.
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_GT(static_cast<std::uint64_t>(st.st_size), std::uint64_t{8} << 20);

  const ProcessIdentity me = *ProcessIdentity::Self(o);
  const std::string d1(3000, 'a'), d2(5000, 'b');
  ASSERT_TRUE(reg->AddType("test.One", 1, d1, me).ok());
  EXPECT_EQ(Resident(path), empty + 4096) << "a 3000-byte descriptor takes one page";
  ASSERT_TRUE(reg->AddType("test.Two", 2, d2, me).ok());
  EXPECT_EQ(Resident(path), empty + 3 * 4096) << "a 5000-byte descriptor takes two";
  // Another process reads them back through its own mapping.
  absl::StatusOr<Registry> other = Registry::Observe(o);
  ASSERT_TRUE(other.ok()) << other.status();
  const RegistrySnapshot snap = other->Read();
  ASSERT_EQ(snap.types.size(), 2u);
  EXPECT_EQ(snap.types[0].descriptor, d1);
  EXPECT_EQ(snap.types[1].descriptor, d2);
  EXPECT_EQ(Resident(path), empty + 3 * 4096) << "reading allocates nothing";
  EXPECT_TRUE(reg->Leave());
}

TEST(RegistryTest, BadNamesAreRejectedWithTheRule) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o, Small());
  ASSERT_TRUE(reg.ok()) << reg.status();
  const ProcessIdentity me = *ProcessIdentity::Self(o);
  const absl::Status bad_node = reg->AddNode("9lives", me).status();
  EXPECT_TRUE(absl::IsInvalidArgument(bad_node));
  EXPECT_THAT(std::string(bad_node.message()), HasSubstr("[A-Za-z0-9_]"));
  const EntryHandle node = *reg->AddNode("n", me);
  const absl::Status bad_topic =
      reg->AddEndpoint(node, Spec(EndpointKind::kPublisher, "no/slash"), me).status();
  EXPECT_TRUE(absl::IsInvalidArgument(bad_topic));
  EXPECT_THAT(std::string(bad_topic.message()), HasSubstr("no/slash"));
  reg->RemoveNode(node);
  EXPECT_TRUE(reg->Leave());
}

TEST(RegistryTest, FullTablesNameTheCapacityAndHowToRaiseIt) {
  const transport::ShmOptions o = UniqueOptions();
  RegistryConfig c = Small();
  c.max_nodes = 2;
  c.max_endpoints = 3;
  absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o, c);
  ASSERT_TRUE(reg.ok()) << reg.status();
  const ProcessIdentity me = *ProcessIdentity::Self(o);
  const EntryHandle n1 = *reg->AddNode("a", me);
  const EntryHandle n2 = *reg->AddNode("b", me);
  const absl::Status full_nodes = reg->AddNode("c", me).status();
  EXPECT_TRUE(absl::IsResourceExhausted(full_nodes)) << full_nodes;
  EXPECT_THAT(std::string(full_nodes.message()), HasSubstr("all 2 node entries"));
  EXPECT_THAT(std::string(full_nodes.message()), HasSubstr("raise RegistryConfig::max_nodes"));
  std::vector<EntryHandle> eps;
  for (int i = 0; i < 3; ++i) {
    eps.push_back(*reg->AddEndpoint(n1, Spec(EndpointKind::kSubscriber, "/t"), me));
  }
  const absl::Status full = reg->AddEndpoint(n1, Spec(EndpointKind::kSubscriber, "/t"), me).status();
  EXPECT_TRUE(absl::IsResourceExhausted(full)) << full;
  EXPECT_THAT(std::string(full.message()), HasSubstr("all 3 endpoint entries"));
  EXPECT_THAT(std::string(full.message()), HasSubstr("raise RegistryConfig::max_endpoints"));
  // A freed entry is reusable.
  reg->RemoveEndpoint(eps[1]);
  EXPECT_TRUE(reg->AddEndpoint(n2, Spec(EndpointKind::kSubscriber, "/t"), me).ok());
  reg->RemoveNode(n1);
  reg->RemoveNode(n2);
  EXPECT_TRUE(reg->Leave());
}

// Overwrites `len` bytes at `offset` of the registry file.
void Scribble(const transport::ShmOptions& o, std::size_t offset, const void* bytes,
              std::size_t len) {
  const std::string path = absl::StrCat(o.dir, RegistrySegmentName(o));
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes, len, static_cast<off_t>(offset)), static_cast<ssize_t>(len));
  ::close(fd);
}

TEST(RegistryTest, CorruptHeaderIsAnErrorNotACrash) {
  const transport::ShmOptions o = UniqueOptions();
  {
    absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o, Small());
    ASSERT_TRUE(reg.ok()) << reg.status();
  }  // unmapped, not unlinked
  const std::size_t h = sizeof(transport::SegmentHeader);
  // Table sizes out of range.
  const std::uint32_t huge = 0xffffffffu;
  Scribble(o, h + offsetof(internal::RegistryHeader, max_endpoints), &huge, sizeof huge);
  absl::StatusOr<Registry> r1 = Registry::Open(o);
  EXPECT_TRUE(absl::IsDataLoss(r1.status())) << r1.status();
  EXPECT_THAT(std::string(r1.status().message()), HasSubstr("corrupt"));
  // Sizes in range but tables pointing past the end.
  const std::uint32_t ok = 64;
  Scribble(o, h + offsetof(internal::RegistryHeader, max_endpoints), &ok, sizeof ok);
  const std::uint64_t far = std::uint64_t{1} << 40;
  Scribble(o, h + offsetof(internal::RegistryHeader, types_offset), &far, sizeof far);
  absl::StatusOr<Registry> r2 = Registry::Open(o);
  EXPECT_TRUE(absl::IsDataLoss(r2.status())) << r2.status();
  EXPECT_THAT(std::string(r2.status().message()), HasSubstr("do not fit"));
  // Another registry layout version.
  const std::uint32_t v = 99;
  Scribble(o, h + offsetof(internal::RegistryHeader, registry_version), &v, sizeof v);
  absl::StatusOr<Registry> r3 = Registry::Open(o);
  EXPECT_TRUE(absl::IsFailedPrecondition(r3.status())) << r3.status();
  EXPECT_THAT(std::string(r3.status().message()), HasSubstr("version 99"));
  // A wrong magic.
  const std::uint64_t magic = 0x0123456789abcdef;
  Scribble(o, 0, &magic, sizeof magic);
  absl::StatusOr<Registry> r4 = Registry::Open(o);
  EXPECT_TRUE(absl::IsDataLoss(r4.status())) << r4.status();
  EXPECT_THAT(std::string(r4.status().message()), HasSubstr("magic"));
  EXPECT_TRUE(transport::Segment::Unlink(o, RegistrySegmentName(o)).ok());
}

TEST(RegistryTest, OpenWithoutRegistryIsNotFound) {
  const absl::StatusOr<Registry> r = Registry::Open(UniqueOptions());
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no registry in domain 0"));
}

double ThreadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

TEST(RegistryTest, WatcherWakesOnChangeAndSleepsWhileIdle) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o, Small());
  ASSERT_TRUE(reg.ok()) << reg.status();
  const ProcessIdentity me = *ProcessIdentity::Self(o);
  const std::uint32_t seen = reg->generation();
  std::atomic<bool> woke{false};
  double cpu = -1;
  absl::Duration waited;
  absl::Status wait_status;
  std::thread watcher([&] {
    const double cpu0 = ThreadCpuSeconds();
    const absl::Time t0 = absl::Now();
    wait_status = reg->WaitForChange(seen, absl::Seconds(60));
    waited = absl::Now() - t0;
    cpu = ThreadCpuSeconds() - cpu0;
    woke.store(true);
  });
  // Idle for a while: the watcher must be asleep, not spinning.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_FALSE(woke.load());
  const EntryHandle n = *reg->AddNode("waker", me);
  watcher.join();
  EXPECT_TRUE(wait_status.ok()) << wait_status;
  EXPECT_LT(waited, absl::Seconds(30)) << "the wake-up must come from the change";
  // A spinning watcher would have burnt ~0.5 s of CPU; a sleeping one
  // burns microseconds. 100 ms leaves room for a loaded machine.
  EXPECT_LT(cpu, 0.1) << "watcher used " << cpu << " s of CPU while idle";
  // And a wait with no change times out.
  const absl::Status idle = reg->WaitForChange(reg->generation(), absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(idle)) << idle;
  reg->RemoveNode(n);
  EXPECT_TRUE(reg->Leave());
}

TEST(RegistryTest, EightProcessesRegisterEightHundredEndpointsConcurrently) {
  const transport::ShmOptions o = UniqueOptions();
  RegistryConfig c;  // the defaults: 256 nodes, 1024 endpoints
  absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o, c);
  ASSERT_TRUE(reg.ok()) << reg.status();
  constexpr int kProcs = 8, kEach = 100;
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  std::vector<pid_t> children;
  for (int k = 0; k < kProcs; ++k) {
    children.push_back(StartChild([&, k] {
      ::close(ready[0]);
      ::close(release[1]);
      absl::StatusOr<Registry> r = Registry::OpenOrCreate(o, c);
      if (!r.ok()) return 10;
      absl::StatusOr<ProcessIdentity> me = ProcessIdentity::Self(o);
      if (!me.ok()) return 11;
      absl::StatusOr<EntryHandle> node = r->AddNode(absl::StrCat("proc", k), *me);
      if (!node.ok()) return 12;
      for (int i = 0; i < kEach; ++i) {
        const std::string topic = absl::StrCat("/stress/p", k, "/e", i);
        if (!r->AddEndpoint(*node, Spec(i % 2 ? EndpointKind::kSubscriber
                                              : EndpointKind::kPublisher, topic), *me)
                 .ok()) {
          return 13;
        }
      }
      char b = 'r';
      if (::write(ready[1], &b, 1) != 1) return 14;
      // Stay alive (entries live) until the parent has looked.
      (void)::read(release[0], &b, 1);
      transport::ReleaseProcessTokens();  // exit like a clean process
      return 0;
    }, absl::Seconds(120)));
  }
  ::close(ready[1]);
  ::close(release[0]);
  for (int k = 0; k < kProcs; ++k) {
    char b;
    ASSERT_EQ(::read(ready[0], &b, 1), 1) << "a child failed to register";
  }
  const RegistrySnapshot snap = reg->Read();
  EXPECT_EQ(snap.nodes.size(), static_cast<std::size_t>(kProcs));
  ASSERT_EQ(snap.endpoints.size(), static_cast<std::size_t>(kProcs * kEach));
  std::set<std::string> topics;
  std::set<std::uint64_t> ids;
  std::set<std::uint32_t> indices;
  for (const EndpointRecord& e : snap.endpoints) {
    topics.insert(e.topic);
    ids.insert(e.id);
    indices.insert(e.index);
  }
  EXPECT_EQ(topics.size(), static_cast<std::size_t>(kProcs * kEach)) << "duplicate or lost";
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kProcs * kEach));
  EXPECT_EQ(indices.size(), static_cast<std::size_t>(kProcs * kEach));
  for (int k = 0; k < kProcs; ++k) {
    for (int i = 0; i < kEach; ++i) {
      EXPECT_TRUE(topics.count(absl::StrCat("/stress/p", k, "/e", i))) << k << "/" << i;
    }
  }
  ::close(release[1]);  // children exit; their entries are now dead
  for (const pid_t pid : children) EXPECT_EQ(WaitChild(pid), 0);
  ::close(ready[0]);
  const ReclaimReport rep = reg->ReclaimDead();
  EXPECT_EQ(rep.dead_endpoints.size(), static_cast<std::size_t>(kProcs * kEach));
  EXPECT_EQ(rep.dead_nodes.size(), static_cast<std::size_t>(kProcs));
  EXPECT_TRUE(reg->Read().endpoints.empty());
  EXPECT_TRUE(reg->Leave());
  transport::ReleaseProcessTokens();  // the reclaimer's own liveness file, as at exit
  EXPECT_TRUE(FilesWithPrefix(kShmDir, o.prefix + ".").empty());
}

TEST(RegistryTest, ThreadsRegisterWhileOthersReadAndReclaim) {
  // One process, many threads: what TSan checks (the entry protocol is the
  // same across processes).
  const transport::ShmOptions o = UniqueOptions();
  RegistryConfig c = Small();
  c.max_endpoints = 512;
  absl::StatusOr<Registry> reg = Registry::OpenOrCreate(o, c);
  ASSERT_TRUE(reg.ok()) << reg.status();
  const ProcessIdentity me = *ProcessIdentity::Self(o);
  const EntryHandle node = *reg->AddNode("threads", me);
  constexpr int kThreads = 4, kEach = 100;
  std::atomic<int> running{kThreads};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::vector<EntryHandle> mine;
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<EntryHandle> h = reg->AddEndpoint(
            node, Spec(EndpointKind::kPublisher, absl::StrCat("/th/t", t, "/e", i)), me);
        if (!h.ok()) {
          failures.fetch_add(1);
          continue;
        }
        reg->SetTransport(*h, static_cast<std::uint32_t>(i), static_cast<std::uint64_t>(i));
        mine.push_back(*h);
        if (i % 3 == 0) {  // churn: some go again at once
          reg->RemoveEndpoint(mine.back());
          mine.pop_back();
        }
      }
      running.fetch_sub(1);
    });
  }
  // Readers and reclaimers race with the writers; nobody is dead, so no
  // reclaim may ever free anything.
  std::size_t wrongly_reclaimed = 0;
  while (running.load() > 0) {
    for (const EndpointRecord& e : reg->Read().endpoints) {
      EXPECT_TRUE(absl::StartsWith(e.topic, "/th/t")) << e.topic;
    }
    wrongly_reclaimed += reg->ReclaimDead().dead_endpoints.size();
  }
  for (std::thread& w : writers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(wrongly_reclaimed, 0u);
  // 100 per thread, one in three removed again at once (i = 0, 3, ..., 99).
  EXPECT_EQ(reg->Read().endpoints.size(), static_cast<std::size_t>(kThreads * (kEach - 34)));
  reg->RemoveNode(node);
  EXPECT_TRUE(reg->Leave());  // the last user: the registry goes, entries and all
}

}  // namespace
}  // namespace ringcast::discovery
