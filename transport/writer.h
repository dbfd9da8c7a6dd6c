// transport/writer.h: the bytes-level publisher. One Writer owns one ring of
// its topic; publishing is wait-free and makes no system call unless a
// subscriber sleeps.
//
// Small messages travel inline in a ring slot. On a topic with a chunk
// pool (max_message_size > 0), a larger one is built in place in a loaned
// chunk and published by reference, with no copy whatever its size:
//
//   auto w = Writer::Create(options, "/imu", config);
//   RINGCAST_RETURN_IF_ERROR(w->Publish(bytes));          // inline or pooled
//   RINGCAST_ASSIGN_OR_RETURN(ChunkLoan loan, w->Loan(6 << 20));
//   Fill(loan.data());
//   RINGCAST_RETURN_IF_ERROR(w->Publish(std::move(loan)));  // zero-copy
#ifndef RINGCAST_TRANSPORT_WRITER_H_
#define RINGCAST_TRANSPORT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "transport/chunk_ref.h"
#include "transport/clock.h"
#include "transport/pool_options.h"
#include "transport/shm_options.h"
#include "transport/topic_config.h"

// ThreadSanitizer builds build slot loans in a buffer (see LoanSlot).
#if defined(__SANITIZE_THREAD__)
#define RINGCAST_SLOT_LOAN_COPIES 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RINGCAST_SLOT_LOAN_COPIES 1
#endif
#endif
#ifndef RINGCAST_SLOT_LOAN_COPIES
#define RINGCAST_SLOT_LOAN_COPIES 0
#endif

namespace ringcast::transport {

class ChunkPool;
class PoolChain;
class TopicSegment;
namespace internal {
struct RingHot;
struct RingWait;
struct SlotHeader;
}  // namespace internal

struct WriterOptions {
  // How long a publish (or slot loan) may wait for a reliable subscriber
  // to make room before it fails with DeadlineExceeded. Reliable
  // subscribers are the only ones that ever hold a publisher back.
  absl::Duration reliable_timeout = absl::Seconds(1);
  // How long a held-back publisher re-checks before it sleeps.
  absl::Duration spin = absl::Microseconds(20);
  // Transient-local durability: the ring keeps its `depth` newest pooled
  // samples for subscribers that join later. Otherwise a chunk goes back to
  // the pool as soon as every subscriber has passed its sample, so that the
  // next loan gets memory that is still in cache.
  bool keep_history = false;
  // False: samples carry publish time 0, and publishing reads no clock
  // (for messages that carry their own time stamp).
  bool stamp_time = true;
  // How the chunk pool starts, grows and shrinks (pool_chain.h).
  PoolChainOptions pool;
};

// A writable chunk of the publisher's pool. Move-only; returned to the pool
// if dropped unpublished. Must not outlive its Writer.
class ChunkLoan {
 public:
  ChunkLoan() = default;  // holds nothing
  // Inline: moving an empty loan around (the typed API does, per publish)
  // must cost a few moves, not a call.
  ChunkLoan(ChunkLoan&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)), outstanding_(other.outstanding_),
        ref_(other.ref_), bytes_(other.bytes_) {}
  ChunkLoan& operator=(ChunkLoan&& other) noexcept {
    if (this != &other) {
      if (pool_ != nullptr) Drop();
      pool_ = std::exchange(other.pool_, nullptr);
      outstanding_ = other.outstanding_;
      ref_ = other.ref_;
      bytes_ = other.bytes_;
    }
    return *this;
  }
  ~ChunkLoan() {
    if (pool_ != nullptr) Drop();
  }

  // The `size` bytes asked for, to fill in place.
  absl::Span<std::byte> data() const { return {bytes_, ref_.size}; }
  std::size_t size() const { return ref_.size; }
  // False for a default-made or moved-from loan.
  bool held() const { return pool_ != nullptr; }
  // Publishes only the first `n` bytes (a message built smaller than the
  // loan asked for). InvalidArgument if `n` exceeds size().
  absl::Status Shrink(std::size_t n);

 private:
  friend class Writer;
  ChunkLoan(ChunkPool* pool, std::uint32_t* outstanding, internal::ChunkRef ref,
            std::byte* bytes)
      : pool_(pool), outstanding_(outstanding), ref_(ref), bytes_(bytes) {}
  // Returns the chunk. REQUIRES: pool_ != nullptr.
  void Drop();

