// transport/topic.h: one topic's segment: its configuration, its table of
// publisher rings and its table of subscribers, and the claiming and
// reclaiming of their entries. Writer and Reader (writer.h, reader.h) do
// the data path on top of it; observers (the CLI) read it read-only.
#ifndef RINGCAST_TRANSPORT_TOPIC_H_
#define RINGCAST_TRANSPORT_TOPIC_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/segment.h"
#include "transport/shm_options.h"
#include "transport/topic_config.h"
#include "transport/topic_layout.h"

namespace ringcast::transport {

class TopicSegment {
 public:
  // Opens topic `topic` as a participant, creating its segment from
  // `config` if needed. FailedPrecondition if the topic exists with another
  // type (the message names both).
  static absl::StatusOr<TopicSegment> Join(const ShmOptions& options,
                                           absl::string_view topic,
                                           const TopicConfig& config);

  // Opens an existing topic read-only, for inspection.
  static absl::StatusOr<TopicSegment> Observe(const ShmOptions& options,
                                              absl::string_view topic);
  // The same by segment name ("/<prefix>.<domain>.t...."), for listings
  // that find segments in the directory (hashed names included).
  static absl::StatusOr<TopicSegment> ObserveSegment(const ShmOptions& options,
                                                     absl::string_view segment_name);
  // Opens an existing topic segment by name as a participant, without
  // creating it (NotFound if absent): for reclaiming the entries of dead
  // processes and unlinking a topic nobody uses (ReclaimDead, then Leave).
  static absl::StatusOr<TopicSegment> AttachSegment(const ShmOptions& options,
                                                    absl::string_view segment_name);

  TopicSegment(TopicSegment&&) noexcept = default;
  TopicSegment& operator=(TopicSegment&&) noexcept = default;

  const std::string& topic() const { return topic_; }
  const TopicGeometry& geometry() const { return geometry_; }
  const Segment& segment() const { return segment_; }
  const ShmOptions& options() const { return options_; }

  internal::TopicHeader& header() const {
    return *reinterpret_cast<internal::TopicHeader*>(segment_.base() + sizeof(SegmentHeader));
  }
  // REQUIRES: i < geometry().max_publishers (indices are ours, not shm's).
  std::byte* ring(std::uint32_t i) const {
    return segment_.base() + geometry_.rings_offset + geometry_.ring_stride * i;
  }
  internal::RingControl& ring_control(std::uint32_t i) const {
    return *reinterpret_cast<internal::RingControl*>(ring(i));
  }
  internal::RingHot& ring_hot(std::uint32_t i) const {
    return *reinterpret_cast<internal::RingHot*>(ring(i) + sizeof(internal::RingControl));
  }
  internal::RingWait& ring_wait(std::uint32_t i) const {
    return *reinterpret_cast<internal::RingWait*>(ring(i) + sizeof(internal::RingControl) +
                                                  sizeof(internal::RingHot));
  }
  std::byte* slots(std::uint32_t i) const {
    return ring(i) + sizeof(internal::RingControl) + sizeof(internal::RingHot) +
           sizeof(internal::RingWait);
  }
  // REQUIRES: i < geometry().max_subscribers.
  std::byte* subscriber(std::uint32_t i) const {
    return segment_.base() + geometry_.subscribers_offset + geometry_.subscriber_stride * i;
  }
  internal::SubscriberControl& subscriber_control(std::uint32_t i) const {
    return *reinterpret_cast<internal::SubscriberControl*>(subscriber(i));
  }
  internal::Doorbell& doorbell(std::uint32_t i) const {
    return *reinterpret_cast<internal::Doorbell*>(subscriber(i) + 64);
  }
  internal::SubscriberCounters& subscriber_counters(std::uint32_t i) const {
    return *reinterpret_cast<internal::SubscriberCounters*>(
        subscriber(i) + internal::kSubscriberCountersOffset);
  }
  std::atomic<std::uint64_t>* cursors(std::uint32_t i) const {
    return reinterpret_cast<std::atomic<std::uint64_t>*>(
        subscriber(i) + internal::kSubscriberCursorsOffset);
  }
  // held(i)[2k], held(i)[2k+1]: pool id and index << 32 | generation of
  // the k-th chunk subscriber i holds (pool id 0 = empty).
  std::atomic<std::uint64_t>* held(std::uint32_t i) const {
    return cursors(i) + geometry_.max_publishers;
  }
  // Chunks one publisher's pool needs so that a loan never fails: the
  // ring's references, every subscriber's held maximum, and the loans.
  std::uint32_t PoolChunks() const {
    return geometry_.depth + geometry_.max_subscribers * geometry_.max_held_samples +
           kMaxLoans;
  }
  static constexpr std::uint32_t kMaxLoans = 4;

