// Pools that grow with use: nothing committed before a loan, growth by
// doubling up to the plan, size classes that fit the message, shrinking
// after idle, and subscribers that follow all of it on their own.
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <optional>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "tests/transport/ring_test_util.h"
#include "transport/liveness.h"
#include "transport/pool.h"
#include "transport/pool_chain.h"
#include "transport/topic_layout.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::UniqueOptions;
using ::ringcast::testing::WaitUntil;
using test::FillMessage;
using test::VerifyMessage;

TopicConfig Config(std::uint64_t max_message_size, std::uint32_t depth = 8) {
  TopicConfig c;
  c.type_name = "test.Growth";
  c.depth = depth;
  c.max_message_size = max_message_size;
  c.max_subscribers = 2;
  c.max_held_samples = 4;
  return c;
}

std::vector<std::uint32_t> SegmentChunks(const PoolChain& chain, std::uint32_t size_class) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t n = 0; n < internal::kMaxClassSegments; ++n) {
    if (const ChunkPool* p = chain.segment(size_class, n)) out.push_back(p->chunk_count());
  }
  return out;
}

absl::Status PublishFilled(Writer& w, std::size_t size, std::uint64_t seed) {
  absl::StatusOr<ChunkLoan> loan = w.Loan(size);
  if (!loan.ok()) return loan.status();
  FillMessage(loan->data(), seed);
  return w.Publish(*std::move(loan));
}

// A pool that starts at one chunk and lets growth go after `idle`.
WriterOptions Shrinking(absl::Duration idle) {
  WriterOptions wo;
  wo.pool.initial_chunks = 1;
  wo.pool.idle = idle;
  return wo;
}

// Mappings of this process whose file name starts with `stem`.
int MappingsOf(const std::string& stem) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("/" + stem) != std::string::npos) ++n;
  }
  return n;
}

std::string PoolStem(const ShmOptions& o) { return absl::StrCat(o.prefix, ".", o.domain, ".p."); }

// Nothing is committed before the first loan; each growth doubles the
// chunks of the size class, and the last one stops at the plan.
TEST(PoolGrowthTest, CommitsNothingUntilALoanThenDoublesUpToThePlan) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(64 << 10);  // plan: 8 + 2 x 4 + 4 = 20
  WriterOptions wo;
  wo.keep_history = true;  // the ring keeps its 8 newest: chunks pile up
  absl::StatusOr<Writer> w = Writer::Create(o, "/grow", c, wo);
  ASSERT_TRUE(w.ok()) << w.status();
  const PoolChain& chain = *w->pool();
  EXPECT_EQ(chain.bound(), 20u);
  EXPECT_EQ(chain.Stats().committed_bytes, 0u);
  EXPECT_TRUE(FilesWithPrefix(kShmDir, PoolStem(o)).empty());

  for (std::uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(PublishFilled(*w, 60 << 10, i).ok());
  EXPECT_THAT(SegmentChunks(chain, 0), ::testing::ElementsAre(2u, 2u, 4u));
  // Four loans at once on top of the ring's eight: 12 needed, then 20.
  std::vector<ChunkLoan> loans;
  for (int k = 0; k < 4; ++k) {
    absl::StatusOr<ChunkLoan> loan = w->Loan(60 << 10);
    ASSERT_TRUE(loan.ok()) << loan.status();
    loans.push_back(*std::move(loan));
  }
  EXPECT_THAT(SegmentChunks(chain, 0), ::testing::ElementsAre(2u, 2u, 4u, 8u));
  const PoolUse use = chain.Stats();
  EXPECT_EQ(use.chunks, 16u);
  EXPECT_EQ(use.segments, 4u);
  EXPECT_EQ(use.planned_bytes, 20u * (64 << 10));
  EXPECT_EQ(FilesWithPrefix(kShmDir, PoolStem(o)).size(), 4u);
  ASSERT_EQ(use.classes.size(), 1u);
  EXPECT_EQ(use.classes[0].chunk_size, 64u << 10);
  loans.clear();
  w = absl::CancelledError("closed");
  EXPECT_TRUE(FilesWithPrefix(kShmDir, PoolStem(o)).empty());
}

