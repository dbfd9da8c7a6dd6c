// The `ringcast` command end to end: the built binary runs against live
// processes of a private prefix; its --json output is parsed and checked.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "discovery/registry.h"
#include "gtest/gtest.h"
#include "cli/inspect.h"
#include "ringcast/node.h"
#include "tests/cli/json_lite.h"
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
using ::ringcast::testing::Json;
using ::ringcast::testing::JsonParser;
using ::ringcast::testing::KillChild;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::QosOf;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::WaitChild;

constexpr absl::Duration kCliTimeout = absl::Seconds(60);

struct Spawned {
  pid_t pid = -1;
  int out = -1;
  int err = -1;
};

// Starts the CLI with `args`; RINGCAST_DOMAIN is set to `env_domain`
// unless it is empty.
Spawned Spawn(const std::vector<std::string>& args, const std::string& env_domain = "") {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    if (env_domain.empty()) {
      ::unsetenv("RINGCAST_DOMAIN");
    } else {
      ::setenv("RINGCAST_DOMAIN", env_domain.c_str(), 1);
    }
    std::vector<char*> argv;
    static char name[] = "ringcast";
    argv.push_back(name);
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(RINGCAST_CLI_PATH, argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  return {pid, out[0], err[0]};
}

// Reads from `fd` until `until` returns true for what was read so far, EOF,
// or the deadline. Returns what was read.
std::string ReadUntil(int fd, absl::Time deadline,
                      const std::function<bool(const std::string&)>& until) {
  std::string got;
  char buf[4096];
  while (!until(got)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (r <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

int Reap(pid_t pid, absl::Time deadline) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (absl::Now() > deadline) {
      KillChild(pid);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result RunCli(const std::vector<std::string>& args, const std::string& env_domain = "") {
  const Spawned s = Spawn(args, env_domain);
  Result r;
  if (s.pid <= 0) return r;
  const absl::Time deadline = absl::Now() + kCliTimeout;
  r.out = ReadUntil(s.out, deadline, [](const std::string&) { return false; });
  r.err = ReadUntil(s.err, deadline, [](const std::string&) { return false; });
  ::close(s.out);
  ::close(s.err);
  r.code = Reap(s.pid, deadline);
  return r;
}

Json ParseOrFail(const std::string& text) {
  std::optional<Json> j = JsonParser::Parse(text);
  EXPECT_TRUE(j.has_value()) << "not JSON: " << text;
  return j.value_or(Json{});
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
    ASSERT_EQ(j["topics"].array.size(), 2u) << r.out;
    const Json& chat = j["topics"][0];
    EXPECT_EQ(chat["topic"].string, "/chat");
    EXPECT_EQ(chat["type"].string, "test.Chatter");
    EXPECT_EQ(chat["type_hash"].string, "0000000000abcdef");
    EXPECT_EQ(chat["publishers"].integer(), 1);
    EXPECT_EQ(chat["subscribers"].integer(), 1);
    const Json& imu = j["topics"][1];
    EXPECT_EQ(imu["topic"].string, "/imu");
    EXPECT_EQ(imu["type"].string, "test.Imu");
    EXPECT_EQ(imu["publishers"].integer(), 1);
    EXPECT_EQ(imu["subscribers"].integer(), 0);

    r = RunCli(With(Base(o), {"node", "list", "--json"}));
    ASSERT_EQ(r.code, 0) << r.err;
    j = ParseOrFail(r.out);
    ASSERT_EQ(j["nodes"].array.size(), 2u) << r.out;
    EXPECT_EQ(j["nodes"][0]["name"].string, "listener");
    EXPECT_EQ(j["nodes"][0]["pid"].integer(), ::getpid());
    EXPECT_EQ(j["nodes"][0]["subscribers"].integer(), 1);
    EXPECT_EQ(j["nodes"][1]["name"].string, "talker");
    EXPECT_EQ(j["nodes"][1]["pid"].integer(), talker.pid);
    EXPECT_EQ(j["nodes"][1]["publishers"].integer(), 2);
    EXPECT_EQ(static_cast<std::uint64_t>(j["nodes"][1]["start_time"].integer()),
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
  EXPECT_EQ(j["topic"].string, "/chat");
  EXPECT_EQ(j["type"].string, "test.Chatter");
  EXPECT_EQ(j["type_hash"].string, "0000000000abcdef");
  EXPECT_EQ(j["descriptor_bytes"].integer(), 16);
  EXPECT_EQ(j["depth"].integer(), 8);
  EXPECT_EQ(j["slot_size"].integer(), 64);
  EXPECT_GT(j["shm_bytes"].integer(), 0);
  ASSERT_EQ(j["publishers"].array.size(), 1u) << r.out;
  const Json& p = j["publishers"][0];
  EXPECT_EQ(p["node"].string, "talker");
  EXPECT_EQ(p["pid"].integer(), talker.pid);
  EXPECT_EQ(p["reliability"].string, "best_effort");
  EXPECT_EQ(p["durability"].string, "volatile");
  EXPECT_EQ(p["depth"].integer(), 8);
  EXPECT_EQ(p["samples"].integer(), 40);
  EXPECT_GE(p["ring"].integer(), 0);
  ASSERT_EQ(j["subscribers"].array.size(), 1u) << r.out;
  const Json& s = j["subscribers"][0];
  EXPECT_EQ(s["node"].string, "listener");
  EXPECT_EQ(s["pid"].integer(), ::getpid());
  EXPECT_EQ(s["received"].integer(), 1);
  EXPECT_GT(s["lost"].integer(), 0);
  EXPECT_GT(s["lag"].integer(), 0);
  EXPECT_EQ(s["received"].integer() + s["lost"].integer() + s["lag"].integer(), 40) << r.out;

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
  EXPECT_EQ(ParseOrFail(r.out)["nodes"].array.size(), 1u) << r.out;
  r = RunCli(With(Base(o), {"--domain=7", "node", "list", "--json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ParseOrFail(r.out)["domain"].integer(), 7);
  EXPECT_EQ(ParseOrFail(r.out)["nodes"].array.size(), 1u) << r.out;
  // The flag wins over the environment.
  r = RunCli(With(Base(o), {"--domain=8", "node", "list", "--json"}), "7");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(ParseOrFail(r.out)["nodes"].array.empty()) << r.out;
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
  EXPECT_TRUE(ParseOrFail(r.out)["topics"].array.empty()) << r.out;
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
  EXPECT_FALSE(j["healthy"].boolean);
  EXPECT_FALSE(j["cleaned"].boolean);
  EXPECT_EQ(j["dead_nodes"].array.size(), 1u) << r.out;
  EXPECT_EQ(j["dead_endpoints"].array.size(), 2u) << r.out;
  EXPECT_EQ(j["orphan_topics"].array.size(), 3u) << r.out;  // /chat, /imu, /ghost
  EXPECT_EQ(j["stale_topic_entries"].array.size(), 3u) << r.out;
  // The ghost's Writer::Create already swept the talker's liveness file.
  EXPECT_GE(j["dead_tokens"].array.size(), 1u) << r.out;
  EXPECT_FALSE(FilesWithPrefix(kShmDir, o.prefix + ".").empty()) << "a look changes nothing";

  r = RunCli(With(Base(o), {"doctor", "--clean", "--json"}));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  j = ParseOrFail(r.out);
  EXPECT_TRUE(j["cleaned"].boolean);
  EXPECT_EQ(j["dead_endpoints"].array.size(), 2u) << r.out;
  const std::vector<std::string> left = Leftovers(o);
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];

  r = RunCli(With(Base(o), {"doctor"}));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "nothing stale")) << r.out;
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
    const Spawned w = Spawn(With(Base(o), {"topic", "list", "--watch", "--json"}));
    ASSERT_GT(w.pid, 0);
    const auto lines = [](int n) {
      return [n](const std::string& s) { return std::count(s.begin(), s.end(), '\n') >= n; };
    };
    std::string out = ReadUntil(w.out, absl::Now() + absl::Seconds(60), lines(1));
    ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_TRUE(ParseOrFail(out)["topics"].array.empty()) << out;
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
    ASSERT_EQ(last["topics"].array.size(), 1u) << out;
    EXPECT_EQ(last["topics"][0]["topic"].string, "/watched");
    EXPECT_EQ(last["topics"][0]["publishers"].integer(), 1);
    pub->Close();
    // Ctrl-C (or SIGTERM) ends it cleanly and promptly.
    ASSERT_EQ(::kill(w.pid, sig), 0);
    EXPECT_EQ(Reap(w.pid, absl::Now() + absl::Seconds(30)), 0) << "signal " << sig;
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
  type->descriptor_size.store(0xffffffffu);               // far past the entry

  const discovery::RegistrySnapshot after = reg.Read();
  ASSERT_EQ(after.endpoints.size(), 1u);
  EXPECT_EQ(after.endpoints[0].topic.size(), discovery::internal::kTopicSize);
  ASSERT_EQ(after.types.size(), 1u);
  EXPECT_EQ(after.types[0].descriptor.size(), reg.config().max_descriptor_size);

  for (const char* verb : {"topic list", "node list"}) {
    const std::vector<std::string> words = absl::StrSplit(verb, ' ');
    const Result r = RunCli(With(Base(o), {words[0], words[1], "--json"}));
    EXPECT_EQ(r.code, 0) << verb << ": " << r.err;
    EXPECT_TRUE(JsonParser::Parse(r.out).has_value()) << r.out;
  }
  // The publisher's real topic, described with the scribbled ring index.
  Domain domain(o);
  ASSERT_TRUE(domain.Refresh().ok());
  absl::StatusOr<TopicDetail> d = domain.Describe("/scribbled");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->segment_found);
  EXPECT_TRUE(d->endpoints.empty()) << "the scribbled entry no longer names this topic";
}

}  // namespace
}  // namespace ringcast::cli
