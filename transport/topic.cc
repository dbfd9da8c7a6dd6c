#include "transport/topic.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "transport/futex.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/process.h"
#include "transport/status_macros.h"
#include "transport/warn.h"

namespace ringcast::transport {
namespace {

using internal::EntryState;
using internal::StateOf;

absl::Status OutOfRange(absl::string_view field, std::uint64_t value,
                        absl::string_view valid) {
  return absl::InvalidArgumentError(
      absl::StrCat("topic config ", field, " = ", value, ": valid ", valid));
}

std::uint32_t SlotSizeFor(std::uint32_t inline_capacity) {
  return static_cast<std::uint32_t>(
      internal::RoundUp64(internal::kSlotHeaderSize + inline_capacity));
}

std::uint64_t SegmentSizeFor(const TopicConfig& c) {
  const std::uint64_t rings = sizeof(SegmentHeader) + sizeof(internal::TopicHeader);
  return rings + internal::RingStride(c.depth, SlotSizeFor(c.inline_capacity)) * c.max_publishers +
         internal::SubscriberStride(c.max_publishers, c.max_held_samples) * c.max_subscribers;
}

void InitTopic(const TopicConfig& c, std::byte* base, std::uint64_t /*size*/) {
  auto* h = reinterpret_cast<internal::TopicHeader*>(base + sizeof(SegmentHeader));
  reinterpret_cast<SegmentHeader*>(base)->header_size = sizeof(internal::TopicHeader);
  std::memcpy(h->type_name, c.type_name.data(), c.type_name.size());
  h->type_hash = c.type_hash;
  h->depth = c.depth;
  h->slot_size = SlotSizeFor(c.inline_capacity);
  h->max_publishers = c.max_publishers;
  h->max_subscribers = c.max_subscribers;
  h->max_held_samples = c.max_held_samples;
  h->max_message_size = c.max_message_size;
  h->rings_offset = sizeof(SegmentHeader) + sizeof(internal::TopicHeader);
  h->ring_stride = internal::RingStride(c.depth, h->slot_size);
  h->subscribers_offset = h->rings_offset + h->ring_stride * c.max_publishers;
  h->subscriber_stride = internal::SubscriberStride(c.max_publishers, c.max_held_samples);
  // Endpoint ids start at 1: 0 means "none" everywhere.
  h->next_endpoint_id.store(1, std::memory_order_relaxed);
  // Everything else is zero from posix_fallocate: free entries, empty slots.
}

absl::Status Corrupt(const Segment& s, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("topic segment ", s.path(), ": ", what,
                                          "; the segment is corrupt"));
}

}  // namespace

std::uint32_t InlineCapacityFillingLines(std::uint32_t bytes) {
  const auto slot = static_cast<std::uint32_t>(internal::RoundUp64(internal::kSlotHeaderSize + bytes));
  return slot - internal::kSlotHeaderSize;
}

absl::Status ValidateTopicConfig(const TopicConfig& c) {
  if (c.type_name.empty() || c.type_name.size() >= internal::kTypeNameSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "topic config type_name '", c.type_name, "': valid 1..",
        internal::kTypeNameSize - 1, " bytes"));
  }
  if (c.depth == 0 || c.depth > internal::kMaxDepth || !std::has_single_bit(c.depth)) {
    return OutOfRange("depth", c.depth, "a power of two in 1..65536");
  }
  if (c.inline_capacity > internal::kMaxSlotSize - internal::kSlotHeaderSize) {
    return OutOfRange("inline_capacity", c.inline_capacity, "0..65520");
  }
  if (c.max_publishers == 0 || c.max_publishers > internal::kMaxPublishers) {
    return OutOfRange("max_publishers", c.max_publishers, "1..64");
  }
  if (c.max_subscribers == 0 || c.max_subscribers > internal::kMaxSubscribers) {
    return OutOfRange("max_subscribers", c.max_subscribers, "1..512");
  }
  if (c.max_held_samples > internal::kMaxHeldSamples) {
    return OutOfRange("max_held_samples", c.max_held_samples, "0..64");
  }
  if (c.max_message_size > (std::uint64_t{1} << 40)) {
    return OutOfRange("max_message_size", c.max_message_size, "0..1 TiB");
  }
  if (c.max_message_size > 0 && c.inline_capacity < internal::kChunkRefBytes) {
    return OutOfRange("inline_capacity", c.inline_capacity,
                      "24..65520 on a topic with a chunk pool (a slot carries the reference)");
  }
  if (c.max_message_size > 0 && c.max_held_samples == 0) {
    return OutOfRange("max_held_samples", 0, "1..64 on a topic with a chunk pool");
  }
  return absl::OkStatus();
}

