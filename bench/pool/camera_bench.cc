// camera_bench: the camera workload through a pool that grows with use.
//
// Topic: default QoS (depth 64, 32 subscribers x 8 held samples, 4 loans:
// a plan of 324 chunks) with max_message_size one 1920x1080x3 frame plus
// a header (6,221,056 bytes), as the camera example sends.
//
// 1. Footprint. A publisher on core 0 loans, fills (every byte) and
//    publishes a frame at 30 Hz for --seconds; 2 subscriber processes on
//    core 1 sleep on their doorbell, take each frame, read its first and
//    last line and drop it. Reported: the plan, the committed bytes at
//    peak and in steady state (the second half of the run), the chunks in
//    steady state (judged <= 4), and what the loans that grew the pool
//    cost against the median loan.
// 2. Cost, against a fixed pool (one segment of the same chunk count made
//    up front, as before pools grew), in interleaved pairs whose order
//    alternates; judged on the median of the per-pair ratios (<= 1.05):
//    - loan + publish of a frame (first and last line written) with one
//      busy-polling subscriber on core 1 that keeps up;
//    - one-way latency p50 (half a ping-pong round trip, cores 0 and 1).
//
//   camera_bench [--json] [--quick] [--seconds=N] [--runs=N]
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
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

constexpr std::size_t kFrame = 1920 * 1080 * 3 + 256;
bool g_quick = false;
bool g_verbose = false;
int g_seconds = 10;
int g_runs = 9;

