// transport_bench: ringcast's small-message data plane against baselines
// written here, in one run, between processes pinned to cores 0 and 1.
//
//   one-way latency (half a ping-pong round trip), 8 B and 48 B:
//     ringcast, busy-polling subscriber   vs  raw shared-memory SPSC ring, busy
//     ringcast, sleeping subscriber       vs  raw SPSC ring + futex wake per message
//                                         vs  Unix-domain socket
//   throughput (messages/s, median of three alternating runs) of one
//   publisher to 1 and to 4 subscribers that sleep when idle, and of a
//   Unix-domain socket 1 -> 1.
//
//   transport_bench [--json] [--quick]
//   transport_bench --mode=publish-only [--messages=N]
//       a publisher and one busy-polling subscriber, nothing else: run it
//       under `strace -f -c` to count system calls per publish.
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/common/bench_util.h"
#include "bench/common/ringcast_pingpong.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace ringcast::bench {
namespace {

bool g_quick = false;

// --- Baseline 1 and 2: a minimal SPSC ring in shared memory ---------------

struct alignas(64) RawSlot {
  std::atomic<std::uint64_t> seq;  // i + 1 once message i is in
  std::byte data[56];
};
struct RawRing {
  static constexpr std::uint32_t kDepth = 64;
  alignas(64) std::atomic<std::uint32_t> bell;  // futex word, +1 per message
  RawSlot slots[kDepth];
};

void FutexWait(std::atomic<std::uint32_t>* w, std::uint32_t v) {
  timespec ts{1, 0};
  ::syscall(SYS_futex, w, FUTEX_WAIT, v, &ts, nullptr, 0);
}
void FutexWake(std::atomic<std::uint32_t>* w) {
  ::syscall(SYS_futex, w, FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

void RawSend(RawRing& r, std::uint64_t i, const std::byte* data, std::size_t size, bool futex) {
  RawSlot& s = r.slots[i % RawRing::kDepth];
  std::memcpy(s.data, data, size);
  s.seq.store(i + 1, std::memory_order_release);
  if (futex) {
    r.bell.fetch_add(1, std::memory_order_release);
    FutexWake(&r.bell);
  }
}

bool RawReceive(RawRing& r, std::uint64_t i, std::byte* out, std::size_t size, bool futex) {
  RawSlot& s = r.slots[i % RawRing::kDepth];
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (std::uint64_t spins = 0; s.seq.load(std::memory_order_acquire) != i + 1; ++spins) {
    if (futex) {
      const std::uint32_t v = r.bell.load(std::memory_order_acquire);
      if (s.seq.load(std::memory_order_acquire) == i + 1) break;
      FutexWait(&r.bell, v);
    }
    if (spins % 1024 == 0 && absl::Now() > deadline) return false;
  }
  std::memcpy(out, s.data, size);
  return true;
}

Stats RawPingPong(std::size_t size, bool futex, int rounds) {
  void* mem = ::mmap(nullptr, 2 * sizeof(RawRing), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* ping = new (mem) RawRing{};
  auto* pong = new (static_cast<RawRing*>(mem) + 1) RawRing{};
  const int total = rounds + rounds / 10 + 10;
  const pid_t peer = StartPeer([&] {
    std::byte buf[56] = {};
    for (int i = 0; i < total; ++i) {
      if (!RawReceive(*ping, i, buf, size, futex)) return 1;
      RawSend(*pong, i, buf, size, futex);
    }
    return 0;
  });
  std::vector<double> one_way;
  std::byte buf[56] = {};
  for (int i = 0; i < total; ++i) {
    const std::int64_t t0 = NowNs();
    RawSend(*ping, i, buf, size, futex);
    if (!RawReceive(*pong, i, buf, size, futex)) break;
    const std::int64_t t1 = NowNs();
    if (i >= total - rounds) one_way.push_back((t1 - t0) / 2.0);
  }
  const bool ok = Reap(peer) && one_way.size() == static_cast<std::size_t>(rounds);
  ::munmap(mem, 2 * sizeof(RawRing));
  if (!ok) {
    std::fprintf(stderr, "raw ping-pong failed\n");
    std::exit(1);
  }
  return Percentiles(std::move(one_way));
}

// --- Baseline 3: a Unix-domain socket --------------------------------------

Stats SocketPingPong(std::size_t size, int rounds) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) std::exit(1);
  const int total = rounds + rounds / 10 + 10;
  const pid_t peer = StartPeer([&] {
    ::close(fds[0]);
    std::byte buf[64];
    for (int i = 0; i < total; ++i) {
      if (::read(fds[1], buf, size) != static_cast<ssize_t>(size)) return 1;
      if (::write(fds[1], buf, size) != static_cast<ssize_t>(size)) return 2;
    }
    return 0;
  });
  ::close(fds[1]);
  std::vector<double> one_way;
  std::byte buf[64] = {};
  for (int i = 0; i < total; ++i) {
    const std::int64_t t0 = NowNs();
    if (::write(fds[0], buf, size) != static_cast<ssize_t>(size)) break;
    if (::read(fds[0], buf, size) != static_cast<ssize_t>(size)) break;
    const std::int64_t t1 = NowNs();
    if (i >= total - rounds) one_way.push_back((t1 - t0) / 2.0);
  }
  ::close(fds[0]);
  if (!Reap(peer) || one_way.size() != static_cast<std::size_t>(rounds)) {
    std::fprintf(stderr, "socket ping-pong failed\n");
    std::exit(1);
  }
  return Percentiles(std::move(one_way));
}

double SocketThroughput(int messages) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) std::exit(1);
  const pid_t peer = StartPeer([&] {
    ::close(fds[0]);
    std::byte buf[64];
    for (int i = 0; i < messages; ++i) {
      if (::read(fds[1], buf, 48) != 48) return 1;
    }
    return 0;
  });
  ::close(fds[1]);
  std::byte buf[48] = {};
  const std::int64_t t0 = NowNs();
  for (int i = 0; i < messages; ++i) {
    if (::write(fds[0], buf, 48) != 48) break;
  }
  ::close(fds[0]);
  const bool ok = Reap(peer);
  const std::int64_t t1 = NowNs();
  if (!ok) std::exit(1);
  return messages * 1e9 / static_cast<double>(t1 - t0);
}