absl::StatusOr<TopicGeometry> ReadGeometry(const Segment& segment) {
  const std::uint64_t size = segment.size();
  if (size < sizeof(SegmentHeader) + sizeof(internal::TopicHeader)) {
    return Corrupt(segment, absl::StrCat("size ", size, " is smaller than its headers"));
  }
  const auto& h =
      *reinterpret_cast<const internal::TopicHeader*>(segment.base() + sizeof(SegmentHeader));
  // Read each field once into the copy; validate only the copy.
  TopicGeometry g;
  char name[internal::kTypeNameSize];
  std::memcpy(name, h.type_name, sizeof name);
  name[sizeof name - 1] = '\0';
  g.type_name = name;
  g.type_hash = h.type_hash;
  g.depth = h.depth;
  g.slot_size = h.slot_size;
  g.max_publishers = h.max_publishers;
  g.max_subscribers = h.max_subscribers;
  g.max_held_samples = h.max_held_samples;
  g.max_message_size = h.max_message_size;
  g.rings_offset = h.rings_offset;
  g.ring_stride = h.ring_stride;
  g.subscribers_offset = h.subscribers_offset;
  g.subscriber_stride = h.subscriber_stride;

  if (g.depth == 0 || g.depth > internal::kMaxDepth || !std::has_single_bit(g.depth)) {
    return Corrupt(segment, absl::StrCat("depth ", g.depth, " is not a power of two <= 65536"));
  }
  if (g.slot_size < 64 || g.slot_size > internal::kMaxSlotSize || g.slot_size % 64 != 0) {
    return Corrupt(segment, absl::StrCat("slot size ", g.slot_size,
                                         " is not a multiple of 64 in 64..65536"));
  }
  g.inline_capacity = g.slot_size - internal::kSlotHeaderSize;
  // A publisher sizes its pool's chunks by this: bound it as
  // ValidateTopicConfig does, or a chunk stride computed from it wraps.
  if (g.max_message_size > (std::uint64_t{1} << 40)) {
    return Corrupt(segment, absl::StrCat("max_message_size ", g.max_message_size,
                                         " exceeds 1 TiB"));
  }
  if (g.max_publishers == 0 || g.max_publishers > internal::kMaxPublishers ||
      g.max_subscribers == 0 || g.max_subscribers > internal::kMaxSubscribers ||
      g.max_held_samples > internal::kMaxHeldSamples) {
    return Corrupt(segment, absl::StrCat("table sizes ", g.max_publishers, "/",
                                         g.max_subscribers, "/", g.max_held_samples,
                                         " exceed 64/512/64"));
  }
  // With the counts bounded above, none of these products can overflow.
  const std::uint64_t min_ring = internal::RingStride(g.depth, g.slot_size);
  const std::uint64_t min_sub =
      internal::SubscriberStride(g.max_publishers, g.max_held_samples);
  const std::uint64_t rings_min = sizeof(SegmentHeader) + sizeof(internal::TopicHeader);
  if (g.rings_offset % 64 != 0 || g.rings_offset < rings_min || g.rings_offset > size ||
      g.ring_stride % 64 != 0 || g.ring_stride < min_ring ||
      g.ring_stride > (size - g.rings_offset) / g.max_publishers) {
    return Corrupt(segment, absl::StrCat("ring table at ", g.rings_offset, " stride ",
                                         g.ring_stride, " does not fit ", size, " bytes"));
  }
  const std::uint64_t rings_end = g.rings_offset + g.ring_stride * g.max_publishers;
  if (g.subscribers_offset % 64 != 0 || g.subscribers_offset < rings_end ||
      g.subscribers_offset > size || g.subscriber_stride % 64 != 0 ||
      g.subscriber_stride < min_sub ||
      g.subscriber_stride > (size - g.subscribers_offset) / g.max_subscribers) {
    return Corrupt(segment, absl::StrCat("subscriber table at ", g.subscribers_offset,
                                         " stride ", g.subscriber_stride,
                                         " does not fit ", size, " bytes"));
  }
  return g;
}