rt::TopicConfig CameraConfig() {
  rt::TopicConfig c;  // the defaults
  c.type_name = "bench.Image";
  c.max_message_size = kFrame;
  return c;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A subscriber process that takes until `total` samples were taken or
// lost (or 60 s pass), touching each; sleeping on the doorbell or
// busy-polling.
int Subscriber(const rt::ShmOptions& o, const char* topic, std::uint64_t total, bool sleep) {
  rt::ReaderOptions ro;
  ro.spin = sleep ? absl::ZeroDuration() : absl::Seconds(100);
  absl::StatusOr<rt::Reader> r = rt::Reader::Create(o, topic, CameraConfig(), ro);
  if (!r.ok()) return 1;
  std::uint64_t sink = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  rt::Sample s;
  while (r->received() + r->lost() < total && absl::Now() < deadline) {
    if (sleep && !r->Wait(absl::Milliseconds(100)).ok()) continue;
    absl::StatusOr<bool> got = r->Take(&s);
    if (!got.ok()) return 2;
    if (*got) sink += Touch(s);
    s = rt::Sample();  // drop it: the chunk goes back
  }
  return sink == 42 ? 3 : 0;  // keeps the reads
}

// --- 1. Footprint --------------------------------------------------------------

void Footprint() {
  const rt::ShmOptions o = BenchOptions();
  const int frames = (g_quick ? 2 : g_seconds) * 30;
  std::vector<pid_t> subs;
  for (int k = 0; k < 2; ++k) {
    subs.push_back(StartPeer([&] { return Subscriber(o, "/camera", frames, true); }));
  }
  absl::StatusOr<rt::Writer> w = rt::Writer::Create(o, "/camera", CameraConfig());
  if (!w.ok() || !AwaitSubscribers(o, "/camera", 2)) std::exit(1);
  std::uint64_t peak = 0, steady_peak = 0;
  std::uint32_t steady_chunks = 0, segments = 0;
  std::vector<double> loan_us, growth_us;
  const absl::Time start = absl::Now();
  for (int i = 0; i < frames; ++i) {
    absl::SleepFor(start + i * absl::Seconds(1) / 30 - absl::Now());
    const std::int64_t t0 = NowNs();
    absl::StatusOr<rt::ChunkLoan> loan = w->Loan(kFrame);
    const std::int64_t t1 = NowNs();
    if (!loan.ok()) {
      std::fprintf(stderr, "%s\n", loan.status().ToString().c_str());
      std::exit(1);
    }
    const rt::PoolUse use = w->pool_use();
    (use.segments != segments ? growth_us : loan_us).push_back((t1 - t0) / 1e3);
    segments = use.segments;
    std::memset(loan->data().data(), i & 0xff, kFrame);
    if (!w->Publish(*std::move(loan)).ok()) std::exit(1);
    peak = std::max(peak, use.committed_bytes);
    if (i >= frames / 2) {
      steady_peak = std::max(steady_peak, use.committed_bytes);
      steady_chunks = std::max(steady_chunks, use.chunks);
    }
  }
  const rt::PoolUse use = w->pool_use();
  for (const pid_t p : subs) {
    if (!Reap(p)) std::exit(1);
  }
  if (!g_json) {
    std::printf("camera: %d frames of %zu bytes at 30 Hz, 2 sleeping subscribers on core 1, "
                "default QoS\n", frames, kFrame);
  }
  ReportValue("camera pool planned", "bytes", static_cast<double>(use.planned_bytes), "B");
  ReportValue("camera pool committed, peak", "bytes", static_cast<double>(peak), "B");
  ReportValue("camera pool committed, steady state", "bytes", static_cast<double>(steady_peak),
              "B");
  ReportValue("camera pool segments at the end", "count", use.segments, "segments");
  ReportJudged("camera pool chunks, steady state (most)", "chunks", steady_chunks, "chunks",
               Bound::AtMost(4));
  ReportValue("camera loan, median of those that did not grow", "time", Median(loan_us), "us");
  for (std::size_t k = 0; k < growth_us.size(); ++k) {
    ReportValue(absl::StrCat("camera loan that grew the pool (", k + 1, ")"), "time",
                growth_us[k], "us");
  }
}

// --- 2. Cost against a fixed pool ----------------------------------------------

rt::WriterOptions Growing() { return {}; }

rt::WriterOptions Fixed(std::uint32_t chunks) {
  rt::WriterOptions wo;
  wo.pool.initial_chunks = chunks;  // one segment, made by the first loan
  return wo;
}

// ns per loan + publish of a frame (first and last line written), `n`
// after a warm-up of 3,000 (the growing pool reaches what the run needs
// within a few hundred: steady state is what is compared), one
// busy-polling subscriber on core 1; `chunks` gets what the pool
// committed.
double LoanPublishNs(const rt::WriterOptions& wo, int n, std::uint32_t* chunks) {
  constexpr int kWarmUp = 3000;
  const rt::ShmOptions o = BenchOptions();
  const pid_t sub = StartPeer([&] { return Subscriber(o, "/cost", kWarmUp + n, false); });
  double ns = 0;
  {
    absl::StatusOr<rt::Writer> w = rt::Writer::Create(o, "/cost", CameraConfig(), wo);
    if (!w.ok() || !AwaitSubscriber(o, "/cost")) std::exit(1);
    std::int64_t t0 = 0;
    for (int i = 0; i < kWarmUp + n; ++i) {
      if (i == kWarmUp) t0 = NowNs();
      if (!Send(*w, kFrame, i).ok()) std::exit(1);
    }
    ns = static_cast<double>(NowNs() - t0) / n;
    *chunks = w->pool_use().chunks;
    if (g_verbose) std::fprintf(stderr, "  %u chunks\n", *chunks);
  }
  if (!Reap(sub)) std::exit(1);
  return ns;
}

struct Compared {
  std::vector<double> growing, fixed, ratios;
};

// g_runs interleaved pairs, the order alternating.
template <typename Measure>
Compared Pairs(Measure measure) {
  Compared c;
  for (int run = 0; run < g_runs; ++run) {
    if (run % 2 == 0) {
      c.growing.push_back(measure(true));
      c.fixed.push_back(measure(false));
    } else {
      c.fixed.push_back(measure(false));
      c.growing.push_back(measure(true));
    }
    c.ratios.push_back(c.growing.back() / c.fixed.back());
  }
  return c;
}

void ReportPairs(const std::string& what, const char* unit, const Compared& c) {
  std::vector<double> r = c.ratios;
  std::sort(r.begin(), r.end());
  ReportValue(absl::StrCat(what, ", growing pool"), "median", Median(c.growing), unit);
  ReportValue(absl::StrCat(what, ", fixed pool"), "median", Median(c.fixed), unit);
  ReportRatio(absl::StrCat(what, ": growing / fixed, median of ", r.size(), " pairs (",
                           absl::StrFormat("%.2f-%.2f", r.front(), r.back()), ")"),
              Median(r), Bound::AtMost(1.05));
}

void Cost() {
  const int n = g_quick ? 1000 : 5000;
  // The fixed pool holds what the growing one reached, in one segment.
  std::uint32_t reached = 0;
  (void)LoanPublishNs(Growing(), n, &reached);
  const std::uint32_t same = std::max<std::uint32_t>(reached, 2);
  if (!g_json) {
    std::printf("\ncost: the growing pool reached %u chunks; the fixed pool is one segment of "
                "%u made by its first loan\n", reached, same);
  }
  std::uint32_t chunks = 0;
  ReportPairs("loan + publish of a frame", "ns", Pairs([&](bool growing) {
                return LoanPublishNs(growing ? Growing() : Fixed(same), n, &chunks);
              }));
  const int rounds = g_quick ? 500 : 20000;
  ReportPairs("one-way latency p50 of a frame", "ns", Pairs([&](bool growing) {
                return RingcastPingPong(kFrame, false, rounds, CameraConfig(),
                                        growing ? Growing() : Fixed(same))
                    .p50;
              }));
}

int Main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      g_json = true;
    } else if (a == "--quick") {
      g_quick = true;
      g_runs = 3;
    } else if (a.rfind("--seconds=", 0) == 0 && absl::SimpleAtoi(a.substr(10), &g_seconds) &&
               g_seconds > 0) {
    } else if (a.rfind("--runs=", 0) == 0 && absl::SimpleAtoi(a.substr(7), &g_runs) &&
               g_runs > 0) {
    } else {
      std::fprintf(stderr, "usage: camera_bench [--json] [--quick] [--seconds=N] [--runs=N]\n");
      return 2;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Footprint();
  Cost();
  return 0;
}

}  // namespace
}  // namespace ringcast::bench

int main(int argc, char** argv) { return ringcast::bench::Main(argc, argv); }
