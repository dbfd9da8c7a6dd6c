#include "transport/writer.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/fault.h"
#include "transport/futex.h"
#include "transport/owner_gate.h"
#include "transport/pool.h"
#include "transport/pool_chain.h"
#include "transport/pool_keeper.h"
#include "transport/topic.h"
#include "transport/liveness.h"
#include "transport/process.h"
#include "transport/status_macros.h"
#include "transport/words.h"

namespace ringcast::transport {

struct Writer::Keep final : internal::Keepable {
  explicit Keep(Writer* w) : writer(w) {}
  std::int64_t KeepUp(std::int64_t now_ns) override {
    // An idle publisher's ring still holds its last samples' chunks; drop
    // the references every subscriber has passed, as its next loan would,
    // so that the segments holding them can go too.
    if (!writer->writer_options_.keep_history && gate.TryVisit()) {
      if (writer->ring_refs_ != 0) writer->DropPassedRefs(/*hot=*/false);
      gate.EndVisit();
    }
    PoolChain& pool = *writer->pool_;
    const std::int64_t next = pool.KeepUp(now_ns);
    // Unmap what went as well, if the publisher is still out (a second
    // visit: the owner never waits for the release itself).
    if (pool.released() && gate.TryVisit()) {
      pool.ForgetReleased();
      gate.EndVisit();
    }
    return next;
  }
  // The gate every call that touches the ring's references enters; none
  // on an inline-only topic.
  static internal::OwnerGate* GateOf(Keep* keep) { return keep != nullptr ? &keep->gate : nullptr; }

  Writer* writer;  // updated when the Writer moves (not kept meanwhile)
  internal::OwnerGate gate;
};

absl::Status ChunkLoan::Shrink(std::size_t n) {
  if (n > ref_.size) {
    return absl::InvalidArgumentError(absl::StrCat("chunk loan of ", ref_.size,
                                                   " bytes cannot publish ", n, " bytes"));
  }
  ref_.size = n;
  return absl::OkStatus();
}

void ChunkLoan::Drop() {
  pool_->Release(ref_);
  --*outstanding_;
  pool_ = nullptr;
}

absl::StatusOr<Writer> Writer::Create(const ShmOptions& options, absl::string_view topic,
                                      const TopicConfig& config,
                                      const WriterOptions& writer_options) {
  if (writer_options.reliable_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "publisher on ", topic, ": reliable_timeout ",
        absl::FormatDuration(writer_options.reliable_timeout), " must be positive"));
  }
  RINGCAST_ASSIGN_OR_RETURN(const std::uint64_t token, ProcessToken(options));
  RINGCAST_ASSIGN_OR_RETURN(TopicSegment segment, TopicSegment::Join(options, topic, config));
  auto t = std::make_unique<TopicSegment>(std::move(segment));
  t->ReclaimDead();
  // Entries are not the only traces of the dead: a topic unlinked by its
  // last user leaves its dead owners' liveness files. Sweep the domain.
  SweepDeadTokens(options);
  std::unique_ptr<PoolChain> pool;
  if (t->geometry().max_message_size > 0) {
    absl::StatusOr<std::unique_ptr<PoolChain>> p =
        PoolChain::Create(options, std::string(topic), t->geometry().max_message_size,
                          t->PoolChunks(), writer_options.pool);
    if (!p.ok()) {
      t->Leave();
      return p.status();
    }
    pool = *std::move(p);
  }
  absl::StatusOr<TopicSegment::RingClaim> claim = t->ClaimRing(token, pool ? pool->family() : 0);
  if (!claim.ok()) {
    t->Leave();
    return claim.status();
  }
  return Writer(std::move(t), *claim, std::move(pool), writer_options);
}

