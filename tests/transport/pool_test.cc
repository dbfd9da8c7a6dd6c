// The chunk pool: loans, zero-copy samples, held limits, recycling races,
// and crashes of subscribers and publishers holding chunks.
#include "transport/pool.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "tests/transport/ring_test_util.h"
#include "transport/liveness.h"
#include "transport/pool_chain.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::UniqueOptions;

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::KillChild;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::WaitChild;
using ::testing::HasSubstr;
using test::AwaitCursors;
using test::AwaitSubscribers;
using test::FillMessage;
using test::VerifyMessage;

TopicConfig PooledConfig(std::uint64_t max_message_size, std::uint32_t depth = 8) {
  TopicConfig c;
  c.type_name = "test.Blob";
  c.depth = depth;
  c.max_message_size = max_message_size;
  c.max_subscribers = 4;
  c.max_held_samples = 8;
  return c;
}

// Publishes message i of sizes[i] bytes, filled for seed i (cut short
// when under 8 bytes), inline or pooled as the size decides.
void PublishFilled(Writer& w, const std::vector<std::size_t>& sizes) {
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    std::vector<std::byte> m(std::max<std::size_t>(sizes[i], 8));
    FillMessage(absl::MakeSpan(m), i);
    m.resize(sizes[i]);
    ASSERT_TRUE(w.Publish(m).ok()) << sizes[i];
  }
}

TEST(ChunkPoolTest, AllocatesEveryChunkOnceAndReusesTheLastFreed) {
  const ShmOptions o = UniqueOptions();
  absl::StatusOr<ChunkPool> pool = ChunkPool::Create(o, 1000, 4);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(pool->CountFree(), 4u);
  std::vector<internal::ChunkRef> refs;
  for (int i = 0; i < 4; ++i) {
    std::optional<internal::ChunkRef> r = pool->Allocate();
    ASSERT_TRUE(r.has_value());
    refs.push_back(*r);
  }
  EXPECT_FALSE(pool->Allocate().has_value());
  EXPECT_EQ(pool->CountFree(), 0u);
  // Another holder takes a reference; the chunk stays out until both drop.
  ASSERT_TRUE(pool->Acquire(refs[1]));
  pool->Release(refs[1]);
  EXPECT_EQ(pool->CountFree(), 0u);
  pool->Release(refs[1]);
  EXPECT_EQ(pool->CountFree(), 1u);
  // Recycled: the old reference no longer acquires, and a stray release of
  // it is ignored.
  EXPECT_FALSE(pool->Acquire(refs[1]));
  pool->Release(refs[1]);
  EXPECT_EQ(pool->CountFree(), 1u);
  // LIFO: the next loan is the chunk freed last, with a new generation.
  std::optional<internal::ChunkRef> again = pool->Allocate();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->index, refs[1].index);
  EXPECT_EQ(again->generation, refs[1].generation + 1);
  // Out-of-range references are refused.
  internal::ChunkRef bad = refs[0];
  bad.index = 99;
  EXPECT_FALSE(pool->Acquire(bad));
  pool->Release(bad);
  // A pool never unlinks itself (its topic does): this one has no topic.
  EXPECT_TRUE(Segment::Unlink(o, PoolSegmentName(o, pool->id())).ok());
}

TEST(ChunkPoolTest, OpenRejectsACorruptHeader) {
  const ShmOptions o = UniqueOptions();
  absl::StatusOr<ChunkPool> pool = ChunkPool::Create(o, 4096, 8);
  ASSERT_TRUE(pool.ok());
  auto* h = reinterpret_cast<internal::PoolHeader*>(pool->segment().base() + sizeof(SegmentHeader));
  h->chunk_count = 1u << 30;
  absl::StatusOr<ChunkPool> other = ChunkPool::Open(o, pool->id());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(other.status().message(), HasSubstr("corrupt"));
  h->chunk_count = 8;
  EXPECT_TRUE(ChunkPool::Open(o, pool->id()).ok());
  EXPECT_TRUE(Segment::Unlink(o, PoolSegmentName(o, pool->id())).ok());
}

