// cli/live_common.h: what the verbs that move samples (`topic echo`,
// `topic pub`) share: a Context on the command's domain, and a topic's
// message type known by descriptor: the one the registry stores for the
// topic, or, for a topic nobody has made yet, a type named by the user
// (from the registry, else among the types ringcast ships in msgs/).
//
//   absl::StatusOr<LiveTopic> t = LookupTopic(options, "/chatter");
//   if (t->known) { absl::StatusOr<LiveType> type = TypeOfTopic(*t); ... }
//   node->CreateRawSubscriber("/chatter", type->support());
#ifndef RINGCAST_CLI_LIVE_COMMON_H_
#define RINGCAST_CLI_LIVE_COMMON_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "idl/dynamic.h"
#include "ringcast/context.h"
#include "ringcast/type_support.h"
#include "transport/shm_options.h"

namespace ringcast::cli {

// A Context on exactly `options`' segments (directory, prefix, domain,
// group); RINGCAST_CONFIG still gives the QoS rules and registry sizes.
absl::StatusOr<Context> LiveContext(const transport::ShmOptions& options);

// "domain 3" or "domain 3 (prefix test)": how errors name where we looked.
std::string DomainName(const transport::ShmOptions& options);

// What the registry says of a topic: whether a live endpoint names it, and
// then the type its newest publisher registered (else its oldest
// subscriber's) with that type's stored FileDescriptorSet, if any.
struct LiveTopic {
  std::string topic;
  bool known = false;
  std::string type_name;
  std::uint64_t type_hash = 0;
  std::string descriptor;  // empty: the type was registered without one
};

// Reclaims what dead processes left, then reads the registry of `options`'
// domain. InvalidArgument for a malformed topic name; errors for a corrupt
// registry. A domain nobody has joined yet knows no topic.
absl::StatusOr<LiveTopic> LookupTopic(const transport::ShmOptions& options,
                                      absl::string_view topic);

// A message type known by descriptor, with what an endpoint needs.
struct LiveType {
  std::string name;
  std::uint64_t hash = 0;
  std::string descriptor;  // serialized FileDescriptorSet
  std::unique_ptr<idl::DynamicType> dynamic;

  // Views name and descriptor: valid while this LiveType lives.
  TypeSupport support() const;
};

// The type of a known topic, decoded from its stored descriptor.
// FailedPrecondition naming the topic and the type when there is no
// descriptor, it does not parse, or its layout's hash is not the topic's.
absl::StatusOr<LiveType> TypeOfTopic(const LiveTopic& topic);

// The type called `name`: as the registry of `options`' domain stores it
// (with a descriptor), else the one ringcast ships in msgs/. NotFound
// naming it and the types there are otherwise.
absl::StatusOr<LiveType> TypeByName(const transport::ShmOptions& options,
                                    absl::string_view name);

// Full names of the message types ringcast ships in msgs/, sorted.
std::vector<std::string> ShippedTypeNames();

}  // namespace ringcast::cli

#endif  // RINGCAST_CLI_LIVE_COMMON_H_
