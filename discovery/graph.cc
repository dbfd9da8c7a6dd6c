// discovery/graph.cc: joins a registry snapshot with the topic segments'
// snapshots into the graph of graph.h.
#include "discovery/graph.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "transport/names.h"

namespace ringcast::discovery {
namespace {

bool ByKindThenId(const EndpointRecord* a, const EndpointRecord* b) {
  return std::tie(a->kind, a->id) < std::tie(b->kind, b->id);
}

// Finds each endpoint's ring or subscriber entry in `snapshot`: the one at
// its transport index (which comes from shared memory, so it is looked
// up, never used as an index) that is active and carries its id.
void MatchEndpoints(const transport::TopicSnapshot& snapshot, GraphTopic* topic) {
  for (GraphEndpoint& e : topic->endpoints) {
    if (e.publisher()) {
      const transport::RingSnapshot* r = snapshot.ring(e.transport_index);
      if (r != nullptr && r->state == transport::EntryPhase::kActive &&
          r->publisher_id == e.transport_id) {
        e.ring = *r;
      }
    } else {
      const transport::SubscriberSnapshot* s = snapshot.subscriber(e.transport_index);
      if (s != nullptr && s->state == transport::EntryPhase::kActive &&
          s->subscriber_id == e.transport_id) {
        e.subscriber = *s;
      }
    }
  }
}

// Topic `name` from its registered endpoints `mine`.
GraphTopic MakeTopic(const std::string& name, std::vector<const EndpointRecord*> mine,
                     const RegistrySnapshot& registry,
                     const absl::flat_hash_map<std::uint64_t, std::string>& node_names) {
  GraphTopic t;
  t.topic = name;
  std::stable_sort(mine.begin(), mine.end(), ByKindThenId);
  for (const EndpointRecord* e : mine) {
    const bool publisher = e->kind == EndpointKind::kPublisher;
    if (t.type_name.empty() || publisher) {
      t.type_name = e->type_name;
      t.type_hash = e->type_hash;
    }
    (publisher ? t.publishers : t.subscribers)++;
    GraphEndpoint g;
    g.kind = e->kind;
    g.id = e->id;
    g.node_id = e->node_id;
    auto it = node_names.find(e->node_id);
    g.node = it == node_names.end() ? "?" : it->second;
    g.pid = e->owner.pid;
    g.exe = e->owner.exe;
    g.qos = e->qos;
    g.transport_index = e->transport_index;
    g.transport_id = e->transport_id;
    t.endpoints.push_back(std::move(g));
  }
  for (const TypeRecord& type : registry.types) {
    if (type.name == t.type_name && type.hash == t.type_hash) {
      t.descriptor_bytes = type.descriptor.size();
    }
  }
  return t;
}

// Reads topic `t`'s segment into it. Returns the segment's error for a
// named topic (`named`) that cannot be described; for a listing, the
// error is kept in the topic instead.
absl::Status ReadSegment(const transport::ShmOptions& options, const GraphOptions& go,
                         bool named, GraphTopic* t) {
  absl::StatusOr<transport::TopicObserver> observer =
      transport::TopicObserver::Open(options, t->topic);
  if (!observer.ok()) {
    if (absl::IsNotFound(observer.status())) {
      if (named && t->endpoints.empty()) {
        return absl::NotFoundError(absl::StrCat("no topic ", t->topic, " in domain ",
                                                options.domain, " (prefix ", options.prefix,
                                                ")"));
      }
      return absl::OkStatus();
    }
    if (named) return observer.status();
    t->segment_error = std::string(observer.status().message());
    return absl::OkStatus();
  }
  t->segment_found = true;
  t->snapshot = observer->Snapshot(go.with_recent, go.with_pools);
  if (t->type_name.empty()) {
    t->type_name = t->snapshot.type_name;
    t->type_hash = t->snapshot.type_hash;
  }
  MatchEndpoints(t->snapshot, t);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Graph> BuildGraph(const transport::ShmOptions& options,
                                 const RegistrySnapshot& registry,
                                 const GraphOptions& graph_options) {
  Graph graph;
  graph.generation = registry.generation;

  // Nodes, each with its endpoints.
  absl::flat_hash_map<std::uint64_t, std::string> node_names;
  absl::flat_hash_map<std::uint64_t, std::vector<const EndpointRecord*>> by_node;
  for (const NodeRecord& n : registry.nodes) node_names[n.id] = n.name;
  for (const EndpointRecord& e : registry.endpoints) by_node[e.node_id].push_back(&e);
  for (const NodeRecord& n : registry.nodes) {
    GraphNode node;
    node.name = n.name;
    node.id = n.id;
    node.pid = n.owner.pid;
    node.exe = n.exe;
    node.start_time = n.owner.start_time;
    if (auto it = by_node.find(n.id); it != by_node.end()) {
      std::vector<const EndpointRecord*> mine = it->second;
      std::stable_sort(mine.begin(), mine.end(), ByKindThenId);
      for (const EndpointRecord* e : mine) {
        (e->kind == EndpointKind::kPublisher ? node.publishers : node.subscribers)++;
        node.endpoints.push_back(NodeEndpoint{e->kind, e->id, e->topic, e->type_name});
      }
    }
    graph.nodes.push_back(std::move(node));
  }
  std::sort(graph.nodes.begin(), graph.nodes.end(), [](const GraphNode& a, const GraphNode& b) {
    return std::tie(a.name, a.pid, a.id) < std::tie(b.name, b.pid, b.id);
  });

  // Topics: every registered one, or the named ones in the order named.
  std::map<std::string, std::vector<const EndpointRecord*>> by_topic;
  for (const EndpointRecord& e : registry.endpoints) by_topic[e.topic].push_back(&e);
  const bool named = !graph_options.topics.empty();
  std::vector<std::string> names;
  if (named) {
    for (const std::string& t : graph_options.topics) {
      if (absl::Status s = transport::ValidateTopicName(t); !s.ok()) return s;
      if (std::find(names.begin(), names.end(), t) == names.end()) names.push_back(t);
    }
  } else {
    for (const auto& [topic, endpoints] : by_topic) names.push_back(topic);
  }
  for (const std::string& name : names) {
    auto it = by_topic.find(name);
    GraphTopic t =
        MakeTopic(name, it == by_topic.end() ? std::vector<const EndpointRecord*>{} : it->second,
                  registry, node_names);
    if (graph_options.with_snapshots) {
      if (absl::Status s = ReadSegment(options, graph_options, named, &t); !s.ok()) return s;
    } else if (named && t.endpoints.empty()) {
      return absl::NotFoundError(absl::StrCat("no topic ", name, " registered in domain ",
                                              options.domain, " (prefix ", options.prefix, ")"));
    }
    graph.topics.push_back(std::move(t));
  }

  for (const TypeRecord& type : registry.types) {
    graph.types.push_back(GraphType{type.name, type.hash, type.descriptor});
  }
  std::sort(graph.types.begin(), graph.types.end(), [](const GraphType& a, const GraphType& b) {
    return std::tie(a.name, a.hash) < std::tie(b.name, b.hash);
  });
  return graph;
}

absl::StatusOr<Graph> ReadGraph(const Registry& registry, const GraphOptions& graph_options) {
  return BuildGraph(registry.options(), registry.Read(), graph_options);
}

}  // namespace ringcast::discovery