// --- ringcast throughput ----------------------------------------------------

struct Fanout {
  double publish_rate = 0;  // messages/s, as the publisher saw it
  std::vector<std::uint64_t> received, lost;
};

// The run whose publish rate is the median of `runs`.
Fanout MedianByRate(std::vector<Fanout> runs) {
  std::sort(runs.begin(), runs.end(),
            [](const Fanout& a, const Fanout& b) { return a.publish_rate < b.publish_rate; });
  return runs[runs.size() / 2];
}

// One publisher on core 0 publishing 48-byte messages as fast as it can;
// `subscribers` processes on core 1 that wait (spin 20 us, then sleep).
Fanout RingcastThroughput(int subscribers, int messages) {
  const transport::ShmOptions o = BenchOptions();
  transport::TopicConfig c;
  c.type_name = "bench.Payload";
  c.depth = 4096;
  void* mem = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* counts = static_cast<std::atomic<std::uint64_t>*>(mem);  // received, lost per sub
  std::vector<pid_t> peers;
  for (int k = 0; k < subscribers; ++k) {
    peers.push_back(StartPeer([&, k] {
      absl::StatusOr<transport::Reader> r = transport::Reader::Create(o, "/fanout", c);
      if (!r.ok()) return 1;
      std::vector<std::byte> buf;
      transport::SampleInfo info;
      const absl::Time deadline = absl::Now() + absl::Seconds(60);
      std::uint64_t last = 0;
      while (last + 1 < static_cast<std::uint64_t>(messages) && absl::Now() < deadline) {
        if (!r->Wait(absl::Milliseconds(100)).ok()) continue;
        while (*r->Take(&buf, &info)) last = info.sequence;
      }
      counts[2 * k].store(r->received());
      counts[2 * k + 1].store(r->lost());
      return 0;
    }));
  }
  Pin(0);
  Fanout out;
  {
    absl::StatusOr<transport::Writer> w = transport::Writer::Create(o, "/fanout", c);
    if (!w.ok()) std::exit(1);
    (void)AwaitSubscribers(o, "/fanout", static_cast<std::uint32_t>(subscribers));
    absl::SleepFor(absl::Milliseconds(50));
    std::byte payload[48] = {};
    const std::int64_t t0 = NowNs();
    for (int i = 0; i < messages; ++i) {
      std::memcpy(payload, &i, sizeof i);
      (void)w->Publish(payload);
    }
    const std::int64_t t1 = NowNs();
    out.publish_rate = messages * 1e9 / static_cast<double>(t1 - t0);
    for (const pid_t p : peers) {
      if (!Reap(p)) std::exit(1);
    }
  }
  for (int k = 0; k < subscribers; ++k) {
    out.received.push_back(counts[2 * k].load());
    out.lost.push_back(counts[2 * k + 1].load());
  }
  ::munmap(mem, 4096);
  return out;
}