absl::StatusOr<TopicSegment> TopicSegment::Join(const ShmOptions& options,
                                                absl::string_view topic,
                                                const TopicConfig& config) {
  RINGCAST_RETURN_IF_ERROR(ValidateTopicConfig(config));
  RINGCAST_ASSIGN_OR_RETURN(const std::string name, TopicSegmentName(options, topic));
  RINGCAST_ASSIGN_OR_RETURN(
      Segment segment,
      Segment::OpenOrCreate(options, name, SegmentKind::kTopic, SegmentSizeFor(config),
                            [&](std::byte* base, std::uint64_t size) {
                              InitTopic(config, base, size);
                            }));
  RINGCAST_ASSIGN_OR_RETURN(TopicGeometry g, ReadGeometry(segment));
  if (g.type_name != config.type_name || g.type_hash != config.type_hash) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "topic %s carries type %s (hash %016x), not %s (hash %016x); every "
        "endpoint of a topic must use one type",
        topic, g.type_name, g.type_hash, config.type_name, config.type_hash));
  }
  return TopicSegment(std::string(topic), options, std::move(segment), std::move(g));
}

absl::StatusOr<TopicSegment> TopicSegment::Observe(const ShmOptions& options,
                                                   absl::string_view topic) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string name, TopicSegmentName(options, topic));
  RINGCAST_ASSIGN_OR_RETURN(Segment segment, Segment::Open(options, name, SegmentKind::kTopic,
                                                           Segment::Access::kObserver));
  RINGCAST_ASSIGN_OR_RETURN(TopicGeometry g, ReadGeometry(segment));
  return TopicSegment(std::string(topic), options, std::move(segment), std::move(g));
}

absl::StatusOr<TopicSegment> TopicSegment::ObserveSegment(const ShmOptions& options,
                                                          absl::string_view segment_name) {
  RINGCAST_ASSIGN_OR_RETURN(Segment segment, Segment::Open(options, segment_name,
                                                           SegmentKind::kTopic,
                                                           Segment::Access::kObserver));
  RINGCAST_ASSIGN_OR_RETURN(TopicGeometry g, ReadGeometry(segment));
  std::string topic =
      TopicFromSegmentName(options, segment_name).value_or(std::string(segment_name));
  return TopicSegment(std::move(topic), options, std::move(segment), std::move(g));
}

absl::StatusOr<TopicSegment> TopicSegment::AttachSegment(const ShmOptions& options,
                                                         absl::string_view segment_name) {
  RINGCAST_ASSIGN_OR_RETURN(Segment segment, Segment::Open(options, segment_name,
                                                           SegmentKind::kTopic,
                                                           Segment::Access::kParticipant));
  RINGCAST_ASSIGN_OR_RETURN(TopicGeometry g, ReadGeometry(segment));
  std::string topic =
      TopicFromSegmentName(options, segment_name).value_or(std::string(segment_name));
  return TopicSegment(std::move(topic), options, std::move(segment), std::move(g));
}

