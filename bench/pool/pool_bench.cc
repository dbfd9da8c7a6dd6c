// pool_bench: what a large message costs through the chunk pool, between
// two processes pinned to cores 0 and 1.
//
// One-way latency (half a ping-pong round trip) for pooled messages of
// 64 KiB, 1 MiB, 4 MiB and 16 MiB, busy-polling and sleeping, where each
// side writes the first and last cache line of its chunk and the other
// reads them: the figure is the transport's cost, not a memcpy's. In the
// same run: 48-byte inline messages (the size-independence reference) and
// a raw shared-memory SPSC ring that copies the whole payload each way (the
// copy baseline). Then the rate of a publisher that fills every byte of a
// 4 MiB chunk, in GB/s.
//
// Hot chunks: the rate of a publisher filling every byte of 4 MiB loans
// and publishing them to a subscriber that keeps up (a busy-polling
// TakeSample that touches the first and last cache line and drops the
// sample), against the same fill of one hot 4 MiB buffer in a loop (ratio
// judged >= 0.9, median of 5 interleaved runs), and how many distinct
// chunks the publisher's last 64 loans used (judged <= 3; the most of the
// runs).
//
//   pool_bench [--json] [--quick]
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/common/bench_util.h"
#include "bench/common/judged.h"
#include "bench/common/ringcast_pingpong.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace ringcast::bench {
namespace {

namespace rt = ringcast::transport;

bool g_quick = false;
std::string g_only;  // run only cases whose name contains this

// The copy baseline: a raw shared-memory slot per direction, the whole
// payload copied in and out, busy polling.
Stats CopyPingPong(std::size_t size, int rounds) {
  const std::size_t bytes = 2 * (64 + size);
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* base = static_cast<std::byte*>(mem);
  auto* ping_seq = new (base) std::atomic<std::uint64_t>(0);
  auto* pong_seq = new (base + 64 + size) std::atomic<std::uint64_t>(0);
  std::byte* ping = base + 64;
  std::byte* pong = base + 128 + size;
  const int warmup = rounds / 10 + 5;
  std::vector<std::byte> local(size), out(size, std::byte{7});
  const pid_t peer = StartPeer([&] {
        for (int i = 1; i <= warmup + rounds; ++i) {
          while (ping_seq->load(std::memory_order_acquire) != static_cast<std::uint64_t>(i)) {
          }
          std::memcpy(local.data(), ping, size);
          std::memcpy(pong, local.data(), size);
          pong_seq->store(i, std::memory_order_release);
        }
        return 0;
      });
  std::vector<double> one_way;
  for (int i = 1; i <= warmup + rounds; ++i) {
    const std::int64_t t0 = NowNs();
    std::memcpy(ping, out.data(), size);
    ping_seq->store(i, std::memory_order_release);
    while (pong_seq->load(std::memory_order_acquire) != static_cast<std::uint64_t>(i)) {
    }
    std::memcpy(local.data(), pong, size);
    const std::int64_t t1 = NowNs();
    if (i > warmup) one_way.push_back((t1 - t0) / 2.0);
  }
  if (!Reap(peer)) std::exit(1);
  ::munmap(mem, bytes);
  return Percentiles(one_way);
}

// A publisher filling every byte of each 4 MiB loan, one sleeping
// subscriber reading the first line of each sample.
double FillRate(int messages) {
  constexpr std::size_t kSize = 4 << 20;
  const rt::ShmOptions o = BenchOptions();
  const rt::TopicConfig c = PingPongConfig(kSize);
  rt::ReaderOptions ro;
  ro.spin = absl::ZeroDuration();
  const pid_t peer = StartPeer([&] {
        absl::StatusOr<rt::Reader> r = rt::Reader::Create(o, "/fill", c, ro);
        if (!r.ok()) return 1;
        std::uint64_t got = 0;
        const absl::Time deadline = absl::Now() + absl::Seconds(60);
        while (got + r->lost() < static_cast<std::uint64_t>(messages) && absl::Now() < deadline) {
          if (!r->Wait(absl::Milliseconds(100)).ok()) continue;
          absl::StatusOr<std::optional<rt::Sample>> s = r->TakeSample();
          if (s.ok() && s->has_value()) ++got;
        }
        return 0;
      });
  absl::StatusOr<rt::Writer> w = rt::Writer::Create(o, "/fill", c);
  if (!w.ok()) std::exit(1);
  absl::SleepFor(absl::Milliseconds(50));
  const std::int64_t t0 = NowNs();
  for (int i = 0; i < messages; ++i) {
    absl::StatusOr<rt::ChunkLoan> loan = w->Loan(kSize);
    if (!loan.ok()) std::exit(1);
    std::memset(loan->data().data(), i & 0xff, kSize);
    (void)w->Publish(*std::move(loan));
  }
  const std::int64_t t1 = NowNs();
  if (!Reap(peer)) std::exit(1);
  return static_cast<double>(kSize) * messages / static_cast<double>(t1 - t0);  // bytes/ns = GB/s
}

// --- Hot chunks --------------------------------------------------------------

constexpr std::size_t kHotSize = 4 << 20;

// The fill both sides of the comparison run: every byte of the 4 MiB at `p`.
void Fill(std::byte* p, int i) {
  std::memset(p, i & 0xff, kHotSize);
  asm volatile("" : : "r"(p) : "memory");  // the bytes count as used
}

struct PooledFill {
  double gbs = 0;
  std::size_t distinct_chunks = 0;  // among the last kTracked loans
  std::uint64_t lost = 0;           // by the subscriber
};

// A publisher on core 0 loaning, filling and publishing 4 MiB chunks; one
// subscriber on core 1 that busy-polls TakeSample, touches the first and
// last cache line of each sample and drops it. A warm-up of 20 loans first.
PooledFill HotChunkFill(int messages) {
  constexpr int kWarmUp = 20;
  constexpr int kTracked = 64;
  const rt::ShmOptions o = BenchOptions();
  rt::TopicConfig c;
  c.type_name = "bench.Payload";
  c.depth = 16;
  c.max_message_size = kHotSize;
  c.max_subscribers = 4;
  c.max_held_samples = 2;  // the pool: 16 + 4 x 2 + 4 loans = 28 chunks, 112 MiB
  const std::uint64_t total = kWarmUp + messages;
  void* mem = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* counts = static_cast<std::atomic<std::uint64_t>*>(mem);  // lost, sink
  const pid_t peer = StartPeer([&] {
        absl::StatusOr<rt::Reader> r = rt::Reader::Create(o, "/hot_fill", c);
        if (!r.ok()) return 1;
        std::uint64_t next = 0, sink = 0;
        const absl::Time deadline = absl::Now() + absl::Seconds(60);
        for (std::uint64_t spins = 0; next < total; ++spins) {
          if (spins % 4096 == 0 && absl::Now() > deadline) return 2;
          absl::StatusOr<std::optional<rt::Sample>> s = r->TakeSample();
          if (!s.ok()) return 3;
          if (!s->has_value()) continue;
          sink += Touch(**s);
          next = (*s)->info().sequence + 1;
        }
        counts[0].store(r->lost());
        counts[1].store(sink);  // keeps the reads
        return 0;
      });
  PooledFill out;
  {
    absl::StatusOr<rt::Writer> w = rt::Writer::Create(o, "/hot_fill", c);
    if (!w.ok() || !AwaitSubscriber(o, "/hot_fill")) std::exit(1);
    absl::SleepFor(absl::Milliseconds(50));
    std::vector<const std::byte*> chunks;
    std::int64_t t0 = 0;
    for (int i = 0; i < kWarmUp + messages; ++i) {
      if (i == kWarmUp) t0 = NowNs();
      absl::StatusOr<rt::ChunkLoan> loan = w->Loan(kHotSize);
      if (!loan.ok()) std::exit(1);
      if (i >= kWarmUp + messages - kTracked) chunks.push_back(loan->data().data());
      Fill(loan->data().data(), i);
      if (!w->Publish(*std::move(loan)).ok()) std::exit(1);
    }
    const std::int64_t t1 = NowNs();
    if (!Reap(peer)) std::exit(1);
    out.gbs = static_cast<double>(kHotSize) * messages / static_cast<double>(t1 - t0);
    std::sort(chunks.begin(), chunks.end());
    out.distinct_chunks = static_cast<std::size_t>(
        std::unique(chunks.begin(), chunks.end()) - chunks.begin());
  }
  out.lost = counts[0].load();
  ::munmap(mem, 4096);
  return out;
}

// The baseline: Fill on one 4 MiB buffer, `messages` times after 20.
double HotBufferFill(int messages) {
  std::vector<std::byte> buffer(kHotSize);
  for (int i = 0; i < 20; ++i) Fill(buffer.data(), i);
  const std::int64_t t0 = NowNs();
  for (int i = 0; i < messages; ++i) Fill(buffer.data(), i);
  const std::int64_t t1 = NowNs();
  return static_cast<double>(kHotSize) * messages / static_cast<double>(t1 - t0);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      g_json = true;
    } else if (a == "--quick") {
      g_quick = true;
    } else if (a.rfind("--only=", 0) == 0) {
      g_only = a.substr(7);
    } else {
      std::fprintf(stderr, "usage: pool_bench [--json] [--quick]\n");
      return 2;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const int rounds = g_quick ? 500 : 20000;
  PrintLatencyHeader("one-way latency, ns (half a round trip; cores 0 and 1)");
  auto want = [](const std::string& name) {
    return g_only.empty() || name.find(g_only) != std::string::npos;
  };
  Stats inline_busy{};
  if (want("inline 48 B busy")) {
    inline_busy = RingcastPingPong(48, false, rounds);
    ReportLatency("ringcast inline 48 B busy", inline_busy);
  }
  if (want("inline 48 B sleeping")) {
    ReportLatency("ringcast inline 48 B sleeping", RingcastPingPong(48, true, rounds / 4));
  }
  struct Size {
    std::size_t bytes;
    const char* name;
  };
  const Size sizes[] = {{64 << 10, "64 KiB"}, {1 << 20, "1 MiB"}, {4 << 20, "4 MiB"},
                        {16 << 20, "16 MiB"}};
  double pooled_4m = 0, copy_4m = 0;
  for (const Size& s : sizes) {
    const std::string busy_name = absl::StrCat("ringcast pooled ", s.name, " busy");
    const std::string sleep_name = absl::StrCat("ringcast pooled ", s.name, " sleeping");
    const std::string copy_name = absl::StrCat("raw SPSC copying ", s.name);
    if (want(busy_name)) {
      const Stats busy = RingcastPingPong(s.bytes, false, rounds);
      ReportLatency(busy_name, busy);
      if (s.bytes == (4u << 20)) pooled_4m = busy.p50;
    }
    if (want(sleep_name)) ReportLatency(sleep_name, RingcastPingPong(s.bytes, true, rounds / 4));
    if (want(copy_name)) {
      // Copying costs ~size/10 GB/s per hop: fewer rounds for big sizes.
      const int copy_rounds = std::max<int>(
          50, static_cast<int>((g_quick ? 2 : 200) * (64ull << 20) / s.bytes / 16));
      const Stats copy = CopyPingPong(s.bytes, copy_rounds);
      ReportLatency(copy_name, copy);
      if (s.bytes == (4u << 20)) copy_4m = copy.p50;
    }
  }
  const double gbs = want("fill") ? FillRate(g_quick ? 50 : 1000) : 0;
  if (g_json) {
    ReportValue("ringcast pooled 4 MiB fill", "throughput", gbs, "GB/s");
  } else {
    std::printf("\nratios (p50): pooled 4 MiB / inline 48 B = %.2f (size-independent if ~1;"
                " judged <= 2)\n", pooled_4m / inline_busy.p50);
    std::printf("              copying 4 MiB / pooled 4 MiB = %.0f (judged >= 50)\n",
                copy_4m / pooled_4m);
    std::printf("publisher filling every byte of 4 MiB loans: %.2f GB/s\n", gbs);
  }
  if (want("ringcast pooled 4 MiB hot-chunk fill")) {
    const int fills = g_quick ? 50 : 2000;
    std::vector<double> pooled, hot;
    std::size_t distinct = 0;
    std::uint64_t lost = 0;
    for (int rep = 0; rep < 5; ++rep) {
      const PooledFill f = HotChunkFill(fills);
      pooled.push_back(f.gbs);
      distinct = std::max(distinct, f.distinct_chunks);
      lost += f.lost;
      hot.push_back(HotBufferFill(fills));
    }
    if (!g_json) {
      std::printf("\nhot chunks: filling 4 MiB (memset), %d per run, median of 5 runs; topic "
                  "depth 16, max_subscribers 4,\nmax_held_samples 2; one subscriber on core 1 "
                  "busy-polling TakeSample (first and last line read)\n", fills);
    }
    ReportValue("ringcast pooled 4 MiB hot-chunk fill", "throughput", Median(pooled), "GB/s");
    ReportValue("hot 4 MiB buffer fill", "throughput", Median(hot), "GB/s");
    ReportCheck("hot-chunk fill: the subscriber lost 0, all 5 runs", lost == 0);
    ReportRatio("hot-chunk fill: pooled / hot buffer", Median(pooled) / Median(hot),
                Bound::AtLeast(0.9));
    ReportJudged("hot-chunk fill: distinct chunks, last 64 loans (most of 5)", "chunks",
                 static_cast<double>(distinct), "chunks", Bound::AtMost(3));
  }
  return 0;
}

}  // namespace
}  // namespace ringcast::bench

int main(int argc, char** argv) { return ringcast::bench::Main(argc, argv); }
