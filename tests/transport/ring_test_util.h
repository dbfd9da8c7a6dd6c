// Helpers shared by the multi-process ring tests: payloads that check
// themselves, and waits on what the shared counters say.
#ifndef RINGCAST_TESTS_TRANSPORT_RING_TEST_UTIL_H_
#define RINGCAST_TESTS_TRANSPORT_RING_TEST_UTIL_H_

#include <algorithm>
#include <thread>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/time/clock.h"
#include "transport/reader.h"
#include "transport/topic.h"
#include "transport/topic_layout.h"
#include "transport/writer.h"

namespace ringcast::transport::test {

// A `size`-byte payload whose every 8-byte word is `tag`.
inline std::vector<std::byte> Payload(std::uint64_t tag, std::size_t size = 48) {
  std::vector<std::byte> b(size);
  for (std::size_t i = 0; i + 8 <= size; i += 8) std::memcpy(b.data() + i, &tag, 8);
  return b;
}

// The tag of a payload made by Payload(), or ~0 if its words disagree.
inline std::uint64_t TagOf(const std::vector<std::byte>& b) {
  if (b.size() < 8) return ~std::uint64_t{0};
  std::uint64_t tag;
  std::memcpy(&tag, b.data(), 8);
  for (std::size_t i = 8; i + 8 <= b.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, b.data() + i, 8);
    if (v != tag) return ~std::uint64_t{0};
  }
  return tag;
}

// Active subscriber entries of a topic.
inline int ActiveSubscribers(const TopicSegment& t) {
  int n = 0;
  for (std::uint32_t i = 0; i < t.geometry().max_subscribers; ++i) {
    // Acquire: pairs with the claimer's release of kActive.
    const std::uint64_t s = t.subscriber_control(i).state.load(std::memory_order_acquire);
    n += internal::StateOf(s) == internal::EntryState::kActive;
  }
  return n;
}

// Waits until `n` subscribers are active; false after `timeout`.
inline bool AwaitSubscribers(const TopicSegment& t, int n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (ActiveSubscribers(t) < n) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

// Test-side flow control through the shared cursors: waits until every
// active subscriber has read ring `ring` up to at least `seq`. The ring
// itself is best effort; this lets a test prove "no loss when they keep
// up". False after `timeout`.
inline bool AwaitCursors(const TopicSegment& t, std::uint32_t ring, std::uint64_t seq,
                         absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    bool all = true;
    for (std::uint32_t i = 0; i < t.geometry().max_subscribers && all; ++i) {
      const std::uint64_t s = t.subscriber_control(i).state.load(std::memory_order_acquire);
      if (internal::StateOf(s) != internal::EntryState::kActive) continue;
      // Relaxed: an advisory reading; a stale cursor only makes us wait.
      all = t.cursors(i)[ring].load(std::memory_order_relaxed) >= seq;
    }
    if (all) return true;
    if (absl::Now() > deadline) return false;
    std::this_thread::yield();
  }
}

// A message of `bytes.size()` bytes for `seed`: word i is seed * K ^ i (a
// pattern that fills and checks at memory speed), and the last 8 bytes
// carry the seed.
constexpr std::uint64_t kMix = 0x9E3779B97F4A7C15ull;

inline void FillMessage(absl::Span<std::byte> bytes, std::uint64_t seed) {
  if (bytes.size() < 8) return;
  const std::size_t words = bytes.size() / 8 - 1;
  auto* w = reinterpret_cast<std::uint64_t*>(bytes.data());
  for (std::size_t i = 0; i < words; ++i) w[i] = seed * kMix ^ i;
  std::memcpy(bytes.data() + bytes.size() - 8, &seed, 8);
}

inline bool VerifyMessage(absl::Span<const std::byte> bytes, std::uint64_t seed) {
  if (bytes.size() < 8) return false;
  std::uint64_t carried;
  std::memcpy(&carried, bytes.data() + bytes.size() - 8, 8);
  const std::size_t words = bytes.size() / 8 - 1;
  const auto* w = reinterpret_cast<const std::uint64_t*>(bytes.data());
  std::uint64_t bad = carried ^ seed;
  for (std::size_t i = 0; i < words; ++i) bad |= w[i] ^ (seed * kMix ^ i);
  return bad == 0;
}

}  // namespace ringcast::transport::test

#endif  // RINGCAST_TESTS_TRANSPORT_RING_TEST_UTIL_H_
