// transport/words.h: copying payloads in and out of seqlocked slots as
// 8-byte relaxed atomic words. A plain memcpy of a slot that a writer may be
// overwriting is a data race (and ThreadSanitizer says so); relaxed atomic
// words compile to the same moves on x86-64 and are race-free by the model.
// The seqlock re-check after the copy decides whether the bytes are kept.
#ifndef RINGCAST_TRANSPORT_WORDS_H_
#define RINGCAST_TRANSPORT_WORDS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ringcast::transport::internal {

// Writes `n` bytes from `src` into the words at `dst` (rounded up to whole
// words; the tail of the last word is zero).
inline void StoreWordsRelaxed(const std::byte* src, std::size_t n,
                              std::atomic<std::uint64_t>* dst) {
  const std::size_t full = n / 8;
  for (std::size_t i = 0; i < full; ++i) {
    std::uint64_t w;
    std::memcpy(&w, src + 8 * i, 8);
    dst[i].store(w, std::memory_order_relaxed);
  }
  if (const std::size_t rest = n % 8; rest != 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, src + 8 * full, rest);
    dst[full].store(w, std::memory_order_relaxed);
  }
}

// Reads `n` bytes from the words at `src` into `dst`.
inline void LoadWordsRelaxed(const std::atomic<std::uint64_t>* src, std::size_t n,
                             std::byte* dst) {
  const std::size_t full = n / 8;
  for (std::size_t i = 0; i < full; ++i) {
    const std::uint64_t w = src[i].load(std::memory_order_relaxed);
    std::memcpy(dst + 8 * i, &w, 8);
  }
  if (const std::size_t rest = n % 8; rest != 0) {
    const std::uint64_t w = src[full].load(std::memory_order_relaxed);
    std::memcpy(dst + 8 * full, &w, rest);
  }
}

}  // namespace ringcast::transport::internal

#endif  // RINGCAST_TRANSPORT_WORDS_H_
