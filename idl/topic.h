// idl/topic.h: a topic declared in a .proto (ringcast/options.proto), as the
// typed constant protoc-gen-ringcast generates for it.
#ifndef RINGCAST_IDL_TOPIC_H_
#define RINGCAST_IDL_TOPIC_H_

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ringcast::idl {

enum class Reliability : std::uint8_t { kBestEffort = 0, kReliable = 1 };
enum class Durability : std::uint8_t { kVolatile = 0, kTransientLocal = 1 };

// A topic bound to message type `T` (a generated pkg::flat::M); zeros mean
// "the QoS default" (design.md: declaration, then configuration, then code).
template <typename T>
struct Topic {
  using Type = T;
  std::string_view name;
  std::uint32_t depth = 0;
  Reliability reliability = Reliability::kBestEffort;
  Durability durability = Durability::kVolatile;
  std::uint64_t max_message_size = 0;
};

// OK if `topic` follows the ROS naming rules: '/'-separated tokens of
// [A-Za-z0-9_], not starting with a digit, no empty token, no trailing '/',
// no "__" (the same rules as transport's). Otherwise InvalidArgument
// naming the topic, the first rule it breaks and what is valid.
absl::Status ValidateTopicName(absl::string_view topic);

}  // namespace ringcast::idl

#endif  // RINGCAST_IDL_TOPIC_H_
