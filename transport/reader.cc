#include "transport/reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/fault.h"
#include "transport/futex.h"
#include "transport/pool.h"
#include "transport/topic.h"
#include "transport/liveness.h"
#include "transport/status_macros.h"
#include "transport/words.h"

namespace ringcast::transport {
namespace {

static_assert(Reader::kOwnerHistory == internal::kOwnerHistory,
              "a reader remembers as many owners as a ring records");

using internal::EntryState;
using internal::EpochOf;
using internal::StateOf;

// Signed distance between two 40-bit stamps: 0 = the sample we want,
// negative = older (or still being written), positive = we were lapped.
std::int64_t StampDiff(std::uint64_t found, std::uint64_t expected) {
  const std::uint64_t d = (found - expected) & internal::kStampMask;
  return (d & (std::uint64_t{1} << 39)) ? static_cast<std::int64_t>(d | ~internal::kStampMask)
                                        : static_cast<std::int64_t>(d);
}

// A reader lapped again and again while re-reading gives up for this call
// and tries again at the next; the writer cannot starve it for longer.
constexpr int kMaxLapRetries = 8;

}  // namespace

namespace internal {

int HeldChunks::FreeSlot() const {
  for (std::size_t k = 0; k < pools.size(); ++k) {
    if (pools[k] == nullptr) return static_cast<int>(k);
  }
  return -1;
}

void HeldChunks::Record(int slot, std::shared_ptr<ChunkPool> pool, const ChunkRef& ref) {
  // Relaxed: read only by whoever reclaims our entry after our death, which
  // the kernel's lock release orders.
  entries[2 * slot + 1].store(PackIndexGeneration(ref.index, ref.generation),
                              std::memory_order_relaxed);
  entries[2 * slot].store(ref.pool_id, std::memory_order_relaxed);
  pools[slot] = std::move(pool);
  refs[slot] = ref;
  ++in_use;
}

void HeldChunks::Release(int slot) {
  // Clear the record first: a death in between leaks a reference, which
  // is safer than a reclaimer dropping one we no longer hold.
  entries[2 * slot].store(0, std::memory_order_relaxed);
  RINGCAST_FAULT_POINT("reader.release.cleared");
  pools[slot]->Release(refs[slot]);
  pools[slot].reset();
  --in_use;
}

}  // namespace internal

Sample::Sample(Sample&& other) noexcept { *this = std::move(other); }

Sample& Sample::operator=(Sample&& other) noexcept {
  if (this != &other) {
    Reset();
    info_ = std::exchange(other.info_, {});
    held_ = std::move(other.held_);
    slot_ = std::exchange(other.slot_, -1);
    inline_ = std::move(other.inline_);
    pooled_data_ = std::exchange(other.pooled_data_, nullptr);
    pool_ = std::move(other.pool_);
  }
  return *this;
}

Sample::~Sample() { Reset(); }

void Sample::Reset() {
  if (held_ != nullptr && held_->open && slot_ >= 0) held_->Release(slot_);
  held_.reset();
  pool_.reset();
  pooled_data_ = nullptr;
  slot_ = -1;
}

absl::StatusOr<Reader> Reader::Create(const ShmOptions& options, absl::string_view topic,
                                      const TopicConfig& config,
                                      const ReaderOptions& reader_options) {
  RINGCAST_ASSIGN_OR_RETURN(const std::uint64_t token, ProcessToken(options));
  RINGCAST_ASSIGN_OR_RETURN(TopicSegment segment, TopicSegment::Join(options, topic, config));
  auto t = std::make_unique<TopicSegment>(std::move(segment));
  t->ReclaimDead();
  // Entries are not the only traces of the dead: a topic unlinked by its
  // last user leaves its dead owners' liveness files. Sweep the domain.
  SweepDeadTokens(options);
  const std::uint32_t flags =
      (reader_options.transient_local ? internal::kSubscriberTransientLocal : 0) |
      (reader_options.reliable ? internal::kSubscriberReliable : 0);
  absl::StatusOr<TopicSegment::SubscriberClaim> claim = t->ClaimSubscriber(token, flags);
  if (!claim.ok()) {
    t->Leave();
    return claim.status();
  }
  return Reader(std::move(t), *claim, reader_options);
}

Reader::Reader(std::unique_ptr<TopicSegment> topic, TopicSegment::SubscriberClaim claim,
               const ReaderOptions& options)
    : topic_(std::move(topic)), claim_(claim), options_(options) {
  const TopicGeometry& g = topic_->geometry();
  depth_ = g.depth;
  mask_ = g.depth - 1;
  slot_size_ = g.slot_size;
  inline_capacity_ = g.inline_capacity;
  light_fence_ = LightPublisherFence();
  counters_ = &topic_->subscriber_counters(claim_.index);
  cursors_ = topic_->cursors(claim_.index);
  held_ = std::make_shared<internal::HeldChunks>();
  held_->entries = topic_->held(claim_.index);
  held_->pools.resize(g.max_held_samples);
  held_->refs.resize(g.max_held_samples);
  // Acquire: pairs with the release bump of every claim and release, so the
  // ring states read below are at least this recent.
  known_generation_ = topic_->header().ring_generation.load(std::memory_order_acquire);
  rings_.resize(g.max_publishers);
  for (std::uint32_t i = 0; i < g.max_publishers; ++i) {
    Ring& r = rings_[i];
    const internal::RingControl& rc = topic_->ring_control(i);
    r.index = i;
    r.slots = topic_->slots(i);
    r.hot = &topic_->ring_hot(i);
    r.wait = &topic_->ring_wait(i);
    // Acquire: pairs with the claimer's release of kActive.
    UpdateRing(r, rc.state.load(std::memory_order_acquire));
    // Relaxed: our own entry, whose start ClaimSubscriber wrote (before
    // the entry turned active, so that no publisher skips us).
    r.cursor = cursors_[i].load(std::memory_order_relaxed);
    r.shared_cursor = r.cursor;
  }
  RebuildPolled();
}

Reader::Reader(Reader&& other) noexcept { *this = std::move(other); }

Reader& Reader::operator=(Reader&& other) noexcept {
  if (this != &other) {
    Close();
    topic_ = std::move(other.topic_);
    claim_ = other.claim_;
    options_ = other.options_;
    mask_ = other.mask_;
    depth_ = other.depth_;
    slot_size_ = other.slot_size_;
    inline_capacity_ = other.inline_capacity_;
    known_generation_ = other.known_generation_;
    rings_ = std::move(other.rings_);
    polled_ = std::move(other.polled_);
    next_polled_ = other.next_polled_;
    received_ = other.received_;
    lost_ = other.lost_;
    pending_lost_ = other.pending_lost_;
    batching_ = other.batching_;
    unfenced_ = other.unfenced_;
    counted_sleeper_ = other.counted_sleeper_;
    light_fence_ = other.light_fence_;
    batch_buffer_ = std::move(other.batch_buffer_);
    counters_ = other.counters_;
    cursors_ = other.cursors_;
    held_ = std::move(other.held_);
    pools_ = std::move(other.pools_);
    pooled_taken_ = other.pooled_taken_;
  }
  return *this;
}

Reader::~Reader() { Close(); }

void Reader::Close() {
  if (topic_ == nullptr) return;
  // Samples still out keep their mappings but no longer pin their chunks.
  for (std::size_t k = 0; k < held_->pools.size(); ++k) {
    if (held_->pools[k] != nullptr) held_->Release(static_cast<int>(k));
  }
  held_->open = false;
  pools_.clear();
  topic_->ReleaseSubscriber(claim_);
  topic_->Leave();
  topic_.reset();
}

const std::atomic<std::uint32_t>& Reader::doorbell() const {
  return topic_->doorbell(claim_.index).word;
}

std::uint32_t Reader::ArmDoorbell(bool fence) {
  std::atomic<std::uint64_t>& sleeping = topic_->header().sleeping[claim_.index / 64];
  // Acquire: pairs with the publisher's release increment, so a sample
  // committed before the ring is visible after we wake.
  const std::uint32_t seen = doorbell().load(std::memory_order_acquire);
  // Seq_cst RMW, then the sleeper's fence (futex.h), pairing with the
  // publisher's fence between its commit and its read of the sleeping
  // mask: either it sees our bit and rings, or the caller's HasData()
  // after this sees its sample.
  const bool first = CountAsSleeper();
  sleeping.fetch_or(std::uint64_t{1} << (claim_.index % 64), std::memory_order_seq_cst);
  if (fence && !SleeperFence(first)) unfenced_ = true;
  return seen;
}

bool Reader::CountAsSleeper() {
  if (counted_sleeper_) return false;
  counted_sleeper_ = true;
  topic_->CountSleeper(claim_.index);
  return true;
}

void Reader::CountAnomaly(absl::string_view what) const {
  topic_->CountSubscriberAnomaly(claim_.index, what);
}

void Reader::DisarmDoorbell() {
  // Relaxed: clearing our own advisory bit (a publisher may have already).
  topic_->header().sleeping[claim_.index / 64].fetch_and(
      ~(std::uint64_t{1} << (claim_.index % 64)), std::memory_order_relaxed);
}

void Reader::Resync() {
  // Acquire: pairs with the release bump after a claim or release.
  known_generation_ = topic_->header().ring_generation.load(std::memory_order_acquire);
  for (Ring& r : rings_) {
    const internal::RingControl& rc = topic_->ring_control(r.index);
    // Acquire: pairs with the claimer's release of kActive.
    UpdateRing(r, rc.state.load(std::memory_order_acquire));
  }
  RebuildPolled();
  PrunePools();
}

void Reader::PrunePools() {
  // Keep the pool segments of the families the rings name (their owner's,
  // or their last owner's while the ring still holds that owner's
  // samples); samples out keep their own.
  absl::erase_if(pools_, [&](const auto& entry) {
    for (const Ring& r : rings_) {
      // Relaxed: a stale id only keeps a mapping a little longer.
      if (internal::PoolFamilyOf(
              topic_->ring_control(r.index).pool_id.load(std::memory_order_relaxed)) ==
          internal::PoolFamilyOf(entry.first)) {
        return false;
      }
    }
    return true;
  });
}

void Reader::DropRetiredPools() {
  // Samples out keep their own reference to the mapping.
  absl::erase_if(pools_, [](const auto& entry) { return entry.second.pool->retired(); });
}

ChunkPool* Reader::PoolFor(const Ring& ring, std::uint64_t pool_id,
                           std::shared_ptr<ChunkPool>* keep) {
  auto it = pools_.find(pool_id);
  if (it != pools_.end()) {
    // Mapped for another ring: a reference names another publisher's pool.
    if (it->second.ring != ring.index) return nullptr;
    if (!it->second.pool->retired()) {
      *keep = it->second.pool;
      return keep->get();
    }
    // Released by its publisher: the id may name a new segment by now.
    pools_.erase(it);
  }
  // Follow a reference only into the family of the pool the ring names: a
  // stray or hostile id never makes us map another segment. (A previous
  // owner's sample we had not mapped yet is lost, as its pool went when
  // the ring changed hands.) Relaxed: the acquire load of the slot's stamp
  // ordered the claim that stored it.
  const std::uint64_t family = internal::PoolFamilyOf(
      topic_->ring_control(ring.index).pool_id.load(std::memory_order_relaxed));
  if (family == 0 || internal::PoolFamilyOf(pool_id) != family) return nullptr;
  absl::StatusOr<ChunkPool> pool = ChunkPool::Open(topic_->options(), pool_id);
  if (!pool.ok()) return nullptr;  // its publisher and every holder left
  MappedPool& mapped = pools_[pool_id];
  mapped.pool = std::make_shared<ChunkPool>(*std::move(pool));
  mapped.ring = ring.index;
  *keep = mapped.pool;
  return keep->get();
}

void Reader::UpdateRing(Ring& r, std::uint64_t state) {
  if (StateOf(state) == EntryState::kClaiming) {
    // Mid-claim: the new owner's record may not be written yet. Keep the
    // old epoch; the claimer bumps the generation once active, and the
    // next Take looks again.
    r.active = false;
    return;
  }
  // A new owner continues the ring's sequence from its start_seq; samples
  // before it still belong to the previous owners.
  if (EpochOf(state) != r.epoch) SnapshotOwners(r, state);
  r.epoch = EpochOf(state);
  r.active = StateOf(state) == EntryState::kActive;
}

void Reader::SnapshotOwners(Ring& ring, std::uint64_t state) {
  const internal::RingControl& rc = topic_->ring_control(ring.index);
  const std::uint64_t epoch = EpochOf(state);
  for (std::uint32_t k = 0; k < internal::kOwnerHistory; ++k) {
    // Relaxed: ordered by the acquire load of `state`, which the claimer
    // released after writing its record. A claim racing with this copy
    // bumps the generation, and the next Take copies again.
    Ring::Owner& o = ring.owners[k];
    if (epoch < k + 1) {
      o = Ring::Owner{};  // epochs start at 1: no such owner
      continue;
    }
    const internal::OwnerRecord& r = rc.owners[(epoch - k) % internal::kOwnerHistory];
    o.start_seq = r.start_seq.load(std::memory_order_relaxed);
    o.publisher_id = r.publisher_id.load(std::memory_order_relaxed);
  }
}

std::uint64_t Reader::PublisherOf(const Ring& ring, std::uint64_t seq) {
  for (const Ring::Owner& o : ring.owners) {
    if (o.publisher_id != 0 && seq >= o.start_seq) return o.publisher_id;
  }
  return 0;  // more owners came and went than the history keeps
}

void Reader::RebuildPolled() {
  polled_.clear();
  for (const Ring& r : rings_) {
    // Acquire: see every sample below head. An inactive ring stays polled
    // until we have drained what its last owner published.
    if (r.active || r.cursor < r.hot->head.load(std::memory_order_acquire)) {
      polled_.push_back(r.index);
    }
  }
  next_polled_ = 0;
}

void Reader::CountLost(std::uint64_t n) {
  lost_ += n;
  pending_lost_ += n;
  if (batching_) return;  // TakeBatch stores once for the batch
  // Relaxed: a counter for observers; we are its only writer.
  counters_->lost.store(lost_, std::memory_order_relaxed);
}

void Reader::Deliver(Ring& ring, std::uint64_t seq, std::int64_t publish_ns,
                     std::uint32_t size, SampleInfo* info) {
  info->sequence = seq;
  info->publish_time_ns = publish_ns;
  info->publisher_id = PublisherOf(ring, seq);
  info->lost_before = pending_lost_;
  info->size = size;
  pending_lost_ = 0;
  ring.cursor = seq + 1;
  ++received_;
  if (batching_) return;  // TakeBatch stores once for the batch
  // Relaxed: a counter for observers; we are the writer.
  counters_->received.store(received_, std::memory_order_relaxed);
  StoreCursor(ring);
}

void Reader::StoreCursor(Ring& ring) {
  if (batching_ || ring.shared_cursor == ring.cursor) return;
  ring.shared_cursor = ring.cursor;
  // Release: pairs with the publisher's acquire load of our cursor (a
  // reliable publisher's room, a pooled publisher's early return of
  // chunks). Our copy of the sample and our reference to its chunk come
  // before it, so nothing we still read is overwritten or freed.
  cursors_[ring.index].store(ring.cursor, std::memory_order_release);
  if (options_.reliable) WakePublisher(ring);
}

void Reader::StoreCursors() {
  for (Ring& r : rings_) StoreCursor(r);
}

void Reader::WakePublisher(Ring& ring) {
  // Pairs with a held publisher's SleeperFence between raising `waiting`
  // and re-reading our cursor: either it sees our new cursor, or we see its
  // flag here and wake it. Light where its membarrier fences us (futex.h);
  // paid by reliable readers only.
  PublisherFence(light_fence_);
  // Relaxed: ordered by the fence; the line stays shared (the publisher
  // writes it only while it waits).
  if (ring.wait->waiting.load(std::memory_order_relaxed) == 0) return;
  // Release: the woken publisher re-reads our cursor after its wait.
  ring.wait->wake.fetch_add(1, std::memory_order_release);
  FutexWake(ring.wait->wake);
}

template <typename Buffer>
Reader::ReadResult Reader::TryRead(Ring& ring, Buffer* payload,
                                   SampleInfo* info, int held_slot) {
  for (int attempt = 0; attempt < kMaxLapRetries; ++attempt) {
    const std::uint64_t seq = ring.cursor;
    const auto* slot =
        reinterpret_cast<const internal::SlotHeader*>(ring.slots + (seq & mask_) * slot_size_);
    // Acquire: pairs with the writer's release store of the even stamp.
    const std::uint64_t word = slot->word.load(std::memory_order_acquire);
    const std::int64_t diff =
        StampDiff(word >> internal::kSizeBits, internal::StampOf(2 * seq + 2));
    if (diff < 0) return ReadResult::kEmpty;  // not published yet
    if (diff == 0 && (word & internal::kPooledSize) == internal::kPooledSize) {
      std::uint64_t ref_words[3];
      const auto* words = reinterpret_cast<const std::atomic<std::uint64_t>*>(slot + 1);
      internal::LoadWordsRelaxed(words, sizeof ref_words,
                                 reinterpret_cast<std::byte*>(ref_words));
      const std::int64_t publish_ns = slot->publish_ns.load(std::memory_order_relaxed);
      // As for an inline copy below: a changed stamp means we were lapped.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (slot->word.load(std::memory_order_relaxed) != word) continue;
      const internal::ChunkRef ref{ref_words[0], static_cast<std::uint32_t>(ref_words[1] >> 32),
                                   static_cast<std::uint32_t>(ref_words[1]), ref_words[2]};
      std::shared_ptr<ChunkPool> pool;
      ChunkPool* p = held_slot >= 0 ? PoolFor(ring, ref.pool_id, &pool) : nullptr;
      // Recycled before we got our reference (or unreadable): lost.
      if (p == nullptr || ref.size > p->chunk_size() || !p->Acquire(ref)) {
        ring.cursor = seq + 1;
        StoreCursor(ring);
        CountLost(1);
        continue;
      }
      RINGCAST_FAULT_POINT("reader.take.acquired");
      held_->Record(held_slot, std::move(pool), ref);
      // Now and then, let go of segments their publisher released: an
      // unlinked segment's memory stays taken while anyone maps it.
      if (++pooled_taken_ % kRetiredSweep == 0) DropRetiredPools();
      Deliver(ring, seq, publish_ns, static_cast<std::uint32_t>(ref.size), info);
      return ReadResult::kPooled;
    }
    if (diff == 0) {
      const std::uint32_t size = word & internal::kPooledSize;
      if (size > inline_capacity_) {
        // Corrupt (or a pooled reference this reader cannot follow yet):
        // never read past the slot; count it lost and move on.
        ring.cursor = seq + 1;
        StoreCursor(ring);
        CountLost(1);
        continue;
      }
      payload->resize(size);
      const auto* words = reinterpret_cast<const std::atomic<std::uint64_t>*>(slot + 1);
      internal::LoadWordsRelaxed(words, size, payload->data());
      const std::int64_t publish_ns = slot->publish_ns.load(std::memory_order_relaxed);
      // Pairs with the writer's release fence: if we read a newer word, the
      // re-load below sees the newer stamp and the copy is discarded.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (slot->word.load(std::memory_order_relaxed) != word) continue;  // lapped mid-copy
      Deliver(ring, seq, publish_ns, size, info);
      return ReadResult::kSample;
    }
    // Lapped: the slot holds a later sample. Skip to the oldest one that
    // cannot be under the writer's pen: the writer may be filling slot
    // `head`, so head - depth + 1 is the oldest safe start.
    // Acquire: samples below head are complete.
    const std::uint64_t head = ring.hot->head.load(std::memory_order_acquire);
    std::uint64_t oldest = head + 1 > depth_ ? head + 1 - depth_ : 0;
    // Never past the sample the slot holds (`diff` stamps, 2 per sample,
    // past ours): a head scribbled far ahead would send us where the
    // publisher never gets. A head that truly raced that far laps us again.
    oldest = std::min(oldest, seq + static_cast<std::uint64_t>(diff) / 2);
    if (oldest <= seq) oldest = seq + 1;  // a corrupt head must not stall us
    CountLost(oldest - seq);
    ring.cursor = oldest;
    StoreCursor(ring);
  }
  return ReadResult::kEmpty;
}

template <typename Buffer>
Reader::ReadResult Reader::Next(Buffer* payload, SampleInfo* info,
                                int held_slot) {
  // Acquire: pairs with the release bump after a ring claim or release.
  if (topic_->header().ring_generation.load(std::memory_order_acquire) != known_generation_) {
    Resync();
  }
  const std::size_t n = polled_.size();
  bool drained_inactive = false;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t at = next_polled_ + k < n ? next_polled_ + k : next_polled_ + k - n;
    Ring& ring = rings_[polled_[at]];
    const ReadResult r = TryRead(ring, payload, info, held_slot);
    if (r != ReadResult::kEmpty) {
      next_polled_ = at + 1 < n ? at + 1 : 0;  // round-robin between publishers
      return r;
    }
    drained_inactive = drained_inactive || !ring.active;
  }
  if (drained_inactive) {
    RebuildPolled();
    // We may have been the last subscriber a departed publisher's pool
    // was kept for: its name can go now (rare: once per drained ring).
    if (polled_.size() < n) topic_->UnlinkDrainedPools();
  }
  return ReadResult::kEmpty;
}