  ChunkPool* pool_ = nullptr;
  std::uint32_t* outstanding_ = nullptr;
  internal::ChunkRef ref_;
  std::byte* bytes_ = nullptr;
};

class Writer {
 public:
  // Joins (or creates) `topic`, reclaims entries of dead processes, plans
  // this publisher's chunk pool if the topic has max_message_size > 0 (its
  // segments are created by the loans that need them), and claims a ring.
  static absl::StatusOr<Writer> Create(const ShmOptions& options, absl::string_view topic,
                                       const TopicConfig& config,
                                       const WriterOptions& writer_options = {});

  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();  // releases the ring; unlinks the topic if it was the last user

  // Publishes `payload`: inline if it fits a slot, else copied into a
  // chunk. Messages of 0 bytes are valid. InvalidArgument (naming both
  // sizes) above the inline capacity on a topic without a pool, or above
  // max_message_size.
  absl::Status Publish(absl::Span<const std::byte> payload);

  // Loans a chunk of the smallest size class that fits a `size`-byte
  // message, growing the pool if none is free. InvalidArgument above
  // max_message_size or without a pool; ResourceExhausted with kMaxLoans
  // loans outstanding, or when the shared-memory directory cannot hold the
  // growth (naming the sizes and the free space; later loans succeed once
  // chunks come back or space is freed).
  absl::StatusOr<ChunkLoan> Loan(std::size_t size);

  // Publishes a loaned chunk by reference. On an error (DeadlineExceeded
  // from a reliable subscriber) the loan stays with the caller.
  absl::Status Publish(ChunkLoan&& loan);

  // Publishes every payload of `batch` in order with one store of the
  // head and at most one doorbell per sleeping subscriber. Each payload
  // must fit inline (InvalidArgument naming the first that does not, and
  // nothing is published); the samples share one publish time. Held back
  // by a reliable subscriber mid-batch, it first makes what it wrote so
  // far visible, then waits; on DeadlineExceeded the samples before the
  // one that waited are published and the rest are not.
  absl::Status PublishBatch(absl::Span<const absl::Span<const std::byte>> batch);

  // An in-place loan of the next ring slot, for a message of at most
  // inline_capacity() bytes: write it into the returned span (8-aligned),
  // then CommitSlot(size) publishes it with no copy. While on loan the
  // slot's stamp is odd, which readers take for "not yet", so they never
  // see a half-written sample; the publisher's other publishes wait
  // (FailedPrecondition) until the loan is committed or abandoned.
  // (In ThreadSanitizer builds the span is a buffer copied in by
  // CommitSlot: plain stores into a slot a lapped reader may be copying
  // are a race by the memory model, which the seqlock makes harmless.)
  absl::StatusOr<absl::Span<std::byte>> LoanSlot();
  absl::Status CommitSlot(std::size_t size);
  // Drops the slot loan: nothing is published; the next publish rewrites
  // the slot.
  void AbandonSlot();
  std::size_t inline_capacity() const { return inline_capacity_; }

  std::uint64_t publisher_id() const { return claim_.publisher_id; }
  std::uint32_t ring_index() const { return claim_.index; }
  // The sequence number the next Publish will carry.
  std::uint64_t next_sequence() const { return next_seq_; }
  const TopicSegment& topic() const { return *topic_; }
  // This publisher's pool, or nullptr on an inline-only topic.
  const PoolChain* pool() const { return pool_.get(); }
  // What the pool commits now (empty on an inline-only topic).
  PoolUse pool_use() const;