// A publisher and one busy-polling subscriber; for strace -f -c.
int PublishOnly(int messages) {
  const transport::ShmOptions o = BenchOptions();
  transport::TopicConfig c;
  c.type_name = "bench.Payload";
  c.depth = 4096;
  const pid_t peer = StartPeer([&] {
    absl::StatusOr<transport::Reader> r = transport::Reader::Create(o, "/publish_only", c);
    if (!r.ok()) return 1;
    std::vector<std::byte> buf;
    transport::SampleInfo info;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    std::uint64_t last = 0;
    for (std::uint64_t spins = 0; last + 1 < static_cast<std::uint64_t>(messages); ++spins) {
      while (*r->Take(&buf, &info)) last = info.sequence;  // never sleeps
      if (spins % 4096 == 0 && absl::Now() > deadline) return 2;
    }
    std::printf("subscriber: received %llu, lost %llu\n",
                static_cast<unsigned long long>(r->received()),
                static_cast<unsigned long long>(r->lost()));
    return 0;
  });
  absl::StatusOr<transport::Writer> w = transport::Writer::Create(o, "/publish_only", c);
  if (!w.ok() || !AwaitSubscriber(o, "/publish_only")) return 1;
  std::byte payload[48] = {};
  for (int i = 0; i < messages; ++i) {
    std::memcpy(payload, &i, sizeof i);
    (void)w->Publish(payload);
  }
  std::printf("publisher: published %d messages\n", messages);
  return Reap(peer) ? 0 : 1;
}

void Ratio(const std::string& what, double value, const char* goal) {
  if (g_json) {
    std::printf("{\"case\":\"%s\",\"metric\":\"ratio\",\"value\":%.3f,\"unit\":\"x\"}\n",
                what.c_str(), value);
  } else {
    std::printf("%-58s %6.2f  (%s)\n", what.c_str(), value, goal);
  }
}

