// The `ringcast` command end to end: the built binary runs against live
// processes of a private prefix; its --json output is parsed and checked.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/inspect.h"
#include "discovery/registry.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "ringcast/msgs/imu.ringcast.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/node.h"
#include "tests/support/cli_support.h"
#include "tests/support/core_support.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"
#include "transport/process.h"

#ifndef RINGCAST_CLI_PATH
#error "RINGCAST_CLI_PATH must name the built ringcast binary"
#endif

namespace ringcast::cli {
namespace {

using ::ringcast::testing::UniqueOptions;

using ::ringcast::testing::BytesType;
using ::ringcast::testing::ContextFor;
using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::KillChild;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::QosOf;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::WaitChild;

using Spawned = ::ringcast::testing::CliChild;
using Result = ::ringcast::testing::CliResult;
using ::ringcast::testing::ReadUntil;
using ::ringcast::testing::RunCli;
using ::ringcast::testing::ReapCli;
using ::ringcast::testing::SpawnCli;

using Json = nlohmann::json;

// `text` parsed; a failed expectation (and an empty object) if it is not
// JSON. Members are read with at(), which throws (a failed test) when one
// is missing.
Json ParseOrFail(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text;
  return j.is_discarded() ? Json::object() : j;
}

std::vector<std::string> Base(const transport::ShmOptions& o) {
  return {absl::StrCat("--prefix=", o.prefix)};
}
std::vector<std::string> With(std::vector<std::string> base, std::vector<std::string> more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

transport::TopicConfig Chatter(std::uint32_t depth = 16) {
  transport::TopicConfig c;
  c.type_name = "test.Chatter";
  c.type_hash = 0xABCDEF;
  c.depth = depth;
  return c;
}
constexpr char kDescriptor[] = "descriptor bytes";

// A node of `name` on the test's segments, through core like any user's.
absl::StatusOr<Node> MakeNode(const transport::ShmOptions& o, const char* name) {
  absl::StatusOr<Context> ctx = ContextFor(o);
  if (!ctx.ok()) return ctx.status();
  return Node::Create(*ctx, name);
}

// A publisher or subscriber of opaque bytes on the topic `c` describes.
absl::StatusOr<RawPublisher> PublisherOf(Node& node, const std::string& topic,
                                         const transport::TopicConfig& c) {
  return node.CreateRawPublisher(topic, BytesType(c, kDescriptor), QosOf(c));
}
absl::StatusOr<RawSubscriber> SubscriberOf(Node& node, const std::string& topic,
                                           const transport::TopicConfig& c) {
  return node.CreateRawSubscriber(topic, BytesType(c, kDescriptor), QosOf(c));
}

// A child that registers node "talker" with publishers on /chat and /imu,
// publishes `count` samples on /chat, reports through `ready`, then stays
// until `release` closes (or it is killed).
pid_t StartTalker(const transport::ShmOptions& o, int ready_fd, int release_fd, int unused_fd,
                  int count, std::uint32_t depth = 16) {
  return StartChild([=, &o] {
    ::close(unused_fd);  // the write end of `release`: EOF when the parent closes its copy
    absl::StatusOr<Node> node = MakeNode(o, "talker");
    if (!node.ok()) return 10;
    absl::StatusOr<RawPublisher> chat = PublisherOf(*node, "/chat", Chatter(depth));
    if (!chat.ok()) return 11;
    transport::TopicConfig imu = Chatter();
    imu.type_name = "test.Imu";
    absl::StatusOr<RawPublisher> imu_pub = PublisherOf(*node, "/imu", imu);
    if (!imu_pub.ok()) return 12;
    for (int i = 0; i < count; ++i) {
      const std::uint64_t v = static_cast<std::uint64_t>(i);
      if (!chat->Publish({reinterpret_cast<const std::byte*>(&v), sizeof v}).ok()) return 13;
    }
    char b = 'r';
    if (::write(ready_fd, &b, 1) != 1) return 14;
    (void)::read(release_fd, &b, 1);
    return 0;
  });
}

struct Talker {
  int ready[2];
  int release[2];
  pid_t pid = -1;
  bool Start(const transport::ShmOptions& o, int count, std::uint32_t depth = 16) {
    if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(release, O_CLOEXEC) != 0) return false;
    pid = StartTalker(o, ready[1], release[0], release[1], count, depth);
    ::close(ready[1]);
    ::close(release[0]);
    char b;
    return ::read(ready[0], &b, 1) == 1;
  }
  int Stop() {
    ::close(release[1]);
    ::close(ready[0]);
    return WaitChild(pid);
  }
  void Kill() {
    KillChild(pid);
    ::close(release[1]);
    ::close(ready[0]);
  }
};

// Files of the prefix other than this process's own liveness file.
std::vector<std::string> Leftovers(const transport::ShmOptions& o) {
  transport::ReleaseProcessTokens();
  return FilesWithPrefix(kShmDir, o.prefix + ".");
}

TEST(CliTest, NodeAndTopicListsAgainstLiveProcesses) {
  const transport::ShmOptions o = UniqueOptions();
  Talker talker;
  ASSERT_TRUE(talker.Start(o, 3));
  {
    absl::StatusOr<Node> me = MakeNode(o, "listener");
    ASSERT_TRUE(me.ok()) << me.status();
    absl::StatusOr<RawSubscriber> sub = SubscriberOf(*me, "/chat", Chatter());
    ASSERT_TRUE(sub.ok()) << sub.status();

    Result r = RunCli(With(Base(o), {"topic", "list", "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    Json j = ParseOrFail(r.out);
    ASSERT_EQ(j.at("topics").size(), 2u) << r.out;
    const Json& chat = j.at("topics").at(0);
    EXPECT_EQ(chat.at("topic").get<std::string>(), "/chat");
    EXPECT_EQ(chat.at("type").get<std::string>(), "test.Chatter");
    EXPECT_EQ(chat.at("type_hash").get<std::string>(), "0000000000abcdef");
    EXPECT_EQ(chat.at("publishers").get<std::int64_t>(), 1);
    EXPECT_EQ(chat.at("subscribers").get<std::int64_t>(), 1);
    const Json& imu = j.at("topics").at(1);
    EXPECT_EQ(imu.at("topic").get<std::string>(), "/imu");
    EXPECT_EQ(imu.at("type").get<std::string>(), "test.Imu");
    EXPECT_EQ(imu.at("publishers").get<std::int64_t>(), 1);
    EXPECT_EQ(imu.at("subscribers").get<std::int64_t>(), 0);

    r = RunCli(With(Base(o), {"node", "list", "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    j = ParseOrFail(r.out);
    ASSERT_EQ(j.at("nodes").size(), 2u) << r.out;
    EXPECT_EQ(j.at("nodes").at(0).at("name").get<std::string>(), "listener");
    EXPECT_EQ(j.at("nodes").at(0).at("pid").get<std::int64_t>(), ::getpid());
    EXPECT_EQ(j.at("nodes").at(0).at("subscribers").get<std::int64_t>(), 1);
    EXPECT_EQ(j.at("nodes").at(1).at("name").get<std::string>(), "talker");
    EXPECT_EQ(j.at("nodes").at(1).at("pid").get<std::int64_t>(), talker.pid);
    EXPECT_EQ(j.at("nodes").at(1).at("publishers").get<std::int64_t>(), 2);
    EXPECT_EQ(j.at("nodes").at(1).at("start_time").get<std::uint64_t>(),
              transport::ProcessStartTime(talker.pid));

    // The text forms carry the same rows.
    r = RunCli(With(Base(o), {"topic", "list"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, "/chat")) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "test.Imu")) << r.out;
  }
  EXPECT_EQ(talker.Stop(), 0);
  EXPECT_TRUE(Leftovers(o).empty());
}

// Each publisher's pool: what it commits now, by chunk size, against its
// plan. 200 KB messages on a topic planned for 1 MiB use 256 KiB chunks.
TEST(CliTest, TopicInfoShowsWhatEachPublishersPoolCommits) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Node> me = MakeNode(o, "camera");
  ASSERT_TRUE(me.ok()) << me.status();
  transport::TopicConfig c = Chatter(8);
  c.max_message_size = 1 << 20;
  c.max_subscribers = 2;
  c.max_held_samples = 2;  // plan: 8 + 2 x 2 + 4 = 16 chunks of 1 MiB
  absl::StatusOr<RawPublisher> pub = PublisherOf(*me, "/cloud", c);
  ASSERT_TRUE(pub.ok()) << pub.status();
  ASSERT_TRUE(pub->Publish(std::vector<std::byte>(200'000)).ok());

  const Result r = RunCli(With(Base(o), {"topic", "info", "/cloud", "--json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  const Json j = ParseOrFail(r.out);
  ASSERT_EQ(j.at("publishers").size(), 1u) << r.out;
  const Json& pool = j.at("publishers").at(0).at("pool");
  const transport::PoolUse own = pub->pool_use();
  EXPECT_EQ(pool.at("committed_bytes").get<std::uint64_t>(), own.committed_bytes) << r.out;
  EXPECT_EQ(pool.at("planned_bytes").get<std::uint64_t>(), 16u << 20) << r.out;
  EXPECT_EQ(pool.at("segments").get<std::int64_t>(), 1) << r.out;
  EXPECT_EQ(pool.at("chunks").get<std::int64_t>(), 2) << r.out;
  ASSERT_EQ(pool.at("size_classes").size(), 1u) << r.out;
  EXPECT_EQ(pool.at("size_classes").at(0).at("chunk_size").get<std::int64_t>(), 256 << 10);
  EXPECT_GT(j.at("shm_bytes").get<std::uint64_t>(), own.committed_bytes) << "and the topic";

  const Result text = RunCli(With(Base(o), {"topic", "info", "/cloud"}));
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_TRUE(
      absl::StrContains(text.out, "committed of 16.78 MB planned: 2 x 262.14 kB (1 segment)"))
      << text.out;
  pub = absl::CancelledError("closed");
  me = absl::CancelledError("closed");
  EXPECT_TRUE(Leftovers(o).empty());
}

TEST(CliTest, TopicInfoShowsEndpointsQosRingMemoryLagAndLosses) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Node> me = MakeNode(o, "listener");
  ASSERT_TRUE(me.ok()) << me.status();
  absl::StatusOr<RawSubscriber> sub = SubscriberOf(*me, "/chat", Chatter(8));
  ASSERT_TRUE(sub.ok()) << sub.status();
  Talker talker;
  ASSERT_TRUE(talker.Start(o, 40, 8));  // 40 samples on an 8-deep ring
  // Take one: the reader finds itself lapped and counts what it lost.
  std::vector<std::byte> bytes;
  transport::SampleInfo info;
  absl::StatusOr<bool> got = sub->reader().Take(&bytes, &info);
  ASSERT_TRUE(got.ok() && *got) << got.status();

  const Result r = RunCli(With(Base(o), {"topic", "info", "/chat", "--json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  const Json j = ParseOrFail(r.out);
  EXPECT_EQ(j.at("topic").get<std::string>(), "/chat");
  EXPECT_EQ(j.at("type").get<std::string>(), "test.Chatter");
  EXPECT_EQ(j.at("type_hash").get<std::string>(), "0000000000abcdef");
  EXPECT_EQ(j.at("descriptor_bytes").get<std::int64_t>(), 16);
  EXPECT_EQ(j.at("depth").get<std::int64_t>(), 8);
  EXPECT_EQ(j.at("slot_size").get<std::int64_t>(), 64);
  EXPECT_GT(j.at("shm_bytes").get<std::int64_t>(), 0);
  ASSERT_EQ(j.at("publishers").size(), 1u) << r.out;
  const Json& p = j.at("publishers").at(0);
  EXPECT_EQ(p.at("node").get<std::string>(), "talker");
  EXPECT_EQ(p.at("pid").get<std::int64_t>(), talker.pid);
  EXPECT_EQ(p.at("reliability").get<std::string>(), "best_effort");
  EXPECT_EQ(p.at("durability").get<std::string>(), "volatile");
  EXPECT_EQ(p.at("depth").get<std::int64_t>(), 8);
  EXPECT_EQ(p.at("samples").get<std::int64_t>(), 40);
  EXPECT_GE(p.at("ring").get<std::int64_t>(), 0);
  ASSERT_EQ(j.at("subscribers").size(), 1u) << r.out;
  const Json& s = j.at("subscribers").at(0);
  EXPECT_EQ(s.at("node").get<std::string>(), "listener");
  EXPECT_EQ(s.at("pid").get<std::int64_t>(), ::getpid());
  EXPECT_EQ(s.at("received").get<std::int64_t>(), 1);
  EXPECT_GT(s.at("lost").get<std::int64_t>(), 0);
  EXPECT_GT(s.at("lag").get<std::int64_t>(), 0);
  EXPECT_EQ(s.at("received").get<std::int64_t>() + s.at("lost").get<std::int64_t>() +
                s.at("lag").get<std::int64_t>(),
            40)
      << r.out;

  const Result text = RunCli(With(Base(o), {"topic", "info", "/chat"}));
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_TRUE(absl::StrContains(text.out, "depth 8, slot 64 bytes")) << text.out;
  EXPECT_TRUE(absl::StrContains(text.out, "talker")) << text.out;

  EXPECT_EQ(talker.Stop(), 0);
}

TEST(CliTest, DomainComesFromTheFlagOrTheEnvironment) {
  transport::ShmOptions o = UniqueOptions();
  o.domain = 7;
  absl::StatusOr<Node> me = MakeNode(o, "seven");
  ASSERT_TRUE(me.ok()) << me.status();
  Result r = RunCli(With(Base(o), {"node", "list", "--json"}), "7");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseOrFail(r.out).at("nodes").size(), 1u) << r.out;
  r = RunCli(With(Base(o), {"--domain=7", "node", "list", "--json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseOrFail(r.out).at("domain").get<std::int64_t>(), 7);
  EXPECT_EQ(ParseOrFail(r.out).at("nodes").size(), 1u) << r.out;
  // The flag wins over the environment.
  r = RunCli(With(Base(o), {"--domain=8", "node", "list", "--json"}), "7");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(ParseOrFail(r.out).at("nodes").empty()) << r.out;
}

// The CLI looks where the domain's programs look: the YAML file's domain,
// prefix and group unless a flag or RINGCAST_DOMAIN says otherwise.
TEST(CliTest, WhereToLookComesFromTheConfigFileToo) {
  transport::ShmOptions o = UniqueOptions();
  o.domain = 9;
  absl::StatusOr<Node> me = MakeNode(o, "nine");
  ASSERT_TRUE(me.ok()) << me.status();
  const std::string file = absl::StrCat(::testing::TempDir(), "/", o.prefix, ".yaml");
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "domain: 9\nshm:\n  prefix: %s\n", o.prefix.c_str());
    std::fclose(f);
  }
  Result r = RunCli({"--config", file, "node", "list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseOrFail(r.out).at("domain").get<std::int64_t>(), 9);
  EXPECT_EQ(ParseOrFail(r.out).at("nodes").size(), 1u) << r.out;
  // RINGCAST_DOMAIN and the flag win over the file.
  r = RunCli({"--config", file, "node", "list", "--json"}, "8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(ParseOrFail(r.out).at("nodes").empty()) << r.out;
  r = RunCli({"--config", file, "--domain=8", "node", "list", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(ParseOrFail(r.out).at("nodes").empty()) << r.out;
  // A bad file is one line naming it, as for any program.
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "domian: 9\n");
    std::fclose(f);
  }
  r = RunCli({"--config", file, "node", "list"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, file)) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "domian")) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  std::remove(file.c_str());
}

// One line on stderr, nothing on stdout, a non-zero exit.
void ExpectOneLineError(const Result& r, int code, const std::string& mentions) {
  EXPECT_EQ(r.code, code) << r.out << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.err, "ringcast: ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, mentions)) << r.err;
}

TEST(CliTest, ErrorsAreOneClearLineAndANonZeroExit) {
  const transport::ShmOptions o = UniqueOptions();
  ExpectOneLineError(RunCli(With(Base(o), {"topic", "list"}), "banana"), 2, "RINGCAST_DOMAIN='banana'");
  ExpectOneLineError(RunCli(With(Base(o), {"--domain=70000", "topic", "list"})), 2, "0..65535");
  ExpectOneLineError(RunCli(With(Base(o), {"topic", "frobnicate"})), 2, "unknown verb");
  ExpectOneLineError(RunCli(With(Base(o), {"topic", "info", "/nowhere"})), 1, "no topic /nowhere");
  ExpectOneLineError(RunCli(With(Base(o), {"topic", "info", "bad name"})), 1, "invalid topic name");
  ExpectOneLineError(RunCli(With(Base(o), {"doctor", "--watch"})), 2, "--watch");
  // A corrupt registry: an error naming it, not a crash.
  {
    absl::StatusOr<discovery::Registry> reg = discovery::Registry::OpenOrCreate(o);
    ASSERT_TRUE(reg.ok()) << reg.status();
  }
  const std::string path = absl::StrCat(o.dir, discovery::RegistrySegmentName(o));
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const std::uint32_t zero = 0;
  ASSERT_EQ(::pwrite(fd, &zero, sizeof zero,
                     sizeof(transport::SegmentHeader) +
                         offsetof(discovery::internal::RegistryHeader, max_nodes)),
            4);
  ::close(fd);
  ExpectOneLineError(RunCli(With(Base(o), {"topic", "list"})), 1, "corrupt");
  ExpectOneLineError(RunCli(With(Base(o), {"node", "list", "--json"})), 1, "registry");
  ASSERT_EQ(::unlink(path.c_str()), 0);
}

TEST(CliTest, KillNineThenOneListingShowsThemGoneAndLeavesNothing) {
  const transport::ShmOptions o = UniqueOptions();
  Talker talker;
  ASSERT_TRUE(talker.Start(o, 5));
  talker.Kill();
  ASSERT_FALSE(FilesWithPrefix(kShmDir, o.prefix + ".").empty());
  const Result r = RunCli(With(Base(o), {"topic", "list", "--json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(ParseOrFail(r.out).at("topics").empty()) << r.out;
  const std::vector<std::string> left = Leftovers(o);
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];
}

TEST(CliTest, DoctorReportsThenCleansWhatTheDeadLeft) {
  const transport::ShmOptions o = UniqueOptions();
  Talker talker;
  ASSERT_TRUE(talker.Start(o, 5));
  talker.Kill();
  // A second corpse: a transport endpoint it never registered.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t ghost = StartChild([&] {
    absl::StatusOr<transport::Writer> w = transport::Writer::Create(o, "/ghost", Chatter());
    if (!w.ok()) return 10;
    char b = 'r';
    if (::write(ready[1], &b, 1) != 1) return 11;
    ::pause();
    return 0;
  });
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1);
  KillChild(ghost);
  ::close(ready[0]);
  ::close(ready[1]);

  Result r = RunCli(With(Base(o), {"doctor", "--json"}));
  EXPECT_EQ(r.code, 1) << "stale things found: " << r.out << r.err;
  Json j = ParseOrFail(r.out);
  EXPECT_FALSE(j.at("healthy").get<bool>());
  EXPECT_FALSE(j.at("cleaned").get<bool>());
  EXPECT_EQ(j.at("dead_nodes").size(), 1u) << r.out;
  EXPECT_EQ(j.at("dead_endpoints").size(), 2u) << r.out;
  EXPECT_EQ(j.at("orphan_topics").size(), 3u) << r.out;  // /chat, /imu, /ghost
  EXPECT_EQ(j.at("stale_topic_entries").size(), 3u) << r.out;
  // The ghost's Writer::Create already swept the talker's liveness file.
  EXPECT_GE(j.at("dead_tokens").size(), 1u) << r.out;
  EXPECT_FALSE(FilesWithPrefix(kShmDir, o.prefix + ".").empty()) << "a look changes nothing";
  // What the domain holds of /dev/shm: the registry and the three topics at least.
  const Json& space = j.at("space");
  EXPECT_GE(space.at("domain_files").get<std::uint64_t>(), 4u) << r.out;
  EXPECT_GT(space.at("domain_bytes").get<std::uint64_t>(), 0u) << r.out;
  EXPECT_GE(space.at("domain_bytes").get<std::uint64_t>(),
            space.at("largest_bytes").get<std::uint64_t>()) << r.out;
  EXPECT_GT(space.at("total_bytes").get<std::uint64_t>(), 0u) << r.out;
  EXPECT_EQ(space.at("warning").get<std::string>(), "") << r.out;

  r = RunCli(With(Base(o), {"doctor", "--clean", "--json"}));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  j = ParseOrFail(r.out);
  EXPECT_TRUE(j.at("cleaned").get<bool>());
  EXPECT_EQ(j.at("dead_endpoints").size(), 2u) << r.out;
  const std::vector<std::string> left = Leftovers(o);
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];

  r = RunCli(With(Base(o), {"doctor"}));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "nothing stale")) << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out, "shared memory: this domain holds 0 B in 0 files; /dev/shm has "))
      << r.out;
}

// CPU seconds (user + system) process `pid` has used, from /proc.
double CpuSeconds(pid_t pid) {
  char buf[1024];
  FILE* f = std::fopen(absl::StrCat("/proc/", pid, "/stat").c_str(), "r");
  if (f == nullptr) return -1;
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  // Fields 14 and 15 (utime, stime) follow field 2 (comm) by 12 and 13.
  const std::vector<std::string> fields = absl::StrSplit(p + 2, ' ');
  if (fields.size() < 13) return -1;
  return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

TEST(CliTest, WatchRedrawsOnChangeSleepsWhileIdleAndStopsOnSignals) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Node> me = MakeNode(o, "watched");
  ASSERT_TRUE(me.ok()) << me.status();
  for (const int sig : {SIGINT, SIGTERM}) {
    const Spawned w = SpawnCli(With(Base(o), {"topic", "list", "--watch", "--json"}));
    ASSERT_GT(w.pid, 0);
    const auto lines = [](int n) {
      return [n](const std::string& s) { return std::count(s.begin(), s.end(), '\n') >= n; };
    };
    std::string out = ReadUntil(w.out, absl::Now() + absl::Seconds(60), lines(1));
    ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_TRUE(ParseOrFail(out).at("topics").empty()) << out;
    // Idle: the watcher sleeps on the futex (a spinning one would burn
    // about the whole interval).
    const double cpu0 = CpuSeconds(w.pid);
    absl::SleepFor(absl::Milliseconds(1500));
    const double idle_cpu = CpuSeconds(w.pid) - cpu0;
    EXPECT_LT(idle_cpu, 0.3) << "watch used " << idle_cpu << " s of CPU in 1.5 s idle";
    // A change: a redraw with the new topic.
    absl::StatusOr<RawPublisher> pub = PublisherOf(*me, "/watched", Chatter());
    ASSERT_TRUE(pub.ok()) << pub.status();
    out += ReadUntil(w.out, absl::Now() + absl::Seconds(60), [](const std::string& s) {
      return absl::StrContains(s, "/watched");
    });
    const std::vector<std::string> frames =
        absl::StrSplit(out, '\n', absl::SkipEmpty());
    ASSERT_GE(frames.size(), 2u) << out;
    const Json last = ParseOrFail(frames.back());
    ASSERT_EQ(last.at("topics").size(), 1u) << out;
    EXPECT_EQ(last.at("topics").at(0).at("topic").get<std::string>(), "/watched");
    EXPECT_EQ(last.at("topics").at(0).at("publishers").get<std::int64_t>(), 1);
    pub->Close();
    // Ctrl-C (or SIGTERM) ends it cleanly and promptly.
    ASSERT_EQ(::kill(w.pid, sig), 0);
    EXPECT_EQ(ReapCli(w.pid, absl::Now() + absl::Seconds(30)), 0) << "signal " << sig;
    ::close(w.out);
    ::close(w.err);
  }
}

TEST(CliTest, CorruptEntriesAreBoundedNotTrusted) {
  // A buggy or hostile process scribbles over live entries: listings stay
  // bounded (no read past an entry or a table) and never crash.
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Node> me = MakeNode(o, "victim");
  ASSERT_TRUE(me.ok()) << me.status();
  absl::StatusOr<RawPublisher> pub = PublisherOf(*me, "/scribbled", Chatter());
  ASSERT_TRUE(pub.ok()) << pub.status();
  // The node's registry, joined by a handle of our own (a Node does not
  // expose its registry). Declared after the node: it goes first, so the
  // node's leaving still unlinks the registry.
  absl::StatusOr<discovery::Registry> joined = discovery::Registry::Open(o);
  ASSERT_TRUE(joined.ok()) << joined.status();
  discovery::Registry& reg = *joined;
  const discovery::RegistrySnapshot before = reg.Read();
  ASSERT_EQ(before.endpoints.size(), 1u);
  ASSERT_EQ(before.types.size(), 1u);
  std::byte* base = reg.segment().base();
  const auto& h = *reinterpret_cast<const discovery::internal::RegistryHeader*>(
      base + sizeof(transport::SegmentHeader));
  auto* ep = reinterpret_cast<discovery::internal::EndpointEntry*>(base + h.endpoints_offset) +
             before.endpoints[0].index;
  auto* type = reinterpret_cast<discovery::internal::TypeEntry*>(
      base + h.types_offset + h.type_stride * before.types[0].index);
  ep->transport_index.store(0xfffffff0u);  // far past the topic's ring table
  ep->node_index.store(0xffffffffu);
  ep->kind.store(77);
  for (auto& w : ep->topic) w.store(~std::uint64_t{0});  // no NUL anywhere
  type->descriptor_size.store(0xffffffffu);               // far past the slot

  const discovery::RegistrySnapshot after = reg.Read();
  ASSERT_EQ(after.endpoints.size(), 1u);
  EXPECT_EQ(after.endpoints[0].topic.size(), discovery::internal::kTopicSize);
  ASSERT_EQ(after.types.size(), 1u);
  EXPECT_EQ(after.types[0].descriptor.size(), reg.config().max_descriptor_size);

  for (const char* verb : {"topic list", "node list"}) {
    const std::vector<std::string> words = absl::StrSplit(verb, ' ');
    const Result r = RunCli(With(Base(o), {words[0], words[1], "--json"}));
    EXPECT_EQ(r.code, 0) << verb << ": " << r.err;
    EXPECT_FALSE(Json::parse(r.out, nullptr, false).is_discarded()) << r.out;
  }
  // The publisher's real topic, described with the scribbled ring index.
  Domain domain(o);
  ASSERT_TRUE(domain.Refresh().ok());
  absl::StatusOr<TopicDetail> d = domain.Describe("/scribbled");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->segment_found);
  EXPECT_TRUE(d->endpoints.empty()) << "the scribbled entry no longer names this topic";
}


TEST(CliTest, NodeInfoShowsTheProcessAndEveryEndpointWithItsCounters) {
  const transport::ShmOptions o = UniqueOptions();
  {
    absl::StatusOr<Node> me = MakeNode(o, "listener");
    ASSERT_TRUE(me.ok()) << me.status();
    absl::StatusOr<RawSubscriber> sub = SubscriberOf(*me, "/chat", Chatter());
    ASSERT_TRUE(sub.ok()) << sub.status();
    Talker talker;
    ASSERT_TRUE(talker.Start(o, 5));  // 5 samples of 8 bytes on /chat, none on /imu
    const absl::Time started = absl::Now();
    // Take one: received 1, lag 4.
    std::vector<std::byte> bytes;
    transport::SampleInfo info;
    absl::StatusOr<bool> got = sub->reader().Take(&bytes, &info);
    ASSERT_TRUE(got.ok() && *got) << got.status();

    Result r = RunCli(With(Base(o), {"node", "info", "talker", "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    Json j = ParseOrFail(r.out);
    ASSERT_EQ(j.at("nodes").size(), 1u) << r.out;
    const Json& n = j.at("nodes").at(0);
    EXPECT_EQ(n.at("name").get<std::string>(), "talker");
    EXPECT_EQ(n.at("pid").get<std::int64_t>(), talker.pid);
    EXPECT_FALSE(n.at("exe").get<std::string>().empty()) << r.out;
    EXPECT_EQ(n.at("start_time").get<std::uint64_t>(), transport::ProcessStartTime(talker.pid));
    // From the boot time and clock ticks: within a tick or so of the fork.
    const absl::Time wall = absl::FromUnixNanos(n.at("started_unix_ns").get<std::int64_t>());
    EXPECT_LT(absl::AbsDuration(wall - started), absl::Seconds(30)) << r.out;
    ASSERT_EQ(n.at("publishers").size(), 2u) << r.out;
    EXPECT_TRUE(n.at("subscribers").empty()) << r.out;
    const Json& chat = n.at("publishers").at(0);
    EXPECT_EQ(chat.at("topic").get<std::string>(), "/chat");
    EXPECT_EQ(chat.at("type").get<std::string>(), "test.Chatter");
    EXPECT_EQ(chat.at("type_hash").get<std::string>(), "0000000000abcdef");
    EXPECT_EQ(chat.at("reliability").get<std::string>(), "best_effort");
    EXPECT_EQ(chat.at("depth").get<std::int64_t>(), 16);
    EXPECT_GE(chat.at("ring").get<std::int64_t>(), 0);
    EXPECT_EQ(chat.at("samples").get<std::int64_t>(), 5);
    EXPECT_EQ(chat.at("bytes").get<std::int64_t>(), 40);
    const absl::Time last = absl::FromUnixNanos(chat.at("last_publish_ns").get<std::int64_t>());
    EXPECT_LT(absl::AbsDuration(last - started), absl::Seconds(30)) << r.out;
    const Json& imu = n.at("publishers").at(1);
    EXPECT_EQ(imu.at("topic").get<std::string>(), "/imu");
    EXPECT_EQ(imu.at("type").get<std::string>(), "test.Imu");
    EXPECT_EQ(imu.at("samples").get<std::int64_t>(), 0);
    EXPECT_EQ(imu.at("last_publish_ns").get<std::int64_t>(), 0);

    r = RunCli(With(Base(o), {"node", "info", "listener", "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    j = ParseOrFail(r.out);
    ASSERT_EQ(j.at("nodes").size(), 1u) << r.out;
    EXPECT_EQ(j.at("nodes").at(0).at("pid").get<std::int64_t>(), ::getpid());
    ASSERT_EQ(j.at("nodes").at(0).at("subscribers").size(), 1u) << r.out;
    const Json& s = j.at("nodes").at(0).at("subscribers").at(0);
    EXPECT_EQ(s.at("topic").get<std::string>(), "/chat");
    EXPECT_EQ(s.at("received").get<std::int64_t>(), 1);
    EXPECT_EQ(s.at("lag").get<std::int64_t>(), 4);
    EXPECT_EQ(s.at("lost").get<std::int64_t>(), 0);

    // The text form carries the same.
    r = RunCli(With(Base(o), {"node", "info", "talker"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("pid ", talker.pid))) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "samples 5 bytes 40")) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "/imu")) << r.out;

    // A name that is not there: one line naming it and the nodes there are.
    r = RunCli(With(Base(o), {"node", "info", "nobody"}));
    ExpectOneLineError(r, 1, "no node nobody");
    EXPECT_TRUE(absl::StrContains(r.err, "listener, talker")) << r.err;
    EXPECT_EQ(talker.Stop(), 0);
  }
  EXPECT_TRUE(Leftovers(o).empty());
}

// A child with node "typed" publishing ringcast.msgs.String on /text and
// ringcast.msgs.Imu on /imu, until `release` closes.
pid_t StartTyped(const transport::ShmOptions& o, int ready_fd, int release_fd, int unused_fd) {
  return StartChild([=, &o] {
    ::close(unused_fd);
    absl::StatusOr<Node> node = MakeNode(o, "typed");
    if (!node.ok()) return 10;
    absl::StatusOr<Publisher<msgs::flat::String>> text =
        node->CreatePublisher<msgs::flat::String>("/text");
    if (!text.ok()) return 11;
    absl::StatusOr<Publisher<msgs::flat::Imu>> imu = node->CreatePublisher<msgs::flat::Imu>("/imu");
    if (!imu.ok()) return 12;
    char b = 'r';
    if (::write(ready_fd, &b, 1) != 1) return 13;
    (void)::read(release_fd, &b, 1);
    return 0;
  });
}

TEST(CliTest, TypeListAndShowReadTheDescriptorsLivePublishersRegistered) {
  const transport::ShmOptions o = UniqueOptions();
  int ready[2], release[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
  const pid_t child = StartTyped(o, ready[1], release[0], release[1]);
  ::close(ready[1]);
  ::close(release[0]);
  char b;
  ASSERT_EQ(::read(ready[0], &b, 1), 1) << "the typed publisher did not start";
  {
    // A type without a usable descriptor, beside them: listed with "-".
    absl::StatusOr<Node> me = MakeNode(o, "raw");
    ASSERT_TRUE(me.ok()) << me.status();
    absl::StatusOr<RawPublisher> raw = PublisherOf(*me, "/chat", Chatter());
    ASSERT_TRUE(raw.ok()) << raw.status();

    Result r = RunCli(With(Base(o), {"type", "list", "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    Json j = ParseOrFail(r.out);
    ASSERT_EQ(j.at("types").size(), 3u) << r.out;
    const Json& imu = j.at("types").at(0);  // by name
    EXPECT_EQ(imu.at("name").get<std::string>(), "ringcast.msgs.Imu");
    EXPECT_EQ(imu.at("hash").get<std::string>(),
              absl::StrFormat("%016x", msgs::flat::Imu::kTypeHash));
    EXPECT_EQ(imu.at("head_size").get<std::int64_t>(), msgs::flat::Imu::kHeadSize);
    EXPECT_GT(imu.at("descriptor_bytes").get<std::int64_t>(), 0);
    const Json& text = j.at("types").at(1);
    EXPECT_EQ(text.at("name").get<std::string>(), "ringcast.msgs.String");
    EXPECT_EQ(text.at("head_size").get<std::int64_t>(), msgs::flat::String::kHeadSize);
    const Json& chatter = j.at("types").at(2);
    EXPECT_EQ(chatter.at("name").get<std::string>(), "test.Chatter");
    EXPECT_TRUE(chatter.at("head_size").is_null()) << r.out;

    r = RunCli(With(Base(o), {"type", "list"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(absl::StrContains(
        r.out, absl::StrFormat("ringcast.msgs.String%13s%016x %6d", "",
                               msgs::flat::String::kTypeHash, msgs::flat::String::kHeadSize)))
        << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "0000000000abcdef      -")) << r.out;

    // The .proto source, rebuilt from the descriptor (imports resolved).
    r = RunCli(With(Base(o), {"type", "show", "ringcast.msgs.Imu", "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    j = ParseOrFail(r.out);
    ASSERT_EQ(j.at("types").size(), 1u) << r.out;
    const Json& shown = j.at("types").at(0);
    EXPECT_EQ(shown.at("file").get<std::string>(), "ringcast/msgs/imu.proto");
    EXPECT_EQ(shown.at("head_size").get<std::int64_t>(), msgs::flat::Imu::kHeadSize);
    const std::string source = shown.at("source").get<std::string>();
    EXPECT_TRUE(absl::StrContains(source, "package ringcast.msgs;")) << source;
    EXPECT_TRUE(absl::StrContains(source, "message Imu {")) << source;
    EXPECT_TRUE(absl::StrContains(source, "import \"ringcast/msgs/header.proto\";")) << source;

    r = RunCli(With(Base(o), {"type", "show", "ringcast.msgs.String"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, "syntax = \"proto3\";")) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "message String {\n  string data = 1;\n}")) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, absl::StrFormat("%016x", msgs::flat::String::kTypeHash)))
        << r.out;

    // Without a descriptor that parses: said, not an error.
    r = RunCli(With(Base(o), {"type", "show", "test.Chatter", "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(ParseOrFail(r.out).at("types").at(0).at("source").is_null()) << r.out;

    r = RunCli(With(Base(o), {"type", "show", "no.Such"}));
    ExpectOneLineError(r, 1, "no type no.Such");
    EXPECT_TRUE(absl::StrContains(r.err, "ringcast.msgs.Imu, ringcast.msgs.String, test.Chatter"))
        << r.err;
  }
  ::close(release[1]);
  ::close(ready[0]);
  EXPECT_EQ(WaitChild(child), 0);
  EXPECT_TRUE(Leftovers(o).empty());
}

TEST(CliTest, EveryBadInputIsOneLineAndAUsageOrRuntimeExit) {
  const transport::ShmOptions o = UniqueOptions();
  // Usage errors: exit 2.
  ExpectOneLineError(RunCli(Base(o)), 2, "a verb is needed");
  ExpectOneLineError(RunCli(With(Base(o), {"frobnicate"})), 2, "unknown verb 'frobnicate'");
  ExpectOneLineError(RunCli(With(Base(o), {"node"})), 2, "`node` needs a verb: list, info");
  ExpectOneLineError(RunCli(With(Base(o), {"type", "frob"})), 2, "unknown verb 'type frob'");
  ExpectOneLineError(RunCli(With(Base(o), {"topic", "list", "--bogus"})), 2,
                     "unknown flag --bogus for `topic list`");
  ExpectOneLineError(RunCli(With(Base(o), {"--bogus", "topic", "list"})), 2, "--bogus");
  ExpectOneLineError(RunCli(With(Base(o), {"topic", "info"})), 2, "TOPIC");
  ExpectOneLineError(RunCli(With(Base(o), {"node", "info"})), 2, "NODE");
  ExpectOneLineError(RunCli(With(Base(o), {"type", "show"})), 2, "TYPE");
  ExpectOneLineError(RunCli(With(Base(o), {"topic", "info", "/a", "/b"})), 2, "'/b'");
  ExpectOneLineError(RunCli(With(Base(o), {"--domain", "-1", "topic", "list"})), 2, "0..65535");
  ExpectOneLineError(RunCli(With(Base(o), {"--domain=65536", "node", "list"})), 2, "0..65535");
  ExpectOneLineError(RunCli(With(Base(o), {"node", "list"}), "1e3"), 2, "RINGCAST_DOMAIN='1e3'");
  ExpectOneLineError(RunCli({"--prefix=no/slash", "node", "list"}), 2, "no/slash");
  for (const Result& r : {RunCli(Base(o)), RunCli(With(Base(o), {"frobnicate"}))}) {
    EXPECT_TRUE(absl::EndsWith(r.err, "(see ringcast --help)\n")) << r.err;
  }
  // Runtime errors: exit 1.
  ExpectOneLineError(RunCli(With(Base(o), {"node", "info", "ghost"})), 1, "no node ghost");
  ExpectOneLineError(RunCli(With(Base(o), {"type", "show", "a.B"})), 1, "no type a.B");
  // Global options after the verb count too.
  const Result r = RunCli({"node", "list", "--json", "--domain", "9", "--prefix", o.prefix});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseOrFail(r.out).at("domain").get<std::int64_t>(), 9);
  EXPECT_TRUE(Leftovers(o).empty());
}

// The verbs `ringcast <group> --help` lists under "Subcommands:".
std::vector<std::string> VerbsOf(const std::string& help) {
  std::vector<std::string> verbs;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (line == "Subcommands:") {
      in = true;
    } else if (in && absl::StartsWith(line, "  ")) {
      verbs.push_back(std::string(absl::StripAsciiWhitespace(line.substr(0, line.find(' ', 2)))));
    } else if (in && !line.empty()) {
      in = false;
    }
  }
  return verbs;
}

TEST(CliTest, HelpForEveryVerbAndTheVersion) {
  Result r = RunCli({"--help"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  const std::vector<std::string> groups = VerbsOf(r.out);
  for (const char* verb : {"node", "topic", "type", "doctor"}) {
    EXPECT_NE(std::find(groups.begin(), groups.end(), verb), groups.end())
        << verb << " missing from\n" << r.out;
  }
  EXPECT_TRUE(absl::StrContains(r.out, "--domain N")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "RINGCAST_DOMAIN")) << r.out;
  // Every verb of every group (the live verbs' too) answers --help.
  int verbs = 0;
  for (const std::string& group : groups) {
    r = RunCli({group, "--help"});
    ASSERT_EQ(r.code, 0) << group << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("Usage: ringcast ", group))) << r.out;
    for (const std::string& verb : VerbsOf(r.out)) {
      r = RunCli({group, verb, "--help"});
      EXPECT_EQ(r.code, 0) << group << " " << verb << ": " << r.err;
      EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("Usage: ringcast ", group, " ", verb)))
          << r.out;
      ++verbs;
    }
  }
  EXPECT_GE(verbs, 6);  // node list/info, topic list/info, type list/show at least
  r = RunCli({"topic", "info", "--help"});
  EXPECT_TRUE(absl::StrContains(r.out, "TOPIC")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "--json")) << r.out;
  r = RunCli({"doctor", "--help"});
  EXPECT_TRUE(absl::StrContains(r.out, "--clean")) << r.out;

  r = RunCli({"--version"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "ringcast " RINGCAST_VERSION "\n");
  EXPECT_EQ(std::string(RINGCAST_VERSION), "0.1.0");
}

}  // namespace
}  // namespace ringcast::cli
