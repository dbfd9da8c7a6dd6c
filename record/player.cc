// record/player.cc: MCAP messages back to flat samples, on time.
#include "record/player.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "record/convert.h"
#include "record/recorder.h"
#include "transport/status_macros.h"
#include "ringcast/node.h"
#include "ringcast/raw.h"

namespace ringcast::record {
namespace {

// The longest a player sleeps before looking at `stop` again.
constexpr absl::Duration kSleepSlice = absl::Milliseconds(50);
constexpr absl::Duration kProgressEvery = absl::Milliseconds(100);

// The publisher's QoS as `ringcast record` wrote it into the channel.
Qos QosOf(const Channel& c) {
  Qos q;
  auto get = [&](const std::string& key) -> std::optional<std::string> {
    auto it = c.metadata.find(key);
    if (it == c.metadata.end()) return std::nullopt;
    return it->second;
  };
  std::uint32_t depth = 0;
  if (auto v = get("ringcast.depth"); v && absl::SimpleAtoi(*v, &depth) && depth != 0) q.depth = depth;
  std::uint64_t max_size = 0;
  if (auto v = get("ringcast.max_message_size"); v && absl::SimpleAtoi(*v, &max_size)) {
    q.max_message_size = max_size;
  }
  if (auto v = get("ringcast.durability"); v && *v == "transient_local") {
    q.durability = DurabilityPolicy::kTransientLocal;
  }
  // Reliability is left to the domain's rules: playing back must not block
  // on a subscriber that is not there.
  return q;
}

}  // namespace

struct Player::Impl {
  struct Topic {
    std::unique_ptr<WireConverter> converter;
    std::optional<RawPublisher> publisher;
  };
  PlayOptions options;
  std::unique_ptr<McapReader> reader;
  std::optional<Node> node;
  std::map<std::uint16_t, Topic> channels;  // the ones played
  std::vector<std::string> topics;          // their names

  absl::Status Publish(Topic& t, const Message& m, PlayStats& stats) {
    RINGCAST_RETURN_IF_ERROR(t.converter->ParseWire(m.data));
    absl::StatusOr<std::size_t> size = t.converter->FlatSize();
    if (!size.ok()) return size.status();
    absl::StatusOr<RawLoan> loan = t.publisher->Loan(*size);
    if (!loan.ok()) return loan.status();
    absl::StatusOr<std::size_t> used = t.converter->WriteFlat(loan->data());
    if (!used.ok()) return used.status();
    RINGCAST_RETURN_IF_ERROR(t.publisher->Publish(*std::move(loan), *used));
    ++stats.published;
    stats.bytes += *used;
    return absl::OkStatus();
  }
};

Player::Player(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Player::~Player() = default;

const Summary& Player::summary() const { return impl_->reader->summary(); }

absl::StatusOr<std::unique_ptr<Player>> Player::Create(const Context& context,
                                                       const PlayOptions& options) {
  if (!(options.rate > 0) || options.rate > 1e6) {
    return absl::InvalidArgumentError(
        absl::StrCat("play: rate ", options.rate, " is not valid; use a number > 0 (1 is real time)"));
  }
  if (options.start < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("play: --start must not be negative");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  absl::StatusOr<std::unique_ptr<McapReader>> reader = McapReader::Open(options.path);
  if (!reader.ok()) return reader.status();
  impl->reader = *std::move(reader);
  const Summary& summary = impl->reader->summary();

  std::vector<std::string> all;
  for (const auto& [id, c] : summary.channels) all.push_back(c.topic);
  for (const std::string& p : options.topics) {
    if (std::none_of(all.begin(), all.end(), [&](const std::string& t) {
          return TopicMatches({p}, t);
        })) {
      return absl::InvalidArgumentError(absl::StrCat(options.path, " has no topic matching ", p,
                                                     "; its topics: ", absl::StrJoin(all, ", ")));
    }
  }
  absl::StatusOr<Node> node = Node::Create(context, options.node_name);
  if (!node.ok()) return node.status();
  impl->node.emplace(*std::move(node));
  for (const auto& [id, c] : summary.channels) {
    if (!TopicMatches(options.topics, c.topic)) continue;
    auto schema = summary.schemas.find(c.schema_id);
    if (schema == summary.schemas.end() || schema->second.encoding != "protobuf" ||
        c.message_encoding != "protobuf") {
      return absl::FailedPreconditionError(absl::StrCat(
          options.path, ": channel ", c.topic, " is not protobuf (message encoding '",
          c.message_encoding, "'", schema == summary.schemas.end()
                                       ? ", no schema"
                                       : absl::StrCat(", schema encoding '", schema->second.encoding, "'"),
          "); play only republishes protobuf channels: pick others with --topics"));
    }
    Impl::Topic t;
    absl::StatusOr<std::unique_ptr<WireConverter>> conv =
        WireConverter::Create(schema->second.data, schema->second.name);
    if (!conv.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(options.path, ": channel ", c.topic, ": ", conv.status().message()));
    }
    t.converter = *std::move(conv);
    absl::StatusOr<RawPublisher> pub =
        impl->node->CreateRawPublisher(c.topic, t.converter->support(), QosOf(c));
    if (!pub.ok()) return pub.status();
    t.publisher.emplace(*std::move(pub));
    impl->topics.push_back(c.topic);
    impl->channels.emplace(id, std::move(t));
  }
  return std::unique_ptr<Player>(new Player(std::move(impl)));
}

absl::Status Player::Run(const std::function<bool()>& stop,
                         const std::function<void(const PlayStats&)>& progress) {
  Impl& m = *impl_;
  const Summary& summary = m.reader->summary();
  PlayStats stats;
  const std::uint64_t first = summary.statistics.message_start_time;
  stats.duration = absl::Nanoseconds(summary.statistics.message_end_time - first);
  ReadOptions ro;
  ro.start = first + static_cast<std::uint64_t>(absl::ToInt64Nanoseconds(m.options.start));
  ro.topics = m.topics;
  absl::Time last_progress = absl::InfinitePast();
  bool stopped = false;
  do {
    const absl::Time wall_start = absl::Now();
    absl::Status read = m.reader->ReadMessages(ro, [&](const Channel& c, const Message& msg) {
      auto it = m.channels.find(c.id);
      if (it == m.channels.end()) return true;
      const absl::Duration at = absl::Nanoseconds(msg.log_time - ro.start) / m.options.rate;
      for (;;) {
        if (stop()) {
          stopped = true;
          return false;
        }
        const absl::Duration wait = wall_start + at - absl::Now();
        if (wait <= absl::ZeroDuration()) break;
        absl::SleepFor(std::min(wait, kSleepSlice));
      }
      if (absl::Status s = m.Publish(it->second, msg, stats); !s.ok()) {
        ++stats.failed;
        stats.last_error = absl::StrCat(c.topic, ": ", s.message());
      }
      stats.position = absl::Nanoseconds(msg.log_time - first);
      if (absl::Now() - last_progress >= kProgressEvery) {
        last_progress = absl::Now();
        progress(stats);
      }
      return true;
    });
    if (!read.ok()) return read;
    if (!stopped) ++stats.loops;
  } while (m.options.loop && !stopped && stats.published > 0);
  progress(stats);
  return absl::OkStatus();
}

}  // namespace ringcast::record