absl::Status Reader::NoFreeSlot() const {
  return absl::FailedPreconditionError(absl::StrCat(
      "subscriber ", claim_.subscriber_id, " on ", topic_->topic(), " holds ", held_->in_use,
      " pooled samples, the topic's max_held_samples; release one (destroy its Sample) "
      "before taking another"));
}

absl::StatusOr<bool> Reader::Take(std::vector<std::byte>* payload, SampleInfo* info) {
  // A pooled sample passes through a held slot while it is copied, so a
  // crash mid-copy still returns its chunk.
  const int held_slot = held_->FreeSlot();
  if (held_slot < 0 && !held_->pools.empty()) return NoFreeSlot();
  const ReadResult r = Next(payload, info, held_slot);
  if (r == ReadResult::kPooled) {
    const ChunkPool& pool = *held_->pools[held_slot];
    const std::byte* bytes = pool.chunk(held_->refs[held_slot].index);
    payload->assign(bytes, bytes + info->size);
    held_->Release(held_slot);
  }
  return r != ReadResult::kEmpty;
}

absl::StatusOr<bool> Reader::Take(Sample* sample) {
  // What `sample` held goes first: its held slot may serve this take.
  sample->Reset();
  const int held_slot = held_->FreeSlot();
  if (held_slot < 0 && !held_->pools.empty()) return NoFreeSlot();
  const ReadResult r = Next(&sample->inline_, &sample->info_, held_slot);
  if (r == ReadResult::kEmpty) {
    sample->info_ = SampleInfo{};
    return false;
  }
  if (r == ReadResult::kPooled) {
    sample->held_ = held_;
    sample->slot_ = held_slot;
    sample->pool_ = held_->pools[held_slot];
    sample->pooled_data_ = held_->pools[held_slot]->chunk(held_->refs[held_slot].index);
  }
  return true;
}

