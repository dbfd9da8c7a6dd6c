// core/config.cc: parsing and checking the YAML configuration file (ringcast/config.h), and
// matching its topic rules. yaml-cpp builds the tree; everything else (which keys exist, what
// their values may be, duplicates) is checked here, because yaml-cpp accepts unknown keys,
// keeps duplicate keys and converts "1.5" or "0x10" to integers on request.
#include "ringcast/config.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "ringcast/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "discovery/registry.h"
#include "transport/names.h"
#include "transport/shm_options.h"
#include "transport/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace ringcast {
namespace {

using ::ringcast::internal::ToAbsl;

// A configuration is a few KiB; anything this big is the wrong file (or /dev/zero), and
// reading on would only waste memory.
constexpr std::size_t kMaxConfigBytes = 4 << 20;

// The valid keys of each map, in the order the documentation lists them.
const std::vector<absl::string_view> kTopKeys = {"domain", "shm", "registry", "topics"};
const std::vector<absl::string_view> kShmKeys = {"dir", "prefix", "group"};
const std::vector<absl::string_view> kRegistryKeys = {"max_nodes", "max_endpoints", "max_types",
                                                     "max_descriptor_size"};
const std::vector<absl::string_view> kQosKeys = {
    "depth",           "reliability",    "reliable_timeout", "durability",     "max_message_size",
    "max_held_samples", "inline_capacity", "max_publishers",   "max_subscribers",
    "pool_initial_chunks", "pool_release_after"};

// A whole-number field of a section: its key, the largest value its C++ type holds, and the
// valid range as the validators word it (used when a value never reaches them).
struct UintField {
  absl::string_view key;
  std::uint64_t type_max;
  absl::string_view valid;
};
constexpr std::uint64_t kU32Max = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

// Group names are checked for shape only (they are resolved when segments are made): the
// POSIX portable filename characters, at most 32 (the limit of the Linux group tools).
constexpr absl::string_view kGroupValid =
    "a group name (1..32 of [A-Za-z0-9._-], not starting with '-') or a gid in 0..4294967294";

// One key of a map with its value and its key path ("topics./camera/image.depth").
struct Entry {
  YAML::Node key;
  YAML::Node value;
  std::string path;
};

// "<text>" with quotes and control characters escaped, and long text cut, so that an error
// message stays one readable line whatever the file holds.
std::string Quote(absl::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  if (text.size() > kMaxShown) {
    return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxShown)), "\"...");
  }
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

// What a node is, for "expected X, got <kind>".
absl::string_view KindOf(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a sequence";
  if (node.IsScalar()) return "text";
  return "no value";
}

// "a whole number in 1..64" for a plain range; a range worded as a phrase stands as is.
std::string ExpectedNumber(absl::string_view valid) {
  if (!valid.empty() && absl::ascii_isdigit(static_cast<unsigned char>(valid[0]))) {
    return absl::StrCat("a whole number in ", valid);
  }
  return std::string(valid);
}

// How a YAML scalar reads as a whole number.
enum class WholeKind { kOk, kNotWhole, kTooBig };
struct Whole {
  WholeKind kind;
  std::uint64_t value;
};

// Strict decimal: digits only, no sign, fraction, exponent, '_', hex or leading zero. Leading
// zeros are refused because YAML 1.1 reads 010 as octal 8: whichever we chose, someone would
// get a number they did not mean.
Whole ParseWhole(absl::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return {WholeKind::kNotWhole, 0};
  std::uint64_t value = 0;
  bool too_big = false;
  for (const char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return {WholeKind::kNotWhole, 0};
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kU64Max - digit) / 10) too_big = true;
    if (!too_big) value = value * 10 + digit;
  }
  return {too_big ? WholeKind::kTooBig : WholeKind::kOk, value};
}

// `message` from a Validate* function ("qos depth = 12: valid ...") with its field label
// (`label`, "qos depth") replaced by the key path. A message in another form is kept whole,
// after the path and the value as written.
std::string Relabel(absl::string_view message, absl::string_view label, const Entry& e) {
  if (absl::StartsWith(message, label)) {
    return absl::StrCat(e.path, message.substr(label.size()));
  }
  return absl::StrCat(e.path, " = ", e.value.Scalar(), ": ", message);
}

