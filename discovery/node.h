// discovery/node.h: transport endpoints that register themselves. Until
// core/ exists, this is where an endpoint is made for a user (design.md,
// "Discovery registry"): a Node registers once; CreatePublisher and
// CreateSubscriber open a transport::Writer / transport::Reader and record
// it in the registry; the handles unregister when closed or destroyed.
//
//   auto node = Node::Create(options, "camera");
//   EndpointOptions eo;
//   eo.topic.type_name = "demo.Image";
//   auto pub = node->CreatePublisher("/camera/image", eo);
//   pub->writer().Publish(bytes);
//   auto sub = node->CreateSubscriber("/camera/image", eo);
//   sub->WaitForPublisher(absl::Seconds(5));  // sleeps on the registry futex
//
// Handles hold the node's registration alive: the node entry goes when the
// Node and every endpoint it made are gone.
#ifndef RINGCAST_DISCOVERY_NODE_H_
#define RINGCAST_DISCOVERY_NODE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "discovery/registry.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace ringcast::discovery {

// How an endpoint is made: the topic segment's configuration (type name
// and hash included), the QoS recorded beside it, and the type's
// serialized FileDescriptorSet, stored once per type (may be empty).
struct EndpointOptions {
  transport::TopicConfig topic;
  bool reliable = false;
  bool transient_local = false;
  std::string descriptor;
  transport::ReaderOptions reader;  // subscribers only; transient_local is
                                    // taken from the field above
};

namespace internal {
struct NodeState;  // the registry and the node's entry, shared by handles
}

class Publisher {
 public:
  Publisher(Publisher&&) noexcept;
  Publisher& operator=(Publisher&&) noexcept;
  ~Publisher();

  transport::Writer& writer() { return *writer_; }
  absl::Status Publish(absl::Span<const std::byte> payload) { return writer_->Publish(payload); }
  // The registry entry's id (unique in the domain).
  std::uint64_t id() const { return entry_.id; }
  // Closes the writer and unregisters. Idempotent.
  void Close();

 private:
  friend class Node;
  Publisher(std::shared_ptr<internal::NodeState> node, EntryHandle entry,
            std::unique_ptr<transport::Writer> writer)
      : node_(std::move(node)), entry_(entry), writer_(std::move(writer)) {}

  std::shared_ptr<internal::NodeState> node_;
  EntryHandle entry_;
  std::unique_ptr<transport::Writer> writer_;
};

class Subscriber {
 public:
  Subscriber(Subscriber&&) noexcept;
  Subscriber& operator=(Subscriber&&) noexcept;
  ~Subscriber();

  transport::Reader& reader() { return *reader_; }
  std::uint64_t id() const { return entry_.id; }
  const std::string& topic() const { return topic_; }

  // Returns OK once a live publisher of this topic is registered,
  // DeadlineExceeded after `timeout`. Sleeps on the registry's generation
  // futex between checks; never polls.
  absl::Status WaitForPublisher(absl::Duration timeout);

  void Close();

 private:
  friend class Node;
  Subscriber(std::shared_ptr<internal::NodeState> node, EntryHandle entry,
             std::unique_ptr<transport::Reader> reader, std::string topic)
      : node_(std::move(node)), entry_(entry), reader_(std::move(reader)),
        topic_(std::move(topic)) {}

  std::shared_ptr<internal::NodeState> node_;
  EntryHandle entry_;
  std::unique_ptr<transport::Reader> reader_;
  std::string topic_;
};

class Node {
 public:
  // Joins (or creates) the domain's registry, reclaims what dead processes
  // left there, and registers node `name`.
  static absl::StatusOr<Node> Create(const transport::ShmOptions& options,
                                     absl::string_view name,
                                     const RegistryConfig& config = {});

  Node(Node&&) noexcept = default;
  Node& operator=(Node&&) noexcept = default;
  ~Node() = default;  // the entry goes with the last handle

  absl::StatusOr<Publisher> CreatePublisher(absl::string_view topic,
                                            const EndpointOptions& options);
  absl::StatusOr<Subscriber> CreateSubscriber(absl::string_view topic,
                                              const EndpointOptions& options);

  const std::string& name() const;
  std::uint64_t id() const;
  Registry& registry() const;

 private:
  explicit Node(std::shared_ptr<internal::NodeState> state) : state_(std::move(state)) {}
  absl::StatusOr<EntryHandle> Register(EndpointKind kind, absl::string_view topic,
                                       const EndpointOptions& options);

  std::shared_ptr<internal::NodeState> state_;
};

}  // namespace ringcast::discovery

#endif  // RINGCAST_DISCOVERY_NODE_H_