Writer::Writer(std::unique_ptr<TopicSegment> topic, TopicSegment::RingClaim claim,
               std::unique_ptr<PoolChain> pool, const WriterOptions& writer_options)
    : writer_options_(writer_options), topic_(std::move(topic)), pool_(std::move(pool)),
      claim_(claim), next_seq_(claim.start_seq) {
  const TopicGeometry& g = topic_->geometry();
  mask_ = g.depth - 1;
  depth_ = g.depth;
  slot_size_ = g.slot_size;
  inline_capacity_ = g.inline_capacity;
  max_message_size_ = g.max_message_size;
  sleeping_words_ = (g.max_subscribers + 63) / 64;
  const std::uint32_t in_last = g.max_subscribers - 64 * (sleeping_words_ - 1);
  last_word_mask_ = in_last == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << in_last) - 1;
  slots_ = topic_->slots(claim_.index);
  hot_ = &topic_->ring_hot(claim_.index);
  wait_ = &topic_->ring_wait(claim_.index);
  fenced_sleepers_ = &topic_->header().fenced_sleepers;
  if (pool_ != nullptr) {
    slot_refs_.resize(g.depth);
    keep_ = std::make_unique<Keep>(this);
  }
  flushed_ = next_seq_;
  retained_from_ = next_seq_;  // a new owner holds no reference yet
  light_fence_ = LightPublisherFence();
  // Relaxed: we own the ring; the claim's acquire CAS ordered these.
  bytes_ = hot_->bytes.load(std::memory_order_relaxed);
  hot_->retained_from.store(retained_from_, std::memory_order_relaxed);
  wait_->waiting.store(0, std::memory_order_relaxed);
}

Writer::Writer(Writer&& other) noexcept { *this = std::move(other); }

Writer& Writer::operator=(Writer&& other) noexcept {
  if (this != &other) {
    Close();
    // The keeper must not look at `other` while it moves.
    const bool kept = other.keep_ != nullptr && internal::StopKeeping(other.keep_.get());
    topic_ = std::move(other.topic_);
    pool_ = std::move(other.pool_);
    keep_ = std::move(other.keep_);
    loans_ = std::move(other.loans_);
    slot_refs_ = std::move(other.slot_refs_);
    claim_ = other.claim_;
    next_seq_ = other.next_seq_;
    bytes_ = other.bytes_;
    mask_ = other.mask_;
    slot_size_ = other.slot_size_;
    inline_capacity_ = other.inline_capacity_;
    max_message_size_ = other.max_message_size_;
    sleeping_words_ = other.sleeping_words_;
    last_word_mask_ = other.last_word_mask_;
    slots_ = other.slots_;
    hot_ = other.hot_;
    wait_ = other.wait_;
    fenced_sleepers_ = other.fenced_sleepers_;
    loaned_slot_ = std::exchange(other.loaned_slot_, nullptr);
    writer_options_ = other.writer_options_;
    clock_ = other.clock_;
    depth_ = other.depth_;
    flushed_ = other.flushed_;
    ring_refs_ = other.ring_refs_;
    retained_from_ = other.retained_from_;
    subscriber_generation_ = other.subscriber_generation_;
    live_ = std::move(other.live_);
    reliable_ = std::move(other.reliable_);
    reliable_floor_ = other.reliable_floor_;
    light_fence_ = other.light_fence_;
#if RINGCAST_SLOT_LOAN_COPIES
    slot_buffer_ = std::move(other.slot_buffer_);
#endif
    if (keep_ != nullptr) {
      keep_->writer = this;
      if (kept) internal::StartKeeping(keep_.get(), writer_options_.pool.idle);
    }
  }
  return *this;
}

Writer::~Writer() { Close(); }

PoolUse Writer::pool_use() const { return pool_ != nullptr ? pool_->Stats() : PoolUse{}; }

void Writer::Close() {
  if (keep_ != nullptr) internal::StopKeeping(keep_.get());
  if (topic_ == nullptr) return;
  // The ring's chunk references stay: subscribers may still drain the ring.
  // Our pool's name goes now if no subscriber lags on our ring, else when
  // the last one has drained it (or the topic's last user leaves); a
  // process that mapped it keeps its mapping.
  topic_->ReleaseRing(claim_);
  topic_->UnlinkDrainedPools();
  topic_->Leave();
  topic_.reset();
  pool_.reset();
}

bool Writer::SubscribersChanged() const {
  // Acquire: pairs with the release bump of every claim and release of a
  // subscriber entry, so the states and flags read by the rescan are at
  // least that recent. A reliable subscriber's claim fences (SleeperFence)
  // and re-reads our head after its bump (TopicSegment::ClaimSubscriber),
  // and our fence after each head store (Flush) orders this load after it:
  // either it starts past what we wrote meanwhile, or we see the bump here
  // before overwriting.
  return topic_->header().subscriber_generation.load(std::memory_order_acquire) !=
         subscriber_generation_;
}

