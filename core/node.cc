#include "ringcast/node.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node_state.h"
#include "ringcast/string_view.h"
#include "transport/names.h"
#include "transport/pool_options.h"
#include "transport/topic.h"
#include "transport/writer.h"

namespace ringcast {
namespace {

// What no source sets (core/README.md lists these).
constexpr std::uint32_t kDefaultDepth = 16;
constexpr absl::Duration kDefaultReliableTimeout = absl::Milliseconds(100);
constexpr std::uint32_t kDefaultInline = 48;  // a slot of one cache line
constexpr std::uint32_t kMaxDefaultInline = 1024;
constexpr std::uint64_t kDefaultVariableMax = 4096;
constexpr std::uint32_t kDefaultHeld = 4;
constexpr std::uint32_t kDefaultPublishers = 8;
constexpr std::uint32_t kDefaultSubscribers = 16;

// Fills what `q` leaves unset with the defaults for `type`.
void FillDefaults(const TypeSupport& type, Qos* q) {
  if (!q->depth) q->depth = kDefaultDepth;
  if (!q->reliability) q->reliability = ReliabilityPolicy::kBestEffort;
  if (!q->reliable_timeout) q->reliable_timeout = kDefaultReliableTimeout;
  if (!q->durability) q->durability = DurabilityPolicy::kVolatile;
  if (!q->inline_capacity) {
    // A fixed-size message travels inline when it is small; the slot then
    // fills its cache lines.
    const bool small = type.fixed_size && type.head_size <= kMaxDefaultInline;
    q->inline_capacity =
        small ? std::max(kDefaultInline, transport::InlineCapacityFillingLines(type.head_size))
              : kDefaultInline;
  }
  if (!q->max_message_size) {
    if (type.fixed_size) {
      q->max_message_size = type.head_size <= *q->inline_capacity ? 0 : type.head_size;
    } else {
      q->max_message_size = kDefaultVariableMax;
    }
  }
  if (!q->max_held_samples) q->max_held_samples = kDefaultHeld;
  if (!q->max_publishers) q->max_publishers = kDefaultPublishers;
  if (!q->max_subscribers) q->max_subscribers = kDefaultSubscribers;
  // The publisher's own pool: the transport's defaults.
  const transport::PoolChainOptions pool;
  if (!q->pool_initial_chunks) q->pool_initial_chunks = pool.initial_chunks;
  if (!q->pool_release_after) q->pool_release_after = pool.idle;
}

// InvalidArgument for a source of QoS that is out of range.
absl::Status CheckSource(const Qos& q, std::string_view topic, std::string_view source) {
  if (absl::Status s = ValidateQos(q); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("QoS of ", internal::ToAbsl(topic), " from ",
                                                   internal::ToAbsl(source), ": ", s.message()));
  }
  return absl::OkStatus();
}

// The one place a QoS becomes a topic segment's configuration.
transport::TopicConfig ToTopicConfig(const Qos& q, const TypeSupport& type) {
  transport::TopicConfig c;
  c.type_name = std::string(type.type_name);
  c.type_hash = type.type_hash;
  c.depth = *q.depth;
  c.inline_capacity = *q.inline_capacity;
  c.max_publishers = *q.max_publishers;
  c.max_subscribers = *q.max_subscribers;
  c.max_held_samples = *q.max_held_samples;
  c.max_message_size = *q.max_message_size;
  return c;
}

// The QoS in force once the topic exists: its creator's geometry wins for
// what the segment fixes.
Qos FromGeometry(Qos q, const transport::TopicGeometry& g) {
  q.depth = g.depth;
  q.inline_capacity = g.inline_capacity;
  q.max_publishers = g.max_publishers;
  q.max_subscribers = g.max_subscribers;
  q.max_held_samples = g.max_held_samples;
  q.max_message_size = g.max_message_size;
  return q;
}

discovery::QosSummary Summary(const Qos& q) {
  discovery::QosSummary s;
  s.depth = *q.depth;
  s.reliable = *q.reliability == ReliabilityPolicy::kReliable;
  s.transient_local = *q.durability == DurabilityPolicy::kTransientLocal;
  s.max_message_size = *q.max_message_size;
  return s;
}

// Stores `type` and registers an endpoint of it with QoS `q` for node `n`.
absl::StatusOr<discovery::EntryHandle> Register(internal::NodeState& n,
                                                discovery::EndpointKind kind,
                                                std::string_view topic, const TypeSupport& type,
                                                const Qos& q) {
  discovery::Registry& r = n.registry;
  RINGCAST_RETURN_IF_ERROR(r.AddType(internal::ToAbsl(type.type_name), type.type_hash,
                                     internal::ToAbsl(type.descriptor_set), n.me));
  discovery::EndpointSpec spec;
  spec.kind = kind;
  spec.topic = std::string(topic);
  spec.type_name = std::string(type.type_name);
  spec.type_hash = type.type_hash;
  spec.qos = Summary(q);
  // Registered before the transport endpoint exists, so a crash in between
  // leaves an entry whose topic the reclaimer knows to clean.
  return r.AddEndpoint(n.entry, spec, n.me);
}

}  // namespace

std::vector<std::shared_ptr<internal::CallbackSubscription>> internal::NodeState::Callbacks() {
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::shared_ptr<CallbackSubscription>> live;
  std::erase_if(callbacks, [&](const std::weak_ptr<CallbackSubscription>& w) {
    std::shared_ptr<CallbackSubscription> s = w.lock();
    if (s == nullptr) return true;
    live.push_back(std::move(s));
    return false;
  });
  return live;
}

