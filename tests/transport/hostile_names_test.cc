// Files planted at ringcast names by someone else. /dev/shm is writable by
// every user, so any name there may hold a FIFO (whose plain open() waits
// for a writer forever), a symbolic link (which would take us to another
// file), a directory, a socket, or another user's regular file. Every
// ringcast process must refuse such a file at once with a message that
// says where it is and what it is, skip it where it only looks (liveness
// sweeps, orphan finding, `ringcast doctor`), and never remove it.
//
// Each call that could block runs in a forked child that dies by SIGALRM
// after kChildTimeout, so a regression fails the test instead of hanging
// the run; the child times the call itself and sends back what it got.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "discovery/orphans.h"
#include "discovery/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "ringcast/node.h"
#include "tests/support/core_support.h"
#include "tests/support/cli_support.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/reader.h"
#include "transport/shm_file.h"
#include "transport/topic.h"
#include "transport/warn.h"
#include "transport/writer.h"

#ifndef RINGCAST_CLI_PATH
#error "RINGCAST_CLI_PATH must name the built ringcast binary"
#endif

namespace ringcast::transport {
namespace {

using ::ringcast::testing::BytesType;
using ::ringcast::testing::ContextFor;
using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::QosOf;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::UniqueOptions;
using ::ringcast::testing::WaitChild;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kTopic[] = "/hostile";
// How long a refusal may take. Opening, fstat()ing and refusing is a few
// system calls; a second is only there to absorb a loaded machine.
constexpr absl::Duration kPrompt = absl::Seconds(1);
// When a child that blocked is killed (exit 128 + SIGALRM = 142).
constexpr absl::Duration kChildTimeout = absl::Seconds(5);
constexpr int kKilledByAlarm = 128 + SIGALRM;
// A liveness token id no process holds.
constexpr std::uint64_t kMadeUpToken = 0x0123456789abcdefULL;

enum class Kind { kFifo, kSymlink, kDirectory, kSocket };

// What the refusal calls it (transport::FileTypeName).
const char* KindText(Kind kind) {
  switch (kind) {
    case Kind::kFifo: return "FIFO";
    case Kind::kSymlink: return "symbolic link";
    case Kind::kDirectory: return "directory";
    case Kind::kSocket: return "socket";
  }
  return "?";
}

std::string KindParamName(const ::testing::TestParamInfo<Kind>& info) {
  switch (info.param) {
    case Kind::kFifo: return "Fifo";
    case Kind::kSymlink: return "Symlink";
    case Kind::kDirectory: return "Directory";
    case Kind::kSocket: return "Socket";
  }
  return "Unknown";
}

// A non-regular file planted at `path`, removed again on destruction
// whatever the test did. A link points to an empty regular file of ours
// (mode 0600, outside /dev/shm): exactly what a segment opener would
// accept if it followed the link, so following it would show.
class Planted {
 public:
  Planted(std::string path, Kind kind) : path_(std::move(path)), kind_(kind) {
    switch (kind) {
      case Kind::kFifo:
        made_ = ::mkfifo(path_.c_str(), 0666) == 0;
        if (!made_) Failed("mkfifo");
        break;
      case Kind::kSymlink: {
        char tmpl[] = "/tmp/ringcast-hostile-target-XXXXXX";
        const int fd = ::mkstemp(tmpl);
        if (fd < 0) {
          Failed("mkstemp");
          break;
        }
        ::close(fd);
        target_ = tmpl;
        made_ = ::symlink(target_.c_str(), path_.c_str()) == 0;
        if (!made_) Failed("symlink");
        break;
      }
      case Kind::kDirectory:
        made_ = ::mkdir(path_.c_str(), 0700) == 0;
        if (!made_) Failed("mkdir");
        break;
      case Kind::kSocket: {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (path_.size() >= sizeof addr.sun_path) {
          error_ = absl::StrCat(path_, " is too long for a unix socket address");
          break;
        }
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        socket_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        made_ = socket_ >= 0 &&
                ::bind(socket_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
        if (!made_ || ::listen(socket_, 1) != 0) Failed("socket/bind/listen");
        break;
      }
    }
  }
  Planted(const Planted&) = delete;
  Planted& operator=(const Planted&) = delete;
  ~Planted() {
    // Only what we made: whatever else is at the name is not ours to remove.
    if (made_ && kind_ == Kind::kDirectory) {
      ::rmdir(path_.c_str());
    } else if (made_) {
      ::unlink(path_.c_str());
    }
    if (socket_ >= 0) ::close(socket_);
    if (!target_.empty()) ::unlink(target_.c_str());
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  const char* kind_text() const { return KindText(kind_); }

  // Empty if what was planted is still there as planted (and a link's
  // target was neither written nor replaced); otherwise what changed.
  std::string Changes() const {
    struct stat st {};
    if (::lstat(path_.c_str(), &st) != 0) return absl::StrCat(path_, " was removed");
    const bool same = kind_ == Kind::kFifo        ? S_ISFIFO(st.st_mode)
                      : kind_ == Kind::kSymlink   ? S_ISLNK(st.st_mode)
                      : kind_ == Kind::kDirectory ? S_ISDIR(st.st_mode)
                                                  : S_ISSOCK(st.st_mode);
    if (!same) return absl::StrCat(path_, " is now a ", FileTypeName(st.st_mode));
    if (kind_ == Kind::kDirectory && FilesWithPrefix(path_, "").size() != 2) {
      return absl::StrCat(path_, " (a directory) is no longer empty");
    }
    if (!target_.empty()) {
      if (::stat(target_.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0) {
        return absl::StrCat("the link's target ", target_, " was changed or removed");
      }
    }
    return "";
  }

 private:
  void Failed(const char* what) {
    error_ = absl::StrCat(what, "(", path_, "): ", std::strerror(errno));
  }

  std::string path_;
  Kind kind_;
  bool made_ = false;
  int socket_ = -1;
  std::string target_;
  std::string error_;
};

bool WriteAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads each of `fds` until EOF (or the deadline); returns what each gave.
std::vector<std::string> ReadAll(std::vector<int> fds, absl::Time deadline) {
  std::vector<std::string> got(fds.size());
  std::vector<pollfd> p;
  for (int fd : fds) p.push_back(pollfd{fd, POLLIN, 0});
  std::size_t open = fds.size();
  char buf[4096];
  while (open > 0) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    const int r =
        ::poll(p.data(), p.size(), static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (r < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (p[i].fd < 0 || (p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        p[i].fd = -1;  // poll() skips it from now on
        --open;
        continue;
      }
      got[i].append(buf, static_cast<std::size_t>(n));
    }
  }
  return got;
}

// What a child sent back, and how it ended: exit 0 when it got to the
// end, kKilledByAlarm when something in it blocked.
struct ChildReport {
  int exit = -1;
  std::string text;
};

// Runs `body` in a child that dies after kChildTimeout; what it returns
// comes back through a pipe (gtest assertions in a child are invisible).
ChildReport RunReporting(absl::FunctionRef<std::string()> body) {
  ChildReport r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  const pid_t pid = StartChild(
      [&] {
        ::close(fds[0]);
        return WriteAll(fds[1], body()) ? 0 : 1;
      },
      kChildTimeout);
  ::close(fds[1]);
  r.text = ReadAll({fds[0]}, absl::Now() + kChildTimeout + absl::Seconds(5))[0];
  ::close(fds[0]);
  r.exit = WaitChild(pid, kChildTimeout + absl::Seconds(5));
  return r;
}

// A status got in a child, and how long the call took.
struct ChildCall {
  int exit = -1;
  absl::StatusCode code = absl::StatusCode::kUnknown;
  absl::Duration took = absl::InfiniteDuration();
  std::string message;
};

// Runs `call` in a child and times it; `call` may move `start` to just
// before the step it means (after its setup).
ChildCall CallInChild(absl::FunctionRef<absl::Status(absl::Time& start)> call) {
  const ChildReport c = RunReporting([&] {
    absl::Time start = absl::Now();
    const absl::Status s = call(start);
    return absl::StrCat(static_cast<int>(s.code()), " ",
                        absl::ToInt64Microseconds(absl::Now() - start), " ", s.message());
  });
  ChildCall r;
  r.exit = c.exit;
  const std::vector<std::string> parts = absl::StrSplit(c.text, absl::MaxSplits(' ', 2));
  int code = 0;
  std::int64_t micros = 0;
  if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &code) &&
      absl::SimpleAtoi(parts[1], &micros)) {
    r.code = static_cast<absl::StatusCode>(code);
    r.took = absl::Microseconds(micros);
    r.message = parts[2];
  } else {
    r.message = absl::StrCat("(the child sent back no status, only '", c.text, "')");
  }
  return r;
}

absl::Status SetupFailed(const absl::Status& s) {
  return absl::InternalError(absl::StrCat("setup failed: ", s.message()));
}

// The refusal every opener owes a planted file: PermissionDenied, at once,
// naming the path, what is there and whose it is.
void ExpectPromptRefusal(const ChildCall& c, const Planted& planted) {
  ASSERT_NE(c.exit, kKilledByAlarm) << "the call blocked until the child was killed";
  EXPECT_EQ(c.exit, 0);
  EXPECT_EQ(c.code, absl::StatusCode::kPermissionDenied) << c.message;
  EXPECT_LT(c.took, kPrompt);
  EXPECT_THAT(c.message, HasSubstr(planted.path()));
  EXPECT_THAT(c.message, HasSubstr(absl::StrCat("is a ", planted.kind_text(), " owned by uid")));
  EXPECT_THAT(planted.Changes(), IsEmpty());
}

// FindOrphans run in a child, sorted into what these tests look at.
struct OrphanLook {
  int exit = -1;
  absl::Duration took = absl::InfiniteDuration();
  std::vector<std::string> foreign;
  std::vector<std::string> errors;
  std::vector<std::string> other;  // any other finding
};

OrphanLook FindOrphansInChild(const ShmOptions& o, bool clean) {
  const ChildReport c = RunReporting([&] {
    const absl::Time start = absl::Now();
    const discovery::OrphanReport r = discovery::FindOrphans(o, clean);
    std::string out = absl::StrCat(absl::ToInt64Microseconds(absl::Now() - start), "\n");
    for (const std::string& f : r.foreign_files) absl::StrAppend(&out, "F ", f, "\n");
    for (const std::string& e : r.errors) absl::StrAppend(&out, "E ", e, "\n");
    for (const auto* list : {&r.stale_topic_entries, &r.orphan_topics, &r.orphan_pools,
                             &r.half_made, &r.dead_tokens, &r.anomalies, &r.corrupt_pools}) {
      for (const std::string& item : *list) absl::StrAppend(&out, "O ", item, "\n");
    }
    return out;
  });
  OrphanLook look;
  look.exit = c.exit;
  std::vector<std::string> lines = absl::StrSplit(c.text, '\n', absl::SkipEmpty());
  std::int64_t micros = 0;
  if (!lines.empty() && absl::SimpleAtoi(lines[0], &micros)) look.took = absl::Microseconds(micros);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string rest = lines[i].substr(std::min<std::size_t>(2, lines[i].size()));
    (lines[i][0] == 'F' ? look.foreign : lines[i][0] == 'E' ? look.errors : look.other)
        .push_back(rest);
  }
  return look;
}

// FindOrphans lists the planted file (once, described) among the foreign
// files and nowhere else, at once, and leaves it where it is.
void ExpectReportedAsForeign(const OrphanLook& look, const Planted& planted) {
  ASSERT_NE(look.exit, kKilledByAlarm) << "FindOrphans blocked until the child was killed";
  EXPECT_EQ(look.exit, 0);
  EXPECT_LT(look.took, kPrompt);
  ASSERT_EQ(look.foreign.size(), 1u) << absl::StrJoin(look.foreign, "\n");
  EXPECT_THAT(look.foreign[0], HasSubstr(planted.path()));
  EXPECT_THAT(look.foreign[0],
              HasSubstr(absl::StrCat("is a ", planted.kind_text(), " owned by uid")));
  EXPECT_THAT(look.errors, IsEmpty());
  EXPECT_THAT(look.other, IsEmpty());
  EXPECT_THAT(planted.Changes(), IsEmpty());
}

// The topic every registered endpoint here is made on: opaque bytes of
// test.Hostile, transport's default geometry.
TopicConfig Endpoint() {
  TopicConfig c;
  c.type_name = "test.Hostile";
  c.type_hash = 0x4057;
  return c;
}

// A node (core's, as users make them) on `o`'s segments.
absl::StatusOr<ringcast::Node> MakeNode(const ShmOptions& o, const char* name) {
  absl::StatusOr<Context> ctx = ContextFor(o);
  if (!ctx.ok()) return ctx.status();
  return ringcast::Node::Create(*ctx, name);
}

// One run of the built `ringcast` binary on `o`'s prefix, killed if it has
// not finished after kChildTimeout.
using CliRun = ::ringcast::testing::CliResult;
CliRun RunCli(const ShmOptions& o, const std::vector<std::string>& verb) {
  std::vector<std::string> args = {absl::StrCat("--prefix=", o.prefix)};
  args.insert(args.end(), verb.begin(), verb.end());
  return ::ringcast::testing::RunCli(args, "", kChildTimeout);
}

int CountOf(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// Every verb answers at once, and leaves the planted file alone.
void ExpectPrompt(const CliRun& r, const Planted& planted) {
  ASSERT_NE(r.code, kKilledByAlarm) << r.command << " blocked until killed";
  EXPECT_LT(r.took, kPrompt) << r.command;
  EXPECT_THAT(planted.Changes(), IsEmpty()) << r.command;
}

// A verb that cannot go on fails with one line on stderr naming the file.
void ExpectOneLineRefusal(const CliRun& r, const Planted& planted) {
  ExpectPrompt(r, planted);
  EXPECT_EQ(r.code, 1) << r.command << "\n" << r.err;
  EXPECT_THAT(r.out, IsEmpty()) << r.command;
  EXPECT_EQ(CountOf(r.err, "\n"), 1) << r.command << "\n" << r.err;
  EXPECT_TRUE(absl::StartsWith(r.err, "ringcast: ")) << r.command << "\n" << r.err;
  EXPECT_THAT(r.err, HasSubstr(planted.path())) << r.command;
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("is a ", planted.kind_text(), " owned by uid")))
      << r.command;
}

// `doctor` reports the file among the foreign files, once, and exits
// non-zero: it found something it will not (and must not) remove, with
// --clean too.
void ExpectDoctorReports(const CliRun& r, const Planted& planted, bool json) {
  ExpectPrompt(r, planted);
  EXPECT_NE(r.code, 0) << r.command << "\n" << r.out << r.err;
  EXPECT_EQ(CountOf(r.out, planted.path()), 1) << r.command << "\n" << r.out;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("is a ", planted.kind_text(), " owned by uid")))
      << r.command;
  if (json) {
    const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << r.command << ": not JSON: " << r.out;
    ASSERT_EQ(j["foreign_files"].size(), 1u) << r.out;
    EXPECT_THAT(j["foreign_files"][0].get<std::string>(), HasSubstr(planted.path()));
    EXPECT_FALSE(j["healthy"].get<bool>());
    // Found and described, so not also an error ("could not check").
    EXPECT_EQ(j["errors"].size(), 0u) << r.out;
  } else {
    EXPECT_THAT(r.out, HasSubstr("files at ringcast names that ringcast did not make"))
        << r.command;
  }
}

