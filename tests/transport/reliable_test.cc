// Reliable subscribers: a publisher never overwrites what a live reliable
// subscriber has not taken, waits for it up to its timeout, names it when
// it gives up, and is let go when the subscriber dies (kill -9), whether
// the publisher is spinning or asleep. Best-effort subscribers of the same
// topic are never waited for.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "tests/transport/ring_test_util.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::KillChild;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::UniqueOptions;
using ::ringcast::testing::WaitChild;
using ::testing::HasSubstr;
using test::AwaitSubscribers;

TopicConfig Config(std::uint32_t depth) {
  TopicConfig c;
  c.type_name = "test.Counter";
  c.type_hash = 0x5EED;
  c.depth = depth;
  c.max_subscribers = 8;
  return c;
}

WriterOptions Timeout(absl::Duration timeout) {
  WriterOptions o;
  o.reliable_timeout = timeout;
  return o;
}

ReaderOptions Reliable() {
  ReaderOptions o;
  o.reliable = true;
  return o;
}

std::vector<std::byte> Word(std::uint64_t v) {
  std::vector<std::byte> b(8);
  std::memcpy(b.data(), &v, 8);
  return b;
}

std::uint64_t WordOf(absl::Span<const std::byte> b) {
  std::uint64_t v = ~std::uint64_t{0};
  if (b.size() >= 8) std::memcpy(&v, b.data(), 8);
  return v;
}

// 1 -> 4 reliable at full rate: every subscriber gets every sample, in
// order, and nobody counts a loss, over 10^7 samples (also in the
// sanitizer builds: about 20 s under TSan).
TEST(ReliableTest, OneToFourAtFullRateLosesNothing) {
  constexpr std::uint64_t kSamples = 10'000'000;
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(256);
  std::vector<Reader> readers;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<Reader> r = Reader::Create(o, "/rel", c, Reliable());
    ASSERT_TRUE(r.ok()) << r.status();
    readers.push_back(*std::move(r));
  }
  // Generous: on two shared cores five threads take turns.
  absl::StatusOr<Writer> w = Writer::Create(o, "/rel", c, Timeout(absl::Seconds(30)));
  ASSERT_TRUE(w.ok()) << w.status();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (Reader& r : readers) {
    threads.emplace_back([&r, &failures] {
      std::uint64_t expected = 0;
      while (expected < kSamples) {
        if (!r.Wait(absl::Seconds(30)).ok()) break;
        absl::StatusOr<std::size_t> n =
            r.TakeBatch(64, [&](absl::Span<const std::byte> bytes, const SampleInfo& info) {
              if (WordOf(bytes) != expected || info.lost_before != 0) failures.fetch_add(1);
              ++expected;
            });
        if (!n.ok()) break;
      }
      if (expected != kSamples || r.lost() != 0) failures.fetch_add(1);
    });
  }
  std::uint64_t words[1];
  const absl::Span<const std::byte> bytes(reinterpret_cast<const std::byte*>(words), 8);
  for (std::uint64_t i = 0; i < kSamples; ++i) {
    words[0] = i;
    const absl::Status s = w->Publish(bytes);
    if (!s.ok()) {
      ADD_FAILURE() << "publish " << i << ": " << s;
      break;
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (const Reader& r : readers) {
    EXPECT_EQ(r.received(), kSamples);
    EXPECT_EQ(r.lost(), 0u);
  }
}

// A full ring and a reliable subscriber that does not take: the publish
// fails after the timeout, naming the topic, the subscriber and its lag,
// and publishes nothing; once the subscriber takes, it goes on.
TEST(ReliableTest, FullRingTimesOutNamingTheSubscriberAndItsLag) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(4);
  absl::StatusOr<Reader> r = Reader::Create(o, "/full", c, Reliable());
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<Writer> w = Writer::Create(o, "/full", c, Timeout(absl::Milliseconds(100)));
  ASSERT_TRUE(w.ok()) << w.status();
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(w->Publish(Word(i)).ok());
  const absl::Time start = absl::Now();
  const absl::Status s = w->Publish(Word(4));
  const absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(s.message(), HasSubstr("/full"));
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("reliable subscriber ", r->subscriber_id())));
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("pid ", ::getpid())));
  EXPECT_THAT(s.message(), HasSubstr("4 samples behind on a ring of depth 4"));
  EXPECT_GE(waited, absl::Milliseconds(100));
  EXPECT_EQ(w->next_sequence(), 4u) << "nothing was published";
  // The ring still holds 0..3, untouched.
  std::vector<std::byte> got;
  SampleInfo info;
  ASSERT_TRUE(*r->Take(&got, &info));
  EXPECT_EQ(WordOf(got), 0u);
  ASSERT_TRUE(w->Publish(Word(4)).ok());
  for (std::uint64_t i = 1; i <= 4; ++i) {
    ASSERT_TRUE(*r->Take(&got, &info));
    EXPECT_EQ(WordOf(got), i);
    EXPECT_EQ(info.lost_before, 0u);
  }
  EXPECT_EQ(r->lost(), 0u);
}