TEST(PooledTopicTest, LargeMessagesTravelByReferenceWithoutCopy) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(1 << 20);
  absl::StatusOr<Reader> r = Reader::Create(o, "/blob", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
  ASSERT_TRUE(r.ok() && w.ok()) << r.status() << w.status();
  absl::StatusOr<ChunkLoan> loan = w->Loan(1 << 20);
  ASSERT_TRUE(loan.ok()) << loan.status();
  FillMessage(loan->data(), 42);
  const std::byte* where = loan->data().data();
  ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
  absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
  ASSERT_TRUE(s.ok() && s->has_value());
  const Sample& sample = **s;
  EXPECT_TRUE(sample.pooled());
  EXPECT_EQ(sample.info().size, 1u << 20);
  EXPECT_TRUE(VerifyMessage(sample.data(), 42));
  // The very bytes the publisher wrote, in another mapping of the chunk.
  EXPECT_EQ(std::memcmp(sample.data().data(), where, 64), 0);
  EXPECT_NE(sample.data().data(), where);
  EXPECT_EQ(r->topic().ring_hot(w->ring_index()).bytes.load(), 1u << 20);
}

TEST(PooledTopicTest, MixedInlineAndPooledMessagesArriveInOrder) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(100000, 64);
  absl::StatusOr<Reader> r = Reader::Create(o, "/blob", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
  ASSERT_TRUE(r.ok() && w.ok());
  const std::vector<std::size_t> sizes = {8, 100000, 0, 48, 49, 5000, 16, 100000};
  ASSERT_NO_FATAL_FAILURE(PublishFilled(*w, sizes));
  std::vector<std::byte> got;
  SampleInfo info;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE(*r->Take(&got, &info)) << i;
    EXPECT_EQ(info.sequence, i);
    ASSERT_EQ(got.size(), sizes[i]);
    if (sizes[i] >= 8) {
      std::vector<std::byte> m(sizes[i]);
      FillMessage(absl::MakeSpan(m), i);
      if (sizes[i] > 48) {
        EXPECT_EQ(got, m) << i;
      }
    }
  }
  EXPECT_FALSE(*r->Take(&got, &info));
  EXPECT_EQ(r->lost(), 0u);
}

// Take(Sample*) reuses one Sample: each take releases the chunk the
// previous one held, so a subscriber allowed a single held sample keeps
// taking; inline samples larger than the Sample's own buffer arrive whole.
TEST(PooledTopicTest, ReusedSampleReleasesWhatItHeldBeforeEachTake) {
  const ShmOptions o = UniqueOptions();
  TopicConfig c = PooledConfig(100000, 64);
  c.inline_capacity = 200;  // above Sample::kInlineBytes: the heap fallback
  c.max_held_samples = 1;
  absl::StatusOr<Reader> r = Reader::Create(o, "/blob", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
  ASSERT_TRUE(r.ok() && w.ok());
  const std::vector<std::size_t> sizes = {100000, 200, 100000, 8, 64, 65, 100000, 0};
  ASSERT_NO_FATAL_FAILURE(PublishFilled(*w, sizes));
  Sample s;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    absl::StatusOr<bool> got = r->Take(&s);
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    ASSERT_TRUE(*got) << i;
    EXPECT_EQ(s.info().sequence, i);
    EXPECT_EQ(s.pooled(), sizes[i] > 200) << i;
    ASSERT_EQ(s.data().size(), sizes[i]) << i;
    if (sizes[i] >= 8) {
      EXPECT_TRUE(VerifyMessage(s.data(), i)) << i;
    }
  }
  // Moving the Sample keeps its inline bytes; an empty take leaves it empty.
  Sample moved = std::move(s);
  EXPECT_EQ(moved.info().sequence, sizes.size() - 1);
  ASSERT_TRUE(w->Publish(std::vector<std::byte>(24, std::byte{7})).ok());
  ASSERT_TRUE(*r->Take(&moved));
  Sample other = std::move(moved);
  ASSERT_EQ(other.data().size(), 24u);
  EXPECT_EQ(other.data()[23], std::byte{7});
  EXPECT_FALSE(*r->Take(&other));
  EXPECT_EQ(other.data().size(), 0u);
  EXPECT_EQ(r->lost(), 0u);
}