// The verbs that read the registry or a topic, each as text and as JSON.
std::vector<std::vector<std::string>> Listings() {
  return {{"topic", "list"},          {"topic", "list", "--json"},
          {"node", "list"},           {"node", "list", "--json"},
          {"topic", "info", kTopic},  {"topic", "info", kTopic, "--json"}};
}

std::vector<std::vector<std::string>> DoctorRuns() {
  return {{"doctor"}, {"doctor", "--json"}, {"doctor", "--clean"}, {"doctor", "--clean", "--json"}};
}

bool IsJson(const std::vector<std::string>& verb) {
  return verb.back() == "--json";
}

// A planted file of each kind at the name NameToPlant() returns, in a
// private prefix; afterwards nothing of the prefix may be left.
class PlantedFixture : public ::testing::TestWithParam<Kind> {
 protected:
  virtual std::string NameToPlant() const = 0;

  void SetUp() override {
    planted_.emplace(absl::StrCat(o_.dir, NameToPlant()), GetParam());
    ASSERT_TRUE(planted_->ok()) << planted_->error();
  }
  void TearDown() override {
    planted_.reset();
    ReleaseProcessTokens();
    EXPECT_THAT(FilesWithPrefix(kShmDir, o_.prefix + "."), IsEmpty());
  }

