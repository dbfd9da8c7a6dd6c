#include "transport/pool.h"


#include <algorithm>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "transport/names.h"
#include "transport/process.h"
#include "transport/status_macros.h"

namespace ringcast::transport {
namespace {

using internal::ChunkControl;
using internal::ChunkRef;
using internal::PoolHeader;

constexpr std::uint64_t RoundUp(std::uint64_t x, std::uint64_t to) {
  return (x + to - 1) / to * to;
}

std::uint64_t ChunkStride(std::uint64_t chunk_size) {
  // Page-aligned chunks for large payloads (no chunk shares a page with
  // another's tail); cache-line aligned for small ones.
  return chunk_size >= internal::kChunkAlign ? RoundUp(chunk_size, internal::kChunkAlign)
                                             : RoundUp(std::max<std::uint64_t>(chunk_size, 1), 64);
}

std::uint64_t ControlsOffset() { return sizeof(SegmentHeader) + sizeof(PoolHeader); }

std::uint64_t ChunksOffset(std::uint32_t count) {
  return RoundUp(ControlsOffset() + std::uint64_t{count} * sizeof(ChunkControl),
                 internal::kChunkAlign);
}

constexpr std::uint64_t kCountMask = 0xFFFFFFFFull;
std::uint32_t GenerationOf(std::uint64_t state) { return static_cast<std::uint32_t>(state >> 32); }
std::uint32_t CountOf(std::uint64_t state) { return static_cast<std::uint32_t>(state & kCountMask); }

}  // namespace

std::string PoolSegmentName(const ShmOptions& options, std::uint64_t pool_id) {
  return absl::StrFormat("%sp.%016x", DomainStem(options), pool_id);
}

std::optional<std::uint64_t> PoolIdOfName(const ShmOptions& options, absl::string_view name) {
  const std::string stem = absl::StrCat(DomainStem(options), "p.");
  std::uint64_t id = 0;
  if (!absl::ConsumePrefix(&name, stem) || !absl::SimpleHexAtoi(name, &id)) return std::nullopt;
  return id;
}

std::uint64_t NewPoolFamilyId() {
  for (;;) {
    const std::uint64_t id = internal::PoolFamilyOf(RandomNonZeroId());
    if (id != 0) return id;
  }
}

std::vector<std::string> PoolFamilyNames(const ShmOptions& options, std::uint64_t family) {
  // Members share the name up to the last three hex digits.
  std::string stem = PoolSegmentName(options, internal::PoolFamilyOf(family));
  stem.resize(stem.size() - 3);
  return NamesWithStem(options, stem);
}

std::vector<std::string> UnlinkPoolFamily(const ShmOptions& options, std::uint64_t family) {
  std::vector<std::string> unlinked;
  for (std::string& name : PoolFamilyNames(options, family)) {
    if (Segment::Unlink(options, name).ok()) unlinked.push_back(std::move(name));
  }
  return unlinked;
}

void AddPoolSegment(const ChunkPool& pool, PoolUse* use) {
  use->committed_bytes += pool.bytes();
  use->free_chunks += pool.CountFree();
  use->chunks += pool.chunk_count();
  ++use->segments;
  std::vector<PoolUse::SizeClass>& classes = use->classes;
  auto it = std::find_if(classes.begin(), classes.end(), [&](const PoolUse::SizeClass& c) {
    return c.chunk_size <= pool.chunk_size();
  });
  if (it == classes.end() || it->chunk_size != pool.chunk_size()) {
    it = classes.insert(it, PoolUse::SizeClass{pool.chunk_size(), 0, 0});
  }
  it->chunks += pool.chunk_count();
  ++it->segments;
}

PoolUse ObservePoolFamily(const ShmOptions& options, std::uint64_t family) {
  PoolUse use;
  for (const std::string& name : PoolFamilyNames(options, family)) {
    const std::optional<std::uint64_t> id = PoolIdOfName(options, name);
    if (!id) continue;
    absl::StatusOr<ChunkPool> pool = ChunkPool::Observe(options, *id);
    if (pool.ok() && !pool->retired()) AddPoolSegment(*pool, &use);
  }
  return use;
}

absl::StatusOr<ChunkPool> ChunkPool::Create(const ShmOptions& options, std::uint64_t id,
                                            std::uint64_t chunk_size,
                                            std::uint32_t chunk_count) {
  RINGCAST_RETURN_IF_ERROR(ValidateShmOptions(options));
  if (chunk_count == 0 || chunk_count > internal::kMaxChunks) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk pool of ", chunk_count, " chunks: valid 1..", internal::kMaxChunks));
  }
  const std::uint64_t stride = ChunkStride(chunk_size);
  const std::uint64_t chunks_offset = ChunksOffset(chunk_count);
  if (stride > (std::uint64_t{1} << 46) / chunk_count) {
    return absl::InvalidArgumentError(absl::StrCat("chunk pool of ", chunk_count, " x ",
                                                   chunk_size, " bytes is too large"));
  }
  const std::uint64_t size = chunks_offset + stride * chunk_count;
  if (id == 0) return absl::InvalidArgumentError("pool id 0 is reserved for \"no pool\"");
  RINGCAST_ASSIGN_OR_RETURN(
      Segment segment,
      Segment::Create(options, PoolSegmentName(options, id), SegmentKind::kPool, size,
                      [&](std::byte* base, std::uint64_t) {
                        reinterpret_cast<SegmentHeader*>(base)->header_size = sizeof(PoolHeader);
                        auto* h = reinterpret_cast<PoolHeader*>(base + sizeof(SegmentHeader));
                        h->chunk_size = chunk_size;
                        h->chunk_stride = stride;
                        h->chunk_count = chunk_count;
                        h->controls_offset = ControlsOffset();
                        h->chunks_offset = chunks_offset;
                        // Every chunk free, chained 0 -> 1 -> ... (generation
                        // 0, count 0 from the zeroed pages).
                        auto* c = reinterpret_cast<ChunkControl*>(base + ControlsOffset());
                        for (std::uint32_t i = 0; i + 1 < chunk_count; ++i) {
                          c[i].next.store(i + 2, std::memory_order_relaxed);
                        }
                        // Relaxed: published by the segment's magic release.
                        h->free_head.store(1, std::memory_order_relaxed);
                      }));
  return ChunkPool(id, std::move(segment));
}

