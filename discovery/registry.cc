#include "discovery/registry.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "discovery/entry_ops.h"
#include "transport/futex.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/process.h"
#include "transport/status_macros.h"
#include "transport/topic.h"
#include "transport/words.h"

namespace ringcast::discovery {
namespace {

using internal::EntryState;
using internal::LoadString;
using internal::StateOf;
using internal::StoreString;
using transport::internal::Activate;
using transport::internal::FreeTakenOver;
using transport::internal::ReleaseEntry;
using transport::internal::TakeOver;
using internal::Word;
using transport::ShmOptions;

// Where the tables end and the descriptor slots begin: everything before
// is allocated at creation, the slots as types arrive.
std::uint64_t DescriptorsOffset(const RegistryConfig& c) {
  return internal::RoundUpToPage(sizeof(transport::SegmentHeader) +
                                 sizeof(internal::RegistryHeader) +
                                 std::uint64_t{sizeof(internal::NodeEntry)} * c.max_nodes +
                                 std::uint64_t{sizeof(internal::EndpointEntry)} * c.max_endpoints +
                                 internal::kTypeStride * c.max_types);
}

std::uint64_t SizeFor(const RegistryConfig& c) {
  return DescriptorsOffset(c) + internal::DescriptorStride(c.max_descriptor_size) * c.max_types;
}

void InitRegistry(const RegistryConfig& c, std::byte* base) {
  reinterpret_cast<transport::SegmentHeader*>(base)->header_size =
      sizeof(internal::RegistryHeader);
  auto* h = reinterpret_cast<internal::RegistryHeader*>(base + sizeof(transport::SegmentHeader));
  h->registry_version = internal::kRegistryLayoutVersion;
  h->max_nodes = c.max_nodes;
  h->max_endpoints = c.max_endpoints;
  h->max_types = c.max_types;
  h->max_descriptor_size = c.max_descriptor_size;
  h->nodes_offset = sizeof(transport::SegmentHeader) + sizeof(internal::RegistryHeader);
  h->endpoints_offset = h->nodes_offset + std::uint64_t{sizeof(internal::NodeEntry)} * c.max_nodes;
  h->types_offset =
      h->endpoints_offset + std::uint64_t{sizeof(internal::EndpointEntry)} * c.max_endpoints;
  h->type_stride = internal::kTypeStride;
  h->descriptors_offset = DescriptorsOffset(c);
  // Ids start at 1: 0 means "none". The segment is zero otherwise (free
  // entries, token 0, generation 0): posix_fallocate gave us zeroed pages.
  h->next_id.store(1, std::memory_order_relaxed);
}

absl::Status OutOfRange(absl::string_view field, std::uint64_t value, absl::string_view valid) {
  return absl::InvalidArgumentError(
      absl::StrCat("registry config ", field, " = ", value, ": valid ", valid));
}

absl::Status ValidateNodeName(absl::string_view name) {
  bool ok = !name.empty() && name.size() < internal::kNodeNameSize &&
            !absl::ascii_isdigit(static_cast<unsigned char>(name[0]));
  for (const char c : name) ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid node name '", absl::CHexEscape(name), "': expected 1..",
      internal::kNodeNameSize - 1, " of [A-Za-z0-9_], not starting with a digit"));
}

absl::Status ValidateTypeName(absl::string_view name) {
  if (name.empty() || name.size() >= internal::kTypeNameSize ||
      name.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid type name '", absl::CHexEscape(name), "': expected 1..",
        internal::kTypeNameSize - 1, " bytes without NUL"));
  }
  return absl::OkStatus();
}

}  // namespace

std::uint64_t PidNamespace(std::uint32_t pid) {
  struct stat st {};
  const std::string path =
      pid == 0 ? std::string("/proc/self/ns/pid") : absl::StrCat("/proc/", pid, "/ns/pid");
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_ino);
}

absl::StatusOr<ProcessIdentity> ProcessIdentity::Self(const ShmOptions& options) {
  ProcessIdentity me;
  RINGCAST_ASSIGN_OR_RETURN(me.token, transport::ProcessToken(options));
  me.pid = static_cast<std::uint32_t>(::getpid());
  me.start_time = transport::ProcessStartTime(::getpid());
  me.pid_ns = PidNamespace();
  me.exe = transport::ProcessName(::getpid());
  return me;
}

