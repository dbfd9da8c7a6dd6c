// discovery/registry_layout.h: the bytes of a domain's registry segment
// "/<prefix>.<domain>.registry". The tables, the structs and the asserts
// change together; any change of offset, width or meaning bumps
// kRegistryLayoutVersion (and transport's kLayoutVersion guards the
// SegmentHeader in front of it).
//
// Segment:  SegmentHeader | RegistryHeader | nodes[max_nodes] |
//           endpoints[max_endpoints] | types[max_types] |
//           descriptors[max_types]
//
// Everything up to the descriptors is allocated when the registry is made.
// The descriptor space is a hole: a type's slot (descriptor_stride bytes,
// whole pages) is allocated when the type is stored, so an empty registry
// holds only its tables in memory (under 1 MiB at the default sizes).
//
// RegistryHeader (at offset 64; the configuration is written once by the
// creator and copied and validated by every opener, never re-read):
//   off  size field                 meaning
//   0    4    registry_version      kRegistryLayoutVersion
//   4    4    max_nodes             entries in the node table
//   8    4    max_endpoints         entries in the endpoint table
//   12   4    max_types             entries in the type table
//   16   4    max_descriptor_size   bytes of FileDescriptorSet per type
//   20   4    reserved0
//   24   8    nodes_offset          from the segment start, 64-aligned
//   32   8    endpoints_offset      from the segment start, 64-aligned
//   40   8    types_offset          from the segment start, 64-aligned
//   48   8    type_stride           bytes per type entry: 256
//   56   8    descriptors_offset    from the segment start, page-aligned;
//                                   slot i at descriptors_offset +
//                                   i * DescriptorStride(max_descriptor_size)
//   64   4    generation            +1 on every change; the futex word
//                                   watchers sleep on
//   68   4    reserved2
//   72   8    next_id               source of node and endpoint ids (from 1)
//   80   48   reserved3
//
// Every entry starts with the same two words, and lives by the state
// machine of transport/entry_state.h (claim, activate, release, take over):
//   0  8  state   bits 63..8: epoch (+1 on each claim); bits 7..0:
//                 EntryState. Every transition is a CAS.
//   8  8  token   liveness token (transport/liveness.h) of the process that
//                 holds the entry (owner, claimer or reclaimer); taken
//                 before the state leaves Free, given back after it is
//                 Free again; 0 = nobody
//
// NodeEntry (256 bytes):
//   16 id, 24 pid, 28 reserved, 32 start_time (field 22 of /proc/pid/stat),
//   40 pid_ns (inode of /proc/pid/ns/pid: pid and start time mean something
//   only in that PID namespace), 48 reserved, 64 exe[32] (NUL-padded
//   /proc/pid/comm), 96 reserved, 128 name[128] (NUL-padded).
//
// EndpointEntry (512 bytes):
//   16 id, 24 node_id, 32 pid, 36 node_index, 40 start_time, 48 pid_ns,
//   56 kind (EndpointKind), 60 flags (kReliable, kTransientLocal),
//   64 type_hash, 72 max_message_size, 80 depth, 84 transport_index (ring or
//   subscriber entry in the topic segment; kNoTransport until it exists),
//   88 transport_id (publisher or subscriber id there), 96 reserved,
//   128 topic[256], 384 type_name[128] (both NUL-padded).
//
// TypeEntry (256 bytes):
//   16 hash, 24 descriptor_size, 28 reserved, 64 name[128], 192 reserved.
//   Its descriptor bytes are in descriptor slot i, allocated before they are
//   stored and before the entry is activated.
//
// Strings and descriptors are arrays of 8-byte words written and read with
// relaxed atomic word copies (transport/words.h): a reader re-checks the
// state word after copying (seqlock), so a reclaimed and reused entry is
// never reported torn.
#ifndef RINGCAST_DISCOVERY_REGISTRY_LAYOUT_H_
#define RINGCAST_DISCOVERY_REGISTRY_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "transport/entry_state.h"
#include "transport/segment_layout.h"

namespace ringcast::discovery::internal {

// 2: tokens are taken before an entry leaves Free (entry_state.h).
// 3: descriptors in their own page-aligned slots, allocated on arrival.
inline constexpr std::uint32_t kRegistryLayoutVersion = 3;

inline constexpr std::uint32_t kMaxNodes = 1u << 16;
inline constexpr std::uint32_t kMaxEndpoints = 1u << 20;
inline constexpr std::uint32_t kMaxTypes = 1u << 16;
inline constexpr std::uint32_t kMaxDescriptorSize = 1u << 20;

inline constexpr std::size_t kNodeNameSize = 128;
inline constexpr std::size_t kExeSize = 32;
inline constexpr std::size_t kTopicSize = 256;
inline constexpr std::size_t kTypeNameSize = 128;
inline constexpr std::uint32_t kNoTransport = 0xffffffffu;

using transport::internal::EntryState;
using transport::internal::EpochOf;
using transport::internal::MakeState;
using transport::internal::StateOf;

enum class EndpointKind : std::uint32_t { kPublisher = 1, kSubscriber = 2 };
inline constexpr std::uint32_t kReliable = 1u << 0;
inline constexpr std::uint32_t kTransientLocal = 1u << 1;

using Word = std::atomic<std::uint64_t>;

struct alignas(transport::kCacheLine) RegistryHeader {
  std::uint32_t registry_version;
  std::uint32_t max_nodes;
  std::uint32_t max_endpoints;
  std::uint32_t max_types;
  std::uint32_t max_descriptor_size;
  std::uint32_t reserved0;
  std::uint64_t nodes_offset;
  std::uint64_t endpoints_offset;
  std::uint64_t types_offset;
  std::uint64_t type_stride;
  std::uint64_t descriptors_offset;
  std::atomic<std::uint32_t> generation;
  std::uint32_t reserved2;
  std::atomic<std::uint64_t> next_id;
  std::uint8_t reserved3[48];
};
static_assert(std::is_standard_layout_v<RegistryHeader> &&
              std::is_trivially_destructible_v<RegistryHeader>);
static_assert(sizeof(RegistryHeader) == 128);
static_assert(offsetof(RegistryHeader, max_descriptor_size) == 16);
static_assert(offsetof(RegistryHeader, nodes_offset) == 24);
static_assert(offsetof(RegistryHeader, type_stride) == 48);
static_assert(offsetof(RegistryHeader, generation) == 64,
              "the futex word sits on its own line, apart from the config");
static_assert(offsetof(RegistryHeader, next_id) == 72);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4, "a futex word is 32 bits");