absl::StatusOr<Node> Node::Create(const Context& context, std::string_view name) {
  const transport::ShmOptions& options = context.shm();
  RINGCAST_ASSIGN_OR_RETURN(discovery::ProcessIdentity me,
                            discovery::ProcessIdentity::Self(options));
  RINGCAST_ASSIGN_OR_RETURN(discovery::Registry registry,
                            discovery::Registry::OpenOrCreate(options, context.registry_config()));
  // Joining is one of the moments the dead are noticed.
  registry.ReclaimDead();
  absl::StatusOr<discovery::EntryHandle> entry = registry.AddNode(internal::ToAbsl(name), me);
  if (!entry.ok()) {
    registry.Leave();
    return entry.status();
  }
  return Node(std::make_shared<internal::NodeState>(std::move(registry), *entry,
                                                    std::string(name), std::move(me), context));
}

const std::string& Node::name() const { return state_->name; }
std::uint64_t Node::id() const { return state_->entry.id; }
const Context& Node::context() const { return state_->context; }

absl::StatusOr<Qos> Node::ResolveQos(std::string_view topic, const TypeSupport& type,
                                     const Qos& declared, const Qos& qos) const {
  RINGCAST_RETURN_IF_ERROR(transport::ValidateTopicName(internal::ToAbsl(topic)));
  const Qos configured = state_->context.QosFor(topic);
  RINGCAST_RETURN_IF_ERROR(CheckSource(declared, topic, "its declaration in the .proto"));
  RINGCAST_RETURN_IF_ERROR(CheckSource(
      configured, topic,
      state_->context.config_file().empty()
          ? std::string("the context's rules")
          : absl::StrCat("the configuration (", state_->context.config_file(), ")")));
  RINGCAST_RETURN_IF_ERROR(CheckSource(qos, topic, "the Qos given in code"));
  Qos q = declared;
  q.Overlay(configured).Overlay(qos);
  FillDefaults(type, &q);
  if (absl::Status s = transport::ValidateTopicConfig(ToTopicConfig(q, type)); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("QoS of ", internal::ToAbsl(topic),
                                                   " for type ", internal::ToAbsl(type.type_name),
                                                   ": ", s.message()));
  }
  return q;
}

absl::StatusOr<RawPublisher> Node::CreateRawPublisher(std::string_view topic,
                                                      const TypeSupport& type, const Qos& qos,
                                                      const Qos& declared) {
  RINGCAST_ASSIGN_OR_RETURN(Qos q, ResolveQos(topic, type, declared, qos));
  discovery::Registry& r = state_->registry;
  RINGCAST_ASSIGN_OR_RETURN(const discovery::EntryHandle entry,
                            Register(*state_, discovery::EndpointKind::kPublisher, topic, type, q));
  transport::WriterOptions wo;
  wo.reliable_timeout = *q.reliable_timeout;
  wo.keep_history = *q.durability == DurabilityPolicy::kTransientLocal;
  wo.pool.initial_chunks = *q.pool_initial_chunks;
  wo.pool.idle = *q.pool_release_after;
  absl::StatusOr<transport::Writer> w = transport::Writer::Create(
      r.options(), internal::ToAbsl(topic), ToTopicConfig(q, type), wo);
  if (!w.ok()) {
    r.RemoveEndpoint(entry);
    return w.status();
  }
  auto writer = std::make_unique<transport::Writer>(*std::move(w));
  r.SetTransport(entry, writer->ring_index(), writer->publisher_id());
  q = FromGeometry(std::move(q), writer->topic().geometry());
  return RawPublisher(state_, entry, std::move(writer), std::string(topic), type, q);
}

absl::StatusOr<RawSubscriber> Node::CreateRawSubscriber(std::string_view topic,
                                                        const TypeSupport& type,
                                                        const Qos& qos, const Qos& declared) {
  RINGCAST_ASSIGN_OR_RETURN(Qos q, ResolveQos(topic, type, declared, qos));
  discovery::Registry& r = state_->registry;
  RINGCAST_ASSIGN_OR_RETURN(const discovery::EntryHandle entry,
                            Register(*state_, discovery::EndpointKind::kSubscriber, topic, type, q));
  transport::ReaderOptions ro;
  ro.transient_local = *q.durability == DurabilityPolicy::kTransientLocal;
  ro.reliable = *q.reliability == ReliabilityPolicy::kReliable;
  absl::StatusOr<transport::Reader> rd =
      transport::Reader::Create(r.options(), internal::ToAbsl(topic), ToTopicConfig(q, type), ro);
  if (!rd.ok()) {
    r.RemoveEndpoint(entry);
    return rd.status();
  }
  auto reader = std::make_unique<transport::Reader>(*std::move(rd));
  r.SetTransport(entry, reader->subscriber_index(), reader->subscriber_id());
  q = FromGeometry(std::move(q), reader->topic().geometry());
  return RawSubscriber(state_, entry, std::move(reader), std::string(topic), type, q);
}

void Node::AddCallback(std::shared_ptr<internal::CallbackSubscription> sub) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->callbacks.push_back(sub);
  // Release: an executor that acquires the new version sees the list.
  state_->version.fetch_add(1, std::memory_order_release);
}

}  // namespace ringcast
