// transport/reader.h: the bytes-level subscriber. A Reader holds one entry
// in its topic's subscriber table and reads every publisher's ring, in
// order per publisher. Loss is never silent: a Reader lapped by a publisher
// skips to the oldest sample still present and reports how many it missed
// with the next sample it delivers, and in the shared counters.
//
//   auto r = Reader::Create(options, "/imu", config);
//   std::vector<std::byte> bytes;
//   SampleInfo info;
//   while (r->Wait(absl::Seconds(1)).ok()) {
//     if (*r->Take(&bytes, &info)) Use(bytes, info);
//   }
#ifndef RINGCAST_TRANSPORT_READER_H_
#define RINGCAST_TRANSPORT_READER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "transport/chunk_ref.h"
#include "transport/shm_options.h"
#include "transport/topic_config.h"

namespace ringcast::transport {

class ChunkPool;
class TopicSegment;
namespace internal {
struct RingHot;
struct RingWait;
struct SubscriberCounters;
}  // namespace internal

struct ReaderOptions {
  // Transient-local durability: start `depth` samples back on every ring
  // that exists when the reader is created, instead of at its head.
  bool transient_local = false;
  // Reliable: publishers never overwrite a sample this reader has not
  // taken; they wait for it (up to their reliable timeout) instead. While
  // it lives and does not take, it holds every publisher of the topic.
  bool reliable = false;
  // How long Wait() polls before it sleeps on the doorbell. Zero sleeps at
  // once (an idle subscriber then costs no CPU at all).
  absl::Duration spin = absl::Microseconds(20);
};

// What came with a sample besides its bytes.
struct SampleInfo {
  std::uint64_t sequence = 0;        // per publisher ring, consecutive
  std::int64_t publish_time_ns = 0;  // CLOCK_REALTIME at publish
  std::uint64_t publisher_id = 0;    // unique per topic segment
  std::uint64_t lost_before = 0;     // samples lost since the previous one
  std::uint32_t size = 0;            // payload bytes
};

namespace internal {
// What a Reader and the Samples it handed out share: the subscriber's held
// list in shared memory and the pools its entries point into. Not
// thread-safe, like the Reader.
struct HeldChunks {
  std::atomic<std::uint64_t>* entries = nullptr;  // 2 words per slot, in shm
  std::vector<std::shared_ptr<ChunkPool>> pools;  // per slot; null = free
  std::vector<ChunkRef> refs;
  std::uint32_t in_use = 0;
  bool open = true;  // false once the Reader closed (it returned them all)

  // A free slot, or -1.
  int FreeSlot() const;
  // Records `ref` of `pool` in `slot` (we hold the reference already).
  void Record(int slot, std::shared_ptr<ChunkPool> pool, const ChunkRef& ref);
  // Drops slot's reference and clears it.
  void Release(int slot);
};
}  // namespace internal

// One received sample. Inline samples own a copy of their bytes (up to
// kInlineBytes without a heap allocation: taking one is on the hot path);
// pooled ones point straight into the publisher's chunk, which they keep
// alive until destroyed (each counts against max_held_samples). Move-only.
// Release samples on the thread that uses their Reader. A sample may
// outlive its Reader: its bytes stay mapped, but the Reader's close returns
// its chunk, so the publisher may overwrite them from then on.
class Sample {
 public:
  Sample() = default;
  Sample(Sample&& other) noexcept;
  Sample& operator=(Sample&& other) noexcept;
  ~Sample();

  static constexpr std::size_t kInlineBytes = 64;

  absl::Span<const std::byte> data() const {
    return {held_ != nullptr ? pooled_data_ : inline_.data(), info_.size};
  }
  const SampleInfo& info() const { return info_; }
  bool pooled() const { return held_ != nullptr; }

 private:
  friend class Reader;
  void Reset();

