// kill -9 in the middle of things: subscribers survive a dead publisher and
// its ring is reclaimed; a dead subscriber's entry is reclaimed; nothing is
// left behind once the living leave.
#include <signal.h>
#include <unistd.h>

#include <vector>

#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "tests/transport/ring_test_util.h"
#include "transport/liveness.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::UniqueOptions;

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::KillChild;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::WaitChild;
using test::AwaitSubscribers;
using test::Payload;
using test::TagOf;

TopicConfig Config() {
  TopicConfig c;
  c.type_name = "test.Tagged";
  c.depth = 256;
  c.max_publishers = 1;  // a second publisher can only get the dead one's ring
  c.max_subscribers = 2;
  return c;
}

TEST(CrashTest, PublisherKilledMidStreamIsReplacedAndSubscribersStayUp) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  // The subscriber reports the first publisher's id, then keeps reading
  // until a sample from another publisher arrives.
  const pid_t sub = StartChild([&] {
    absl::StatusOr<Reader> r = Reader::Create(o, "/crash", c);
    if (!r.ok()) return 10;
    std::vector<std::byte> got;
    SampleInfo info;
    std::uint64_t first = 0, last_seq = 0;
    bool reported = false;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      if (!r->Wait(absl::Milliseconds(50)).ok()) continue;
      while (*r->Take(&got, &info)) {
        if (TagOf(got) != info.sequence) return 11;
        if (first == 0) first = info.publisher_id;
        if (!reported && info.sequence >= 1000) {
          (void)!::write(pipe_fds[1], &first, sizeof first);
          reported = true;
        }
        if (info.publisher_id != first) {
          // The new owner continues the ring's sequence.
          return info.sequence > last_seq ? 0 : 12;
        }
        last_seq = info.sequence;
      }
    }
    return 13;
  });
  const pid_t pub = StartChild([&] {
    absl::StatusOr<Writer> w = Writer::Create(o, "/crash", c);
    if (!w.ok()) return 20;
    if (!AwaitSubscribers(w->topic(), 1, absl::Seconds(30))) return 21;
    for (std::uint64_t i = 0;; ++i) {
      (void)w->Publish(Payload(i));
      if (i % 64 == 0) absl::SleepFor(absl::Microseconds(100));
    }
  });
  std::uint64_t first_id = 0;
  ASSERT_EQ(::read(pipe_fds[0], &first_id, sizeof first_id),
            static_cast<ssize_t>(sizeof first_id));
  KillChild(pub);  // mid-stream, whatever it was doing

  // The only ring belongs to a dead process: the next publisher reclaims it.
  absl::StatusOr<Writer> w = Writer::Create(o, "/crash", c);
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_NE(w->publisher_id(), first_id);
  EXPECT_GT(w->next_sequence(), 1000u);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(w->Publish(Payload(w->next_sequence())).ok());
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(WaitChild(sub), 0);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(CrashTest, SubscriberKilledHasItsEntryReclaimed) {
  const ShmOptions o = UniqueOptions();
  TopicConfig c = Config();
  c.max_subscribers = 1;
  absl::StatusOr<Writer> w = Writer::Create(o, "/crash", c);
  ASSERT_TRUE(w.ok());
  const pid_t sub = StartChild([&] {
    ReaderOptions ro;
    ro.spin = absl::ZeroDuration();
    absl::StatusOr<Reader> r = Reader::Create(o, "/crash", c, ro);
    if (!r.ok()) return 10;
    for (;;) (void)r->Wait(absl::Seconds(1));  // asleep, sleeping bit set
  });
  ASSERT_TRUE(AwaitSubscribers(w->topic(), 1, absl::Seconds(30)));
  absl::SleepFor(absl::Milliseconds(50));
  KillChild(sub);
  // The table is full of a dead subscriber; joining reclaims it.
  absl::StatusOr<Reader> r = Reader::Create(o, "/crash", c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(test::ActiveSubscribers(w->topic()), 1);
  // Its sleeping bit is gone: publishing rings nobody's doorbell.
  EXPECT_EQ(w->topic().header().sleeping[0].load(), 0u);
  ASSERT_TRUE(w->Publish(Payload(w->next_sequence())).ok());
  std::vector<std::byte> got;
  SampleInfo info;
  EXPECT_TRUE(*r->Take(&got, &info));
}

TEST(CrashTest, EveryoneKilledLeavesNothingOnceTheNextUserLeaves) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config();
  std::vector<pid_t> kids;
  kids.push_back(StartChild([&] {
    absl::StatusOr<Writer> w = Writer::Create(o, "/crash", c);
    if (!w.ok()) return 1;
    for (std::uint64_t i = 0;; ++i) {
      (void)w->Publish(Payload(i));
      absl::SleepFor(absl::Microseconds(50));
    }
  }));
  for (int i = 0; i < 2; ++i) {
    kids.push_back(StartChild([&] {
      absl::StatusOr<Reader> r = Reader::Create(o, "/crash", c);
      if (!r.ok()) return 1;
      std::vector<std::byte> got;
      SampleInfo info;
      for (;;) {
        if (r->Wait(absl::Seconds(1)).ok()) (void)r->Take(&got, &info);
      }
    }));
  }
  // Wait for all three to be in, then kill them all.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (FilesWithPrefix(kShmDir, o.prefix).size() < 4 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(50));
  for (const pid_t pid : kids) KillChild(pid);
  // One more user comes and goes: it reclaims every dead entry (removing
  // their liveness files) and, as the last participant, unlinks the topic.
  {
    absl::StatusOr<Reader> r = Reader::Create(o, "/crash", c);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(test::ActiveSubscribers(r->topic()), 1);
  }
  ReleaseProcessTokens();
  EXPECT_EQ(FilesWithPrefix(kShmDir, o.prefix), std::vector<std::string>{});
}

}  // namespace
}  // namespace ringcast::transport
