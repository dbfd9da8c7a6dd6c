// core/qos.cc: Qos setters, overlaying and range checks (ringcast/qos.h).
#include "ringcast/qos.h"

#include <bit>
#include <cstdint>
#include <string_view>

#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"

namespace ringcast {
namespace {

// The bounds ValidateQos enforces. The transport has the same limits (transport/topic.cc);
// they are repeated here so that a bad Qos is refused with its own field name before any
// topic segment is made from it.
constexpr std::uint32_t kMaxDepth = 65536;
constexpr std::uint64_t kMaxMessageSize = std::uint64_t{1} << 40;  // 1 TiB
constexpr std::uint32_t kMaxHeldSamples = 64;
constexpr std::uint32_t kMaxInlineCapacity = 65520;  // a 64 KiB slot minus its 16-byte header
constexpr std::uint32_t kMaxPublishers = 64;
constexpr std::uint32_t kMaxSubscribers = 512;
// The pool_* fields are the publisher's own (transport::PoolChainOptions), checked by no
// segment. 1048576 is the most chunks a pool may plan (transport/pool_layout.h); a pool never
// commits more than its plan, whatever it is asked to start with.
constexpr std::uint32_t kMaxPoolInitialChunks = 1048576;
constexpr absl::Duration kMaxPoolReleaseAfter = absl::Hours(1);

// "qos <field> = <value>: valid <valid>": the form every Validate* in ringcast uses, which
// config.cc relies on to re-label the field with its YAML key path.
absl::Status OutOfRange(absl::string_view field, absl::string_view value, absl::string_view valid) {
  return absl::InvalidArgumentError(absl::StrCat("qos ", field, " = ", value, ": valid ", valid));
}

}  // namespace

Qos& Qos::set_depth(std::uint32_t value) {
  depth = value;
  return *this;
}
Qos& Qos::set_best_effort() {
  reliability = ReliabilityPolicy::kBestEffort;
  return *this;
}
Qos& Qos::set_reliable(absl::Duration timeout) {
  reliability = ReliabilityPolicy::kReliable;
  reliable_timeout = timeout;
  return *this;
}
Qos& Qos::set_volatile() {
  durability = DurabilityPolicy::kVolatile;
  return *this;
}
Qos& Qos::set_transient_local() {
  durability = DurabilityPolicy::kTransientLocal;
  return *this;
}
Qos& Qos::set_max_message_size(std::uint64_t value) {
  max_message_size = value;
  return *this;
}
Qos& Qos::set_max_held_samples(std::uint32_t value) {
  max_held_samples = value;
  return *this;
}
Qos& Qos::set_inline_capacity(std::uint32_t value) {
  inline_capacity = value;
  return *this;
}
Qos& Qos::set_max_publishers(std::uint32_t value) {
  max_publishers = value;
  return *this;
}
Qos& Qos::set_max_subscribers(std::uint32_t value) {
  max_subscribers = value;
  return *this;
}
Qos& Qos::set_pool_initial_chunks(std::uint32_t value) {
  pool_initial_chunks = value;
  return *this;
}
Qos& Qos::set_pool_release_after(absl::Duration value) {
  pool_release_after = value;
  return *this;
}

Qos& Qos::Overlay(const Qos& over) {
  // One line per field: a field added to Qos and forgotten here would silently never
  // overlay, so the test overlays a Qos with every field set.
  if (over.depth) depth = over.depth;
  if (over.reliability) reliability = over.reliability;
  if (over.reliable_timeout) reliable_timeout = over.reliable_timeout;
  if (over.durability) durability = over.durability;
  if (over.max_message_size) max_message_size = over.max_message_size;
  if (over.max_held_samples) max_held_samples = over.max_held_samples;
  if (over.inline_capacity) inline_capacity = over.inline_capacity;
  if (over.max_publishers) max_publishers = over.max_publishers;
  if (over.max_subscribers) max_subscribers = over.max_subscribers;
  if (over.pool_initial_chunks) pool_initial_chunks = over.pool_initial_chunks;
  if (over.pool_release_after) pool_release_after = over.pool_release_after;
  return *this;
}

absl::Status ValidateQos(const Qos& qos) {
  if (qos.depth &&
      (*qos.depth == 0 || *qos.depth > kMaxDepth || !std::has_single_bit(*qos.depth))) {
    return OutOfRange("depth", absl::StrCat(*qos.depth), "a power of two in 1..65536");
  }
  // The enums can only be out of range if someone cast an integer into them (a corrupt or
  // hand-built value); refuse it rather than let it reach the wire.
  if (qos.reliability && *qos.reliability != ReliabilityPolicy::kBestEffort &&
      *qos.reliability != ReliabilityPolicy::kReliable) {
    return OutOfRange("reliability", absl::StrCat(static_cast<int>(*qos.reliability)),
                      "0 (best effort) or 1 (reliable)");
  }
  if (qos.reliable_timeout &&
      (*qos.reliable_timeout <= absl::ZeroDuration() || *qos.reliable_timeout > absl::Hours(1))) {
    return OutOfRange("reliable_timeout", absl::FormatDuration(*qos.reliable_timeout),
                      "more than 0 and at most 1h");
  }
  if (qos.durability && *qos.durability != DurabilityPolicy::kVolatile &&
      *qos.durability != DurabilityPolicy::kTransientLocal) {
    return OutOfRange("durability", absl::StrCat(static_cast<int>(*qos.durability)),
                      "0 (volatile) or 1 (transient local)");
  }
  if (qos.max_message_size && *qos.max_message_size > kMaxMessageSize) {
    return OutOfRange("max_message_size", absl::StrCat(*qos.max_message_size),
                      "0..1099511627776 (1 TiB)");
  }
  if (qos.max_held_samples &&
      (*qos.max_held_samples == 0 || *qos.max_held_samples > kMaxHeldSamples)) {
    return OutOfRange("max_held_samples", absl::StrCat(*qos.max_held_samples), "1..64");
  }
  if (qos.inline_capacity && *qos.inline_capacity > kMaxInlineCapacity) {
    return OutOfRange("inline_capacity", absl::StrCat(*qos.inline_capacity), "0..65520");
  }
  if (qos.max_publishers && (*qos.max_publishers == 0 || *qos.max_publishers > kMaxPublishers)) {
    return OutOfRange("max_publishers", absl::StrCat(*qos.max_publishers), "1..64");
  }
  if (qos.max_subscribers &&
      (*qos.max_subscribers == 0 || *qos.max_subscribers > kMaxSubscribers)) {
    return OutOfRange("max_subscribers", absl::StrCat(*qos.max_subscribers), "1..512");
  }
  if (qos.pool_initial_chunks &&
      (*qos.pool_initial_chunks == 0 || *qos.pool_initial_chunks > kMaxPoolInitialChunks)) {
    return OutOfRange("pool_initial_chunks", absl::StrCat(*qos.pool_initial_chunks),
                      "1..1048576");
  }
  if (qos.pool_release_after && (*qos.pool_release_after <= absl::ZeroDuration() ||
                                 *qos.pool_release_after > kMaxPoolReleaseAfter)) {
    return OutOfRange("pool_release_after", absl::FormatDuration(*qos.pool_release_after),
                      "more than 0 and at most 1h");
  }
  return absl::OkStatus();
}

}  // namespace ringcast
