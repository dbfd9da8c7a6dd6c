// cli/record.cc: record, play, bag info and bag recover: the recording
// verbs. What they run is record/ (Recorder, Player, the MCAP reader);
// this file parses their arguments and renders their figures.
//
//   ringcast record /imu '/camera/*' -o run.mcap --duration 20s
//   ringcast record --all --compression lz4 --split-size 1G
//   ringcast play run.mcap --rate 2 --topics /imu
//   ringcast bag info run.mcap [--json]
//   ringcast bag recover cut.mcap -o whole.mcap
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/live.h"
#include "cli/live_common.h"
#include "cli/rates.h"
#include "nlohmann/json.hpp"
#include "record/mcap.h"
#include "record/player.h"
#include "record/recorder.h"

namespace ringcast::cli {
namespace {

using Json = nlohmann::ordered_json;

// How often record looks for new topics, and redraws its status line.
constexpr absl::Duration kDiscoverEvery = absl::Milliseconds(500);
constexpr absl::Duration kStatusEvery = absl::Milliseconds(250);
constexpr absl::Duration kPollSlice = absl::Milliseconds(100);

// "20s", "1m30s", "1.5h", or plain seconds ("20", "0.5").
absl::StatusOr<absl::Duration> ParseDurationArg(const std::string& flag, const std::string& text) {
  absl::Duration d;
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " '", text, "' is not a duration: give seconds (20, 0.5) or 20s, 1m30s, 2h"));
  }
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " '", text, "' is negative"));
  }
  return d;
}

// "1000000", "500k", "100M", "2G" (powers of 1024, "B" optional).
absl::StatusOr<std::uint64_t> ParseBytesArg(const std::string& flag, const std::string& text) {
  std::string digits = absl::AsciiStrToUpper(text);
  if (!digits.empty() && digits.back() == 'B') digits.pop_back();
  std::uint64_t unit = 1;
  if (!digits.empty() && std::isalpha(static_cast<unsigned char>(digits.back()))) {
    const char u = digits.back();
    digits.pop_back();
    const std::map<char, std::uint64_t> units = {
        {'K', 1ull << 10}, {'M', 1ull << 20}, {'G', 1ull << 30}, {'T', 1ull << 40}};
    auto it = units.find(u);
    if (it == units.end()) digits = "x";  // fails below
    else unit = it->second;
  }
  std::uint64_t n = 0;
  if (!absl::SimpleAtoi(digits, &n) || n == 0 || n > (UINT64_MAX / unit)) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " '", text, "' is not a size: give bytes (1000000) or 500K, 100M, 2G"));
  }
  return n * unit;
}

std::string DefaultOutput() {
  return absl::StrCat("ringcast_", absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(),
                                                    absl::LocalTimeZone()), ".mcap");
}

// ---- record ----

struct RecordArgs {
  std::vector<std::string> topics;
  bool all = false;
  std::string output;
  std::string compression = "zstd";
  std::string duration;
  std::string split_size;
};

std::string RecordStatus(const record::RecordStats& s) {
  std::vector<std::string> per;
  for (const record::RecordedTopic& t : s.topics) {
    if (!t.problem.empty()) {
      per.push_back(absl::StrCat(t.topic, " not recorded"));
    } else {
      per.push_back(absl::StrCat(t.topic, " ", t.messages, t.lost ? absl::StrCat(" (lost ", t.lost, ")") : ""));
    }
  }
  return absl::StrCat("recording ", HumanSeconds(absl::ToDoubleSeconds(absl::Now() - s.started)),
                      "  ", s.messages, " msgs  ", HumanBytes(static_cast<double>(s.file_bytes)),
                      "  lost ", s.lost, per.empty() ? "  (no topic yet)" : "  | ",
                      absl::StrJoin(per, ", "));
}