namespace {

absl::StatusOr<ChunkPool> OpenPool(const ShmOptions& options, std::uint64_t pool_id,
                                   Segment::Access access,
                                   absl::FunctionRef<ChunkPool(Segment)> make) {
  RINGCAST_ASSIGN_OR_RETURN(Segment segment,
                            Segment::Open(options, PoolSegmentName(options, pool_id),
                                          SegmentKind::kPool, access));
  const std::uint64_t size = segment.size();
  if (size < ControlsOffset()) {
    return absl::DataLossError(absl::StrCat("pool segment ", segment.path(), ": ", size,
                                            " bytes is smaller than its headers"));
  }
  return make(std::move(segment));
}

}  // namespace

absl::StatusOr<ChunkPool> ChunkPool::Open(const ShmOptions& options, std::uint64_t pool_id) {
  RINGCAST_ASSIGN_OR_RETURN(
      ChunkPool pool, OpenPool(options, pool_id, Segment::Access::kParticipant,
                               [&](Segment s) { return ChunkPool(pool_id, std::move(s)); }));
  RINGCAST_RETURN_IF_ERROR(pool.CheckGeometry());
  if (pool.retired()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pool segment ", pool.segment().path(), " was released by its publisher"));
  }
  return pool;
}

absl::StatusOr<ChunkPool> ChunkPool::Observe(const ShmOptions& options, std::uint64_t pool_id) {
  RINGCAST_ASSIGN_OR_RETURN(
      ChunkPool pool, OpenPool(options, pool_id, Segment::Access::kObserver,
                               [&](Segment s) { return ChunkPool(pool_id, std::move(s)); }));
  RINGCAST_RETURN_IF_ERROR(pool.CheckGeometry());
  return pool;
}

