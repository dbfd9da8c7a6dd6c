// transport/pool.h: a publisher's chunk pool. Large messages are built in
// a loaned chunk and published by reference: nothing is copied, whatever
// the size (docs/architecture.md, "Chunk pools").
//
// The publisher creates the pool and loans chunks; any process may take a
// reference to a published chunk and return it. The free list is a
// lock-free LIFO, so the publisher reuses the chunk freed last, still warm
// in cache.
#ifndef RINGCAST_TRANSPORT_POOL_H_
#define RINGCAST_TRANSPORT_POOL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "transport/pool_layout.h"
#include "transport/pool_options.h"
#include "transport/segment.h"
#include "transport/shm_options.h"

namespace ringcast::transport {

// The segment name of pool `pool_id`: "/<prefix>.<domain>.p.<16 hex>".
std::string PoolSegmentName(const ShmOptions& options, std::uint64_t pool_id);

// The pool id a segment name carries ("/<prefix>.<domain>.p.<16 hex>"),
// or nullopt for another name.
std::optional<std::uint64_t> PoolIdOfName(const ShmOptions& options, absl::string_view name);

// A fresh random pool family id (pool_layout.h, "Pool ids").
std::uint64_t NewPoolFamilyId();
// The names of the family's segments that exist now in options.dir.
std::vector<std::string> PoolFamilyNames(const ShmOptions& options, std::uint64_t family);
// Unlinks every segment of the family (mappings stay valid); returns the
// names it unlinked.
std::vector<std::string> UnlinkPoolFamily(const ShmOptions& options, std::uint64_t family);

class ChunkPool;

// Counts `pool` into `use`.
void AddPoolSegment(const ChunkPool& pool, PoolUse* use);

// Looks at the family's segments as they are now (maps each read-only, a
// look that takes no lock); `planned_bytes` comes from the caller.
PoolUse ObservePoolFamily(const ShmOptions& options, std::uint64_t family);

class ChunkPool {
 public:
  // Creates pool segment `pool_id` of `chunk_count` chunks of `chunk_size`
  // bytes, committed now. ResourceExhausted (naming the size and the free
  // space) if it does not fit.
  static absl::StatusOr<ChunkPool> Create(const ShmOptions& options, std::uint64_t pool_id,
                                          std::uint64_t chunk_size, std::uint32_t chunk_count);
  // The same under a fresh family id.
  static absl::StatusOr<ChunkPool> Create(const ShmOptions& options, std::uint64_t chunk_size,
                                          std::uint32_t chunk_count) {
    return Create(options, NewPoolFamilyId(), chunk_size, chunk_count);
  }
  // Maps an existing pool (its mapping stays valid after an unlink).
  // FailedPrecondition if its publisher has retired it.
  static absl::StatusOr<ChunkPool> Open(const ShmOptions& options, std::uint64_t pool_id);
  // Maps an existing pool read-only, without a lock: for Verify.
  static absl::StatusOr<ChunkPool> Observe(const ShmOptions& options, std::uint64_t pool_id);

  // DataLoss naming the pool and what is wrong if its free list is not a
  // chain of distinct in-range chunks whose reference counts are 0. A
  // look, not a lock: a pool in use may change under it, so callers treat
  // a failure as "corrupt or busy" and look twice.
  absl::Status Verify() const;

  ChunkPool(ChunkPool&&) noexcept = default;
  ChunkPool& operator=(ChunkPool&&) noexcept = default;
  // Unmaps; never unlinks. A pool's name lives as long as its ring may
  // hold references into it: it is unlinked when the ring is claimed by a
  // new owner, or when the topic's last user leaves (TopicSegment).
  ~ChunkPool() = default;

  // Pops a free chunk, bumps its generation and gives it one reference.
  // nullopt when none is free.
  std::optional<internal::ChunkRef> Allocate();

  // Adds a reference to chunk `ref` if it still holds that generation and
  // is referenced; false if it was recycled (the sample is then lost) or
  // `ref` is out of range.
  bool Acquire(const internal::ChunkRef& ref);

  // Drops one reference; the last one returns the chunk to the free list.
  // A reference to another generation or a free chunk is ignored.
  void Release(const internal::ChunkRef& ref);

  // The bytes of chunk `index`. REQUIRES: index < chunk_count().
  std::byte* chunk(std::uint32_t index) const {
    return segment_.base() + chunks_offset_ + chunk_stride_ * index;
  }
  std::uint64_t id() const { return id_; }
  std::uint64_t chunk_size() const { return chunk_size_; }
  std::uint32_t chunk_count() const { return chunk_count_; }
  // Chunks on the free list now (walks it; for tests, observers and the
  // publisher deciding to release the segment).
  std::uint32_t CountFree() const;
  // The free list's head word as it is now: it changes with every loan and
  // every return, so an unchanged head means an untouched pool.
  std::uint64_t free_head() const;
  // Releases the segment if every chunk is on the free list and the list
  // is still as `head` (from free_head()) left it: takes the whole list in
  // one step, so no loan can take a chunk from it again, and marks it so
  // that subscribers still mapping it let go. False, changing nothing, if
  // a chunk is referenced or the list moved. Safe against the owner's
  // loans and returns on other threads. The caller unlinks it.
  bool TryRetire(std::uint64_t head);
  // After TryRetire: gives the chunks' memory back to the directory at
  // once, whoever still maps the segment.
  absl::Status DiscardChunks() const;
  bool retired() const {
    // Relaxed: a reader checks after acquiring the slot that names a
    // member id, which the publisher released after retiring any earlier
    // segment of that id; a stale answer otherwise only keeps a mapping.
    return header().retired.load(std::memory_order_relaxed) != 0;
  }
  // Bytes the segment commits (headers, controls and chunks).
  std::uint64_t bytes() const { return segment_.size(); }
  const Segment& segment() const { return segment_; }

 private:
  ChunkPool(std::uint64_t id, Segment segment);
  absl::Status CheckGeometry() const;
  internal::PoolHeader& header() const {
    return *reinterpret_cast<internal::PoolHeader*>(segment_.base() + sizeof(SegmentHeader));
  }
  internal::ChunkControl& control(std::uint32_t index) const {
    return reinterpret_cast<internal::ChunkControl*>(segment_.base() + controls_offset_)[index];
  }
  void Push(std::uint32_t index);
  // Chunks on the free list that starts at `head`.
  std::uint32_t CountFrom(std::uint64_t head) const;

  std::uint64_t id_ = 0;
  Segment segment_;
  std::uint64_t chunk_size_ = 0;
  std::uint64_t chunk_stride_ = 0;
  std::uint32_t chunk_count_ = 0;
  std::uint64_t controls_offset_ = 0;
  std::uint64_t chunks_offset_ = 0;
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_POOL_H_
