// core_bench: what the typed API costs over the transport bytes API it
// wraps, measured side by side in one run (cores 0 and 1, ping-pong, one
// way = half a round trip; each case runs interleaved pairs over fresh
// segments and judges the median of the pairs' p50 ratios):
//   1. ringcast.msgs.String inline, busy-polling: Publisher<String> loan +
//      set_data, Subscriber<String> take + validate + read, against
//      Writer::Publish and Reader::Take of the same flat bytes.
//   2. A 1920x1080x3 ringcast.msgs.Image loaned, filled in place and read
//      through its view, against the same bytes through ChunkLoan.
//   3. Wake-up of a sleeping Executor serving 10 subscriptions (one busy)
//      against one Reader::Wait.
//
//   core_bench [--json] [--rounds=N] [--runs=N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/common/bench_util.h"
#include "ringcast/msgs/image.ringcast.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/ringcast.h"

namespace ringcast::bench {
namespace {

namespace msgs = ::ringcast::msgs::flat;
constexpr std::uint32_t kW = 1920, kH = 1080;
constexpr std::size_t kPixels = std::size_t{kW} * kH * 3;

int g_rounds = 20000;
int g_only = 0;  // 1..3 runs one case; 0 all
int g_runs = 9;

// A context on the benchmark's own prefix and domain, made once in main
// before any fork (the domain comes from the pid).
Context MakeContext() {
  const transport::ShmOptions o = BenchOptions();
  ContextOptions co;
  co.config_file = "";
  co.overrides.shm_prefix = o.prefix;
  co.overrides.domain = o.domain;
  absl::StatusOr<Context> c = Context::Create(co);
  if (!c.ok()) {
    std::fprintf(stderr, "core_bench: %s\n", c.status().ToString().c_str());
    std::exit(1);
  }
  return *c;
}
const Context* g_ctx = nullptr;
const Context& BenchContext() { return *g_ctx; }

// One side of a ping-pong: `send(i)` publishes message i, `receive()`
// waits for and consumes the next one (false on failure).
struct Side {
  std::function<bool(std::uint64_t)> send;
  std::function<bool()> receive;
  absl::Duration pause = absl::ZeroDuration();  // before each round, untimed
};

// Round trips between a peer process (which answers every message) and
// us; `make(ping_topic, pong_topic, is_peer)` builds a side. Returns the
// one-way latencies' percentiles.
Stats PingPong(const std::function<Side(const char*, const char*, bool)>& make, int rounds) {
  const int total = rounds + rounds / 10 + 10;
  const pid_t peer = StartPeer([&] {
    Side s = make("/ping", "/pong", true);
    for (int i = 0; i < total; ++i) {
      if (!s.receive() || !s.send(i)) return 2;
    }
    return 0;
  });
  std::vector<double> one_way;
  {
    Side s = make("/pong", "/ping", false);
    absl::SleepFor(absl::Milliseconds(200));  // the peer subscribes
    for (int i = 0; i < total; ++i) {
      if (s.pause > absl::ZeroDuration()) absl::SleepFor(s.pause);
      const std::int64_t t0 = NowNs();
      if (!s.send(i) || !s.receive()) break;
      if (i >= total - rounds) one_way.push_back((NowNs() - t0) / 2.0);
    }
  }
  if (!Reap(peer) || one_way.size() != static_cast<std::size_t>(rounds)) {
    std::fprintf(stderr, "core_bench: a ping-pong failed\n");
    std::exit(1);
  }
  return Percentiles(std::move(one_way));
}

// Spins (busy) or sleeps until `try_take` succeeds; bounded.
template <typename TryTake>
bool Until(TryTake try_take) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (std::uint64_t n = 1;; ++n) {
    if (try_take()) return true;
    if (n % 4096 == 0 && absl::Now() > deadline) return false;
  }
}

// The state one side of a case keeps alive: its node and endpoints.
struct Holder {
  std::optional<Node> node;
  std::vector<std::function<void()>> keep;
};

// --- 1. String inline, busy-poll --------------------------------------

Side TypedStringSide(const char* in, const char* out, bool, Holder* h) {
  const Context& ctx = BenchContext();
  h->node.emplace(*Node::Create(ctx, "bench"));
  auto sub = std::make_shared<Subscriber<msgs::String>>(
      *h->node->CreateSubscriber<msgs::String>(in, Qos().set_depth(4)));
  auto pub = std::make_shared<Publisher<msgs::String>>(
      *h->node->CreatePublisher<msgs::String>(out, Qos().set_depth(4)));
  auto sample = std::make_shared<Sample<msgs::String>>();
  auto sink = std::make_shared<std::uint64_t>(0);
  return Side{
      [pub](std::uint64_t i) {
        absl::StatusOr<Loan<msgs::String>> loan = pub->Loan();
        if (!loan.ok()) return false;
        char text[8];
        std::memcpy(text, &i, 8);
        if (!(*loan)->set_data(std::string_view(text, 8)).ok()) return false;
        return pub->Publish(std::move(*loan)).ok();
      },
      [sub, sample, sink] {
        return Until([&] {
          absl::StatusOr<bool> got = sub->Take(sample.get());
          if (!got.ok() || !*got) return false;
          *sink += (*sample)->data().size();
          return true;
        });
      }};
}

// The same flat bytes through transport: a String of 8 data bytes is its
// 8-byte head (a reference) and the 8 bytes.
Side BytesStringSide(const char* in, const char* out, bool, Holder* h) {
  const Context& ctx = BenchContext();
  const TypeSupport type = TypeSupport::Of<msgs::String>();
  h->node.emplace(*Node::Create(ctx, "bench"));
  auto sub = std::make_shared<RawSubscriber>(
      *h->node->CreateRawSubscriber(in, type, Qos().set_depth(4)));
  auto pub = std::make_shared<RawPublisher>(
      *h->node->CreateRawPublisher(out, type, Qos().set_depth(4)));
  auto sample = std::make_shared<transport::Sample>();
  auto sink = std::make_shared<std::uint64_t>(0);
  transport::Writer* w = const_cast<transport::Writer*>(&pub->writer());
  transport::Reader* r = &sub->reader();
  return Side{
      [pub, w](std::uint64_t i) {
        std::uint64_t flat[2] = {std::uint64_t{8} << 32 | 8, i};  // Ref{8, 8}, data
        return w->Publish({reinterpret_cast<const std::byte*>(flat), sizeof flat}).ok();
      },
      [sub, r, sample, sink] {
        return Until([&] {
          absl::StatusOr<bool> got = r->Take(sample.get());
          if (!got.ok() || !*got) return false;
          *sink += sample->data().size();
          return true;
        });
      }};
}

// --- 2. 1920x1080x3 Image, loaned and filled in place ------------------

Qos ImageQos() {
  return Qos().set_depth(4).set_max_message_size(kPixels + 4096).set_max_subscribers(2)
      .set_max_held_samples(2);
}

Side TypedImageSide(const char* in, const char* out, bool, Holder* h) {
  const Context& ctx = BenchContext();
  h->node.emplace(*Node::Create(ctx, "bench"));
  auto sub = std::make_shared<Subscriber<msgs::Image>>(
      *h->node->CreateSubscriber<msgs::Image>(in, ImageQos()));
  auto pub = std::make_shared<Publisher<msgs::Image>>(
      *h->node->CreatePublisher<msgs::Image>(out, ImageQos()));
  auto sample = std::make_shared<Sample<msgs::Image>>();
  auto sink = std::make_shared<std::uint64_t>(0);
  return Side{
      [pub](std::uint64_t i) {
        absl::StatusOr<Loan<msgs::Image>> loan = pub->Loan(kPixels + 256);
        if (!loan.ok()) return false;
        (*loan)->set_width(kW);
        (*loan)->set_height(kH);
        (*loan)->set_step(kW * 3);
        absl::StatusOr<absl::Span<std::uint8_t>> px = (*loan)->alloc_data(kPixels);
        if (!px.ok()) return false;
        std::memset(px->data(), static_cast<int>(i), px->size());
        return pub->Publish(std::move(*loan)).ok();
      },
      [sub, sample, sink] {
        return Until([&] {
          absl::StatusOr<bool> got = sub->Take(sample.get());
          if (!got.ok() || !*got) return false;
          const absl::Span<const std::uint8_t> px = (*sample)->data();
          *sink += (*sample)->width() + px[0] + px[px.size() - 1];
          return true;
        });
      }};
}

Side BytesImageSide(const char* in, const char* out, bool, Holder* h) {
  const Context& ctx = BenchContext();
  const TypeSupport type = TypeSupport::Of<msgs::Image>();
  h->node.emplace(*Node::Create(ctx, "bench"));
  auto sub = std::make_shared<RawSubscriber>(*h->node->CreateRawSubscriber(in, type, ImageQos()));
  auto pub = std::make_shared<RawPublisher>(*h->node->CreateRawPublisher(out, type, ImageQos()));
  auto sample = std::make_shared<transport::Sample>();
  auto sink = std::make_shared<std::uint64_t>(0);
  transport::Writer* w = const_cast<transport::Writer*>(&pub->writer());
  transport::Reader* r = &sub->reader();
  return Side{
      [pub, w](std::uint64_t i) {
        absl::StatusOr<transport::ChunkLoan> loan = w->Loan(kPixels + 256);
        if (!loan.ok()) return false;
        std::byte* d = loan->data().data();
        std::memcpy(d, &kW, 4);  // a few header words, as the builder writes
        std::memset(d + 256, static_cast<int>(i), kPixels);
        return w->Publish(*std::move(loan)).ok();
      },
      [sub, r, sample, sink] {
        return Until([&] {
          absl::StatusOr<bool> got = r->Take(sample.get());
          if (!got.ok() || !*got) return false;
          const absl::Span<const std::byte> d = sample->data();
          *sink += static_cast<std::uint64_t>(d[0]) + static_cast<std::uint64_t>(d[d.size() - 1]);
          return true;
        });
      }};
}

// --- 3. Sleeping wake-up: Executor over 10 subscriptions ----------------

// The side answering pings sleeps: in an Executor serving the ping topic
// and 9 idle ones (with_executor), or in Reader::Wait on the ping topic.
Side WakeSide(const char* in, const char* out, bool is_peer, bool with_executor, Holder* h) {
  const Context& ctx = BenchContext();
  const Qos qos = Qos().set_depth(4);
  h->node.emplace(*Node::Create(ctx, "bench"));
  auto pub = std::make_shared<Publisher<msgs::String>>(
      *h->node->CreatePublisher<msgs::String>(out, qos));
  auto send = [pub](std::uint64_t i) {
    absl::StatusOr<Loan<msgs::String>> loan = pub->Loan();
    if (!loan.ok()) return false;
    char text[8];
    std::memcpy(text, &i, 8);
    return (*loan)->set_data(std::string_view(text, 8)).ok() &&
           pub->Publish(std::move(*loan)).ok();
  };
  if (is_peer && with_executor) {
    ExecutorOptions eo;
    eo.spin = absl::ZeroDuration();  // compare the wake-ups themselves
    auto exec = std::make_shared<Executor>(eo);
    auto got = std::make_shared<int>(0);
    auto subs = std::make_shared<std::vector<Subscriber<msgs::String>>>();
    for (int t = 0; t < 10; ++t) {
      const std::string topic = t == 0 ? std::string(in) : absl::StrCat("/idle", t);
      subs->push_back(*h->node->CreateSubscriber<msgs::String>(
          topic, [got](Sample<msgs::String>) { ++*got; }, qos));
    }
    exec->Add(*h->node);
    return Side{send, [exec, got, subs] {
                  const int before = *got;
                  while (*got == before) {
                    if (!exec->SpinOnce(absl::Seconds(10)).ok()) return false;
                  }
                  return true;
                }};
  }
  auto sub = std::make_shared<Subscriber<msgs::String>>(
      *h->node->CreateSubscriber<msgs::String>(in, qos));
  auto sample = std::make_shared<Sample<msgs::String>>();
  if (is_peer) {
    // The answering side sleeps in Reader::Wait (spin 0: at once).
    return Side{send, [sub, sample] {
                  for (int i = 0; i < 1000; ++i) {
                    if (!sub->raw().reader().Wait(absl::Seconds(10)).ok()) return false;
                    absl::StatusOr<bool> got = sub->Take(sample.get());
                    if (got.ok() && *got) return true;
                  }
                  return false;
                }};
  }
  // The pinging side polls for the answer, then pauses, so that the other
  // side is truly asleep when the next ping comes: what is measured is one
  // wake-up plus one busy-polled hop.
  return Side{send,
              [sub, sample] {
                return Until([&] {
                  absl::StatusOr<bool> got = sub->Take(sample.get());
                  return got.ok() && *got;
                });
              },
              absl::Microseconds(50)};
}

// In one process, no peer: the cost of each step of the String case, per
// message, typed and bytes (publish N, then take N, repeatedly).
void Micro() {
  Holder h;
  const TypeSupport type = TypeSupport::Of<msgs::String>();
  h.node.emplace(*Node::Create(BenchContext(), "micro"));
  const Qos qos = Qos().set_depth(1024);
  auto tsub = *h.node->CreateSubscriber<msgs::String>("/micro/typed", qos);
  auto tpub = *h.node->CreatePublisher<msgs::String>("/micro/typed", qos);
  auto rsub = *h.node->CreateRawSubscriber("/micro/bytes", type, qos);
  auto rpub = *h.node->CreateRawPublisher("/micro/bytes", type, qos);
  transport::Writer* w = const_cast<transport::Writer*>(&rpub.writer());
  // Long enough (~0.3 s) that the clock's first 25-50 ms, stamped with
  // clock_gettime until it has a rate, do not dominate.
  constexpr int kBatch = 512, kRounds = 4000;
  double t_pub = 0, t_take = 0, b_pub = 0, b_take = 0;
  Sample<msgs::String> ts;
  transport::Sample bs;
  std::uint64_t sink = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::int64_t t0 = NowNs();
    for (std::uint64_t i = 0; i < kBatch; ++i) {
      auto loan = tpub.Loan();
      char text[8];
      std::memcpy(text, &i, 8);
      (void)(*loan)->set_data(std::string_view(text, 8));
      (void)tpub.Publish(std::move(*loan));
    }
    std::int64_t t1 = NowNs();
    for (int i = 0; i < kBatch; ++i) {
      (void)tsub.Take(&ts);
      sink += ts->data().size();
    }
    std::int64_t t2 = NowNs();
    for (std::uint64_t i = 0; i < kBatch; ++i) {
      std::uint64_t flat[2] = {std::uint64_t{8} << 32 | 8, i};
      (void)w->Publish({reinterpret_cast<const std::byte*>(flat), sizeof flat});
    }
    std::int64_t t3 = NowNs();
    for (int i = 0; i < kBatch; ++i) {
      (void)rsub.reader().Take(&bs);
      sink += bs.data().size();
    }
    std::int64_t t4 = NowNs();
    if (round > 0) {  // the first warms up
      t_pub += t1 - t0, t_take += t2 - t1, b_pub += t3 - t2, b_take += t4 - t3;
    }
  }
  const double n = double{kBatch} * (kRounds - 1);
  ReportValue("micro typed String publish", "per_message", t_pub / n, "ns");
  ReportValue("micro bytes String publish", "per_message", b_pub / n, "ns");
  ReportValue("micro typed String take", "per_message", t_take / n, "ns");
  ReportValue("micro bytes String take", "per_message", b_take / n, "ns");
  if (sink == 0) std::printf("\n");
}

