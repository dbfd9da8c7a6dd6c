#include "transport/pool_chain.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/fault.h"
#include "transport/pool.h"
#include "transport/segment.h"
#include "transport/warn.h"
#include "transport/status_macros.h"

namespace ringcast::transport {
namespace {

// The smallest chunk a size class holds: one page (a chunk of a page or
// more is page-aligned, so smaller classes would save nothing).
constexpr std::uint64_t kMinClassBytes = internal::kChunkAlign;

}  // namespace

absl::StatusOr<std::unique_ptr<PoolChain>> PoolChain::Create(
    const ShmOptions& options, std::string topic, std::uint64_t max_message_size,
    std::uint32_t bound, const PoolChainOptions& chain_options) {
  if (max_message_size == 0 || bound == 0 || bound > internal::kMaxChunks) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk pool on ", topic, ": ", bound, " chunks of ", max_message_size,
        " bytes; valid 1..", internal::kMaxChunks, " chunks of at least 1 byte"));
  }
  if (chain_options.initial_chunks == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chunk pool on ", topic, ": initial_chunks 0; valid 1 or more"));
  }
  if (chain_options.idle <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunk pool on ", topic, ": idle time ",
                     absl::FormatDuration(chain_options.idle), " must be positive"));
  }
  std::unique_ptr<PoolChain> chain(new PoolChain());
  chain->options_ = options;
  chain->topic_ = std::move(topic);
  chain->family_ = NewPoolFamilyId();
  chain->max_message_size_ = max_message_size;
  chain->bound_ = bound;
  chain->chain_options_ = chain_options;
  chain->classes_.push_back(Class{max_message_size, 0, {}});
  if (max_message_size > kMinClassBytes) {
    // Class 1 holds the largest power of two below the maximum.
    chain->top_log2_ = static_cast<std::uint32_t>(std::bit_width(max_message_size - 1) - 1);
    for (std::uint32_t c = 1; c < internal::kMaxSizeClasses; ++c) {
      const std::uint64_t size = std::uint64_t{1} << (chain->top_log2_ + 1 - c);
      if (size < kMinClassBytes) break;
      chain->classes_.push_back(Class{size, 0, {}});
    }
  }
  return chain;
}

PoolChain::~PoolChain() = default;

std::uint32_t PoolChain::ClassFor(std::uint64_t size) const {
  const auto n = static_cast<std::uint32_t>(classes_.size());
  if (n == 1 || size > classes_[1].chunk_size) return 0;
  // The smallest power of two >= size is 2^ceil_log2; class c holds
  // 2^(top_log2_ + 1 - c).
  const auto ceil_log2 = static_cast<std::uint32_t>(size <= 1 ? 0 : std::bit_width(size - 1));
  return std::min(n - 1, top_log2_ + 1 - ceil_log2);
}

const ChunkPool* PoolChain::segment(std::uint32_t c, std::uint32_t ordinal) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (c >= classes_.size() || ordinal >= classes_[c].segments.size()) return nullptr;
  const Segment& s = classes_[c].segments[ordinal];
  return s.released ? nullptr : s.pool.get();
}

absl::StatusOr<PoolChain::Chunk> PoolChain::Allocate(std::uint64_t size) {
  const std::uint32_t c = ClassFor(size);
  Class& k = classes_[c];
  // Where we returned a chunk last (hot), then oldest first.
  const auto take = [&](Segment& s) -> std::optional<Chunk> {
    if (s.pool == nullptr) return std::nullopt;
    std::optional<internal::ChunkRef> ref = s.pool->Allocate();
    if (!ref) return std::nullopt;  // none free, or released by the keeper
    ref->size = size;
    return Chunk{s.pool.get(), *ref};
  };
  if (k.hint < k.segments.size()) {
    if (std::optional<Chunk> chunk = take(k.segments[k.hint])) return *chunk;
  }
  if (released()) ForgetReleased();
  for (Segment& s : k.segments) {
    if (std::optional<Chunk> chunk = take(s)) return *chunk;
  }
  // Empty, or corrupt: a stray write must not pass for demand.
  RINGCAST_RETURN_IF_ERROR(VerifyClass(k));
  if (k.chunks < bound_) return Grow(c, size);
  // The plan makes this impossible unless a process died in the few
  // instructions between taking a reference and recording it.
  return absl::ResourceExhaustedError(absl::StrCat(
      "chunk pool on ", topic_, " has no free chunk of ", k.chunk_size, " bytes among the ",
      bound_, " it plans for depth + every subscriber's max_held_samples + the loans; a chunk "
      "reference leaked"));
}

absl::StatusOr<PoolChain::Chunk> PoolChain::Grow(std::uint32_t c, std::uint64_t size) {
  Class& k = classes_[c];
  std::uint32_t ordinal = 0;
  while (ordinal < k.segments.size() && k.segments[ordinal].pool != nullptr) ++ordinal;
  if (ordinal >= internal::kMaxClassSegments) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "chunk pool on ", topic_, " already has ", ordinal, " segments of ", k.chunk_size,
        "-byte chunks, the most a size class may have"));
  }
  // Double the class, up to the plan.
  const std::uint32_t chunks =
      std::min(std::max(chain_options_.initial_chunks, k.chunks), bound_ - k.chunks);
  absl::StatusOr<ChunkPool> pool =
      ChunkPool::Create(options_, internal::PoolMemberId(family_, c, ordinal), k.chunk_size,
                        chunks);
  if (!pool.ok()) {
    return absl::Status(pool.status().code(),
                        absl::StrCat("loan of ", size, " bytes on ", topic_,
                                     ": growing the publisher's chunk pool by ", chunks,
                                     " chunks of ", k.chunk_size, " bytes (", k.chunks,
                                     " committed, ", bound_, " planned): ",
                                     pool.status().message()));
  }
  RINGCAST_FAULT_POINT("pool.grow.created");
  ChunkPool* added = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ordinal == k.segments.size()) k.segments.emplace_back();
    k.segments[ordinal] = Segment{std::make_unique<ChunkPool>(*std::move(pool))};
    added = k.segments[ordinal].pool.get();
    if (ordinal > 0 && !watched_) keep_request_ = watched_ = true;
  }
  k.chunks += chunks;
  std::optional<internal::ChunkRef> ref = added->Allocate();
  if (!ref) {  // a fresh segment is all free
    return absl::DataLossError(absl::StrCat("loan on ", topic_, ": new pool segment ",
                                            added->segment().path(), " has no free chunk"));
  }
  ref->size = size;
  return Chunk{added, *ref};
}

