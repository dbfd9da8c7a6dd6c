// transport/chunk_ref.h: a reference to one chunk of a publisher's pool, as
// a pooled ring slot carries it and a subscriber's held list records it
// (the bytes: pool_layout.h). Apart so that the endpoint headers need no
// layout.
#ifndef RINGCAST_TRANSPORT_CHUNK_REF_H_
#define RINGCAST_TRANSPORT_CHUNK_REF_H_

#include <cstdint>

namespace ringcast::transport::internal {

struct ChunkRef {
  std::uint64_t pool_id = 0;
  std::uint32_t index = 0;
  std::uint32_t generation = 0;
  std::uint64_t size = 0;
};
inline constexpr std::uint32_t kChunkRefBytes = 24;

inline constexpr std::uint64_t PackIndexGeneration(std::uint32_t index, std::uint32_t gen) {
  return std::uint64_t{index} << 32 | gen;
}

}  // namespace ringcast::transport::internal

#endif  // RINGCAST_TRANSPORT_CHUNK_REF_H_
