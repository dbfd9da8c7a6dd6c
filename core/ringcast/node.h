// core/ringcast/node.h: a named participant of a domain, and the endpoints
// it makes. Every endpoint registers itself (type, descriptor, QoS) in the
// domain's registry, so `ringcast topic list` and `topic echo` see it.
//
//   auto ctx  = ringcast::Context::Create();
//   auto node = ringcast::Node::Create(*ctx, "talker");
//   auto pub  = node->CreatePublisher(demo::topics::kChatter);   // declared
//   auto sub  = node->CreateSubscriber<ringcast::msgs::flat::String>("/chat");
//
// A topic's QoS is its declaration in the .proto (if any), overlaid by the
// context's rules for the topic (YAML, then code), overlaid by the `qos`
// passed here; what no source sets takes the defaults documented in
// core/README.md. The type name, hash, descriptor, inline capacity and pool
// size all follow from T and that QoS.
//
// Thread safety: a Node may be shared by threads; each endpoint is used by
// one thread at a time.
#ifndef RINGCAST_CORE_RINGCAST_NODE_H_
#define RINGCAST_CORE_RINGCAST_NODE_H_

#include <functional>
#include <type_traits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "idl/topic.h"
#include "ringcast/context.h"
#include "ringcast/publisher.h"
#include "ringcast/qos.h"
#include "ringcast/raw.h"
#include "ringcast/string_view.h"
#include "ringcast/subscriber.h"
#include "ringcast/type_support.h"
#include "transport/status_macros.h"

namespace ringcast {

class Executor;

class Node {
 public:
  // Joins (or creates) the domain's registry, reclaims what dead processes
  // left there, and registers node `name` (1..127 of [A-Za-z0-9_], not
  // starting with a digit).
  static absl::StatusOr<Node> Create(const Context& context, std::string_view name);

  Node(Node&&) noexcept = default;
  Node& operator=(Node&&) noexcept = default;
  ~Node() = default;  // the registration goes with the node's last endpoint

  // Typed endpoints on a topic declared in a .proto (pkg::topics::kX).
  template <typename T>
  absl::StatusOr<Publisher<T>> CreatePublisher(const idl::Topic<T>& topic, const Qos& qos = {}) {
    return MakePublisher<T>(topic.name, Declared(topic), qos);
  }
  template <typename T>
  absl::StatusOr<Subscriber<T>> CreateSubscriber(const idl::Topic<T>& topic,
                                                 const Qos& qos = {}) {
    return MakeSubscriber<T>(topic.name, Declared(topic), qos);
  }
  // The callback form: an Executor the node is added to hands every
  // sample to `callback` on its thread.
  template <typename T>
  absl::StatusOr<Subscriber<T>> CreateSubscriber(const idl::Topic<T>& topic,
                                                 std::type_identity_t<std::function<void(Sample<T>)>> callback,
                                                 const Qos& qos = {}) {
    return MakeCallbackSubscriber<T>(topic.name, Declared(topic), std::move(callback), qos);
  }

  // Typed endpoints on a topic without a declaration: T given explicitly.
  template <typename T>
  absl::StatusOr<Publisher<T>> CreatePublisher(std::string_view topic, const Qos& qos = {}) {
    return MakePublisher<T>(topic, Qos(), qos);
  }
  template <typename T>
  absl::StatusOr<Subscriber<T>> CreateSubscriber(std::string_view topic, const Qos& qos = {}) {
    return MakeSubscriber<T>(topic, Qos(), qos);
  }
  template <typename T>
  absl::StatusOr<Subscriber<T>> CreateSubscriber(std::string_view topic,
                                                 std::type_identity_t<std::function<void(Sample<T>)>> callback,
                                                 const Qos& qos = {}) {
    return MakeCallbackSubscriber<T>(topic, Qos(), std::move(callback), qos);
  }

  // Endpoints of a type known at run time (by descriptor). `declared` is
  // what the type's own declaration says, if anything.
  absl::StatusOr<RawPublisher> CreateRawPublisher(std::string_view topic, const TypeSupport& type,
                                                  const Qos& qos = {}, const Qos& declared = {});
  absl::StatusOr<RawSubscriber> CreateRawSubscriber(std::string_view topic,
                                                    const TypeSupport& type, const Qos& qos = {},
                                                    const Qos& declared = {});

  const std::string& name() const;
  // The registry id of the node (unique in the domain).
  std::uint64_t id() const;
  const Context& context() const;

  // The QoS an endpoint of `type` on `topic` gets from these sources and
  // the defaults, every field set; InvalidArgument naming the first field
  // out of range and where it came from.
  absl::StatusOr<Qos> ResolveQos(std::string_view topic, const TypeSupport& type,
                                 const Qos& declared, const Qos& qos) const;

 private:
  friend class Executor;
  explicit Node(std::shared_ptr<internal::NodeState> state) : state_(std::move(state)) {}

  template <typename T>
  static Qos Declared(const idl::Topic<T>& topic) {
    Qos q;
    if (topic.depth != 0) q.depth = topic.depth;
    if (topic.reliability == idl::Reliability::kReliable) q.reliability = ReliabilityPolicy::kReliable;
    if (topic.durability == idl::Durability::kTransientLocal) {
      q.durability = DurabilityPolicy::kTransientLocal;
    }
    if (topic.max_message_size != 0) q.max_message_size = topic.max_message_size;
    return q;
  }
  template <typename T>
  absl::StatusOr<Publisher<T>> MakePublisher(std::string_view topic, const Qos& declared,
                                             const Qos& qos) {
    RINGCAST_ASSIGN_OR_RETURN(RawPublisher raw,
                              CreateRawPublisher(topic, TypeSupport::Of<T>(), qos, declared));
    return Publisher<T>(std::move(raw));
  }
  template <typename T>
  absl::StatusOr<Subscriber<T>> MakeSubscriber(std::string_view topic, const Qos& declared,
                                               const Qos& qos) {
    RINGCAST_ASSIGN_OR_RETURN(RawSubscriber raw,
                              CreateRawSubscriber(topic, TypeSupport::Of<T>(), qos, declared));
    return Subscriber<T>(std::move(raw));
  }
  template <typename T>
  absl::StatusOr<Subscriber<T>> MakeCallbackSubscriber(std::string_view topic,
                                                       const Qos& declared,
                                                       std::type_identity_t<std::function<void(Sample<T>)>> callback,
                                                       const Qos& qos) {
    if (!callback) {
      return absl::InvalidArgumentError(
          absl::StrCat("subscriber on ", internal::ToAbsl(topic), ": the callback is empty"));
    }
    RINGCAST_ASSIGN_OR_RETURN(RawSubscriber raw,
                              CreateRawSubscriber(topic, TypeSupport::Of<T>(), qos, declared));
    auto sub = std::make_shared<internal::TypedCallback<T>>(std::move(raw), std::move(callback));
    AddCallback(sub);
    return Subscriber<T>(std::shared_ptr<internal::CallbackSubscription>(std::move(sub)));
  }
  void AddCallback(std::shared_ptr<internal::CallbackSubscription> sub);


  std::shared_ptr<internal::NodeState> state_;
};

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_NODE_H_
