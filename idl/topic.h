// idl/topic.h: a topic declared in a .proto (ringcast/options.proto), as the
// typed constant protoc-gen-ringcast generates for it.
#ifndef RINGCAST_IDL_TOPIC_H_
#define RINGCAST_IDL_TOPIC_H_

#include <cstdint>
#include <string_view>


namespace ringcast::idl {

enum class Reliability : std::uint8_t { kBestEffort = 0, kReliable = 1 };
enum class Durability : std::uint8_t { kVolatile = 0, kTransientLocal = 1 };

// A topic bound to message type `T` (a generated pkg::flat::M); zeros mean
// "the QoS default" (core/README.md: declaration, then configuration, then code).
// protoc-gen-ringcast checks the name with transport::ValidateTopicName, the
// one rule every layer applies.
template <typename T>
struct Topic {
  using Type = T;
  std::string_view name;
  std::uint32_t depth = 0;
  Reliability reliability = Reliability::kBestEffort;
  Durability durability = Durability::kVolatile;
  std::uint64_t max_message_size = 0;
};

}  // namespace ringcast::idl

#endif  // RINGCAST_IDL_TOPIC_H_