TEST(PooledTopicTest, LoanErrorsNameTheSizes) {
  const ShmOptions o = UniqueOptions();
  absl::StatusOr<Writer> w = Writer::Create(o, "/blob", PooledConfig(1000));
  ASSERT_TRUE(w.ok());
  absl::StatusOr<ChunkLoan> big = w->Loan(1001);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(big.status().message(), HasSubstr("loan of 1001 bytes exceeds"));
  EXPECT_THAT(big.status().message(), HasSubstr("max_message_size of 1000 bytes"));
  EXPECT_THAT(w->Publish(std::vector<std::byte>(1001)).message(), HasSubstr("1001 bytes"));
  std::vector<ChunkLoan> loans;
  for (std::uint32_t i = 0; i < TopicSegment::kMaxLoans; ++i) loans.push_back(*w->Loan(10));
  EXPECT_EQ(w->Loan(10).status().code(), absl::StatusCode::kResourceExhausted);
  loans.pop_back();  // dropping a loan returns its chunk
  EXPECT_TRUE(w->Loan(10).ok());

  absl::StatusOr<Writer> inline_only = Writer::Create(o, "/small", TopicConfig{});
  ASSERT_TRUE(inline_only.ok());
  EXPECT_THAT(inline_only->Loan(10).status().message(), HasSubstr("has no chunk pool"));
  TopicConfig bad = PooledConfig(1000);
  bad.inline_capacity = 16;
  EXPECT_THAT(Writer::Create(o, "/bad", bad).status().message(),
              HasSubstr("inline_capacity = 16"));
}

TEST(PooledTopicTest, HeldSamplesStayIntactWhileThePublisherLapsTheRing) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(4096, 8);
  absl::StatusOr<Reader> r = Reader::Create(o, "/blob", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
  ASSERT_TRUE(r.ok() && w.ok());
  auto publish = [&](std::uint64_t seed) {
    absl::StatusOr<ChunkLoan> loan = w->Loan(4096);
    ASSERT_TRUE(loan.ok()) << loan.status();
    FillMessage(loan->data(), seed);
    ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
  };
  for (std::uint64_t i = 0; i < 8; ++i) publish(i);
  std::vector<Sample> held;
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
    ASSERT_TRUE(s.ok() && s->has_value());
    held.push_back(**std::move(s));
  }
  // The ninth is refused while eight are held.
  publish(8);
  absl::StatusOr<std::optional<Sample>> ninth = r->TakeSample();
  EXPECT_EQ(ninth.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ninth.status().message(), HasSubstr("max_held_samples"));
  // Lap the ring a hundred times: no loan fails, held bytes do not change.
  for (std::uint64_t i = 9; i < 9 + 800; ++i) publish(i);
  for (std::uint64_t i = 0; i < 8; ++i) {
    EXPECT_EQ(held[i].info().sequence, i);
    EXPECT_TRUE(VerifyMessage(held[i].data(), i)) << i;
  }
  held.clear();  // releases
  // The reader was lapped: it is told, and reads on.
  absl::StatusOr<std::optional<Sample>> next = r->TakeSample();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_GT((*next)->info().lost_before, 0u);
  EXPECT_TRUE(VerifyMessage((*next)->data(), (*next)->info().sequence));
}

TEST(PooledTopicTest, PooledSamplesOutliveTheirPublisher) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(4096, 8);
  absl::StatusOr<Reader> r = Reader::Create(o, "/blob", c);
  ASSERT_TRUE(r.ok());
  {
    absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
    ASSERT_TRUE(w.ok());
    for (std::uint64_t i = 0; i < 3; ++i) {
      std::vector<std::byte> m(4096);
      FillMessage(absl::MakeSpan(m), i);
      ASSERT_TRUE(w->Publish(m).ok());
    }
  }  // the publisher leaves before the reader ever mapped its pool
  std::vector<std::byte> got;
  SampleInfo info;
  for (std::uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(*r->Take(&got, &info)) << i;
    EXPECT_TRUE(VerifyMessage(got, i));
  }
  EXPECT_EQ(r->lost(), 0u);
}