absl::Status PoolChain::VerifyClass(const Class& k) const {
  for (const Segment& s : k.segments) {
    if (s.pool == nullptr) continue;
    if (absl::Status st = s.pool->Verify(); !st.ok()) {
      return absl::DataLossError(absl::StrCat(
          "loan on ", topic_, ": ", st.message(), "; recreate the publisher to get a fresh pool"));
    }
  }
  return absl::OkStatus();
}

void PoolChain::Release(const internal::ChunkRef& ref, bool hot) {
  const std::uint32_t c = internal::SizeClassOf(ref.pool_id);
  const std::uint32_t o = internal::OrdinalOf(ref.pool_id);
  if (c < classes_.size() && o < classes_[c].segments.size()) {
    if (ChunkPool* p = classes_[c].segments[o].pool.get()) {
      p->Release(ref);
      if (hot) classes_[c].hint = o;
    }
  }
}

bool PoolChain::Owns(const ChunkPool* pool) const {
  if (pool == nullptr || internal::PoolFamilyOf(pool->id()) != family_) return false;
  // No lock: only the owner changes the lists (a loan's segment is never
  // released while the loan holds its chunk).
  const std::uint32_t c = internal::SizeClassOf(pool->id());
  const std::uint32_t o = internal::OrdinalOf(pool->id());
  return c < classes_.size() && o < classes_[c].segments.size() &&
         classes_[c].segments[o].pool.get() == pool;
}

void PoolChain::ForgetReleased() {
  std::lock_guard<std::mutex> lock(mu_);
  // Relaxed: under mu_, which orders the keeper's marks before us.
  released_.store(false, std::memory_order_relaxed);
  for (Class& k : classes_) {
    for (std::size_t o = 0; o < k.segments.size(); ++o) {
      Segment& s = k.segments[o];
      if (s.pool == nullptr || !s.released) continue;
      k.chunks -= s.pool->chunk_count();
      s = Segment{};  // unmaps
      if (k.hint == o) k.hint = 0;
    }
    while (!k.segments.empty() && k.segments.back().pool == nullptr) k.segments.pop_back();
  }
}

std::int64_t PoolChain::KeepUp(std::int64_t now_ns) {
  const std::int64_t idle_ns = absl::ToInt64Nanoseconds(chain_options_.idle);
  std::lock_guard<std::mutex> lock(mu_);
  bool left = false;  // a segment that may go later
  for (Class& k : classes_) {
    for (std::size_t o = 1; o < k.segments.size(); ++o) {
      Segment& s = k.segments[o];
      if (s.pool == nullptr || s.released) continue;
      const std::uint64_t head = s.pool->free_head();
      if (s.quiet_since_ns < 0 || head != s.seen_head) {  // used since the last look
        s.seen_head = head;
        s.quiet_since_ns = now_ns;
        left = true;
      } else if (now_ns - s.quiet_since_ns < idle_ns || !s.pool->TryRetire(head)) {
        // Not idle long enough, or a chunk is still referenced (a holding
        // subscriber): idle counts from its return.
        if (now_ns - s.quiet_since_ns >= idle_ns) s.quiet_since_ns = -1;
        left = true;
      } else {
        ReleaseTaken(s);
      }
    }
  }
  if (!left) watched_ = false;
  return left ? now_ns + std::max<std::int64_t>(idle_ns / 4, 1) : kNever;
}

void PoolChain::ReleaseTaken(Segment& s) {
  // TryRetire took every chunk and marked the segment: no reference to it
  // exists and none can be taken (a subscriber acquires only a referenced
  // chunk). Take the name away, then the memory, which would otherwise
  // stay allocated while anyone maps the segment; subscribers that map it
  // let go when they see the mark, the owner at its next loan that misses.
  RINGCAST_FAULT_POINT("pool.shrink.retired");
  (void)transport::Segment::Unlink(options_, s.pool->segment().name());
  RINGCAST_FAULT_POINT("pool.shrink.unlinked");
  if (absl::Status st = s.pool->DiscardChunks(); !st.ok()) {
    // Only the memory's release is late: it goes when the last mapping does.
    WarnOnce("pool.discard", absl::StrCat("releasing a pool segment of ", topic_, ": ",
                                          st.message(), "; its memory goes with the last mapping"));
  }
  s.released = true;
  // Relaxed: the owner reads the marks under mu_.
  released_.store(true, std::memory_order_relaxed);
}

PoolUse PoolChain::Stats() const {
  PoolUse use;
  use.planned_bytes = max_message_size_ * bound_;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Class& k : classes_) {
    for (const Segment& s : k.segments) {
      if (s.pool != nullptr && !s.released) AddPoolSegment(*s.pool, &use);
    }
  }
  return use;
}

std::uint32_t PoolChain::chunk_count() const { return Stats().chunks; }
std::uint32_t PoolChain::CountFree() const { return Stats().free_chunks; }

}  // namespace ringcast::transport
