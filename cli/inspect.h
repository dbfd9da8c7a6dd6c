// cli/inspect.h: the `ringcast` verbs' view of a domain and how they print
// it. What is there is gathered by discovery's graph (discovery/graph.h:
// the registry joined with transport's read-only topic snapshots); this
// keeps a listing session (the registry, opened once and kept for --watch)
// and renders the graph as text tables or JSON.
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
#include "discovery/graph.h"
#include "discovery/orphans.h"
#include "discovery/registry.h"
#include "transport/shm_options.h"

namespace ringcast::cli {

// The rows the verbs print are the graph's.
using NodeRow = discovery::GraphNode;
using TopicRow = discovery::GraphTopic;
using TopicDetail = discovery::GraphTopic;
using EndpointRow = discovery::GraphEndpoint;

// A domain's registry, opened for one listing or kept for --watch. Without
// a registry (nobody has joined the domain yet), listings are empty.
class Domain {
 public:
  explicit Domain(transport::ShmOptions options) : options_(std::move(options)) {}
  ~Domain();  // leaves the registry (unlinking it if nobody else uses it)

  // Opens the registry if there is none open yet, reclaims the dead and
  // takes a snapshot. Errors for a corrupt or foreign registry.
  absl::Status Refresh();

  // The graph's nodes and topics (without segment snapshots), from the
  // last refresh.
  std::vector<NodeRow> Nodes() const;
  std::vector<TopicRow> Topics() const;
  // One topic with its segment's snapshot. NotFound naming the topic and
  // the domain when neither the registry nor a segment knows it.
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