struct alignas(transport::kCacheLine) NodeEntry {
  Word state;
  Word token;
  Word id;
  std::atomic<std::uint32_t> pid;
  std::uint32_t reserved0;
  Word start_time;
  Word pid_ns;
  std::uint8_t reserved1[16];
  Word exe[kExeSize / 8];
  std::uint8_t reserved2[32];
  Word name[kNodeNameSize / 8];
};
static_assert(std::is_standard_layout_v<NodeEntry> &&
              std::is_trivially_destructible_v<NodeEntry>);
static_assert(sizeof(NodeEntry) == 256);
static_assert(offsetof(NodeEntry, token) == 8);
static_assert(offsetof(NodeEntry, pid) == 24);
static_assert(offsetof(NodeEntry, start_time) == 32);
static_assert(offsetof(NodeEntry, pid_ns) == 40);
static_assert(offsetof(NodeEntry, exe) == 64);
static_assert(offsetof(NodeEntry, name) == 128);

struct alignas(transport::kCacheLine) EndpointEntry {
  Word state;
  Word token;
  Word id;
  Word node_id;
  std::atomic<std::uint32_t> pid;
  std::atomic<std::uint32_t> node_index;
  Word start_time;
  Word pid_ns;
  std::atomic<std::uint32_t> kind;
  std::atomic<std::uint32_t> flags;
  Word type_hash;
  Word max_message_size;
  std::atomic<std::uint32_t> depth;
  std::atomic<std::uint32_t> transport_index;
  Word transport_id;
  std::uint8_t reserved[32];
  Word topic[kTopicSize / 8];
  Word type_name[kTypeNameSize / 8];
};
static_assert(std::is_standard_layout_v<EndpointEntry> &&
              std::is_trivially_destructible_v<EndpointEntry>);
static_assert(sizeof(EndpointEntry) == 512);
static_assert(offsetof(EndpointEntry, node_id) == 24);
static_assert(offsetof(EndpointEntry, pid) == 32);
static_assert(offsetof(EndpointEntry, node_index) == 36);
static_assert(offsetof(EndpointEntry, start_time) == 40);
static_assert(offsetof(EndpointEntry, pid_ns) == 48);
static_assert(offsetof(EndpointEntry, kind) == 56);
static_assert(offsetof(EndpointEntry, flags) == 60);
static_assert(offsetof(EndpointEntry, type_hash) == 64);
static_assert(offsetof(EndpointEntry, depth) == 80);
static_assert(offsetof(EndpointEntry, transport_index) == 84);
static_assert(offsetof(EndpointEntry, transport_id) == 88);
static_assert(offsetof(EndpointEntry, topic) == 128);
static_assert(offsetof(EndpointEntry, type_name) == 384);

// A type entry; its descriptor is in descriptor slot i.
struct alignas(transport::kCacheLine) TypeEntry {
  Word state;
  Word token;
  Word hash;
  std::atomic<std::uint32_t> descriptor_size;
  std::uint32_t reserved0;
  std::uint8_t reserved1[32];
  Word name[kTypeNameSize / 8];
  std::uint8_t reserved2[64];
};
static_assert(std::is_standard_layout_v<TypeEntry> &&
              std::is_trivially_destructible_v<TypeEntry>);
static_assert(sizeof(TypeEntry) == 256);
static_assert(offsetof(TypeEntry, hash) == 16);
static_assert(offsetof(TypeEntry, descriptor_size) == 24);
static_assert(offsetof(TypeEntry, name) == 64);
inline constexpr std::uint64_t kTypeStride = sizeof(TypeEntry);

using transport::internal::RoundUp64;
// Descriptor slots are whole pages, so that allocating one commits no page
// another slot shares.
inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint64_t RoundUpToPage(std::uint64_t n) {
  return (n + kPageSize - 1) / kPageSize * kPageSize;
}
inline constexpr std::uint64_t DescriptorStride(std::uint32_t max_descriptor_size) {
  return RoundUpToPage(max_descriptor_size);
}

}  // namespace ringcast::discovery::internal

#endif  // RINGCAST_DISCOVERY_REGISTRY_LAYOUT_H_