  SampleInfo info_;
  const std::byte* pooled_data_ = nullptr;  // into the chunk, when pooled
  absl::InlinedVector<std::byte, kInlineBytes> inline_;
  std::shared_ptr<internal::HeldChunks> held_;
  // Keeps the pool mapped for as long as the sample lives, even after its
  // Reader closed (which returns the chunk: the bytes stay readable, though
  // the publisher may then reuse them).
  std::shared_ptr<ChunkPool> pool_;
  int slot_ = -1;
};

class Reader {
 public:
  static absl::StatusOr<Reader> Create(const ShmOptions& options, absl::string_view topic,
                                       const TopicConfig& config,
                                       const ReaderOptions& reader_options = {});

  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();  // frees the entry; unlinks the topic if it was the last user

  // Copies the next sample into `payload` (reusing its capacity) and fills
  // `info`. Returns false when there is nothing new. A sample the publisher
  // overwrote during the copy is counted lost, never delivered.
  // A pooled sample is copied out of its chunk (and counted lost if its
  // chunk was recycled before we got a reference).
  absl::StatusOr<bool> Take(std::vector<std::byte>* payload, SampleInfo* info);

  // The next sample without copying a pooled payload, or nullopt when there
  // is nothing new. FailedPrecondition while max_held_samples pooled
  // samples are held.
  absl::StatusOr<std::optional<Sample>> TakeSample();

  // The same into `sample`, reusing its storage: no allocation for inline
  // samples up to Sample::kInlineBytes, for hot loops. Whatever `sample`
  // held is released first; on false it is empty.
  absl::StatusOr<bool> Take(Sample* sample);

  // Takes up to `max` samples in order, calling `fn(bytes, info)` for each,
  // with one update of the shared cursors and counters (and at most one
  // wake of each held publisher) for the whole batch; loss is reported in
  // `info.lost_before` exactly as by Take. Pooled samples are read in
  // place in their chunk, valid during the call only. Returns how many it
  // delivered. `fn` must not use this Reader.
  using BatchFn = absl::FunctionRef<void(absl::Span<const std::byte>, const SampleInfo&)>;
  absl::StatusOr<std::size_t> TakeBatch(std::size_t max, BatchFn fn);

  // True when Take would deliver a sample.
  bool HasData();

  // Returns OK as soon as HasData(), DeadlineExceeded after `timeout`.
  // Spins for ReaderOptions::spin, then sleeps on the doorbell futex.
  absl::Status Wait(absl::Duration timeout);

  std::uint64_t received() const { return received_; }
  std::uint64_t lost() const { return lost_; }
  // Pool segments this reader maps now (samples out may keep more).
  std::size_t mapped_pools() const { return pools_.size(); }
  std::uint64_t subscriber_id() const { return claim_.subscriber_id; }
  std::uint32_t subscriber_index() const { return claim_.index; }
  const TopicSegment& topic() const { return *topic_; }
  // The word publishers ring; for waiting on many readers at once.
  const std::atomic<std::uint32_t>& doorbell() const;

  // Waiting on many readers at once (one Executor thread): ArmDoorbell
  // announces that we are about to sleep (publishers then ring our
  // doorbell) and returns the doorbell value to sleep on; the caller then
  // checks HasData() on every reader, sleeps (FutexWaitAny) only if none
  // has data, and calls DisarmDoorbell() when it wakes. Reader::Wait does
  // the same for one reader.
  // With `fence` false the caller issues one SleeperFence(first) (futex.h)
  // for all its readers after arming them all, `first` if CountAsSleeper()
  // returned true for any of them, and bounds its sleep by kUnfencedSleep
  // if that fails.
  std::uint32_t ArmDoorbell(bool fence = true);
  // Counts this subscriber, once, among its topic's fenced_sleepers, so
  // that publishers fence fully (futex.h). True the first time: the next
  // SleeperFence must then be a membarrier. ArmDoorbell calls it too.
  bool CountAsSleeper();
  void DisarmDoorbell();

  // Counts a corrupt value met above this layer (a sample that fails its
  // type's validation) on this subscriber's entry, for `topic info` and
  // `doctor`; warns once per process.
  void CountAnomaly(absl::string_view what) const;

  // Owners of a ring a reader remembers (topic_layout.h keeps as many).
  static constexpr std::uint32_t kOwnerHistory = 4;

