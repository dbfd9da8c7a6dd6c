// The ring between processes: fan-out without loss, exact loss when
// lapped, several publishers merged in per-publisher order.
#include <unistd.h>

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "tests/transport/ring_test_util.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::UniqueOptions;

using ::ringcast::testing::StartChild;
using ::ringcast::testing::WaitChild;
using test::AwaitCursors;
using test::AwaitSubscribers;
using test::Payload;
using test::TagOf;

constexpr std::uint64_t kMillion = 1000000;

TopicConfig Config(std::uint32_t depth) {
  TopicConfig c;
  c.type_name = "test.Tagged";
  c.depth = depth;
  return c;
}

// A subscriber process body: reads `expected` samples from one publisher,
// checking sequence and content. Exit codes say what went wrong.
int SubscribeAndCheck(const ShmOptions& o, const TopicConfig& c, std::uint64_t expected,
                      bool expect_no_loss) {
  absl::StatusOr<Reader> r = Reader::Create(o, "/fanout", c);
  if (!r.ok()) return 10;
  std::vector<std::byte> got;
  SampleInfo info;
  std::uint64_t next = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(150);
  while (next < expected) {
    if (absl::Now() > deadline) return 11;
    if (!r->Wait(absl::Milliseconds(100)).ok()) continue;
    while (*r->Take(&got, &info)) {
      if (info.sequence != next + info.lost_before) return 12;
      if (TagOf(got) != info.sequence) return 13;
      next = info.sequence + 1;
    }
  }
  if (r->received() + r->lost() != expected) return 14;
  if (expect_no_loss && r->lost() != 0) return 15;
  return 0;
}

TEST(MultiProcessTest, OnePublisherFourSubscriberProcessesMillionMessages) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(4096);
  std::vector<pid_t> subs;
  for (int i = 0; i < 4; ++i) {
    subs.push_back(StartChild([&] { return SubscribeAndCheck(o, c, kMillion, true); },
                              absl::Seconds(200)));
  }
  absl::StatusOr<Writer> w = Writer::Create(o, "/fanout", c);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(AwaitSubscribers(w->topic(), 4, absl::Seconds(30)));
  for (std::uint64_t i = 0; i < kMillion; ++i) {
    // Keep within half a ring of the slowest subscriber: they keep up.
    if (i % 1024 == 0 && i >= 2048) {
      ASSERT_TRUE(AwaitCursors(w->topic(), w->ring_index(), i - 2048, absl::Seconds(60)))
          << "subscribers stalled at " << i;
    }
    ASSERT_TRUE(w->Publish(Payload(i)).ok());
  }
  for (const pid_t pid : subs) EXPECT_EQ(WaitChild(pid, absl::Seconds(200)), 0);
}

TEST(MultiProcessTest, LappedSubscriberProcessIsToldExactlyWhatItLost) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(64);
  int go[2], done[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(done), 0);
  constexpr std::uint64_t kFirst = 10000;
  const pid_t sub = StartChild([&] {
    absl::StatusOr<Reader> r = Reader::Create(o, "/fanout", c);
    if (!r.ok()) return 10;
    char b;
    if (::read(go[0], &b, 1) != 1) return 11;  // the publisher ran ahead
    std::vector<std::byte> got;
    SampleInfo info;
    std::uint64_t lost_reported = 0, n = 0, first_seq = 0;
    while (*r->Take(&got, &info)) {
      if (n++ == 0) first_seq = info.sequence;
      lost_reported += info.lost_before;
      if (TagOf(got) != info.sequence) return 12;
    }
    // Head 10000, depth 64: it restarts at 10000 + 1 - 64 = 9937.
    if (first_seq != kFirst + 1 - 64) return 13;
    if (lost_reported != kFirst + 1 - 64 || r->lost() != lost_reported) return 14;
    if (n != 63 || r->received() != 63) return 15;
    (void)!::write(done[1], "x", 1);
    // Now it keeps up: 100 more, none lost.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (r->received() < 163 && absl::Now() < deadline) {
      if (!r->Wait(absl::Milliseconds(100)).ok()) continue;
      while (*r->Take(&got, &info)) {
        if (info.lost_before != 0 || TagOf(got) != info.sequence) return 16;
      }
    }
    return r->received() == 163 && r->lost() == kFirst + 1 - 64 ? 0 : 17;
  });
  absl::StatusOr<Writer> w = Writer::Create(o, "/fanout", c);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(AwaitSubscribers(w->topic(), 1, absl::Seconds(30)));
  for (std::uint64_t i = 0; i < kFirst; ++i) ASSERT_TRUE(w->Publish(Payload(i)).ok());
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  char b;
  ASSERT_EQ(::read(done[0], &b, 1), 1);
  // The shared counters tell any observer the same.
  const TopicSegment& t = w->topic();
  std::uint64_t lost = 0;
  for (std::uint32_t i = 0; i < t.geometry().max_subscribers; ++i) {
    lost += t.subscriber_counters(i).lost.load();
  }
  EXPECT_EQ(lost, kFirst + 1 - 64);
  for (std::uint64_t i = kFirst; i < kFirst + 100; ++i) {
    ASSERT_TRUE(AwaitCursors(t, w->ring_index(), i > 32 ? i - 32 : 0, absl::Seconds(30)));
    ASSERT_TRUE(w->Publish(Payload(i)).ok());
  }
  EXPECT_EQ(WaitChild(sub), 0);
  for (int fd : {go[0], go[1], done[0], done[1]}) ::close(fd);
}