// Walks one YAML tree into a Config; the first mistake found is the error.
class Parser {
 public:
  explicit Parser(absl::string_view file) : file_(file.empty() ? "(config)" : file) {}

  absl::Status Parse(const YAML::Node& root, Config& config) const;

  // "<file>:<line>:<column>: <path><rest>" (without the path and its ": " at the top level).
  absl::Status Error(const YAML::Mark& mark, absl::string_view path, absl::string_view rest) const {
    std::string where = mark.is_null()
                            ? absl::StrCat(file_, ": ")
                            : absl::StrCat(file_, ":", mark.line + 1, ":", mark.column + 1, ": ");
    if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(where, rest));
    return absl::InvalidArgumentError(absl::StrCat(where, path, rest));
  }

 private:
  // Where to point for an entry's value. An empty value has no position of its own (yaml-cpp
  // marks the next token, often on the next line), so it points at its key.
  static YAML::Mark MarkOf(const Entry& e) {
    return e.value.IsNull() ? e.key.Mark() : e.value.Mark();
  }
  // The value is not what `expected` describes: "<path> = "text": expected ..." for a scalar,
  // "<path>: expected ..., got a map" otherwise.
  absl::Status WrongType(const Entry& e, absl::string_view expected) const {
    if (e.value.IsScalar()) {
      return Error(MarkOf(e), e.path,
                   absl::StrCat(" = ", Quote(e.value.Scalar()), ": expected ", expected));
    }
    return Error(MarkOf(e), e.path,
                 absl::StrCat(": expected ", expected, ", got ", KindOf(e.value)));
  }
  // The value has the right type but is not allowed: "<path> = <value>: valid <valid>".
  absl::Status Invalid(const Entry& e, absl::string_view shown, absl::string_view valid) const {
    return Error(MarkOf(e), e.path, absl::StrCat(" = ", shown, ": valid ", valid));
  }

  absl::StatusOr<std::vector<Entry>> MapEntries(const YAML::Node& map, const Entry* at,
                                                const std::vector<absl::string_view>* keys,
                                                absl::string_view expected) const;
  absl::StatusOr<std::uint64_t> Uint(const Entry& e, std::uint64_t type_max,
                                     absl::string_view valid) const;
  absl::StatusOr<std::string> Text(const Entry& e, absl::string_view expected) const;
  absl::Status ParseShm(const Entry& section, Config& config) const;
  absl::Status ParseRegistry(const Entry& section, Config& config) const;
  absl::Status ParseTopics(const Entry& section, Config& config) const;
  absl::Status ParseQos(const Entry& topic, Qos& qos) const;

  std::string file_;
};

// The entries of a map node, keys checked: each is text, none repeats, and (given `keys`)
// each is one of `keys`. An empty value (`shm:` with nothing under it) is an empty map. `at` is
// the entry holding the map (nullptr for the top level), `expected` words what it should be.
absl::StatusOr<std::vector<Entry>> Parser::MapEntries(const YAML::Node& map, const Entry* at,
                                                      const std::vector<absl::string_view>* keys,
                                                      absl::string_view expected) const {
  std::vector<Entry> entries;
  if (map.IsNull()) return entries;
  if (!map.IsMap()) {
    if (at != nullptr) return WrongType(*at, expected);
    return Error(map.Mark(), "",
                 absl::StrCat("expected ", expected, ", got ", KindOf(map),
                              map.IsScalar() ? absl::StrCat(" ", Quote(map.Scalar())) : ""));
  }
  const std::string parent = at != nullptr ? at->path : "";
  // Where each key was first seen, to name both places of a duplicate.
  std::unordered_map<std::string, YAML::Mark> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      return Error(key.Mark(), parent,
                   absl::StrCat(parent.empty() ? "" : ": ", "a key must be text, got ",
                                KindOf(key)));
    }
    const std::string& name = key.Scalar();
    std::string path =
        parent.empty() ? absl::CHexEscape(name) : absl::StrCat(parent, ".", absl::CHexEscape(name));
    // yaml-cpp keeps every duplicate and a lookup finds the first: without this check the
    // second of two `depth:` lines would be ignored.
    if (const auto [first, inserted] = seen.emplace(name, key.Mark()); !inserted) {
      return Error(key.Mark(), path,
                   absl::StrCat(": duplicate key (first at line ", first->second.line + 1,
                                ", column ", first->second.column + 1, ")"));
    }
    if (keys != nullptr) {
      bool known = false;
      for (const absl::string_view k : *keys) known = known || k == name;
      if (!known) {
        return Error(key.Mark(), path,
                     absl::StrCat(": unknown key; valid keys: ", absl::StrJoin(*keys, ", ")));
      }
    }
    entries.push_back(Entry{key, it->second, std::move(path)});
  }
  return entries;
}