// A publisher asleep on a full ring wakes when the subscriber takes, long
// before its timeout.
TEST(ReliableTest, SleepingPublisherWakesWhenTheSubscriberTakes) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(2);
  absl::StatusOr<Reader> r = Reader::Create(o, "/wake", c, Reliable());
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<Writer> w = Writer::Create(o, "/wake", c, Timeout(absl::Seconds(20)));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->Publish(Word(0)).ok());
  ASSERT_TRUE(w->Publish(Word(1)).ok());
  std::thread taker([&] {
    absl::SleepFor(absl::Milliseconds(200));  // the publisher is asleep by now
    std::vector<std::byte> got;
    SampleInfo info;
    (void)r->Take(&got, &info);
  });
  const absl::Time start = absl::Now();
  const absl::Status s = w->Publish(Word(2));
  const absl::Duration waited = absl::Now() - start;
  taker.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GE(waited, absl::Milliseconds(150));
  EXPECT_LT(waited, absl::Seconds(10));
}

// A reliable subscriber that leaves (closes) lets a sleeping publisher go.
TEST(ReliableTest, ClosingTheSubscriberLetsThePublisherGo) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(2);
  std::optional<Reader> r;
  {
    absl::StatusOr<Reader> made = Reader::Create(o, "/close", c, Reliable());
    ASSERT_TRUE(made.ok()) << made.status();
    r.emplace(*std::move(made));
  }
  absl::StatusOr<Writer> w = Writer::Create(o, "/close", c, Timeout(absl::Seconds(20)));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->Publish(Word(0)).ok());
  ASSERT_TRUE(w->Publish(Word(1)).ok());
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(200));
    r.reset();
  });
  const absl::Time start = absl::Now();
  const absl::Status s = w->Publish(Word(2));
  closer.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

// Best-effort subscribers are never waited for: a reliable one that keeps
// up and a best-effort one that never takes; the publisher never blocks,
// the reliable one gets everything, the best-effort one sees its loss.
TEST(ReliableTest, BestEffortSubscribersAreNeverHeldBack) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(8);
  absl::StatusOr<Reader> reliable = Reader::Create(o, "/mixed", c, Reliable());
  ASSERT_TRUE(reliable.ok()) << reliable.status();
  absl::StatusOr<Reader> lazy = Reader::Create(o, "/mixed", c);
  ASSERT_TRUE(lazy.ok()) << lazy.status();
  absl::StatusOr<Writer> w = Writer::Create(o, "/mixed", c, Timeout(absl::Milliseconds(50)));
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<std::byte> got;
  SampleInfo info;
  std::uint64_t expected = 0;
  for (std::uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(w->Publish(Word(i)).ok()) << i;
    if (i % 8 == 7 || i == 99) {
      while (*reliable->Take(&got, &info)) {
        EXPECT_EQ(WordOf(got), expected++);
        EXPECT_EQ(info.lost_before, 0u);
      }
    }
  }
  EXPECT_EQ(expected, 100u);
  EXPECT_EQ(reliable->lost(), 0u);
  ASSERT_TRUE(*lazy->Take(&got, &info));
  EXPECT_GT(info.lost_before, 0u);
  EXPECT_EQ(WordOf(got), info.lost_before) << "the oldest sample left";
  std::uint64_t last = WordOf(got);
  while (*lazy->Take(&got, &info)) last = WordOf(got);
  EXPECT_EQ(last, 99u);
  EXPECT_EQ(lazy->received() + lazy->lost(), 100u);
}

