// discovery/graph.h: a domain as a graph: its nodes with their endpoints,
// its topics with their publishers and subscribers (node, pid, QoS, and
// what the topic segment says about each: the ring or subscriber entry
// found by transport index and id), and its message types. Who is there
// comes from the registry; how each topic is doing, from transport's
// read-only snapshots (transport/inspect.h). The `ringcast` verbs render
// this; nothing here prints.
//
//   auto reg = Registry::Open(options);
//   reg->ReclaimDead();  // optional: without it the dead are listed too
//   GraphOptions go;
//   go.topics = {"/imu"};
//   absl::StatusOr<Graph> g = ReadGraph(*reg, go);
//   for (const GraphEndpoint& e : g->topics[0].endpoints) ...
#ifndef RINGCAST_DISCOVERY_GRAPH_H_
#define RINGCAST_DISCOVERY_GRAPH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "discovery/registry.h"
#include "transport/inspect.h"
#include "transport/shm_options.h"

namespace ringcast::discovery {

struct GraphOptions {
  // The topics to describe; empty = every topic the registry knows. A
  // named topic the registry does not know is described from its segment
  // alone (with_snapshots), and is NotFound if it has none.
  std::vector<std::string> topics;
  // Map each topic's segment and snapshot it (rings, subscribers, lag).
  bool with_snapshots = true;
  // Snapshots include each ring's recent samples (publish times, sizes).
  bool with_recent = false;
  // Snapshots say what each publisher's pool commits (maps its segments).
  bool with_pools = false;
};

// One endpoint as its node lists it.
struct NodeEndpoint {
  EndpointKind kind = EndpointKind::kPublisher;
  std::uint64_t id = 0;  // registry id
  std::string topic;
  std::string type_name;
};

struct GraphNode {
  std::string name;
  std::uint64_t id = 0;
  std::uint32_t pid = 0;
  std::string exe;
  std::uint64_t start_time = 0;
  int publishers = 0;
  int subscribers = 0;
  std::vector<NodeEndpoint> endpoints;  // publishers first, each kind by id
};

// One publisher or subscriber of a topic.
struct GraphEndpoint {
  EndpointKind kind = EndpointKind::kPublisher;
  std::uint64_t id = 0;  // registry id
  std::uint64_t node_id = 0;
  std::string node;  // "?" when its node is not registered
  std::uint32_t pid = 0;
  std::string exe;
  QosSummary qos;
  std::uint32_t transport_index = kNoTransport;  // ring or subscriber entry
  std::uint64_t transport_id = 0;                // publisher or subscriber id there
  // With snapshots: its active ring (publishers) or subscriber entry
  // (subscribers), when one at transport_index carries transport_id.
  std::optional<transport::RingSnapshot> ring;
  std::optional<transport::SubscriberSnapshot> subscriber;

  bool publisher() const { return kind == EndpointKind::kPublisher; }
  bool in_segment() const { return ring.has_value() || subscriber.has_value(); }
};

struct GraphTopic {
  std::string topic;
  // Its publishers' type (the newest publisher's), else its oldest
  // subscriber's, else its segment's.
  std::string type_name;
  std::uint64_t type_hash = 0;
  std::uint64_t descriptor_bytes = 0;  // stored FileDescriptorSet, 0 = none
  int publishers = 0;
  int subscribers = 0;
  std::vector<GraphEndpoint> endpoints;  // publishers first, each kind by registry id
  // With snapshots: whether its segment was read, and what it said.
  bool segment_found = false;
  transport::TopicSnapshot snapshot;  // meaningful when segment_found
  std::string segment_error;          // why a segment that exists could not be read

  // The topic segment and its publishers' pools, in bytes.
  std::uint64_t shm_bytes() const { return snapshot.segment_bytes + snapshot.pool_bytes; }
};

struct GraphType {
  std::string name;
  std::uint64_t hash = 0;
  std::string descriptor;  // serialized FileDescriptorSet; may be empty
};

struct Graph {
  std::uint32_t generation = 0;  // the registry's, when it was read
  std::vector<GraphNode> nodes;  // by name, pid, id
  std::vector<GraphTopic> topics;  // by name, or as GraphOptions::topics names them
  std::vector<GraphType> types;  // by name, hash
};

// Builds the graph of `registry`, a snapshot of options' domain's registry
// (empty when the domain has none). Errors only for topics named in
// `graph_options`: InvalidArgument for a malformed name, NotFound for a
// topic neither the registry nor a segment knows, the segment's error for
// one that cannot be read.
absl::StatusOr<Graph> BuildGraph(const transport::ShmOptions& options,
                                 const RegistrySnapshot& registry,
                                 const GraphOptions& graph_options = {});

// Reads `registry` and builds its graph. Reclaims nothing: call
// Registry::ReclaimDead first to leave the dead out.
absl::StatusOr<Graph> ReadGraph(const Registry& registry, const GraphOptions& graph_options = {});

}  // namespace ringcast::discovery

#endif  // RINGCAST_DISCOVERY_GRAPH_H_
