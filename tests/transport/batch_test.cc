// Batches (many samples per commit and per take, with the loss and order
// of single samples), hot chunks (a chunk goes back to the pool once every
// subscriber passed its sample, and never before), and a stress of batches,
// reliable subscribers and pooled samples together for TSan.
#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "transport/pool.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::UniqueOptions;
using ::testing::HasSubstr;

TopicConfig Config(std::uint32_t depth, std::uint64_t max_message_size = 0) {
  TopicConfig c;
  c.type_name = "test.Batch";
  c.type_hash = 0xBA7C;
  c.depth = depth;
  c.max_subscribers = 4;
  c.max_held_samples = 2;
  c.max_message_size = max_message_size;
  return c;
}

std::vector<std::byte> Word(std::uint64_t v, std::size_t size = 8) {
  std::vector<std::byte> b(size);
  for (std::size_t i = 0; i + 8 <= size; i += 8) std::memcpy(b.data() + i, &v, 8);
  return b;
}

std::uint64_t WordOf(absl::Span<const std::byte> b) {
  std::uint64_t v = ~std::uint64_t{0};
  if (b.size() >= 8) std::memcpy(&v, b.data(), 8);
  return v;
}

// What a reader saw: {value, sequence, lost_before} per sample.
using Seen = std::vector<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>>;

// Publishes `groups` (each a run of values) one sample at a time or one
// batch per group, and drains a reader after each group with Take or
// TakeBatch(`take_max`): batches must see exactly what singles see.
Seen Deliveries(const std::vector<std::vector<std::uint64_t>>& groups, bool batched,
         std::size_t take_max, std::uint32_t depth) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(depth);
  absl::StatusOr<Reader> r = Reader::Create(o, "/b", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/b", c);
  EXPECT_TRUE(r.ok() && w.ok());
  if (!r.ok() || !w.ok()) return {};
  Seen seen;
  for (const std::vector<std::uint64_t>& g : groups) {
    std::vector<std::vector<std::byte>> payloads;
    for (std::uint64_t v : g) payloads.push_back(Word(v, 8 + 8 * (v % 5)));
    if (batched) {
      std::vector<absl::Span<const std::byte>> spans(payloads.begin(), payloads.end());
      EXPECT_TRUE(w->PublishBatch(spans).ok());
    } else {
      for (const auto& p : payloads) EXPECT_TRUE(w->Publish(p).ok());
    }
    if (take_max == 0) {
      std::vector<std::byte> got;
      SampleInfo info;
      while (*r->Take(&got, &info)) {
        seen.emplace_back(WordOf(got), info.sequence, info.lost_before);
      }
    } else {
      for (;;) {
        absl::StatusOr<std::size_t> n =
            r->TakeBatch(take_max, [&](absl::Span<const std::byte> bytes, const SampleInfo& info) {
              EXPECT_EQ(bytes.size(), 8 + 8 * (WordOf(bytes) % 5));
              seen.emplace_back(WordOf(bytes), info.sequence, info.lost_before);
            });
        EXPECT_TRUE(n.ok());
        if (!n.ok() || *n == 0) break;
      }
    }
  }
  // The shared counters agree with what was delivered.
  EXPECT_EQ(r->received(), seen.size());
  return seen;
}

TEST(BatchTest, BatchesDeliverExactlyWhatSinglesDeliverLapsIncluded) {
  // Groups smaller than, equal to and larger than the ring (laps inside a
  // batch), and empty ones.
  std::vector<std::vector<std::uint64_t>> groups;
  std::uint64_t v = 0;
  for (std::size_t n : {3u, 8u, 0u, 21u, 1u, 7u, 64u, 9u}) {
    std::vector<std::uint64_t> g;
    for (std::size_t i = 0; i < n; ++i) g.push_back(v++);
    groups.push_back(g);
  }
  const Seen singles = Deliveries(groups, false, 0, 8);
  EXPECT_FALSE(singles.empty());
  EXPECT_EQ(Deliveries(groups, true, 0, 8), singles) << "batched publish, single take";
  EXPECT_EQ(Deliveries(groups, false, 5, 8), singles) << "single publish, batched take";
  EXPECT_EQ(Deliveries(groups, true, 1000, 8), singles) << "batched both ways";
  std::uint64_t lost = 0;
  for (const auto& [value, seq, lost_before] : singles) lost += lost_before;
  EXPECT_EQ(singles.size() + lost, v) << "every sample delivered or counted lost";
  EXPECT_GT(lost, 0u) << "the test laps the reader";
}

