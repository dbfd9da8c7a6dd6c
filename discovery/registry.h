// discovery/registry.h: the per-domain discovery registry, a shared-memory
// segment that knows every node, publisher, subscriber and message type of
// a domain (docs/architecture.md). There is no daemon: every
// process registers its own entries, and whoever notices a dead process's
// entries first (a join, a listing, the doctor) reclaims them.
//
//   auto reg = Registry::OpenOrCreate(options);
//   auto node = reg->AddNode("camera", ProcessIdentity::Self(options).value());
//   ...
//   std::uint32_t seen = reg->generation();
//   reg->WaitForChange(seen, absl::Seconds(1));  // futex, not polling
//
// Thread safety: a Registry may be used from several threads at once; all
// shared state lives in the segment and every change is a CAS.
#ifndef RINGCAST_DISCOVERY_REGISTRY_H_
#define RINGCAST_DISCOVERY_REGISTRY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "discovery/registry_config.h"
#include "discovery/registry_layout.h"
#include "transport/segment.h"
#include "transport/shm_options.h"

namespace ringcast::discovery {

using internal::EndpointKind;

// EndpointRecord::transport_index of an endpoint whose ring or subscriber
// entry does not exist (yet).
inline constexpr std::uint32_t kNoTransport = internal::kNoTransport;

// "/<prefix>.<domain>.registry".
std::string RegistrySegmentName(const transport::ShmOptions& options);

// Who owns an entry: the liveness token (the authority), and the pid,
// start time and PID namespace recorded for people to read (and to prove a
// reused pid dead within one namespace).
struct ProcessIdentity {
  std::uint64_t token = 0;
  std::uint32_t pid = 0;
  std::uint64_t start_time = 0;
  std::uint64_t pid_ns = 0;
  std::string exe;

  // This process, with its liveness token for options' domain.
  static absl::StatusOr<ProcessIdentity> Self(const transport::ShmOptions& options);
};

// QoS as recorded for listings.
struct QosSummary {
  std::uint32_t depth = 0;
  bool reliable = false;
  bool transient_local = false;
  std::uint64_t max_message_size = 0;
};

// What a caller asks to register. Names are validated: topic by the ROS
// rules, type_name 1..127 bytes without NUL.
struct EndpointSpec {
  EndpointKind kind = EndpointKind::kPublisher;
  std::string topic;
  std::string type_name;
  std::uint64_t type_hash = 0;
  QosSummary qos;
};

// Copies of entries, as a listing reads them.
struct NodeRecord {
  std::uint32_t index = 0;
  std::uint64_t id = 0;
  std::string name;
  std::string exe;
  ProcessIdentity owner;
};
struct EndpointRecord {
  std::uint32_t index = 0;
  std::uint64_t id = 0;
  EndpointKind kind = EndpointKind::kPublisher;
  std::uint64_t node_id = 0;
  std::uint32_t node_index = 0;
  std::string topic;
  std::string type_name;
  std::uint64_t type_hash = 0;
  QosSummary qos;
  std::uint32_t transport_index = kNoTransport;
  std::uint64_t transport_id = 0;
  ProcessIdentity owner;
};
struct TypeRecord {
  std::uint32_t index = 0;
  std::string name;
  std::uint64_t hash = 0;
  std::string descriptor;  // serialized FileDescriptorSet; may be empty
};
struct RegistrySnapshot {
  std::uint32_t generation = 0;  // read before the tables
  std::vector<NodeRecord> nodes;
  std::vector<EndpointRecord> endpoints;
  std::vector<TypeRecord> types;
};

// What a reclaiming pass found and did.
struct ReclaimReport {
  std::vector<NodeRecord> dead_nodes;
  std::vector<EndpointRecord> dead_endpoints;
  std::vector<TypeRecord> dead_types;     // types no live endpoint uses
  std::vector<std::string> topics_unlinked;  // topic segment names
  // Entries a process died claiming, releasing or reclaiming ("endpoint
  // entry 17: claiming, holder dead").
  std::vector<std::string> stuck_entries;
  std::vector<std::string> errors;        // what could not be reclaimed
  int topic_entries_freed = 0;            // rings and subscriber entries
  int liveness_files_removed = 0;
  bool empty() const {
    return dead_nodes.empty() && dead_endpoints.empty() && dead_types.empty() &&
           stuck_entries.empty();
  }
};

class Registry {
 public:
  // Opens the domain's registry as a participant, creating it from `config`
  // if absent. DataLoss if its header is corrupt, FailedPrecondition on a
  // version mismatch, PermissionDenied if another user owns it.
  static absl::StatusOr<Registry> OpenOrCreate(const transport::ShmOptions& options,
                                               const RegistryConfig& config = {});
  // Opens an existing registry as a participant (so it can reclaim);
  // NotFound if the domain has none.
  static absl::StatusOr<Registry> Open(const transport::ShmOptions& options);
  // Maps an existing registry read-only, without joining it: Read and a
  // dry-run ReclaimDead only (nothing is changed, not even a dead
  // process's liveness file). NotFound if the domain has none.
  static absl::StatusOr<Registry> Observe(const transport::ShmOptions& options);

