// discovery/registry_config.h: what a user of the registry names without
// seeing its layout: the table sizes a domain's registry is made with, and
// the handle of an entry a process claimed. Public headers of core/ include
// this, never registry.h (which holds the shared-memory layout).
#ifndef RINGCAST_DISCOVERY_REGISTRY_CONFIG_H_
#define RINGCAST_DISCOVERY_REGISTRY_CONFIG_H_

#include <cstdint>

#include "absl/status/status.h"

namespace ringcast::discovery {

// Table sizes, fixed when the registry is created. The first process of a
// domain decides; later ones get the registry as it was made.
struct RegistryConfig {
  std::uint32_t max_nodes = 256;          // 1..65536
  std::uint32_t max_endpoints = 1024;     // 1..1048576
  std::uint32_t max_types = 512;          // 1..65536
  // Bytes of serialized FileDescriptorSet one type may store: 0..1 MiB.
  std::uint32_t max_descriptor_size = 16 << 10;
};

// InvalidArgument naming the first field out of range and its valid range.
absl::Status ValidateRegistryConfig(const RegistryConfig& config);

// A claimed entry: its table index and the epoch we claimed it in, so that
// removing it never frees a later owner's entry.
struct EntryHandle {
  std::uint32_t index = 0;
  std::uint64_t epoch = 0;
  std::uint64_t id = 0;
  std::uint64_t token = 0;  // the owner's liveness token
};

}  // namespace ringcast::discovery

#endif  // RINGCAST_DISCOVERY_REGISTRY_CONFIG_H_