template <typename MakeSide>
std::function<Side(const char*, const char*, bool)> Maker(MakeSide make) {
  auto holder = std::make_shared<Holder>();
  return [make, holder](const char* in, const char* out, bool peer) {
    return make(in, out, peer, holder.get());
  };
}

struct Pair {
  std::string a_name, b_name;
  Stats a, b;
  // Per run pair, a's p50 over b's, sorted: the judged ratio is their
  // median, so that a shift of the machine's latency between runs (the
  // host moving the two cores closer or apart) moves both sides of a pair
  // and cancels, where a ratio of medians would mix regimes.
  std::vector<double> ratios;
};

// `runs` interleaved runs of a (the typed case) and b (its baseline), the
// order alternating so that neither always goes first.
Pair Compare(const std::string& a_name,
             const std::function<Side(const char*, const char*, bool, Holder*)>& a,
             const std::string& b_name,
             const std::function<Side(const char*, const char*, bool, Holder*)>& b, int rounds) {
  std::vector<Stats> as, bs;
  std::vector<double> ratios;
  for (int run = 0; run < g_runs; ++run) {
    if (run % 2 == 0) {
      as.push_back(PingPong(Maker(a), rounds));
      bs.push_back(PingPong(Maker(b), rounds));
    } else {
      bs.push_back(PingPong(Maker(b), rounds));
      as.push_back(PingPong(Maker(a), rounds));
    }
    ratios.push_back(as.back().p50 / bs.back().p50);
  }
  std::sort(ratios.begin(), ratios.end());
  return {a_name, b_name, MedianOfRuns(as), MedianOfRuns(bs), std::move(ratios)};
}