absl::StatusOr<TopicSegment::RingClaim> TopicSegment::ClaimRing(std::uint64_t token,
                                                                 std::uint64_t pool_id) {
  internal::TopicHeader& h = header();
  LivenessCache live(options_);
  for (std::uint32_t i = 0; i < geometry_.max_publishers; ++i) {
    internal::RingControl& rc = ring_control(i);
    const std::optional<std::uint64_t> epoch =
        internal::TryClaim(rc, token, [&](std::uint64_t t) { return live.IsDead(t); });
    if (!epoch) continue;
    RingClaim claim;
    claim.index = i;
    claim.epoch = *epoch;
    claim.token = token;
    // Relaxed: ids need only be unique, not ordered.
    claim.publisher_id = h.next_endpoint_id.fetch_add(1, std::memory_order_relaxed);
    // Relaxed: the acquire CASes of the claim ordered the previous owner's
    // release, so this is its final head.
    claim.start_seq = ring_hot(i).head.load(std::memory_order_relaxed);
    // A previous owner killed between committing a slot and advancing the
    // head left one complete sample past the head, which readers may have
    // taken: continue after it, never reuse its sequence.
    const auto* slot = reinterpret_cast<const internal::SlotHeader*>(
        slots(i) + (claim.start_seq & (geometry_.depth - 1)) * geometry_.slot_size);
    // Relaxed: ordered by the claim's acquire like the head above.
    if (internal::StampOf(slot->word.load(std::memory_order_relaxed) >> internal::kSizeBits) ==
        internal::StampOf(2 * claim.start_seq + 2)) {
      ++claim.start_seq;
      // Relaxed: published by Activate's release; readers lapped or
      // observing read the head for statistics only.
      ring_hot(i).head.store(claim.start_seq, std::memory_order_relaxed);
    }
    // The previous owner's pool: its samples are about to be overwritten,
    // so the names of its segments go (mappings of them stay valid for
    // samples held).
    if (const std::uint64_t old_pool =
            internal::PoolFamilyOf(rc.pool_id.load(std::memory_order_relaxed));
        old_pool != 0 && old_pool != pool_id) {
      (void)UnlinkPoolFamily(options_, old_pool);
    }
    // Relaxed stores: published by Activate's release.
    rc.publisher_id.store(claim.publisher_id, std::memory_order_relaxed);
    rc.start_seq.store(claim.start_seq, std::memory_order_relaxed);
    rc.owner_pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
    rc.owner_start_time.store(ProcessStartTime(::getpid()), std::memory_order_relaxed);
    rc.pool_id.store(pool_id, std::memory_order_relaxed);
    rc.anomalies.store(0, std::memory_order_relaxed);
    internal::OwnerRecord& record = rc.owners[claim.epoch % internal::kOwnerHistory];
    record.start_seq.store(claim.start_seq, std::memory_order_relaxed);
    record.publisher_id.store(claim.publisher_id, std::memory_order_relaxed);
    if (!internal::Activate(rc, claim.epoch)) continue;  // taken from us: corrupt
    // Release: a reader that sees the new generation rescans and finds us.
    h.ring_generation.fetch_add(1, std::memory_order_release);
    return claim;
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "topic ", topic_, " has all ", geometry_.max_publishers,
      " publisher rings in use by live publishers; raise max_publishers when "
      "the topic is created"));
}

void TopicSegment::ReleaseRing(const RingClaim& claim) {
  if (claim.index >= geometry_.max_publishers) return;
  // Release (inside): the next owner's acquire CAS sees our final head.
  if (internal::ReleaseEntry(ring_control(claim.index), claim.epoch, claim.token)) {
    header().ring_generation.fetch_add(1, std::memory_order_release);
  }
}

