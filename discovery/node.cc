#include "discovery/node.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/liveness.h"
#include "transport/status_macros.h"

namespace ringcast::discovery {
namespace internal {

struct NodeState {
  NodeState(Registry r, EntryHandle e, std::string n, ProcessIdentity i)
      : registry(std::move(r)), entry(e), name(std::move(n)), me(std::move(i)) {}
  ~NodeState() {
    registry.RemoveNode(entry);
    registry.Leave();  // unlinks the registry if we were its last user
  }
  Registry registry;
  EntryHandle entry;
  std::string name;
  ProcessIdentity me;
};

}  // namespace internal

absl::StatusOr<Node> Node::Create(const transport::ShmOptions& options, absl::string_view name,
                                  const RegistryConfig& config) {
  RINGCAST_ASSIGN_OR_RETURN(ProcessIdentity me, ProcessIdentity::Self(options));
  RINGCAST_ASSIGN_OR_RETURN(Registry registry, Registry::OpenOrCreate(options, config));
  // Joining is one of the moments the dead are noticed.
  registry.ReclaimDead();
  absl::StatusOr<EntryHandle> entry = registry.AddNode(name, me);
  if (!entry.ok()) {
    registry.Leave();
    return entry.status();
  }
  return Node(std::make_shared<internal::NodeState>(std::move(registry), *entry,
                                                    std::string(name), std::move(me)));
}

const std::string& Node::name() const { return state_->name; }
std::uint64_t Node::id() const { return state_->entry.id; }
Registry& Node::registry() const { return state_->registry; }

absl::StatusOr<EntryHandle> Node::Register(EndpointKind kind, absl::string_view topic,
                                           const EndpointOptions& options) {
  RINGCAST_RETURN_IF_ERROR(transport::ValidateTopicConfig(options.topic));
  Registry& r = state_->registry;
  RINGCAST_RETURN_IF_ERROR(r.AddType(options.topic.type_name, options.topic.type_hash,
                                     options.descriptor, state_->me));
  EndpointSpec spec;
  spec.kind = kind;
  spec.topic = std::string(topic);
  spec.type_name = options.topic.type_name;
  spec.type_hash = options.topic.type_hash;
  spec.qos.depth = options.topic.depth;
  spec.qos.max_message_size = options.topic.max_message_size;
  spec.qos.reliable = options.reliable;
  spec.qos.transient_local = options.transient_local;
  // Registered before the transport endpoint exists, so a crash in between
  // leaves an entry whose topic the reclaimer knows to clean.
  return r.AddEndpoint(state_->entry, spec, state_->me);
}

absl::StatusOr<Publisher> Node::CreatePublisher(absl::string_view topic,
                                                const EndpointOptions& options) {
  RINGCAST_ASSIGN_OR_RETURN(const EntryHandle entry,
                            Register(EndpointKind::kPublisher, topic, options));
  Registry& r = state_->registry;
  absl::StatusOr<transport::Writer> w =
      transport::Writer::Create(r.options(), topic, options.topic);
  if (!w.ok()) {
    r.RemoveEndpoint(entry);
    return w.status();
  }
  auto writer = std::make_unique<transport::Writer>(*std::move(w));
  r.SetTransport(entry, writer->ring_index(), writer->publisher_id());
  return Publisher(state_, entry, std::move(writer));
}

absl::StatusOr<Subscriber> Node::CreateSubscriber(absl::string_view topic,
                                                  const EndpointOptions& options) {
  RINGCAST_ASSIGN_OR_RETURN(const EntryHandle entry,
                            Register(EndpointKind::kSubscriber, topic, options));
  Registry& r = state_->registry;
  transport::ReaderOptions ro = options.reader;
  ro.transient_local = options.transient_local;
  absl::StatusOr<transport::Reader> rd =
      transport::Reader::Create(r.options(), topic, options.topic, ro);
  if (!rd.ok()) {
    r.RemoveEndpoint(entry);
    return rd.status();
  }
  auto reader = std::make_unique<transport::Reader>(*std::move(rd));
  r.SetTransport(entry, reader->subscriber_index(), reader->subscriber_id());
  return Subscriber(state_, entry, std::move(reader), std::string(topic));
}

Publisher::Publisher(Publisher&& other) noexcept
    : node_(std::move(other.node_)), entry_(other.entry_), writer_(std::move(other.writer_)) {}

Publisher& Publisher::operator=(Publisher&& other) noexcept {
  if (this != &other) {
    Close();
    node_ = std::move(other.node_);
    entry_ = other.entry_;
    writer_ = std::move(other.writer_);
  }
  return *this;
}

Publisher::~Publisher() { Close(); }

void Publisher::Close() {
  if (node_ == nullptr) return;
  writer_.reset();  // the ring first: the entry stays while it exists
  node_->registry.RemoveEndpoint(entry_);
  node_.reset();
}

Subscriber::Subscriber(Subscriber&& other) noexcept
    : node_(std::move(other.node_)), entry_(other.entry_), reader_(std::move(other.reader_)),
      topic_(std::move(other.topic_)) {}

Subscriber& Subscriber::operator=(Subscriber&& other) noexcept {
  if (this != &other) {
    Close();
    node_ = std::move(other.node_);
    entry_ = other.entry_;
    reader_ = std::move(other.reader_);
    topic_ = std::move(other.topic_);
  }
  return *this;
}

Subscriber::~Subscriber() { Close(); }

void Subscriber::Close() {
  if (node_ == nullptr) return;
  reader_.reset();
  node_->registry.RemoveEndpoint(entry_);
  node_.reset();
}

absl::Status Subscriber::WaitForPublisher(absl::Duration timeout) {
  if (node_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("subscriber on ", topic_, " is closed"));
  }
  Registry& r = node_->registry;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    // Read the generation first: a publisher registered after the scan
    // below bumps it, and the wait returns at once.
    const std::uint32_t seen = r.generation();
    transport::LivenessCache live(r.options());
    for (const EndpointRecord& e : r.Read(/*with_types=*/false).endpoints) {
      if (e.kind == EndpointKind::kPublisher && e.topic == topic_ && live.IsAlive(e.owner.token)) {
        return absl::OkStatus();
      }
    }
    const absl::Duration left = deadline - absl::Now();
    absl::Status s = r.WaitForChange(seen, std::max(left, absl::ZeroDuration()));
    if (absl::IsDeadlineExceeded(s)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no publisher on ", topic_, " registered within ", absl::FormatDuration(timeout)));
    }
    if (!s.ok()) return s;
  }
}

}  // namespace ringcast::discovery
