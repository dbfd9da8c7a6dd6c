// transport/topic_layout.h: the bytes of a topic segment. The tables, the
// structs and the asserts change together; any change of offset, width or
// meaning bumps kLayoutVersion (segment_layout.h).
//
// Segment:  SegmentHeader | TopicHeader | rings[max_publishers] |
//           subscribers[max_subscribers]
//
// TopicHeader (at offset 64; configuration is written once by the creator
// and copied and validated by every opener, never re-read):
//   off  size field                 meaning
//   0    128  type_name             NUL-padded, at most 127 bytes
//   128  8    type_hash             of the message type; 0 = untyped bytes
//   136  4    depth                 slots per ring, a power of two
//   140  4    slot_size             bytes per slot, a multiple of 64
//   144  4    max_publishers        rings in the table
//   148  4    max_subscribers       entries in the subscriber table
//   152  4    max_held_samples      chunks one subscriber may hold at once
//   156  4    reserved0
//   160  8    max_message_size      largest pooled payload; 0 = inline only
//   168  8    rings_offset          from the segment start, 64-aligned
//   176  8    ring_stride           bytes per ring, a multiple of 64
//   184  8    subscribers_offset    from the segment start, 64-aligned
//   192  8    subscriber_stride     bytes per entry, a multiple of 64
//   200  56   reserved
//   256  8    ring_generation       +1 whenever a ring is claimed or freed
//   264  8    subscriber_generation +1 whenever a subscriber entry changes
//   272  8    next_endpoint_id      source of publisher and subscriber ids
//   280  4    fenced_sleepers       subscribers that may sleep: while not 0,
//                                     publishers fence fully (futex.h)
//   284  36   reserved
//   320  64   sleeping[8]           bit i of word i/64: subscriber i sleeps
//
// Ring (ring_stride bytes): RingControl | RingHot | RingWait | depth slots.
// Slot (slot_size bytes):
//   0    8    word        bits 63..24: stamp, the low 40 bits of 2*seq+1
//                         while sample `seq` is written, 2*seq+2 once
//                         complete; bits 23..0: payload size, or
//                         kPooledSize for a chunk reference (the payload
//                         then holds pool id, index << 32 | generation and
//                         size: see pool_layout.h)
//   8    8    publish_ns  CLOCK_REALTIME of the publish (clock.h)
//   16   ...  payload     copied in and out as 8-byte relaxed atomic words
// 40 stamp bits wrap after 2^39 samples of one ring; a reader would have to
// be lapped by exactly that many during one copy to be fooled.
//
// Subscriber entry (subscriber_stride bytes): SubscriberControl | doorbell
// line | SubscriberCounters | cursors[max_publishers] (u64: next sequence to
// read from each ring) | held[max_held_samples] (2 x u64 chunk references,
// see SubscriberCounters), padded to 64.
#ifndef RINGCAST_TRANSPORT_TOPIC_LAYOUT_H_
#define RINGCAST_TRANSPORT_TOPIC_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "transport/entry_state.h"
#include "transport/segment_layout.h"

