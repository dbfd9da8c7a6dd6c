// cli/echo.cc: topic echo. Subscribes (best effort) to a topic with the
// type the registry stores for it and prints every sample, decoded through
// the stored descriptor: protobuf text format with a "---" line between
// samples, or one JSON object per line (--json). Losses are printed where
// they happened ("# lost 12 samples", {"lost": 12}). Bytes and repeated
// fields longer than kSummaryAbove are summarised unless --full.
//
//   ringcast topic echo /camera/image --field header.stamp --count 3
#include <signal.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/live.h"
#include "cli/live_common.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"
#include "ringcast/node.h"

namespace ringcast::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using Json = nlohmann::ordered_json;

// Bytes fields and repeated fields longer than this print as a count.
constexpr int kSummaryAbove = 16;
// How long one wait for a sample sleeps before re-checking for a stop.
constexpr absl::Duration kWaitSlice = absl::Milliseconds(200);

struct EchoArgs {
  std::string topic;
  bool once = false;
  int count = 0;  // 0: until stopped
  std::string field;
  bool full = false;
  bool json = false;
};

// One step of a --field path: a field, and an element of it if repeated.
struct PathStep {
  const FieldDescriptor* field = nullptr;
  std::optional<int> index;
};

std::string FieldNames(const Descriptor* d) {
  std::vector<std::string> names;
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->name());
  return names.empty() ? std::string("(none)") : absl::StrJoin(names, ", ");
}

// "a.b[2].c" against `root`: every step must name a field, every step but
// the last a message (one element of it, if repeated).
absl::StatusOr<std::vector<PathStep>> ResolvePath(const Descriptor* root, const std::string& path) {
  std::vector<PathStep> steps;
  const Descriptor* d = root;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    const std::string where = absl::StrCat("--field ", path);
    if (d == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": ", steps.back().field->name(), " is a ", steps.back().field->type_name(),
          " field, not a message, so it has no field ", part));
    }
    PathStep step;
    std::string name(part);
    if (const std::size_t open = part.find('['); open != absl::string_view::npos) {
      int index = -1;
      if (part.back() != ']' ||
          !absl::SimpleAtoi(part.substr(open + 1, part.size() - open - 2), &index) || index < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": '", part, "' is not name or name[N] with N >= 0"));
      }
      step.index = index;
      name = std::string(part.substr(0, open));
    }
    step.field = d->FindFieldByName(name);
    if (step.field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", d->full_name(),
                                                     " has no field '", name,
                                                     "'; its fields: ", FieldNames(d)));
    }
    if (step.index && !step.field->is_repeated()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", name, " is not a repeated field; drop the [index]"));
    }
    d = step.field->type() == FieldDescriptor::TYPE_MESSAGE ? step.field->message_type() : nullptr;
    if (step.field->is_repeated() && !step.index) d = nullptr;  // no step past a list
    steps.push_back(step);
  }
  const std::size_t n = steps.size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (steps[i].field->is_repeated() && !steps[i].index) {
      return absl::InvalidArgumentError(absl::StrCat("--field ", path, ": ", steps[i].field->name(),
                                                     " is repeated: pick one element, as ",
                                                     steps[i].field->name(), "[0]"));
    }
  }
  return steps;
}

// A field of a message, shown unless it is absent: unset message fields,
// oneof members and optional scalars, and empty repeated fields, are.
bool Shown(const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  if (f->is_repeated()) return r->FieldSize(m, f) > 0;
  if (f->has_presence()) return r->HasField(m, f);
  return true;
}

template <typename T>
std::string Shortest(T v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : absl::StrCat(v);
}

std::string Summary(std::size_t n, const char* what) { return absl::StrCat("<", n, " ", what, ">"); }

