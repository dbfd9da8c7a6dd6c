// cli/pub.cc: topic pub. Builds one message from protobuf text format (or
// JSON) through the type's descriptor (the topic's stored type, or --type
// for a topic nobody has made yet) and publishes it: once by default,
// --times N, or at --rate HZ until Ctrl-C. Small messages travel inline,
// large ones through the publisher's chunk pool.
//
// Publishing once to a topic nobody reads loses the message, so pub first
// waits up to kMatchWait for a subscriber to be there (at once if one is).
//
//   ringcast topic pub /chatter 'count: 1 text: "hi"' --rate 10
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "cli/live.h"
#include "cli/live_common.h"
#include "discovery/registry.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "ringcast/node.h"

namespace ringcast::cli {
namespace {

// How long a pub waits for a first subscriber before publishing anyway.
constexpr absl::Duration kMatchWait = absl::Seconds(1);
// The rate of --times N without --rate.
constexpr double kDefaultRate = 10;

struct PubArgs {
  std::string topic;
  std::string text;
  std::string type;
  double rate = 0;  // 0: not given
  int times = 0;    // 0: not given
  bool json = false;
};

// The first error of the text format parser, as "line:column: what".
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat(line + 1, ":", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// `args.text` parsed into a new message of `type`.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Parse(const LiveType& type,
                                                                 const PubArgs& args) {
  std::unique_ptr<google::protobuf::Message> msg = type.dynamic->New();
  if (!args.json) {
    google::protobuf::TextFormat::Parser parser;
    FirstError errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(args.text, msg.get())) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad text for ", type.name, " at ", errors.first()));
    }
    return msg;
  }
  // nlohmann first, for the line and column of a syntax error; protobuf's
  // parser then maps names and values, and names the field it rejects.
  try {
    const nlohmann::json syntax_only = nlohmann::json::parse(args.text);
    (void)syntax_only;
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    if (const std::size_t at = what.find("parse error"); at != std::string::npos) what.erase(0, at);
    return absl::InvalidArgumentError(absl::StrCat("bad JSON for ", type.name, ": ", what));
  }
  const auto status = google::protobuf::util::JsonStringToMessage(args.text, msg.get());
  if (!status.ok()) {
    std::string what(status.message().data(), status.message().size());
    what = absl::StrReplaceAll(what, {{"\n", " "}});
    return absl::InvalidArgumentError(absl::StrCat("bad JSON for ", type.name, ": ", what));
  }
  return msg;
}

// The type to publish: the topic's own, or --type for a topic not made yet.
absl::StatusOr<LiveType> TypeToPublish(const transport::ShmOptions& options,
                                       const LiveTopic& topic, const std::string& wanted) {
  if (topic.known) {
    if (!wanted.empty() && wanted != topic.type_name) {
      return absl::FailedPreconditionError(absl::StrCat(
          "topic ", topic.topic, " carries ", topic.type_name, ", not --type ", wanted,
          "; every endpoint of a topic uses one type"));
    }
    return TypeOfTopic(topic);
  }
  if (wanted.empty()) {
    return absl::NotFoundError(absl::StrCat("no topic ", topic.topic, " in ",
                                            DomainName(options),
                                            " to take the type from; name one with --type, "
                                            "e.g. --type ringcast.msgs.String"));
  }
  return TypeByName(options, wanted);
}

// OK once a subscriber of `topic` has its transport entry (so it sees what
// we publish next), or after `timeout`, or at a stop. Returns whether one is.
bool WaitForSubscriber(const transport::ShmOptions& options, const std::string& topic,
                       absl::Duration timeout) {
  absl::StatusOr<discovery::Registry> registry = discovery::Registry::Observe(options);
  if (!registry.ok()) return false;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const std::uint32_t seen = registry->generation();
    for (const discovery::EndpointRecord& e : registry->Read(/*with_types=*/false).endpoints) {
      if (e.topic == topic && e.kind == discovery::EndpointKind::kSubscriber &&
          e.transport_index != discovery::kNoTransport) {
        return true;
      }
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration() || StopRequested()) return false;
    (void)registry->WaitForChange(seen, std::min(left, absl::Milliseconds(100)));
  }
}