// The entry's value as a whole number no bigger than `type_max`; `valid` words the range for
// the errors (the range itself is the validators' to check).
absl::StatusOr<std::uint64_t> Parser::Uint(const Entry& e, std::uint64_t type_max,
                                           absl::string_view valid) const {
  if (!e.value.IsScalar()) return WrongType(e, ExpectedNumber(valid));
  const std::string& text = e.value.Scalar();
  const Whole whole = ParseWhole(text);
  if (whole.kind == WholeKind::kNotWhole) {
    if (text.size() > 1 && text[0] == '0' &&
        text.find_first_not_of("0123456789") == std::string::npos) {
      return WrongType(e, absl::StrCat(ExpectedNumber(valid),
                                       " without leading zeros (YAML reads 010 as octal)"));
    }
    return WrongType(e, ExpectedNumber(valid));
  }
  if (whole.kind == WholeKind::kTooBig || whole.value > type_max) {
    // Digits only, so shown as a number; a page of them is cut like any other text.
    return Invalid(e, text.size() <= 64 ? text : Quote(text), valid);
  }
  return whole.value;
}

// The entry's value as text (any scalar, quoted or not).
absl::StatusOr<std::string> Parser::Text(const Entry& e, absl::string_view expected) const {
  if (!e.value.IsScalar()) return WrongType(e, expected);
  return e.value.Scalar();
}

