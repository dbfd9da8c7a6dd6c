// data_plane_bench: the transport's second-pass data-plane features, each
// beside a baseline measured in the same run. 64-byte messages, inline
// (inline_capacity 64), rings of depth 1024; the publisher is pinned to
// core 0 and the subscribers to core 1 (the four subscribers of a 1 -> 4
// case share core 1).
//
//   1. throughput, best-effort subscribers that busy-poll: the publisher's
//      rate (msg/s) and each subscriber's delivered rate, received and lost
//      samples (a subscriber that falls behind is lapped and loses some):
//        raw ring 1 -> 1, a minimal best-effort ring with ringcast's slot
//          size (the baseline)
//        ringcast 1 -> 1 and 1 -> 4, Publish / Take(Sample*)
//        ringcast 1 -> 1 and 1 -> 4, PublishBatch(32) / TakeBatch(32)
//      ratios single / raw (judged >= 0.5), batched / raw (>= 0.8), and
//      1 -> 4 / 1 -> 1 publish rate, single and batched (>= 0.9).
//   2. the cost of one Publish with no subscriber, with the publish time
//      stamp and without (WriterOptions::stamp_time = false), beside an
//      empty loop and a store into a raw ring slot of the same size; and
//      the first publishes of a new Writer, whose clock is not calibrated.
//   3. reliable against best-effort subscribers, which Wait() then
//      TakeBatch(32): throughput 1 -> 1 and 1 -> 4 (checking that reliable
//      ones receive every sample and lose none), and the one-way latency of
//      a busy-polling 1 -> 1 ping-pong; ratios reliable / best effort.
//
// Each case runs 5 times, interleaved with the others, each time over fresh
// segments. Throughput rows are the run with the median publish rate (its
// subscribers' figures with it); costs and latencies are medians of runs.
// Every ringcast publisher measured has published for 200 ms first.
//
//   data_plane_bench [--json] [--quick] [--section=1|2|3]
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/common/bench_util.h"
#include "bench/common/judged.h"
#include "bench/common/ringcast_pingpong.h"
#include "transport/reader.h"
#include "transport/topic.h"
#include "transport/writer.h"

namespace ringcast::bench {
namespace {

namespace rt = ringcast::transport;

bool g_quick = false;

constexpr std::size_t kPayload = 64;
constexpr std::size_t kBatch = 32;
constexpr std::uint64_t kDepth = 1024;
constexpr int kMaxSubscribers = 4;
constexpr int kRuns = 5;
constexpr char kTopic[] = "/data_plane";

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "data_plane_bench: %s\n", what.c_str());
  std::exit(1);
}

// 64 B messages travel inline; best effort unless a subscriber asks to be
// reliable.
rt::TopicConfig DataConfig() {
  rt::TopicConfig c;
  c.type_name = "bench.Payload64";
  c.depth = kDepth;
  c.inline_capacity = kPayload;
  c.max_subscribers = kMaxSubscribers;
  return c;
}

// Reliable subscribers may hold a publish back this long (best-effort ones
// never hold it).
rt::WriterOptions DataWriterOptions() {
  rt::WriterOptions wo;
  wo.reliable_timeout = absl::Seconds(10);
  return wo;
}

// Every ringcast Writer measured here first publishes for kWarmUp: until a
// new Writer's publish clock has calibrated the time stamp counter, each
// stamp reads clock_gettime (transport/clock.h), and these rows are about
// a publisher in its steady state. (Section 2 also times a cold Writer.)
constexpr absl::Duration kWarmUp = absl::Milliseconds(200);

// Calls op() for kWarmUp.
template <typename Op>
void WarmUp(Op op) {
  const absl::Time end = absl::Now() + kWarmUp;
  while (absl::Now() < end) {
    for (int i = 0; i < 1000; ++i) op();
  }
}

void WarmUp(rt::Writer& w) {
  const std::byte payload[kPayload] = {};
  WarmUp([&] {
    if (!w.Publish(payload).ok()) Die("warm-up publish failed");
  });
}

