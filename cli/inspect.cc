// cli/inspect.cc: the `ringcast` verbs' listing session over discovery's
// graph, and the text and JSON renderings of nodes, topics, a topic's
// detail and the doctor's report. Gathering lives in discovery/graph.cc.
#include "cli/inspect.h"

#include <algorithm>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace ringcast::cli {
namespace {

using discovery::EndpointKind;
using transport::ShmOptions;

const char* Bool(bool b) { return b ? "true" : "false"; }

std::string JsonList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& i : items) quoted.push_back(JsonString(i));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

std::string QosText(const discovery::QosSummary& q) {
  return absl::StrFormat("%s%s depth %u max %u", q.reliable ? "reliable" : "best-effort",
                         q.transient_local ? " transient-local" : "", q.depth,
                         q.max_message_size);
}

std::string QosJson(const discovery::QosSummary& q) {
  return absl::StrFormat(
      "\"reliability\":\"%s\",\"durability\":\"%s\",\"depth\":%u,\"max_message_size\":%u",
      q.reliable ? "reliable" : "best_effort", q.transient_local ? "transient_local" : "volatile",
      q.depth, q.max_message_size);
}

}  // namespace

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
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

std::vector<NodeRow> Domain::Nodes() const {
  discovery::GraphOptions go;
  go.with_snapshots = false;
  // Without named topics, building a graph never fails.
  absl::StatusOr<discovery::Graph> g = discovery::BuildGraph(options_, snapshot_, go);
  return g.ok() ? std::move(g->nodes) : std::vector<NodeRow>{};
}

std::vector<TopicRow> Domain::Topics() const {
  discovery::GraphOptions go;
  go.with_snapshots = false;
  absl::StatusOr<discovery::Graph> g = discovery::BuildGraph(options_, snapshot_, go);
  return g.ok() ? std::move(g->topics) : std::vector<TopicRow>{};
}

absl::StatusOr<TopicDetail> Domain::Describe(absl::string_view topic) const {
  discovery::GraphOptions go;
  go.topics = {std::string(topic)};
  absl::StatusOr<discovery::Graph> g = discovery::BuildGraph(options_, snapshot_, go);
  if (absl::IsNotFound(g.status())) {
    return absl::NotFoundError(
        absl::StrCat(g.status().message(), "; `ringcast topic list` shows the topics there"));
  }
  if (!g.ok()) return g.status();
  return std::move(g->topics.front());
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
  return report;
}

std::string NodeListText(const std::vector<NodeRow>& nodes) {
  std::string out = absl::StrFormat("%-24s %8s %-16s %5s %5s\n", "NODE", "PID", "EXE", "PUBS",
                                    "SUBS");
  for (const NodeRow& n : nodes) {
    absl::StrAppendFormat(&out, "%-24s %8u %-16s %5d %5d\n", n.name, n.pid, n.exe, n.publishers,
                          n.subscribers);
  }
  if (nodes.empty()) out += "(no nodes)\n";
  return out;
}

std::string NodeListJson(const ShmOptions& o, const std::vector<NodeRow>& nodes) {
  std::vector<std::string> items;
  for (const NodeRow& n : nodes) {
    items.push_back(absl::StrFormat(
        "{\"name\":%s,\"id\":%u,\"pid\":%u,\"exe\":%s,\"start_time\":%u,\"publishers\":%d,"
        "\"subscribers\":%d}",
        JsonString(n.name), n.id, n.pid, JsonString(n.exe), n.start_time, n.publishers,
        n.subscribers));
  }
  return absl::StrCat("{\"domain\":", o.domain, ",\"nodes\":[", absl::StrJoin(items, ","),
                      "]}\n");
}

std::string TopicListText(const std::vector<TopicRow>& topics) {
  std::string out =
      absl::StrFormat("%-32s %-28s %-16s %5s %5s\n", "TOPIC", "TYPE", "HASH", "PUBS", "SUBS");
  for (const TopicRow& t : topics) {
    absl::StrAppendFormat(&out, "%-32s %-28s %016x %5d %5d\n", t.topic, t.type_name, t.type_hash,
                          t.publishers, t.subscribers);
  }
  if (topics.empty()) out += "(no topics)\n";
  return out;
}

std::string TopicListJson(const ShmOptions& o, const std::vector<TopicRow>& topics) {
  std::vector<std::string> items;
  for (const TopicRow& t : topics) {
    items.push_back(absl::StrFormat(
        "{\"topic\":%s,\"type\":%s,\"type_hash\":\"%016x\",\"publishers\":%d,\"subscribers\":%d}",
        JsonString(t.topic), JsonString(t.type_name), t.type_hash, t.publishers,
        t.subscribers));
  }
  return absl::StrCat("{\"domain\":", o.domain, ",\"topics\":[", absl::StrJoin(items, ","),
                      "]}\n");
}