int RunRecord(const Globals& globals, const RecordArgs& args) {
  if (args.topics.empty() && !args.all) {
    return UsageError("record: name the topics to record (/imu '/camera/*') or give --all");
  }
  if (!args.topics.empty() && args.all) {
    return UsageError("record: give topics or --all, not both");
  }
  record::RecordOptions options;
  options.topics = args.topics;
  options.path = args.output.empty() ? DefaultOutput() : args.output;
  absl::StatusOr<record::Compression> compression = record::ParseCompression(args.compression);
  if (!compression.ok()) return UsageError(std::string(compression.status().message()));
  options.compression = *compression;
  std::optional<absl::Duration> duration;
  if (!args.duration.empty()) {
    absl::StatusOr<absl::Duration> d = ParseDurationArg("--duration", args.duration);
    if (!d.ok()) return UsageError(std::string(d.status().message()));
    duration = *d;
  }
  if (!args.split_size.empty()) {
    absl::StatusOr<std::uint64_t> n = ParseBytesArg("--split-size", args.split_size);
    if (!n.ok()) return UsageError(std::string(n.status().message()));
    options.split_size = *n;
  }
  absl::StatusOr<Context> context = LiveContext(globals.options);
  if (!context.ok()) return Fail(context.status());
  StopOnSignals();
  absl::StatusOr<std::unique_ptr<record::Recorder>> rec = record::Recorder::Create(*context, options);
  if (!rec.ok()) return Fail(rec.status());
  record::Recorder& r = **rec;
  const absl::Time start = absl::Now();
  absl::Time last_discover = start, last_status = absl::InfinitePast();
  absl::Status failed;
  {
    StatusLine status;
    while (!StopRequested() && (!duration || absl::Now() - start < *duration)) {
      absl::Duration slice = kPollSlice;
      if (duration) slice = std::min(slice, std::max(absl::ZeroDuration(), start + *duration - absl::Now()));
      if (absl::Status s = r.Poll(slice); !s.ok()) {
        failed = s;
        break;
      }
      const absl::Time now = absl::Now();
      if (now - last_discover >= kDiscoverEvery) {
        last_discover = now;
        if (absl::Status s = r.Discover(); !s.ok()) {
          failed = s;
          break;
        }
      }
      if (now - last_status >= kStatusEvery) {
        last_status = now;
        status.Show(RecordStatus(r.stats()));
      }
    }
  }
  absl::Status closed = r.Close();
  const record::RecordStats s = r.stats();
  std::printf("recorded %llu messages (%s) in %s to %s; lost %llu\n",
              static_cast<unsigned long long>(s.messages),
              HumanBytes(static_cast<double>(s.file_bytes)).c_str(),
              HumanSeconds(absl::ToDoubleSeconds(absl::Now() - start)).c_str(),
              absl::StrJoin(s.files, ", ").c_str(), static_cast<unsigned long long>(s.lost));
  for (const record::RecordedTopic& t : s.topics) {
    if (!t.problem.empty()) {
      std::printf("  %s (%s): not recorded: %s\n", t.topic.c_str(), t.type_name.c_str(),
                  t.problem.c_str());
      continue;
    }
    std::printf("  %s (%s): %llu messages, %s, lost %llu%s\n", t.topic.c_str(),
                t.type_name.c_str(), static_cast<unsigned long long>(t.messages),
                HumanBytes(static_cast<double>(t.bytes)).c_str(),
                static_cast<unsigned long long>(t.lost),
                t.invalid ? absl::StrCat(", invalid ", t.invalid).c_str() : "");
  }
  std::fflush(stdout);
  if (!failed.ok()) return Fail(failed);
  if (!closed.ok()) return Fail(closed);
  return 0;
}

// ---- play ----

struct PlayArgs {
  std::string file;
  double rate = 1;
  bool loop = false;
  std::vector<std::string> topics;
  std::string start;
};

int RunPlay(const Globals& globals, const PlayArgs& args) {
  if (!(args.rate > 0)) {
    return UsageError(absl::StrCat("play: --rate ", args.rate, " is not > 0 (1 is real time, 2 twice as fast)"));
  }
  record::PlayOptions options;
  options.path = args.file;
  options.rate = args.rate;
  options.loop = args.loop;
  options.topics = args.topics;
  if (!args.start.empty()) {
    absl::StatusOr<absl::Duration> d = ParseDurationArg("--start", args.start);
    if (!d.ok()) return UsageError(std::string(d.status().message()));
    options.start = *d;
  }
  absl::StatusOr<Context> context = LiveContext(globals.options);
  if (!context.ok()) return Fail(context.status());
  StopOnSignals();
  absl::StatusOr<std::unique_ptr<record::Player>> player = record::Player::Create(*context, options);
  if (!player.ok()) return Fail(player.status());
  if ((*player)->summary().recovered) {
    std::fprintf(stderr, "ringcast: %s was not closed (%s); playing its complete chunks\n",
                 args.file.c_str(), (*player)->summary().recovery_note.c_str());
  }
  record::PlayStats last;
  absl::Status run;
  {
    StatusLine status;
    run = (*player)->Run([] { return StopRequested(); },
                         [&](const record::PlayStats& s) {
                           last = s;
                           status.Show(absl::StrCat(
                               "playing ", HumanSeconds(absl::ToDoubleSeconds(s.position)), " / ",
                               HumanSeconds(absl::ToDoubleSeconds(s.duration)), "  ", s.published,
                               " msgs  ", HumanBytes(static_cast<double>(s.bytes)),
                               s.loops ? absl::StrCat("  loop ", s.loops + 1) : "",
                               s.failed ? absl::StrCat("  failed ", s.failed) : ""));
                         });
  }
  std::printf("played %llu messages (%s)%s\n", static_cast<unsigned long long>(last.published),
              HumanBytes(static_cast<double>(last.bytes)).c_str(),
              last.loops > 1 ? absl::StrCat(" in ", last.loops, " loops").c_str() : "");
  std::fflush(stdout);
  if (!run.ok()) return Fail(run);
  if (last.failed > 0) {
    return Fail(absl::DataLossError(absl::StrCat(last.failed, " messages could not be published; the last: ",
                                                 last.last_error)));
  }
  return 0;
}