void Writer::RescanSubscribers() {
  const internal::TopicHeader& h = topic_->header();
  subscriber_generation_ = h.subscriber_generation.load(std::memory_order_acquire);
  live_.clear();
  reliable_.clear();
  for (std::uint32_t i = 0; i < topic_->geometry().max_subscribers; ++i) {
    const internal::SubscriberControl& sc = topic_->subscriber_control(i);
    // Acquire: pairs with Activate's release, after which the entry's
    // flags and start cursors are written.
    if (internal::StateOf(sc.state.load(std::memory_order_acquire)) !=
        internal::EntryState::kActive) {
      continue;
    }
    live_.push_back(i);
    // Relaxed: ordered by the acquire load of the state above.
    if (sc.flags.load(std::memory_order_relaxed) & internal::kSubscriberReliable) {
      reliable_.push_back(i);
    }
  }
  reliable_floor_ = FloorOf(reliable_);
}

std::uint64_t Writer::FloorOf(const std::vector<std::uint32_t>& entries,
                              std::uint32_t* at) const {
  std::uint64_t floor = next_seq_;
  for (const std::uint32_t i : entries) {
    // Acquire: pairs with the subscriber's release store of its cursor,
    // which follows its copy of the sample and its reference to the chunk:
    // what we overwrite or free below that cursor is no longer read.
    const std::uint64_t c = topic_->cursors(i)[claim_.index].load(std::memory_order_acquire);
    // A cursor past our head (stray write) holds nothing back.
    if (c < floor) {
      floor = c;
      if (at != nullptr) *at = i;
    }
  }
  return floor;
}

absl::Status Writer::ReserveSlow() {
  if (SubscribersChanged()) RescanSubscribers();
  if (reliable_.empty() || !Blocked(reliable_floor_)) return absl::OkStatus();
  reliable_floor_ = FloorOf(reliable_);
  if (!Blocked(reliable_floor_)) return absl::OkStatus();
  // Whatever a batch wrote so far must be visible (and its sleepers rung)
  // before we wait for subscribers to read it.
  if (flushed_ != next_seq_) Flush(PublishTime());
  return WaitForRoom();
}

absl::Status Writer::WaitForRoom() {
  const absl::Time start = absl::Now();
  const absl::Duration timeout = writer_options_.reliable_timeout;
  const absl::Time deadline = start + timeout;
  const absl::Time spin_end = start + std::min(writer_options_.spin, timeout);
  std::uint32_t at = 0;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      reliable_floor_ = FloorOf(reliable_, &at);
      if (!Blocked(reliable_floor_)) return absl::OkStatus();
      CpuRelax();
    }
    if (absl::Now() >= spin_end) break;
  }
  // A dead subscriber must stop holding us within the timeout without
  // anyone's help: between sleeps of at most this long we reclaim the dead.
  constexpr absl::Duration kLivenessCheck = absl::Milliseconds(5);
  for (;;) {
    // Relaxed: the value only has to predate the flag below; a wake after
    // it changes the word, so FutexWait returns at once.
    const std::uint32_t seen = wait_->wake.load(std::memory_order_relaxed);
    // Seq_cst store and the sleeper's fence (futex.h): pair with the
    // reliable subscriber's fence between its cursor store and its load of
    // `waiting`. Either it sees the flag and wakes us, or we see its new
    // cursor below. Without membarrier here a wake may be missed; the
    // sleep below is bounded by kLivenessCheck anyway.
    wait_->waiting.store(1, std::memory_order_seq_cst);
    (void)SleeperFence();
    if (SubscribersChanged()) RescanSubscribers();
    reliable_floor_ = FloorOf(reliable_, &at);
    if (reliable_.empty() || !Blocked(reliable_floor_)) break;
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      // Relaxed: advisory, read by subscribers only to decide to wake us.
      wait_->waiting.store(0, std::memory_order_relaxed);
      const internal::SubscriberControl& sc = topic_->subscriber_control(at);
      return absl::DeadlineExceededError(absl::StrCat(
          "publish on ", topic_->topic(), " waited ", absl::FormatDuration(timeout),
          " for reliable subscriber ", sc.subscriber_id.load(std::memory_order_relaxed),
          " (pid ", sc.owner_pid.load(std::memory_order_relaxed), "), ", next_seq_ - reliable_floor_,
          " samples behind on a ring of depth ", depth_,
          "; it is alive but not taking: take faster, raise the depth or the reliable timeout, "
          "or make it best effort"));
    }
    const absl::Status s = FutexWait(wait_->wake, seen, std::min(deadline - now, kLivenessCheck));
    if (absl::IsDeadlineExceeded(s)) {
      // Nobody woke us: is whoever holds us still alive?
      if (topic_->ReclaimDead() > 0) RescanSubscribers();
    }
  }
  wait_->waiting.store(0, std::memory_order_relaxed);
  return absl::OkStatus();
}

