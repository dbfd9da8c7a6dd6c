// transport/pool_layout.h: the bytes of a chunk pool segment, one per
// publisher of a topic with max_message_size > 0. Any change of offset,
// width or meaning bumps kLayoutVersion (segment_layout.h).
//
// Segment:  SegmentHeader | PoolHeader | ChunkControl[chunk_count] |
//           (4096-aligned) chunk_count chunks of chunk_stride bytes
//
// PoolHeader (at offset 64; written once by the creating publisher):
//   0   8  chunk_size      usable bytes per chunk (the topic's max_message_size)
//   8   8  chunk_stride    bytes between chunks, a multiple of 64
//   16  4  chunk_count
//   20  4  retired         0 while in use; 1 once its publisher has released
//                          it (all chunks free, the free list taken whole
//                          and left empty, the chunks' pages punched out
//                          of the file): a subscriber that still
//                          maps it drops the mapping and opens the name
//                          again, which may by then be a new segment
//   24  8  controls_offset from the segment start
//   32  8  chunks_offset   from the segment start, 4096-aligned
//   64  8  free_head       (line 1) Treiber stack head: tag << 32 | (index + 1),
//                          low half 0 = empty. The tag grows on every
//                          change, so a stale CAS fails (no ABA).
//
// ChunkControl (16 bytes per chunk):
//   0   8  state  generation << 32 | reference count. Free chunks have count
//                 0. A loan bumps the generation and sets count 1 (the
//                 loan's, then the ring's reference); each subscriber
//                 holding the sample adds one. Whoever drops it to 0 pushes
//                 the chunk on the free list.
//   8   4  next   (index + 1) of the next free chunk; 0 = end
//   12  4  reserved
//
// A chunk reference, as a ring slot and a subscriber's held list carry it:
// pool id (u64: names the segment "/<prefix>.<domain>.p.<16 hex>"), then
// index << 32 | generation, then the payload size.
//
// Pool ids. A publisher's pool is a family of segments grown on demand.
// The family id has its low 12 bits zero and is what the ring's control
// names; a member's id adds its size class (bits 8..11: 0 holds chunks of
// max_message_size, class k > 0 chunks of half of class k-1's power of
// two) and its ordinal within the class (bits 0..7). A reader follows a
// reference only into the family of the ring it read it from.
#ifndef RINGCAST_TRANSPORT_POOL_LAYOUT_H_
#define RINGCAST_TRANSPORT_POOL_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "transport/chunk_ref.h"
#include "transport/segment_layout.h"

namespace ringcast::transport::internal {

struct alignas(kCacheLine) PoolHeader {
  std::uint64_t chunk_size;
  std::uint64_t chunk_stride;
  std::uint32_t chunk_count;
  std::atomic<std::uint32_t> retired;
  std::uint64_t controls_offset;
  std::uint64_t chunks_offset;
  std::uint8_t reserved1[24];
  alignas(kCacheLine) std::atomic<std::uint64_t> free_head;
  std::uint8_t reserved2[56];
};
static_assert(sizeof(PoolHeader) == 128);
static_assert(offsetof(PoolHeader, chunks_offset) == 32);
static_assert(offsetof(PoolHeader, free_head) == 64);

struct ChunkControl {
  std::atomic<std::uint64_t> state;
  std::atomic<std::uint32_t> next;
  std::uint32_t reserved;
};
static_assert(sizeof(ChunkControl) == 16);

inline constexpr std::uint32_t kMaxChunks = 1u << 20;

inline constexpr std::uint64_t kPoolMemberMask = 0xFFF;
inline constexpr std::uint32_t kMaxSizeClasses = 16;
inline constexpr std::uint32_t kMaxClassSegments = 256;
constexpr std::uint64_t PoolFamilyOf(std::uint64_t pool_id) { return pool_id & ~kPoolMemberMask; }
constexpr std::uint32_t SizeClassOf(std::uint64_t pool_id) {
  return static_cast<std::uint32_t>(pool_id >> 8) & 0xF;
}
constexpr std::uint32_t OrdinalOf(std::uint64_t pool_id) {
  return static_cast<std::uint32_t>(pool_id) & 0xFF;
}
constexpr std::uint64_t PoolMemberId(std::uint64_t family, std::uint32_t size_class,
                                     std::uint32_t ordinal) {
  return family | std::uint64_t{size_class} << 8 | ordinal;
}
inline constexpr std::uint64_t kChunkAlign = 4096;

}  // namespace ringcast::transport::internal

#endif  // RINGCAST_TRANSPORT_POOL_LAYOUT_H_
