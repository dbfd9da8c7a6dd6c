// cli/rates.h: how `topic hz`, `topic bw` and `top` measure a topic
// without subscribing to it. A RateMeter looks at the topic's rings through
// a read-only TopicObserver (transport/inspect.h): it registers nothing,
// writes no byte of shared memory and costs a publisher nothing but the
// cache lines it reads.
//
//   RateMeter meter(/*window=*/1000);
//   for (;;) {
//     meter.Look(observer, /*with_recent=*/true, NowNs());
//     TopicFigures f = meter.Figures(NowNs());  // f.hz, f.bytes_per_s, ...
//   }
//
// How. Each ring counts what its publisher did: head (the next sequence),
// bytes and the time of the last publish. Between two looks, a ring went
// from head h0 at its publish time t0 to h1 at t1, so it published h1 - h0
// samples in exactly t1 - t0 (publish times, not look times): the rate is
// (h1 - h0) / (t1 - t0), as precise over a ring of depth 16 as over one of
// depth 4096, whatever the look interval. The figures of a topic sum its
// active rings. Periods (min/max/std dev) and sizes come from the publish
// times and sizes still in the ring: each look keeps those of the samples
// it has not seen yet, a period being the gap between two consecutive
// sequences of one publisher.
#ifndef RINGCAST_CLI_RATES_H_
#define RINGCAST_CLI_RATES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "transport/inspect.h"

namespace ringcast::cli {

// How often hz and bw look at a topic.
inline constexpr absl::Duration kLookInterval = absl::Milliseconds(100);

// What a meter says about a topic now.
struct TopicFigures {
  int publishers = 0;         // active rings at the last look
  std::uint64_t samples = 0;  // published over the span the rates cover
  double hz = 0;              // samples per second, all publishers
  double bytes_per_s = 0;
  bool stalled = false;  // every publisher has been silent for 3 of its periods
  // Bytes per sample over the same span, else of the sizes seen.
  std::optional<double> mean_size;
  // Over the last `window` samples seen in the rings.
  std::size_t sizes = 0;
  std::uint64_t min_size = 0, max_size = 0;
  std::size_t periods = 0;  // consecutive pairs of one publisher
  double period_min_s = 0, period_max_s = 0, period_mean_s = 0, period_std_dev_s = 0;
  // Since the newest publish on any active ring (none yet: empty).
  std::optional<double> last_publish_age_s;
};

class RateMeter {
 public:
  // Periods and sizes are kept for the last `window` samples seen, and the
  // rates cover at most `window` samples of each ring (and 5 s).
  explicit RateMeter(std::size_t window) : window_(window < 2 ? 2 : window) {}

  // One look at `observer`'s counters (read until two reads agree, so a
  // publish in flight never pairs one sample's head with another's bytes)
  // and, `with_recent`, at the publish times and sizes still in the rings.
  void Look(const transport::TopicObserver& observer, bool with_recent, std::int64_t now_ns);
  // The same from counters (and a snapshot with recent samples) read by
  // the caller.
  void Add(const std::vector<transport::RingCounters>& counters,
           const transport::TopicSnapshot* recent, std::int64_t now_ns);

  TopicFigures Figures(std::int64_t now_ns) const;
  // Active rings at the last look.
  std::size_t publishers() const { return rings_.size(); }

 private:
  struct Point {
    std::int64_t look_ns = 0;
    std::uint64_t head = 0;
    std::uint64_t bytes = 0;
    std::int64_t last_publish_ns = 0;
  };
  struct Ring {
    std::uint64_t publisher_id = 0;
    std::deque<Point> points;  // oldest first, the newest last
    bool seen_any = false;     // of its samples, in `recent`
    std::uint64_t last_seq = 0;
    std::int64_t last_seq_ns = 0;
  };

  void AddRecent(const transport::RingSnapshot& ring, Ring* r);

  std::size_t window_;
  std::map<std::uint32_t, Ring> rings_;  // active rings, by index
  std::deque<std::int64_t> periods_ns_;
  std::deque<std::uint64_t> sizes_;
};

// The counters of every ring of `observer`, read until two reads agree
// ring by ring (at most a few times; a ring still moving keeps its last).
std::vector<transport::RingCounters> SteadyCounters(const transport::TopicObserver& observer);

// Topics watched by name, each with its observer (opened when its segment
// exists, opened again while it has no active ring: a topic whose
// participants all left is unlinked and may be made anew) and its meter.
class WatchedTopics {
 public:
  struct Entry {
    std::optional<transport::TopicObserver> observer;
    RateMeter meter;
    std::int64_t opened_ns = 0;  // the last attempt to open it
    explicit Entry(std::size_t window) : meter(window) {}
  };

  WatchedTopics(transport::ShmOptions options, std::size_t window)
      : options_(std::move(options)), window_(window) {}

  // Watches exactly `topics` (new ones start afresh, others are dropped).
  void Sync(const std::vector<std::string>& topics);
  // Looks at every watched topic.
  void LookAll(bool with_recent, std::int64_t now_ns);

  std::map<std::string, Entry>& entries() { return entries_; }

 private:
  transport::ShmOptions options_;
  std::size_t window_;
  std::map<std::string, Entry> entries_;
};

// Where the live verbs' reports go: stdout. On a terminal each report
// replaces the last (a line in place, several lines from the top of a
// cleared screen); in a pipe, or as JSON, reports follow one another.
class LiveScreen {
 public:
  explicit LiveScreen(bool json);
  ~LiveScreen();  // ends a line drawn in place
  // `text`: lines, each ending with '\n'.
  void Show(const std::string& text);

 private:
  bool in_place_;
  bool line_open_ = false;
};

// CLOCK_REALTIME in nanoseconds: the clock publish times are taken on.
std::int64_t NowNs();

// "1.25 kB/s"-style figures for text output.
std::string HumanBytes(double bytes);
std::string HumanSeconds(double seconds);
std::string HumanHz(double hz);

}  // namespace ringcast::cli

#endif  // RINGCAST_CLI_RATES_H_