// A departed publisher's pool keeps its name while a subscriber still has
// its samples to read (even one that never mapped it), and loses it as
// soon as the last one has drained them: it never outlives its use.
TEST(PooledTopicTest, DepartedPublishersPoolGoesOnceDrained) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(4096, 8);
  const std::string pools = o.prefix + ".0.p.";
  absl::StatusOr<Reader> r = Reader::Create(o, "/blob", c);
  ASSERT_TRUE(r.ok());
  {
    absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
    ASSERT_TRUE(w.ok());
    std::vector<std::byte> m(4096);
    FillMessage(absl::MakeSpan(m), 0);
    ASSERT_TRUE(w->Publish(m).ok());
  }
  EXPECT_EQ(FilesWithPrefix(kShmDir, pools).size(), 1u) << "a subscriber still needs it";
  std::vector<std::byte> got;
  SampleInfo info;
  ASSERT_TRUE(*r->Take(&got, &info));
  EXPECT_TRUE(VerifyMessage(got, 0));
  EXPECT_FALSE(*r->Take(&got, &info));  // drains the ring: nobody needs the pool
  EXPECT_TRUE(FilesWithPrefix(kShmDir, pools).empty());
  // With nobody lagging, a publisher's pool goes with it. It commits
  // nothing before its first loan.
  {
    absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(FilesWithPrefix(kShmDir, pools).empty());
    ASSERT_TRUE(w->Publish(std::vector<std::byte>(4096)).ok());
    EXPECT_EQ(FilesWithPrefix(kShmDir, pools).size(), 1u);
    ASSERT_TRUE(*r->Take(&got, &info));
  }
  EXPECT_TRUE(FilesWithPrefix(kShmDir, pools).empty());
}

// A corrupted free list is reported as what it is (DataLoss naming the
// pool, counted on the ring), not as a leak, and never crashes.
TEST(PooledTopicTest, CorruptFreeListIsDataLossNotALeak) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(4096, 8);
  absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Loan(100).ok());  // makes the pool's first segment
  const ChunkPool* first = w->pool()->segment(0, 0);
  ASSERT_NE(first, nullptr);
  // A stray write: the free list head points past the chunks.
  auto* header = reinterpret_cast<internal::PoolHeader*>(
      first->segment().base() + sizeof(SegmentHeader));
  header->free_head.store(std::uint64_t{7} << 32 | 0xFFFFF, std::memory_order_relaxed);
  absl::StatusOr<ChunkLoan> loan = w->Loan(100);
  ASSERT_FALSE(loan.ok());
  EXPECT_EQ(loan.status().code(), absl::StatusCode::kDataLoss) << loan.status();
  EXPECT_THAT(loan.status().message(), HasSubstr("free list names chunk"));
  EXPECT_THAT(loan.status().message(), HasSubstr(first->segment().path()));
  EXPECT_FALSE(first->Verify().ok());
  EXPECT_EQ(w->pool()->Stats().segments, 1u) << "a corrupt pool is not grown past";
  EXPECT_EQ(w->topic().ring_control(w->ring_index()).anomalies.load(), 1u);
}

