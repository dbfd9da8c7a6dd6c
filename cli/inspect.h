// cli/inspect.h: what the `ringcast` command reads out of a domain, as
// plain structs the verbs print as text or JSON. Who is there comes from
// the discovery registry; how a topic is doing (ring depth, slot size,
// memory, per-subscriber lag and losses) from its topic segment, read
// through a read-only mapping that takes no lock.
//
// A listing first reclaims what dead processes left (docs/architecture.md: whoever
// notices first), so `ringcast topic list` after a kill -9 shows the dead
// gone and leaves nothing of theirs in /dev/shm.
#ifndef RINGCAST_CLI_INSPECT_H_
#define RINGCAST_CLI_INSPECT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/orphans.h"
#include "discovery/registry.h"
#include "transport/shm_options.h"

namespace ringcast::cli {

struct NodeRow {
  std::string name;
  std::uint64_t id = 0;
  std::uint32_t pid = 0;
  std::string exe;
  std::uint64_t start_time = 0;
  int publishers = 0;
  int subscribers = 0;
};

struct TopicRow {
  std::string topic;
  std::string type_name;
  std::uint64_t type_hash = 0;
  int publishers = 0;
  int subscribers = 0;
};

struct EndpointRow {
  bool publisher = true;
  std::uint64_t id = 0;  // registry id
  std::string node;
  std::uint32_t pid = 0;
  std::string exe;
  discovery::QosSummary qos;
  std::uint32_t transport_index = discovery::internal::kNoTransport;  // ring or entry
  bool in_segment = false;  // its ring / subscriber entry was found
  // Publishers: from their ring.
  std::uint64_t samples = 0;
  std::uint64_t bytes = 0;
  std::int64_t last_publish_ns = 0;
  // Subscribers: from their entry.
  std::uint64_t received = 0;
  std::uint64_t lost = 0;
  std::uint64_t lag = 0;  // published on live rings but not yet read
};

struct TopicDetail {
  std::string topic;
  std::string type_name;
  std::uint64_t type_hash = 0;
  std::uint64_t descriptor_bytes = 0;  // stored FileDescriptorSet, 0 = none
  bool segment_found = false;
  std::string segment;
  std::uint32_t depth = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t inline_capacity = 0;
  std::uint64_t max_message_size = 0;
  std::uint32_t max_publishers = 0;
  std::uint32_t max_subscribers = 0;
  std::uint64_t shm_bytes = 0;  // topic segment plus its publishers' pools
  std::vector<EndpointRow> endpoints;  // publishers first
};

// A domain's registry, opened for one listing or kept for --watch. Without
// a registry (nobody has joined the domain yet), listings are empty.
class Domain {
 public:
  explicit Domain(transport::ShmOptions options) : options_(std::move(options)) {}
  ~Domain();  // leaves the registry (unlinking it if nobody else uses it)

  // Opens the registry if there is none open yet, reclaims the dead and
  // takes a snapshot. Errors for a corrupt or foreign registry.
  absl::Status Refresh();

  std::vector<NodeRow> Nodes() const;
  std::vector<TopicRow> Topics() const;
  // NotFound naming the topic and the domain when neither the registry nor
  // a segment knows it.
  absl::StatusOr<TopicDetail> Describe(absl::string_view topic) const;

  // Sleeps until the registry changes or `timeout` passes (futex; without a
  // registry, just the timeout). Returns at a signal too.
  void WaitForChange(absl::Duration timeout) const;

  const transport::ShmOptions& options() const { return options_; }
  const discovery::RegistrySnapshot& snapshot() const { return snapshot_; }

 private:
  transport::ShmOptions options_;
  std::optional<discovery::Registry> registry_;
  discovery::RegistrySnapshot snapshot_;
};

// What is stale in a domain, and (with clean) what was removed.
struct DoctorReport {
  bool cleaned = false;
  discovery::ReclaimReport registry;  // dead nodes, endpoints, types
  discovery::OrphanReport orphans;    // outside the registry
  std::vector<std::string> errors;
  bool healthy() const { return registry.empty() && orphans.empty(); }
};
absl::StatusOr<DoctorReport> Doctor(const transport::ShmOptions& options, bool clean);

// Text and JSON renderings (each ends with a newline).
std::string NodeListText(const std::vector<NodeRow>& nodes);
std::string NodeListJson(const transport::ShmOptions& o, const std::vector<NodeRow>& nodes);
std::string TopicListText(const std::vector<TopicRow>& topics);
std::string TopicListJson(const transport::ShmOptions& o, const std::vector<TopicRow>& topics);
std::string TopicInfoText(const TopicDetail& topic);
std::string TopicInfoJson(const TopicDetail& topic);
std::string DoctorText(const DoctorReport& report);
std::string DoctorJson(const DoctorReport& report);

// A JSON string literal for `s` (quotes and escapes included).
std::string JsonString(absl::string_view s);

}  // namespace ringcast::cli

#endif  // RINGCAST_CLI_INSPECT_H_