absl::StatusOr<TopicSegment::SubscriberClaim> TopicSegment::ClaimSubscriber(
    std::uint64_t token, std::uint32_t flags) {
  internal::TopicHeader& h = header();
  LivenessCache live(options_);
  for (std::uint32_t i = 0; i < geometry_.max_subscribers; ++i) {
    internal::SubscriberControl& sc = subscriber_control(i);
    const std::optional<std::uint64_t> epoch =
        internal::TryClaim(sc, token, [&](std::uint64_t t) { return live.IsDead(t); });
    if (!epoch) continue;
    // Relaxed: ids need only be unique.
    SubscriberClaim claim{i, h.next_endpoint_id.fetch_add(1, std::memory_order_relaxed), *epoch,
                          token};
    // Relaxed stores: published by Activate's release.
    sc.subscriber_id.store(claim.subscriber_id, std::memory_order_relaxed);
    sc.owner_pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
    sc.owner_start_time.store(ProcessStartTime(::getpid()), std::memory_order_relaxed);
    sc.flags.store(flags, std::memory_order_relaxed);
    sc.anomalies.store(0, std::memory_order_relaxed);
    subscriber_counters(i).received.store(0, std::memory_order_relaxed);
    subscriber_counters(i).lost.store(0, std::memory_order_relaxed);
    // The held list is empty: its last owner returned every chunk, or its
    // reclaimer did (clearing each record before returning its chunk).
    // Where the subscriber starts on each ring is fixed before the entry
    // turns active: a publisher that sees this subscriber publishes at or
    // past these cursors, so it never publishes a sample the subscriber
    // will skip (Reader reads them back instead of recomputing them).
    std::atomic<std::uint64_t>* start = cursors(i);
    const bool transient = (flags & internal::kSubscriberTransientLocal) != 0;
    for (std::uint32_t r = 0; r < geometry_.max_publishers; ++r) {
      // Acquire: samples below head are complete.
      const std::uint64_t head = ring_hot(r).head.load(std::memory_order_acquire);
      std::uint64_t back = head > geometry_.depth ? head - geometry_.depth : 0;
      // History starts where the ring still holds its samples' chunks
      // (older ones went back to the pool once every subscriber had passed
      // them). Relaxed: a stale value only starts us earlier, and what we
      // then find recycled is counted lost, never read.
      back = std::clamp(ring_hot(r).retained_from.load(std::memory_order_relaxed), back, head);
      // Relaxed: published by Activate's release.
      start[r].store(transient ? back : head, std::memory_order_relaxed);
    }
    if (!internal::Activate(sc, claim.epoch)) continue;  // taken from us: corrupt
    // Seq_cst: a reliable subscriber's bump must precede its second look at
    // the heads below, like a publisher's head store precedes its look at
    // this generation (Writer::SubscribersChanged).
    h.subscriber_generation.fetch_add(1, std::memory_order_seq_cst);
    if (flags & internal::kSubscriberReliable) {
      // Pairs with the publisher's fence after its head store (futex.h):
      // a light one relies on this. Without membarrier here, a publisher
      // may overwrite a sample or two past our start before it sees us;
      // we would count them lost, never read them torn.
      (void)SleeperFence();
      // A publisher that has not seen the bump yet may have overwritten
      // samples from our start on. It sees the bump before it writes past
      // what we read now, so start no earlier than what it cannot have
      // overwritten: it never passes an unread sample of ours from here.
      for (std::uint32_t r = 0; r < geometry_.max_publishers; ++r) {
        // Acquire: samples below head are complete.
        const std::uint64_t head = ring_hot(r).head.load(std::memory_order_acquire);
        const std::uint64_t safe = head + 1 > geometry_.depth ? head + 1 - geometry_.depth : 0;
        // Relaxed: our own entry; the publisher's acquire of the cursor
        // only needs it eventually, and until then it holds back more.
        if (start[r].load(std::memory_order_relaxed) < safe) {
          start[r].store(safe, std::memory_order_relaxed);
        }
      }
    }
    return claim;
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "topic ", topic_, " has all ", geometry_.max_subscribers,
      " subscriber entries in use by live subscribers; raise max_subscribers "
      "when the topic is created"));
}

void TopicSegment::ReturnHeldChunks(std::uint32_t index) {
  std::atomic<std::uint64_t>* held_list = held(index);
  for (std::uint32_t k = 0; k < geometry_.max_held_samples; ++k) {
    // Relaxed: the entry's owner is dead (or is us); the acquire CAS that
    // took the entry over ordered its writes.
    const std::uint64_t pool_id = held_list[2 * k].load(std::memory_order_relaxed);
    if (pool_id == 0) continue;
    const std::uint64_t packed = held_list[2 * k + 1].load(std::memory_order_relaxed);
    // Clear the record before returning the chunk: if we die in between,
    // the chunk leaks (safe) instead of being returned twice by the next
    // reclaimer (which could free a chunk someone still reads).
    held_list[2 * k].store(0, std::memory_order_relaxed);
    absl::StatusOr<ChunkPool> pool = ChunkPool::Open(options_, pool_id);
    if (pool.ok()) {
      // Release() bounds the index and ignores a stale generation.
      pool->Release(internal::ChunkRef{pool_id, static_cast<std::uint32_t>(packed >> 32),
                                       static_cast<std::uint32_t>(packed), 0});
    }  // a pool that is gone has nobody left to return chunks to
  }
}

