// transport/segment_layout.h: the header every ringcast segment starts with.
// The table, the struct and the asserts change together; any change of
// offset, width or meaning bumps kLayoutVersion.
//   off size field               meaning
//   0   8    magic               kSegmentMagic, release-stored LAST by the
//                                creator; 0 = creator died mid-initialisation
//   8   4    layout_version      kLayoutVersion of the creator
//   12  4    kind                SegmentKind
//   16  8    total_size          bytes the creator allocated
//   24  4    creator_pid         + creator_start_time identify a process
//   28  4    header_size         bytes of the kind-specific header that
//                                follows this one (lets headers grow)
//   32  8    creator_start_time  field 22 of /proc/<pid>/stat
//   40  4    initialised         futex word: 0 while the creator initialises,
//                                1 once the magic is stored; the creator
//                                wakes its waiters when it sets it (the
//                                magic stays the truth, this only wakes)
//   44  20   reserved            0; room to grow
#ifndef RINGCAST_TRANSPORT_SEGMENT_LAYOUT_H_
#define RINGCAST_TRANSPORT_SEGMENT_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ringcast::transport {

inline constexpr std::uint64_t kSegmentMagic = 0x5453414347474E52;  // "RNGGCAST"
// 2: entries take their token before leaving Free (entry_state.h); rings
// and subscriber entries count anomalies.
// 3: the header's `initialised` futex word, which openers wait on.
// 4: a ring's RingWait line (reliable publishers sleep on it) and
// RingHot::retained_from (chunks the ring gave back early).
// 5: TopicHeader::fenced_sleepers and the kSubscriberSleeps flag: a
// publisher fences fully while a subscriber of the topic may sleep.
// 6: pools grow: a publisher's pool is a family of segments (pool ids'
// low 12 bits name size class and ordinal), and PoolHeader::retired.
inline constexpr std::uint32_t kLayoutVersion = 6;
inline constexpr std::size_t kCacheLine = 64;  // ABI: not hardware_*_size

enum class SegmentKind : std::uint32_t { kRegistry = 1, kTopic = 2, kPool = 3 };

const char* SegmentKindName(SegmentKind kind);

struct alignas(kCacheLine) SegmentHeader {
  std::atomic<std::uint64_t> magic;
  std::uint32_t layout_version;
  SegmentKind kind;
  std::uint64_t total_size;
  std::uint32_t creator_pid;
  std::uint32_t header_size;
  std::uint64_t creator_start_time;
  std::atomic<std::uint32_t> initialised;
  std::uint8_t reserved[20];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "shared atomics must not hide a process-local lock");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::is_standard_layout_v<SegmentHeader> &&
              std::is_trivially_destructible_v<SegmentHeader>);
static_assert(sizeof(SegmentHeader) == 64 && alignof(SegmentHeader) == 64);
static_assert(offsetof(SegmentHeader, layout_version) == 8);
static_assert(offsetof(SegmentHeader, kind) == 12);
static_assert(offsetof(SegmentHeader, total_size) == 16);
static_assert(offsetof(SegmentHeader, creator_pid) == 24);
static_assert(offsetof(SegmentHeader, header_size) == 28);
static_assert(offsetof(SegmentHeader, creator_start_time) == 32);
static_assert(offsetof(SegmentHeader, initialised) == 40 &&
              sizeof(std::atomic<std::uint32_t>) == 4, "a futex word is 32 bits");

namespace internal {
// Rounds up to a whole cache line: every table entry starts on one.
inline constexpr std::uint64_t RoundUp64(std::uint64_t x) {
  return (x + 63) & ~std::uint64_t{63};
}
}  // namespace internal

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_SEGMENT_LAYOUT_H_
