// Segment life cycle, permissions, header checks and ENOSPC.
#include "transport/segment.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "transport/topic_layout.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::UniqueOptions;

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::RunInChild;
using ::ringcast::testing::UniquePrefix;
using ::testing::HasSubstr;

constexpr std::uint64_t kSize = 64 << 10;

std::string Name(const ShmOptions& o, absl::string_view rest = "seg") {
  return absl::StrCat("/", o.prefix, ".0.", rest);
}

void FillPattern(std::byte* base, std::uint64_t size) {
  for (std::uint64_t i = sizeof(SegmentHeader); i < size; ++i) {
    base[i] = static_cast<std::byte>(i * 7);
  }
}

SegmentHeader& MutableHeader(const Segment& s) {
  return *reinterpret_cast<SegmentHeader*>(s.base());
}

TEST(SegmentTest, CreateOpenLeaveUnlinksWhenLast) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  absl::StatusOr<Segment> a = Segment::Create(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->size(), kSize);
  EXPECT_EQ(a->header().magic.load(), kSegmentMagic);
  EXPECT_EQ(a->header().layout_version, kLayoutVersion);

  struct stat st {};
  ASSERT_EQ(::stat(a->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), kSize);
  // posix_fallocate committed every page.
  EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512, kSize);

  absl::StatusOr<Segment> b =
      Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(std::memcmp(a->base(), b->base(), kSize), 0);
  EXPECT_EQ(Segment::Create(o, name, SegmentKind::kTopic, kSize, FillPattern).status().code(),
            absl::StatusCode::kAlreadyExists);

  EXPECT_FALSE(*Segment::IsUnused(o, name));
  EXPECT_FALSE(a->Leave());  // b still participates
  EXPECT_TRUE(b->Leave());   // the last one unlinks
  EXPECT_TRUE(FilesWithPrefix(kShmDir, o.prefix).empty());
}

TEST(SegmentTest, ObserverTakesNoLockAndCannotKeepTheSegment) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  absl::StatusOr<Segment> a = Segment::Create(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<Segment> obs =
      Segment::Open(o, name, SegmentKind::kTopic, Segment::Access::kObserver);
  ASSERT_TRUE(obs.ok()) << obs.status();
  EXPECT_FALSE(obs->writable());
  EXPECT_TRUE(a->Leave());
}