void TopicSegment::FreeSubscriberEntry(std::uint32_t index) {
  // Clear its sleeping bit so publishers stop considering it. Relaxed: the
  // bit is advisory; a stray wake-up of a freed doorbell is harmless.
  header().sleeping[index / 64].fetch_and(~(std::uint64_t{1} << (index % 64)),
                                          std::memory_order_relaxed);
  // Flag first, count second (the reverse of CountSleeper): a death in
  // between leaves the count one too high, so publishers fence more than
  // they need, never less. Relaxed: the entry is ours, or its dead owner's
  // writes were ordered by the takeover's acquire CAS; a count that drops
  // late only costs publishers a few more full fences.
  if (subscriber_control(index).flags.fetch_and(~internal::kSubscriberSleeps,
                                                std::memory_order_relaxed) &
      internal::kSubscriberSleeps) {
    header().fenced_sleepers.fetch_sub(1, std::memory_order_relaxed);
  }
}

void TopicSegment::CountSleeper(std::uint32_t index) {
  if (index >= geometry_.max_subscribers) return;
  // Count first, flag second: a death in between leaves the count one too
  // high (safe, see FreeSubscriberEntry), never a flag without its count.
  // Relaxed: the caller's membarrier (SleeperFence(true)) makes the count
  // visible to every publisher before it sleeps.
  header().fenced_sleepers.fetch_add(1, std::memory_order_relaxed);
  subscriber_control(index).flags.fetch_or(internal::kSubscriberSleeps,
                                           std::memory_order_relaxed);
}

void TopicSegment::ReleaseSubscriber(const SubscriberClaim& claim) {
  if (claim.index >= geometry_.max_subscribers) return;
  FreeSubscriberEntry(claim.index);
  if (internal::ReleaseEntry(subscriber_control(claim.index), claim.epoch, claim.token)) {
    header().subscriber_generation.fetch_add(1, std::memory_order_release);
    WakeHeldPublishers();
  }
}

void TopicSegment::WakeHeldPublishers() const {
  // Seq_cst: pairs with a held publisher's fence between raising `waiting`
  // and re-reading the generation: it sees our release or we see its flag.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (std::uint32_t r = 0; r < geometry_.max_publishers; ++r) {
    internal::RingWait& w = ring_wait(r);
    // Relaxed: ordered by the fence above.
    if (w.waiting.load(std::memory_order_relaxed) == 0) continue;
    // Release: the woken publisher's re-read sees the entry freed.
    w.wake.fetch_add(1, std::memory_order_release);
    FutexWake(w.wake);
  }
}

void TopicSegment::CountRingAnomaly(std::uint32_t ring, absl::string_view what) const {
  if (ring < geometry_.max_publishers) {
    // Relaxed: a counter for observers.
    ring_control(ring).anomalies.fetch_add(1, std::memory_order_relaxed);
  }
  WarnOnce(absl::StrCat(segment_.path(), "/ring/", what),
           absl::StrCat("topic ", topic_, " (", segment_.path(), "): ", what,
                        "; refused and counted (see `ringcast topic info` and `ringcast doctor`)"));
}

void TopicSegment::CountSubscriberAnomaly(std::uint32_t subscriber, absl::string_view what) const {
  if (subscriber < geometry_.max_subscribers) {
    // Relaxed: a counter for observers.
    subscriber_control(subscriber).anomalies.fetch_add(1, std::memory_order_relaxed);
  }
  WarnOnce(absl::StrCat(segment_.path(), "/subscriber/", what),
           absl::StrCat("topic ", topic_, " (", segment_.path(), "): ", what,
                        "; refused and counted (see `ringcast topic info` and `ringcast doctor`)"));
}