TEST(BatchTest, AnOversizedSampleIsRefusedAndNothingIsPublished) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(8);
  absl::StatusOr<Reader> r = Reader::Create(o, "/big", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/big", c);
  ASSERT_TRUE(r.ok() && w.ok());
  const std::vector<std::byte> small = Word(1), big(w->inline_capacity() + 1);
  const std::vector<absl::Span<const std::byte>> batch = {small, small, big};
  const absl::Status s = w->PublishBatch(batch);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("sample 2 of a batch of 3 on /big"));
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat(big.size(), " bytes, above the inline capacity of ",
                                                  w->inline_capacity())));
  EXPECT_EQ(w->next_sequence(), 0u);
  EXPECT_FALSE(r->HasData());
}

// One commit per batch: a sleeping subscriber is woken once, and sees the
// whole batch when it wakes.
TEST(BatchTest, ASleepingSubscriberWakesToTheWholeBatch) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(64);
  ReaderOptions ro;
  ro.spin = absl::ZeroDuration();
  absl::StatusOr<Reader> r = Reader::Create(o, "/wake", c, ro);
  absl::StatusOr<Writer> w = Writer::Create(o, "/wake", c);
  ASSERT_TRUE(r.ok() && w.ok());
  std::atomic<std::size_t> got{0};
  std::thread sub([&] {
    if (!r->Wait(absl::Seconds(30)).ok()) return;
    absl::StatusOr<std::size_t> n =
        r->TakeBatch(100, [](absl::Span<const std::byte>, const SampleInfo&) {});
    if (n.ok()) got = *n;
  });
  absl::SleepFor(absl::Milliseconds(100));  // the subscriber sleeps by now
  std::vector<std::vector<std::byte>> payloads;
  for (std::uint64_t i = 0; i < 32; ++i) payloads.push_back(Word(i));
  const std::vector<absl::Span<const std::byte>> spans(payloads.begin(), payloads.end());
  ASSERT_TRUE(w->PublishBatch(spans).ok());
  sub.join();
  EXPECT_EQ(got.load(), 32u);
}

// A reliable subscriber holds a batch back mid-way; the publisher makes the
// part it wrote visible before waiting, so the two never deadlock.
TEST(BatchTest, ABatchLargerThanTheRingPassesAReliableSubscriber) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(8);
  ReaderOptions ro;
  ro.reliable = true;
  absl::StatusOr<Reader> r = Reader::Create(o, "/rb", c, ro);
  WriterOptions wo;
  wo.reliable_timeout = absl::Seconds(30);
  absl::StatusOr<Writer> w = Writer::Create(o, "/rb", c, wo);
  ASSERT_TRUE(r.ok() && w.ok());
  constexpr std::uint64_t kSamples = 1000;
  std::thread sub([&] {
    std::uint64_t expected = 0;
    while (expected < kSamples && r->Wait(absl::Seconds(30)).ok()) {
      (void)r->TakeBatch(3, [&](absl::Span<const std::byte> b, const SampleInfo& info) {
        EXPECT_EQ(WordOf(b), expected);
        EXPECT_EQ(info.lost_before, 0u);
        ++expected;
      });
    }
    EXPECT_EQ(expected, kSamples);
  });
  std::vector<std::vector<std::byte>> payloads;
  for (std::uint64_t i = 0; i < kSamples; ++i) payloads.push_back(Word(i));
  const std::vector<absl::Span<const std::byte>> spans(payloads.begin(), payloads.end());
  EXPECT_TRUE(w->PublishBatch(spans).ok());
  sub.join();
  EXPECT_EQ(r->lost(), 0u);
}