absl::StatusOr<std::size_t> Reader::TakeBatch(std::size_t max, BatchFn fn) {
  std::size_t n = 0;
  batching_ = true;
  absl::Status status;
  SampleInfo info;
  while (n < max) {
    // Each pooled sample passes through a held slot while `fn` reads it,
    // so a crash mid-batch still returns its chunk.
    const int held_slot = held_->FreeSlot();
    if (held_slot < 0 && !held_->pools.empty()) {
      status = NoFreeSlot();
      break;
    }
    const ReadResult r = Next(&batch_buffer_, &info, held_slot);
    if (r == ReadResult::kEmpty) break;
    ++n;
    if (r == ReadResult::kPooled) {
      const ChunkPool& pool = *held_->pools[held_slot];
      fn({pool.chunk(held_->refs[held_slot].index), info.size}, info);
      held_->Release(held_slot);
    } else {
      fn({batch_buffer_.data(), info.size}, info);
    }
  }
  batching_ = false;
  // Relaxed: counters for observers; we are their only writer.
  counters_->received.store(received_, std::memory_order_relaxed);
  counters_->lost.store(lost_, std::memory_order_relaxed);
  StoreCursors();
  if (!status.ok() && n == 0) return status;
  return n;
}

absl::StatusOr<std::optional<Sample>> Reader::TakeSample() {
  Sample sample;
  RINGCAST_ASSIGN_OR_RETURN(const bool got, Take(&sample));
  if (!got) return std::nullopt;
  return sample;
}