  Registry(Registry&&) noexcept = default;
  Registry& operator=(Registry&&) noexcept = default;
  ~Registry() = default;  // unmaps; Leave() unlinks when we are the last user

  // Registers node `name` (1..127 of [A-Za-z0-9_], not starting with a digit)
  // owned by `owner`. ResourceExhausted naming the capacity when full.
  absl::StatusOr<EntryHandle> AddNode(absl::string_view name, const ProcessIdentity& owner);
  void RemoveNode(const EntryHandle& node);

  // Registers an endpoint of node `node`. Its transport entry is recorded
  // later, with SetTransport, once it exists.
  absl::StatusOr<EntryHandle> AddEndpoint(const EntryHandle& node, const EndpointSpec& spec,
                                          const ProcessIdentity& owner);
  void SetTransport(const EntryHandle& endpoint, std::uint32_t transport_index,
                    std::uint64_t transport_id);
  void RemoveEndpoint(const EntryHandle& endpoint);

  // Stores type `name` with `hash` and its serialized FileDescriptorSet
  // once per (name, hash); a second registration is a no-op. InvalidArgument
  // if the descriptor exceeds max_descriptor_size (naming both).
  absl::Status AddType(absl::string_view name, std::uint64_t hash,
                       absl::string_view descriptor, const ProcessIdentity& owner);

  // Copies every complete entry. Entries of dead processes are included:
  // call ReclaimDead first to drop them.
  RegistrySnapshot Read(bool with_types = true) const;

  // Frees the entries of dead processes (liveness token not held, or, in
  // our PID namespace, a pid now running with another start time), reclaims
  // their rings and subscriber entries in the topic segments (returning the
  // chunks they held), unlinks topic segments and pools nobody uses any
  // more, frees types no live endpoint uses, and removes dead liveness
  // files. With dry_run (or on an observed registry), only reports what it
  // would free and changes nothing.
  ReclaimReport ReclaimDead(bool dry_run = false);

  // The change counter (wraps at 2^32): compare for equality only.
  std::uint32_t generation() const;
  // Returns OK once generation() != seen, DeadlineExceeded after `timeout`.
  // Sleeps on the futex; never spins.
  absl::Status WaitForChange(std::uint32_t seen, absl::Duration timeout) const;

  // Stops participating; unlinks the registry if nobody else uses it.
  bool Leave();

  const RegistryConfig& config() const { return config_; }
  const transport::ShmOptions& options() const { return options_; }
  const transport::Segment& segment() const { return segment_; }

 private:
  Registry(transport::ShmOptions options, transport::Segment segment, RegistryConfig config)
      : options_(std::move(options)), segment_(std::move(segment)), config_(config) {}
  static absl::StatusOr<Registry> Attach(transport::ShmOptions options,
                                         transport::Segment segment);
  absl::Status CheckWritable() const;
  // Claims a free entry of a table of `count` for `token` (reclaiming the
  // dead's first if it is full): {index, epoch}, or ResourceExhausted
  // naming the table and the RegistryConfig field that sizes it.
  template <typename EntryAt>
  absl::StatusOr<std::pair<std::uint32_t, std::uint64_t>> ClaimEntry(
      std::uint32_t count, EntryAt entry_at, std::uint64_t token, absl::string_view table,
      absl::string_view config_field);
  // Read's steps: one entry's fields, copied while it is Active
  // (registry_reclaim.cc).
  NodeRecord CopyNode(std::uint32_t i) const;
  EndpointRecord CopyEndpoint(std::uint32_t i) const;
  TypeRecord CopyType(std::uint32_t i) const;
  // ReclaimDead's steps, sharing one pass's state (registry_reclaim.cc).
  struct ReclaimPass;
  void FreeDeadRecords(ReclaimPass& pass);
  void FreeStuckEntries(ReclaimPass& pass);
  void ReclaimTopics(ReclaimPass& pass);
  internal::RegistryHeader& header() const;
  internal::NodeEntry& node(std::uint32_t i) const;
  internal::EndpointEntry& endpoint(std::uint32_t i) const;
  internal::TypeEntry& type(std::uint32_t i) const;
  std::byte* descriptor(std::uint32_t i) const;
  void Bump() const;

  transport::ShmOptions options_;
  transport::Segment segment_;
  RegistryConfig config_;
  std::uint64_t nodes_offset_ = 0;
  std::uint64_t endpoints_offset_ = 0;
  std::uint64_t types_offset_ = 0;
  std::uint64_t type_stride_ = 0;
  std::uint64_t descriptors_offset_ = 0;
  std::uint64_t descriptor_stride_ = 0;
};

// The inode of /proc/<pid>/ns/pid ("self" for 0), or 0 if unreadable.
std::uint64_t PidNamespace(std::uint32_t pid = 0);

}  // namespace ringcast::discovery

#endif  // RINGCAST_DISCOVERY_REGISTRY_H_