TEST(PooledTopicTest, SixtyFourMiBMessages) {
  if (const std::string why = ::ringcast::testing::WhyTooLittleShm(400u << 20); !why.empty()) {
    GTEST_SKIP() << why;
  }
  const ShmOptions o = UniqueOptions();
  TopicConfig c = PooledConfig(64 << 20, 1);
  c.max_subscribers = 1;
  c.max_held_samples = 1;  // 1 + 1 + 4 loans = 6 chunks, 384 MiB
  absl::StatusOr<Reader> r = Reader::Create(o, "/huge", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/huge", c);
  ASSERT_TRUE(r.ok() && w.ok()) << r.status() << w.status();
  EXPECT_EQ(w->pool()->bound(), 6u);
  EXPECT_EQ(w->pool()->chunk_count(), 0u) << "nothing committed before a loan";
  absl::StatusOr<ChunkLoan> loan = w->Loan(64 << 20);
  ASSERT_TRUE(loan.ok()) << loan.status();
  FillMessage(loan->data(), 64);
  ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
  absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ((*s)->info().size, 64u << 20);
  EXPECT_TRUE(VerifyMessage((*s)->data(), 64));
}

// A pool grows into a directory too small for it: the loan that would
// grow it fails with a clear error (the topic, the sizes, the free space),
// never a SIGBUS, and the publisher goes on once a chunk comes back.
TEST(PooledTopicTest, GrowthIntoAFullDirectoryIsAClearErrorForThatLoan) {
  if (const std::string why = ::ringcast::testing::WhyNoPrivateTmpfs(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  char tmpl[] = "/tmp/ringcast-pool-XXXXXX";
  ShmOptions o = UniqueOptions();
  o.dir = ::mkdtemp(tmpl);
  const int code = ::ringcast::testing::RunInChild([&] {
    // Steps 10-12: unshare, private mounts, the mount.
    if (const int step = ::ringcast::testing::MountPrivateTmpfs(o.dir, "size=4m"); step != 0) {
      return 9 + step;
    }
    {
      // 8 + 4 x 8 + 4 = 44 chunks of 1 MiB planned; nothing committed yet.
      absl::StatusOr<Writer> w = Writer::Create(o, "/big", PooledConfig(1 << 20));
      if (!w.ok()) return 13;
      // The first segment: 2 chunks of 1 MiB, which fit in 4 MiB.
      absl::StatusOr<ChunkLoan> a = w->Loan(1 << 20);
      absl::StatusOr<ChunkLoan> b = w->Loan(1 << 20);
      if (!a.ok() || !b.ok()) return 14;
      // Growing by 2 more does not.
      absl::StatusOr<ChunkLoan> c = w->Loan(1 << 20);
      if (c.status().code() != absl::StatusCode::kResourceExhausted) return 15;
      const std::string msg(c.status().message());
      if (msg.find("/big") == std::string::npos ||
          msg.find("2 chunks of 1048576 bytes") == std::string::npos ||
          msg.find("needs ") == std::string::npos || msg.find(" free") == std::string::npos) {
        return 16;
      }
      if (w->pool()->Stats().segments != 1) return 17;  // the failed one is gone
      // A chunk comes back: the publisher goes on.
      *a = ChunkLoan();
      absl::StatusOr<ChunkLoan> d = w->Loan(1 << 20);
      if (!d.ok()) return 18;
      if (!w->Publish(*std::move(d)).ok()) return 19;
    }
    // Nothing half-made is left: no pool, and the topic went with its user.
    ReleaseProcessTokens();
    return FilesWithPrefix(o.dir, o.prefix).empty() ? 0 : 20;
  });
  ::rmdir(o.dir.c_str());
  EXPECT_EQ(code, 0) << "child step " << code << " failed (see the test body)";
}

TEST(PooledTopicTest, RecycledChunkIsCountedLostNeverDelivered) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(4096, 4);
  absl::StatusOr<Reader> r = Reader::Create(o, "/blob", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/blob", c);
  ASSERT_TRUE(r.ok() && w.ok());
  for (std::uint64_t i = 0; i < 100; ++i) {
    std::vector<std::byte> m(4096);
    FillMessage(absl::MakeSpan(m), i);
    ASSERT_TRUE(w->Publish(m).ok());
  }
  std::vector<std::byte> got;
  SampleInfo info;
  std::uint64_t n = 0;
  while (*r->Take(&got, &info)) {
    EXPECT_TRUE(VerifyMessage(got, info.sequence));
    ++n;
  }
  EXPECT_EQ(n + r->lost(), 100u);
  EXPECT_GE(r->lost(), 96u);
}

// Readers take and hold samples while the writer recycles chunks as fast
// as it can: a delivered sample always holds its own bytes. For TSan.
TEST(PooledTopicTest, AcquireVersusRecycleStress) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(256, 4);
  constexpr std::uint64_t kMessages = 20000;
  std::atomic<int> failures{0}, joined{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int k = 0; k < 2; ++k) {
    readers.emplace_back([&, k] {
      absl::StatusOr<Reader> r = Reader::Create(o, "/stress", c);
      joined.fetch_add(1);
      if (!r.ok()) {
        failures.fetch_add(1);
        return;
      }
      std::vector<Sample> held;
      while (!done.load() || r->HasData()) {
        absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
        if (!s.ok()) {
          held.clear();
          continue;
        }
        if (!s->has_value()) continue;
        if (!VerifyMessage((*s)->data(), (*s)->info().sequence)) failures.fetch_add(1);
        held.push_back(**std::move(s));
        if (held.size() > static_cast<std::size_t>(2 + k * 4)) held.erase(held.begin());
        for (const Sample& h : held) {
          if (!VerifyMessage(h.data(), h.info().sequence)) failures.fetch_add(1);
        }
      }
    });
  }
  while (joined.load() < 2) std::this_thread::yield();
  absl::StatusOr<Writer> w = Writer::Create(o, "/stress", c);
  ASSERT_TRUE(w.ok());
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    absl::StatusOr<ChunkLoan> loan = w->Loan(256);
    ASSERT_TRUE(loan.ok()) << loan.status();
    FillMessage(loan->data(), i);
    ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
  }
  done.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t kBigMessages = 500;  // sanitizers check races, not volume
#else
constexpr std::uint64_t kBigMessages = 10000;
#endif

TEST(PooledMultiProcessTest, FourMiBMessagesToThreeSubscriberProcesses) {
  // 8 + 4 x 8 + 4 = 44 chunks of 4 MiB.
  if (const std::string why = ::ringcast::testing::WhyTooLittleShm(200u << 20); !why.empty()) {
    GTEST_SKIP() << why;
  }
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(4 << 20, 8);
  std::vector<pid_t> subs;
  for (int k = 0; k < 3; ++k) {
    subs.push_back(StartChild(
        [&] {
          absl::StatusOr<Reader> r = Reader::Create(o, "/big", c);
          if (!r.ok()) return 10;
          const absl::Time deadline = absl::Now() + absl::Seconds(200);
          while (r->received() < kBigMessages) {
            if (absl::Now() > deadline) return 11;
            if (!r->Wait(absl::Milliseconds(100)).ok()) continue;
            absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
            if (!s.ok()) return 12;
            if (!s->has_value()) continue;
            const Sample& sample = **s;
            if (!sample.pooled() || sample.info().size != (4u << 20)) return 13;
            if (!VerifyMessage(sample.data(), sample.info().sequence)) return 14;
          }
          return r->lost() == 0 ? 0 : 15;
        },
        absl::Seconds(240)));
  }
  absl::StatusOr<Writer> w = Writer::Create(o, "/big", c);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(AwaitSubscribers(w->topic(), 3, absl::Seconds(30)));
  for (std::uint64_t i = 0; i < kBigMessages; ++i) {
    if (i >= 4) {
      ASSERT_TRUE(AwaitCursors(w->topic(), w->ring_index(), i - 4, absl::Seconds(60)));
    }
    absl::StatusOr<ChunkLoan> loan = w->Loan(4 << 20);
    ASSERT_TRUE(loan.ok()) << loan.status();
    FillMessage(loan->data(), i);
    ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
  }
  for (const pid_t pid : subs) EXPECT_EQ(WaitChild(pid, absl::Seconds(240)), 0);
}

TEST(PooledCrashTest, KilledSubscriberHoldingEightChunksHasThemReturned) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(1024, 8);
  absl::StatusOr<Writer> w = Writer::Create(o, "/crash", c);
  ASSERT_TRUE(w.ok());
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t sub = StartChild([&] {
    absl::StatusOr<Reader> r = Reader::Create(o, "/crash", c);
    if (!r.ok()) return 10;
    (void)!::write(fds[1], "r", 1);
    std::vector<Sample> held;
    while (held.size() < 8) {
      if (!r->Wait(absl::Seconds(10)).ok()) return 11;
      absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
      if (!s.ok()) return 12;
      if (s->has_value()) held.push_back(**std::move(s));
    }
    (void)!::write(fds[1], "h", 1);
    ::pause();  // holding 8 chunks until killed
    return 0;
  });
  char b;
  ASSERT_EQ(::read(fds[0], &b, 1), 1);
  for (std::uint64_t i = 0; i < 8; ++i) {
    std::vector<std::byte> m(1024);
    FillMessage(absl::MakeSpan(m), i);
    ASSERT_TRUE(w->Publish(m).ok());
  }
  ASSERT_EQ(::read(fds[0], &b, 1), 1);
  const PoolChain& pool = *w->pool();
  // 8 in the ring (each also held by the subscriber): the rest are free.
  EXPECT_EQ(pool.CountFree(), pool.chunk_count() - 8);
  KillChild(sub);
  // Lap the ring: the ring drops its references, the dead one's stay.
  for (std::uint64_t i = 8; i < 16; ++i) {
    std::vector<std::byte> m(1024);
    FillMessage(absl::MakeSpan(m), i);
    ASSERT_TRUE(w->Publish(m).ok());
  }
  EXPECT_EQ(pool.CountFree(), pool.chunk_count() - 16);
  // Whoever joins next reclaims the dead entry and returns its 8 chunks.
  absl::StatusOr<Reader> next = Reader::Create(o, "/crash", c);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(pool.CountFree(), pool.chunk_count() - 8);
  // And the publisher goes on: 100,000 pooled messages, no failed loan.
  for (std::uint64_t i = 16; i < 100016; ++i) {
    absl::StatusOr<ChunkLoan> loan = w->Loan(1024);
    ASSERT_TRUE(loan.ok()) << loan.status();
    ASSERT_TRUE(w->Publish(*std::move(loan)).ok());
  }
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(PooledCrashTest, KilledPublisherLeavesHeldSamplesReadableAndNothingBehind) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = PooledConfig(64 << 10, 8);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pub = StartChild([&] {
    absl::StatusOr<Writer> w = Writer::Create(o, "/crash", c);
    if (!w.ok()) return 10;
    if (!AwaitSubscribers(w->topic(), 1, absl::Seconds(30))) return 11;
    for (std::uint64_t i = 0; i < 8; ++i) {
      absl::StatusOr<ChunkLoan> loan = w->Loan(64 << 10);
      if (!loan.ok()) return 12;
      FillMessage(loan->data(), i);
      if (!w->Publish(*std::move(loan)).ok()) return 13;
    }
    (void)!::write(fds[1], "p", 1);
    ::pause();
    return 0;
  });
  {
    absl::StatusOr<Reader> r = Reader::Create(o, "/crash", c);
    ASSERT_TRUE(r.ok());
    char b;
    ASSERT_EQ(::read(fds[0], &b, 1), 1);
    std::vector<Sample> held;
    for (int i = 0; i < 4; ++i) held.push_back(**r->TakeSample());
    KillChild(pub);
    // The dead publisher's chunks stay mapped and intact for us.
    for (const Sample& s : held) EXPECT_TRUE(VerifyMessage(s.data(), s.info().sequence));
    // The rest of its ring can still be read.
    std::vector<std::byte> got;
    SampleInfo info;
    int more = 0;
    while (*r->Take(&got, &info)) {
      EXPECT_TRUE(VerifyMessage(got, info.sequence));
      ++more;
    }
    EXPECT_EQ(more, 4);
  }  // samples released, reader gone: the pool's last user unlinks it
  // A later user reclaims the dead ring (and the dead token).
  { ASSERT_TRUE(Reader::Create(o, "/crash", c).ok()); }
  ReleaseProcessTokens();
  EXPECT_EQ(FilesWithPrefix(kShmDir, o.prefix), std::vector<std::string>{});
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace ringcast::transport