// A reliable subscriber killed with kill -9 stops holding the publisher
// within the publisher's timeout (+10%), without any other process's help:
// killed before the publisher waits, and killed while it sleeps.
void KilledSubscriberLetsGo(bool while_asleep) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(4);
  absl::StatusOr<Writer> w = Writer::Create(o, "/killed", c, Timeout(absl::Seconds(1)));
  ASSERT_TRUE(w.ok()) << w.status();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = StartChild(
      [&] {
        absl::StatusOr<Reader> r = Reader::Create(o, "/killed", c, Reliable());
        if (!r.ok()) return 1;
        const char x = 'r';
        if (::write(ready[1], &x, 1) != 1) return 2;
        for (;;) ::pause();  // holds the publisher: never takes
      },
      absl::Seconds(60));
  // Only the child keeps the write end: if it dies before writing, the
  // read ends (0 bytes) instead of waiting for ever.
  ::close(ready[1]);
  char x;
  const ssize_t got = ::read(ready[0], &x, 1);
  ::close(ready[0]);
  if (got != 1) KillChild(child);
  ASSERT_EQ(got, 1) << "the child could not subscribe";
  for (std::uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(w->Publish(Word(i)).ok());
  std::thread killer;
  if (while_asleep) {
    killer = std::thread([child] {
      absl::SleepFor(absl::Milliseconds(300));
      KillChild(child);
    });
  } else {
    KillChild(child);
  }
  const absl::Time start = absl::Now();
  const absl::Status s = w->Publish(Word(4));
  const absl::Duration waited = absl::Now() - start;
  if (killer.joinable()) killer.join();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_LE(waited, absl::Milliseconds(1100));
  if (while_asleep) {
    EXPECT_GE(waited, absl::Milliseconds(250));
  }
  // Publishing goes on freely: nobody holds the ring any more.
  for (std::uint64_t i = 5; i < 40; ++i) ASSERT_TRUE(w->Publish(Word(i)).ok());
}

TEST(ReliableTest, KilledSubscriberLetsThePublisherGo) { KilledSubscriberLetsGo(false); }

TEST(ReliableTest, KilledSubscriberLetsASleepingPublisherGo) { KilledSubscriberLetsGo(true); }

// A reliable subscriber holds back every publisher of the topic, each on
// its own ring, and reading one ring frees only that one.
TEST(ReliableTest, EachRingIsHeldByWhatItsSubscriberHasNotRead) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(2);
  absl::StatusOr<Reader> r = Reader::Create(o, "/two", c, Reliable());
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<Writer> a = Writer::Create(o, "/two", c, Timeout(absl::Milliseconds(20)));
  absl::StatusOr<Writer> b = Writer::Create(o, "/two", c, Timeout(absl::Milliseconds(20)));
  ASSERT_TRUE(a.ok() && b.ok());
  for (std::uint64_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(a->Publish(Word(i)).ok());
    ASSERT_TRUE(b->Publish(Word(100 + i)).ok());
  }
  EXPECT_EQ(a->Publish(Word(2)).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(b->Publish(Word(102)).code(), absl::StatusCode::kDeadlineExceeded);
  std::vector<std::byte> got;
  SampleInfo info;
  // Take until one sample of `a` came out: `a` has room, `b` maybe not.
  do {
    ASSERT_TRUE(*r->Take(&got, &info));
  } while (WordOf(got) >= 100);
  EXPECT_TRUE(a->Publish(Word(2)).ok());
}

// A reliable subscriber that joins a busy topic starts at samples the
// publisher has not overwritten, and from then on loses none.
TEST(ReliableTest, JoiningABusyTopicLosesNothingFromTheStart) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(4);
  absl::StatusOr<Writer> w = Writer::Create(o, "/busy", c, Timeout(absl::Seconds(30)));
  ASSERT_TRUE(w.ok()) << w.status();
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> published{0};
  std::thread publisher([&] {
    for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      if (!w->Publish(Word(i)).ok()) break;
      published.store(i + 1, std::memory_order_relaxed);
    }
  });
  for (int round = 0; round < 20; ++round) {
    absl::StatusOr<Reader> r = Reader::Create(o, "/busy", c, Reliable());
    ASSERT_TRUE(r.ok()) << r.status();
    std::vector<std::byte> got;
    SampleInfo info;
    std::optional<std::uint64_t> last;
    for (int n = 0; n < 2000;) {
      ASSERT_TRUE(r->Wait(absl::Seconds(30)).ok());
      while (n < 2000 && *r->Take(&got, &info)) {
        if (last) {
          ASSERT_EQ(WordOf(got), *last + 1) << "round " << round;
        }
        EXPECT_EQ(info.lost_before, 0u);
        last = WordOf(got);
        ++n;
      }
    }
    EXPECT_EQ(r->lost(), 0u);
  }
  stop = true;
  publisher.join();
  EXPECT_GT(published.load(), 0u);
}

}  // namespace
}  // namespace ringcast::transport
