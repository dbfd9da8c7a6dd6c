// transport/pool_chain.h: one publisher's chunk pool as it grows and shrinks
// with use. The pool is planned for the worst case (ring depth + every
// subscriber's held maximum + the loans, per size class) but commits only
// what loans have needed: each size class is a short chain of pool
// segments that starts with a few chunks, gains a segment (doubling its
// chunks) when a loan finds none free, and loses segments that stay wholly
// free for the idle time. Segment ids follow pool_layout.h, "Pool ids".
//
// Only the publisher owns a PoolChain; subscribers map its segments one by
// one as references name them (Reader).
#ifndef RINGCAST_TRANSPORT_POOL_CHAIN_H_
#define RINGCAST_TRANSPORT_POOL_CHAIN_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "transport/chunk_ref.h"
#include "transport/pool.h"
#include "transport/pool_options.h"
#include "transport/shm_options.h"

namespace ringcast::transport {

class PoolChain {
 public:
  // Plans `bound` chunks per size class for messages up to
  // `max_message_size` bytes; commits nothing yet. `topic` names the pool
  // in errors.
  static absl::StatusOr<PoolChain> Create(const ShmOptions& options, std::string topic,
                                          std::uint64_t max_message_size, std::uint32_t bound,
                                          const PoolChainOptions& chain_options);

  PoolChain(PoolChain&&) noexcept;
  PoolChain& operator=(PoolChain&&) noexcept;
  ~PoolChain();  // unmaps; never unlinks (see ChunkPool)

  struct Chunk {
    ChunkPool* pool = nullptr;
    internal::ChunkRef ref;
  };
  // A chunk (one reference) of the smallest size class that fits `size`
  // bytes, growing the class if none is free. REQUIRES: size <=
  // max_message_size. ResourceExhausted naming the topic, the sizes and the
  // free space if the directory cannot hold the growth; ResourceExhausted
  // (a reference leaked) at the bound; DataLoss if a free list is corrupt.
  absl::StatusOr<Chunk> Allocate(std::uint64_t size);
  // Drops one reference of a chunk this chain handed out.
  void Release(const internal::ChunkRef& ref);
  // Whether `pool` is one of this chain's segments.
  bool Owns(const ChunkPool* pool) const;
  // Releases the segments that have been unused and wholly free for the
  // idle time, as of `now_ns` (CLOCK_REALTIME). One compare unless it is
  // time to look (every idle/4).
  void Trim(std::int64_t now_ns) {
    now_ns_ = now_ns;
    if (now_ns >= next_trim_ns_) TrimSlow(now_ns);
  }

  std::uint64_t family() const { return family_; }
  std::uint32_t bound() const { return bound_; }
  std::uint32_t class_count() const { return static_cast<std::uint32_t>(classes_.size()); }
  // The class a `size`-byte message goes to.
  std::uint32_t ClassFor(std::uint64_t size) const;
  // Segment `ordinal` of class `c`, or nullptr.
  const ChunkPool* segment(std::uint32_t c, std::uint32_t ordinal) const;
  PoolUse Stats() const;
  // Chunks committed / free now, over every segment.
  std::uint32_t chunk_count() const;
  std::uint32_t CountFree() const;

 private:
  struct Segment {
    std::unique_ptr<ChunkPool> pool;
    std::int64_t last_used_ns = 0;  // a loan took from it, or we saw it in use
  };
  struct Class {
    std::uint64_t chunk_size = 0;
    std::uint32_t chunks = 0;           // committed over its segments
    std::vector<Segment> segments;      // by ordinal; a released one is null
    // The segment of the chunk we returned last: its free list starts with
    // the chunk freed last, still in cache, so a loan looks there first.
    std::uint32_t hint = 0;
  };
  PoolChain() = default;
  absl::StatusOr<Chunk> Grow(std::uint32_t c, std::uint64_t size);
  // DataLoss naming the segment if a free list of class `k` is corrupt.
  absl::Status VerifyClass(const Class& k) const;
  void TrimSlow(std::int64_t now_ns);
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  ShmOptions options_;
  std::string topic_;
  std::uint64_t family_ = 0;
  std::uint64_t max_message_size_ = 0;
  std::uint32_t bound_ = 0;
  PoolChainOptions chain_options_;
  std::uint32_t top_log2_ = 0;  // log2 of class 1's chunk size
  std::vector<Class> classes_;
  std::int64_t next_trim_ns_ = kNever;  // kNever while nothing can go
  std::int64_t now_ns_ = 0;  // as of the last Trim: stamps a segment's use
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_POOL_CHAIN_H_
