#include "cli/inspect.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "transport/futex.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/topic.h"
#include "transport/topic_layout.h"

namespace ringcast::cli {
namespace {

using discovery::EndpointKind;
using discovery::EndpointRecord;
using transport::ShmOptions;
using transport::internal::EntryState;
using transport::internal::StateOf;

std::uint64_t FileSize(const ShmOptions& options, absl::string_view name) {
  struct stat st {};
  if (::stat(absl::StrCat(options.dir, name).c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

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

// Fills the ring and subscriber figures of `detail` from its segment.
void ReadSegment(const ShmOptions& options, const transport::TopicSegment& t,
                 const std::vector<std::uint64_t>& transport_ids, TopicDetail* detail) {
  const transport::TopicGeometry& g = t.geometry();
  detail->segment_found = true;
  detail->segment = t.segment().name();
  detail->depth = g.depth;
  detail->slot_size = g.slot_size;
  detail->inline_capacity = g.inline_capacity;
  detail->max_message_size = g.max_message_size;
  detail->max_publishers = g.max_publishers;
  detail->max_subscribers = g.max_subscribers;
  detail->shm_bytes = t.segment().size();
  if (detail->type_name.empty()) {
    detail->type_name = g.type_name;
    detail->type_hash = g.type_hash;
  }
  std::vector<std::uint64_t> heads(g.max_publishers, 0);
  std::vector<bool> active(g.max_publishers, false);
  for (std::uint32_t i = 0; i < g.max_publishers; ++i) {
    const transport::internal::RingControl& rc = t.ring_control(i);
    // Acquire: pairs with the claimer's release of kActive, so the owner
    // fields read below are the claimer's.
    const std::uint64_t s = rc.state.load(std::memory_order_acquire);
    // Relaxed: statistics; a slightly stale figure is fine.
    heads[i] = t.ring_hot(i).head.load(std::memory_order_relaxed);
    active[i] = StateOf(s) == EntryState::kActive;
    if (!active[i]) continue;
    if (const std::uint64_t pool = rc.pool_id.load(std::memory_order_relaxed); pool != 0) {
      detail->shm_bytes += FileSize(options, transport::PoolSegmentName(options, pool));
    }
  }
  for (std::size_t k = 0; k < detail->endpoints.size(); ++k) {
    EndpointRow& row = detail->endpoints[k];
    const std::uint32_t i = row.transport_index;
    if (row.publisher) {
      // Indices come from shared memory: bound them before use.
      if (i >= g.max_publishers || !active[i]) continue;
      const transport::internal::RingControl& rc = t.ring_control(i);
      // Relaxed: ordered by the acquire of the ring's state above.
      if (rc.publisher_id.load(std::memory_order_relaxed) != transport_ids[k]) continue;
      row.in_segment = true;
      const std::uint64_t start = rc.start_seq.load(std::memory_order_relaxed);
      row.samples = heads[i] >= start ? heads[i] - start : 0;
      row.bytes = t.ring_hot(i).bytes.load(std::memory_order_relaxed);
      row.last_publish_ns = t.ring_hot(i).last_publish_ns.load(std::memory_order_relaxed);
    } else {
      if (i >= g.max_subscribers) continue;
      const transport::internal::SubscriberControl& sc = t.subscriber_control(i);
      // Acquire: pairs with the claimer's release of kActive; the id and
      // counters after it are statistics, read relaxed (stale is fine).
      if (StateOf(sc.state.load(std::memory_order_acquire)) != EntryState::kActive ||
          sc.subscriber_id.load(std::memory_order_relaxed) != transport_ids[k]) {
        continue;
      }
      row.in_segment = true;
      row.received = t.subscriber_counters(i).received.load(std::memory_order_relaxed);
      row.lost = t.subscriber_counters(i).lost.load(std::memory_order_relaxed);
      for (std::uint32_t r = 0; r < g.max_publishers; ++r) {
        const std::uint64_t cursor = t.cursors(i)[r].load(std::memory_order_relaxed);
        if (active[r] && cursor < heads[r]) row.lag += heads[r] - cursor;
      }
    }
  }
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
  absl::flat_hash_map<std::uint64_t, std::pair<int, int>> counts;
  for (const EndpointRecord& e : snapshot_.endpoints) {
    auto& c = counts[e.node_id];
    (e.kind == EndpointKind::kPublisher ? c.first : c.second)++;
  }
  std::vector<NodeRow> out;
  for (const discovery::NodeRecord& n : snapshot_.nodes) {
    NodeRow row;
    row.name = n.name;
    row.id = n.id;
    row.pid = n.owner.pid;
    row.exe = n.exe;
    row.start_time = n.owner.start_time;
    if (auto it = counts.find(n.id); it != counts.end()) {
      row.publishers = it->second.first;
      row.subscribers = it->second.second;
    }
    out.push_back(std::move(row));
  }
  std::sort(out.begin(), out.end(), [](const NodeRow& a, const NodeRow& b) {
    return std::tie(a.name, a.pid, a.id) < std::tie(b.name, b.pid, b.id);
  });
  return out;
}

std::vector<TopicRow> Domain::Topics() const {
  std::map<std::string, TopicRow> by_topic;
  for (const EndpointRecord& e : snapshot_.endpoints) {
    TopicRow& row = by_topic[e.topic];
    row.topic = e.topic;
    if (row.type_name.empty() || e.kind == EndpointKind::kPublisher) {
      row.type_name = e.type_name;
      row.type_hash = e.type_hash;
    }
    (e.kind == EndpointKind::kPublisher ? row.publishers : row.subscribers)++;
  }
  std::vector<TopicRow> out;
  out.reserve(by_topic.size());
  for (auto& [topic, row] : by_topic) out.push_back(std::move(row));
  return out;
}

absl::StatusOr<TopicDetail> Domain::Describe(absl::string_view topic) const {
  if (absl::Status s = transport::ValidateTopicName(topic); !s.ok()) return s;
  TopicDetail d;
  d.topic = std::string(topic);
  absl::flat_hash_map<std::uint64_t, std::string> node_names;
  for (const discovery::NodeRecord& n : snapshot_.nodes) node_names[n.id] = n.name;
  std::vector<const EndpointRecord*> mine;
  for (const EndpointRecord& e : snapshot_.endpoints) {
    if (e.topic == topic) mine.push_back(&e);
  }
  std::stable_sort(mine.begin(), mine.end(), [](const EndpointRecord* a, const EndpointRecord* b) {
    return std::tie(a->kind, a->id) < std::tie(b->kind, b->id);
  });
  std::vector<std::uint64_t> transport_ids;
  for (const EndpointRecord* e : mine) {
    if (d.type_name.empty() || e->kind == EndpointKind::kPublisher) {
      d.type_name = e->type_name;
      d.type_hash = e->type_hash;
    }
    EndpointRow row;
    row.publisher = e->kind == EndpointKind::kPublisher;
    row.id = e->id;
    auto it = node_names.find(e->node_id);
    row.node = it == node_names.end() ? "?" : it->second;
    row.pid = e->owner.pid;
    row.exe = e->owner.exe;
    row.qos = e->qos;
    row.transport_index = e->transport_index;
    d.endpoints.push_back(std::move(row));
    transport_ids.push_back(e->transport_id);
  }
  for (const discovery::TypeRecord& t : snapshot_.types) {
    if (t.name == d.type_name && t.hash == d.type_hash) d.descriptor_bytes = t.descriptor.size();
  }
  absl::StatusOr<transport::TopicSegment> seg = transport::TopicSegment::Observe(options_, topic);
  if (seg.ok()) {
    ReadSegment(options_, *seg, transport_ids, &d);
  } else if (!absl::IsNotFound(seg.status())) {
    return seg.status();
  } else if (mine.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no topic ", topic, " in domain ", options_.domain, " (prefix ", options_.prefix,
        "); `ringcast topic list` shows the topics there"));
  }
  return d;
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

std::string TopicInfoText(const TopicDetail& t) {
  std::string out = absl::StrFormat("topic       %s\ntype        %s (hash %016x, descriptor %s)\n",
                                    t.topic, t.type_name, t.type_hash,
                                    t.descriptor_bytes == 0
                                        ? std::string("none")
                                        : absl::StrCat(t.descriptor_bytes, " bytes"));
  if (t.segment_found) {
    absl::StrAppendFormat(&out,
                          "segment     %s\nring        depth %u, slot %u bytes (%u inline), "
                          "max message %u bytes\nlimits      %u publishers, %u subscribers\n"
                          "shm         %u bytes (segment and pools)\n",
                          t.segment, t.depth, t.slot_size, t.inline_capacity,
                          t.max_message_size, t.max_publishers, t.max_subscribers, t.shm_bytes);
  } else {
    out += "segment     (none: no endpoint has opened it yet)\n";
  }
  const auto count = [&](bool pub) {
    return std::count_if(t.endpoints.begin(), t.endpoints.end(),
                         [&](const EndpointRow& e) { return e.publisher == pub; });
  };
  absl::StrAppendFormat(&out, "publishers (%d)\n", count(true));
  for (const EndpointRow& e : t.endpoints) {
    if (!e.publisher) continue;
    absl::StrAppendFormat(&out, "  %-20s pid %-8u %s | ring %s samples %u bytes %u\n", e.node,
                          e.pid, QosText(e.qos),
                          e.in_segment ? absl::StrCat(e.transport_index) : std::string("-"),
                          e.samples, e.bytes);
  }
  absl::StrAppendFormat(&out, "subscribers (%d)\n", count(false));
  for (const EndpointRow& e : t.endpoints) {
    if (e.publisher) continue;
    absl::StrAppendFormat(&out, "  %-20s pid %-8u %s | received %u lag %u lost %u\n", e.node,
                          e.pid, QosText(e.qos), e.received, e.lag, e.lost);
  }
  return out;
}

std::string TopicInfoJson(const TopicDetail& t) {
  std::vector<std::string> pubs, subs;
  for (const EndpointRow& e : t.endpoints) {
    std::string common = absl::StrFormat("\"id\":%u,\"node\":%s,\"pid\":%u,\"exe\":%s,%s", e.id,
                                         JsonString(e.node), e.pid, JsonString(e.exe),
                                         QosJson(e.qos));
    if (e.publisher) {
      pubs.push_back(absl::StrFormat(
          "{%s,\"ring\":%d,\"samples\":%u,\"bytes\":%u,\"last_publish_ns\":%d}", common,
          e.in_segment ? static_cast<std::int64_t>(e.transport_index) : -1, e.samples, e.bytes,
          e.last_publish_ns));
    } else {
      subs.push_back(absl::StrFormat(
          "{%s,\"entry\":%d,\"received\":%u,\"lost\":%u,\"lag\":%u}", common,
          e.in_segment ? static_cast<std::int64_t>(e.transport_index) : -1, e.received, e.lost,
          e.lag));
    }
  }
  return absl::StrFormat(
      "{\"topic\":%s,\"type\":%s,\"type_hash\":\"%016x\",\"descriptor_bytes\":%u,"
      "\"segment\":%s,\"depth\":%u,\"slot_size\":%u,\"inline_capacity\":%u,"
      "\"max_message_size\":%u,\"max_publishers\":%u,\"max_subscribers\":%u,\"shm_bytes\":%u,"
      "\"publishers\":[%s],\"subscribers\":[%s]}\n",
      JsonString(t.topic), JsonString(t.type_name), t.type_hash, t.descriptor_bytes,
      t.segment_found ? JsonString(t.segment) : std::string("null"), t.depth, t.slot_size,
      t.inline_capacity, t.max_message_size, t.max_publishers, t.max_subscribers, t.shm_bytes,
      absl::StrJoin(pubs, ","), absl::StrJoin(subs, ","));
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