  const Planted& planted() const { return *planted_; }

  const ShmOptions o_ = UniqueOptions();
  std::optional<Planted> planted_;
};

// ---- At a topic segment's name -------------------------------------------

class HostileTopicNameTest : public PlantedFixture {
 protected:
  std::string NameToPlant() const override { return *TopicSegmentName(o_, kTopic); }
};

TEST_P(HostileTopicNameTest, WriterCreateIsRefusedAtOnce) {
  const ChildCall c =
      CallInChild([&](absl::Time&) { return Writer::Create(o_, kTopic, {}).status(); });
  ExpectPromptRefusal(c, planted());
}

TEST_P(HostileTopicNameTest, ReaderCreateIsRefusedAtOnce) {
  const ChildCall c =
      CallInChild([&](absl::Time&) { return Reader::Create(o_, kTopic, {}).status(); });
  ExpectPromptRefusal(c, planted());
}

TEST_P(HostileTopicNameTest, ObserveIsRefusedAtOnce) {
  const ChildCall c =
      CallInChild([&](absl::Time&) { return TopicSegment::Observe(o_, kTopic).status(); });
  ExpectPromptRefusal(c, planted());
}

// The node itself is fine (its registry is a regular file of ours); only
// the endpoint on the planted topic is refused, and it does not stay
// registered.
TEST_P(HostileTopicNameTest, NodePublisherIsRefusedAtOnceAndNotLeftRegistered) {
  const ChildCall c = CallInChild([&](absl::Time& start) -> absl::Status {
    absl::StatusOr<ringcast::Node> node = MakeNode(o_, "victim");
    if (!node.ok()) return SetupFailed(node.status());
    // The node's registry, as a listing sees it (a Node does not expose it).
    absl::StatusOr<discovery::Registry> registry = discovery::Registry::Observe(o_);
    if (!registry.ok()) return SetupFailed(registry.status());
    const TopicConfig c = Endpoint();
    start = absl::Now();
    const absl::Status s = node->CreateRawPublisher(kTopic, BytesType(c), QosOf(c)).status();
    if (!registry->Read().endpoints.empty()) {
      return absl::InternalError(absl::StrCat("refused publisher left registered: ", s.message()));
    }
    return s;
  });
  ExpectPromptRefusal(c, planted());
}