// Hot chunks: a subscriber that keeps up lets the publisher cycle through
// at most 3 distinct chunks over 1,000 pooled publishes, where the ring
// alone would pin depth + 1 of them.
TEST(HotChunkTest, ASubscriberThatKeepsUpLeavesAtMostThreeChunksInUse) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(16, 64 << 10);
  absl::StatusOr<Reader> r = Reader::Create(o, "/hot", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/hot", c);
  ASSERT_TRUE(r.ok() && w.ok());
  std::set<const std::byte*> chunks;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    absl::StatusOr<ChunkLoan> loan = w->Loan(64 << 10);
    ASSERT_TRUE(loan.ok()) << loan.status();
    chunks.insert(loan->data().data());
    std::memcpy(loan->data().data(), &i, 8);
    ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
    absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
    ASSERT_TRUE(s.ok() && s->has_value());
    EXPECT_EQ(WordOf((*s)->data()), i);
  }
  EXPECT_LE(chunks.size(), 3u);
  EXPECT_EQ(r->lost(), 0u);
}

// Transient local keeps history: the ring holds its depth samples' chunks
// for late joiners, so they are all distinct, and a late transient-local
// subscriber gets them.
TEST(HotChunkTest, TransientLocalKeepsTheRingsHistory) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(8, 4096);
  absl::StatusOr<Reader> r = Reader::Create(o, "/hist", c);
  WriterOptions wo;
  wo.keep_history = true;
  absl::StatusOr<Writer> w = Writer::Create(o, "/hist", c, wo);
  ASSERT_TRUE(r.ok() && w.ok());
  std::set<const std::byte*> chunks;
  for (std::uint64_t i = 0; i < 40; ++i) {
    absl::StatusOr<ChunkLoan> loan = w->Loan(4096);
    ASSERT_TRUE(loan.ok());
    chunks.insert(loan->data().data());
    std::memcpy(loan->data().data(), &i, 8);
    ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
    std::vector<std::byte> got;
    SampleInfo info;
    ASSERT_TRUE(*r->Take(&got, &info));
  }
  EXPECT_GT(chunks.size(), 8u);
  ReaderOptions late;
  late.transient_local = true;
  absl::StatusOr<Reader> l = Reader::Create(o, "/hist", c, late);
  ASSERT_TRUE(l.ok());
  std::vector<std::uint64_t> got_values;
  std::vector<std::byte> got;
  SampleInfo info;
  while (*l->Take(&got, &info)) got_values.push_back(WordOf(got));
  EXPECT_THAT(got_values, ::testing::ElementsAre(32, 33, 34, 35, 36, 37, 38, 39));
  EXPECT_EQ(l->lost(), 0u);
}

// A late transient-local subscriber on a topic whose chunks went back
// early starts where the ring still holds them: no false loss.
TEST(HotChunkTest, ALateTransientLocalSubscriberStartsAtWhatIsRetained) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(8, 4096);
  absl::StatusOr<Reader> r = Reader::Create(o, "/ret", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/ret", c);
  ASSERT_TRUE(r.ok() && w.ok());
  for (std::uint64_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(w->Publish(Word(i, 1000)).ok());
    std::vector<std::byte> got;
    SampleInfo info;
    ASSERT_TRUE(*r->Take(&got, &info));
  }
  ReaderOptions late;
  late.transient_local = true;
  absl::StatusOr<Reader> l = Reader::Create(o, "/ret", c, late);
  ASSERT_TRUE(l.ok());
  std::vector<std::byte> got;
  SampleInfo info;
  while (*l->Take(&got, &info)) {
    EXPECT_EQ(got.size(), 1000u);
  }
  EXPECT_EQ(l->lost(), 0u);
}