 private:
  Writer(std::unique_ptr<TopicSegment> topic, RingClaim claim,
         std::unique_ptr<PoolChain> pool, const WriterOptions& writer_options);
  // Writes `size` bytes into slot `next_seq_` with `size_field` in its
  // word, commits it and rings sleepers.
  void Commit(const std::byte* bytes, std::uint32_t size, std::uint32_t size_field);
  // Marks slot next_seq_ odd (being written); FinishSlot publishes it.
  internal::SlotHeader* BeginSlot();
  void FinishSlot(internal::SlotHeader* slot, std::uint32_t size, std::uint32_t size_field);
  // Makes slot next_seq_ complete (even stamp) and moves on; Flush then
  // publishes the head and rings sleepers, once for a whole batch.
  void SealSlot(internal::SlotHeader* slot, std::uint32_t size, std::uint32_t size_field,
                std::int64_t now);
  void Flush(std::int64_t now);
  // Makes slot next_seq_ ready to be written: waits for reliable
  // subscribers (Reserve), then drops the ring's reference to the chunk of
  // the sample the slot still holds. Every publish path calls it first.
  absl::Status ReadySlot() {
    if (absl::Status s = Reserve(); !s.ok()) return s;
    if (ring_refs_ != 0) DropOverwrittenRef();
    return absl::OkStatus();
  }
  void DropOverwrittenRef();
  absl::Status SlotOnLoan() const;
  // Loan and Publish(ChunkLoan&&) inside the owner gate (keep_).
  absl::StatusOr<ChunkLoan> LoanInside(std::size_t size);
  absl::Status PublishInside(ChunkLoan&& loan);
  // The publish time a sample carries (0 without stamp_time).
  std::int64_t PublishTime() {
    return writer_options_.stamp_time ? clock_.Now() : 0;
  }
  void RingSleepers();
  void Close();

  // Reliable subscribers. OK when sample next_seq_ may be written: no live
  // reliable subscriber still has to read the sample its slot holds.
  // Otherwise waits (WaitForRoom) up to the reliable timeout.
  absl::Status Reserve() {
    if (!SubscribersChanged() && reliable_.empty()) return absl::OkStatus();
    return ReserveSlow();
  }
  absl::Status ReserveSlow();
  absl::Status WaitForRoom();
  bool SubscribersChanged() const;
  // Re-reads which subscriber entries are live, and which are reliable.
  void RescanSubscribers();
  // The smallest cursor on our ring among `entries` (next_seq_ if none is
  // smaller); `at`, if given, gets the entry that has it.
  std::uint64_t FloorOf(const std::vector<std::uint32_t>& entries,
                        std::uint32_t* at = nullptr) const;
  bool Blocked(std::uint64_t floor) const {
    return next_seq_ >= depth_ && floor <= next_seq_ - depth_;
  }
  // Hot chunks: returns the chunks of samples every subscriber has passed.
  // `hot`: the owner's own call, whose next loan looks where they went.
  void DropPassedRefs(bool hot = true);
  // Once the pool has grown, the pool keeper's look (pool_keeper.h): it
  // drops the ring's references every subscriber has passed, if the owner
  // is out (an idle publisher makes no call that would), and lets the
  // chain release what stayed free. Every public call that touches the
  // ring's references enters keep_->gate first.
  struct Keep;

  WriterOptions writer_options_;
  PublishClock clock_;

  std::unique_ptr<TopicSegment> topic_;  // stable addresses for the pointers below
  std::unique_ptr<PoolChain> pool_;
  std::unique_ptr<Keep> keep_;  // with a pool
  std::unique_ptr<std::uint32_t> loans_ = std::make_unique<std::uint32_t>(0);
  std::vector<internal::ChunkRef> slot_refs_;  // the ring's reference per slot
  RingClaim claim_{};
  std::uint64_t next_seq_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t mask_ = 0;
  std::uint32_t slot_size_ = 0;
  std::uint32_t inline_capacity_ = 0;
  std::uint64_t max_message_size_ = 0;
  std::uint32_t sleeping_words_ = 0;
  std::uint64_t last_word_mask_ = 0;  // subscribers that exist in the last word
  std::byte* slots_ = nullptr;
  internal::RingHot* hot_ = nullptr;
  internal::RingWait* wait_ = nullptr;
  const std::atomic<std::uint32_t>* fenced_sleepers_ = nullptr;  // in the topic header
  internal::SlotHeader* loaned_slot_ = nullptr;  // the slot on loan, if any
  std::uint64_t depth_ = 0;
  std::uint64_t flushed_ = 0;     // the head last stored
  std::uint32_t ring_refs_ = 0;   // non-empty entries of slot_refs_
  std::uint64_t retained_from_ = 0;  // oldest sequence whose ref we may hold
  std::uint64_t subscriber_generation_ = ~std::uint64_t{0};
  std::vector<std::uint32_t> live_;      // active subscriber entries
  std::vector<std::uint32_t> reliable_;  // the reliable ones among them
  std::uint64_t reliable_floor_ = 0;     // their smallest cursor, last read
  bool light_fence_ = false;             // LightPublisherFence()
#if RINGCAST_SLOT_LOAN_COPIES
  std::vector<std::uint64_t> slot_buffer_;
#endif
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_WRITER_H_