void Writer::DropPassedRefs(bool hot) {
  if (SubscribersChanged()) RescanSubscribers();
  // Every live subscriber passed the samples below `floor` (none = all).
  const std::uint64_t floor = FloorOf(live_);
  const std::uint64_t from = std::max(retained_from_, next_seq_ > depth_ ? next_seq_ - depth_ : 0);
  for (std::uint64_t seq = from; seq < floor; ++seq) {
    internal::ChunkRef& ref = slot_refs_[seq & mask_];
    if (ref.pool_id == 0) continue;
    pool_->Release(std::exchange(ref, {}), hot);
    --ring_refs_;
  }
  if (floor > retained_from_) {
    retained_from_ = floor;
    // Relaxed: read by a transient-local subscriber's claim, which starts
    // no earlier; one that read an older value counts what it finds
    // recycled as lost, never reads it.
    hot_->retained_from.store(floor, std::memory_order_relaxed);
  }
}

absl::StatusOr<ChunkLoan> Writer::Loan(std::size_t size) {
  if (pool_ == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "loan of ", size, " bytes on topic ", topic_->topic(),
        ", which has no chunk pool (created with max_message_size 0)"));
  }
  internal::OwnerScope inside(Keep::GateOf(keep_.get()));
  return LoanInside(size);
}

absl::StatusOr<ChunkLoan> Writer::LoanInside(std::size_t size) {
  if (size > max_message_size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("loan of ", size, " bytes exceeds topic ", topic_->topic(),
                     "'s max_message_size of ", max_message_size_, " bytes"));
  }
  if (*loans_ >= TopicSegment::kMaxLoans) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "publisher on ", topic_->topic(), " already has ", *loans_,
        " loans outstanding, the most a pool is sized for; publish or drop one first"));
  }
  // Hot chunks: give back what every subscriber has passed, so that the
  // LIFO free list hands us the chunk we filled last, still in cache.
  if (ring_refs_ != 0 && !writer_options_.keep_history) DropPassedRefs();
  absl::StatusOr<PoolChain::Chunk> chunk = pool_->Allocate(size);
  RINGCAST_FAULT_POINT("pool.loan.allocated");
  if (!chunk.ok()) {
    if (absl::IsDataLoss(chunk.status())) {
      topic_->CountRingAnomaly(claim_.index, "its chunk pool's free list is corrupt");
    }
    return chunk.status();
  }
  ++*loans_;
  // The pool grew past a first segment: have the keeper watch it shrink.
  if (pool_->TakeKeepRequest()) internal::StartKeeping(keep_.get(), writer_options_.pool.idle);
  return ChunkLoan(chunk->pool, loans_.get(), chunk->ref, chunk->pool->chunk(chunk->ref.index));
}

absl::Status Writer::SlotOnLoan() const {
  return absl::FailedPreconditionError(absl::StrCat(
      "publisher ", claim_.publisher_id, " on ", topic_->topic(),
      " has its next slot on loan; publish or drop that loan before publishing another"));
}

void Writer::DropOverwrittenRef() {
  internal::ChunkRef& ref = slot_refs_[next_seq_ & mask_];
  if (ref.pool_id == 0) return;
  // The sample this slot held leaves the ring now. Dropped before the
  // commit: its readers hold references of their own (a reader that has
  // none yet finds the generation changed and counts the sample lost, as
  // it would once the slot is overwritten).
  pool_->Release(std::exchange(ref, {}));
  --ring_refs_;
}

absl::Status Writer::Publish(ChunkLoan&& loan) {
  internal::OwnerScope inside(Keep::GateOf(keep_.get()));
  return PublishInside(std::move(loan));
}