absl::Status ChunkPool::CheckGeometry() const {
  // Validate the copies ChunkPool() took; never re-read the header.
  const std::uint64_t size = segment_.size();
  const std::uint64_t count = chunk_count_;
  if (count == 0 || count > internal::kMaxChunks || controls_offset_ != ControlsOffset() ||
      chunks_offset_ != ChunksOffset(chunk_count_) || chunk_stride_ != ChunkStride(chunk_size_) ||
      chunk_size_ > chunk_stride_ ||  // a size near 2^64 wraps its stride to 0
      chunks_offset_ > size || chunk_stride_ > (size - chunks_offset_) / count) {
    return absl::DataLossError(absl::StrCat(
        "pool segment ", segment_.path(), ": ", count, " chunks of ", chunk_stride_,
        " bytes at ", chunks_offset_, " do not fit ", size, " bytes; the pool is corrupt"));
  }
  return absl::OkStatus();
}

absl::Status ChunkPool::Verify() const {
  auto corrupt = [&](const std::string& what) {
    return absl::DataLossError(
        absl::StrCat("pool segment ", segment_.path(), ": ", what, "; the pool is corrupt"));
  };
  // Acquire: see the pushers' `next` stores.
  std::uint32_t at = static_cast<std::uint32_t>(
      header().free_head.load(std::memory_order_acquire) & kCountMask);
  std::vector<bool> seen(chunk_count_, false);
  while (at != 0) {
    if (at > chunk_count_) {
      return corrupt(absl::StrCat("free list names chunk ", at - 1, ", valid 0..",
                                  chunk_count_ - 1));
    }
    if (seen[at - 1]) return corrupt(absl::StrCat("free list loops at chunk ", at - 1));
    seen[at - 1] = true;
    // Relaxed: a look; see the function comment.
    if (CountOf(control(at - 1).state.load(std::memory_order_relaxed)) != 0) {
      return corrupt(absl::StrCat("chunk ", at - 1, " is on the free list but referenced"));
    }
    at = control(at - 1).next.load(std::memory_order_relaxed);
  }
  return absl::OkStatus();
}

ChunkPool::ChunkPool(std::uint64_t id, Segment segment) : id_(id), segment_(std::move(segment)) {
  const PoolHeader& h = header();
  chunk_size_ = h.chunk_size;
  chunk_stride_ = h.chunk_stride;
  chunk_count_ = h.chunk_count;
  controls_offset_ = h.controls_offset;
  chunks_offset_ = h.chunks_offset;
}


void ChunkPool::Push(std::uint32_t index) {
  std::atomic<std::uint64_t>& head = header().free_head;
  // Relaxed: the CAS below validates what we read.
  std::uint64_t h = head.load(std::memory_order_relaxed);
  for (;;) {
    // Relaxed: published by the release CAS below.
    control(index).next.store(static_cast<std::uint32_t>(h & kCountMask),
                              std::memory_order_relaxed);
    const std::uint64_t tag = (h >> 32) + 1;
    // Release: the next popper sees `next` and every access made to the
    // chunk while it was referenced.
    if (head.compare_exchange_weak(h, tag << 32 | (index + 1), std::memory_order_release,
                                   std::memory_order_relaxed)) {
      return;
    }
  }
}