TEST_P(HostileTopicNameTest, NodeSubscriberIsRefusedAtOnceAndNotLeftRegistered) {
  const ChildCall c = CallInChild([&](absl::Time& start) -> absl::Status {
    absl::StatusOr<ringcast::Node> node = MakeNode(o_, "victim");
    if (!node.ok()) return SetupFailed(node.status());
    // The node's registry, as a listing sees it (a Node does not expose it).
    absl::StatusOr<discovery::Registry> registry = discovery::Registry::Observe(o_);
    if (!registry.ok()) return SetupFailed(registry.status());
    const TopicConfig c = Endpoint();
    start = absl::Now();
    const absl::Status s = node->CreateRawSubscriber(kTopic, BytesType(c), QosOf(c)).status();
    if (!registry->Read().endpoints.empty()) {
      return absl::InternalError(absl::StrCat("refused subscriber left registered: ",
                                              s.message()));
    }
    return s;
  });
  ExpectPromptRefusal(c, planted());
}

TEST_P(HostileTopicNameTest, FindOrphansReportsItAndCleanLeavesIt) {
  ExpectReportedAsForeign(FindOrphansInChild(o_, /*clean=*/false), planted());
  ExpectReportedAsForeign(FindOrphansInChild(o_, /*clean=*/true), planted());
}