// Every field of the segment header and of a topic segment, as
// "struct.field@offset+size", so that a moved, resized or added field
// changes the text.
std::string LayoutFingerprint() {
  namespace in = internal;
  std::string out;
#define RINGCAST_FIELD(T, f) \
  absl::StrAppend(&out, #T ".", #f, "@", offsetof(T, f), "+", sizeof(T::f), " ")
#define RINGCAST_SIZE(T) absl::StrAppend(&out, #T "=", sizeof(T), " ")
  RINGCAST_SIZE(SegmentHeader);
  RINGCAST_FIELD(SegmentHeader, magic);
  RINGCAST_FIELD(SegmentHeader, layout_version);
  RINGCAST_FIELD(SegmentHeader, kind);
  RINGCAST_FIELD(SegmentHeader, total_size);
  RINGCAST_FIELD(SegmentHeader, creator_pid);
  RINGCAST_FIELD(SegmentHeader, header_size);
  RINGCAST_FIELD(SegmentHeader, creator_start_time);
  RINGCAST_FIELD(SegmentHeader, initialised);
  RINGCAST_SIZE(in::TopicHeader);
  RINGCAST_FIELD(in::TopicHeader, type_name);
  RINGCAST_FIELD(in::TopicHeader, type_hash);
  RINGCAST_FIELD(in::TopicHeader, depth);
  RINGCAST_FIELD(in::TopicHeader, slot_size);
  RINGCAST_FIELD(in::TopicHeader, max_publishers);
  RINGCAST_FIELD(in::TopicHeader, max_subscribers);
  RINGCAST_FIELD(in::TopicHeader, max_held_samples);
  RINGCAST_FIELD(in::TopicHeader, max_message_size);
  RINGCAST_FIELD(in::TopicHeader, rings_offset);
  RINGCAST_FIELD(in::TopicHeader, ring_stride);
  RINGCAST_FIELD(in::TopicHeader, subscribers_offset);
  RINGCAST_FIELD(in::TopicHeader, subscriber_stride);
  RINGCAST_FIELD(in::TopicHeader, ring_generation);
  RINGCAST_FIELD(in::TopicHeader, subscriber_generation);
  RINGCAST_FIELD(in::TopicHeader, next_endpoint_id);
  RINGCAST_FIELD(in::TopicHeader, fenced_sleepers);
  RINGCAST_FIELD(in::TopicHeader, sleeping);
  RINGCAST_SIZE(in::RingControl);
  RINGCAST_FIELD(in::RingControl, state);
  RINGCAST_FIELD(in::RingControl, token);
  RINGCAST_FIELD(in::RingControl, publisher_id);
  RINGCAST_FIELD(in::RingControl, start_seq);
  RINGCAST_FIELD(in::RingControl, owner_pid);
  RINGCAST_FIELD(in::RingControl, owner_start_time);
  RINGCAST_FIELD(in::RingControl, pool_id);
  RINGCAST_FIELD(in::RingControl, anomalies);
  RINGCAST_FIELD(in::RingControl, owners);
  RINGCAST_SIZE(in::RingHot);
  RINGCAST_FIELD(in::RingHot, head);
  RINGCAST_FIELD(in::RingHot, bytes);
  RINGCAST_FIELD(in::RingHot, last_publish_ns);
  RINGCAST_FIELD(in::RingHot, retained_from);
  RINGCAST_SIZE(in::RingWait);
  RINGCAST_FIELD(in::RingWait, wake);
  RINGCAST_FIELD(in::RingWait, waiting);
  RINGCAST_SIZE(in::SlotHeader);
  RINGCAST_FIELD(in::SlotHeader, word);
  RINGCAST_FIELD(in::SlotHeader, publish_ns);
  RINGCAST_SIZE(in::SubscriberControl);
  RINGCAST_FIELD(in::SubscriberControl, state);
  RINGCAST_FIELD(in::SubscriberControl, token);
  RINGCAST_FIELD(in::SubscriberControl, subscriber_id);
  RINGCAST_FIELD(in::SubscriberControl, owner_pid);
  RINGCAST_FIELD(in::SubscriberControl, flags);
  RINGCAST_FIELD(in::SubscriberControl, owner_start_time);
  RINGCAST_FIELD(in::SubscriberControl, anomalies);
  RINGCAST_SIZE(in::Doorbell);
  RINGCAST_SIZE(in::SubscriberCounters);
  RINGCAST_FIELD(in::SubscriberCounters, received);
  RINGCAST_FIELD(in::SubscriberCounters, lost);
#undef RINGCAST_FIELD
#undef RINGCAST_SIZE
  absl::StrAppend(&out, "counters@", in::kSubscriberCountersOffset, " cursors@",
                  in::kSubscriberCursorsOffset, " ring(4,64)=", in::RingStride(4, 64),
                  " subscriber(8,8)=", in::SubscriberStride(8, 8), " slot_header=",
                  in::kSlotHeaderSize, " size_bits=", in::kSizeBits, " stamp_bits=",
                  std::bit_width(in::kStampMask), " reliable_flag=", in::kSubscriberReliable,
                  " transient_flag=", in::kSubscriberTransientLocal,
                  " sleeps_flag=", in::kSubscriberSleeps);
  return out;
}

// The layout the current version speaks. Moving, resizing or adding a
// field changes the fingerprint: then bump kLayoutVersion
// (segment_layout.h) and record the new version's line here in place of
// the old one. A change without a bump fails.
TEST(SegmentTest, TopicLayoutIsPinnedToItsVersion) {
  const std::map<std::uint32_t, std::string> known = {
      {6, "SegmentHeader=64 SegmentHeader.magic@0+8 SegmentHeader.layout_version@8+4 "
          "SegmentHeader.kind@12+4 SegmentHeader.total_size@16+8 SegmentHeader.creator_pid@24+4 "
          "SegmentHeader.header_size@28+4 SegmentHeader.creator_start_time@32+8 "
          "SegmentHeader.initialised@40+4 in::TopicHeader=384 in::TopicHeader.type_name@0+128 "
          "in::TopicHeader.type_hash@128+8 in::TopicHeader.depth@136+4 "
          "in::TopicHeader.slot_size@140+4 in::TopicHeader.max_publishers@144+4 "
          "in::TopicHeader.max_subscribers@148+4 in::TopicHeader.max_held_samples@152+4 "
          "in::TopicHeader.max_message_size@160+8 in::TopicHeader.rings_offset@168+8 "
          "in::TopicHeader.ring_stride@176+8 in::TopicHeader.subscribers_offset@184+8 "
          "in::TopicHeader.subscriber_stride@192+8 in::TopicHeader.ring_generation@256+8 "
          "in::TopicHeader.subscriber_generation@264+8 in::TopicHeader.next_endpoint_id@272+8 "
          "in::TopicHeader.fenced_sleepers@280+4 "
          "in::TopicHeader.sleeping@320+64 in::RingControl=128 in::RingControl.state@0+8 "
          "in::RingControl.token@8+8 in::RingControl.publisher_id@16+8 "
          "in::RingControl.start_seq@24+8 in::RingControl.owner_pid@32+4 "
          "in::RingControl.owner_start_time@40+8 in::RingControl.pool_id@48+8 "
          "in::RingControl.anomalies@56+8 in::RingControl.owners@64+64 in::RingHot=64 "
          "in::RingHot.head@0+8 in::RingHot.bytes@8+8 in::RingHot.last_publish_ns@16+8 "
          "in::RingHot.retained_from@24+8 in::RingWait=64 in::RingWait.wake@0+4 "
          "in::RingWait.waiting@4+4 in::SlotHeader=16 in::SlotHeader.word@0+8 "
          "in::SlotHeader.publish_ns@8+8 in::SubscriberControl=64 "
          "in::SubscriberControl.state@0+8 in::SubscriberControl.token@8+8 "
          "in::SubscriberControl.subscriber_id@16+8 in::SubscriberControl.owner_pid@24+4 "
          "in::SubscriberControl.flags@28+4 in::SubscriberControl.owner_start_time@32+8 "
          "in::SubscriberControl.anomalies@40+8 in::Doorbell=64 in::SubscriberCounters=16 "
          "in::SubscriberCounters.received@0+8 in::SubscriberCounters.lost@8+8 counters@128 "
          "cursors@144 ring(4,64)=512 subscriber(8,8)=384 slot_header=16 size_bits=24 "
          "stamp_bits=40 reliable_flag=1 transient_flag=2 sleeps_flag=4"},
  };
  const auto it = known.find(kLayoutVersion);
  ASSERT_NE(it, known.end()) << "kLayoutVersion " << kLayoutVersion
                             << " has no fingerprint here; add this line for it:\n"
                             << LayoutFingerprint();
  EXPECT_EQ(LayoutFingerprint(), it->second)
      << "the topic layout changed without a bump of kLayoutVersion (segment_layout.h)";
}


TEST(SegmentTest, OpenMissingIsNotFound) {
  const ShmOptions o = UniqueOptions();
  absl::StatusOr<Segment> s =
      Segment::Open(o, Name(o), SegmentKind::kTopic, Segment::Access::kObserver);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.status().message(), HasSubstr(Name(o)));
}