TEST(MultiProcessTest, ThreePublishersTwoSubscribersKeepPerPublisherOrder) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(1024);
  constexpr std::uint64_t kEach = kMillion / 10;
  std::vector<pid_t> subs;
  for (int s = 0; s < 2; ++s) {
    subs.push_back(StartChild(
        [&] {
          absl::StatusOr<Reader> r = Reader::Create(o, "/fanout", c);
          if (!r.ok()) return 10;
          absl::flat_hash_map<std::uint64_t, std::uint64_t> next;  // publisher -> seq
          std::vector<std::byte> got;
          SampleInfo info;
          const absl::Time deadline = absl::Now() + absl::Seconds(150);
          while (r->received() < 3 * kEach) {
            if (absl::Now() > deadline) return 11;
            if (!r->Wait(absl::Milliseconds(100)).ok()) continue;
            while (*r->Take(&got, &info)) {
              if (info.lost_before != 0) return 12;
              std::uint64_t& n = next[info.publisher_id];
              if (info.sequence != n) return 13;
              // Tag: publisher number in the top byte, sequence below.
              if ((TagOf(got) & 0x00FFFFFFFFFFFFFF) != info.sequence) return 14;
              ++n;
            }
          }
          if (next.size() != 3) return 15;
          for (const auto& [id, n] : next) {
            if (n != kEach) return 16;
          }
          return r->lost() == 0 ? 0 : 17;
        },
        absl::Seconds(200)));
  }
  std::vector<pid_t> pubs;
  for (std::uint64_t p = 0; p < 3; ++p) {
    pubs.push_back(StartChild(
        [&] {
          absl::StatusOr<Writer> w = Writer::Create(o, "/fanout", c);
          if (!w.ok()) return 20;
          if (!AwaitSubscribers(w->topic(), 2, absl::Seconds(30))) return 21;
          for (std::uint64_t i = 0; i < kEach; ++i) {
            if (i % 256 == 0 && i >= 512 &&
                !AwaitCursors(w->topic(), w->ring_index(), i - 512, absl::Seconds(60))) {
              return 22;
            }
            if (!w->Publish(Payload(p << 56 | i)).ok()) return 23;
          }
          // Stay until the subscribers have everything: a ring stays
          // readable after its owner leaves, but only while mapped by them.
          return AwaitCursors(w->topic(), w->ring_index(), kEach, absl::Seconds(60)) ? 0 : 24;
        },
        absl::Seconds(200)));
  }
  for (const pid_t pid : pubs) EXPECT_EQ(WaitChild(pid, absl::Seconds(200)), 0);
  for (const pid_t pid : subs) EXPECT_EQ(WaitChild(pid, absl::Seconds(200)), 0);
}

}  // namespace
}  // namespace ringcast::transport