// A lagging subscriber keeps its samples alive: while another keeps up and
// chunks are recycled early, the lagging one still gets every sample the
// ring holds, intact, and then exactly the loss of a lap.
TEST(HotChunkTest, ALaggingSubscriberStillGetsEverySampleItCanLegallyTake) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(8, 8192);
  absl::StatusOr<Reader> fast = Reader::Create(o, "/lag", c);
  absl::StatusOr<Reader> slow = Reader::Create(o, "/lag", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/lag", c);
  ASSERT_TRUE(fast.ok() && slow.ok() && w.ok());
  std::vector<std::byte> got;
  SampleInfo info;
  auto publish = [&](std::uint64_t i) {
    ASSERT_TRUE(w->Publish(Word(i, 8192)).ok());
    ASSERT_TRUE(*fast->Take(&got, &info));
    EXPECT_EQ(WordOf(got), i);
  };
  for (std::uint64_t i = 0; i < 8; ++i) publish(i);
  for (std::uint64_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(*slow->Take(&got, &info)) << i;
    EXPECT_EQ(got, Word(i, 8192));
    EXPECT_EQ(info.lost_before, 0u);
  }
  // Now lap it: 20 more, of which the ring keeps the newest.
  for (std::uint64_t i = 8; i < 28; ++i) publish(i);
  std::uint64_t received = 0, lost = 0, last = 0;
  while (*slow->Take(&got, &info)) {
    EXPECT_EQ(got, Word(WordOf(got), 8192)) << "intact";
    lost += info.lost_before;
    last = WordOf(got);
    ++received;
  }
  EXPECT_EQ(last, 27u);
  EXPECT_EQ(received + lost, 20u);
  EXPECT_GE(received, 6u);
}

// TSan: batches, reliable and best-effort subscribers, and pooled samples
// recycled early, all at once across threads. Every sample a subscriber
// gets is intact and in order; the reliable one loses none.
TEST(DataPlaneStressTest, BatchesReliableAndPooledTogether) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(16, 4096);
  ReaderOptions rel;
  rel.reliable = true;
  absl::StatusOr<Reader> reliable = Reader::Create(o, "/stress", c, rel);
  absl::StatusOr<Reader> best = Reader::Create(o, "/stress", c);
  WriterOptions wo;
  wo.reliable_timeout = absl::Seconds(30);
  absl::StatusOr<Writer> w = Writer::Create(o, "/stress", c, wo);
  ASSERT_TRUE(reliable.ok() && best.ok() && w.ok());
  constexpr std::uint64_t kSamples = 20'000;
  std::atomic<bool> done{false};
  auto check = [](absl::Span<const std::byte> b) {
    const std::uint64_t v = WordOf(b);
    return b.size() == (v % 3 == 0 ? 2048u : 8u) && std::vector<std::byte>(b.begin(), b.end()) ==
                                                        Word(v, b.size());
  };
  std::thread rt([&] {
    std::uint64_t expected = 0;
    bool ok = true;
    while (expected < kSamples && reliable->Wait(absl::Seconds(30)).ok()) {
      absl::StatusOr<std::size_t> n =
          reliable->TakeBatch(7, [&](absl::Span<const std::byte> b, const SampleInfo& info) {
            ok = ok && check(b) && WordOf(b) == expected && info.lost_before == 0;
            ++expected;
          });
      ok = ok && n.ok();
    }
    EXPECT_TRUE(ok);
    EXPECT_EQ(expected, kSamples);
  });
  std::thread bt([&] {
    std::optional<std::uint64_t> last;
    bool ok = true;
    while (!done.load()) {
      absl::StatusOr<std::optional<Sample>> s = best->TakeSample();
      ok = ok && s.ok();
      if (!s.ok() || !s->has_value()) {
        (void)best->Wait(absl::Milliseconds(10));
        continue;
      }
      ok = ok && check((*s)->data()) && (!last || WordOf((*s)->data()) > *last);
      last = WordOf((*s)->data());
    }
    EXPECT_TRUE(ok);
  });
  std::uint64_t i = 0;
  while (i < kSamples) {
    if (i % 3 == 0) {
      absl::StatusOr<ChunkLoan> loan = w->Loan(2048);
      ASSERT_TRUE(loan.ok()) << loan.status();
      const std::vector<std::byte> b = Word(i, 2048);
      std::memcpy(loan->data().data(), b.data(), b.size());
      ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
      ++i;
    } else {
      std::vector<std::vector<std::byte>> payloads;
      for (; i < kSamples && i % 3 != 0; ++i) payloads.push_back(Word(i));
      const std::vector<absl::Span<const std::byte>> spans(payloads.begin(), payloads.end());
      ASSERT_TRUE(w->PublishBatch(spans).ok());
    }
  }
  rt.join();
  done = true;
  bt.join();
  EXPECT_EQ(reliable->lost(), 0u);
}

}  // namespace
}  // namespace ringcast::transport