// ---- bag info / recover ----

struct BagArgs {
  std::string file;
  bool json = false;
  std::string output;
  std::string compression = "zstd";
};

std::string TimeText(std::uint64_t ns) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC",
                          absl::FromUnixNanos(static_cast<std::int64_t>(ns)), absl::UTCTimeZone());
}

// The per-topic figures ringcast record keeps in metadata `name`.
std::map<std::string, std::uint64_t> TopicFigures(const record::McapReader& reader,
                                                  absl::string_view name) {
  std::map<std::string, std::uint64_t> out;
  absl::StatusOr<std::vector<std::map<std::string, std::string>>> records = reader.ReadMetadata(name);
  if (!records.ok()) return out;
  for (const auto& m : *records) {
    for (const auto& [topic, value] : m) {
      std::uint64_t n = 0;
      if (absl::SimpleAtoi(value, &n)) out[topic] += n;
    }
  }
  return out;
}

int RunBagInfo(const BagArgs& args) {
  absl::StatusOr<std::unique_ptr<record::McapReader>> reader = record::McapReader::Open(args.file);
  if (!reader.ok()) return Fail(reader.status());
  const record::Summary& s = (*reader)->summary();
  const record::Statistics& st = s.statistics;
  const std::uint64_t span = st.message_count == 0 ? 0 : st.message_end_time - st.message_start_time;
  const double seconds = static_cast<double>(span) / 1e9;
  const std::map<std::string, std::uint64_t> lost = TopicFigures(**reader, "ringcast.lost");
  const std::map<std::string, std::uint64_t> bytes = TopicFigures(**reader, "ringcast.bytes");
  std::map<std::string, std::string> compressions;
  for (const record::ChunkIndex& c : s.chunks) compressions[c.compression.empty() ? "none" : c.compression];
  Json j;
  j["file"] = args.file;
  j["library"] = s.library;
  if (s.recovered) j["recovered"] = s.recovery_note;
  j["messages"] = st.message_count;
  j["duration_s"] = seconds;
  j["start_ns"] = st.message_start_time;
  j["end_ns"] = st.message_end_time;
  j["chunks"] = st.chunk_count;
  Json comp = Json::array();
  for (const auto& [c, unused] : compressions) comp.push_back(c);
  j["compression"] = comp;
  Json topics = Json::array();
  for (const auto& [id, c] : s.channels) {
    Json t;
    t["topic"] = c.topic;
    auto schema = s.schemas.find(c.schema_id);
    t["type"] = schema == s.schemas.end() ? "" : schema->second.name;
    t["encoding"] = c.message_encoding;
    auto count = st.channel_message_counts.find(id);
    const std::uint64_t n = count == st.channel_message_counts.end() ? 0 : count->second;
    t["messages"] = n;
    t["hz"] = seconds > 0 && n > 1 ? static_cast<double>(n - 1) / seconds : 0.0;
    if (auto b = bytes.find(c.topic); b != bytes.end()) t["bytes"] = b->second;
    if (auto l = lost.find(c.topic); l != lost.end()) t["lost"] = l->second;
    topics.push_back(t);
  }
  j["topics"] = topics;
  if (args.json) {
    std::fputs(JsonLine(j).c_str(), stdout);
    return 0;
  }
  std::printf("file:        %s\n", args.file.c_str());
  if (s.recovered) {
    std::printf("NOT CLOSED:  %s\n             (its complete chunks are read; `ringcast bag recover` "
                "writes an indexed copy)\n",
                s.recovery_note.c_str());
  }
  std::printf("written by:  %s\n", s.library.empty() ? "?" : s.library.c_str());
  std::printf("duration:    %s\n", HumanSeconds(seconds).c_str());
  if (st.message_count > 0) {
    std::printf("start:       %s\n", TimeText(st.message_start_time).c_str());
    std::printf("end:         %s\n", TimeText(st.message_end_time).c_str());
  }
  std::vector<std::string> comp_names;
  for (const auto& [c, unused] : compressions) comp_names.push_back(c);
  std::printf("messages:    %llu in %u chunk%s (%s)\n",
              static_cast<unsigned long long>(st.message_count), st.chunk_count,
              st.chunk_count == 1 ? "" : "s",
              comp_names.empty() ? "-" : absl::StrJoin(comp_names, ", ").c_str());
  std::printf("topics:\n");
  for (const Json& t : topics) {
    std::string line = absl::StrFormat(
        "  %-24s %-28s %8d msgs %10s", t["topic"].get<std::string>(),
        t["type"].get<std::string>(), t["messages"].get<std::uint64_t>(),
        HumanHz(t["hz"].get<double>()));
    if (t.contains("bytes")) {
      absl::StrAppend(&line, "  ", HumanBytes(static_cast<double>(t["bytes"].get<std::uint64_t>())));
    }
    if (t.contains("lost")) absl::StrAppend(&line, "  lost ", t["lost"].get<std::uint64_t>());
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

int RunBagRecover(const BagArgs& args) {
  absl::StatusOr<record::Compression> compression = record::ParseCompression(args.compression);
  if (!compression.ok()) return UsageError(std::string(compression.status().message()));
  if (args.output == args.file) {
    return UsageError("bag recover: -o must name a new file, not the one being recovered");
  }
  absl::StatusOr<record::Summary> s = record::Recover(args.file, args.output, *compression);
  if (!s.ok()) return Fail(s.status());
  std::printf("wrote %s: %llu messages on %zu topics\n", args.output.c_str(),
              static_cast<unsigned long long>(s->statistics.message_count), s->channels.size());
  return 0;
}

}  // namespace

void AddRecordVerbs(const Verbs& verbs) {
  std::function<int()>* run = verbs.run;
  const Globals* globals = verbs.globals;

  auto rec = std::make_shared<RecordArgs>();
  CLI::App* r = verbs.app->add_subcommand(
      "record", "record topics to an MCAP file that any MCAP reader opens (protobuf schemas)");
  r->add_option("topics", rec->topics, "topics or glob patterns ('/camera/*'); or --all")
      ->type_name("TOPIC");
  r->add_flag("--all", rec->all, "every topic, including those that appear while recording");
  r->add_option("-o,--output", rec->output, "the file (default: ringcast_<date>-<time>.mcap)")
      ->type_name("FILE");
  r->add_option("--compression", rec->compression, "zstd, lz4 or none")
      ->type_name("C")
      ->capture_default_str();
  r->add_option("--duration", rec->duration, "stop after this long (20s, 5m); default: Ctrl-C")
      ->type_name("D");
  r->add_option("--split-size", rec->split_size,
                "start a new file (<name>_N.mcap) every so many bytes (500M, 2G)")
      ->type_name("BYTES");
  r->callback([rec, run, globals] { *run = [rec, globals] { return RunRecord(*globals, *rec); }; });

  auto play = std::make_shared<PlayArgs>();
  CLI::App* p = verbs.app->add_subcommand(
      "play", "publish the messages of an MCAP file again, with their recorded timing");
  p->add_option("file", play->file, "the recording")->type_name("FILE")->required();
  p->add_option("--rate", play->rate, "speed: 2 plays twice as fast")
      ->type_name("X")
      ->capture_default_str();
  p->add_flag("--loop", play->loop, "start again at the end, until Ctrl-C");
  p->add_option("--topics", play->topics, "only these topics (names or glob patterns)")
      ->type_name("TOPIC");
  p->add_option("--start", play->start, "skip this much of the recording (10s, 1m)")
      ->type_name("D");
  p->callback([play, run, globals] { *run = [play, globals] { return RunPlay(*globals, *play); }; });

  CLI::App* bag = verbs.app->add_subcommand("bag", "recordings (MCAP files): info, recover");
  auto info = std::make_shared<BagArgs>();
  CLI::App* i = bag->add_subcommand(
      "info", "what a recording holds: duration, topics, types, counts, rates (from its summary)");
  i->add_option("file", info->file, "the recording")->type_name("FILE")->required();
  i->add_flag("--json", info->json, "one JSON object");
  i->callback([info, run] { *run = [info] { return RunBagInfo(*info); }; });

  auto recover = std::make_shared<BagArgs>();
  CLI::App* v = bag->add_subcommand(
      "recover", "rewrite a recording that was not closed (its writer killed) with its index");
  v->add_option("file", recover->file, "the recording")->type_name("FILE")->required();
  v->add_option("-o,--output", recover->output, "the new file")->type_name("FILE")->required();
  v->add_option("--compression", recover->compression, "zstd, lz4 or none")
      ->type_name("C")
      ->capture_default_str();
  v->callback([recover, run] { *run = [recover] { return RunBagRecover(*recover); }; });
}

}  // namespace ringcast::cli