absl::Status ValidateRegistryConfig(const RegistryConfig& c) {
  if (c.max_nodes == 0 || c.max_nodes > internal::kMaxNodes) {
    return OutOfRange("max_nodes", c.max_nodes, "1..65536");
  }
  if (c.max_endpoints == 0 || c.max_endpoints > internal::kMaxEndpoints) {
    return OutOfRange("max_endpoints", c.max_endpoints, "1..1048576");
  }
  if (c.max_types == 0 || c.max_types > internal::kMaxTypes) {
    return OutOfRange("max_types", c.max_types, "1..65536");
  }
  if (c.max_descriptor_size > internal::kMaxDescriptorSize) {
    return OutOfRange("max_descriptor_size", c.max_descriptor_size, "0..1048576");
  }
  return absl::OkStatus();
}

std::string RegistrySegmentName(const ShmOptions& options) {
  return absl::StrCat(transport::DomainStem(options), "registry");
}

absl::StatusOr<Registry> Registry::OpenOrCreate(const ShmOptions& options,
                                                const RegistryConfig& config) {
  RINGCAST_RETURN_IF_ERROR(transport::ValidateShmOptions(options));
  RINGCAST_RETURN_IF_ERROR(ValidateRegistryConfig(config));
  RINGCAST_ASSIGN_OR_RETURN(
      transport::Segment segment,
      transport::Segment::OpenOrCreate(options, RegistrySegmentName(options),
                                       transport::SegmentKind::kRegistry, SizeFor(config),
                                       [&](std::byte* base, std::uint64_t) {
                                         InitRegistry(config, base);
                                       },
                                       /*committed=*/DescriptorsOffset(config)));
  return Attach(options, std::move(segment));
}

absl::StatusOr<Registry> Registry::Open(const ShmOptions& options) {
  RINGCAST_RETURN_IF_ERROR(transport::ValidateShmOptions(options));
  absl::StatusOr<transport::Segment> segment =
      transport::Segment::Open(options, RegistrySegmentName(options),
                               transport::SegmentKind::kRegistry,
                               transport::Segment::Access::kParticipant);
  if (absl::IsNotFound(segment.status())) {
    return absl::NotFoundError(absl::StrCat("no registry in domain ", options.domain,
                                            " (prefix ", options.prefix, ", directory ",
                                            options.dir, "): no process has joined it"));
  }
  if (!segment.ok()) return segment.status();
  return Attach(options, *std::move(segment));
}

absl::StatusOr<Registry> Registry::Observe(const ShmOptions& options) {
  RINGCAST_RETURN_IF_ERROR(transport::ValidateShmOptions(options));
  RINGCAST_ASSIGN_OR_RETURN(
      transport::Segment segment,
      transport::Segment::Open(options, RegistrySegmentName(options),
                               transport::SegmentKind::kRegistry,
                               transport::Segment::Access::kObserver));
  return Attach(options, std::move(segment));
}

absl::StatusOr<Registry> Registry::Attach(ShmOptions options, transport::Segment segment) {
  const std::uint64_t size = segment.size();
  auto corrupt = [&](const std::string& what) {
    return absl::DataLossError(
        absl::StrCat("registry ", segment.path(), ": ", what, "; the registry is corrupt"));
  };
  if (size < sizeof(transport::SegmentHeader) + sizeof(internal::RegistryHeader)) {
    return corrupt(absl::StrCat("size ", size, " is smaller than its headers"));
  }
  const auto& h = *reinterpret_cast<const internal::RegistryHeader*>(
      segment.base() + sizeof(transport::SegmentHeader));
  // Read each field once into a local; validate only the locals.
  const std::uint32_t version = h.registry_version;
  if (version != internal::kRegistryLayoutVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "registry ", segment.path(), ": registry layout version ", version,
        ", this binary speaks ", internal::kRegistryLayoutVersion,
        "; run one ringcast version per domain"));
  }
  RegistryConfig c;
  c.max_nodes = h.max_nodes;
  c.max_endpoints = h.max_endpoints;
  c.max_types = h.max_types;
  c.max_descriptor_size = h.max_descriptor_size;
  if (absl::Status s = ValidateRegistryConfig(c); !s.ok()) {
    return corrupt(std::string(s.message()));
  }
  const std::uint64_t nodes = h.nodes_offset, endpoints = h.endpoints_offset,
                      types = h.types_offset, stride = h.type_stride,
                      descriptors = h.descriptors_offset;
  // With the counts bounded by ValidateRegistryConfig, none of these
  // products overflows.
  const std::uint64_t nodes_end = nodes + std::uint64_t{sizeof(internal::NodeEntry)} * c.max_nodes;
  const std::uint64_t endpoints_end =
      endpoints + std::uint64_t{sizeof(internal::EndpointEntry)} * c.max_endpoints;
  if (nodes != sizeof(transport::SegmentHeader) + sizeof(internal::RegistryHeader) ||
      endpoints % 64 != 0 || endpoints < nodes_end || endpoints > size ||
      types % 64 != 0 || types < endpoints_end || types > size ||
      stride != internal::kTypeStride || stride * c.max_types > size - types ||
      descriptors % internal::kPageSize != 0 || descriptors < types + stride * c.max_types ||
      descriptors > size ||
      internal::DescriptorStride(c.max_descriptor_size) * c.max_types > size - descriptors) {
    return corrupt(absl::StrCat("tables at ", nodes, "/", endpoints, "/", types, "/", descriptors,
                                " (type stride ", stride, ") do not fit ", size, " bytes"));
  }
  Registry r(std::move(options), std::move(segment), c);
  r.nodes_offset_ = nodes;
  r.endpoints_offset_ = endpoints;
  r.types_offset_ = types;
  r.type_stride_ = stride;
  r.descriptors_offset_ = descriptors;
  r.descriptor_stride_ = internal::DescriptorStride(c.max_descriptor_size);
  return r;
}

