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
//
// Threads. The owner's thread loans, returns and reads figures; the
// process's pool keeper (pool_keeper.h) calls KeepUp from its own thread,
// so that a publisher that stops calling still shrinks. The loan path
// takes no lock and reads no clock: the keeper takes a segment from the
// pool in one CAS on its free list (ChunkPool::TryRetire), and the owner
// forgets released segments at its next loan that misses.
#ifndef RINGCAST_TRANSPORT_POOL_CHAIN_H_
#define RINGCAST_TRANSPORT_POOL_CHAIN_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
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
  static absl::StatusOr<std::unique_ptr<PoolChain>> Create(
      const ShmOptions& options, std::string topic, std::uint64_t max_message_size,
      std::uint32_t bound, const PoolChainOptions& chain_options);

  PoolChain(const PoolChain&) = delete;  // the keeper holds its address
  PoolChain& operator=(const PoolChain&) = delete;
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
  // Drops one reference of a chunk this chain handed out. `hot`: the
  // owner's own return, whose segment its next loan looks at first.
  void Release(const internal::ChunkRef& ref, bool hot = true);
  // Whether `pool` is one of this chain's segments.
  bool Owns(const ChunkPool* pool) const;
  // The keeper's look, as of `now_ns` (a steady clock): releases the
  // segments (never a class's first) whose free list has not moved for the
  // idle time and holds every chunk. Returns when to look again, or kNever
  // once no segment but the first ones is left. Any thread.
  std::int64_t KeepUp(std::int64_t now_ns);
  // Forgets (unmaps) the segments the keeper released. The owner's
  // thread, or another while the owner is out of every call (OwnerGate).
  void ForgetReleased();
  // Whether the keeper released a segment not forgotten yet (a hint).
  bool released() const {
    // Relaxed: a hint; ForgetReleased reads the marks under mu_.
    return released_.load(std::memory_order_relaxed);
  }
  // True once after a growth past a class's first segment while the
  // keeper was not looking: the owner then asks it to (StartKeeping).
  bool TakeKeepRequest() {
    if (!keep_request_) return false;  // every loan asks: a load, no store
    keep_request_ = false;
    return true;
  }
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  std::uint64_t family() const { return family_; }
  std::uint32_t bound() const { return bound_; }
  std::uint32_t class_count() const { return static_cast<std::uint32_t>(classes_.size()); }
  // The class a `size`-byte message goes to.
  std::uint32_t ClassFor(std::uint64_t size) const;
  // Segment `ordinal` of class `c`, or nullptr (also once released).
  const ChunkPool* segment(std::uint32_t c, std::uint32_t ordinal) const;
  PoolUse Stats() const;
  // Chunks committed / free now, over every segment.
  std::uint32_t chunk_count() const;
  std::uint32_t CountFree() const;

 private:
  struct Segment {
    std::unique_ptr<ChunkPool> pool;
    // Set by the keeper once it took the segment; the owner then forgets it.
    bool released = false;
    // The keeper's: the free list's head at its last look, and since when
    // it has stayed so (-1: not looked at yet).
    std::uint64_t seen_head = 0;
    std::int64_t quiet_since_ns = -1;
  };
  struct Class {
    std::uint64_t chunk_size = 0;
    std::uint32_t chunks = 0;           // committed over its segments (owner's)
    std::vector<Segment> segments;      // by ordinal; a forgotten one is null
    // The segment of the chunk we returned last: its free list starts with
    // the chunk freed last, still in cache, so a loan looks there first.
    std::uint32_t hint = 0;
  };
  PoolChain() = default;
  absl::StatusOr<Chunk> Grow(std::uint32_t c, std::uint64_t size);
  // DataLoss naming the segment if a free list of class `k` is corrupt.
  absl::Status VerifyClass(const Class& k) const;
  // Releases `s`, which TryRetire just took: unlinks it and punches its
  // chunks out. REQUIRES: mu_ held.
  void ReleaseTaken(Segment& s);

  ShmOptions options_;
  std::string topic_;
  std::uint64_t family_ = 0;
  std::uint64_t max_message_size_ = 0;
  std::uint32_t bound_ = 0;
  PoolChainOptions chain_options_;
  std::uint32_t top_log2_ = 0;  // log2 of class 1's chunk size
  std::vector<Class> classes_;  // fixed after Create

  // Orders the keeper's looks against the owner's changes to the segment
  // lists (growing, forgetting). The owner reads the lists without it:
  // only the owner changes them.
  mutable std::mutex mu_;
  bool watched_ = false;  // the keeper looks at us; guarded by mu_
  bool keep_request_ = false;  // owner's
  // The keeper released a segment the owner has not forgotten yet.
  std::atomic<bool> released_{false};
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_POOL_CHAIN_H_
