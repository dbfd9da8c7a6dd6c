// transport/pool_keeper.h: the thread that shrinks grown chunk pools. A
// publisher that stops loaning makes no call that could release its grown
// segments, so one thread per process looks at every pool that has grown
// past its first segments, every quarter of its idle time, and stops when
// none is left (it starts again with the next growth). Internal to
// transport/: a Writer with a pool is its only user.
#ifndef RINGCAST_TRANSPORT_POOL_KEEPER_H_
#define RINGCAST_TRANSPORT_POOL_KEEPER_H_

#include <cstdint>

#include "absl/time/time.h"

namespace ringcast::transport::internal {

// What the keeper looks at: KeepUp releases what has been idle long
// enough, as of `now_ns` (a steady clock), and returns when to look again,
// or PoolChain::kNever to be dropped from the watch.
class Keepable {
 public:
  virtual std::int64_t KeepUp(std::int64_t now_ns) = 0;

 protected:
  ~Keepable() = default;
};

// Looks at `what` within `idle` / 4 and then as long as KeepUp asks.
void StartKeeping(Keepable* what, absl::Duration idle);
// Never looks at `what` again once this returns (waits out a look in
// progress). True if it was watched.
bool StopKeeping(Keepable* what);

}  // namespace ringcast::transport::internal

#endif  // RINGCAST_TRANSPORT_POOL_KEEPER_H_
