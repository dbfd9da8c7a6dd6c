// transport/pool_options.h: how a publisher's chunk pool starts, grows and
// shrinks (pool_chain.h), and what it commits. Apart so that the endpoint headers need no pool.
#ifndef RINGCAST_TRANSPORT_POOL_OPTIONS_H_
#define RINGCAST_TRANSPORT_POOL_OPTIONS_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace ringcast::transport {

struct PoolChainOptions {
  // Chunks of a size class's first segment; each later segment doubles the
  // class (at most up to the planned bound).
  std::uint32_t initial_chunks = 2;
  // A segment whose chunks have all stayed free this long is released
  // (but never the first segment of a class).
  absl::Duration idle = absl::Seconds(5);
};

// What a publisher's pool commits now (its chain's segments), for `topic
// info`, `doctor` and tests.
struct PoolUse {
  struct SizeClass {
    std::uint64_t chunk_size = 0;
    std::uint32_t chunks = 0;  // committed
    std::uint32_t segments = 0;
  };
  std::uint64_t committed_bytes = 0;  // every segment's size
  std::uint64_t planned_bytes = 0;    // the plan's chunks of max_message_size
  std::uint32_t segments = 0;
  std::uint32_t chunks = 0;
  std::uint32_t free_chunks = 0;
  std::vector<SizeClass> classes;     // those with a segment, largest first
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_POOL_OPTIONS_H_
