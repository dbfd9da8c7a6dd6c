// cli/top.cc: `ringcast top`, one live screen of a domain: every topic
// with its type, publishers, subscribers, rate, bandwidth, its slowest
// subscriber's lag and the losses of all. Redrawn once a second and at
// every change of the registry (it sleeps on the registry's futex in
// between). Like hz, it never subscribes: rates come from each ring's
// shared counters (cli/rates.h), lag and losses from the subscriber
// counters in the topic's read-only snapshot.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/inspect.h"
#include "cli/live.h"
#include "cli/rates.h"
#include "nlohmann/json.hpp"

namespace ringcast::cli {
namespace {

using Json = nlohmann::ordered_json;

// The quickest redraws follow each other, however fast the registry moves.
constexpr absl::Duration kMinRedraw = absl::Milliseconds(100);

struct TopArgs {
  bool json = false;
  bool once = false;
  double interval_s = 1;
  int count = 0;  // frames before exiting; 0 = until a signal
};

struct TopRow {
  std::string topic;
  std::string type;
  int publishers = 0;   // registered
  int subscribers = 0;  // registered
  bool segment = false;  // its segment could be read
  TopicFigures figures;
  std::uint64_t worst_lag = 0;  // the active subscriber furthest behind
  std::uint64_t lost = 0;       // summed over active subscribers
};

// One look at every topic the registry knows.
std::vector<TopRow> Look(Domain& domain, WatchedTopics& watched) {
  const std::vector<TopicRow> topics = domain.Topics();
  std::vector<std::string> names;
  for (const TopicRow& t : topics) names.push_back(t.topic);
  watched.Sync(names);
  const std::int64_t now = NowNs();
  watched.LookAll(/*with_recent=*/false, now);
  std::vector<TopRow> rows;
  for (const TopicRow& t : topics) {
    TopRow r;
    r.topic = t.topic;
    r.type = t.type_name;
    r.publishers = t.publishers;
    r.subscribers = t.subscribers;
    WatchedTopics::Entry& e = watched.entries().at(t.topic);
    if (e.observer) {
      r.segment = true;
      r.figures = e.meter.Figures(now);
      for (const transport::SubscriberSnapshot& s : e.observer->Snapshot().subscribers) {
        if (s.state != transport::EntryPhase::kActive) continue;
        r.worst_lag = std::max(r.worst_lag, s.lag);
        r.lost += s.lost;
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string FrameText(const transport::ShmOptions& o, std::size_t nodes,
                      const std::vector<TopRow>& rows) {
  std::string out = absl::StrCat(
      "ringcast top - domain ", o.domain, " (prefix ", o.prefix, ") - ", rows.size(),
      rows.size() == 1 ? " topic, " : " topics, ", nodes, nodes == 1 ? " node - " : " nodes - ",
      absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()), "\n\n");
  std::size_t tw = 5, yw = 4;
  for (const TopRow& r : rows) {
    tw = std::max(tw, r.topic.size());
    yw = std::max(yw, r.type.size());
  }
  absl::StrAppendFormat(&out, "%-*s  %-*s  %3s  %3s  %11s  %12s  %9s  %9s\n", tw, "TOPIC", yw,
                        "TYPE", "PUB", "SUB", "RATE", "BANDWIDTH", "WORST LAG", "LOST");
  for (const TopRow& r : rows) {
    std::string rate = "-", bw = "-", lag = "-", lost = "-";
    if (r.segment) {
      const TopicFigures& f = r.figures;
      if (f.samples > 0) {
        rate = HumanHz(f.hz);
        bw = absl::StrCat(HumanBytes(f.bytes_per_s), "/s");
      } else if (f.publishers > 0) {
        rate = "idle";
      }
      lag = absl::StrCat(r.worst_lag);
      lost = absl::StrCat(r.lost);
    }
    absl::StrAppendFormat(&out, "%-*s  %-*s  %3d  %3d  %11s  %12s  %9s  %9s\n", tw, r.topic, yw,
                          r.type, r.publishers, r.subscribers, rate, bw, lag, lost);
  }
  if (rows.empty()) out += "(no topics)\n";
  return out;
}

std::string FrameJson(const transport::ShmOptions& o, std::size_t nodes,
                      const std::vector<TopRow>& rows) {
  Json topics = Json::array();
  for (const TopRow& r : rows) {
    Json t;
    t["topic"] = r.topic;
    t["type"] = r.type;
    t["publishers"] = r.publishers;
    t["subscribers"] = r.subscribers;
    t["segment"] = r.segment;
    t["active_publishers"] = r.figures.publishers;
    t["hz"] = r.figures.hz;
    t["bytes_per_s"] = r.figures.bytes_per_s;
    t["samples"] = r.figures.samples;
    t["stalled"] = r.figures.stalled;
    t["worst_lag"] = r.worst_lag;
    t["lost"] = r.lost;
    t["last_publish_age_s"] = r.figures.last_publish_age_s
                                  ? Json(*r.figures.last_publish_age_s)
                                  : Json(nullptr);
    topics.push_back(std::move(t));
  }
  Json j;
  j["domain"] = o.domain;
  j["prefix"] = o.prefix;
  j["nodes"] = nodes;
  j["topics"] = std::move(topics);
  return JsonLine(j);
}

int RunTop(const Globals& globals, const TopArgs& args) {
  StopOnSignals();
  const transport::ShmOptions& o = globals.options;
  const absl::Duration interval = absl::Seconds(args.interval_s);
  Domain domain(o);
  WatchedTopics watched(o, /*window=*/1000);
  LiveScreen screen(args.json);
  // A rate needs two looks: JSON and --once wait for the second; a
  // terminal shows the first look at once and the rates a second later.
  const bool wait_for_rates = args.json || args.once || ::isatty(STDOUT_FILENO) != 1;
  const absl::Time started = absl::Now();
  absl::Time next_tick = started;
  int frames = 0;
  while (!StopRequested()) {
    if (absl::Status s = domain.Refresh(); !s.ok()) return Fail(s);
    const std::vector<TopRow> rows = Look(domain, watched);
    const absl::Time looked = absl::Now();
    if (looked >= next_tick) next_tick = looked + interval;
    if (!wait_for_rates || looked - started >= interval) {
      const std::size_t nodes = domain.Nodes().size();
      screen.Show(args.json ? FrameJson(o, nodes, rows) : FrameText(o, nodes, rows));
      ++frames;
      if (args.once || (args.count > 0 && frames >= args.count)) break;
    }
    if (args.once) {
      // Just the rates' second look, whatever the registry does meanwhile.
      if (!SleepUnlessStopped(std::max(next_tick - absl::Now(), absl::ZeroDuration()))) break;
      continue;
    }
    // Until the next tick or a change of the registry (or a signal).
    domain.WaitForChange(std::max(next_tick - absl::Now(), absl::ZeroDuration()));
    if (!SleepUnlessStopped(std::max(looked + kMinRedraw - absl::Now(), absl::ZeroDuration()))) {
      break;
    }
  }
  return 0;
}

}  // namespace

void AddTopVerb(const Verbs& verbs) {
  CLI::App* sub = verbs.app->add_subcommand(
      "top", "a live screen of every topic: publishers, subscribers, rate, bandwidth, worst "
             "lag and losses (without subscribing)");
  auto args = std::make_shared<TopArgs>();
  sub->add_flag("--json", args->json, "one JSON object per screen, one per line");
  sub->add_flag("--once", args->once, "print one screen (after one interval, for the rates) "
                                      "and exit");
  sub->add_option("--interval", args->interval_s, "seconds between screens (default 1)")
      ->check(CLI::Range(0.05, 3600.0));
  sub->add_option("--count", args->count, "exit after this many screens (default: on Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  const Globals* globals = verbs.globals;
  std::function<int()>* run = verbs.run;
  sub->callback([=] { *run = [=] { return RunTop(*globals, *args); }; });
}

}  // namespace ringcast::cli
