// cli/rates.cc: topic hz, bw and delay, and the RateMeter they share with
// top (cli/rates.h). Nothing here subscribes: every figure comes from a
// read-only TopicObserver's counters and the publish times still in the
// rings, so watching a topic costs its publishers nothing.
#include "cli/rates.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/inspect.h"
#include "cli/live.h"
#include "nlohmann/json.hpp"
#include "transport/names.h"

namespace ringcast::cli {
namespace {

using Json = nlohmann::ordered_json;

// The longest span a rate covers: a change of rate shows within it.
constexpr std::int64_t kRateSpanNs = 5'000'000'000;
// A publisher silent for this many of its periods (plus the slack, for a
// loaded machine's scheduling) has stalled: its rate decays from then on.
constexpr double kStallPeriods = 3;
constexpr std::int64_t kStallSlackNs = 50'000'000;
// How often a topic without an active ring is opened again.
constexpr std::int64_t kReopenNs = 1'000'000'000;
// How often `topic delay` looks.
constexpr absl::Duration kDelayLookInterval = absl::Milliseconds(10);

bool SameCounters(const transport::RingCounters& a, const transport::RingCounters& b) {
  return a.active == b.active && a.publisher_id == b.publisher_id && a.head == b.head &&
         a.bytes == b.bytes && a.last_publish_ns == b.last_publish_ns;
}

template <typename T>
void PushBounded(std::deque<T>* d, T v, std::size_t bound) {
  d->push_back(v);
  while (d->size() > bound) d->pop_front();
}

Json OrNull(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

}  // namespace

std::int64_t NowNs() { return absl::GetCurrentTimeNanos(); }


std::string HumanBytes(double bytes) {
  if (bytes < 1e3) return absl::StrFormat("%.0f B", bytes);
  if (bytes < 1e6) return absl::StrFormat("%.2f kB", bytes / 1e3);
  if (bytes < 1e9) return absl::StrFormat("%.2f MB", bytes / 1e6);
  return absl::StrFormat("%.2f GB", bytes / 1e9);
}

std::string HumanSeconds(double s) {
  if (s >= 1) return absl::StrFormat("%.3f s", s);
  if (s >= 1e-3) return absl::StrFormat("%.3f ms", s * 1e3);
  return absl::StrFormat("%.1f us", s * 1e6);
}

std::string HumanHz(double hz) {
  return hz < 10 ? absl::StrFormat("%.2f Hz", hz) : absl::StrFormat("%.1f Hz", hz);
}

std::vector<transport::RingCounters> SteadyCounters(const transport::TopicObserver& observer) {
  std::vector<transport::RingCounters> kept = observer.Counters();
  std::vector<bool> steady(kept.size(), false);
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::vector<transport::RingCounters> again = observer.Counters();
    bool all = true;
    for (std::size_t i = 0; i < kept.size() && i < again.size(); ++i) {
      if (steady[i]) continue;
      steady[i] = SameCounters(kept[i], again[i]);
      kept[i] = again[i];
      all = all && steady[i];
    }
    if (all) break;
  }
  // A ring that moved at every read publishes so fast that one sample
  // more or less is far below what its figures show: its last read stands.
  return kept;
}

void RateMeter::Look(const transport::TopicObserver& observer, bool with_recent,
                     std::int64_t now_ns) {
  const std::vector<transport::RingCounters> counters = SteadyCounters(observer);
  if (!with_recent) return Add(counters, nullptr, now_ns);
  const transport::TopicSnapshot snapshot = observer.Snapshot(/*with_recent=*/true);
  Add(counters, &snapshot, now_ns);
}

void RateMeter::Add(const std::vector<transport::RingCounters>& counters,
                    const transport::TopicSnapshot* recent, std::int64_t now_ns) {
  std::map<std::uint32_t, Ring> next;
  for (const transport::RingCounters& c : counters) {
    if (!c.active) continue;
    auto it = rings_.find(c.index);
    Ring r;
    // Another publisher in the same ring starts afresh.
    if (it != rings_.end() && it->second.publisher_id == c.publisher_id) r = std::move(it->second);
    r.publisher_id = c.publisher_id;
    r.points.push_back({now_ns, c.head, c.bytes, c.last_publish_ns});
    while (r.points.size() > 2 && r.points.front().look_ns < now_ns - kRateSpanNs) {
      r.points.pop_front();
    }
    if (recent != nullptr) {
      if (const transport::RingSnapshot* s = recent->ring(c.index);
          s != nullptr && s->publisher_id == c.publisher_id) {
        AddRecent(*s, &r);
      }
    }
    next.emplace(c.index, std::move(r));
  }
  rings_ = std::move(next);
}

void RateMeter::AddRecent(const transport::RingSnapshot& ring, Ring* r) {
  for (const transport::SlotSample& s : ring.recent) {
    if (r->seen_any && s.sequence <= r->last_seq) continue;
    if (r->seen_any && s.sequence == r->last_seq + 1 && s.publish_ns >= r->last_seq_ns) {
      PushBounded(&periods_ns_, s.publish_ns - r->last_seq_ns, window_);
    }
    PushBounded(&sizes_, s.size, window_);
    r->seen_any = true;
    r->last_seq = s.sequence;
    r->last_seq_ns = s.publish_ns;
  }
}

TopicFigures RateMeter::Figures(std::int64_t now_ns) const {
  TopicFigures f;
  f.publishers = static_cast<int>(rings_.size());
  std::uint64_t span_bytes = 0;
  bool any_running = false;
  std::int64_t newest = 0;
  for (const auto& [index, r] : rings_) {
    const Point& now = r.points.back();
    if (now.last_publish_ns > 0) newest = std::max(newest, now.last_publish_ns);
    // The base: the oldest look that had published, within `window`
    // samples of now; at least the look before this one.
    const Point* base = nullptr;
    for (std::size_t i = 0; i + 1 < r.points.size(); ++i) {
      const Point& p = r.points[i];
      if (p.last_publish_ns <= 0 || p.head > now.head) continue;
      if (now.head - p.head <= window_ || i + 2 == r.points.size()) {
        base = &p;
        break;
      }
    }
    if (base == nullptr || now.head == base->head) continue;
    const std::uint64_t n = now.head - base->head;
    const std::uint64_t bytes = now.bytes >= base->bytes ? now.bytes - base->bytes : 0;
    std::int64_t span = now.last_publish_ns - base->last_publish_ns;
    if (span <= 0) continue;  // a clock stepped back
    const double period = static_cast<double>(span) / static_cast<double>(n);
    const std::int64_t silent = now_ns - now.last_publish_ns;
    if (static_cast<double>(silent) > kStallPeriods * period + kStallSlackNs) {
      span = now_ns - base->last_publish_ns;  // decays while it stays silent
    } else {
      any_running = true;
    }
    f.samples += n;
    span_bytes += bytes;
    f.hz += static_cast<double>(n) * 1e9 / static_cast<double>(span);
    f.bytes_per_s += static_cast<double>(bytes) * 1e9 / static_cast<double>(span);
  }
  f.stalled = f.samples > 0 && !any_running;
  if (newest > 0) f.last_publish_age_s = static_cast<double>(std::max<std::int64_t>(0, now_ns - newest)) / 1e9;

  if (!sizes_.empty()) {
    f.sizes = sizes_.size();
    f.min_size = *std::min_element(sizes_.begin(), sizes_.end());
    f.max_size = *std::max_element(sizes_.begin(), sizes_.end());
  }
  if (f.samples > 0) {
    f.mean_size = static_cast<double>(span_bytes) / static_cast<double>(f.samples);
  } else if (!sizes_.empty()) {
    double sum = 0;
    for (const std::uint64_t s : sizes_) sum += static_cast<double>(s);
    f.mean_size = sum / static_cast<double>(sizes_.size());
  }
  if (!periods_ns_.empty()) {
    f.periods = periods_ns_.size();
    double sum = 0, sq = 0;
    for (const std::int64_t p : periods_ns_) sum += static_cast<double>(p);
    const double mean = sum / static_cast<double>(f.periods);
    for (const std::int64_t p : periods_ns_) sq += (static_cast<double>(p) - mean) * (static_cast<double>(p) - mean);
    f.period_mean_s = mean / 1e9;
    f.period_std_dev_s = std::sqrt(sq / static_cast<double>(f.periods)) / 1e9;
    f.period_min_s = static_cast<double>(*std::min_element(periods_ns_.begin(), periods_ns_.end())) / 1e9;
    f.period_max_s = static_cast<double>(*std::max_element(periods_ns_.begin(), periods_ns_.end())) / 1e9;
  }
  return f;
}

void WatchedTopics::Sync(const std::vector<std::string>& topics) {
  std::map<std::string, Entry> next;
  for (const std::string& t : topics) {
    auto it = entries_.find(t);
    if (it != entries_.end()) {
      next.emplace(t, std::move(it->second));
    } else {
      next.emplace(t, Entry(window_));
    }
  }
  entries_ = std::move(next);
}

void WatchedTopics::LookAll(bool with_recent, std::int64_t now_ns) {
  for (auto& [topic, e] : entries_) {
    const bool idle = !e.observer || e.meter.publishers() == 0;
    if (idle && now_ns - e.opened_ns >= kReopenNs) {
      // Unlinked when its last participant left, maybe made anew since.
      e.opened_ns = now_ns;
      absl::StatusOr<transport::TopicObserver> o = transport::TopicObserver::Open(options_, topic);
      if (o.ok()) e.observer.emplace(*std::move(o));
    }
    if (e.observer) e.meter.Look(*e.observer, with_recent, now_ns);
  }
}

LiveScreen::LiveScreen(bool json) : in_place_(!json && ::isatty(STDOUT_FILENO) == 1) {}

LiveScreen::~LiveScreen() {
  if (line_open_) std::fputs("\n", stdout);
  std::fflush(stdout);
}

void LiveScreen::Show(const std::string& text) {
  if (!in_place_) {
    std::fputs(text.c_str(), stdout);
  } else if (std::count(text.begin(), text.end(), '\n') <= 1) {
    // One line: back to its start, write it, clear what a longer one left.
    std::string line = text;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    std::fprintf(stdout, "\r%s\x1b[K", line.c_str());
    line_open_ = true;
  } else {
    std::fprintf(stdout, "\x1b[H\x1b[2J%s", text.c_str());
    line_open_ = false;
  }
  std::fflush(stdout);
}

namespace {

enum class RateVerb { kHz, kBw, kDelay };

struct RateArgs {
  std::string topic;       // empty: every topic (hz only)
  std::size_t window = 0;  // set per verb
  double interval_s = 1;
  int count = 0;  // reports before exiting; 0 = until a signal
  bool json = false;
};

// Opens `topic` read-only, with errors that name it and the domain.
absl::StatusOr<transport::TopicObserver> OpenTopic(const transport::ShmOptions& o,
                                                   const std::string& topic) {
  if (absl::Status s = transport::ValidateTopicName(topic); !s.ok()) return s;
  absl::StatusOr<transport::TopicObserver> observer = transport::TopicObserver::Open(o, topic);
  // Unavailable: its creator initialises it this very moment (bounded).
  for (int i = 0; i < 20 && absl::IsUnavailable(observer.status()); ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    observer = transport::TopicObserver::Open(o, topic);
  }
  if (absl::IsNotFound(observer.status())) {
    return absl::NotFoundError(absl::StrCat("no topic ", topic, " in domain ", o.domain,
                                            " (prefix ", o.prefix,
                                            "); `ringcast topic list` shows the topics there"));
  }
  return observer;
}

std::string PublishersText(int n) {
  return n == 1 ? "" : absl::StrCat("  (", n, " publishers)");
}

// Why there is no figure yet, or empty if there is one.
std::string NoFigures(const TopicFigures& f) {
  if (f.publishers == 0) return "no publisher";
  if (f.samples > 0) return "";
  if (f.last_publish_age_s) {
    return absl::StrCat("no new sample for ", HumanSeconds(*f.last_publish_age_s),
                        PublishersText(f.publishers));
  }
  return absl::StrCat("no sample yet", PublishersText(f.publishers));
}

std::string StalledText(const TopicFigures& f) {
  return f.stalled && f.last_publish_age_s
             ? absl::StrCat("  (silent for ", HumanSeconds(*f.last_publish_age_s), ")")
             : "";
}

std::string HzText(const std::string& topic, const TopicFigures& f) {
  if (std::string why = NoFigures(f); !why.empty()) return absl::StrCat(topic, ": ", why, "\n");
  std::string out = absl::StrCat(topic, ": ", HumanHz(f.hz));
  if (f.periods > 0) {
    absl::StrAppend(&out, "  min ", HumanSeconds(f.period_min_s), "  max ",
                    HumanSeconds(f.period_max_s), "  std dev ", HumanSeconds(f.period_std_dev_s),
                    "  window ", f.periods);
  }
  return absl::StrCat(out, StalledText(f), PublishersText(f.publishers), "\n");
}

Json HzJson(const std::string& topic, const TopicFigures& f) {
  Json j;
  j["topic"] = topic;
  j["publishers"] = f.publishers;
  j["hz"] = f.hz;
  j["samples"] = f.samples;
  j["stalled"] = f.stalled;
  j["window"] = f.periods;
  const bool p = f.periods > 0;
  j["period_min_s"] = OrNull(p ? std::optional(f.period_min_s) : std::nullopt);
  j["period_max_s"] = OrNull(p ? std::optional(f.period_max_s) : std::nullopt);
  j["period_mean_s"] = OrNull(p ? std::optional(f.period_mean_s) : std::nullopt);
  j["period_std_dev_s"] = OrNull(p ? std::optional(f.period_std_dev_s) : std::nullopt);
  j["last_publish_age_s"] = OrNull(f.last_publish_age_s);
  return j;
}

std::string BwText(const std::string& topic, const TopicFigures& f) {
  if (std::string why = NoFigures(f); !why.empty()) return absl::StrCat(topic, ": ", why, "\n");
  std::string out = absl::StrCat(topic, ": ", HumanBytes(f.bytes_per_s), "/s");
  if (f.mean_size) absl::StrAppend(&out, "  mean ", HumanBytes(*f.mean_size));
  if (f.sizes > 0) {
    absl::StrAppend(&out, "  min ", HumanBytes(static_cast<double>(f.min_size)), "  max ",
                    HumanBytes(static_cast<double>(f.max_size)), "  window ", f.sizes);
  }
  return absl::StrCat(out, StalledText(f), PublishersText(f.publishers), "\n");
}

Json BwJson(const std::string& topic, const TopicFigures& f) {
  Json j;
  j["topic"] = topic;
  j["publishers"] = f.publishers;
  j["bytes_per_s"] = f.bytes_per_s;
  j["hz"] = f.hz;
  j["samples"] = f.samples;
  j["stalled"] = f.stalled;
  j["size_mean"] = OrNull(f.mean_size);
  j["size_min"] = f.sizes > 0 ? Json(f.min_size) : Json(nullptr);
  j["size_max"] = f.sizes > 0 ? Json(f.max_size) : Json(nullptr);
  j["window"] = f.sizes;
  return j;
}

// Looks every `look` and reports every args.interval_s until a signal or
// args.count reports. Returns the exit code.
int Loop(const RateArgs& args, absl::Duration look, const std::function<void()>& look_fn,
         const std::function<void()>& report_fn) {
  const absl::Duration interval = absl::Seconds(args.interval_s);
  absl::Time next_report = absl::Now() + interval;
  int reports = 0;
  look_fn();
  while (SleepUnlessStopped(std::min(look, std::max(next_report - absl::Now(),
                                                    absl::Milliseconds(1))))) {
    look_fn();
    const absl::Time now = absl::Now();
    if (now < next_report) continue;
    report_fn();
    if (args.count > 0 && ++reports >= args.count) break;
    next_report = std::max(next_report + interval, now);
  }
  return 0;
}

int RunHzOrBw(const Globals& globals, const RateArgs& args, RateVerb verb) {
  StopOnSignals();
  const transport::ShmOptions& o = globals.options;
  WatchedTopics watched(o, args.window);
  // Without a topic, hz watches every topic the registry knows.
  std::optional<Domain> domain;
  auto sync = [&]() -> absl::Status {
    if (!domain) return absl::OkStatus();
    if (absl::Status s = domain->Refresh(); !s.ok()) return s;
    std::vector<std::string> names;
    for (const TopicRow& t : domain->Topics()) names.push_back(t.topic);
    watched.Sync(names);
    return absl::OkStatus();
  };
  if (args.topic.empty()) {
    domain.emplace(o);
    if (absl::Status s = sync(); !s.ok()) return Fail(s);
  } else {
    absl::StatusOr<transport::TopicObserver> observer = OpenTopic(o, args.topic);
    if (!observer.ok()) return Fail(observer.status());
    watched.Sync({args.topic});
    WatchedTopics::Entry& e = watched.entries().at(args.topic);
    e.observer.emplace(*std::move(observer));
    e.opened_ns = NowNs();
  }
  LiveScreen screen(args.json);
  absl::Status failed;
  const int code = Loop(
      args, kLookInterval, [&] { watched.LookAll(/*with_recent=*/true, NowNs()); },
      [&] {
        const std::int64_t now = NowNs();
        std::string text;
        Json all = Json::array();
        for (auto& [topic, e] : watched.entries()) {
          const TopicFigures f = e.meter.Figures(now);
          if (args.json) {
            all.push_back(verb == RateVerb::kHz ? HzJson(topic, f) : BwJson(topic, f));
          } else {
            text += verb == RateVerb::kHz ? HzText(topic, f) : BwText(topic, f);
          }
        }
        if (args.json) {
          text = JsonLine(domain ? Json{{"topics", all}} : all.front());
        } else if (domain && text.empty()) {
          text = absl::StrCat("no topics in domain ", o.domain, " (prefix ", o.prefix, ")\n");
        }
        screen.Show(text);
        // New topics join from the next report on.
        if (absl::Status s = sync(); !s.ok() && failed.ok()) failed = s;
      });
  return failed.ok() ? code : Fail(failed);
}

int RunDelay(const Globals& globals, const RateArgs& args) {
  StopOnSignals();
  const transport::ShmOptions& o = globals.options;
  absl::StatusOr<transport::TopicObserver> observer = OpenTopic(o, args.topic);
  if (!observer.ok()) return Fail(observer.status());
  // The age of each active ring's newest sample at every look.
  std::deque<std::int64_t> ages_ns;
  int publishers = 0;
  std::int64_t opened_ns = NowNs();
  LiveScreen screen(args.json);
  return Loop(
      args, kDelayLookInterval,
      [&] {
        const std::int64_t now = NowNs();
        if (publishers == 0 && now - opened_ns >= kReopenNs) {
          opened_ns = now;  // unlinked and made anew since? (as WatchedTopics)
          absl::StatusOr<transport::TopicObserver> again = transport::TopicObserver::Open(o, args.topic);
          if (again.ok()) observer = *std::move(again);
        }
        publishers = 0;
        for (const transport::RingCounters& c : observer->Counters()) {
          if (!c.active) continue;
          ++publishers;
          if (c.last_publish_ns <= 0) continue;
          PushBounded(&ages_ns, std::max<std::int64_t>(0, now - c.last_publish_ns), args.window);
        }
      },
      [&] {
        std::vector<std::int64_t> sorted(ages_ns.begin(), ages_ns.end());
        std::sort(sorted.begin(), sorted.end());
        auto at = [&](double q) {
          const std::size_t i = static_cast<std::size_t>(std::ceil(q * sorted.size()));
          return static_cast<double>(sorted[std::min(sorted.size() - 1, i == 0 ? 0 : i - 1)]) / 1e9;
        };
        if (args.json) {
          Json j;
          j["topic"] = args.topic;
          j["publishers"] = publishers;
          j["window"] = sorted.size();
          j["delay_p50_s"] = sorted.empty() ? Json(nullptr) : Json(at(0.5));
          j["delay_p99_s"] = sorted.empty() ? Json(nullptr) : Json(at(0.99));
          j["delay_max_s"] = sorted.empty() ? Json(nullptr) : Json(at(1.0));
          screen.Show(JsonLine(j));
        } else if (publishers == 0 || sorted.empty()) {
          screen.Show(absl::StrCat(args.topic, ": ",
                                   publishers == 0 ? "no publisher" : "no sample yet", "\n"));
        } else {
          screen.Show(absl::StrCat(args.topic, ": p50 ", HumanSeconds(at(0.5)), "  p99 ",
                                   HumanSeconds(at(0.99)), "  max ", HumanSeconds(at(1.0)),
                                   "  window ", sorted.size(), PublishersText(publishers), "\n"));
        }
      });
}

// The options every rate verb shares; the action runs `verb` on them.
void AddRateVerb(const Verbs& verbs, RateVerb verb, const char* name, const char* about,
                 std::size_t window, const char* window_about) {
  CLI::App* sub = verbs.topic->add_subcommand(name, about);
  auto args = std::make_shared<RateArgs>();
  args->window = window;
  sub->add_option("TOPIC", args->topic, "the topic, e.g. /imu")->required(verb != RateVerb::kHz);
  sub->add_option("--window", args->window, window_about)
      ->check(CLI::Range(std::size_t{2}, std::size_t{10'000'000}));
  sub->add_option("--interval", args->interval_s, "seconds between reports (default 1)")
      ->check(CLI::Range(0.01, 3600.0));
  sub->add_option("--count", args->count, "exit after this many reports (default: on Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--json", args->json, "one JSON object per report, one per line");
  const Globals* globals = verbs.globals;
  std::function<int()>* run = verbs.run;
  sub->callback([=] {
    *run = [=] {
      return verb == RateVerb::kDelay ? RunDelay(*globals, *args)
                                      : RunHzOrBw(*globals, *args, verb);
    };
  });
}

}  // namespace

void AddRateVerbs(const Verbs& verbs) {
  AddRateVerb(verbs, RateVerb::kHz, "hz",
              "publish rate and period (min/max/std dev) of a topic, or of every topic; "
              "read from shared memory, without subscribing",
              10000, "periods kept for min/max/std dev (default 10000)");
  AddRateVerb(verbs, RateVerb::kBw, "bw",
              "bytes per second and message sizes (mean/min/max) of a topic, without subscribing",
              100, "message sizes kept for min/max (default 100)");
  AddRateVerb(verbs, RateVerb::kDelay, "delay",
              "age of a topic's newest sample (p50/p99/max over 10 ms looks), "
              "from its publish time, without subscribing",
              1000, "looks kept for the percentiles (default 1000: 10 s)");
}

}  // namespace ringcast::cli