 private:
  struct Ring {
    std::uint32_t index = 0;
    std::uint64_t epoch = ~std::uint64_t{0};  // none seen yet
    std::uint64_t cursor = 0;          // next sequence to read
    // The last owners, newest first: samples from start_seq on are theirs.
    struct Owner {
      std::uint64_t start_seq = 0;
      std::uint64_t publisher_id = 0;
    };
    Owner owners[kOwnerHistory];
    bool active = false;               // owned by a live publisher
    std::uint64_t shared_cursor = 0;   // the cursor last stored in our entry
    std::byte* slots = nullptr;
    internal::RingHot* hot = nullptr;
    internal::RingWait* wait = nullptr;
  };
  enum class ReadResult { kEmpty, kSample, kPooled };

  Reader(std::unique_ptr<TopicSegment> topic, SubscriberClaim claim,
         const ReaderOptions& options);
  void Resync();
  void UpdateRing(Ring& ring, std::uint64_t state);
  void SnapshotOwners(Ring& ring, std::uint64_t state);
  static std::uint64_t PublisherOf(const Ring& ring, std::uint64_t seq);
  void RebuildPolled();
  // Reads the next sample of `ring`: inline bytes into `payload`, or a
  // chunk reference acquired into held slot `slot` (kPooled).
  // Buffer: std::vector<std::byte> or a Sample's inline storage.
  template <typename Buffer>
  ReadResult TryRead(Ring& ring, Buffer* payload, SampleInfo* info, int slot);
  void Deliver(Ring& ring, std::uint64_t seq, std::int64_t publish_ns, std::uint32_t size,
               SampleInfo* info);
  template <typename Buffer>
  ReadResult Next(Buffer* payload, SampleInfo* info, int slot);
  absl::Status NoFreeSlot() const;
  // The mapped pool segment `pool_id` of `ring`'s family (mapped now if
  // it is new to us), or nullptr if it is gone or foreign.
  ChunkPool* PoolFor(const Ring& ring, std::uint64_t pool_id, std::shared_ptr<ChunkPool>* keep);
  void PrunePools();
  // Unmaps the pool segments their publisher has released (unless a
  // sample out still holds one).
  void DropRetiredPools();
  static constexpr std::uint64_t kRetiredSweep = 64;  // pooled takes apart
  bool RingHasData(const Ring& ring) const;
  void CountLost(std::uint64_t n);
  // Stores ring.cursor in our entry (deferred to the end of a batch), and
  // wakes the ring's publisher if it waits on us (reliable readers).
  void StoreCursor(Ring& ring);
  void StoreCursors();
  void WakePublisher(Ring& ring);
  void Close();

  std::unique_ptr<TopicSegment> topic_;
  SubscriberClaim claim_{};
  ReaderOptions options_;
  std::uint64_t mask_ = 0;
  std::uint32_t depth_ = 0;
  std::uint32_t slot_size_ = 0;
  std::uint32_t inline_capacity_ = 0;
  std::uint64_t known_generation_ = ~std::uint64_t{0};
  std::vector<Ring> rings_;               // one per ring of the table
  std::vector<std::uint32_t> polled_;     // rings that may hold samples for us
  std::size_t next_polled_ = 0;           // round-robin position
  std::uint64_t received_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t pending_lost_ = 0;        // reported with the next sample
  bool batching_ = false;                 // inside TakeBatch: stores deferred
  bool unfenced_ = false;                 // SleeperFence failed: bounded sleeps
  bool counted_sleeper_ = false;          // CountAsSleeper() done
  bool light_fence_ = false;              // LightPublisherFence()
  std::vector<std::byte> batch_buffer_;   // TakeBatch's inline copies
  internal::SubscriberCounters* counters_ = nullptr;
  std::atomic<std::uint64_t>* cursors_ = nullptr;
  std::shared_ptr<internal::HeldChunks> held_;
  struct MappedPool {
    std::shared_ptr<ChunkPool> pool;
    std::uint32_t ring = 0;  // whose references may name it
  };
  absl::flat_hash_map<std::uint64_t, MappedPool> pools_;  // by pool id
  std::uint64_t pooled_taken_ = 0;
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_READER_H_
