// transport/inspect.cc: copies a topic segment's tables into the plain
// values of inspect.h, read-only and without a lock. Every index below is
// bounded by the geometry validated when the segment was mapped, never by
// a value read from shared memory.
#include "transport/inspect.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/liveness.h"
#include "transport/pool.h"
#include "transport/topic.h"
#include "transport/topic_layout.h"

namespace ringcast::transport {
namespace {

using internal::EntryState;
using internal::StateOf;

// A copy of an entry whose state word moved under it is taken again, this
// many times at most; an entry that keeps moving (or is scribbled on) is
// left out of the snapshot.
constexpr int kCopyAttempts = 4;

EntryPhase PhaseOf(std::uint64_t state_word) {
  switch (StateOf(state_word)) {
    case EntryState::kFree: return EntryPhase::kFree;
    case EntryState::kClaiming: return EntryPhase::kClaiming;
    case EntryState::kActive: return EntryPhase::kActive;
  }
  return EntryPhase::kCorrupt;
}

// The owner fields of ring `i`, copied seqlock-style, or nullopt if the
// ring is free (or would not hold still). Fills `pool_id` even for a free
// ring: a departed owner's pool stays named.
std::optional<RingSnapshot> CopyRing(const TopicSegment& t, std::uint32_t i,
                                     LivenessCache& live, std::uint64_t* pool_id) {
  const internal::RingControl& rc = t.ring_control(i);
  for (int attempt = 0; attempt < kCopyAttempts; ++attempt) {
    // Acquire: pairs with the release that last moved the state (Activate,
    // ReleaseEntry, FreeTakenOver), so the fields its holder wrote before
    // it are visible.
    const std::uint64_t before = rc.state.load(std::memory_order_acquire);
    RingSnapshot r;
    r.index = i;
    r.state = PhaseOf(before);
    // Relaxed: ordered by the acquire above; the re-check below drops a
    // copy that raced a claim, release or reclaim.
    *pool_id = rc.pool_id.load(std::memory_order_relaxed);
    if (r.state == EntryPhase::kFree) return std::nullopt;
    const std::uint64_t token = rc.token.load(std::memory_order_relaxed);
    r.publisher_id = rc.publisher_id.load(std::memory_order_relaxed);
    r.start_seq = rc.start_seq.load(std::memory_order_relaxed);
    r.owner_pid = rc.owner_pid.load(std::memory_order_relaxed);
    r.pool_id = *pool_id;
    r.anomalies = rc.anomalies.load(std::memory_order_relaxed);
    // Acquire fence, then re-load (seqlock, as Reader and Registry::Read
    // do): a field above that a later holder wrote was written after it
    // moved the state word, which the re-load then sees.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (rc.state.load(std::memory_order_relaxed) != before) continue;
    r.owner_alive = live.IsAlive(token);
    return r;
  }
  return std::nullopt;
}

// The complete samples still in ring `i` below `head`, oldest first.
std::vector<SlotSample> RecentSamples(const TopicSegment& t, std::uint32_t i,
                                      std::uint64_t head) {
  const TopicGeometry& g = t.geometry();
  std::vector<SlotSample> out;
  const std::uint64_t first = head > g.depth ? head - g.depth : 0;
  out.reserve(static_cast<std::size_t>(head - first));
  for (std::uint64_t seq = first; seq < head; ++seq) {
    // (seq & (depth - 1)) * slot_size < depth * slot_size <= the ring's
    // stride: inside the ring whatever `head` says.
    const auto* slot = reinterpret_cast<const internal::SlotHeader*>(
        t.slots(i) + (seq & (g.depth - 1)) * g.slot_size);
    // Acquire: pairs with the writer's release store of the even stamp, so
    // the publish time and the size words read below are that sample's.
    const std::uint64_t word = slot->word.load(std::memory_order_acquire);
    if (internal::StampOf(word >> internal::kSizeBits) != internal::StampOf(2 * seq + 2)) {
      continue;  // overwritten by a later sample, or being written
    }
    SlotSample s;
    s.sequence = seq;
    // Relaxed: ordered by the acquire above, checked by the re-load below.
    s.publish_ns = slot->publish_ns.load(std::memory_order_relaxed);
    const std::uint32_t size_field = static_cast<std::uint32_t>(word) & internal::kPooledSize;
    s.pooled = size_field == internal::kPooledSize;
    if (s.pooled) {
      // The reference's third word is the message size (pool_layout.h);
      // slots are at least 64 bytes, so it lies inside the slot.
      const auto* ref = reinterpret_cast<const std::atomic<std::uint64_t>*>(slot + 1);
      s.size = ref[2].load(std::memory_order_relaxed);
    } else {
      s.size = size_field;
    }
    // Acquire fence, then re-load: pairs with the writer's release fence
    // after it marks the slot odd; a copy that raced a rewrite sees the
    // changed word and is dropped (a torn slot is skipped).
    std::atomic_thread_fence(std::memory_order_acquire);
    if (slot->word.load(std::memory_order_relaxed) != word) continue;
    // A size no publisher could have written is a scribble: not a sample.
    if (s.pooled ? s.size > g.max_message_size : s.size > g.inline_capacity) continue;
    out.push_back(s);
  }
  return out;
}

// The owner fields of subscriber entry `i`, copied seqlock-style, or
// nullopt if it is free (or would not hold still).
std::optional<SubscriberSnapshot> CopySubscriber(const TopicSegment& t, std::uint32_t i,
                                                 LivenessCache& live) {
  const internal::SubscriberControl& sc = t.subscriber_control(i);
  for (int attempt = 0; attempt < kCopyAttempts; ++attempt) {
    // Acquire: pairs with the release that last moved the state, as for
    // rings above.
    const std::uint64_t before = sc.state.load(std::memory_order_acquire);
    SubscriberSnapshot s;
    s.index = i;
    s.state = PhaseOf(before);
    if (s.state == EntryPhase::kFree) return std::nullopt;
    // Relaxed: ordered by the acquire above, checked by the re-load below.
    const std::uint64_t token = sc.token.load(std::memory_order_relaxed);
    s.subscriber_id = sc.subscriber_id.load(std::memory_order_relaxed);
    s.owner_pid = sc.owner_pid.load(std::memory_order_relaxed);
    const std::uint32_t flags = sc.flags.load(std::memory_order_relaxed);
    s.anomalies = sc.anomalies.load(std::memory_order_relaxed);
    // Acquire fence, then re-load: as in CopyRing.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (sc.state.load(std::memory_order_relaxed) != before) continue;
    s.reliable = (flags & internal::kSubscriberReliable) != 0;
    s.transient_local = (flags & internal::kSubscriberTransientLocal) != 0;
    s.owner_alive = live.IsAlive(token);
    return s;
  }
  return std::nullopt;
}

}  // namespace

const char* EntryPhaseName(EntryPhase phase) {
  switch (phase) {
    case EntryPhase::kFree: return "free";
    case EntryPhase::kClaiming: return "claiming";
    case EntryPhase::kActive: return "active";
    case EntryPhase::kCorrupt: return "corrupt";
  }
  return "corrupt";
}

const RingSnapshot* TopicSnapshot::ring(std::uint32_t index) const {
  auto it = std::lower_bound(rings.begin(), rings.end(), index,
                             [](const RingSnapshot& r, std::uint32_t i) { return r.index < i; });
  return it != rings.end() && it->index == index ? &*it : nullptr;
}

const SubscriberSnapshot* TopicSnapshot::subscriber(std::uint32_t index) const {
  auto it = std::lower_bound(
      subscribers.begin(), subscribers.end(), index,
      [](const SubscriberSnapshot& s, std::uint32_t i) { return s.index < i; });
  return it != subscribers.end() && it->index == index ? &*it : nullptr;
}

TopicObserver::TopicObserver(std::unique_ptr<TopicSegment> segment)
    : segment_(std::move(segment)) {}
TopicObserver::TopicObserver(TopicObserver&&) noexcept = default;
TopicObserver& TopicObserver::operator=(TopicObserver&&) noexcept = default;
TopicObserver::~TopicObserver() = default;

absl::StatusOr<TopicObserver> TopicObserver::Open(const ShmOptions& options,
                                                  absl::string_view topic) {
  absl::StatusOr<TopicSegment> t = TopicSegment::Observe(options, topic);
  if (!t.ok()) return t.status();
  return TopicObserver(std::make_unique<TopicSegment>(*std::move(t)));
}

absl::StatusOr<TopicObserver> TopicObserver::OpenSegment(const ShmOptions& options,
                                                         absl::string_view segment_name) {
  absl::StatusOr<TopicSegment> t = TopicSegment::ObserveSegment(options, segment_name);
  if (!t.ok()) return t.status();
  return TopicObserver(std::make_unique<TopicSegment>(*std::move(t)));
}

const std::string& TopicObserver::topic() const { return segment_->topic(); }

const std::string& TopicObserver::segment_name() const { return segment_->segment().name(); }

TopicSnapshot TopicObserver::Snapshot(bool with_recent, bool with_pools) const {
  const TopicSegment& t = *segment_;
  const TopicGeometry& g = t.geometry();
  TopicSnapshot s;
  s.topic = t.topic();
  s.segment = t.segment().name();
  s.type_name = g.type_name;
  s.type_hash = g.type_hash;
  s.depth = g.depth;
  s.slot_size = g.slot_size;
  s.inline_capacity = g.inline_capacity;
  s.max_publishers = g.max_publishers;
  s.max_subscribers = g.max_subscribers;
  s.max_held_samples = g.max_held_samples;
  s.max_message_size = g.max_message_size;
  s.segment_bytes = t.segment().size();
  // A look: a dead owner's liveness file is left for a reclaimer to remove.
  LivenessCache live(t.options(), /*look_only=*/true);

  std::vector<std::uint64_t> heads(g.max_publishers, 0);
  std::vector<bool> active(g.max_publishers, false);
  for (std::uint32_t i = 0; i < g.max_publishers; ++i) {
    const internal::RingHot& hot = t.ring_hot(i);
    // Relaxed: statistics the publisher stores on every publish; a slightly
    // stale figure is fine (`recent` checks every slot's own stamp).
    heads[i] = hot.head.load(std::memory_order_relaxed);
    std::uint64_t pool_id = 0;
    std::optional<RingSnapshot> r = CopyRing(t, i, live, &pool_id);
    if (pool_id != 0 &&
        std::find(s.named_pools.begin(), s.named_pools.end(), pool_id) == s.named_pools.end()) {
      s.named_pools.push_back(pool_id);
    }
    if (!r) continue;
    active[i] = r->state == EntryPhase::kActive;
    r->head = heads[i];
    r->samples = heads[i] >= r->start_seq ? heads[i] - r->start_seq : 0;
    // Relaxed: statistics, as the head above.
    r->bytes = hot.bytes.load(std::memory_order_relaxed);
    r->last_publish_ns = hot.last_publish_ns.load(std::memory_order_relaxed);
    if (with_recent) r->recent = RecentSamples(t, i, heads[i]);
    if (with_pools && active[i] && internal::PoolFamilyOf(r->pool_id) != 0) {
      r->pool = ObservePoolFamily(t.options(), internal::PoolFamilyOf(r->pool_id));
      r->pool.planned_bytes = g.max_message_size * t.PoolChunks();
      s.pool_bytes += r->pool.committed_bytes;
    }
    s.rings.push_back(std::move(*r));
  }

  const internal::TopicHeader& h = t.header();
  for (std::uint32_t i = 0; i < g.max_subscribers; ++i) {
    std::optional<SubscriberSnapshot> sub = CopySubscriber(t, i, live);
    if (!sub) continue;
    // Relaxed: the subscriber's own counters and cursors, for observers;
    // stale figures are fine. i < max_subscribers <= 512 keeps i / 64
    // inside the sleeping mask.
    const internal::SubscriberCounters& c = t.subscriber_counters(i);
    sub->received = c.received.load(std::memory_order_relaxed);
    sub->lost = c.lost.load(std::memory_order_relaxed);
    sub->sleeping =
        (h.sleeping[i / 64].load(std::memory_order_relaxed) >> (i % 64) & 1) != 0;
    const std::atomic<std::uint64_t>* cursors = t.cursors(i);
    for (std::uint32_t r = 0; r < g.max_publishers; ++r) {
      const std::uint64_t cursor = cursors[r].load(std::memory_order_relaxed);
      if (active[r] && cursor < heads[r]) sub->lag += heads[r] - cursor;
    }
    const std::atomic<std::uint64_t>* held = t.held(i);
    for (std::uint32_t k = 0; k < g.max_held_samples; ++k) {
      sub->chunks_held += held[2 * k].load(std::memory_order_relaxed) != 0;
    }
    s.subscribers.push_back(std::move(*sub));
  }
  s.drained_pools = t.DrainedPools();
  return s;
}

std::vector<RingCounters> TopicObserver::Counters() const {
  const TopicSegment& t = *segment_;
  std::vector<RingCounters> out(t.geometry().max_publishers);
  for (std::uint32_t i = 0; i < out.size(); ++i) {
    RingCounters& c = out[i];
    c.index = i;
    // Acquire: pairs with the claimer's release of kActive, so the
    // publisher id read below is the owner's.
    c.active = StateOf(t.ring_control(i).state.load(std::memory_order_acquire)) ==
               EntryState::kActive;
    // Relaxed: ordered by the acquire above (the id), or statistics the
    // publisher stores on every publish (the rest).
    c.publisher_id = t.ring_control(i).publisher_id.load(std::memory_order_relaxed);
    const internal::RingHot& hot = t.ring_hot(i);
    c.head = hot.head.load(std::memory_order_relaxed);
    c.bytes = hot.bytes.load(std::memory_order_relaxed);
    c.last_publish_ns = hot.last_publish_ns.load(std::memory_order_relaxed);
  }
  return out;
}

std::uint32_t TopicObserver::ActiveSubscribers() const {
  const TopicSegment& t = *segment_;
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < t.geometry().max_subscribers; ++i) {
    // Acquire: pairs with the claimer's release of kActive, so a sample
    // published after this look is published at or past the cursors the
    // subscriber started from.
    n += StateOf(t.subscriber_control(i).state.load(std::memory_order_acquire)) ==
         EntryState::kActive;
  }
  return n;
}

absl::StatusOr<TopicSnapshot> SnapshotTopic(const ShmOptions& options, absl::string_view topic,
                                            bool with_recent) {
  absl::StatusOr<TopicObserver> observer = TopicObserver::Open(options, topic);
  if (!observer.ok()) return observer.status();
  return observer->Snapshot(with_recent);
}

}  // namespace ringcast::transport
