// core/ringcast/qos.h: the quality of service one source says a topic should have.
//
// A topic's QoS is assembled from up to three sources, each a partial Qos: the topic's
// declaration in its .proto, the YAML configuration file (config.h) and code. Later sources
// win field by field, so a field any source leaves unset falls through to the one before:
//
//   Qos qos = declared;
//   qos.Overlay(config.QosFor(topic)).Overlay(Qos().set_depth(4).set_transient_local());
//
// Fields still unset after every overlay take the library's defaults (transport::TopicConfig,
// and transport::PoolChainOptions for the pool_* fields).
#ifndef RINGCAST_CORE_RINGCAST_QOS_H_
#define RINGCAST_CORE_RINGCAST_QOS_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ringcast {

// Whether a publisher may overwrite samples a subscriber has not read (best effort), or waits
// up to the reliable timeout for room first (reliable).
enum class ReliabilityPolicy : std::uint8_t { kBestEffort = 0, kReliable = 1 };

// Whether a subscriber that joins late sees only new samples (volatile), or also the samples
// still in the publishers' rings (transient local).
enum class DurabilityPolicy : std::uint8_t { kVolatile = 0, kTransientLocal = 1 };

// What one source says about a topic's QoS. Unset = not said here. Later sources win field by
// field: declaration, YAML, code (see Overlay). ValidateQos checks the ranges noted below.
struct Qos {
  std::optional<std::uint32_t> depth;              // power of two, 1..65536
  std::optional<ReliabilityPolicy> reliability;
  std::optional<absl::Duration> reliable_timeout;  // > 0, at most 1 hour
  std::optional<DurabilityPolicy> durability;
  std::optional<std::uint64_t> max_message_size;   // 0..1 TiB; 0 = inline only
  std::optional<std::uint32_t> max_held_samples;   // 1..64
  std::optional<std::uint32_t> inline_capacity;    // 0..65520
  std::optional<std::uint32_t> max_publishers;     // 1..64
  std::optional<std::uint32_t> max_subscribers;    // 1..512
  // The publisher's chunk pool, each publisher's own (the topic segment does not fix them):
  // the chunks a size class commits at its first loan, and how long a segment the pool grew
  // by must stay wholly unused before the publisher gives it back.
  std::optional<std::uint32_t> pool_initial_chunks;  // 1..1048576
  std::optional<absl::Duration> pool_release_after;  // > 0, at most 1 hour

  // Chainable setters, each setting one field (set_reliable also sets the timeout):
  //   Qos().set_depth(4).set_reliable(absl::Milliseconds(50)).set_transient_local()
  // They do not validate: ValidateQos does, once the sources are combined.
  Qos& set_depth(std::uint32_t depth);
  Qos& set_best_effort();
  Qos& set_reliable(absl::Duration timeout);
  Qos& set_volatile();
  Qos& set_transient_local();
  Qos& set_max_message_size(std::uint64_t bytes);
  Qos& set_max_held_samples(std::uint32_t samples);
  Qos& set_inline_capacity(std::uint32_t bytes);
  Qos& set_max_publishers(std::uint32_t publishers);
  Qos& set_max_subscribers(std::uint32_t subscribers);
  Qos& set_pool_initial_chunks(std::uint32_t chunks);
  Qos& set_pool_release_after(absl::Duration idle);

  // Overlays every field `over` sets onto this one; fields `over` leaves unset keep their
  // value here. Returns *this, so overlays chain in precedence order.
  Qos& Overlay(const Qos& over);

  friend bool operator==(const Qos&, const Qos&) = default;
};

// OK if every field that is set is in range. Otherwise InvalidArgument naming the first such
// field (in declaration order), its value and the valid range, e.g.
//   "qos depth = 12: valid a power of two in 1..65536"
// Only single fields are checked: a partial Qos cannot know what other sources will add, so
// rules that tie fields together are transport::ValidateTopicConfig's, once all are combined.
absl::Status ValidateQos(const Qos& qos);

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_QOS_H_