namespace {

// What an endpoint's row prints of its ring or subscriber entry: zeros when
// that was not found in the segment.
struct Figures {
  std::uint64_t samples = 0;
  std::uint64_t bytes = 0;
  std::int64_t last_publish_ns = 0;
  std::uint64_t received = 0;
  std::uint64_t lost = 0;
  std::uint64_t lag = 0;
};

Figures FiguresOf(const EndpointRow& e) {
  Figures f;
  if (e.ring) {
    f.samples = e.ring->samples;
    f.bytes = e.ring->bytes;
    f.last_publish_ns = e.ring->last_publish_ns;
  }
  if (e.subscriber) {
    f.received = e.subscriber->received;
    f.lost = e.subscriber->lost;
    f.lag = e.subscriber->lag;
  }
  return f;
}

}  // namespace

std::string TopicInfoText(const TopicDetail& t) {
  std::string out = absl::StrFormat("topic       %s\ntype        %s (hash %016x, descriptor %s)\n",
                                    t.topic, t.type_name, t.type_hash,
                                    t.descriptor_bytes == 0
                                        ? std::string("none")
                                        : absl::StrCat(t.descriptor_bytes, " bytes"));
  const transport::TopicSnapshot& s = t.snapshot;
  if (t.segment_found) {
    absl::StrAppendFormat(&out,
                          "segment     %s\nring        depth %u, slot %u bytes (%u inline), "
                          "max message %u bytes\nlimits      %u publishers, %u subscribers\n"
                          "shm         %u bytes (segment and pools)\n",
                          s.segment, s.depth, s.slot_size, s.inline_capacity,
                          s.max_message_size, s.max_publishers, s.max_subscribers, t.shm_bytes());
  } else {
    out += "segment     (none: no endpoint has opened it yet)\n";
  }
  absl::StrAppendFormat(&out, "publishers (%d)\n", t.publishers);
  for (const EndpointRow& e : t.endpoints) {
    if (!e.publisher()) continue;
    const Figures f = FiguresOf(e);
    absl::StrAppendFormat(&out, "  %-20s pid %-8u %s | ring %s samples %u bytes %u\n", e.node,
                          e.pid, QosText(e.qos),
                          e.in_segment() ? absl::StrCat(e.transport_index) : std::string("-"),
                          f.samples, f.bytes);
  }
  absl::StrAppendFormat(&out, "subscribers (%d)\n", t.subscribers);
  for (const EndpointRow& e : t.endpoints) {
    if (e.publisher()) continue;
    const Figures f = FiguresOf(e);
    absl::StrAppendFormat(&out, "  %-20s pid %-8u %s | received %u lag %u lost %u\n", e.node,
                          e.pid, QosText(e.qos), f.received, f.lag, f.lost);
  }
  return out;
}

std::string TopicInfoJson(const TopicDetail& t) {
  std::vector<std::string> pubs, subs;
  for (const EndpointRow& e : t.endpoints) {
    std::string common = absl::StrFormat("\"id\":%u,\"node\":%s,\"pid\":%u,\"exe\":%s,%s", e.id,
                                         JsonString(e.node), e.pid, JsonString(e.exe),
                                         QosJson(e.qos));
    const Figures f = FiguresOf(e);
    const std::int64_t index = e.in_segment() ? static_cast<std::int64_t>(e.transport_index) : -1;
    if (e.publisher()) {
      pubs.push_back(absl::StrFormat(
          "{%s,\"ring\":%d,\"samples\":%u,\"bytes\":%u,\"last_publish_ns\":%d}", common, index,
          f.samples, f.bytes, f.last_publish_ns));
    } else {
      subs.push_back(absl::StrFormat("{%s,\"entry\":%d,\"received\":%u,\"lost\":%u,\"lag\":%u}",
                                     common, index, f.received, f.lost, f.lag));
    }
  }
  const transport::TopicSnapshot& s = t.snapshot;
  return absl::StrFormat(
      "{\"topic\":%s,\"type\":%s,\"type_hash\":\"%016x\",\"descriptor_bytes\":%u,"
      "\"segment\":%s,\"depth\":%u,\"slot_size\":%u,\"inline_capacity\":%u,"
      "\"max_message_size\":%u,\"max_publishers\":%u,\"max_subscribers\":%u,\"shm_bytes\":%u,"
      "\"publishers\":[%s],\"subscribers\":[%s]}\n",
      JsonString(t.topic), JsonString(t.type_name), t.type_hash, t.descriptor_bytes,
      t.segment_found ? JsonString(s.segment) : std::string("null"), s.depth, s.slot_size,
      s.inline_capacity, s.max_message_size, s.max_publishers, s.max_subscribers,
      t.segment_found ? t.shm_bytes() : 0, absl::StrJoin(pubs, ","), absl::StrJoin(subs, ","));
}