bool Reader::RingHasData(const Ring& ring) const {
  const auto* slot = reinterpret_cast<const internal::SlotHeader*>(
      ring.slots + (ring.cursor & mask_) * slot_size_);
  // Acquire: pairs with the writer's release store of the even stamp.
  const std::uint64_t word = slot->word.load(std::memory_order_acquire);
  return StampDiff(word >> internal::kSizeBits, internal::StampOf(2 * ring.cursor + 2)) >= 0;
}

bool Reader::HasData() {
  if (topic_->header().ring_generation.load(std::memory_order_acquire) != known_generation_) {
    Resync();
  }
  for (const std::uint32_t i : polled_) {
    if (RingHasData(rings_[i])) return true;
  }
  return false;
}

absl::Status Reader::Wait(absl::Duration timeout) {
  if (HasData()) return absl::OkStatus();
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + timeout;
  if (options_.spin > absl::ZeroDuration()) {
    const absl::Time spin_end = start + std::min(options_.spin, timeout);
    do {
      for (int i = 0; i < 64; ++i) {
        if (HasData()) return absl::OkStatus();
        CpuRelax();
      }
    } while (absl::Now() < spin_end);
  }
  const std::atomic<std::uint32_t>& bell = doorbell();
  for (;;) {
    const std::uint32_t seen = ArmDoorbell();
    if (HasData()) {
      DisarmDoorbell();
      return absl::OkStatus();
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      DisarmDoorbell();
      return absl::DeadlineExceededError(
          absl::StrCat("no sample on ", topic_->topic(), " within ",
                       absl::FormatDuration(timeout)));
    }
    // The doorbell changes on every ring, so a ring after `seen` was read
    // returns at once instead of sleeping.
    const absl::Status s =
        FutexWait(bell, seen, unfenced_ ? std::min(left, kUnfencedSleep) : left);
    DisarmDoorbell();
    if (!s.ok() && !absl::IsDeadlineExceeded(s)) return s;
    if (HasData()) return absl::OkStatus();
  }
}

}  // namespace ringcast::transport
