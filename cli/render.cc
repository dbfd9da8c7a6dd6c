// cli/render.cc: the `ringcast` verbs' text tables and JSON for nodes, one
// node, topics, one topic and the doctor's report (cli/inspect.h).
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cli/inspect.h"
#include "cli/rates.h"
#include "cli/verbs.h"
#include "nlohmann/json.hpp"

namespace ringcast::cli {
namespace {

using discovery::EndpointKind;
using transport::ShmOptions;
using Json = nlohmann::ordered_json;

std::string Hex(std::uint64_t hash) { return absl::StrFormat("%016x", hash); }

std::string QosText(const discovery::QosSummary& q) {
  return absl::StrFormat("%s%s depth %u max %u", q.reliable ? "reliable" : "best-effort",
                         q.transient_local ? " transient-local" : "", q.depth,
                         q.max_message_size);
}

void AddQos(const discovery::QosSummary& q, Json* j) {
  (*j)["reliability"] = q.reliable ? "reliable" : "best_effort";
  (*j)["durability"] = q.transient_local ? "transient_local" : "volatile";
  (*j)["depth"] = q.depth;
  (*j)["max_message_size"] = q.max_message_size;
}

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

// The ring or subscriber entry index, or -1 when not found in the segment.
std::int64_t EntryIndex(const EndpointRow& e) {
  return e.in_segment() ? static_cast<std::int64_t>(e.transport_index) : -1;
}

// An endpoint's figures as JSON fields: the ring's for a publisher, the
// subscriber entry's for a subscriber.
void AddFigures(const EndpointRow& e, Json* j) {
  const Figures f = FiguresOf(e);
  if (e.publisher()) {
    (*j)["ring"] = EntryIndex(e);
    (*j)["samples"] = f.samples;
    (*j)["bytes"] = f.bytes;
    (*j)["last_publish_ns"] = f.last_publish_ns;
  } else {
    (*j)["entry"] = EntryIndex(e);
    (*j)["received"] = f.received;
    (*j)["lost"] = f.lost;
    (*j)["lag"] = f.lag;
  }
}

std::string LastPublishText(std::int64_t ns) {
  return ns == 0 ? "never" : FormatWall(absl::FromUnixNanos(ns));
}

}  // namespace

std::string FormatWall(absl::Time t) {
  if (t == absl::InfinitePast()) return "never";
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC", t, absl::UTCTimeZone());
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
  Json items = Json::array();
  for (const NodeRow& n : nodes) {
    items.push_back({{"name", n.name},
                     {"id", n.id},
                     {"pid", n.pid},
                     {"exe", n.exe},
                     {"start_time", n.start_time},
                     {"publishers", n.publishers},
                     {"subscribers", n.subscribers}});
  }
  return JsonLine({{"domain", o.domain}, {"nodes", std::move(items)}});
}

std::string NodeInfoText(const std::vector<NodeDetail>& nodes) {
  std::string out;
  for (const NodeDetail& d : nodes) {
    if (!out.empty()) out += "\n";
    const NodeRow& n = d.node;
    const std::optional<absl::Time> started = StartTimeToWall(n.start_time);
    absl::StrAppendFormat(&out, "node        %s (id %u)\nprocess     pid %u, exe %s, started %s\n",
                          n.name, n.id, n.pid, n.exe.empty() ? "?" : n.exe,
                          started ? FormatWall(*started) : std::string("?"));
    absl::StrAppendFormat(&out, "publishers (%d)\n", n.publishers);
    for (const NodeEndpointDetail& ed : d.endpoints) {
      const EndpointRow& e = ed.endpoint;
      if (!e.publisher()) continue;
      const Figures f = FiguresOf(e);
      absl::StrAppendFormat(&out, "  %-24s %-24s %s | samples %u bytes %u last %s\n", ed.topic,
                            ed.type_name, QosText(e.qos), f.samples, f.bytes,
                            LastPublishText(f.last_publish_ns));
    }
    absl::StrAppendFormat(&out, "subscribers (%d)\n", n.subscribers);
    for (const NodeEndpointDetail& ed : d.endpoints) {
      const EndpointRow& e = ed.endpoint;
      if (e.publisher()) continue;
      const Figures f = FiguresOf(e);
      absl::StrAppendFormat(&out, "  %-24s %-24s %s | received %u lag %u lost %u\n", ed.topic,
                            ed.type_name, QosText(e.qos), f.received, f.lag, f.lost);
    }
  }
  return out;
}

std::string NodeInfoJson(const ShmOptions& o, const std::vector<NodeDetail>& nodes) {
  Json items = Json::array();
  for (const NodeDetail& d : nodes) {
    const NodeRow& n = d.node;
    const std::optional<absl::Time> started = StartTimeToWall(n.start_time);
    Json pubs = Json::array(), subs = Json::array();
    for (const NodeEndpointDetail& ed : d.endpoints) {
      const EndpointRow& e = ed.endpoint;
      Json j = {{"id", e.id}, {"topic", ed.topic}, {"type", ed.type_name},
                {"type_hash", Hex(ed.type_hash)}};
      AddQos(e.qos, &j);
      AddFigures(e, &j);
      (e.publisher() ? pubs : subs).push_back(std::move(j));
    }
    items.push_back({{"name", n.name},
                     {"id", n.id},
                     {"pid", n.pid},
                     {"exe", n.exe},
                     {"start_time", n.start_time},
                     {"started_unix_ns",
                      started ? Json(absl::ToUnixNanos(*started)) : Json(nullptr)},
                     {"publishers", std::move(pubs)},
                     {"subscribers", std::move(subs)}});
  }
  return JsonLine({{"domain", o.domain}, {"nodes", std::move(items)}});
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
  Json items = Json::array();
  for (const TopicRow& t : topics) {
    items.push_back({{"topic", t.topic},
                     {"type", t.type_name},
                     {"type_hash", Hex(t.type_hash)},
                     {"publishers", t.publishers},
                     {"subscribers", t.subscribers}});
  }
  return JsonLine({{"domain", o.domain}, {"topics", std::move(items)}});
}

// "pool 12.4 MB committed of 2.0 GB planned: 2 x 6.2 MB (1 segment), ..."
std::string PoolText(const transport::PoolUse& p) {
  std::string out = absl::StrCat("pool ", HumanBytes(static_cast<double>(p.committed_bytes)),
                                 " committed of ",
                                 HumanBytes(static_cast<double>(p.planned_bytes)), " planned");
  if (p.classes.empty()) return out + " (no chunk loaned yet)";
  out += ":";
  for (std::size_t k = 0; k < p.classes.size(); ++k) {
    const transport::PoolUse::SizeClass& c = p.classes[k];
    absl::StrAppend(&out, k == 0 ? " " : ", ", c.chunks, " x ",
                    HumanBytes(static_cast<double>(c.chunk_size)), " (", c.segments,
                    c.segments == 1 ? " segment)" : " segments)");
  }
  return out;
}

Json PoolJson(const transport::PoolUse& p) {
  Json classes = Json::array();
  for (const transport::PoolUse::SizeClass& c : p.classes) {
    classes.push_back({{"chunk_size", c.chunk_size}, {"chunks", c.chunks}, {"segments", c.segments}});
  }
  return {{"committed_bytes", p.committed_bytes},
          {"planned_bytes", p.planned_bytes},
          {"segments", p.segments},
          {"chunks", p.chunks},
          {"free_chunks", p.free_chunks},
          {"size_classes", std::move(classes)}};
}

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
                          "shm         %u bytes (segment and pools, committed)\n",
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
    if (e.ring && e.ring->pool_id != 0) absl::StrAppend(&out, "    ", PoolText(e.ring->pool), "\n");
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
  Json pubs = Json::array(), subs = Json::array();
  for (const EndpointRow& e : t.endpoints) {
    Json j = {{"id", e.id}, {"node", e.node}, {"pid", e.pid}, {"exe", e.exe}};
    AddQos(e.qos, &j);
    AddFigures(e, &j);
    if (e.publisher()) {
      j["pool"] = e.ring && e.ring->pool_id != 0 ? PoolJson(e.ring->pool) : Json(nullptr);
    }
    (e.publisher() ? pubs : subs).push_back(std::move(j));
  }
  const transport::TopicSnapshot& s = t.snapshot;
  return JsonLine({{"topic", t.topic},
                   {"type", t.type_name},
                   {"type_hash", Hex(t.type_hash)},
                   {"descriptor_bytes", t.descriptor_bytes},
                   {"segment", t.segment_found ? Json(s.segment) : Json(nullptr)},
                   {"depth", s.depth},
                   {"slot_size", s.slot_size},
                   {"inline_capacity", s.inline_capacity},
                   {"max_message_size", s.max_message_size},
                   {"max_publishers", s.max_publishers},
                   {"max_subscribers", s.max_subscribers},
                   {"shm_bytes", t.segment_found ? t.shm_bytes() : 0},
                   {"publishers", std::move(pubs)},
                   {"subscribers", std::move(subs)}});
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

std::string DoctorText(const ShmOptions& o, const DoctorReport& r) {
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
  absl::StrAppend(&out, "shared memory: this domain holds ",
                  HumanBytes(static_cast<double>(r.space.domain_bytes)), " in ",
                  r.space.domain_files, r.space.domain_files == 1 ? " file" : " files", "; ",
                  o.dir, " has ", HumanBytes(static_cast<double>(r.space.free_bytes)),
                  " free of ", HumanBytes(static_cast<double>(r.space.total_bytes)), "\n");
  if (const std::string w = r.SpaceWarning(o); !w.empty()) {
    absl::StrAppend(&out, "warning: ", w, "\n");
  }
  return out;
}

std::string DoctorJson(const ShmOptions& o, const DoctorReport& r) {
  const DoctorLists l = Lists(r);
  return JsonLine({{"cleaned", r.cleaned},
                   {"healthy", r.healthy()},
                   {"dead_nodes", l.nodes},
                   {"dead_endpoints", l.endpoints},
                   {"dead_types", l.types},
                   {"stale_topic_entries", r.orphans.stale_topic_entries},
                   {"orphan_topics", r.orphans.orphan_topics},
                   {"orphan_pools", r.orphans.orphan_pools},
                   {"half_made", r.orphans.half_made},
                   {"stuck_entries", r.registry.stuck_entries},
                   {"foreign_files", r.orphans.foreign_files},
                   {"anomalies", r.orphans.anomalies},
                   {"corrupt_pools", r.orphans.corrupt_pools},
                   {"dead_tokens", r.orphans.dead_tokens},
                   {"errors", r.errors},
                   {"space",
                    {{"dir", o.dir},
                     {"domain_bytes", r.space.domain_bytes},
                     {"domain_files", r.space.domain_files},
                     {"largest", r.space.largest},
                     {"largest_bytes", r.space.largest_bytes},
                     {"free_bytes", r.space.free_bytes},
                     {"total_bytes", r.space.total_bytes},
                     {"warning", r.SpaceWarning(o)}}}});
}

}  // namespace ringcast::cli
