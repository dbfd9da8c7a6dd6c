// Ping-pong between two processes over two ringcast topics, for one-way
// latency (half a round trip). Messages of up to 48 bytes go inline; larger
// ones are loaned from the chunk pool, and each side writes and reads only
// their first and last cache lines (the transport's cost, not a memcpy's).
#ifndef RINGCAST_BENCH_COMMON_RINGCAST_PINGPONG_H_
#define RINGCAST_BENCH_COMMON_RINGCAST_PINGPONG_H_

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "bench/common/bench_util.h"
#include "transport/inspect.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace ringcast::bench {

inline transport::TopicConfig PingPongConfig(std::size_t size) {
  transport::TopicConfig c;
  c.type_name = "bench.Payload";
  c.depth = 4;
  c.max_message_size = size > 48 ? size : 0;
  c.max_subscribers = 2;
  c.max_held_samples = 2;
  return c;
}

// Waits (at most `timeout`) until `topic` has `n` active subscribers,
// looking through a read-only observer. False if it never had them.
inline bool AwaitSubscribers(const transport::ShmOptions& o, absl::string_view topic,
                             std::uint32_t n, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<transport::TopicObserver> observer = transport::TopicObserver::Open(o, topic);
  while (absl::Now() < deadline) {
    if (observer.ok() && observer->ActiveSubscribers() >= n) return true;
    absl::SleepFor(absl::Milliseconds(1));
    if (!observer.ok()) observer = transport::TopicObserver::Open(o, topic);
  }
  return false;
}

// Waits (bounded) until `topic` has a subscriber.
inline bool AwaitSubscriber(const transport::ShmOptions& o, absl::string_view topic) {
  return AwaitSubscribers(o, topic, 1);
}

// Takes the next sample into `s` (reusing its storage, as a hot loop
// should), busy-polling or sleeping on the doorbell. False on failure.
inline bool NextSample(transport::Reader& r, bool sleep, transport::Sample* s) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (std::uint64_t spins = 1;; ++spins) {
    if (sleep) (void)r.Wait(absl::Seconds(1));
    absl::StatusOr<bool> got = r.Take(s);
    if (!got.ok()) return false;
    if (*got) return true;
    if (spins % 1024 == 0 && absl::Now() > deadline) return false;
  }
}

inline absl::Status Send(transport::Writer& w, std::size_t size, std::uint64_t v) {
  if (size <= 48) {
    std::byte b[48] = {};
    std::memcpy(b, &v, std::min<std::size_t>(8, size));
    return w.Publish(absl::Span<const std::byte>(b, size));
  }
  absl::StatusOr<transport::ChunkLoan> loan = w.Loan(size);
  if (!loan.ok()) return loan.status();
  std::memcpy(loan->data().data(), &v, 8);
  std::memcpy(loan->data().data() + size - 64, &v, 8);
  return w.Publish(*std::move(loan));
}

inline std::uint64_t Touch(const transport::Sample& s) {
  const absl::Span<const std::byte> d = s.data();
  std::uint64_t x = 0, y = 0;
  std::memcpy(&x, d.data(), std::min<std::size_t>(8, d.size()));
  if (d.size() > 64) std::memcpy(&y, d.data() + d.size() - 64, 8);
  return x ^ y;
}

// `rounds` measured round trips (after a tenth as many to warm up).
// Exits the program if the exchange fails: a benchmark that lost its peer
// has nothing true to print.
// `c` and `wo` are the topics' and publishers' settings (both sides).
inline Stats RingcastPingPong(std::size_t size, bool sleep, int rounds,
                              const transport::TopicConfig& c,
                              const transport::WriterOptions& wo = {}) {
  const transport::ShmOptions o = BenchOptions();
  transport::ReaderOptions ro;
  ro.spin = sleep ? absl::ZeroDuration() : absl::Seconds(100);
  const int total = rounds + rounds / 10 + 10;
  const pid_t peer = StartPeer([&] {
    absl::StatusOr<transport::Reader> r = transport::Reader::Create(o, "/ping", c, ro);
    absl::StatusOr<transport::Writer> w = transport::Writer::Create(o, "/pong", c, wo);
    if (!r.ok() || !w.ok()) return 1;
    std::uint64_t sink = 0;
    transport::Sample s;
    for (int i = 0; i < total; ++i) {
      if (!NextSample(*r, sleep, &s)) return 2;
      sink += Touch(s);
      if (!Send(*w, size, sink).ok()) return 3;
    }
    return 0;
  });
  std::vector<double> one_way;
  {
    absl::StatusOr<transport::Reader> r = transport::Reader::Create(o, "/pong", c, ro);
    absl::StatusOr<transport::Writer> w = transport::Writer::Create(o, "/ping", c, wo);
    if (r.ok() && w.ok() && AwaitSubscriber(o, "/ping")) {
      absl::SleepFor(absl::Milliseconds(20));
      transport::Sample s;
      for (int i = 0; i < total; ++i) {
        const std::int64_t t0 = NowNs();
        if (!Send(*w, size, i).ok()) break;
        if (!NextSample(*r, sleep, &s)) break;
        const std::int64_t t1 = NowNs();
        if (i >= total - rounds) one_way.push_back((t1 - t0) / 2.0);
      }
    }
  }
  if (!Reap(peer) || one_way.size() != static_cast<std::size_t>(rounds)) {
    std::fprintf(stderr, "ringcast ping-pong of %zu bytes failed\n", size);
    std::exit(1);
  }
  return Percentiles(std::move(one_way));
}

inline Stats RingcastPingPong(std::size_t size, bool sleep, int rounds) {
  return RingcastPingPong(size, sleep, rounds, PingPongConfig(size));
}

}  // namespace ringcast::bench

#endif  // RINGCAST_BENCH_COMMON_RINGCAST_PINGPONG_H_