namespace {

std::string EndpointLine(const discovery::EndpointRecord& e) {
  return absl::StrCat(e.kind == EndpointKind::kPublisher ? "publisher" : "subscriber", " on ",
                      e.topic, " (pid ", e.owner.pid, ")");
}

struct DoctorLists {
  std::vector<std::string> nodes, endpoints, types;
};

DoctorLists Lists(const DoctorReport& r) {
  DoctorLists l;
  for (const auto& n : r.registry.dead_nodes) {
    l.nodes.push_back(absl::StrCat(n.name, " (pid ", n.owner.pid, ")"));
  }
  for (const auto& e : r.registry.dead_endpoints) l.endpoints.push_back(EndpointLine(e));
  for (const auto& t : r.registry.dead_types) {
    l.types.push_back(absl::StrFormat("%s (hash %016x)", t.name, t.hash));
  }
  return l;
}

}  // namespace

std::string DoctorText(const DoctorReport& r) {
  std::string out;
  const char* verb = r.cleaned ? "removed" : "found";
  auto section = [&](const char* what, const std::vector<std::string>& items) {
    if (items.empty()) return;
    absl::StrAppendFormat(&out, "%s %d %s:\n", verb, items.size(), what);
    for (const std::string& i : items) absl::StrAppend(&out, "  ", i, "\n");
  };
  const DoctorLists l = Lists(r);
  section("registered nodes of dead processes", l.nodes);
  section("registered endpoints of dead processes", l.endpoints);
  section("registered types nobody alive uses", l.types);
  section("registry entries a process died claiming or freeing", r.registry.stuck_entries);
  section("topic-segment entries of dead processes", r.orphans.stale_topic_entries);
  section("topic segments nobody uses", r.orphans.orphan_topics);
  section("pool segments of publishers that are gone", r.orphans.orphan_pools);
  section("half-made segments whose creator died", r.orphans.half_made);
  section("liveness files of dead processes", r.orphans.dead_tokens);
  // Not removable by doctor: say what they are and what to do.
  auto report = [&](const char* what, const std::vector<std::string>& items) {
    if (items.empty()) return;
    absl::StrAppendFormat(&out, "%d %s:\n", items.size(), what);
    for (const std::string& i : items) absl::StrAppend(&out, "  ", i, "\n");
  };
  report("files at ringcast names that ringcast did not make (remove them by hand)",
         r.orphans.foreign_files);
  report("corrupt values refused (a process wrote into shared memory it should not have)",
         r.orphans.anomalies);
  report("corrupt chunk pools (restart their publishers)", r.orphans.corrupt_pools);
  for (const std::string& e : r.errors) absl::StrAppend(&out, "could not check: ", e, "\n");
  if (r.healthy() && r.errors.empty()) {
    out += "nothing stale\n";
  } else if (!r.cleaned && !r.healthy()) {
    out += "run `ringcast doctor --clean` to remove what can be removed\n";
  }
  return out;
}

std::string DoctorJson(const DoctorReport& r) {
  const DoctorLists l = Lists(r);
  return absl::StrCat(
      "{\"cleaned\":", Bool(r.cleaned), ",\"healthy\":", Bool(r.healthy()),
      ",\"dead_nodes\":", JsonList(l.nodes), ",\"dead_endpoints\":", JsonList(l.endpoints),
      ",\"dead_types\":", JsonList(l.types),
      ",\"stale_topic_entries\":", JsonList(r.orphans.stale_topic_entries),
      ",\"orphan_topics\":", JsonList(r.orphans.orphan_topics),
      ",\"orphan_pools\":", JsonList(r.orphans.orphan_pools),
      ",\"half_made\":", JsonList(r.orphans.half_made),
      ",\"stuck_entries\":", JsonList(r.registry.stuck_entries),
      ",\"foreign_files\":", JsonList(r.orphans.foreign_files),
      ",\"anomalies\":", JsonList(r.orphans.anomalies),
      ",\"corrupt_pools\":", JsonList(r.orphans.corrupt_pools),
      ",\"dead_tokens\":", JsonList(r.orphans.dead_tokens), ",\"errors\":", JsonList(r.errors),
      "}\n");
}

}  // namespace ringcast::cli