// Element `i` of repeated `f` (i < 0: singular `f`) of `m`, as text format.
std::string ScalarText(const Message& m, const FieldDescriptor* f, int i, bool full) {
  const Reflection* r = m.GetReflection();
  const bool rep = i >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r->GetRepeatedBool(m, f, i) : r->GetBool(m, f)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(rep ? r->GetRepeatedInt32(m, f, i) : r->GetInt32(m, f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(rep ? r->GetRepeatedUInt32(m, f, i) : r->GetUInt32(m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(rep ? r->GetRepeatedInt64(m, f, i) : r->GetInt64(m, f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(rep ? r->GetRepeatedUInt64(m, f, i) : r->GetUInt64(m, f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return Shortest(rep ? r->GetRepeatedFloat(m, f, i) : r->GetFloat(m, f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Shortest(rep ? r->GetRepeatedDouble(m, f, i) : r->GetDouble(m, f));
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = rep ? r->GetRepeatedEnumValue(m, f, i) : r->GetEnumValue(m, f);
      const auto* named = f->enum_type()->FindValueByNumber(v);
      return named != nullptr ? named->name() : absl::StrCat(v);
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(m, f, i, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      if (f->type() == FieldDescriptor::TYPE_STRING) {
        return absl::StrCat("\"", absl::Utf8SafeCEscape(s), "\"");
      }
      if (!full && s.size() > kSummaryAbove) return Summary(s.size(), "bytes");
      return absl::StrCat("\"", absl::CEscape(s), "\"");
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return "?";
}

void MessageText(const Message& m, int indent, bool full, std::string* out);

// Field `f` of `m` as text-format lines ("name: value", "name { ... }").
void FieldText(const Message& m, const FieldDescriptor* f, int indent, bool full,
               std::string* out) {
  const Reflection* r = m.GetReflection();
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  const bool msg = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (!f->is_repeated()) {
    if (!msg) {
      absl::StrAppend(out, pad, f->name(), ": ", ScalarText(m, f, -1, full), "\n");
      return;
    }
    absl::StrAppend(out, pad, f->name(), " {\n");
    MessageText(r->GetMessage(m, f), indent + 2, full, out);
    absl::StrAppend(out, pad, "}\n");
    return;
  }
  const int n = r->FieldSize(m, f);
  if (!full && n > kSummaryAbove) {
    absl::StrAppend(out, pad, f->name(), ": ", Summary(n, msg ? "messages" : "values"), "\n");
    return;
  }
  if (!msg) {
    std::vector<std::string> values;
    for (int i = 0; i < n; ++i) values.push_back(ScalarText(m, f, i, full));
    absl::StrAppend(out, pad, f->name(), ": [", absl::StrJoin(values, ", "), "]\n");
    return;
  }
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(out, pad, f->name(), " {\n");
    MessageText(r->GetRepeatedMessage(m, f, i), indent + 2, full, out);
    absl::StrAppend(out, pad, "}\n");
  }
}

void MessageText(const Message& m, int indent, bool full, std::string* out) {
  const Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    if (Shown(m, d->field(i))) FieldText(m, d->field(i), indent, full, out);
  }
}

Json MessageJson(const Message& m, bool full);

// Element `i` of repeated `f` (i < 0: singular `f`) of `m`, as proto3 JSON
// would give it, except that 64-bit integers stay numbers.
Json ScalarJson(const Message& m, const FieldDescriptor* f, int i, bool full) {
  const Reflection* r = m.GetReflection();
  const bool rep = i >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: return rep ? r->GetRepeatedBool(m, f, i) : r->GetBool(m, f);
    case FieldDescriptor::CPPTYPE_INT32: return rep ? r->GetRepeatedInt32(m, f, i) : r->GetInt32(m, f);
    case FieldDescriptor::CPPTYPE_UINT32: return rep ? r->GetRepeatedUInt32(m, f, i) : r->GetUInt32(m, f);
    case FieldDescriptor::CPPTYPE_INT64: return rep ? r->GetRepeatedInt64(m, f, i) : r->GetInt64(m, f);
    case FieldDescriptor::CPPTYPE_UINT64: return rep ? r->GetRepeatedUInt64(m, f, i) : r->GetUInt64(m, f);
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const double v = f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT
                           ? (rep ? r->GetRepeatedFloat(m, f, i) : r->GetFloat(m, f))
                           : (rep ? r->GetRepeatedDouble(m, f, i) : r->GetDouble(m, f));
      if (std::isnan(v)) return "NaN";
      if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        // The float's shortest decimal, not its widened double's digits.
        double shortest = v;
        (void)absl::SimpleAtod(Shortest(static_cast<float>(v)), &shortest);
        return shortest;
      }
      return v;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = rep ? r->GetRepeatedEnumValue(m, f, i) : r->GetEnumValue(m, f);
      const auto* named = f->enum_type()->FindValueByNumber(v);
      return named != nullptr ? Json(named->name()) : Json(v);
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(m, f, i, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      if (f->type() == FieldDescriptor::TYPE_STRING) return s;
      if (!full && s.size() > kSummaryAbove) return Summary(s.size(), "bytes");
      return absl::Base64Escape(s);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageJson(rep ? r->GetRepeatedMessage(m, f, i) : r->GetMessage(m, f), full);
  }
  return nullptr;
}

// The value of field `f` of `m`: a value, an array, or a summary string.
Json FieldJson(const Message& m, const FieldDescriptor* f, bool full) {
  if (!f->is_repeated()) return ScalarJson(m, f, -1, full);
  const int n = m.GetReflection()->FieldSize(m, f);
  const bool msg = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (!full && n > kSummaryAbove) return Summary(n, msg ? "messages" : "values");
  Json a = Json::array();
  for (int i = 0; i < n; ++i) a.push_back(ScalarJson(m, f, i, full));
  return a;
}

Json MessageJson(const Message& m, bool full) {
  Json j = Json::object();
  const Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (Shown(m, f)) j[f->name()] = FieldJson(m, f, full);
  }
  return j;
}

std::string JsonText(const Json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace) + "\n";
}

// What to print of one sample: all of it, or the field `path` names.
std::string Render(const Message& root, const std::vector<PathStep>& path, const EchoArgs& args) {
  if (path.empty()) {
    if (args.json) return JsonText(MessageJson(root, args.full));
    std::string out;
    MessageText(root, 0, args.full, &out);
    return out;
  }
  const Message* m = &root;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const PathStep& s = path[i];
    const Reflection* r = m->GetReflection();
    const bool last = i + 1 == path.size();
    if (s.index) {
      const int n = r->FieldSize(*m, s.field);
      if (*s.index >= n) {
        const std::string why = absl::StrCat(args.field, ": ", s.field->name(), " has ", n,
                                             n == 1 ? " element" : " elements");
        return args.json ? JsonText(Json{{"absent", why}}) : absl::StrCat("# ", why, "\n");
      }
      if (last) {
        if (args.json) return JsonText(ScalarJson(*m, s.field, *s.index, args.full));
        if (s.field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
          return ScalarText(*m, s.field, *s.index, args.full) + "\n";
        }
      }
      m = &r->GetRepeatedMessage(*m, s.field, *s.index);
    } else if (last) {
      if (args.json) return JsonText(FieldJson(*m, s.field, args.full));
      if (s.field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        if (!s.field->is_repeated()) return ScalarText(*m, s.field, -1, args.full) + "\n";
        std::string out;
        FieldText(*m, s.field, 0, args.full, &out);
        return out.substr(s.field->name().size() + 2);  // the value, without "name: "
      }
      if (s.field->is_repeated()) {
        std::string out;
        FieldText(*m, s.field, 0, args.full, &out);
        return out;
      }
      m = &r->GetMessage(*m, s.field);
    } else {
      m = &r->GetMessage(*m, s.field);
    }
  }
  std::string out;
  MessageText(*m, 0, args.full, &out);
  return out;
}

// False once stdout is gone (a closed pipe): the echo then stops.
bool Write(const std::string& text) {
  return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
         std::fflush(stdout) == 0;
}

std::string LostLine(std::uint64_t n, bool json) {
  if (json) return JsonText(Json{{"lost", n}});
  return absl::StrCat("# lost ", n, n == 1 ? " sample\n" : " samples\n");
}

int RunEcho(const Globals& globals, const EchoArgs& args) {
  StopOnSignals();
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is a failed write, then a clean stop
  const transport::ShmOptions& options = globals.options;
  absl::StatusOr<LiveTopic> topic = LookupTopic(options, args.topic);
  if (!topic.ok()) return Fail(topic.status());
  if (!topic->known) {
    return Fail(absl::NotFoundError(absl::StrCat(
        "no topic ", args.topic, " in ", DomainName(options),
        ": no live publisher or subscriber names it (`ringcast topic list` shows the topics)")));
  }
  absl::StatusOr<LiveType> type = TypeOfTopic(*topic);
  if (!type.ok()) return Fail(type.status());
  std::vector<PathStep> path;
  if (!args.field.empty()) {
    absl::StatusOr<std::vector<PathStep>> p = ResolvePath(type->dynamic->descriptor(), args.field);
    if (!p.ok()) return Fail(p.status());
    path = *std::move(p);
  }
  absl::StatusOr<Context> ctx = LiveContext(options);
  if (!ctx.ok()) return Fail(ctx.status());
  absl::StatusOr<Node> node = Node::Create(*ctx, "ringcast_echo");
  if (!node.ok()) return Fail(node.status());
  absl::StatusOr<RawSubscriber> sub =
      node->CreateRawSubscriber(args.topic, type->support(), Qos().set_best_effort());
  if (!sub.ok()) return Fail(sub.status());

  const int limit = args.once ? 1 : args.count;
  int printed = 0;
  std::uint64_t reported_lost = 0;
  transport::Sample sample;
  bool ok = true;
  while (ok && !StopRequested() && (limit == 0 || printed < limit)) {
    absl::StatusOr<bool> got = sub->Take(&sample);
    if (!got.ok()) return Fail(got.status());
    if (!*got) {
      (void)sub->Wait(kWaitSlice);  // DeadlineExceeded, or early at a signal
      continue;
    }
    const transport::SampleInfo info = sample.info();
    if (info.lost_before > 0) {
      reported_lost += info.lost_before;
      ok = Write(LostLine(info.lost_before, args.json));
    }
    absl::StatusOr<std::unique_ptr<Message>> msg = type->dynamic->Read(sample.data());
    sample = transport::Sample();  // returns a pooled sample's chunk now
    if (!msg.ok()) {
      // Counted on our entry (topic info, doctor); the echo goes on.
      std::fprintf(stderr, "ringcast: %s\n",
                   std::string(sub->Invalid(info, msg.status()).message()).c_str());
      continue;
    }
    std::string text = Render(**msg, path, args);
    if (!args.json && printed > 0) text.insert(0, "---\n");
    ok = ok && Write(text);
    ++printed;
  }
  // Samples lost after the last one delivered have no sample to ride on.
  if (ok && sub->lost() > reported_lost) Write(LostLine(sub->lost() - reported_lost, args.json));
  sub->Close();
  return 0;
}

}  // namespace

void AddEchoVerb(const Verbs& verbs) {
  auto args = std::make_shared<EchoArgs>();
  CLI::App* sub = verbs.topic->add_subcommand(
      "echo", "print every sample of a topic, decoded through its stored type (text format, or "
              "--json: one object per line)");
  sub->add_option("topic", args->topic, "the topic, e.g. /chatter")->required();
  CLI::Option* once = sub->add_flag("--once", args->once, "print one sample, then exit");
  CLI::Option* count =
      sub->add_option("--count", args->count, "print N samples, then exit")
          ->check(CLI::PositiveNumber);
  once->excludes(count);
  sub->add_option("--field", args->field,
                  "print only this field, e.g. header.stamp or fields[0].name");
  sub->add_flag("--full", args->full,
                absl::StrCat("print bytes and repeated fields in full (else those longer than ",
                             kSummaryAbove, " print as a count)"));
  sub->add_flag("--json", args->json, "one JSON object per sample, per line");
  std::function<int()>* run = verbs.run;
  const Globals* globals = verbs.globals;
  sub->callback([args, run, globals] {
    *run = [args, globals] { return RunEcho(*globals, *args); };
  });
}

}  // namespace ringcast::cli