namespace ringcast::transport::internal {

inline constexpr std::uint32_t kMaxDepth = 1u << 16;
inline constexpr std::uint32_t kMaxSlotSize = 64u << 10;
inline constexpr std::uint32_t kMaxPublishers = 64;
inline constexpr std::uint32_t kMaxSubscribers = 512;
inline constexpr std::uint32_t kMaxHeldSamples = 64;
inline constexpr std::size_t kTypeNameSize = 128;
inline constexpr std::uint32_t kSlotHeaderSize = 16;
inline constexpr std::uint32_t kSizeBits = 24;
inline constexpr std::uint32_t kPooledSize = (1u << kSizeBits) - 1;
inline constexpr std::uint64_t kStampMask = (std::uint64_t{1} << 40) - 1;

struct alignas(kCacheLine) TopicHeader {
  char type_name[kTypeNameSize];
  std::uint64_t type_hash;
  std::uint32_t depth;
  std::uint32_t slot_size;
  std::uint32_t max_publishers;
  std::uint32_t max_subscribers;
  std::uint32_t max_held_samples;
  std::uint32_t reserved0;
  std::uint64_t max_message_size;
  std::uint64_t rings_offset;
  std::uint64_t ring_stride;
  std::uint64_t subscribers_offset;
  std::uint64_t subscriber_stride;
  std::uint8_t reserved1[56];
  std::atomic<std::uint64_t> ring_generation;
  std::atomic<std::uint64_t> subscriber_generation;
  std::atomic<std::uint64_t> next_endpoint_id;
  // Subscriber entries flagged kSubscriberSleeps. On the line publishers
  // read per publish anyway (subscriber_generation), written only when a
  // subscriber first sleeps or its entry is freed.
  std::atomic<std::uint32_t> fenced_sleepers;
  std::uint8_t reserved2[36];
  std::atomic<std::uint64_t> sleeping[kMaxSubscribers / 64];
};
static_assert(std::is_standard_layout_v<TopicHeader> &&
              std::is_trivially_destructible_v<TopicHeader>);
static_assert(sizeof(TopicHeader) == 384);
static_assert(offsetof(TopicHeader, type_hash) == 128);
static_assert(offsetof(TopicHeader, depth) == 136);
static_assert(offsetof(TopicHeader, slot_size) == 140);
static_assert(offsetof(TopicHeader, max_publishers) == 144);
static_assert(offsetof(TopicHeader, max_subscribers) == 148);
static_assert(offsetof(TopicHeader, max_held_samples) == 152);
static_assert(offsetof(TopicHeader, max_message_size) == 160);
static_assert(offsetof(TopicHeader, rings_offset) == 168);
static_assert(offsetof(TopicHeader, ring_stride) == 176);
static_assert(offsetof(TopicHeader, subscribers_offset) == 184);
static_assert(offsetof(TopicHeader, subscriber_stride) == 192);
static_assert(offsetof(TopicHeader, subscriber_generation) == 264);
static_assert(offsetof(TopicHeader, next_endpoint_id) == 272);
static_assert(offsetof(TopicHeader, fenced_sleepers) == 280);
static_assert(offsetof(TopicHeader, ring_generation) == 256,
              "generations sit on their own line, apart from the config");
static_assert(offsetof(TopicHeader, sleeping) == 320,
              "the sleeping mask is the one line a publisher reads per publish");

// Lines 0-1 of a ring: who owns it, and who owned it. Written on claim,
// release and reclaim only (entry_state.h has the state machine).
//   0 state, 8 token, 16 publisher_id, 24 start_seq (the first sequence
//   this owner publishes), 32 owner_pid, 40 owner_start_time, 48 pool_id
//   (the owner's chunk pool, see pool_layout.h; 0 = none), 56 anomalies
//   (corrupt values this ring's publisher met and refused), 64 owners[4]: {start_seq, publisher_id} of the owner of epoch e at
//   index e % 4, so a reader that missed a few claims still attributes the
//   samples left in the ring to the right publisher.
inline constexpr std::uint32_t kOwnerHistory = 4;
struct OwnerRecord {
  std::atomic<std::uint64_t> start_seq;
  std::atomic<std::uint64_t> publisher_id;
};
struct alignas(kCacheLine) RingControl {
  std::atomic<std::uint64_t> state;
  std::atomic<std::uint64_t> token;
  std::atomic<std::uint64_t> publisher_id;
  std::atomic<std::uint64_t> start_seq;
  std::atomic<std::uint32_t> owner_pid;
  std::uint32_t reserved0;
  std::atomic<std::uint64_t> owner_start_time;
  std::atomic<std::uint64_t> pool_id;  // the owner's chunk pool; 0 = none
  std::atomic<std::uint64_t> anomalies;
  OwnerRecord owners[kOwnerHistory];
};
static_assert(sizeof(RingControl) == 128);
static_assert(offsetof(RingControl, token) == 8);
static_assert(offsetof(RingControl, publisher_id) == 16);
static_assert(offsetof(RingControl, start_seq) == 24);
static_assert(offsetof(RingControl, owner_pid) == 32);
static_assert(offsetof(RingControl, anomalies) == 56);
static_assert(offsetof(RingControl, owner_start_time) == 40);
static_assert(offsetof(RingControl, pool_id) == 48);
static_assert(offsetof(RingControl, owners) == 64);

// Line 2 of a ring: written by its one publisher on every publish, read by
// observers and by lapped subscribers.
//   0 head (next sequence to write), 8 bytes (payload bytes ever published
//   on this ring), 16 last_publish_ns, 24 retained_from (the oldest
//   sequence whose chunk the ring still holds: older pooled samples were
//   passed by every subscriber and their chunks went back to the pool).
struct alignas(kCacheLine) RingHot {
  std::atomic<std::uint64_t> head;
  std::atomic<std::uint64_t> bytes;
  std::atomic<std::int64_t> last_publish_ns;
  std::atomic<std::uint64_t> retained_from;
  std::uint8_t reserved[32];
};
static_assert(sizeof(RingHot) == 64);
static_assert(offsetof(RingHot, bytes) == 8);
static_assert(offsetof(RingHot, last_publish_ns) == 16);
static_assert(offsetof(RingHot, retained_from) == 24);

// Line 3 of a ring: how a publisher held back by a reliable subscriber
// sleeps. Written by the publisher only while it waits (so reliable
// subscribers, who read `waiting` after every advance, keep the line
// shared and cached), and by a reliable subscriber only to wake it.
//   0 wake (futex word: reliable subscribers add one when they advance
//   while `waiting` is set), 4 waiting (non-zero while the publisher is
//   about to sleep or sleeps).
struct alignas(kCacheLine) RingWait {
  std::atomic<std::uint32_t> wake;
  std::atomic<std::uint32_t> waiting;
  std::uint8_t reserved[56];
};
static_assert(sizeof(RingWait) == 64);
static_assert(offsetof(RingWait, waiting) == 4);

struct SlotHeader {
  std::atomic<std::uint64_t> word;
  std::atomic<std::int64_t> publish_ns;
};
static_assert(sizeof(SlotHeader) == kSlotHeaderSize);
static_assert(offsetof(SlotHeader, publish_ns) == 8);

inline constexpr std::uint64_t StampOf(std::uint64_t x) { return x & kStampMask; }
inline constexpr std::uint64_t SlotWord(std::uint64_t stamp, std::uint32_t size) {
  return StampOf(stamp) << kSizeBits | size;
}

// Line 0 of a subscriber entry: who owns it. Written on claim, release and
// reclaim (and on the rare anomaly).
//   0 state, 8 token, 16 subscriber_id, 24 owner_pid, 28 flags,
//   32 owner_start_time, 40 anomalies (corrupt values this subscriber met
//   and refused).
struct alignas(kCacheLine) SubscriberControl {
  std::atomic<std::uint64_t> state;
  std::atomic<std::uint64_t> token;
  std::atomic<std::uint64_t> subscriber_id;
  std::atomic<std::uint32_t> owner_pid;
  std::atomic<std::uint32_t> flags;
  std::atomic<std::uint64_t> owner_start_time;
  std::atomic<std::uint64_t> anomalies;
  std::uint8_t reserved[16];
};
static_assert(sizeof(SubscriberControl) == 64);
static_assert(offsetof(SubscriberControl, token) == 8);
static_assert(offsetof(SubscriberControl, subscriber_id) == 16);
static_assert(offsetof(SubscriberControl, owner_pid) == 24);
static_assert(offsetof(SubscriberControl, flags) == 28);
static_assert(offsetof(SubscriberControl, owner_start_time) == 32);
static_assert(offsetof(SubscriberControl, anomalies) == 40);
inline constexpr std::uint32_t kSubscriberReliable = 1u << 0;
inline constexpr std::uint32_t kSubscriberTransientLocal = 1u << 1;
// Set once the subscriber has slept, and counted in fenced_sleepers.
inline constexpr std::uint32_t kSubscriberSleeps = 1u << 2;

// Line 1: the doorbell a sleeping subscriber waits on. Publishers add one
// and wake it; apart so that ringing it never disturbs the counters.
struct alignas(kCacheLine) Doorbell {
  std::atomic<std::uint32_t> word;
  std::uint8_t reserved[60];
};
static_assert(sizeof(Doorbell) == 64 && offsetof(Doorbell, word) == 0);

// Line 2 onward: written by the subscriber on every take, read by anyone.
//   0 received, 8 lost, 16 cursors[max_publishers], then held[max_held]:
//   the chunks the subscriber holds, {pool id, index << 32 | generation}
//   (pool id 0 = empty), so whoever reclaims a dead subscriber's entry can
//   return them.
struct SubscriberCounters {
  std::atomic<std::uint64_t> received;
  std::atomic<std::uint64_t> lost;
};
static_assert(sizeof(SubscriberCounters) == 16);
static_assert(offsetof(SubscriberCounters, lost) == 8);

inline constexpr std::uint64_t kSubscriberCountersOffset = 128;
inline constexpr std::uint64_t kSubscriberCursorsOffset = 144;

inline constexpr std::uint64_t RingStride(std::uint32_t depth, std::uint32_t slot_size) {
  return sizeof(RingControl) + sizeof(RingHot) + sizeof(RingWait) +
         std::uint64_t{depth} * slot_size;
}
inline constexpr std::uint64_t SubscriberStride(std::uint32_t max_publishers,
                                                std::uint32_t max_held) {
  return RoundUp64(kSubscriberCursorsOffset + 8ull * max_publishers + 16ull * max_held);
}

}  // namespace ringcast::transport::internal

#endif  // RINGCAST_TRANSPORT_TOPIC_LAYOUT_H_
