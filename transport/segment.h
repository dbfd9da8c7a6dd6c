// transport/segment.h: a named shared-memory segment, created once and
// opened by many processes.
//
// Life cycle (docs/architecture.md, "Segment life cycle"):
//  - Create: open(O_CREAT|O_EXCL), flock(LOCK_EX), size the file and
//    allocate every page with posix_fallocate (a full /dev/shm is an error
//    now, never a SIGBUS later), initialise, store the magic last with
//    release, set the header's `initialised` word and wake its waiters,
//    downgrade to LOCK_SH.
//  - Open: flock(LOCK_SH | LOCK_NB), then check the header. While someone
//    holds LOCK_EX (a creator initialising), an opener sleeps on the
//    `initialised` word (futex, re-checked every few milliseconds in case
//    the creator died), for at most a few seconds in all. A file without
//    magic under LOCK_SH has a dead creator; an OpenOrCreate caller that
//    converts to LOCK_EX without waiting re-initialises it in place. Nobody
//    ever blocks on a lock, so neither a participant nor a stopped creator
//    can hold an opener for long.
//  - Participants keep LOCK_SH for as long as they use the segment. The last
//    one to leave can take LOCK_EX without blocking and unlinks the name.
//    The kernel drops a dead process's lock, so a crash never pins a name.
//  - Observers (the CLI) map read-only and take no lock: watching a topic
//    never keeps its segment alive.
#ifndef RINGCAST_TRANSPORT_SEGMENT_H_
#define RINGCAST_TRANSPORT_SEGMENT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "transport/segment_layout.h"
#include "transport/shm_options.h"

namespace ringcast::transport {

class Segment {
 public:
  enum class Access {
    kParticipant,  // read-write, holds LOCK_SH until Leave() or destruction
    kObserver,     // read-only, no lock
  };

  // Fills a freshly allocated, zeroed segment past the SegmentHeader (the
  // header and the magic are written by Segment).
  using InitFn = absl::FunctionRef<void(std::byte* base, std::uint64_t size)>;

  // Opens segment `name` ("/<prefix>.<domain>.<rest>") as a participant, or
  // creates it with `size` bytes when absent or when its creator died before
  // finishing. Fails with PermissionDenied when the file belongs to another
  // user or is looser than configured, DataLoss when its header is corrupt,
  // FailedPrecondition on a layout version or kind mismatch,
  // ResourceExhausted when the directory has no room for `size` bytes, and
  // Unavailable (naming the creator's pid) when another process has been
  // initialising it for longer than a few seconds (it is stopped or stuck).
  //
  // Only the first `committed` bytes are allocated at creation; the rest
  // of the file is a hole that uses no memory until Commit allocates a
  // range of it (the registry's descriptors, stored as they arrive).
  static absl::StatusOr<Segment> OpenOrCreate(const ShmOptions& options,
                                              absl::string_view name,
                                              SegmentKind kind,
                                              std::uint64_t size,
                                              InitFn init,
                                              std::uint64_t committed = kCommitAll);

  // Like OpenOrCreate, but fails with AlreadyExists if the name exists.
  static absl::StatusOr<Segment> Create(const ShmOptions& options,
                                        absl::string_view name,
                                        SegmentKind kind, std::uint64_t size,
                                        InitFn init,
                                        std::uint64_t committed = kCommitAll);

  // `committed` for a segment allocated whole at creation.
  static constexpr std::uint64_t kCommitAll = ~std::uint64_t{0};

  // Opens an existing, fully initialised segment. NotFound if absent;
  // Unavailable if its creator died initialising it, and for an observer
  // also while it is initialising it (a participant waits a few seconds).
  static absl::StatusOr<Segment> Open(const ShmOptions& options,
                                      absl::string_view name,
                                      SegmentKind kind, Access access);

  // Removes the name `name` from options.dir (mappings stay valid).
  static absl::Status Unlink(const ShmOptions& options, absl::string_view name);

  // Unlinks `name` if no participant holds it, atomically with respect to
  // openers (under LOCK_EX). Returns true if it unlinked.
  static absl::StatusOr<bool> UnlinkIfUnused(const ShmOptions& options,
                                             absl::string_view name);

  // True if no participant holds `name` (no live process uses it).
  static absl::StatusOr<bool> IsUnused(const ShmOptions& options,
                                       absl::string_view name);

  // What a look at segment `name` finds, without joining it.
  enum class Condition {
    kReady,          // its magic is stored: complete
    kBeingCreated,   // no magic yet, and its creator holds its lock or made
                     // it less than kHalfMadeGrace ago
    kHalfMade,       // no magic (or shorter than a header), nobody holds
                     // it, older than the grace: its creator died
  };
  static constexpr absl::Duration kHalfMadeGrace = absl::Seconds(2);
  // NotFound if absent; PermissionDenied for a foreign file or owner.
  static absl::StatusOr<Condition> Check(const ShmOptions& options, absl::string_view name);

  // Unlinks `name` if it is half-made (re-checked under LOCK_EX, so a
  // creator that comes back to it never loses it). True if it unlinked.
  static absl::StatusOr<bool> RemoveIfHalfMade(const ShmOptions& options,
                                               absl::string_view name);

  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&& other) noexcept;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();  // unmaps and closes; never unlinks

  // Stops participating; if no other participant holds the segment, unlinks
  // it. Returns true if this call unlinked it. The mapping stays valid until
  // destruction.
  bool Leave();

  std::byte* base() const { return base_; }
  std::uint64_t size() const { return size_; }
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  const SegmentHeader& header() const {
    return *reinterpret_cast<const SegmentHeader*>(base_);
  }
  bool writable() const { return access_ == Access::kParticipant; }

  // Allocates bytes [offset, offset + length) of a participant's segment
  // (posix_fallocate), so that storing into them can never SIGBUS on a
  // full directory. ResourceExhausted naming the bytes asked for and the
  // bytes free; OutOfRange past the end; FailedPrecondition for an observer.
  absl::Status Commit(std::uint64_t offset, std::uint64_t length) const;
  // Gives bytes [offset, offset + length) of a participant's segment back
  // to the directory (a hole punched in the file): every mapping reads
  // zeros there from now on. Same errors as Commit.
  absl::Status Discard(std::uint64_t offset, std::uint64_t length) const;

 private:
  // FailedPrecondition for an observer, OutOfRange past the end; `verb`
  // names what was refused.
  absl::Status CheckWritableRange(absl::string_view verb, std::uint64_t offset,
                                  std::uint64_t length) const;
  Segment(std::string name, std::string path, int fd, std::byte* base,
          std::uint64_t size, Access access)
      : name_(std::move(name)), path_(std::move(path)), fd_(fd), base_(base),
        size_(size), access_(access) {}
  static absl::StatusOr<Segment> OpenOrCreateImpl(const ShmOptions& options,
                                                  absl::string_view name,
                                                  SegmentKind kind, std::uint64_t size,
                                                  std::uint64_t committed, InitFn init,
                                                  bool create_only);
  void Reset();

  std::string name_;
  std::string path_;
  int fd_ = -1;
  std::byte* base_ = nullptr;
  std::uint64_t size_ = 0;
  Access access_ = Access::kObserver;
};

// The full path of segment `name` in options.dir; InvalidArgument unless
// `name` is "/" followed by 1..NAME_MAX characters with no other '/'.
absl::StatusOr<std::string> SegmentPath(const ShmOptions& options,
                                        absl::string_view name);

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_SEGMENT_H_
