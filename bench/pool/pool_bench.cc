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
#include "transport/liveness.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace {

namespace rt = ringcast::transport;

bool g_json = false;
bool g_quick = false;
std::string g_only;  // run only cases whose name contains this

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)sched_setaffinity(0, sizeof set, &set);
}

std::int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

struct Stats {
  double p50, p90, p99, p999, max;
};

Stats Percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))]; };
  return {at(0.5), at(0.9), at(0.99), at(0.999), v.back()};
}

void Report(const std::string& name, const Stats& s) {
  if (g_json) {
    for (const auto& [metric, value] :
         {std::pair{"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"p99.9", s.p999},
          {"max", s.max}}) {
      std::printf("{\"case\":\"%s\",\"metric\":\"one_way_%s\",\"value\":%.1f,\"unit\":\"ns\"}\n",
                  name.c_str(), metric, value);
    }
  } else {
    std::printf("%-34s %9.0f %9.0f %9.0f %9.0f %10.0f\n", name.c_str(), s.p50, s.p90, s.p99,
                s.p999, s.max);
  }
}

rt::ShmOptions Options() {
  rt::ShmOptions o;
  o.prefix = "ringcast-bench";
  o.domain = static_cast<std::uint32_t>(::getpid()) % 60000;
  return o;
}

rt::TopicConfig Config(std::uint64_t max_message_size) {
  rt::TopicConfig c;
  c.type_name = "bench.Blob";
  c.depth = 4;
  c.max_message_size = max_message_size;
  c.max_subscribers = 2;
  c.max_held_samples = 2;
  return c;
}

// Runs `child` in a forked process pinned to core 1 while the caller runs
// on core 0; returns false if the child failed.
template <typename Child>
bool WithPeer(Child child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    Pin(1);
    ::alarm(120);
    const int code = child();
    rt::ReleaseProcessTokens();
    ::_exit(code);
  }
  Pin(0);
  return pid > 0;
}

// Waits for the peer started by WithPeer.
bool Reap() {
  int status = 0;
  ::wait(&status);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Touches the first and last cache line of a chunk.
void WriteEnds(absl::Span<std::byte> b, std::uint64_t v) {
  std::memcpy(b.data(), &v, 8);
  std::memcpy(b.data() + b.size() - 64, &v, 8);
}
std::uint64_t ReadEnds(absl::Span<const std::byte> b) {
  std::uint64_t x, y;
  std::memcpy(&x, b.data(), 8);
  std::memcpy(&y, b.data() + b.size() - 64, 8);
  return x ^ y;
}

// Waits for the next sample: busy-polls, or sleeps on the doorbell.
absl::StatusOr<rt::Sample> Next(rt::Reader& r, bool sleep) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (;;) {
    if (sleep && !r.Wait(absl::Seconds(1)).ok() && absl::Now() > deadline) {
      return absl::DeadlineExceededError("peer went quiet");
    }
    absl::StatusOr<std::optional<rt::Sample>> s = r.TakeSample();
    if (!s.ok()) return s.status();
    if (s->has_value()) return **std::move(s);
    if (!sleep && absl::Now() > deadline) return absl::DeadlineExceededError("peer went quiet");
  }
}