bool TopicSegment::Leave() {
  if (!segment_.Leave()) return false;
  // We were the last user: nothing can read the rings any more.
  for (std::uint32_t i = 0; i < geometry_.max_publishers; ++i) {
    // Relaxed: every writer of the table has left (we hold no lock now,
    // but nobody can join the unlinked name).
    const std::uint64_t pool_id =
        internal::PoolFamilyOf(ring_control(i).pool_id.load(std::memory_order_relaxed));
    if (pool_id != 0) (void)UnlinkPoolFamily(options_, pool_id);
  }
  return true;
}

std::vector<std::uint64_t> TopicSegment::DrainedPools() const {
  std::vector<std::uint64_t> drained;
  for (std::uint32_t i = 0; i < geometry_.max_publishers; ++i) {
    const internal::RingControl& rc = ring_control(i);
    // Acquire: pairs with the owner's release of the ring; a ring someone
    // owns or is claiming keeps its pool.
    if (StateOf(rc.state.load(std::memory_order_acquire)) != EntryState::kFree) continue;
    const std::uint64_t pool_id = rc.pool_id.load(std::memory_order_relaxed);
    if (internal::PoolFamilyOf(pool_id) == 0) continue;
    // Acquire: the final head of the departed owner.
    const std::uint64_t head = ring_hot(i).head.load(std::memory_order_acquire);
    bool needed = false;
    for (std::uint32_t k = 0; k < geometry_.max_subscribers && !needed; ++k) {
      // Acquire: pairs with the claimer's release of kActive (its cursors).
      if (StateOf(subscriber_control(k).state.load(std::memory_order_acquire)) !=
          EntryState::kActive) {
        continue;
      }
      // Relaxed: a subscriber's own progress; a stale value only keeps the
      // pool a little longer.
      needed = cursors(k)[i].load(std::memory_order_relaxed) < head;
    }
    if (!needed) drained.push_back(pool_id);
  }
  return drained;
}

std::vector<std::string> TopicSegment::UnlinkDrainedPools() {
  std::vector<std::string> unlinked;
  if (!segment_.writable()) return unlinked;
  for (std::uint64_t pool_id : DrainedPools()) {
    for (std::uint32_t i = 0; i < geometry_.max_publishers; ++i) {
      // The CAS makes one process unlink it, and never a new owner's pool
      // (a claimer writes its own id over the old one). Relaxed: the name
      // is the only thing it guards.
      std::uint64_t expected = pool_id;
      if (ring_control(i).pool_id.compare_exchange_strong(expected, 0,
                                                          std::memory_order_relaxed)) {
        for (std::string& name : UnlinkPoolFamily(options_, internal::PoolFamilyOf(pool_id))) {
          unlinked.push_back(std::move(name));
        }
        break;
      }
    }
  }
  return unlinked;
}

int TopicSegment::ReclaimDead() {
  if (!segment_.writable()) return 0;
  absl::StatusOr<std::uint64_t> mine = ProcessToken(options_);
  if (!mine.ok()) return 0;
  LivenessCache live(options_);
  int freed = 0;
  // Entries whose holder is dead are taken over, cleaned and freed (one
  // state machine: entry_state.h).
  auto reclaim = [&](auto& e, auto&& clean) {
    const internal::EntryLook look = internal::LookAt(e);
    return internal::HeldByDead(look, *mine, [&](std::uint64_t t) { return live.IsDead(t); }) &&
           internal::ReclaimFromDead(e, look, *mine, clean);
  };
  for (std::uint32_t i = 0; i < geometry_.max_publishers; ++i) {
    if (reclaim(ring_control(i), [] {})) {
      header().ring_generation.fetch_add(1, std::memory_order_release);
      ++freed;
    }
  }
  for (std::uint32_t i = 0; i < geometry_.max_subscribers; ++i) {
    if (reclaim(subscriber_control(i), [&] {
          ReturnHeldChunks(i);
          FreeSubscriberEntry(i);
        })) {
      header().subscriber_generation.fetch_add(1, std::memory_order_release);
      ++freed;
      WakeHeldPublishers();  // a dead reliable subscriber may have held one
    }
  }
  UnlinkDrainedPools();
  return freed;
}

}  // namespace ringcast::transport