TEST(SegmentTest, RejectsBadNames) {
  const ShmOptions o = UniqueOptions();
  for (const std::string& bad : {std::string(""), std::string("/"), std::string("noslash"),
                                 std::string("/a/b"), "/" + std::string(300, 'x')}) {
    EXPECT_EQ(Segment::Create(o, bad, SegmentKind::kTopic, kSize, FillPattern).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(SegmentTest, GroupModeIs0660) {
  ShmOptions o = UniqueOptions();
  o.group = ::getegid();
  absl::StatusOr<Segment> a = Segment::Create(o, Name(o), SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(a.ok()) << a.status();
  struct stat st {};
  ASSERT_EQ(::stat(a->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_TRUE(a->Leave());
}

// The corruptions a header check must catch, each an error and no crash.
struct Corruption {
  const char* what;
  void (*apply)(SegmentHeader&);
  absl::StatusCode code;
  const char* message;
};

void PrintTo(const Corruption& c, std::ostream* os) { *os << c.what; }

class CorruptHeaderTest : public ::testing::TestWithParam<Corruption> {};

TEST_P(CorruptHeaderTest, IsAnErrorNotACrash) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  absl::StatusOr<Segment> a = Segment::Create(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(a.ok()) << a.status();
  GetParam().apply(MutableHeader(*a));
  for (const Segment::Access access :
       {Segment::Access::kObserver, Segment::Access::kParticipant}) {
    absl::StatusOr<Segment> b = Segment::Open(o, name, SegmentKind::kTopic, access);
    EXPECT_EQ(b.status().code(), GetParam().code) << b.status();
    EXPECT_THAT(b.status().message(), HasSubstr(GetParam().message));
    EXPECT_THAT(b.status().message(), HasSubstr(a->path()));
  }
  // OpenOrCreate must not "repair" a segment that is corrupt, not unfinished.
  if (GetParam().code != absl::StatusCode::kUnavailable) {
    EXPECT_EQ(Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern)
                  .status()
                  .code(),
              GetParam().code);
  }
  ASSERT_TRUE(Segment::Unlink(o, name).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Corruptions, CorruptHeaderTest,
    ::testing::Values(
        Corruption{"magic", [](SegmentHeader& h) { h.magic.store(0x1234); },
                   absl::StatusCode::kDataLoss, "magic 0x0000000000001234"},
        Corruption{"version", [](SegmentHeader& h) { h.layout_version = 99; },
                   absl::StatusCode::kFailedPrecondition, "layout version 99"},
        Corruption{"kind", [](SegmentHeader& h) { h.kind = SegmentKind::kPool; },
                   absl::StatusCode::kFailedPrecondition, "is a pool segment"},
        Corruption{"total_size", [](SegmentHeader& h) { h.total_size = 1 << 30; },
                   absl::StatusCode::kDataLoss, "header says 1073741824 bytes"},
        Corruption{"header_size", [](SegmentHeader& h) { h.header_size = 0xFFFFFFF0; },
                   absl::StatusCode::kDataLoss, "header size 4294967280"}),
    [](const ::testing::TestParamInfo<Corruption>& info) { return info.param.what; });

TEST(SegmentTest, RefusesALooserMode) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  absl::StatusOr<Segment> a = Segment::Create(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(::chmod(a->path().c_str(), 0666), 0);
  absl::StatusOr<Segment> b =
      Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(b.status().message(), HasSubstr("mode 0666, looser than the configured 0600"));
  EXPECT_TRUE(a->Leave());
}

// A directory both users can write, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/ringcast-seg-XXXXXX";
    path_ = ::mkdtemp(tmpl);
    ::chmod(path_.c_str(), 01777);
  }
  ~ScratchDir() { std::system(absl::StrCat("rm -rf '", path_, "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(SegmentTest, RefusesASegmentOwnedByAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create a file as nobody";
  ScratchDir dir;
  ShmOptions o = UniqueOptions();
  o.dir = dir.path();
  const std::string name = Name(o);
  // A child that drops to nobody (65534) plants the segment.
  const int planted = RunInChild([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
    absl::StatusOr<Segment> s =
        Segment::Create(o, name, SegmentKind::kTopic, kSize, FillPattern);
    return s.ok() ? 0 : 11;  // exits without Leave(): the file stays
  });
  ASSERT_EQ(planted, 0);
  absl::StatusOr<Segment> mine =
      Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
  EXPECT_EQ(mine.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(mine.status().message(), HasSubstr("owned by uid 65534 (nobody)"));
  EXPECT_THAT(mine.status().message(), HasSubstr(dir.path()));
  absl::StatusOr<Segment> seen =
      Segment::Open(o, name, SegmentKind::kTopic, Segment::Access::kObserver);
  EXPECT_EQ(seen.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(SegmentTest, FullDirectoryIsAnErrorAtCreationNotASigbus) {
  if (const std::string why = ::ringcast::testing::WhyNoPrivateTmpfs(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  ScratchDir dir;
  ShmOptions o = UniqueOptions();
  o.dir = dir.path();
  const std::string name = Name(o);
  // In a private mount namespace, a 256 KiB tmpfs over the scratch dir.
  const int code = RunInChild([&] {
    // Steps 10-12: unshare, private mounts, the mount.
    if (const int step = ::ringcast::testing::MountPrivateTmpfs(o.dir, "size=256k"); step != 0) {
      return 9 + step;
    }
    absl::StatusOr<Segment> big =
        Segment::Create(o, name, SegmentKind::kTopic, 8 << 20, FillPattern);
    if (big.status().code() != absl::StatusCode::kResourceExhausted) return 13;
    const std::string msg(big.status().message());
    if (msg.find("needs 8388608 bytes") == std::string::npos) return 14;
    if (msg.find(" free") == std::string::npos) return 15;
    // Nothing half-made is left, and a small segment still fits.
    if (!FilesWithPrefix(o.dir, o.prefix).empty()) return 16;
    absl::StatusOr<Segment> small =
        Segment::Create(o, name, SegmentKind::kTopic, kSize, FillPattern);
    if (!small.ok() || !small->Leave()) return 17;
    return 0;
  });
  EXPECT_EQ(code, 0) << "child step " << code << " failed (see the test body)";
}

TEST(SegmentTest, CreatorKilledDuringInitialisationIsRepairedByTheNextOpener) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  // The child dies by SIGKILL inside its init function: the file exists,
  // sized, with no magic.
  const int code = RunInChild([&] {
    (void)Segment::Create(o, name, SegmentKind::kTopic, kSize,
                          [](std::byte*, std::uint64_t) { ::raise(SIGKILL); });
    return 1;
  });
  ASSERT_EQ(code, 128 + SIGKILL);
  ASSERT_EQ(FilesWithPrefix(kShmDir, o.prefix).size(), 1u);

  // An observer sees an unfinished segment, not garbage.
  EXPECT_EQ(Segment::Open(o, name, SegmentKind::kTopic, Segment::Access::kObserver)
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
  absl::StatusOr<Segment> repaired =
      Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->header().magic.load(), kSegmentMagic);
  EXPECT_EQ(repaired->header().creator_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(repaired->base()[kSize - 1], static_cast<std::byte>((kSize - 1) * 7));
  EXPECT_TRUE(repaired->Leave());
}

TEST(SegmentTest, OpenerWaitsForACreatorStillInitialising) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  // The child creates slowly; the parent opens while it is at it.
  const pid_t child = ::ringcast::testing::StartChild([&] {
    absl::StatusOr<Segment> s =
        Segment::Create(o, name, SegmentKind::kTopic, kSize, [&](std::byte* b, std::uint64_t n) {
          char c = 1;
          (void)!::write(pipe_fds[1], &c, 1);
          absl::SleepFor(absl::Milliseconds(300));
          FillPattern(b, n);
        });
    if (!s.ok()) return 1;
    absl::SleepFor(absl::Milliseconds(200));  // hold it while the parent checks
    s->Leave();
    return 0;
  });
  char c;
  ASSERT_EQ(::read(pipe_fds[0], &c, 1), 1);
  absl::StatusOr<Segment> b =
      Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->header().creator_pid, static_cast<std::uint32_t>(child));
  EXPECT_EQ(b->base()[100], static_cast<std::byte>(100 * 7));
  EXPECT_EQ(::ringcast::testing::WaitChild(child), 0);
  EXPECT_TRUE(b->Leave());
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

// A creator that stops (SIGSTOP, a debugger) in the middle of initialising
// holds its lock but never finishes: an opener gives up within its bound,
// naming the creator, instead of waiting forever. Once the creator is
// gone, the next opener repairs the segment.
TEST(SegmentTest, OpenerGivesUpOnAStoppedCreatorAndRepairsOnceItIsGone) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::ringcast::testing::StartChild([&] {
    (void)Segment::Create(o, name, SegmentKind::kTopic, kSize, [&](std::byte*, std::uint64_t) {
      char c = 1;
      (void)!::write(pipe_fds[1], &c, 1);
      ::raise(SIGSTOP);
    });
    return 1;
  });
  char c;
  ASSERT_EQ(::read(pipe_fds[0], &c, 1), 1);
  const absl::Time start = absl::Now();
  absl::StatusOr<Segment> b =
      Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable) << b.status();
  EXPECT_THAT(b.status().message(), HasSubstr(absl::StrCat("creator pid ", child)));
  EXPECT_THAT(b.status().message(), HasSubstr(name));
  EXPECT_GE(waited, absl::Seconds(4));
  EXPECT_LT(waited, absl::Seconds(15));
  ::ringcast::testing::KillChild(child);  // SIGKILL ends a stopped process too
  absl::StatusOr<Segment> repaired =
      Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(repaired.ok()) << repaired.status();
  EXPECT_EQ(repaired->header().creator_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(repaired->header().initialised.load(), 1u);
  EXPECT_EQ(repaired->base()[100], static_cast<std::byte>(100 * 7));
  EXPECT_TRUE(repaired->Leave());
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

// Many processes opening one name at once, several finding it half-made:
// exactly one initialises it, and every one joins it within the bound.
TEST(SegmentTest, ConcurrentOpenersOfAHalfMadeSegmentAllJoinIt) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  ASSERT_EQ(RunInChild([&] {
              (void)Segment::Create(o, name, SegmentKind::kTopic, kSize,
                                    [](std::byte*, std::uint64_t) { ::raise(SIGKILL); });
              return 1;
            }),
            128 + SIGKILL);
  constexpr int kOpeners = 6;
  std::vector<pid_t> kids;
  for (int i = 0; i < kOpeners; ++i) {
    kids.push_back(::ringcast::testing::StartChild([&] {
      absl::StatusOr<Segment> s =
          Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
      if (!s.ok()) return 10;
      if (s->base()[kSize - 1] != static_cast<std::byte>((kSize - 1) * 7)) return 11;
      absl::SleepFor(absl::Milliseconds(100));  // all hold it at once
      (void)s->Leave();
      return 0;
    }, absl::Seconds(20)));
  }
  for (const pid_t kid : kids) {
    EXPECT_EQ(::ringcast::testing::WaitChild(kid, absl::Seconds(30)), 0)
        << "10 = OpenOrCreate failed, 11 = not initialised";
  }
  EXPECT_TRUE(FilesWithPrefix(kShmDir, o.prefix).empty());
}

TEST(SegmentTest, DeadParticipantDoesNotPinTheName) {
  const ShmOptions o = UniqueOptions();
  const std::string name = Name(o);
  const pid_t child = ::ringcast::testing::StartChild([&] {
    absl::StatusOr<Segment> s =
        Segment::Create(o, name, SegmentKind::kTopic, kSize, FillPattern);
    if (!s.ok()) return 1;
    ::pause();
    return 0;
  });
  // Wait for the child's segment, then kill it.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (FilesWithPrefix(kShmDir, o.prefix).empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(*Segment::IsUnused(o, name));
  ::ringcast::testing::KillChild(child);
  EXPECT_TRUE(*Segment::IsUnused(o, name));
  absl::StatusOr<Segment> b =
      Segment::OpenOrCreate(o, name, SegmentKind::kTopic, kSize, FillPattern);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->Leave());
}

}  // namespace
}  // namespace ringcast::transport