// Ping-pong over two topics with `size`-byte messages (pooled above 48).
Stats RingcastPingPong(std::size_t size, bool sleep, int rounds) {
  const rt::ShmOptions o = Options();
  const rt::TopicConfig c = Config(std::max<std::size_t>(size, 64));
  rt::ReaderOptions ro;
  ro.spin = sleep ? absl::ZeroDuration() : absl::Seconds(10);
  const int warmup = rounds / 10 + 10;
  auto send = [&](rt::Writer& w, std::uint64_t v) {
    if (size <= 48) {
      std::byte b[48] = {};
      std::memcpy(b, &v, 8);
      return w.Publish(absl::Span<const std::byte>(b, size));
    }
    absl::StatusOr<rt::ChunkLoan> loan = w.Loan(size);
    if (!loan.ok()) return loan.status();
    WriteEnds(loan->data(), v);
    return w.Publish(*std::move(loan));
  };
  // Both sides create their reader before their writer and wait for the
  // peer's reader, so no message is published to nobody.
  if (!WithPeer([&] {
        absl::StatusOr<rt::Reader> r = rt::Reader::Create(o, "/ping", c, ro);
        absl::StatusOr<rt::Writer> w = rt::Writer::Create(o, "/pong", c);
        if (!r.ok() || !w.ok()) return 1;
        std::uint64_t sink = 0;
        for (int i = 0; i < warmup + rounds; ++i) {
          absl::StatusOr<rt::Sample> s = Next(*r, sleep);
          if (!s.ok()) return 2;
          sink += size > 48 ? ReadEnds(s->data()) : s->data()[0] == std::byte{1};
          if (!send(*w, sink).ok()) return 3;
        }
        return 0;
      })) {
    return {};
  }
  absl::StatusOr<rt::Reader> r = rt::Reader::Create(o, "/pong", c, ro);
  absl::StatusOr<rt::Writer> w = rt::Writer::Create(o, "/ping", c);
  std::vector<double> one_way;
  if (r.ok() && w.ok()) {
    // Wait for the peer's reader on /ping.
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      int subs = 0;
      for (std::uint32_t i = 0; i < w->topic().geometry().max_subscribers; ++i) {
        subs += (w->topic().subscriber_control(i).state.load() & 0xff) == 2;
      }
      if (subs > 0) break;
      absl::SleepFor(absl::Milliseconds(1));
    }
    absl::SleepFor(absl::Milliseconds(20));
    for (int i = 0; i < warmup + rounds; ++i) {
      const std::int64_t t0 = NowNs();
      if (!send(*w, i).ok()) break;
      absl::StatusOr<rt::Sample> s = Next(*r, sleep);
      if (!s.ok()) break;
      const std::int64_t t1 = NowNs();
      if (i >= warmup) one_way.push_back((t1 - t0) / 2.0);
    }
  }
  const bool ok = Reap() && one_way.size() == static_cast<std::size_t>(rounds);
  if (!ok) {
    std::fprintf(stderr, "ringcast ping-pong of %zu bytes failed\n", size);
    std::exit(1);
  }
  return Percentiles(one_way);
}

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
  if (!WithPeer([&] {
        for (int i = 1; i <= warmup + rounds; ++i) {
          while (ping_seq->load(std::memory_order_acquire) != static_cast<std::uint64_t>(i)) {
          }
          std::memcpy(local.data(), ping, size);
          std::memcpy(pong, local.data(), size);
          pong_seq->store(i, std::memory_order_release);
        }
        return 0;
      })) {
    std::exit(1);
  }
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
  Reap();
  ::munmap(mem, bytes);
  return Percentiles(one_way);
}

// A publisher filling every byte of each 4 MiB loan, one sleeping
// subscriber reading the first line of each sample.
double FillRate(int messages) {
  constexpr std::size_t kSize = 4 << 20;
  const rt::ShmOptions o = Options();
  const rt::TopicConfig c = Config(kSize);
  rt::ReaderOptions ro;
  ro.spin = absl::ZeroDuration();
  if (!WithPeer([&] {
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
      })) {
    std::exit(1);
  }
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
  Reap();
  return static_cast<double>(kSize) * messages / static_cast<double>(t1 - t0);  // bytes/ns = GB/s
}

}  // namespace

int main(int argc, char** argv) {
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
  if (!g_json) {
    std::printf("one-way latency, ns (half a round trip; cores 0 and 1)\n");
    std::printf("%-34s %9s %9s %9s %9s %10s\n", "case", "p50", "p90", "p99", "p99.9", "max");
  }
  auto want = [](const std::string& name) {
    return g_only.empty() || name.find(g_only) != std::string::npos;
  };
  Stats inline_busy{};
  if (want("inline 48 B busy")) {
    inline_busy = RingcastPingPong(48, false, rounds);
    Report("ringcast inline 48 B busy", inline_busy);
  }
  if (want("inline 48 B sleeping")) {
    Report("ringcast inline 48 B sleeping", RingcastPingPong(48, true, rounds / 4));
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
      Report(busy_name, busy);
      if (s.bytes == (4u << 20)) pooled_4m = busy.p50;
    }
    if (want(sleep_name)) Report(sleep_name, RingcastPingPong(s.bytes, true, rounds / 4));
    if (want(copy_name)) {
      // Copying costs ~size/10 GB/s per hop: fewer rounds for big sizes.
      const int copy_rounds = std::max<int>(
          50, static_cast<int>((g_quick ? 2 : 200) * (64ull << 20) / s.bytes / 16));
      const Stats copy = CopyPingPong(s.bytes, copy_rounds);
      Report(copy_name, copy);
      if (s.bytes == (4u << 20)) copy_4m = copy.p50;
    }
  }
  const double gbs = want("fill") ? FillRate(g_quick ? 50 : 1000) : 0;
  if (g_json) {
    std::printf("{\"case\":\"ringcast pooled 4 MiB fill\",\"metric\":\"throughput\","
                "\"value\":%.2f,\"unit\":\"GB/s\"}\n", gbs);
  } else {
    std::printf("\nratios (p50): pooled 4 MiB / inline 48 B = %.2f (size-independent if ~1;"
                " judged <= 2)\n", pooled_4m / inline_busy.p50);
    std::printf("              copying 4 MiB / pooled 4 MiB = %.0f (judged >= 50)\n",
                copy_4m / pooled_4m);
    std::printf("publisher filling every byte of 4 MiB loans: %.2f GB/s\n", gbs);
  }
  return 0;
}