absl::Status Writer::PublishInside(ChunkLoan&& loan) {
  if (pool_ == nullptr || !pool_->Owns(loan.pool_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "publish of a chunk loan that is empty or belongs to another publisher than ",
        claim_.publisher_id, " on ", topic_->topic()));
  }
  if (loaned_slot_ != nullptr) return SlotOnLoan();
  RINGCAST_RETURN_IF_ERROR(ReadySlot());  // the loan stays the caller's on error
  const internal::ChunkRef ref = loan.ref_;
  loan.pool_ = nullptr;  // the loan's reference becomes the ring's
  --*loans_;
  const std::uint64_t words[3] = {ref.pool_id,
                                  internal::PackIndexGeneration(ref.index, ref.generation),
                                  ref.size};
  slot_refs_[next_seq_ & mask_] = ref;
  ++ring_refs_;
  Commit(reinterpret_cast<const std::byte*>(words), sizeof words, internal::kPooledSize);
  bytes_ += ref.size - sizeof words;  // count the message, not the reference
  // Relaxed: statistics for observers.
  hot_->bytes.store(bytes_, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status Writer::Publish(absl::Span<const std::byte> payload) {
  if (loaned_slot_ != nullptr) return SlotOnLoan();
  internal::OwnerScope inside(Keep::GateOf(keep_.get()));
  if (payload.size() > inline_capacity_) {
    if (pool_ == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "message of ", payload.size(), " bytes exceeds topic ", topic_->topic(),
          "'s inline capacity of ", inline_capacity_,
          " bytes, and the topic has no chunk pool (max_message_size 0)"));
    }
    RINGCAST_ASSIGN_OR_RETURN(ChunkLoan loan, LoanInside(payload.size()));
    std::memcpy(loan.data().data(), payload.data(), payload.size());
    return PublishInside(std::move(loan));
  }
  RINGCAST_RETURN_IF_ERROR(ReadySlot());
  Commit(payload.data(), static_cast<std::uint32_t>(payload.size()),
         static_cast<std::uint32_t>(payload.size()));
  return absl::OkStatus();
}

absl::Status Writer::PublishBatch(absl::Span<const absl::Span<const std::byte>> batch) {
  if (loaned_slot_ != nullptr) return SlotOnLoan();
  for (std::size_t k = 0; k < batch.size(); ++k) {
    if (batch[k].size() > inline_capacity_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sample ", k, " of a batch of ", batch.size(), " on ", topic_->topic(), " has ",
          batch[k].size(), " bytes, above the inline capacity of ", inline_capacity_,
          "; a batch carries inline samples only (publish larger ones one by one)"));
    }
  }
  if (batch.empty()) return absl::OkStatus();
  internal::OwnerScope inside(Keep::GateOf(keep_.get()));
  const std::int64_t now = PublishTime();
  absl::Status status;
  for (const absl::Span<const std::byte> payload : batch) {
    status = ReadySlot();  // flushes what we wrote before it waits
    if (!status.ok()) break;
    internal::SlotHeader* slot = BeginSlot();
    const auto size = static_cast<std::uint32_t>(payload.size());
    internal::StoreWordsRelaxed(payload.data(), size,
                                reinterpret_cast<std::atomic<std::uint64_t>*>(slot + 1));
    SealSlot(slot, size, size, now);
  }
  if (flushed_ != next_seq_) Flush(now);
  return status;
}