int Main(int argc, char** argv) {
  std::string mode;
  int messages = 1000000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") {
      g_json = true;
    } else if (a == "--quick") {
      g_quick = true;
    } else if (a.rfind("--mode=", 0) == 0) {
      mode = a.substr(7);
    } else if (a.rfind("--messages=", 0) == 0 && absl::SimpleAtoi(a.substr(11), &messages)) {
    } else {
      std::fprintf(stderr, "usage: transport_bench [--json] [--quick] "
                           "| --mode=publish-only [--messages=N]\n");
      return 2;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (mode == "publish-only") return PublishOnly(messages);
  if (!mode.empty()) {
    std::fprintf(stderr, "unknown --mode=%s (valid: publish-only)\n", mode.c_str());
    return 2;
  }

  // Each case runs kRuns times, interleaved with its baselines, each time
  // over fresh segments; MedianOfRuns combines them.
  constexpr int kRuns = 5;
  const int busy_rounds = (g_quick ? 2000 : 100000) / kRuns;
  const int sleep_rounds = (g_quick ? 500 : 20000) / kRuns;
  PrintLatencyHeader(
      "one-way latency, ns (half a ping-pong round trip; cores 0 and 1; median of 5 runs)");
  Stats busy[2], raw[2], sleeping[2], futex[2], sock[2];
  const std::size_t sizes[2] = {8, 48};
  for (int k = 0; k < 2; ++k) {
    std::vector<Stats> runs[5];
    for (int rep = 0; rep < kRuns; ++rep) {
      runs[0].push_back(RingcastPingPong(sizes[k], false, busy_rounds));
      runs[1].push_back(RawPingPong(sizes[k], false, busy_rounds));
      runs[2].push_back(RingcastPingPong(sizes[k], true, sleep_rounds));
      runs[3].push_back(RawPingPong(sizes[k], true, sleep_rounds));
      runs[4].push_back(SocketPingPong(sizes[k], sleep_rounds));
    }
    busy[k] = MedianOfRuns(runs[0]);
    raw[k] = MedianOfRuns(runs[1]);
    sleeping[k] = MedianOfRuns(runs[2]);
    futex[k] = MedianOfRuns(runs[3]);
    sock[k] = MedianOfRuns(runs[4]);
    const std::string s = absl::StrCat(sizes[k], " B");
    ReportLatency(absl::StrCat("ringcast busy-poll ", s), busy[k]);
    ReportLatency(absl::StrCat("raw SPSC busy-poll ", s), raw[k]);
    ReportLatency(absl::StrCat("ringcast sleeping ", s), sleeping[k]);
    ReportLatency(absl::StrCat("raw SPSC + futex wake ", s), futex[k]);
    ReportLatency(absl::StrCat("Unix socket ", s), sock[k]);
  }

  if (!g_json) std::printf("\nthroughput, 48 B messages\n");
  const int n = g_quick ? 200000 : 5000000;
  // 1 -> 1 and 1 -> 4 alternate three times and the runs with the median
  // publish rate stand: one burst of noise on a shared machine then moves
  // neither figure.
  std::vector<Fanout> ones, fours;
  for (int rep = 0; rep < 3; ++rep) {
    ones.push_back(RingcastThroughput(1, n));
    fours.push_back(RingcastThroughput(4, n));
  }
  const Fanout one = MedianByRate(std::move(ones));
  const Fanout four = MedianByRate(std::move(fours));
  ReportValue("ringcast 1 -> 1", "publish", one.publish_rate, "msg/s");
  ReportValue("ringcast 1 -> 4", "publish", four.publish_rate, "msg/s");
  const double socket_rate = SocketThroughput(g_quick ? 100000 : 1000000);
  ReportValue("Unix socket 1 -> 1", "deliver", socket_rate, "msg/s");
  for (std::size_t k = 0; k < four.received.size(); ++k) {
    ReportValue(absl::StrCat("ringcast 1 -> 4 subscriber ", k), "received",
                static_cast<double>(four.received[k]), "msgs");
    ReportValue(absl::StrCat("ringcast 1 -> 4 subscriber ", k), "lost",
                static_cast<double>(four.lost[k]), "msgs");
  }
  ReportValue("ringcast 1 -> 1 subscriber 0", "received", static_cast<double>(one.received[0]),
              "msgs");
  ReportValue("ringcast 1 -> 1 subscriber 0", "lost", static_cast<double>(one.lost[0]), "msgs");

  if (!g_json) std::printf("\nratios of p50s (ringcast / baseline) and of throughputs\n");
  for (int k = 0; k < 2; ++k) {
    const std::string s = absl::StrCat(sizes[k], " B");
    Ratio(absl::StrCat("busy-poll ", s, ": ringcast / raw SPSC"), busy[k].p50 / raw[k].p50,
          "judged <= 1.3");
    Ratio(absl::StrCat("sleeping ", s, ": ringcast / raw futex"), sleeping[k].p50 / futex[k].p50,
          "judged <= 1.3");
    Ratio(absl::StrCat("sleeping ", s, ": ringcast / Unix socket"), sleeping[k].p50 / sock[k].p50,
          "judged <= 1");
  }
  Ratio("publish throughput: 1 -> 4 / 1 -> 1", four.publish_rate / one.publish_rate,
        "judged >= 0.9");
  return 0;
}

}  // namespace
}  // namespace ringcast::bench

int main(int argc, char** argv) { return ringcast::bench::Main(argc, argv); }