absl::Status Registry::CheckWritable() const {
  if (segment_.writable()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "registry ", segment_.path(), " is mapped read-only (Observe); use Open or OpenOrCreate"));
}

internal::RegistryHeader& Registry::header() const {
  return *reinterpret_cast<internal::RegistryHeader*>(segment_.base() +
                                                      sizeof(transport::SegmentHeader));
}
internal::NodeEntry& Registry::node(std::uint32_t i) const {
  return reinterpret_cast<internal::NodeEntry*>(segment_.base() + nodes_offset_)[i];
}
internal::EndpointEntry& Registry::endpoint(std::uint32_t i) const {
  return reinterpret_cast<internal::EndpointEntry*>(segment_.base() + endpoints_offset_)[i];
}
internal::TypeEntry& Registry::type(std::uint32_t i) const {
  return *reinterpret_cast<internal::TypeEntry*>(segment_.base() + types_offset_ +
                                                 type_stride_ * i);
}
std::byte* Registry::descriptor(std::uint32_t i) const {
  return segment_.base() + descriptors_offset_ + descriptor_stride_ * i;
}

void Registry::Bump() const {
  // Release: a watcher that acquire-loads the new generation sees the
  // change that caused it (pairs with the acquire in WaitForChange/Read).
  header().generation.fetch_add(1, std::memory_order_release);
  transport::FutexWake(header().generation);
}

std::uint32_t Registry::generation() const {
  // Acquire: pairs with Bump's release.
  return header().generation.load(std::memory_order_acquire);
}

absl::Status Registry::WaitForChange(std::uint32_t seen, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (generation() != seen) return absl::OkStatus();
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "registry ", segment_.name(), ": no change within ", absl::FormatDuration(timeout)));
    }
    // Returns at a wake, a change, a signal or the deadline; we re-check.
    absl::Status s = transport::FutexWait(header().generation, seen, left);
    if (!s.ok() && !absl::IsDeadlineExceeded(s)) return s;
  }
}

template <typename EntryAt>
absl::StatusOr<std::pair<std::uint32_t, std::uint64_t>> Registry::ClaimEntry(
    std::uint32_t count, EntryAt entry_at, std::uint64_t token, absl::string_view table,
    absl::string_view config_field) {
  transport::LivenessCache live(options_);
  auto is_dead = [&](std::uint64_t t) { return live.IsDead(t); };
  auto claim = internal::ClaimFirst(count, entry_at, token, is_dead);
  if (!claim) {
    ReclaimDead();  // a full table may hold the dead's entries
    claim = internal::ClaimFirst(count, entry_at, token, is_dead);
  }
  if (!claim) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "registry ", segment_.path(), ": all ", count, " ", table,
        " entries are in use by live processes; raise RegistryConfig::", config_field,
        " (fixed when the first process of domain ", options_.domain,
        " creates the registry: restart the domain's processes with the larger value, or "
        "use another domain)"));
  }
  return *claim;
}