// No registry exists, so the listings have nothing to read and succeed;
// `topic info` opens the topic's segment and fails naming the file;
// `doctor` reports it and exits non-zero, --clean included.
TEST_P(HostileTopicNameTest, EveryCliVerbAnswersAtOnceAndNamesIt) {
  for (const std::vector<std::string>& verb : Listings()) {
    const CliRun r = RunCli(o_, verb);
    if (verb[1] == "info") {
      ExpectOneLineRefusal(r, planted());
    } else {
      ExpectPrompt(r, planted());
      EXPECT_EQ(r.code, 0) << r.command << "\n" << r.err;
      EXPECT_THAT(r.err, IsEmpty()) << r.command;
    }
  }
  for (const std::vector<std::string>& verb : DoctorRuns()) {
    ExpectDoctorReports(RunCli(o_, verb), planted(), IsJson(verb));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKind, HostileTopicNameTest,
                         ::testing::Values(Kind::kFifo, Kind::kSymlink, Kind::kDirectory,
                                           Kind::kSocket),
                         KindParamName);

// ---- At the registry's name ----------------------------------------------

class HostileRegistryNameTest : public PlantedFixture {
 protected:
  std::string NameToPlant() const override { return discovery::RegistrySegmentName(o_); }
};

TEST_P(HostileRegistryNameTest, NodeCreateIsRefusedAtOnce) {
  const ChildCall c = CallInChild(
      [&](absl::Time&) { return MakeNode(o_, "victim").status(); });
  ExpectPromptRefusal(c, planted());
}

TEST_P(HostileRegistryNameTest, RegistryOpenOrCreateIsRefusedAtOnce) {
  const ChildCall c = CallInChild(
      [&](absl::Time&) { return discovery::Registry::OpenOrCreate(o_).status(); });
  ExpectPromptRefusal(c, planted());
}

TEST_P(HostileRegistryNameTest, RegistryOpenIsRefusedAtOnce) {
  const ChildCall c =
      CallInChild([&](absl::Time&) { return discovery::Registry::Open(o_).status(); });
  ExpectPromptRefusal(c, planted());
}

TEST_P(HostileRegistryNameTest, RegistryObserveIsRefusedAtOnce) {
  const ChildCall c =
      CallInChild([&](absl::Time&) { return discovery::Registry::Observe(o_).status(); });
  ExpectPromptRefusal(c, planted());
}

TEST_P(HostileRegistryNameTest, FindOrphansReportsItAndCleanLeavesIt) {
  ExpectReportedAsForeign(FindOrphansInChild(o_, /*clean=*/false), planted());
  ExpectReportedAsForeign(FindOrphansInChild(o_, /*clean=*/true), planted());
}

// Every verb needs the registry: the listings fail with one line naming
// the file; `doctor` reports it once and exits non-zero.
TEST_P(HostileRegistryNameTest, EveryCliVerbAnswersAtOnceAndNamesIt) {
  for (const std::vector<std::string>& verb : Listings()) {
    ExpectOneLineRefusal(RunCli(o_, verb), planted());
  }
  for (const std::vector<std::string>& verb : DoctorRuns()) {
    ExpectDoctorReports(RunCli(o_, verb), planted(), IsJson(verb));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKind, HostileRegistryNameTest,
                         ::testing::Values(Kind::kFifo, Kind::kSymlink, Kind::kDirectory,
                                           Kind::kSocket),
                         KindParamName);

// ---- At a liveness file's name -------------------------------------------

class HostileLivenessNameTest : public PlantedFixture {
 protected:
  std::string NameToPlant() const override { return LivenessName(o_, kMadeUpToken); }
};

// Liveness files are only looked at, never opened for use: a planted one
// reads as its token's owner being dead, is skipped with one warning per
// process however often it is met, and stays where it is.
TEST_P(HostileLivenessNameTest, SweepsSkipItWithOneWarningAndEndpointsStillWork) {
  const std::string path = planted().path();
  const std::string kind = planted().kind_text();
  const ChildReport c = RunReporting([&] {
    std::vector<std::string> problems;
    std::vector<std::string> warnings;
    SetWarningSink([&](const std::string& m) { warnings.push_back(m); });
    auto timed = [&](const char* what, auto&& step) {
      const absl::Time start = absl::Now();
      step();
      if (absl::Now() - start >= kPrompt) problems.push_back(absl::StrCat(what, " was slow"));
    };
    timed("SweepDeadTokens", [&] {
      for (int i = 0; i < 2; ++i) {
        if (const int n = SweepDeadTokens(o_); n != 0) {
          problems.push_back(absl::StrCat("SweepDeadTokens removed ", n));
        }
      }
    });
    timed("IsTokenAlive", [&] {
      if (IsTokenAlive(o_, kMadeUpToken)) problems.push_back("the planted token reads alive");
    });
    for (const bool clean : {false, true}) {
      timed("FindOrphans", [&] {
        const discovery::OrphanReport r = discovery::FindOrphans(o_, clean);
        if (r.foreign_files.size() != 1 || !absl::StrContains(r.foreign_files[0], path) ||
            !absl::StrContains(r.foreign_files[0], absl::StrCat("is a ", kind, " owned by uid"))) {
          problems.push_back(absl::StrCat("FindOrphans(clean=", clean, ") foreign files: [",
                                          absl::StrJoin(r.foreign_files, "; "), "]"));
        }
        if (!r.errors.empty() || !r.dead_tokens.empty()) {
          problems.push_back(absl::StrCat("FindOrphans(clean=", clean, ") errors: [",
                                          absl::StrJoin(r.errors, "; "), "] dead tokens: [",
                                          absl::StrJoin(r.dead_tokens, "; "), "]"));
        }
      });
    }
    {
      absl::StatusOr<Writer> w = Writer::Create(o_, kTopic, {});
      if (!w.ok()) problems.push_back(absl::StrCat("Writer::Create: ", w.status().message()));
      absl::StatusOr<ringcast::Node> node = MakeNode(o_, "bystander");
      const TopicConfig c = Endpoint();
      if (!node.ok()) {
        problems.push_back(absl::StrCat("Node::Create: ", node.status().message()));
      } else if (absl::StatusOr<RawSubscriber> sub =
                     node->CreateRawSubscriber("/elsewhere", BytesType(c), QosOf(c));
                 !sub.ok()) {
        problems.push_back(absl::StrCat("CreateSubscriber: ", sub.status().message()));
      }
    }
    if (warnings.size() != 1 || !absl::StrContains(warnings[0], path) ||
        !absl::StrContains(warnings[0], kind)) {
      problems.push_back(absl::StrCat("warnings: [", absl::StrJoin(warnings, "; "), "]"));
    }
    SetWarningSink(nullptr);
    return absl::StrJoin(problems, "\n");
  });
  ASSERT_NE(c.exit, kKilledByAlarm) << "something blocked until the child was killed";
  EXPECT_EQ(c.exit, 0);
  EXPECT_THAT(c.text, IsEmpty());
  EXPECT_THAT(planted().Changes(), IsEmpty());
}

TEST_P(HostileLivenessNameTest, DoctorReportsItAndCleanLeavesIt) {
  for (const std::vector<std::string>& verb : DoctorRuns()) {
    ExpectDoctorReports(RunCli(o_, verb), planted(), IsJson(verb));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKind, HostileLivenessNameTest,
                         ::testing::Values(Kind::kFifo, Kind::kSymlink, Kind::kDirectory,
                                           Kind::kSocket),
                         KindParamName);

// ---- At a pool's name ----------------------------------------------------

class HostilePoolNameTest : public PlantedFixture {
 protected:
  std::string NameToPlant() const override { return PoolSegmentName(o_, kMadeUpToken); }
};

TEST_P(HostilePoolNameTest, FindOrphansReportsItAndCleanLeavesIt) {
  ExpectReportedAsForeign(FindOrphansInChild(o_, /*clean=*/false), planted());
  ExpectReportedAsForeign(FindOrphansInChild(o_, /*clean=*/true), planted());
}

INSTANTIATE_TEST_SUITE_P(EveryKind, HostilePoolNameTest,
                         ::testing::Values(Kind::kFifo, Kind::kSymlink, Kind::kDirectory,
                                           Kind::kSocket),
                         KindParamName);

// ---- Another user's regular file -----------------------------------------

// A regular file can be opened without blocking, so what protects us is
// the owner and mode check before any lock, map or write: an empty file
// like this one would otherwise be taken for a segment whose creator died
// and be "repaired" (truncated, allocated and written) in place.
TEST(HostileRegularFileTest, AnotherUsersLooseFileAtATopicNameIsRefusedNamingOwnerAndMode) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to uid 65534";
  const ShmOptions o = UniqueOptions();
  const std::string path = absl::StrCat(o.dir, *TopicSegmentName(o, kTopic));
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  struct Unlink {
    std::string path;
    ~Unlink() { ::unlink(path.c_str()); }
  } cleanup{path};
  ASSERT_EQ(::fchown(fd, 65534, 65534), 0) << std::strerror(errno);
  ASSERT_EQ(::fchmod(fd, 0666), 0) << std::strerror(errno);
  ::close(fd);

  const ChildCall writer =
      CallInChild([&](absl::Time&) { return Writer::Create(o, kTopic, {}).status(); });
  ASSERT_NE(writer.exit, kKilledByAlarm);
  EXPECT_EQ(writer.code, absl::StatusCode::kPermissionDenied) << writer.message;
  EXPECT_LT(writer.took, kPrompt);
  EXPECT_THAT(writer.message, HasSubstr(path));
  EXPECT_THAT(writer.message, HasSubstr("owned by uid 65534"));
  EXPECT_THAT(writer.message, HasSubstr("mode 0666"));

  const ChildCall reader =
      CallInChild([&](absl::Time&) { return Reader::Create(o, kTopic, {}).status(); });
  EXPECT_EQ(reader.code, absl::StatusCode::kPermissionDenied) << reader.message;
  EXPECT_THAT(reader.message, HasSubstr("owned by uid 65534"));
  EXPECT_THAT(reader.message, HasSubstr("mode 0666"));

  const OrphanLook look = FindOrphansInChild(o, /*clean=*/true);
  EXPECT_EQ(look.exit, 0);
  ASSERT_EQ(look.foreign.size(), 1u) << absl::StrJoin(look.foreign, "\n");
  EXPECT_THAT(look.foreign[0], HasSubstr("owned by uid 65534"));

  // Untouched: still nobody's, still empty, still 0666.
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);

  ::unlink(path.c_str());
  ReleaseProcessTokens();
  EXPECT_THAT(FilesWithPrefix(kShmDir, o.prefix + "."), IsEmpty());
}

// The same seen by a user who may not even open the file: open() fails
// with EACCES before any check of ours can run, and the refusal must still
// say what is there and whose it is, not just "Permission denied".
TEST(HostileRegularFileTest, AnotherUsersPrivateFileIsDescribedToAUserWhoCannotOpenIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as two users";
  const ShmOptions o = UniqueOptions();
  const std::string path = absl::StrCat(o.dir, *TopicSegmentName(o, kTopic));
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ::close(fd);
  struct Unlink {
    std::string path;
    ~Unlink() { ::unlink(path.c_str()); }
  } cleanup{path};

  // The child becomes uid 65534; its own liveness file is its own, and it
  // removes it on the way out.
  auto as_nobody = [](absl::FunctionRef<absl::Status()> call) {
    return CallInChild([&](absl::Time& start) -> absl::Status {
      if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
        return SetupFailed(absl::ErrnoToStatus(errno, "setuid(65534)"));
      }
      start = absl::Now();
      return call();
    });
  };
  for (const ChildCall& c :
       {as_nobody([&] { return Writer::Create(o, kTopic, {}).status(); }),
        as_nobody([&] { return Reader::Create(o, kTopic, {}).status(); }),
        as_nobody([&] { return TopicSegment::Observe(o, kTopic).status(); })}) {
    ASSERT_NE(c.exit, kKilledByAlarm);
    EXPECT_EQ(c.code, absl::StatusCode::kPermissionDenied) << c.message;
    EXPECT_LT(c.took, kPrompt);
    EXPECT_THAT(c.message, HasSubstr(path));
    EXPECT_THAT(c.message, HasSubstr("regular file owned by uid 0"));
    EXPECT_THAT(c.message, HasSubstr("mode 0600"));
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);

  ::unlink(path.c_str());
  ReleaseProcessTokens();
  EXPECT_THAT(FilesWithPrefix(kShmDir, o.prefix + "."), IsEmpty());
}

}  // namespace
}  // namespace ringcast::transport