internal::SlotHeader* Writer::BeginSlot() {
  const std::uint64_t seq = next_seq_;
  auto* slot = reinterpret_cast<internal::SlotHeader*>(slots_ + (seq & mask_) * slot_size_);
  // Odd stamp = "being written". The release fence orders it before the
  // payload stores: a reader that copied any new word sees the odd (or a
  // later) stamp when it re-checks after its acquire fence.
  slot->word.store(internal::SlotWord(2 * seq + 1, 0), std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  RINGCAST_FAULT_POINT("publish.slot.odd");
  return slot;
}

void Writer::SealSlot(internal::SlotHeader* slot, std::uint32_t size, std::uint32_t size_field,
                      std::int64_t now) {
  const std::uint64_t seq = next_seq_;
  slot->publish_ns.store(now, std::memory_order_relaxed);
  // Release: whoever acquire-loads the even stamp sees size, time and words.
  slot->word.store(internal::SlotWord(2 * seq + 2, size_field), std::memory_order_release);
  RINGCAST_FAULT_POINT("publish.committed");
  next_seq_ = seq + 1;
  bytes_ += size;
}

void Writer::Flush(std::int64_t now) {
  flushed_ = next_seq_;
  // Release: whoever acquire-loads head > seq finds slot `seq` complete.
  hot_->head.store(next_seq_, std::memory_order_release);
  // Relaxed: statistics for observers, no ordering needed.
  hot_->bytes.store(bytes_, std::memory_order_relaxed);
  hot_->last_publish_ns.store(now, std::memory_order_relaxed);
  // Pairs with a sleeper's SleeperFence between setting its sleeping bit
  // and re-checking the ring (and a reliable subscriber's claim, between
  // its generation bump and its look at our head): either it sees our
  // sample, or we see its bit; a wake-up is never lost. Light (a compiler
  // barrier) while the topic counts no sleeper (futex.h); the count sits
  // on the header line Reserve read.
  PublisherFence(light_fence_, fenced_sleepers_);
  RingSleepers();
}

void Writer::FinishSlot(internal::SlotHeader* slot, std::uint32_t size,
                        std::uint32_t size_field) {
  const std::int64_t now = PublishTime();
  SealSlot(slot, size, size_field, now);
  Flush(now);
}

void Writer::Commit(const std::byte* bytes, std::uint32_t size, std::uint32_t size_field) {
  internal::SlotHeader* slot = BeginSlot();
  internal::StoreWordsRelaxed(bytes, size, reinterpret_cast<std::atomic<std::uint64_t>*>(slot + 1));
  FinishSlot(slot, size, size_field);
}

absl::StatusOr<absl::Span<std::byte>> Writer::LoanSlot() {
  if (loaned_slot_ != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "publisher ", claim_.publisher_id, " on ", topic_->topic(),
        " already has its next slot on loan; publish or drop that loan first"));
  }
  internal::OwnerScope inside(Keep::GateOf(keep_.get()));
  RINGCAST_RETURN_IF_ERROR(ReadySlot());
  loaned_slot_ = BeginSlot();
#if RINGCAST_SLOT_LOAN_COPIES
  slot_buffer_.assign((inline_capacity_ + 7) / 8, 0);
  return absl::Span<std::byte>(reinterpret_cast<std::byte*>(slot_buffer_.data()),
                               inline_capacity_);
#else
  // The payload words of the slot itself (16-aligned past its header).
  return absl::Span<std::byte>(reinterpret_cast<std::byte*>(loaned_slot_ + 1), inline_capacity_);
#endif
}

absl::Status Writer::CommitSlot(std::size_t size) {
  if (loaned_slot_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "publisher ", claim_.publisher_id, " on ", topic_->topic(), " has no slot on loan"));
  }
  if (size > inline_capacity_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "slot loan on ", topic_->topic(), ": ", size, " bytes exceed the inline capacity of ",
        inline_capacity_));
  }
  internal::OwnerScope inside(Keep::GateOf(keep_.get()));
#if RINGCAST_SLOT_LOAN_COPIES
  internal::StoreWordsRelaxed(reinterpret_cast<const std::byte*>(slot_buffer_.data()), size,
                              reinterpret_cast<std::atomic<std::uint64_t>*>(loaned_slot_ + 1));
#endif
  FinishSlot(std::exchange(loaned_slot_, nullptr), static_cast<std::uint32_t>(size),
             static_cast<std::uint32_t>(size));
  return absl::OkStatus();
}

void Writer::AbandonSlot() {
  // The slot keeps its odd stamp, which readers take for "not yet": the
  // next publish writes the same sequence into it.
  loaned_slot_ = nullptr;
}

void Writer::RingSleepers() {
  internal::TopicHeader& h = topic_->header();
  for (std::uint32_t w = 0; w < sleeping_words_; ++w) {
    // Relaxed load: ordered by the fence in Flush; the common case
    // (nobody sleeps) reads one cached line and makes no system call.
    if (h.sleeping[w].load(std::memory_order_relaxed) == 0) continue;
    // Acquire: claim every sleeper of this word at once.
    std::uint64_t bits = h.sleeping[w].exchange(0, std::memory_order_acquire);
    // Bits past the subscriber table come from a stray or hostile write:
    // never follow them outside the table (the exchange cleared them).
    if (w + 1 == sleeping_words_ && (bits & ~last_word_mask_) != 0) {
      bits &= last_word_mask_;
      topic_->CountRingAnomaly(claim_.index, "sleeping mask has bits past max_subscribers");
    }
    while (bits != 0) {
      const std::uint32_t i = w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits));
      bits &= bits - 1;
      internal::Doorbell& bell = topic_->doorbell(i);
      // Release: the sleeper's acquire load of the doorbell sees our sample.
      bell.word.fetch_add(1, std::memory_order_release);
      FutexWake(bell.word);
    }
  }
}

}  // namespace ringcast::transport