// A loan takes a chunk of the smallest class that fits it: a topic planned
// for 16 MiB messages whose messages are 200 KB commits 256 KiB chunks.
TEST(PoolGrowthTest, SizeClassesFitTheMessageNotTheMaximum) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(16 << 20);
  absl::StatusOr<Reader> r = Reader::Create(o, "/cloud", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/cloud", c);
  ASSERT_TRUE(r.ok() && w.ok()) << r.status() << w.status();
  for (std::uint64_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(PublishFilled(*w, 200'000, i).ok());
    std::vector<std::byte> got;
    SampleInfo info;
    ASSERT_TRUE(*r->Take(&got, &info));
    ASSERT_EQ(got.size(), 200'000u);
    EXPECT_TRUE(VerifyMessage(got, i)) << i;
  }
  const PoolUse use = w->pool()->Stats();
  ASSERT_EQ(use.classes.size(), 1u);
  EXPECT_EQ(use.classes[0].chunk_size, 256u << 10);
  EXPECT_LE(use.committed_bytes, 4u * (256 << 10) + (64 << 10))
      << "a subscriber that keeps up needs a couple of 256 KiB chunks, not 16 MiB ones";
  EXPECT_EQ(use.planned_bytes, std::uint64_t{w->pool()->bound()} * (16 << 20));
}

// Mixed sizes: each goes to its class, inline ones to the ring, and every
// subscriber reads every one back whole.
TEST(PoolGrowthTest, MixedSizesEachTakeTheirClass) {
  if (const std::string why = ::ringcast::testing::WhyTooLittleShm(200u << 20); !why.empty()) {
    GTEST_SKIP() << why;
  }
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(16 << 20);
  absl::StatusOr<Reader> r = Reader::Create(o, "/mixed", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/mixed", c);
  ASSERT_TRUE(r.ok() && w.ok()) << r.status() << w.status();
  const std::vector<std::size_t> sizes = {5'000, 200'000, 3'000'000, 16 << 20, 4096, 40,
                                          (4 << 20) + 1, 9'000};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    std::vector<std::byte> m(std::max<std::size_t>(sizes[i], 8));
    FillMessage(absl::MakeSpan(m), i);
    m.resize(sizes[i]);
    ASSERT_TRUE(w->Publish(m).ok()) << sizes[i];
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
    ASSERT_TRUE(s.ok() && s->has_value()) << i;
    ASSERT_EQ((*s)->data().size(), sizes[i]);
    if (sizes[i] >= 8) {
      EXPECT_TRUE(VerifyMessage((*s)->data(), i)) << sizes[i];
    }
  }
  EXPECT_EQ(r->lost(), 0u);
  std::vector<std::uint64_t> classes;
  for (const PoolUse::SizeClass& k : w->pool()->Stats().classes) classes.push_back(k.chunk_size);
  // 16 MiB -> the maximum; 4 MiB + 1 -> 8 MiB; 3 MB -> 4 MiB; 200 KB ->
  // 256 KiB; 9,000 -> 16 KiB; 5,000 -> 8 KiB; 4,096 -> 4 KiB; 40 bytes inline.
  EXPECT_THAT(classes, ::testing::ElementsAre(16u << 20, 8u << 20, 4u << 20, 256u << 10,
                                              16u << 10, 8u << 10, 4u << 10));
}

// Subscribers that keep up and one that holds its maximum: the pool grows
// for the holder, no loan fails, every sample read is whole, and the pool
// never commits more than the plan. (TSan runs this too: growth while
// subscribers take on other threads.)
TEST(PoolGrowthTest, GrowsUnderLoadWhileSubscribersTakeAndHold) {
  const ShmOptions o = UniqueOptions();
  TopicConfig c = Config(64 << 10);
  c.max_subscribers = 3;
  absl::StatusOr<Writer> w = Writer::Create(o, "/load", c);
  ASSERT_TRUE(w.ok()) << w.status();
  constexpr std::uint64_t kMessages = 3000;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> takers;
  for (int t = 0; t < 2; ++t) {
    takers.emplace_back([&] {
      absl::StatusOr<Reader> r = Reader::Create(o, "/load", c);
      if (!r.ok()) {
        bad.fetch_add(1);
        return;
      }
      const absl::Time deadline = absl::Now() + absl::Seconds(60);
      while (!done.load(std::memory_order_acquire) && absl::Now() < deadline) {
        if (!r->Wait(absl::Milliseconds(10)).ok()) continue;
        absl::StatusOr<std::optional<Sample>> s = r->TakeSample();
        if (!s.ok()) {
          bad.fetch_add(1);
          return;
        }
        if (s->has_value() && !VerifyMessage((*s)->data(), (*s)->info().sequence)) {
          bad.fetch_add(1);
        }
      }
    });
  }
  // The holder takes its 4 and keeps them.
  absl::StatusOr<Reader> holder = Reader::Create(o, "/load", c);
  ASSERT_TRUE(holder.ok()) << holder.status();
  ASSERT_TRUE(test::AwaitSubscribers(w->topic(), 3, absl::Seconds(10)));
  std::vector<Sample> held;
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(PublishFilled(*w, 1000 + (i % 60) * 1000, w->next_sequence()).ok()) << i;
    while (held.size() < 4) {
      absl::StatusOr<std::optional<Sample>> s = holder->TakeSample();
      ASSERT_TRUE(s.ok()) << s.status();
      if (!s->has_value()) break;
      EXPECT_TRUE(VerifyMessage((**s).data(), (**s).info().sequence));
      held.push_back(**std::move(s));
    }
    ASSERT_LE(w->pool()->Stats().chunks,
              std::uint64_t{w->pool()->bound()} * w->pool()->class_count());
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : takers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(held.size(), 4u);
  for (const PoolUse::SizeClass& k : w->pool()->Stats().classes) {
    EXPECT_LE(k.chunks, w->pool()->bound()) << k.chunk_size;
  }
}

// A subscriber that joins late maps the segments its samples name the
// first time it meets them (transient local: it starts depth samples back,
// spread over segments made before it came).
TEST(PoolGrowthTest, ALateSubscriberMapsSegmentsAsSamplesNameThem) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(64 << 10);
  WriterOptions wo;
  wo.keep_history = true;
  absl::StatusOr<Writer> w = Writer::Create(o, "/late", c, wo);
  ASSERT_TRUE(w.ok()) << w.status();
  for (std::uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(PublishFilled(*w, 50'000, i).ok());
  ASSERT_EQ(w->pool()->Stats().segments, 3u);
  ReaderOptions ro;
  ro.transient_local = true;
  absl::StatusOr<Reader> r = Reader::Create(o, "/late", c, ro);
  ASSERT_TRUE(r.ok()) << r.status();
  for (std::uint64_t i = 0; i < 8; ++i) {
    std::vector<std::byte> got;
    SampleInfo info;
    ASSERT_TRUE(*r->Take(&got, &info)) << i;
    EXPECT_EQ(info.sequence, i);
    EXPECT_TRUE(VerifyMessage(got, i)) << i;
  }
  EXPECT_EQ(r->lost(), 0u);
}

// Segments wholly free for the idle time go with no call from the
// publisher: unlinked by the pool keeper, and let go by a subscriber that
// mapped them. When the pool grows again
// under the same ids, the subscriber maps the new segments, never reads
// the old ones.
TEST(PoolGrowthTest, AnIdlePublisherShrinksWithoutACallAndSubscribersFollowReusedIds) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(64 << 10);
  const WriterOptions wo = Shrinking(absl::Milliseconds(5));
  absl::StatusOr<Reader> r = Reader::Create(o, "/idle", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/idle", c, wo);
  ASSERT_TRUE(r.ok() && w.ok()) << r.status() << w.status();
  std::uint64_t seq = 0;
  auto burst = [&] {
    // Three loans at once need three chunks: segments of 1, 1 and 2.
    std::vector<ChunkLoan> loans;
    for (int k = 0; k < 3; ++k) {
      absl::StatusOr<ChunkLoan> loan = w->Loan(50'000);
      ASSERT_TRUE(loan.ok()) << loan.status();
      loans.push_back(*std::move(loan));
    }
    for (ChunkLoan& loan : loans) {
      FillMessage(loan.data(), seq++);
      ASSERT_TRUE(w->Publish(std::move(loan)).ok());
    }
    for (int k = 0; k < 3; ++k) {
      std::vector<std::byte> got;
      SampleInfo info;
      ASSERT_TRUE(*r->Take(&got, &info)) << k;
      EXPECT_TRUE(VerifyMessage(got, info.sequence)) << info.sequence;
    }
  };
  const absl::Time last_use = absl::Now();
  burst();
  ASSERT_THAT(SegmentChunks(*w->pool(), 0), ::testing::ElementsAre(1u, 1u, 2u));
  // The publisher makes no further call: the keeper releases the later
  // segments once they have stayed wholly free for 5 ms; the first stays.
  ASSERT_TRUE(WaitUntil([&] { return w->pool_use().segments == 1; }))
      << w->pool_use().segments << " segments";
  EXPECT_GE(absl::Now() - last_use, absl::Milliseconds(5)) << "released before the idle time";
  EXPECT_THAT(SegmentChunks(*w->pool(), 0), ::testing::ElementsAre(1u));
  EXPECT_EQ(FilesWithPrefix(kShmDir, PoolStem(o)).size(), 1u);
  // The subscriber still maps the released segments (their chunks' memory
  // is already given back) until its pooled takes come round to a sweep.
  EXPECT_EQ(r->mapped_pools(), 3u);
  for (int k = 0; k < 70; ++k) {
    ASSERT_TRUE(PublishFilled(*w, 50'000, seq++).ok());
    std::vector<std::byte> got;
    SampleInfo info;
    ASSERT_TRUE(*r->Take(&got, &info));
  }
  EXPECT_EQ(r->mapped_pools(), 1u) << "released segments are unmapped";
  // Grown again: the new segments take the old ids.
  burst();
  burst();
  EXPECT_EQ(r->lost(), 0u);
  EXPECT_EQ(r->received(), 79u);
}

// A reference into another publisher's pool is never followed: the sample
// is counted lost and the subscriber maps nothing outside its ring's pool.
TEST(PoolGrowthTest, AReferenceOutsideTheRingsPoolIsLostNotFollowed) {
  const ShmOptions o = UniqueOptions();
  TopicConfig c = Config(64 << 10);
  c.max_publishers = 2;
  absl::StatusOr<Reader> r = Reader::Create(o, "/foreign", c);
  absl::StatusOr<Writer> a = Writer::Create(o, "/foreign", c);
  absl::StatusOr<Writer> b = Writer::Create(o, "/foreign", c);
  ASSERT_TRUE(r.ok() && a.ok() && b.ok());
  ASSERT_TRUE(PublishFilled(*b, 50'000, 0).ok());  // b's pool exists
  ASSERT_TRUE(PublishFilled(*a, 50'000, 0).ok());
  // A stray write points a's sample at b's segment (same chunk index).
  const ChunkPool* theirs = b->pool()->segment(0, 0);
  ASSERT_NE(theirs, nullptr);
  const std::uint64_t id = theirs->id();
  std::memcpy(a->topic().slots(a->ring_index()) + internal::kSlotHeaderSize, &id, sizeof id);
  std::vector<std::byte> got;
  SampleInfo info;
  for (int k = 0; k < 2; ++k) {
    absl::StatusOr<bool> took = r->Take(&got, &info);
    ASSERT_TRUE(took.ok());
    if (*took) {
      EXPECT_NE(info.publisher_id, a->publisher_id()) << "followed a foreign reference";
    }
  }
  EXPECT_EQ(r->lost(), 1u);
}

// The keeper releases segments on its own thread while the publisher
// loans and publishes in bursts and a subscriber takes on a third: every
// sample read is whole, no loan fails, and the pool ends at its first
// segment. (TSan runs this: release against loans and takes.)
TEST(PoolGrowthTest, TheKeeperReleasesWhileThePublisherLoansAndASubscriberTakes) {
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(64 << 10);
  const WriterOptions wo = Shrinking(absl::Milliseconds(1));
  absl::StatusOr<Writer> w = Writer::Create(o, "/keeper", c, wo);
  ASSERT_TRUE(w.ok()) << w.status();
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<std::uint64_t> taken{0};
  std::thread taker([&] {
    absl::StatusOr<Reader> r = Reader::Create(o, "/keeper", c);
    if (!r.ok()) {
      bad.fetch_add(1);
      return;
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    std::vector<std::byte> got;
    SampleInfo info;
    while (!done.load(std::memory_order_acquire) && absl::Now() < deadline) {
      if (!r->Wait(absl::Milliseconds(10)).ok()) continue;
      absl::StatusOr<bool> any = r->Take(&got, &info);
      if (!any.ok()) {
        bad.fetch_add(1);
        return;
      }
      if (!*any) continue;
      taken.fetch_add(1, std::memory_order_relaxed);
      if (!VerifyMessage(got, info.sequence)) bad.fetch_add(1);
    }
  });
  ASSERT_TRUE(test::AwaitSubscribers(w->topic(), 1, absl::Seconds(10)));
  int shrinks = 0;
  std::uint32_t segments = 0;
  for (int round = 0; round < 600; ++round) {
    std::vector<ChunkLoan> loans;
    for (int k = 0; k < 1 + round % 4; ++k) {
      absl::StatusOr<ChunkLoan> loan = w->Loan(20'000);
      ASSERT_TRUE(loan.ok()) << round << ": " << loan.status();
      loans.push_back(*std::move(loan));
    }
    for (ChunkLoan& loan : loans) {
      FillMessage(loan.data(), w->next_sequence());
      ASSERT_TRUE(w->Publish(std::move(loan)).ok());
    }
    const std::uint32_t now = w->pool_use().segments;
    if (now < segments) ++shrinks;
    segments = now;
    // Now and then idle for a few idle times, so the keeper releases.
    if (round % 16 == 15) absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GT(shrinks, 0) << "the keeper never released a segment between bursts";
  EXPECT_TRUE(WaitUntil([&] { return w->pool_use().segments == 1; }));
  done.store(true, std::memory_order_release);
  taker.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(taken.load(), 0u);
}

// Released segments give their memory back at once, even while a
// subscriber still maps them (a file's pages would otherwise stay until
// its last mapping goes): measured on a private tmpfs.
TEST(PoolGrowthTest, AnIdlePoolGivesItsMemoryBackWhileASubscriberStillMapsIt) {
  if (const std::string why = ::ringcast::testing::WhyNoPrivateTmpfs(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  char tmpl[] = "/tmp/ringcast-keeper-XXXXXX";
  ShmOptions o = UniqueOptions();
  o.dir = ::mkdtemp(tmpl);
  const int code = ::ringcast::testing::RunInChild([&] {
    // Steps 10-12: unshare, private mounts, the mount.
    if (const int step = ::ringcast::testing::MountPrivateTmpfs(o.dir, "size=32m"); step != 0) {
      return 9 + step;
    }
    const auto used = [&]() -> std::int64_t {
      struct statvfs v {};
      if (::statvfs(o.dir.c_str(), &v) != 0) return -1;
      return static_cast<std::int64_t>((v.f_blocks - v.f_bfree) * v.f_frsize);
    };
    {
      const TopicConfig c = Config(1 << 20);
      const WriterOptions wo = Shrinking(absl::Milliseconds(5));
      absl::StatusOr<Reader> r = Reader::Create(o, "/mem", c);
      absl::StatusOr<Writer> w = Writer::Create(o, "/mem", c, wo);
      if (!r.ok() || !w.ok()) return 13;
      const std::int64_t base = used();
      // Three loans at once: segments of 1, 1 and 2 chunks of 1 MiB, each
      // mapped by the subscriber as it takes their samples.
      std::vector<ChunkLoan> loans;
      for (int k = 0; k < 3; ++k) {
        absl::StatusOr<ChunkLoan> loan = w->Loan(1 << 20);
        if (!loan.ok()) return 14;
        loans.push_back(*std::move(loan));
      }
      // Measured while the loans hold every chunk: nothing can go yet.
      if (used() - base < (4 << 20)) return 18;  // 4 MiB grown
      for (ChunkLoan& loan : loans) {
        FillMessage(loan.data(), w->next_sequence());
        if (!w->Publish(std::move(loan)).ok()) return 15;
      }
      std::vector<std::byte> got;
      SampleInfo info;
      for (int k = 0; k < 3; ++k) {
        if (!*r->Take(&got, &info) || !VerifyMessage(got, info.sequence)) return 16;
      }
      if (r->mapped_pools() != 3) return 17;
      if (!WaitUntil([&] { return w->pool_use().segments == 1; })) return 19;
      if (r->mapped_pools() != 3) return 20;  // still mapped...
      if (used() - base > (1 << 20) + (64 << 10)) return 21;  // ...yet only the first is held
      // The publisher unmapped the two it released: 3 + 1 mappings left.
      if (!WaitUntil([&] { return MappingsOf(PoolStem(o)) == 4; })) return 23;
    }
    ReleaseProcessTokens();
    return FilesWithPrefix(o.dir, o.prefix).empty() ? 0 : 22;
  });
  ::rmdir(o.dir.c_str());
  EXPECT_EQ(code, 0) << "child step " << code << " failed (see the test body)";
}

// A child forked while the keeper watches its parent's pool (fork leaves
// the keeper's thread behind) starts a keeper of its own: its pool grows
// and shrinks back, and the parent's grown pool is as it was.
TEST(PoolGrowthTest, AForkedChildKeepsItsOwnPoolsNotItsParents) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  // TSan refuses outright; under ASan the child hung once in .ci/run
  // (cause not established, see the closing note).
  GTEST_SKIP() << "a sanitizer runtime cannot be relied on to start threads in a child forked "
                  "from a process with threads, and this child must start its keeper";
#endif
  const ShmOptions o = UniqueOptions();
  const TopicConfig c = Config(64 << 10);
  absl::StatusOr<Writer> w = Writer::Create(o, "/parent", c, Shrinking(absl::Milliseconds(1)));
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<ChunkLoan> held;
  for (int k = 0; k < 3; ++k) {
    absl::StatusOr<ChunkLoan> loan = w->Loan(20'000);
    ASSERT_TRUE(loan.ok()) << loan.status();
    held.push_back(*std::move(loan));
  }
  ASSERT_EQ(w->pool_use().segments, 3u);  // the keeper watches it now
  const int code = ::ringcast::testing::RunInChild([&] {
    absl::StatusOr<Writer> mine =
        Writer::Create(o, "/child", c, Shrinking(absl::Milliseconds(1)));
    if (!mine.ok()) return 10;
    {
      std::vector<ChunkLoan> loans;
      for (int k = 0; k < 3; ++k) {
        absl::StatusOr<ChunkLoan> loan = mine->Loan(20'000);
        if (!loan.ok()) return 11;
        loans.push_back(*std::move(loan));
      }
    }
    if (!WaitUntil([&] { return mine->pool_use().segments == 1; })) return 12;
    return 0;
  });
  EXPECT_EQ(code, 0) << "child step " << code << " failed (see the test body)";
  EXPECT_EQ(w->pool_use().segments, 3u);
  EXPECT_EQ(FilesWithPrefix(kShmDir, PoolStem(o)).size(), 3u) << "only the parent's pool is left";
  held.clear();
  EXPECT_TRUE(WaitUntil([&] { return w->pool_use().segments == 1; }));
}

}  // namespace
}  // namespace ringcast::transport