void Report(const Pair& p, const char* ratio_name, double limit) {
  ReportLatency(p.a_name, p.a);
  ReportLatency(p.b_name, p.b);
  const double ratio = p.ratios[p.ratios.size() / 2];
  if (g_json) {
    std::printf("{\"case\":\"%s\",\"metric\":\"p50_ratio\",\"value\":%.3f,\"min\":%.3f,"
                "\"max\":%.3f,\"limit\":%.2f}\n",
                ratio_name, ratio, p.ratios.front(), p.ratios.back(), limit);
  } else {
    std::printf("%-36s p50 ratio %.2f, median of %zu run pairs (%.2f-%.2f; judged <= %.2f)\n\n",
                ratio_name, ratio, p.ratios.size(), p.ratios.front(), p.ratios.back(), limit);
  }
}

}  // namespace
}  // namespace ringcast::bench

int main(int argc, char** argv) {
  using namespace ringcast::bench;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") g_json = true;
    if (a.rfind("--rounds=", 0) == 0) (void)absl::SimpleAtoi(a.substr(9), &g_rounds);
    if (a.rfind("--runs=", 0) == 0) (void)absl::SimpleAtoi(a.substr(7), &g_runs);
    if (a.rfind("--only=", 0) == 0) (void)absl::SimpleAtoi(a.substr(7), &g_only);
  }
  g_runs = std::max(g_runs, 1);
  const ringcast::Context ctx = MakeContext();
  g_ctx = &ctx;
  if (g_only == 4) {
    Micro();
    return 0;
  }
  PrintLatencyHeader(
      "one-way latency, ns (half a ping-pong; cores 0 and 1; median of runs; the wake-up\n"
      "cases pause 50 us between rounds so the answering side is asleep)");
  if (g_only == 0 || g_only == 1) Report(Compare("typed String busy-poll", TypedStringSide, "bytes String busy-poll",
                 BytesStringSide, g_rounds),
         "typed/bytes String", 1.1);
  if (g_only == 0 || g_only == 2) Report(Compare("typed Image 1080p fill+read", TypedImageSide, "bytes Image 1080p fill+read",
                 BytesImageSide, std::max(200, g_rounds / 50)),
         "typed/bytes Image", 1.1);
  if (g_only == 0 || g_only == 3) Report(Compare(
             "Executor (10 subs) wake-up",
             [](const char* in, const char* out, bool peer, Holder* h) {
               return WakeSide(in, out, peer, true, h);
             },
             "Reader::Wait wake-up",
             [](const char* in, const char* out, bool peer, Holder* h) {
               return WakeSide(in, out, peer, false, h);
             },
             std::max(500, g_rounds / 10)),
         "Executor/Reader::Wait wake-up", 1.2);
  return 0;
}