absl::StatusOr<EntryHandle> Registry::AddNode(absl::string_view name,
                                              const ProcessIdentity& owner) {
  RINGCAST_RETURN_IF_ERROR(CheckWritable());
  RINGCAST_RETURN_IF_ERROR(ValidateNodeName(name));
  RINGCAST_ASSIGN_OR_RETURN(
      const auto claim,
      ClaimEntry(config_.max_nodes, [this](std::uint32_t i) -> auto& { return node(i); },
                 owner.token, "node", "max_nodes"));
  internal::NodeEntry& e = node(claim.first);
  // Relaxed: the RMW alone makes ids unique; nothing is published by it.
  EntryHandle handle{claim.first, claim.second,
                     header().next_id.fetch_add(1, std::memory_order_relaxed), owner.token};
  // Relaxed stores: published by Activate's release.
  e.id.store(handle.id, std::memory_order_relaxed);
  e.pid.store(owner.pid, std::memory_order_relaxed);
  e.start_time.store(owner.start_time, std::memory_order_relaxed);
  e.pid_ns.store(owner.pid_ns, std::memory_order_relaxed);
  StoreString(e.exe, internal::kExeSize, owner.exe);
  StoreString(e.name, internal::kNodeNameSize, name);
  if (!Activate(e, handle.epoch)) {
    return absl::AbortedError(absl::StrCat("registry ", segment_.path(), ": node '", name,
                                           "' was reclaimed while being registered"));
  }
  Bump();
  return handle;
}

void Registry::RemoveNode(const EntryHandle& handle) {
  if (handle.index >= config_.max_nodes || !segment_.writable()) return;
  if (ReleaseEntry(node(handle.index), handle.epoch, handle.token)) Bump();
}

absl::StatusOr<EntryHandle> Registry::AddEndpoint(const EntryHandle& node_handle,
                                                  const EndpointSpec& spec,
                                                  const ProcessIdentity& owner) {
  RINGCAST_RETURN_IF_ERROR(CheckWritable());
  RINGCAST_RETURN_IF_ERROR(transport::ValidateTopicName(spec.topic));
  if (spec.topic.size() >= internal::kTopicSize) {
    return absl::InvalidArgumentError(absl::StrCat("topic '", spec.topic, "' has ",
                                                   spec.topic.size(), " bytes; at most ",
                                                   internal::kTopicSize - 1, " are valid"));
  }
  RINGCAST_RETURN_IF_ERROR(ValidateTypeName(spec.type_name));
  RINGCAST_ASSIGN_OR_RETURN(
      const auto claim,
      ClaimEntry(config_.max_endpoints,
                 [this](std::uint32_t i) -> auto& { return endpoint(i); }, owner.token,
                 "endpoint", "max_endpoints"));
  internal::EndpointEntry& e = endpoint(claim.first);
  // Relaxed: the RMW alone makes ids unique; nothing is published by it.
  EntryHandle handle{claim.first, claim.second,
                     header().next_id.fetch_add(1, std::memory_order_relaxed), owner.token};
  // Relaxed stores: published by Activate's release.
  e.id.store(handle.id, std::memory_order_relaxed);
  e.node_id.store(node_handle.id, std::memory_order_relaxed);
  e.node_index.store(node_handle.index, std::memory_order_relaxed);
  e.pid.store(owner.pid, std::memory_order_relaxed);
  e.start_time.store(owner.start_time, std::memory_order_relaxed);
  e.pid_ns.store(owner.pid_ns, std::memory_order_relaxed);
  e.kind.store(static_cast<std::uint32_t>(spec.kind), std::memory_order_relaxed);
  e.flags.store((spec.qos.reliable ? internal::kReliable : 0) |
                    (spec.qos.transient_local ? internal::kTransientLocal : 0),
                std::memory_order_relaxed);
  e.type_hash.store(spec.type_hash, std::memory_order_relaxed);
  e.max_message_size.store(spec.qos.max_message_size, std::memory_order_relaxed);
  e.depth.store(spec.qos.depth, std::memory_order_relaxed);
  e.transport_index.store(internal::kNoTransport, std::memory_order_relaxed);
  e.transport_id.store(0, std::memory_order_relaxed);
  StoreString(e.topic, internal::kTopicSize, spec.topic);
  StoreString(e.type_name, internal::kTypeNameSize, spec.type_name);
  if (!Activate(e, handle.epoch)) {
    return absl::AbortedError(absl::StrCat("registry ", segment_.path(), ": endpoint on ",
                                           spec.topic, " was reclaimed while being registered"));
  }
  Bump();
  return handle;
}

void Registry::SetTransport(const EntryHandle& handle, std::uint32_t transport_index,
                            std::uint64_t transport_id) {
  if (handle.index >= config_.max_endpoints || !segment_.writable()) return;
  internal::EndpointEntry& e = endpoint(handle.index);
  // Relaxed: independent facts for listings; Bump's release publishes them
  // to watchers.
  e.transport_id.store(transport_id, std::memory_order_relaxed);
  e.transport_index.store(transport_index, std::memory_order_relaxed);
  Bump();
}

