// transport/inspect.h: what a topic segment says about itself, as plain
// copyable values: its configuration, every ring with an owner (samples,
// bytes, last publish time and, on request, the publish times and sizes of
// the samples still in it) and every subscriber (received, lost, lag,
// sleeping, chunks held). The CLI, the benchmarks and the doctor read
// topics through this only; the bytes behind it are topic_layout.h's
// business.
//
//   auto observer = TopicObserver::Open(options, "/imu");
//   TopicSnapshot s = observer->Snapshot();
//   for (const RingSnapshot& r : s.rings) Print(r.publisher_id, r.samples);
//
// Observing maps the segment read-only and takes no lock: it never writes a
// byte of shared memory, never keeps a segment alive (a topic whose last
// participant leaves is unlinked while observed) and never registers a
// subscriber. Owners' liveness is looked at, never cleaned
// (IsTokenAliveNoRemove). A snapshot is a look at a moving target: each
// entry is copied consistently (seqlock), the table as a whole is not.
#ifndef RINGCAST_TRANSPORT_INSPECT_H_
#define RINGCAST_TRANSPORT_INSPECT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/pool.h"
#include "transport/shm_options.h"

namespace ringcast::transport {

class TopicSegment;

// Where a ring or subscriber entry is in its life (entry_state.h).
// kCorrupt: a state no process writes (a stray write into the segment).
enum class EntryPhase : std::uint8_t { kFree, kClaiming, kActive, kCorrupt };

// "free", "claiming", "active" or "corrupt".
const char* EntryPhaseName(EntryPhase phase);

// One complete sample still in a ring.
struct SlotSample {
  std::uint64_t sequence = 0;
  std::int64_t publish_ns = 0;  // CLOCK_REALTIME of the publish
  std::uint64_t size = 0;       // payload bytes (a pooled sample's message size)
  bool pooled = false;          // carried by a chunk reference
};

// A publisher ring that is not free.
struct RingSnapshot {
  std::uint32_t index = 0;  // in the topic's ring table
  EntryPhase state = EntryPhase::kFree;
  bool owner_alive = false;  // the process holding the entry lives
  std::uint64_t publisher_id = 0;
  std::uint32_t owner_pid = 0;
  std::uint64_t pool_id = 0;    // the owner's chunk pool family; 0 = none
  PoolUse pool;                 // what that pool commits now (active rings)
  std::uint64_t start_seq = 0;  // the first sequence this owner published
  std::uint64_t head = 0;       // the next sequence to publish
  std::uint64_t samples = 0;    // head - start_seq: published by this owner
  std::uint64_t bytes = 0;      // payload bytes ever published on the ring
  std::int64_t last_publish_ns = 0;
  std::uint64_t anomalies = 0;  // corrupt values the publisher met and refused
  // With Snapshot(true): the complete samples still in the ring, oldest
  // first (a slot being rewritten during the look is left out).
  std::vector<SlotSample> recent;
};

// A subscriber entry that is not free.
struct SubscriberSnapshot {
  std::uint32_t index = 0;  // in the topic's subscriber table
  EntryPhase state = EntryPhase::kFree;
  bool owner_alive = false;
  std::uint64_t subscriber_id = 0;
  std::uint32_t owner_pid = 0;
  bool reliable = false;
  bool transient_local = false;
  bool sleeping = false;  // waiting on its doorbell right now
  std::uint64_t received = 0;
  std::uint64_t lost = 0;
  std::uint64_t lag = 0;  // published on active rings but not yet read
  std::uint64_t anomalies = 0;
  std::uint32_t chunks_held = 0;  // pooled samples it holds
};

// One topic segment.
struct TopicSnapshot {
  std::string topic;    // the segment's name when the topic name is hashed
  std::string segment;  // "/<prefix>.<domain>.t...."
  std::string type_name;
  std::uint64_t type_hash = 0;
  std::uint32_t depth = 0;
  std::uint32_t slot_size = 0;
  std::uint32_t inline_capacity = 0;
  std::uint32_t max_publishers = 0;
  std::uint32_t max_subscribers = 0;
  std::uint32_t max_held_samples = 0;
  std::uint64_t max_message_size = 0;
  std::uint64_t segment_bytes = 0;  // the topic segment
  std::uint64_t pool_bytes = 0;     // the pools of its active rings, committed
  std::vector<RingSnapshot> rings;              // every ring not free, by index
  std::vector<SubscriberSnapshot> subscribers;  // every entry not free, by index
  // Every pool a ring names, owned or not: a departed publisher's pool is
  // named until its samples are drained or its ring is claimed again.
  std::vector<std::uint64_t> named_pools;
  // The pools of rings without an owner that no active subscriber still
  // needs: what the next reclaim unlinks.
  std::vector<std::uint64_t> drained_pools;

  // The entry of ring `index` / subscriber `index`, or nullptr if free.
  const RingSnapshot* ring(std::uint32_t index) const;
  const SubscriberSnapshot* subscriber(std::uint32_t index) const;
};

// What hz and bandwidth polling needs of one ring, cheaply.
struct RingCounters {
  std::uint32_t index = 0;
  bool active = false;  // owned (EntryPhase::kActive)
  std::uint64_t publisher_id = 0;
  std::uint64_t head = 0;
  std::uint64_t bytes = 0;
  std::int64_t last_publish_ns = 0;
};

// A read-only mapping of one topic segment, kept for repeated snapshots.
// Move-only; not thread-safe (one observer per thread).
class TopicObserver {
 public:
  // Maps topic `topic`. NotFound if it has no segment, Unavailable while
  // its creator initialises it, DataLoss if its configuration is corrupt.
  static absl::StatusOr<TopicObserver> Open(const ShmOptions& options, absl::string_view topic);
  // The same by segment name ("/<prefix>.<domain>.t...."), for listings
  // that find segments in the directory (hashed names included).
  static absl::StatusOr<TopicObserver> OpenSegment(const ShmOptions& options,
                                                   absl::string_view segment_name);

  TopicObserver(TopicObserver&&) noexcept;
  TopicObserver& operator=(TopicObserver&&) noexcept;
  ~TopicObserver();  // unmaps

  // The topic's name (the segment's name if it cannot be recovered).
  const std::string& topic() const;
  const std::string& segment_name() const;

  // Everything above; `with_recent` also copies the publish time and size
  // of every sample still in every ring (depth slot reads per ring).
  // With `with_pools`, each active ring's `pool` says what its publisher's
  // pool commits (each of its segments is mapped for the look: `topic
  // info`, not a rate meter's every look); `pool_bytes` is 0 without.
  TopicSnapshot Snapshot(bool with_recent = false, bool with_pools = false) const;

  // Head, bytes and last publish time of every ring (free ones included),
  // by index: for polling rates without taking a whole snapshot.
  std::vector<RingCounters> Counters() const;

  // Active subscriber entries now: for waiting until a subscriber is there.
  std::uint32_t ActiveSubscribers() const;

 private:
  explicit TopicObserver(std::unique_ptr<TopicSegment> segment);

  std::unique_ptr<TopicSegment> segment_;
};

// Opens `topic` and takes one snapshot.
absl::StatusOr<TopicSnapshot> SnapshotTopic(const ShmOptions& options, absl::string_view topic,
                                            bool with_recent = false);

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_INSPECT_H_
