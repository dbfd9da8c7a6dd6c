// cli/inspect.h: the `ringcast` verbs' view of a domain and how they print
// it. What is there is gathered by discovery's graph (discovery/graph.h:
// the registry joined with transport's read-only topic snapshots); this
// keeps a listing session (the registry, opened once and kept for --watch)
// and renders the graph as text tables or JSON (one object per line).
//
// A listing first reclaims what dead processes left (whoever notices first;
// docs/architecture.md), so `ringcast topic list` after a kill -9 shows the dead
// gone and leaves nothing of theirs in /dev/shm.
#ifndef RINGCAST_CLI_INSPECT_H_
#define RINGCAST_CLI_INSPECT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "discovery/graph.h"
#include "discovery/orphans.h"
#include "discovery/registry.h"
#include "transport/names.h"
#include "transport/shm_options.h"

namespace ringcast::cli {

// The rows the verbs print are the graph's.
using NodeRow = discovery::GraphNode;
using TopicRow = discovery::GraphTopic;
using TopicDetail = discovery::GraphTopic;
using EndpointRow = discovery::GraphEndpoint;
using TypeRecordRow = discovery::GraphType;

// One endpoint of a node, with its topic and type and what the topic
// segment says about it (its ring or subscriber entry, when found).
struct NodeEndpointDetail {
  std::string topic;
  std::string type_name;
  std::uint64_t type_hash = 0;
  EndpointRow endpoint;
};

// One node with its process and every endpoint.
struct NodeDetail {
  NodeRow node;
  std::vector<NodeEndpointDetail> endpoints;  // publishers first, each kind by id
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

  // The graph's nodes, topics (without segment snapshots) and types, from
  // the last refresh.
  std::vector<NodeRow> Nodes() const;
  std::vector<TopicRow> Topics() const;
  std::vector<TypeRecordRow> Types() const;
  // One topic with its segment's snapshot. NotFound naming the topic and
  // the domain when neither the registry nor a segment knows it.
  absl::StatusOr<TopicDetail> Describe(absl::string_view topic) const;
  // Every node called `name` (several processes may each have one), with
  // its endpoints and their segments' figures. NotFound naming it and the
  // nodes there are when there is none.
  absl::StatusOr<std::vector<NodeDetail>> DescribeNode(absl::string_view name) const;

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
  transport::SpaceUsage space;        // measured after any cleaning
  std::vector<std::string> errors;
  // A warning when the directory has less room left than the domain's
  // largest segment needs (a publisher restarted now might not fit), or "".
  std::string SpaceWarning(const transport::ShmOptions& options) const;
  bool healthy() const { return registry.empty() && orphans.empty(); }
  // What doctor's exit code says: something is stale (and was not
  // cleaned), something could not be checked, or something is there that
  // --clean never removes (a planted file, corrupt values, a corrupt pool).
  bool found_trouble() const;
};
absl::StatusOr<DoctorReport> Doctor(const transport::ShmOptions& options, bool clean);

// Text and JSON renderings (each ends with a newline; JSON is one line).
std::string NodeListText(const std::vector<NodeRow>& nodes);
std::string NodeListJson(const transport::ShmOptions& o, const std::vector<NodeRow>& nodes);
std::string NodeInfoText(const std::vector<NodeDetail>& nodes);
std::string NodeInfoJson(const transport::ShmOptions& o, const std::vector<NodeDetail>& nodes);
std::string TopicListText(const std::vector<TopicRow>& topics);
std::string TopicListJson(const transport::ShmOptions& o, const std::vector<TopicRow>& topics);
std::string TopicInfoText(const TopicDetail& topic);
std::string TopicInfoJson(const TopicDetail& topic);
std::string DoctorText(const transport::ShmOptions& o, const DoctorReport& report);
std::string DoctorJson(const transport::ShmOptions& o, const DoctorReport& report);

// A process start time (clock ticks after boot, /proc/<pid>/stat field 22)
// as a wall-clock time, using this host's boot time; nullopt when unknown.
std::optional<absl::Time> StartTimeToWall(std::uint64_t start_ticks);
// "2026-12-03 13:40:02.123 UTC", or "never" for the infinite past.
std::string FormatWall(absl::Time t);

}  // namespace ringcast::cli

#endif  // RINGCAST_CLI_INSPECT_H_