void Registry::RemoveEndpoint(const EntryHandle& handle) {
  if (handle.index >= config_.max_endpoints || !segment_.writable()) return;
  if (ReleaseEntry(endpoint(handle.index), handle.epoch, handle.token)) Bump();
}

absl::Status Registry::AddType(absl::string_view name, std::uint64_t hash,
                               absl::string_view descriptor_bytes,
                               const ProcessIdentity& owner) {
  RINGCAST_RETURN_IF_ERROR(CheckWritable());
  RINGCAST_RETURN_IF_ERROR(ValidateTypeName(name));
  if (descriptor_bytes.size() > config_.max_descriptor_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "type ", name, ": descriptor of ", descriptor_bytes.size(),
        " bytes exceeds the registry's max_descriptor_size of ", config_.max_descriptor_size,
        "; raise RegistryConfig::max_descriptor_size when the registry is created"));
  }
  auto same = [&](std::uint32_t i) {
    internal::TypeEntry& t = type(i);
    // Acquire: pairs with Activate's release, so hash and name are complete.
    const std::uint64_t s = t.state.load(std::memory_order_acquire);
    return StateOf(s) == EntryState::kActive &&
           t.hash.load(std::memory_order_relaxed) == hash &&
           LoadString(t.name, internal::kTypeNameSize) == name;
  };
  for (std::uint32_t i = 0; i < config_.max_types; ++i) {
    if (same(i)) return absl::OkStatus();
  }
  RINGCAST_ASSIGN_OR_RETURN(
      const auto claim,
      ClaimEntry(config_.max_types, [this](std::uint32_t i) -> auto& { return type(i); },
                 owner.token, "type", "max_types"));
  const auto [index, epoch] = claim;
  internal::TypeEntry& t = type(index);
  // The slot's pages, allocated before a byte is stored: a full directory
  // is this error, never a SIGBUS. Pages stay allocated once a slot is used
  // (a later type in the same slot reuses them).
  if (absl::Status s = segment_.Commit(descriptors_offset_ + descriptor_stride_ * index,
                                       internal::RoundUpToPage(descriptor_bytes.size()));
      !s.ok()) {
    ReleaseEntry(t, epoch, owner.token);
    return absl::ResourceExhaustedError(absl::StrCat("type ", name, ": no room for its ",
                                                     descriptor_bytes.size(),
                                                     "-byte descriptor: ", s.message()));
  }
  t.hash.store(hash, std::memory_order_relaxed);
  t.descriptor_size.store(static_cast<std::uint32_t>(descriptor_bytes.size()),
                          std::memory_order_relaxed);
  StoreString(t.name, internal::kTypeNameSize, name);
  transport::internal::StoreWordsRelaxed(
      reinterpret_cast<const std::byte*>(descriptor_bytes.data()), descriptor_bytes.size(),
      reinterpret_cast<Word*>(descriptor(index)));
  if (!Activate(t, epoch)) {
    return absl::AbortedError(absl::StrCat("registry ", segment_.path(), ": type ", name,
                                           " was reclaimed while being registered"));
  }
  // Two processes may have stored the same type at once: the lowest index
  // survives. Whoever activates last sees the other copy and resolves it:
  // it frees its own if the other is lower, else takes the other over.
  // Seq_cst fence: pairs with the other storer's fence, so of two storers
  // at least one sees the other's activation (a store-buffering pattern
  // that acquire/release alone does not rule out).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (std::uint32_t i = 0; i < config_.max_types; ++i) {
    if (i == index || !same(i)) continue;
    if (i < index) {
      ReleaseEntry(t, epoch, owner.token);
      return absl::OkStatus();
    }
    internal::TypeEntry& other = type(i);
    // Acquire: pairs with the other storer's activation.
    const std::uint64_t os = other.state.load(std::memory_order_acquire);
    if (StateOf(os) != EntryState::kActive) continue;
    // Relaxed: TakeOver's CAS checks it is still the holder.
    const std::uint64_t other_token = other.token.load(std::memory_order_relaxed);
    // The duplicate's holder may be alive: replacing it is safe because a
    // type entry is never written after activation, only freed.
    if (other_token == owner.token) {
      ReleaseEntry(other, transport::internal::EpochOf(os), owner.token);  // another thread's
    } else if (TakeOver(other, os, other_token, owner.token)) {
      FreeTakenOver(other, os, owner.token);
    }
  }
  Bump();
  return absl::OkStatus();
}

bool Registry::Leave() { return segment_.Leave(); }

}  // namespace ringcast::discovery
