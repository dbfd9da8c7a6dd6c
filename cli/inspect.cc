// cli/inspect.cc: the `ringcast` verbs' listing session over discovery's
// graph (nodes, topics, one topic, one node, types) and the doctor's look.
// Gathering lives in discovery/graph.cc; the renderings in cli/render.cc.
#include "cli/inspect.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace ringcast::cli {
namespace {

using transport::ShmOptions;

// This host's boot time (btime in /proc/stat), in seconds since the epoch.
std::optional<std::int64_t> BootTime() {
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return std::nullopt;
  char line[256];
  std::optional<std::int64_t> btime;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    absl::string_view l(line);
    if (!absl::ConsumePrefix(&l, "btime ")) continue;
    std::int64_t v = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(l), &v)) btime = v;
    break;
  }
  std::fclose(f);
  return btime;
}

}  // namespace

std::optional<absl::Time> StartTimeToWall(std::uint64_t start_ticks) {
  static const std::optional<std::int64_t> boot = BootTime();
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (!boot || hz <= 0 || start_ticks == 0) return std::nullopt;
  return absl::FromUnixSeconds(*boot) + absl::Seconds(static_cast<std::int64_t>(start_ticks)) / hz;
}

Domain::~Domain() {
  if (registry_) registry_->Leave();
}

absl::Status Domain::Refresh() {
  if (!registry_) {
    absl::StatusOr<discovery::Registry> r = discovery::Registry::Open(options_);
    // Nobody has joined the domain yet, or its first process is creating
    // the registry this very moment: both list as empty for now.
    if (absl::IsNotFound(r.status()) || absl::IsUnavailable(r.status())) {
      snapshot_ = {};
      return absl::OkStatus();
    }
    if (!r.ok()) return r.status();
    registry_.emplace(*std::move(r));
  }
  // Listing is one of the moments the dead are noticed and reclaimed.
  registry_->ReclaimDead();
  snapshot_ = registry_->Read();
  return absl::OkStatus();
}

void Domain::WaitForChange(absl::Duration timeout) const {
  if (!registry_) {
    // No registry to sleep on until the domain's first process makes it:
    // look again shortly (the only wait here that is not a futex).
    absl::SleepFor(std::min(timeout, absl::Milliseconds(100)));
    return;
  }
  (void)registry_->WaitForChange(snapshot_.generation, timeout);
}

namespace {

// The graph of `snapshot` without segment snapshots; without named topics,
// building a graph never fails.
discovery::Graph PlainGraph(const ShmOptions& o, const discovery::RegistrySnapshot& snapshot) {
  discovery::GraphOptions go;
  go.with_snapshots = false;
  absl::StatusOr<discovery::Graph> g = discovery::BuildGraph(o, snapshot, go);
  return g.ok() ? *std::move(g) : discovery::Graph{};
}

}  // namespace

std::vector<NodeRow> Domain::Nodes() const { return PlainGraph(options_, snapshot_).nodes; }
std::vector<TopicRow> Domain::Topics() const { return PlainGraph(options_, snapshot_).topics; }
std::vector<TypeRecordRow> Domain::Types() const { return PlainGraph(options_, snapshot_).types; }

absl::StatusOr<TopicDetail> Domain::Describe(absl::string_view topic) const {
  discovery::GraphOptions go;
  go.topics = {std::string(topic)};
  go.with_pools = true;
  absl::StatusOr<discovery::Graph> g = discovery::BuildGraph(options_, snapshot_, go);
  if (absl::IsNotFound(g.status())) {
    return absl::NotFoundError(
        absl::StrCat(g.status().message(), "; `ringcast topic list` shows the topics there"));
  }
  if (!g.ok()) return g.status();
  return std::move(g->topics.front());
}

absl::StatusOr<std::vector<NodeDetail>> Domain::DescribeNode(absl::string_view name) const {
  // Only the named nodes' endpoints, so that only their topics' segments
  // are mapped and snapshotted.
  discovery::RegistrySnapshot mine;
  mine.generation = snapshot_.generation;
  std::set<std::uint64_t> ids;
  std::set<std::string> present;
  for (const discovery::NodeRecord& n : snapshot_.nodes) {
    present.insert(n.name);
    if (n.name != name) continue;
    ids.insert(n.id);
    mine.nodes.push_back(n);
  }
  if (ids.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no node ", name, " in domain ", options_.domain, " (prefix ", options_.prefix,
        "); nodes there: ", present.empty() ? "none" : absl::StrJoin(present, ", ")));
  }
  for (const discovery::EndpointRecord& e : snapshot_.endpoints) {
    if (ids.count(e.node_id) != 0) mine.endpoints.push_back(e);
  }
  // Unnamed topics: a segment that cannot be read is kept in its topic,
  // never an error of the whole look.
  absl::StatusOr<discovery::Graph> g = discovery::BuildGraph(options_, mine);
  if (!g.ok()) return g.status();
  std::vector<NodeDetail> out;
  for (discovery::GraphNode& n : g->nodes) {
    NodeDetail d;
    for (const discovery::NodeEndpoint& ne : n.endpoints) {
      for (const discovery::GraphTopic& t : g->topics) {
        if (t.topic != ne.topic) continue;
        for (const EndpointRow& e : t.endpoints) {
          if (e.id != ne.id) continue;
          d.endpoints.push_back(NodeEndpointDetail{t.topic, ne.type_name, 0, e});
        }
      }
    }
    // The hash each endpoint registered with.
    for (NodeEndpointDetail& ed : d.endpoints) {
      for (const discovery::EndpointRecord& r : mine.endpoints) {
        if (r.id == ed.endpoint.id) ed.type_hash = r.type_hash;
      }
    }
    d.node = std::move(n);
    out.push_back(std::move(d));
  }
  return out;
}

bool DoctorReport::found_trouble() const {
  if (!errors.empty() || !orphans.foreign_files.empty() || !orphans.anomalies.empty() ||
      !orphans.corrupt_pools.empty()) {
    return true;
  }
  return !healthy() && !cleaned;
}

absl::StatusOr<DoctorReport> Doctor(const ShmOptions& options, bool clean) {
  DoctorReport report;
  report.cleaned = clean;
  // Without --clean, a read-only look that changes nothing.
  absl::StatusOr<discovery::Registry> r =
      clean ? discovery::Registry::Open(options) : discovery::Registry::Observe(options);
  if (r.ok()) {
    report.registry = r->ReclaimDead(/*dry_run=*/!clean);
    if (clean) r->Leave();
  }
  report.orphans = discovery::FindOrphans(options, clean);
  // A registry refused as planted or another user's is listed among the
  // foreign files already: said once, not again as an error.
  if (!r.ok() && !absl::IsNotFound(r.status()) &&
      !absl::c_linear_search(report.orphans.foreign_files, r.status().message())) {
    report.errors.push_back(std::string(r.status().message()));
  }
  for (const std::string& e : report.registry.errors) report.errors.push_back(e);
  for (const std::string& e : report.orphans.errors) report.errors.push_back(e);
  report.space = transport::MeasureSpace(options);
  return report;
}

std::string DoctorReport::SpaceWarning(const ShmOptions& options) const {
  if (space.total_bytes == 0 || space.free_bytes >= space.largest_bytes) return "";
  return absl::StrCat(options.dir, " has ", space.free_bytes, " bytes free, less than the ",
                      space.largest_bytes, " its largest segment ", space.largest,
                      " holds: a publisher restarted now may not fit; enlarge it "
                      "(Docker: --shm-size) or shrink the topics' depth or max_message_size");
}

}  // namespace ringcast::cli