std::optional<ChunkRef> ChunkPool::Allocate() {
  std::atomic<std::uint64_t>& head = header().free_head;
  // Acquire: pairs with the pusher's release CAS (its `next` store).
  std::uint64_t h = head.load(std::memory_order_acquire);
  for (;;) {
    const std::uint32_t top = static_cast<std::uint32_t>(h & kCountMask);
    if (top == 0 || top > chunk_count_) return std::nullopt;  // empty (or corrupt)
    const std::uint32_t index = top - 1;
    // Relaxed: if another popper took `index` meanwhile, the tag changed
    // and the CAS fails; a torn `next` is never used.
    const std::uint32_t next = control(index).next.load(std::memory_order_relaxed);
    const std::uint64_t tag = (h >> 32) + 1;
    // Acquire: we own the chunk; see its last user's accesses.
    if (head.compare_exchange_weak(h, tag << 32 | next, std::memory_order_acquire,
                                   std::memory_order_acquire)) {
      ChunkControl& c = control(index);
      // Relaxed: a free chunk has count 0; only we change it now. Subscribers
      // with a stale reference compare generations and fail.
      const std::uint32_t gen = GenerationOf(c.state.load(std::memory_order_relaxed)) + 1;
      // Release: a subscriber that CASes in after this sees the new
      // generation, never a half-made state.
      c.state.store(std::uint64_t{gen} << 32 | 1, std::memory_order_release);
      return ChunkRef{id_, index, gen, 0};
    }
  }
}

bool ChunkPool::Acquire(const ChunkRef& ref) {
  if (ref.index >= chunk_count_) return false;
  std::atomic<std::uint64_t>& state = control(ref.index).state;
  // No load first: guess the common case (only the ring's reference) and
  // let the CAS fetch the line once, exclusively, instead of shared and
  // then exclusive. A wrong guess just loads the true value.
  std::uint64_t s = std::uint64_t{ref.generation} << 32 | 1;
  for (;;) {
    if (GenerationOf(s) != ref.generation || CountOf(s) == 0 || CountOf(s) == kCountMask) {
      return false;
    }
    // Acquire: pairs with the loan's release store of the generation; the
    // chunk's bytes as published are ours to read.
    if (state.compare_exchange_strong(s, s + 1, std::memory_order_acquire,
                                      std::memory_order_acquire)) {
      return true;
    }
  }
}

void ChunkPool::Release(const ChunkRef& ref) {
  if (ref.index >= chunk_count_) return;
  std::atomic<std::uint64_t>& state = control(ref.index).state;
  // As in Acquire, no load first: guess "the ring's reference and ours".
  std::uint64_t s = std::uint64_t{ref.generation} << 32 | 2;
  for (;;) {
    if (GenerationOf(s) != ref.generation || CountOf(s) == 0) return;  // not ours
    // Acq_rel: release our reads of the chunk to whoever recycles it; the
    // last releaser acquires everyone else's before pushing it.
    if (state.compare_exchange_strong(s, s - 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      break;
    }
  }
  if (CountOf(s) == 1) Push(ref.index);
}

std::uint64_t ChunkPool::free_head() const {
  // Acquire: a walk from this head sees the pushers' `next` stores.
  return header().free_head.load(std::memory_order_acquire);
}

bool ChunkPool::TryRetire(std::uint64_t head) {
  if (CountFrom(head) != chunk_count_) return false;
  // The tag moves on every push and pop, so success means nothing changed
  // since `head` was read: the walk above saw the whole pool free. The
  // list is left empty, so a loan finds nothing here. Acquire: every
  // earlier user's accesses to the chunks happen before the discard.
  const std::uint64_t tag = (head >> 32) + 1;
  if (!header().free_head.compare_exchange_strong(head, tag << 32, std::memory_order_acquire,
                                                  std::memory_order_relaxed)) {
    return false;
  }
  // Relaxed: see retired().
  header().retired.store(1, std::memory_order_relaxed);
  return true;
}

absl::Status ChunkPool::DiscardChunks() const {
  return segment_.Discard(chunks_offset_, segment_.size() - chunks_offset_);
}

std::uint32_t ChunkPool::CountFrom(std::uint64_t head) const {
  std::uint32_t at = static_cast<std::uint32_t>(head & kCountMask);
  std::uint32_t n = 0;
  while (at != 0 && at <= chunk_count_ && n <= chunk_count_) {
    ++n;
    // Relaxed: `head` was loaded with acquire; a changed list fails the
    // caller's CAS or only misleads a look.
    at = control(at - 1).next.load(std::memory_order_relaxed);
  }
  return n;
}

std::uint32_t ChunkPool::CountFree() const { return CountFrom(free_head()); }

}  // namespace ringcast::transport