  // Frees the rings and subscriber entries whose processes are dead (see
  // liveness.h and entry_state.h), whether they died owning, claiming or
  // freeing them or reclaiming them for someone else: returns the chunks a
  // dead subscriber held, and unlinks the pools of departed publishers
  // that no subscriber still needs (UnlinkDrainedPools). Returns how many
  // entries it freed. Participants only.
  int ReclaimDead();

  // Unlinks the pool of every ring without a live owner once no live
  // subscriber has unread samples on that ring (a process that mapped the
  // pool keeps its mapping). Returns the pool segment names it unlinked.
  std::vector<std::string> UnlinkDrainedPools();
  // The pool ids UnlinkDrainedPools would unlink now (a look; observers too).
  std::vector<std::uint64_t> DrainedPools() const;

  // Claims a free ring for a publisher with liveness token `token`. The new
  // owner continues the ring's sequence from its head. ResourceExhausted
  // when every ring has a live owner.
  using RingClaim = transport::RingClaim;
  absl::StatusOr<RingClaim> ClaimRing(std::uint64_t token, std::uint64_t pool_id = 0);
  void ReleaseRing(const RingClaim& claim);

  using SubscriberClaim = transport::SubscriberClaim;
  absl::StatusOr<SubscriberClaim> ClaimSubscriber(std::uint64_t token,
                                                  std::uint32_t flags);
  void ReleaseSubscriber(const SubscriberClaim& claim);
  // Counts subscriber entry `index` among the topic's fenced_sleepers (a
  // subscriber about to sleep for the first time); undone when the entry
  // is freed, by its owner or by whoever reclaims it.
  void CountSleeper(std::uint32_t index);

  // Counts a corrupt value the owner of ring `ring` (or subscriber entry
  // `subscriber`) met and refused, visible to `ringcast topic info` and
  // `doctor`; warns once per process and kind.
  void CountRingAnomaly(std::uint32_t ring, absl::string_view what) const;
  void CountSubscriberAnomaly(std::uint32_t subscriber, absl::string_view what) const;

  // Stops participating; unlinks the segment, and the chunk pools its rings
  // name, if nobody else uses it.
  bool Leave();

 private:
  TopicSegment(std::string topic, ShmOptions options, Segment segment,
               TopicGeometry geometry)
      : topic_(std::move(topic)), options_(std::move(options)),
        segment_(std::move(segment)), geometry_(std::move(geometry)) {}
  void FreeSubscriberEntry(std::uint32_t index);
  // Wakes every publisher asleep waiting for a reliable subscriber, after
  // an entry was freed: the one that held it back may be gone.
  void WakeHeldPublishers() const;
  void ReturnHeldChunks(std::uint32_t index);

  std::string topic_;
  ShmOptions options_;
  Segment segment_;
  TopicGeometry geometry_;
};

// Copies and validates the configuration of a mapped topic segment.
absl::StatusOr<TopicGeometry> ReadGeometry(const Segment& segment);

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_TOPIC_H_
