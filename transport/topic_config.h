// transport/topic_config.h: how a topic segment is configured, and what an
// endpoint's claim on it is. Apart from topic.h so that the endpoint
// headers (writer.h, reader.h) need no layout.
#ifndef RINGCAST_TRANSPORT_TOPIC_CONFIG_H_
#define RINGCAST_TRANSPORT_TOPIC_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace ringcast::transport {

// How a topic segment is made. The creator's values stand for everyone;
// a later joiner must agree on the type and gets the segment's values.
struct TopicConfig {
  // Full message type name and hash; both must match to join a topic.
  std::string type_name = "bytes";
  std::uint64_t type_hash = 0;
  // Samples each publisher's ring keeps: a power of two in 1..65536.
  std::uint32_t depth = 64;
  // Payload bytes a slot carries inline: 0..65520. The slot is this plus a
  // 16-byte header, rounded up to 64; the default fills one cache line.
  std::uint32_t inline_capacity = 48;
  // Publishers (rings) and subscribers a topic holds at once.
  std::uint32_t max_publishers = 8;
  std::uint32_t max_subscribers = 32;
  // Pool samples one subscriber may hold at once.
  std::uint32_t max_held_samples = 8;
  // Largest message through a publisher's chunk pool; 0 = inline only.
  // With a pool, inline_capacity must hold a chunk reference (24 bytes)
  // and max_held_samples must be at least 1.
  std::uint64_t max_message_size = 0;
};

// InvalidArgument naming the first field out of range and its valid range.
absl::Status ValidateTopicConfig(const TopicConfig& config);

// The largest inline capacity whose slot takes no more cache lines than
// one carrying `bytes`: slots are whole cache lines, so the rest is free.
std::uint32_t InlineCapacityFillingLines(std::uint32_t bytes);

// A topic segment's configuration, copied out of shared memory once and
// validated against the segment size: the only copy the data path uses.
struct TopicGeometry {
  std::string type_name;
  std::uint64_t type_hash = 0;
  std::uint32_t depth = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t inline_capacity = 0;
  std::uint32_t max_publishers = 0;
  std::uint32_t max_subscribers = 0;
  std::uint32_t max_held_samples = 0;
  std::uint64_t max_message_size = 0;
  std::uint64_t rings_offset = 0;
  std::uint64_t ring_stride = 0;
  std::uint64_t subscribers_offset = 0;
  std::uint64_t subscriber_stride = 0;
};

// A publisher's claim on a ring: which, its ids, and the epoch and token
// it claimed it with (entry_state.h), so that releasing it never frees a
// later owner's.
struct RingClaim {
  std::uint32_t index = 0;
  std::uint64_t publisher_id = 0;
  std::uint64_t start_seq = 0;
  std::uint64_t epoch = 0;
  std::uint64_t token = 0;
};

// A subscriber's claim on an entry of the subscriber table.
struct SubscriberClaim {
  std::uint32_t index = 0;
  std::uint64_t subscriber_id = 0;
  std::uint64_t epoch = 0;
  std::uint64_t token = 0;
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_TOPIC_CONFIG_H_