absl::Status Parser::Parse(const YAML::Node& root, Config& config) const {
  const std::string expected =
      absl::StrCat("a map with keys ", absl::StrJoin(kTopKeys, ", "));
  RINGCAST_ASSIGN_OR_RETURN(const std::vector<Entry> entries,
                            MapEntries(root, nullptr, &kTopKeys, expected));
  for (const Entry& e : entries) {
    const std::string& key = e.key.Scalar();
    if (key == "domain") {
      if (!e.value.IsScalar()) return WrongType(e, "a domain number in 0..65535");
      absl::StatusOr<std::uint32_t> domain = ParseDomain(e.value.Scalar(), "domain");
      if (!domain.ok()) return Error(MarkOf(e), "", domain.status().message());
      config.domain = *domain;
    } else if (key == "shm") {
      RINGCAST_RETURN_IF_ERROR(ParseShm(e, config));
    } else if (key == "registry") {
      RINGCAST_RETURN_IF_ERROR(ParseRegistry(e, config));
    } else if (key == "topics") {
      RINGCAST_RETURN_IF_ERROR(ParseTopics(e, config));
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseShm(const Entry& section, Config& config) const {
  RINGCAST_ASSIGN_OR_RETURN(
      const std::vector<Entry> entries,
      MapEntries(section.value, &section, &kShmKeys,
                 absl::StrCat("a map with keys ", absl::StrJoin(kShmKeys, ", "))));
  for (const Entry& e : entries) {
    const std::string& key = e.key.Scalar();
    if (key == "dir") {
      RINGCAST_ASSIGN_OR_RETURN(std::string dir, Text(e, "an absolute path"));
      // The transport's own check, so the file accepts exactly what the library does. A NUL
      // would cut the path short when it reaches the kernel.
      transport::ShmOptions options;
      options.dir = dir;
      if (!transport::ValidateShmOptions(options).ok() || absl::StrContains(dir, '\0')) {
        return Invalid(e, Quote(dir), "an absolute path");
      }
      config.shm_dir = std::move(dir);
    } else if (key == "prefix") {
      RINGCAST_ASSIGN_OR_RETURN(std::string prefix, Text(e, "1..64 of [A-Za-z0-9_-]"));
      transport::ShmOptions options;
      options.prefix = prefix;
      if (!transport::ValidateShmOptions(options).ok()) {
        return Invalid(e, Quote(prefix), "1..64 of [A-Za-z0-9_-]");
      }
      config.shm_prefix = std::move(prefix);
    } else if (key == "group") {
      RINGCAST_ASSIGN_OR_RETURN(std::string group, Text(e, kGroupValid));
      // All digits is a gid (gid_t; -1 means "no group" to chown, so it is not one); anything
      // else is a name, resolved when segments are made.
      bool ok;
      if (!group.empty() && group.find_first_not_of("0123456789") == std::string::npos) {
        const Whole gid = ParseWhole(group);
        ok = gid.kind == WholeKind::kOk && gid.value < kU32Max;
      } else {
        ok = !group.empty() && group.size() <= 32 && group[0] != '-';
        for (const char c : group) {
          ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                      c == '_' || c == '-');
        }
      }
      if (!ok) return Invalid(e, Quote(group), kGroupValid);
      config.group = std::move(group);
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseRegistry(const Entry& section, Config& config) const {
  static const UintField kFields[] = {{"max_nodes", kU32Max, "1..65536"},
                                      {"max_endpoints", kU32Max, "1..1048576"},
                                      {"max_types", kU32Max, "1..65536"},
                                      {"max_descriptor_size", kU32Max, "0..1048576"}};
  RINGCAST_ASSIGN_OR_RETURN(
      const std::vector<Entry> entries,
      MapEntries(section.value, &section, &kRegistryKeys,
                 absl::StrCat("a map with keys ", absl::StrJoin(kRegistryKeys, ", "))));
  for (const Entry& e : entries) {
    const std::string& key = e.key.Scalar();
    for (const UintField& f : kFields) {
      if (f.key != key) continue;
      RINGCAST_ASSIGN_OR_RETURN(const std::uint64_t value, Uint(e, f.type_max, f.valid));
      const auto v = static_cast<std::uint32_t>(value);
      // The other fields keep their (valid) defaults, so the validator can only name this one.
      discovery::RegistryConfig registry;
      std::optional<std::uint32_t>* field = nullptr;
      if (key == "max_nodes") {
        registry.max_nodes = v;
        field = &config.max_nodes;
      } else if (key == "max_endpoints") {
        registry.max_endpoints = v;
        field = &config.max_endpoints;
      } else if (key == "max_types") {
        registry.max_types = v;
        field = &config.max_types;
      } else {
        registry.max_descriptor_size = v;
        field = &config.max_descriptor_size;
      }
      if (absl::Status s = discovery::ValidateRegistryConfig(registry); !s.ok()) {
        return Error(MarkOf(e), "",
                     Relabel(s.message(), absl::StrCat("registry config ", key), e));
      }
      *field = v;
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseTopics(const Entry& section, Config& config) const {
  RINGCAST_ASSIGN_OR_RETURN(
      const std::vector<Entry> entries,
      MapEntries(section.value, &section, nullptr,
                 "a map from topic names or patterns to their QoS"));
  for (const Entry& e : entries) {
    const std::string& pattern = e.key.Scalar();
    // A pattern is a topic name with '*' standing in for characters: with each '*' made a
    // letter, offsets in the transport's message still point into the pattern as written.
    const std::string as_name = absl::StrReplaceAll(pattern, {{"*", "a"}});
    if (absl::Status s = transport::ValidateTopicName(as_name); !s.ok()) {
      absl::string_view why = s.message();
      if (!absl::ConsumePrefix(&why, absl::StrCat("invalid topic name '", as_name, "': "))) {
        why = s.message();
      }
      return Error(e.key.Mark(), e.path,
                   absl::StrCat(": not a valid topic name or pattern: ", why));
    }
    QosRule rule{pattern, Qos{}};
    RINGCAST_RETURN_IF_ERROR(ParseQos(e, rule.qos));
    config.topics.push_back(std::move(rule));
  }
  return absl::OkStatus();
}

absl::Status Parser::ParseQos(const Entry& topic, Qos& qos) const {
  // The numeric QoS fields; their ranges are ValidateQos's, worded here for the errors about
  // values that never reach it.
  static const UintField kFields[] = {{"depth", kU32Max, "a power of two in 1..65536"},
                                      {"max_message_size", kU64Max, "0..1099511627776 (1 TiB)"},
                                      {"max_held_samples", kU32Max, "1..64"},
                                      {"inline_capacity", kU32Max, "0..65520"},
                                      {"max_publishers", kU32Max, "1..64"},
                                      {"max_subscribers", kU32Max, "1..512"},
                                      {"pool_initial_chunks", kU32Max, "1..1048576"}};
  RINGCAST_ASSIGN_OR_RETURN(
      const std::vector<Entry> entries,
      MapEntries(topic.value, &topic, &kQosKeys,
                 absl::StrCat("a map with keys ", absl::StrJoin(kQosKeys, ", "))));
  for (const Entry& e : entries) {
    const std::string& key = e.key.Scalar();
    // Each field is checked alone, in a Qos holding only it, so ValidateQos names this one.
    Qos one;
    if (key == "reliability") {
      constexpr absl::string_view kValid = "best_effort or reliable";
      RINGCAST_ASSIGN_OR_RETURN(const std::string word, Text(e, kValid));
      if (word == "best_effort") {
        one.set_best_effort();
      } else if (word == "reliable") {
        one.reliability = ReliabilityPolicy::kReliable;  // the timeout is a field of its own
      } else {
        return Invalid(e, Quote(word), kValid);
      }
    } else if (key == "durability") {
      constexpr absl::string_view kValid = "volatile or transient_local";
      RINGCAST_ASSIGN_OR_RETURN(const std::string word, Text(e, kValid));
      if (word == "volatile") {
        one.set_volatile();
      } else if (word == "transient_local") {
        one.set_transient_local();
      } else {
        return Invalid(e, Quote(word), kValid);
      }
    } else if (key == "reliable_timeout" || key == "pool_release_after") {
      constexpr absl::string_view kExpected = "a duration such as 100ms, 2s or 1.5s, at most 1h";
      RINGCAST_ASSIGN_OR_RETURN(const std::string text, Text(e, kExpected));
      absl::Duration duration;
      if (!absl::ParseDuration(text, &duration)) return WrongType(e, kExpected);
      if (key == "reliable_timeout") one.reliable_timeout = duration;
      if (key == "pool_release_after") one.pool_release_after = duration;
    } else {
      for (const UintField& f : kFields) {
        if (f.key != key) continue;
        RINGCAST_ASSIGN_OR_RETURN(const std::uint64_t value, Uint(e, f.type_max, f.valid));
        const auto v32 = static_cast<std::uint32_t>(value);
        if (key == "depth") one.depth = v32;
        if (key == "max_message_size") one.max_message_size = value;
        if (key == "max_held_samples") one.max_held_samples = v32;
        if (key == "inline_capacity") one.inline_capacity = v32;
        if (key == "max_publishers") one.max_publishers = v32;
        if (key == "max_subscribers") one.max_subscribers = v32;
        if (key == "pool_initial_chunks") one.pool_initial_chunks = v32;
      }
    }
    if (absl::Status s = ValidateQos(one); !s.ok()) {
      return Error(MarkOf(e), "", Relabel(s.message(), absl::StrCat("qos ", key), e));
    }
    qos.Overlay(one);
  }
  return absl::OkStatus();
}

// The glob match, by dynamic programming: matched[j] says whether the pattern read so far
// matches the first j characters of the topic. O(pattern * topic) time whatever the stars,
// where backtracking would go exponential on a pattern like "/*a*a*a*b".
bool Glob(std::string_view pattern, std::string_view topic) {
  std::vector<char> matched(topic.size() + 1, 0);
  matched[0] = 1;
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '*') {
      const bool any = i + 1 < pattern.size() && pattern[i + 1] == '*';
      i += any ? 2 : 1;
      // A star extends any match by characters it may cover: all for "**", all but '/' for '*'.
      for (std::size_t j = 1; j <= topic.size(); ++j) {
        if (!matched[j] && matched[j - 1] && (any || topic[j - 1] != '/')) matched[j] = 1;
      }
    } else {
      const char c = pattern[i++];
      for (std::size_t j = topic.size(); j > 0; --j) {
        matched[j] = matched[j - 1] && topic[j - 1] == c;
      }
      matched[0] = 0;
    }
  }
  return matched[topic.size()] != 0;
}

}  // namespace

bool TopicMatches(std::string_view pattern, std::string_view topic) {
  if (pattern.find('*') == std::string_view::npos) return pattern == topic;
  return Glob(pattern, topic);
}

Qos Config::QosFor(std::string_view topic) const {
  Qos qos;
  const QosRule* exact = nullptr;
  for (const QosRule& rule : topics) {
    if (rule.pattern.find('*') == std::string::npos) {
      if (rule.pattern == topic) exact = &rule;
    } else if (Glob(rule.pattern, topic)) {
      qos.Overlay(rule.qos);
    }
  }
  if (exact != nullptr) qos.Overlay(exact->qos);
  return qos;
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file) {
  Parser parser(ToAbsl(file));
  Config config;
  config.source = std::string(file);
  // yaml-cpp reports syntax errors, and misuse, by throwing; nothing may leave the library.
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    // An empty file (or only comments) has no document at all.
    if (documents.empty()) return config;
    if (documents.size() > 1) {
      return parser.Error(documents[1].Mark(), "",
                          "a second YAML document (after '---'); a configuration file holds one");
    }
    RINGCAST_RETURN_IF_ERROR(parser.Parse(documents[0], config));
  } catch (const YAML::Exception& e) {
    return parser.Error(e.mark, "", absl::StrCat("YAML syntax error: ", e.msg));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(ToAbsl(file), ": reading YAML failed: ", e.what()));
  }
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  const std::string what = absl::StrCat("configuration file '", path, "'");
  // O_NONBLOCK: opening a FIFO never waits for a writer. A regular file
  // reads as always; a pipe (RINGCAST_CONFIG=<(...)) is read to its end,
  // each wait for data bounded, so a FIFO nobody writes is an error, not
  // a hang.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", what));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not a regular file or a pipe; valid a YAML file"));
  }
  constexpr absl::Duration kPipeTimeout = absl::Seconds(2);
  const absl::Time deadline = absl::Now() + kPipeTimeout;
  std::string text;
  char buffer[16384];
  absl::Status status;
  for (;;) {
    if (S_ISFIFO(st.st_mode)) {
      pollfd p{fd, POLLIN, 0};
      const absl::Duration left = deadline - absl::Now();
      const int ready = left <= absl::ZeroDuration()
                            ? 0
                            : ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        status = absl::DeadlineExceededError(absl::StrCat(
            what, " is a pipe nobody finished writing within ",
            absl::FormatDuration(kPipeTimeout), "; valid a YAML file, or a pipe that is written"));
        break;
      }
    }
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      status = absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", what));
      break;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      status = absl::InvalidArgumentError(absl::StrCat(
          what, " is larger than ", kMaxConfigBytes >> 20, " MiB; valid a YAML file of a few KiB"));
      break;
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return ParseConfig(text, path);
}

absl::StatusOr<std::uint32_t> ParseDomain(std::string_view std_text, std::string_view from) {
  const absl::string_view text = ToAbsl(std_text);
  const Whole whole = ParseWhole(text);
  if (whole.kind != WholeKind::kOk || whole.value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(from), "='", absl::CHexEscape(text),
                                                   "' is not a domain number; valid 0..65535"));
  }
  return static_cast<std::uint32_t>(whole.value);
}

}  // namespace ringcast
