// transport/liveness.h: is the process behind a shared-memory entry alive?
//
// The authority is a lock, not a pid. Each process holds an exclusive flock
// on its own liveness file "/<prefix>.<domain>.live.<16 hex>" beside the
// segments for its whole life; the kernel drops the lock when the process
// dies, kill -9 included. An entry records the 64-bit token id, which names
// the file. The entry's process is dead when the file is gone or can be
// locked by someone else. This holds across PID namespaces and pid reuse.
#ifndef RINGCAST_TRANSPORT_LIVENESS_H_
#define RINGCAST_TRANSPORT_LIVENESS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "transport/shm_options.h"

namespace ringcast::transport {

// The liveness token id of this process for options' dir, prefix and domain,
// creating the locked file on first use. Never 0. A forked child gets its
// own token on first use (it does not inherit its parent's).
absl::StatusOr<std::uint64_t> ProcessToken(const ShmOptions& options);

// Removes this process's liveness files and forgets its tokens, as a clean
// exit does (via atexit). For processes that leave with _exit, such as forked
// test children; entries naming the tokens then read as dead.
void ReleaseProcessTokens();

// Removes the liveness files in options' domain whose processes are dead
// (and half-made ones). Returns how many were removed.
int SweepDeadTokens(const ShmOptions& options);

// The names ("/<prefix>.<domain>.live.<hex>", sorted) of options' domain's
// liveness files, and of half-made ones ("<name>.new") old enough that
// their creator must have died between making and locking them.
std::vector<std::string> TokenFileNames(const ShmOptions& options);

// The segment-style name of token `id`'s file: "/<prefix>.<domain>.live.<hex>".
std::string LivenessName(const ShmOptions& options, std::uint64_t id);

// Whether the process owning token `id` is alive. A dead token's file is
// removed. Token 0 is never alive. A non-regular file planted at the
// token's name means its owner's file is gone: dead (the planted file is
// left in place, with one warning).
bool IsTokenAlive(const ShmOptions& options, std::uint64_t id);
// The same, changing nothing: for looks that must not clean (a dry run).
bool IsTokenAliveNoRemove(const ShmOptions& options, std::uint64_t id);

// What is at a liveness file's path: a file whose owner holds its lock, a
// file nobody holds (or nothing), or something planted that is not a
// regular file. With `remove`, a dead owner's file is removed.
enum class LivenessFile { kAlive, kDead, kForeign };
LivenessFile LookAtLivenessFile(const std::string& path, bool remove);

// Memoises IsTokenAlive (or, with look_only, IsTokenAliveNoRemove) over
// one scan of a table, where many entries share a few processes.
class LivenessCache {
 public:
  explicit LivenessCache(const ShmOptions& options, bool look_only = false)
      : options_(options), look_only_(look_only) {}
  bool IsAlive(std::uint64_t id);
  bool IsDead(std::uint64_t id) { return !IsAlive(id); }

 private:
  const ShmOptions& options_;
  bool look_only_;
  absl::flat_hash_map<std::uint64_t, bool> known_;
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_LIVENESS_H_