// The slot size of DataConfig's rings, as a topic segment lays them out.
std::uint32_t RingcastSlotSize() {
  absl::StatusOr<rt::Writer> w = rt::Writer::Create(BenchOptions(), "/slot_size", DataConfig());
  if (!w.ok()) Die(w.status().ToString());
  return w->topic().geometry().slot_size;
}

void* SharedMap(std::size_t bytes) {
  void* mem =
      ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) Die("mmap failed");
  return mem;
}

// --- The baseline: a minimal best-effort ring in shared memory -------------
//
// What a ringcast ring does for one publisher and one subscriber, and no
// more: kDepth slots of ringcast's size (an 8-byte stamp, 8 bytes where
// ringcast keeps the publish time, then the payload), a seqlock per slot
// (odd stamp while it is written), payloads copied as 8-byte relaxed atomic
// words as ringcast copies them. The publisher never waits; a lapped
// subscriber skips to the oldest sample that cannot be under the writer's
// pen and counts what it skipped. No head, no time stamp, no doorbells.
class RawRing {
 public:
  RawRing(std::byte* base, std::size_t slot_size) : base_(base), slot_size_(slot_size) {}
  static std::size_t Bytes(std::size_t slot_size) { return kDepth * slot_size; }

  void Publish(std::uint64_t seq, const std::byte* payload) {
    std::atomic<std::uint64_t>* s = Slot(seq);
    s[0].store(2 * seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (std::size_t k = 0; k < kPayload / 8; ++k) {
      std::uint64_t w;
      std::memcpy(&w, payload + 8 * k, 8);
      s[2 + k].store(w, std::memory_order_relaxed);
    }
    s[0].store(2 * seq + 2, std::memory_order_release);
  }

  // Copies sample *cursor into `out` and moves the cursor past it: true.
  // False when it is not published yet. Lapped, skips ahead first, adding
  // the samples skipped to *lost.
  bool Take(std::uint64_t* cursor, std::byte* out, std::uint64_t* lost) {
    for (;;) {
      const std::uint64_t seq = *cursor;
      const std::atomic<std::uint64_t>* s = Slot(seq);
      const std::uint64_t stamp = s[0].load(std::memory_order_acquire);
      if (stamp < 2 * seq + 2) return false;
      if (stamp == 2 * seq + 2) {
        for (std::size_t k = 0; k < kPayload / 8; ++k) {
          const std::uint64_t w = s[2 + k].load(std::memory_order_relaxed);
          std::memcpy(out + 8 * k, &w, 8);
        }
        std::atomic_thread_fence(std::memory_order_acquire);
        if (s[0].load(std::memory_order_relaxed) != stamp) continue;  // lapped mid-copy
        *cursor = seq + 1;
        return true;
      }
      // The slot holds a later sample, `newest`; the writer may be filling
      // the one after it, so the oldest safe start is newest + 2 - depth.
      const std::uint64_t newest = (stamp - 1) / 2;
      const std::uint64_t oldest =
          std::max(seq + 1, newest + 2 > kDepth ? newest + 2 - kDepth : 0);
      *lost += oldest - seq;
      *cursor = oldest;
    }
  }

 private:
  std::atomic<std::uint64_t>* Slot(std::uint64_t seq) const {
    return reinterpret_cast<std::atomic<std::uint64_t>*>(base_ + (seq & (kDepth - 1)) * slot_size_);
  }

  std::byte* base_;
  std::size_t slot_size_;
};

// --- Throughput --------------------------------------------------------------

// What a subscriber process hands back, in shared memory.
struct alignas(64) SubscriberReport {
  std::atomic<std::uint32_t> ready{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> lost{0};
  std::atomic<std::int64_t> done_ns{0};  // when it took the last sample
};
constexpr std::size_t kReportBytes = 4096;
static_assert(kMaxSubscribers * sizeof(SubscriberReport) <= kReportBytes);

// One throughput run.
struct Fanout {
  double publish_rate = 0;  // msg/s over the publisher's loop
  std::uint64_t publish_errors = 0;
  struct Subscriber {
    double deliver_rate = 0;  // received / (its last take - the publisher's start)
    std::uint64_t received = 0, lost = 0;
  };
  std::vector<Subscriber> subscribers;
};

Fanout Collect(const SubscriberReport* reports, int subscribers, std::uint64_t messages,
               std::int64_t t0, std::int64_t t1, std::uint64_t errors) {
  Fanout f;
  f.publish_rate = static_cast<double>(messages) * 1e9 / static_cast<double>(t1 - t0);
  f.publish_errors = errors;
  for (int k = 0; k < subscribers; ++k) {
    const SubscriberReport& r = reports[k];
    const std::int64_t span = std::max<std::int64_t>(1, r.done_ns.load() - t0);
    f.subscribers.push_back(
        {static_cast<double>(r.received.load()) * 1e9 / static_cast<double>(span),
         r.received.load(), r.lost.load()});
  }
  return f;
}

// The run whose publish rate is the median of `runs`.
Fanout MedianByRate(std::vector<Fanout> runs) {
  std::sort(runs.begin(), runs.end(),
            [](const Fanout& a, const Fanout& b) { return a.publish_rate < b.publish_rate; });
  return runs[runs.size() / 2];
}

// Waits (bounded) until `n` subscriber processes said they are ready.
void AwaitReady(const SubscriberReport* reports, int n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (int k = 0; k < n; ++k) {
    while (reports[k].ready.load(std::memory_order_acquire) == 0) {
      if (absl::Now() > deadline) Die("a subscriber never got ready");
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
}

// The raw ring 1 -> 1: the publisher on core 0, a busy-polling subscriber
// on core 1 that copies every payload out.
Fanout RawThroughput(std::size_t slot_size, std::uint64_t messages) {
  const std::size_t bytes = kReportBytes + RawRing::Bytes(slot_size);
  void* mem = SharedMap(bytes);
  auto* report = new (mem) SubscriberReport{};
  RawRing ring(static_cast<std::byte*>(mem) + kReportBytes, slot_size);
  const pid_t peer = StartPeer([&] {
    std::uint64_t cursor = 0, received = 0, lost = 0;
    std::byte out[kPayload];
    report->ready.store(1, std::memory_order_release);
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    for (std::uint64_t spins = 0; cursor < messages; ++spins) {
      if (ring.Take(&cursor, out, &lost)) ++received;
      if (spins % 4096 == 0 && absl::Now() > deadline) return 1;
    }
    report->done_ns.store(NowNs());
    report->received.store(received);
    report->lost.store(lost);
    return 0;
  });
  AwaitReady(report, 1);
  absl::SleepFor(absl::Milliseconds(50));
  std::byte payload[kPayload] = {};
  const std::int64_t t0 = NowNs();
  for (std::uint64_t i = 0; i < messages; ++i) {
    std::memcpy(payload, &i, sizeof i);
    ring.Publish(i, payload);
  }
  const std::int64_t t1 = NowNs();
  if (!Reap(peer)) Die("raw ring subscriber failed");
  const Fanout f = Collect(report, 1, messages, t0, t1, 0);
  ::munmap(mem, bytes);
  return f;
}

// How a ringcast subscriber takes: busy-polling Take(Sample*), busy-polling
// TakeBatch(kBatch), or Wait() (spin 20 us, then sleep) then TakeBatch.
enum class Taking { kOne, kBatch, kWaitBatch };

struct Case {
  int subscribers;
  bool publish_batch;  // PublishBatch(kBatch), else Publish
  Taking taking;
  bool reliable;
};

// A subscriber process: takes until it has taken sample end - 1.
int Subscribe(const rt::ShmOptions& o, const Case& c, std::uint64_t end,
              SubscriberReport* report) {
  rt::ReaderOptions ro;
  ro.reliable = c.reliable;
  absl::StatusOr<rt::Reader> r = rt::Reader::Create(o, kTopic, DataConfig(), ro);
  if (!r.ok()) return 1;
  report->ready.store(1, std::memory_order_release);
  std::uint64_t next = 0;  // one past the last sequence taken
  rt::Sample sample;
  auto on_sample = [&](absl::Span<const std::byte>, const rt::SampleInfo& info) {
    next = info.sequence + 1;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (std::uint64_t spins = 0; next < end; ++spins) {
    if (spins % 4096 == 0 && absl::Now() > deadline) return 2;
    if (c.taking == Taking::kOne) {
      absl::StatusOr<bool> got = r->Take(&sample);
      if (!got.ok()) return 3;
      if (*got) next = sample.info().sequence + 1;
      continue;
    }
    if (c.taking == Taking::kWaitBatch && !r->Wait(absl::Milliseconds(100)).ok()) continue;
    if (!r->TakeBatch(kBatch, on_sample).ok()) return 3;
  }
  report->done_ns.store(NowNs());
  report->received.store(r->received());
  report->lost.store(r->lost());
  return 0;
}

// One ringcast run of `c`: the publisher on core 0 publishing `messages`
// as fast as it can, c.subscribers processes on core 1 that join after its
// warm-up.
Fanout RingcastThroughput(const Case& c, std::uint64_t messages) {
  const rt::ShmOptions o = BenchOptions();
  void* mem = SharedMap(kReportBytes);
  auto* reports = static_cast<SubscriberReport*>(mem);
  for (int k = 0; k < kMaxSubscribers; ++k) new (&reports[k]) SubscriberReport{};
  std::int64_t t0 = 0, t1 = 0;
  std::uint64_t errors = 0;
  {
    absl::StatusOr<rt::Writer> w = rt::Writer::Create(o, kTopic, DataConfig(), DataWriterOptions());
    if (!w.ok()) Die(w.status().ToString());
    WarmUp(*w);
    const std::uint64_t end = w->next_sequence() + messages;
    std::vector<pid_t> peers;
    for (int k = 0; k < c.subscribers; ++k) {
      peers.push_back(StartPeer([&, k] { return Subscribe(o, c, end, &reports[k]); }));
    }
    AwaitReady(reports, c.subscribers);
    if (!AwaitSubscribers(o, kTopic, static_cast<std::uint32_t>(c.subscribers))) {
      Die("subscribers never joined");
    }
    absl::SleepFor(absl::Milliseconds(50));
    if (c.publish_batch) {
      std::byte payloads[kBatch][kPayload] = {};
      absl::Span<const std::byte> batch[kBatch];
      for (std::size_t k = 0; k < kBatch; ++k) batch[k] = payloads[k];
      t0 = NowNs();
      for (std::uint64_t i = 0; i < messages; i += kBatch) {
        for (std::size_t k = 0; k < kBatch; ++k) {
          const std::uint64_t v = i + k;
          std::memcpy(payloads[k], &v, sizeof v);
        }
        if (!w->PublishBatch(batch).ok()) ++errors;
      }
      t1 = NowNs();
    } else {
      std::byte payload[kPayload] = {};
      t0 = NowNs();
      for (std::uint64_t i = 0; i < messages; ++i) {
        std::memcpy(payload, &i, sizeof i);
        if (!w->Publish(payload).ok()) ++errors;
      }
      t1 = NowNs();
    }
    for (const pid_t p : peers) {
      if (!Reap(p)) Die("a ringcast subscriber failed");
    }
  }
  const Fanout f = Collect(reports, c.subscribers, messages, t0, t1, errors);
  ::munmap(mem, kReportBytes);
  return f;
}

void PrintThroughputHeader(const std::string& title) {
  if (g_json) return;
  std::printf("%s\n%-34s %14s %4s %14s %11s %11s\n", title.c_str(), "case", "publish msg/s",
              "sub", "deliver msg/s", "received", "lost");
}

// A table row per subscriber (the publish rate on the first), or JSON
// objects: `name` publish, `name subscriber k` deliver, received, lost.
void ReportFanout(const std::string& name, const Fanout& f) {
  if (g_json) {
    ReportValue(name, "publish", f.publish_rate, "msg/s");
    for (std::size_t k = 0; k < f.subscribers.size(); ++k) {
      const std::string sub = absl::StrCat(name, " subscriber ", k);
      ReportValue(sub, "deliver", f.subscribers[k].deliver_rate, "msg/s");
      ReportValue(sub, "received", static_cast<double>(f.subscribers[k].received), "msgs");
      ReportValue(sub, "lost", static_cast<double>(f.subscribers[k].lost), "msgs");
    }
    return;
  }
  for (std::size_t k = 0; k < f.subscribers.size(); ++k) {
    const Fanout::Subscriber& s = f.subscribers[k];
    if (k == 0) {
      std::printf("%-34s %14.0f", name.c_str(), f.publish_rate);
    } else {
      std::printf("%-34s %14s", "", "");
    }
    std::printf(" %4zu %14.0f %11llu %11llu\n", k, s.deliver_rate,
                static_cast<unsigned long long>(s.received),
                static_cast<unsigned long long>(s.lost));
  }
}

// Runs each case kRuns times, interleaved: runs[case][rep].
std::vector<std::vector<Fanout>> Interleaved(const std::vector<std::function<Fanout()>>& cases) {
  std::vector<std::vector<Fanout>> runs(cases.size());
  for (int rep = 0; rep < kRuns; ++rep) {
    for (std::size_t k = 0; k < cases.size(); ++k) runs[k].push_back(cases[k]());
  }
  return runs;
}

// The mean of the subscribers' delivered rates.
double MeanDeliverRate(const Fanout& f) {
  double sum = 0;
  for (const Fanout::Subscriber& s : f.subscribers) sum += s.deliver_rate;
  return sum / static_cast<double>(f.subscribers.size());
}

// --- Publish cost --------------------------------------------------------------

enum class Op { kEmptyLoop, kRawStore, kPublishStamped, kPublishUnstamped, kPublishCold };

// ns per call of `n` calls of `op`, in this process alone (no subscriber):
// after kWarmUp of the same calls, except for kPublishCold, which times
// the first `n` publishes of a new Writer.
double NsPerOp(Op op, std::size_t slot_size, std::uint64_t n) {
  std::byte payload[kPayload] = {};
  std::uint64_t seq = 0;
  auto per_call = [&](auto call, bool warm) {
    if (warm) WarmUp(call);
    const std::int64_t t0 = NowNs();
    for (std::uint64_t i = 0; i < n; ++i) call();
    return static_cast<double>(NowNs() - t0) / static_cast<double>(n);
  };
  if (op == Op::kEmptyLoop) {
    return per_call([&] {
      std::memcpy(payload, &seq, sizeof seq);
      ++seq;
      asm volatile("" : : "r"(payload) : "memory");  // keep the store and the loop
    }, true);
  }
  if (op == Op::kRawStore) {
    const std::size_t bytes = RawRing::Bytes(slot_size);
    void* mem = SharedMap(bytes);
    RawRing ring(static_cast<std::byte*>(mem), slot_size);
    const double ns = per_call([&] {
      std::memcpy(payload, &seq, sizeof seq);
      ring.Publish(seq++, payload);
    }, true);
    ::munmap(mem, bytes);
    return ns;
  }
  rt::WriterOptions wo = DataWriterOptions();
  wo.stamp_time = op != Op::kPublishUnstamped;
  absl::StatusOr<rt::Writer> w = rt::Writer::Create(BenchOptions(), kTopic, DataConfig(), wo);
  if (!w.ok()) Die(w.status().ToString());
  return per_call([&] {
    std::memcpy(payload, &seq, sizeof seq);
    ++seq;
    if (!w->Publish(payload).ok()) Die("publish failed");
  }, op != Op::kPublishCold);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// --- Reliable ping-pong ------------------------------------------------------

// One-way latency (half a round trip) of 64 B over /ping and /pong, both
// sides busy-polling Take(Sample*), every subscriber reliable or none.
// Each Writer warms up before the reader of its topic exists.
Stats PingPong(bool reliable, int rounds) {
  const rt::ShmOptions o = BenchOptions();
  rt::ReaderOptions ro;
  ro.reliable = reliable;
  const int total = rounds + rounds / 10 + 10;
  std::vector<double> one_way;
  pid_t peer = -1;
  {
    absl::StatusOr<rt::Writer> w =
        rt::Writer::Create(o, "/ping", DataConfig(), DataWriterOptions());
    if (!w.ok()) Die(w.status().ToString());
    WarmUp(*w);
    peer = StartPeer([&] {
      absl::StatusOr<rt::Writer> pong =
          rt::Writer::Create(o, "/pong", DataConfig(), DataWriterOptions());
      if (!pong.ok()) return 1;
      WarmUp(*pong);
      absl::StatusOr<rt::Reader> r = rt::Reader::Create(o, "/ping", DataConfig(), ro);
      if (!r.ok()) return 1;
      rt::Sample s;
      for (int i = 0; i < total; ++i) {
        if (!NextSample(*r, false, &s)) return 2;
        if (!pong->Publish(s.data()).ok()) return 3;
      }
      return 0;
    });
    // The peer's reader of /ping comes after its warm-up of /pong.
    absl::StatusOr<rt::Reader> r = absl::InternalError("peer never subscribed");
    if (AwaitSubscriber(o, "/ping")) r = rt::Reader::Create(o, "/pong", DataConfig(), ro);
    if (r.ok()) {
      absl::SleepFor(absl::Milliseconds(20));
      std::byte payload[kPayload] = {};
      rt::Sample s;
      for (int i = 0; i < total; ++i) {
        std::memcpy(payload, &i, sizeof i);
        const std::int64_t t0 = NowNs();
        if (!w->Publish(payload).ok()) break;
        if (!NextSample(*r, false, &s)) break;
        const std::int64_t t1 = NowNs();
        if (i >= total - rounds) one_way.push_back((t1 - t0) / 2.0);
      }
    }
  }
  if (!Reap(peer) || one_way.size() != static_cast<std::size_t>(rounds)) {
    Die(absl::StrCat(reliable ? "reliable" : "best-effort", " ping-pong failed"));
  }
  return Percentiles(std::move(one_way));
}

// True if every subscriber of every run received all `messages` samples
// and lost none, and no publish failed.
bool NothingLost(const std::vector<Fanout>& runs, std::uint64_t messages) {
  for (const Fanout& f : runs) {
    if (f.publish_errors != 0) return false;
    for (const Fanout::Subscriber& s : f.subscribers) {
      if (s.received != messages || s.lost != 0) return false;
    }
  }
  return true;
}

// 1. Best-effort throughput against the raw ring.
void Throughput(std::uint32_t slot_size) {
  const std::uint64_t messages = g_quick ? 320000 : 10000000;  // a multiple of kBatch
  PrintThroughputHeader(absl::StrCat(
      "1. throughput, 64 B messages, ", messages, " per run; the median run of 5 by publish "
      "rate\n   slots of ", slot_size, " B (ringcast's for 64 B inline; the raw ring's too); "
      "publisher on core 0, busy-polling subscribers on core 1 (1 -> 4: all four on core 1)"));
  const std::vector<std::vector<Fanout>> runs = Interleaved({
      [&] { return RawThroughput(slot_size, messages); },
      [&] { return RingcastThroughput({1, false, Taking::kOne, false}, messages); },
      [&] { return RingcastThroughput({1, true, Taking::kBatch, false}, messages); },
      [&] { return RingcastThroughput({4, false, Taking::kOne, false}, messages); },
      [&] { return RingcastThroughput({4, true, Taking::kBatch, false}, messages); },
  });
  const Fanout raw = MedianByRate(runs[0]);
  const Fanout one = MedianByRate(runs[1]);
  const Fanout one_batched = MedianByRate(runs[2]);
  const Fanout four = MedianByRate(runs[3]);
  const Fanout four_batched = MedianByRate(runs[4]);
  for (const Fanout* f : {&one, &one_batched, &four, &four_batched}) {
    if (f->publish_errors != 0) Die("a best-effort publish failed");
  }
  if (g_json) ReportValue("ringcast and raw ring slot", "size", slot_size, "bytes");
  ReportFanout("raw ring 1 -> 1", raw);
  ReportFanout("ringcast 1 -> 1 single", one);
  ReportFanout("ringcast 1 -> 1 batched (32)", one_batched);
  ReportFanout("ringcast 1 -> 4 single", four);
  ReportFanout("ringcast 1 -> 4 batched (32)", four_batched);
  if (!g_json) std::printf("\nratios of publish rates\n");
  ReportRatio("single 1 -> 1 / raw ring", one.publish_rate / raw.publish_rate,
              Bound::AtLeast(0.5));
  ReportRatio("batched 1 -> 1 / raw ring", one_batched.publish_rate / raw.publish_rate,
              Bound::AtLeast(0.8));
  ReportRatio("single 1 -> 4 / 1 -> 1", four.publish_rate / one.publish_rate,
              Bound::AtLeast(0.9));
  ReportRatio("batched 1 -> 4 / 1 -> 1", four_batched.publish_rate / one_batched.publish_rate,
              Bound::AtLeast(0.9));
  if (!g_json) std::printf("ratios of delivered rates (mean per subscriber)\n");
  ReportRatio("delivered: single 1 -> 1 / raw ring", MeanDeliverRate(one) / MeanDeliverRate(raw),
              Bound::NotJudged());
  ReportRatio("delivered: batched 1 -> 1 / raw ring",
              MeanDeliverRate(one_batched) / MeanDeliverRate(raw), Bound::NotJudged());
}

// 2. What one publish costs.
void PublishCost(std::uint32_t slot_size) {
  const std::uint64_t ops = g_quick ? 200000 : 5000000;
  const std::uint64_t cold_ops = 100000;
  struct Row {
    Op op;
    const char* name;
    std::vector<double> runs;
  };
  Row rows[] = {
      {Op::kEmptyLoop, "empty loop", {}},
      {Op::kRawStore, "raw ring slot store", {}},
      {Op::kPublishStamped, "ringcast Publish, stamp_time", {}},
      {Op::kPublishUnstamped, "ringcast Publish, no stamp_time", {}},
      {Op::kPublishCold, "ringcast Publish, stamp_time, cold", {}},
  };
  for (int rep = 0; rep < kRuns; ++rep) {
    for (Row& row : rows) {
      row.runs.push_back(NsPerOp(row.op, slot_size, row.op == Op::kPublishCold ? cold_ops : ops));
    }
  }
  if (!g_json) {
    std::printf("\n2. cost per 64 B publish, no subscriber, one process on core 0; median of 5 "
                "runs of %llu after 200 ms of the same\n   (cold: the first %llu publishes of "
                "a new Writer, whose clock starts from the rate earlier ones measured)\n",
                static_cast<unsigned long long>(ops), static_cast<unsigned long long>(cold_ops));
  }
  for (const Row& row : rows) ReportValue(row.name, "per_op", Median(row.runs), "ns");
}

// 3. Reliable against best effort.
void Reliability() {
  const std::uint64_t messages = g_quick ? 100000 : 2000000;
  if (!g_json) std::printf("\n");
  PrintThroughputHeader(absl::StrCat(
      "3. reliable vs best effort: ", messages, " messages per run; the median run of 5 by "
      "publish rate\n   Publish on core 0; subscribers on core 1 (1 -> 4: all four on core 1) "
      "Wait() (spin 20 us, then sleep), then TakeBatch(32)"));
  const std::vector<std::vector<Fanout>> runs = Interleaved({
      [&] { return RingcastThroughput({1, false, Taking::kWaitBatch, false}, messages); },
      [&] { return RingcastThroughput({1, false, Taking::kWaitBatch, true}, messages); },
      [&] { return RingcastThroughput({4, false, Taking::kWaitBatch, false}, messages); },
      [&] { return RingcastThroughput({4, false, Taking::kWaitBatch, true}, messages); },
  });
  const Fanout best_effort_one = MedianByRate(runs[0]);
  const Fanout reliable_one = MedianByRate(runs[1]);
  const Fanout best_effort_four = MedianByRate(runs[2]);
  const Fanout reliable_four = MedianByRate(runs[3]);
  ReportFanout("best effort 1 -> 1", best_effort_one);
  ReportFanout("reliable 1 -> 1", reliable_one);
  ReportFanout("best effort 1 -> 4", best_effort_four);
  ReportFanout("reliable 1 -> 4", reliable_four);

  const int rounds = (g_quick ? 2000 : 100000) / kRuns;
  std::vector<Stats> latency_runs[2];
  for (int rep = 0; rep < kRuns; ++rep) {
    latency_runs[0].push_back(PingPong(false, rounds));
    latency_runs[1].push_back(PingPong(true, rounds));
  }
  const Stats best_effort_latency = MedianOfRuns(latency_runs[0]);
  const Stats reliable_latency = MedianOfRuns(latency_runs[1]);
  if (!g_json) std::printf("\n");
  PrintLatencyHeader("one-way latency, ns, 64 B ping-pong, busy-polling Take (median of 5 runs)");
  ReportLatency("best effort 1 -> 1", best_effort_latency);
  ReportLatency("reliable 1 -> 1", reliable_latency);

  if (!g_json) std::printf("\nreliable / best effort\n");
  ReportRatio("publish rate 1 -> 1", reliable_one.publish_rate / best_effort_one.publish_rate,
              Bound::NotJudged());
  ReportRatio("publish rate 1 -> 4", reliable_four.publish_rate / best_effort_four.publish_rate,
              Bound::NotJudged());
  ReportRatio("delivered rate 1 -> 1",
              MeanDeliverRate(reliable_one) / MeanDeliverRate(best_effort_one),
              Bound::NotJudged());
  ReportRatio("delivered rate 1 -> 4 (mean per subscriber)",
              MeanDeliverRate(reliable_four) / MeanDeliverRate(best_effort_four),
              Bound::NotJudged());
  ReportRatio("latency p50 1 -> 1", reliable_latency.p50 / best_effort_latency.p50,
              Bound::NotJudged());
  const std::string all = absl::StrCat(" ", messages, " of ", messages, ", lost 0, no publish "
                                       "failed, in all 5 runs");
  ReportCheck(absl::StrCat("reliable 1 -> 1: received", all), NothingLost(runs[1], messages));
  ReportCheck(absl::StrCat("reliable 1 -> 4: each received", all),
              NothingLost(runs[3], messages));
}

int Main(int argc, char** argv) {
  int section = 0;  // all
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      g_json = true;
    } else if (a == "--quick") {
      g_quick = true;
    } else if (a.rfind("--section=", 0) == 0 && absl::SimpleAtoi(a.substr(10), &section) &&
               section >= 1 && section <= 3) {
    } else {
      std::fprintf(stderr, "usage: data_plane_bench [--json] [--quick] [--section=1|2|3]\n");
      return 2;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Pin(0);
  const std::uint32_t slot_size = RingcastSlotSize();
  if (section == 0 || section == 1) Throughput(slot_size);
  if (section == 0 || section == 2) PublishCost(slot_size);
  if (section == 0 || section == 3) Reliability();
  return 0;
}

}  // namespace
}  // namespace ringcast::bench

int main(int argc, char** argv) { return ringcast::bench::Main(argc, argv); }