int RunPub(const Globals& globals, const PubArgs& args) {
  StopOnSignals();
  const transport::ShmOptions& options = globals.options;
  absl::StatusOr<LiveTopic> topic = LookupTopic(options, args.topic);
  if (!topic.ok()) return Fail(topic.status());
  absl::StatusOr<LiveType> type = TypeToPublish(options, *topic, args.type);
  if (!type.ok()) return Fail(type.status());
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> msg = Parse(*type, args);
  if (!msg.ok()) return Fail(msg.status());
  absl::StatusOr<std::vector<std::byte>> bytes = type->dynamic->Write(**msg);
  if (!bytes.ok()) return Fail(bytes.status());

  absl::StatusOr<Context> ctx = LiveContext(options);
  if (!ctx.ok()) return Fail(ctx.status());
  absl::StatusOr<Node> node = Node::Create(*ctx, "ringcast_pub");
  if (!node.ok()) return Fail(node.status());
  const TypeSupport support = type->support();
  Qos qos;
  // A topic we make carries our message: give it a pool that fits when the
  // defaults would not (an existing topic's own geometry wins regardless).
  absl::StatusOr<Qos> defaults = node->ResolveQos(args.topic, support, {}, {});
  if (!defaults.ok()) return Fail(defaults.status());
  if (bytes->size() > *defaults->inline_capacity && bytes->size() > *defaults->max_message_size) {
    qos.set_max_message_size((bytes->size() + 4095) / 4096 * 4096);
  }
  absl::StatusOr<RawPublisher> pub = node->CreateRawPublisher(args.topic, support, qos);
  if (!pub.ok()) return Fail(pub.status());

  const int times = args.times > 0 ? args.times : (args.rate > 0 ? 0 : 1);  // 0: until stopped
  const double rate = args.rate > 0 ? args.rate : kDefaultRate;
  const bool matched = WaitForSubscriber(options, args.topic, kMatchWait);
  if (StopRequested()) return 0;
  if (!matched && times == 1) {
    std::fprintf(stderr, "ringcast: no subscriber of %s after %s; published to nobody\n",
                 args.topic.c_str(), absl::FormatDuration(kMatchWait).c_str());
  }
  const absl::Duration period = absl::Seconds(1 / rate);
  std::optional<StatusLine> status;
  if (times != 1) status.emplace();
  absl::Time next = absl::Now();
  for (int sent = 0; times == 0 || sent < times;) {
    if (absl::Status s = pub->Publish(*bytes); !s.ok()) return Fail(s);
    ++sent;
    if (status) {
      status->Show(absl::StrFormat("publishing %s on %s at %g Hz: %d sent%s", type->name,
                                   args.topic, rate, sent,
                                   times > 0 ? absl::StrCat(" of ", times) : std::string()));
    }
    if (times != 0 && sent == times) break;
    next += period;
    const absl::Time now = absl::Now();
    if (next < now - period) next = now;  // fell behind: no burst to catch up
    if (!SleepUnlessStopped(next - now)) break;
  }
  pub->Close();
  return 0;
}

}  // namespace

void AddPubVerb(const Verbs& verbs) {
  auto args = std::make_shared<PubArgs>();
  CLI::App* sub = verbs.topic->add_subcommand(
      "pub", "publish a message given in protobuf text format (or --json) through the topic's "
             "stored type, or --type's");
  sub->add_option("topic", args->topic, "the topic, e.g. /chatter")->required();
  sub->add_option("message", args->text,
                  "the message in text format, e.g. 'count: 1 text: \"hi\"' (default: empty)");
  sub->add_option("--type", args->type,
                  "the type, for a topic not made yet: one the registry knows, or one of "
                  "ringcast's msgs/ (ringcast.msgs.String, ...)");
  sub->add_option("--rate", args->rate,
                  absl::StrCat("publish at HZ (with --times, N times; alone, until Ctrl-C); "
                               "--times alone goes at ", kDefaultRate, " Hz"))
      ->check(CLI::PositiveNumber);
  sub->add_option("--times", args->times, "publish N times (default once)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--json", args->json, "the message is JSON (proto3 mapping), not text format");
  std::function<int()>* run = verbs.run;
  const Globals* globals = verbs.globals;
  sub->callback([args, run, globals] {
    *run = [args, globals] { return RunPub(*globals, *args); };
  });
}

}  // namespace ringcast::cli
