// Segment::OpenOrCreate, Create and Open: the create-and-open protocol.
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/fault.h"
#include "transport/futex.h"
#include "transport/process.h"
#include "transport/segment.h"
#include "transport/segment_internal.h"
#include "transport/shm_file.h"
#include "transport/status_macros.h"

namespace ringcast::transport {
namespace {

using internal::CheckHeader;
using internal::CreateMode;
using internal::Errno;
using internal::Flock;
using internal::Initialised;
using internal::Map;
using internal::OpenExisting;

// How long an opener waits for another process creating or repairing the
// segment (or unlinking it as it leaves) before it gives up.
constexpr absl::Duration kInitTimeout = absl::Seconds(5);
// An opener waiting on the `initialised` word re-checks at least this
// often whether the initialiser died: the kernel drops a dead process's
// lock, but nobody wakes the word for it.
constexpr absl::Duration kInitWaitSlice = absl::Milliseconds(10);

// Sizes the file behind `fd` (which we hold LOCK_EX on and which is
// `old_size` bytes long: a dead creator may have left bytes) to `size` and
// commits its first `committed` bytes; the rest stays a hole for
// Segment::Commit.
// Starts from zero, and never shrinks the file below one header: an opener
// waiting on the header's `initialised` word has that page mapped.
absl::Status Allocate(int fd, const std::string& path,
                      std::uint64_t size, std::uint64_t committed, std::uint64_t old_size) {
  if (old_size > sizeof(SegmentHeader) && ::ftruncate(fd, sizeof(SegmentHeader)) != 0) {
    return Errno(errno, "ftruncate", path);
  }
  // Sized first (instant on tmpfs), so that waiters can map the header
  // while the pages are committed.
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return Errno(errno, "ftruncate", path);
  return internal::CommitRange(fd, path, 0, std::min(size, committed));
}

// Allocates and initialises a segment whose fd we hold LOCK_EX on, then
// stores the magic and wakes whoever waits for it.
absl::StatusOr<std::byte*> Initialise(int fd, const std::string& path, SegmentKind kind,
                                      std::uint64_t size, std::uint64_t committed,
                                      std::uint64_t old_size, Segment::InitFn init) {
  if (size < sizeof(SegmentHeader)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "segment ", path, ": size ", size, " is smaller than its header"));
  }
  RINGCAST_RETURN_IF_ERROR(Allocate(fd, path, size, committed, old_size));
  RINGCAST_FAULT_POINT("segment.init.allocated");
  RINGCAST_ASSIGN_OR_RETURN(std::byte * base, Map(fd, size, true, path));
  auto* h = reinterpret_cast<SegmentHeader*>(base);
  // The header's first line survived the cut in Allocate: set every field.
  // The magic is 0 (that is why we initialise) and waiters only load it.
  h->layout_version = kLayoutVersion;
  h->kind = kind;
  h->total_size = size;
  h->creator_pid = static_cast<std::uint32_t>(::getpid());
  h->header_size = 0;
  h->creator_start_time = ProcessStartTime(::getpid());
  std::memset(h->reserved, 0, sizeof h->reserved);
  // Relaxed: waiters only sleep on it; 0 until the magic is stored.
  h->initialised.store(0, std::memory_order_relaxed);
  init(base, size);
  RINGCAST_FAULT_POINT("segment.init.written");
  // Release: an opener that acquire-loads the magic sees every byte above.
  h->magic.store(kSegmentMagic, std::memory_order_release);
  // Relaxed: the word only wakes; a woken opener re-reads the magic (with
  // acquire) under its lock before it trusts a byte.
  h->initialised.store(1, std::memory_order_relaxed);
  FutexWake(h->initialised);
  return base;
}

// The protocol (segment.h has the overview). A creator holds LOCK_EX from
// just after its O_EXCL open until its magic is stored; openers take
// LOCK_SH without blocking and keep it for life. When someone holds
// LOCK_EX, an opener sleeps on the header's `initialised` word, which the
// initialiser sets and wakes. A file found without magic under LOCK_SH was
// left by a creator that died (or is between its open and its lock):
// whoever converts to LOCK_EX without waiting re-initialises it in place.
// Nobody ever blocks on a lock, so no process, dead, stopped or alive,
// can hold an opener for longer than kInitTimeout.

// Step 1: the file at `path`, made by us (O_EXCL, exact mode and group) or
// opened as it is. NotFound if it was unlinked between the two opens.
struct SegmentFile {
  ShmFile file;
  bool created = false;
};
absl::StatusOr<SegmentFile> CreateOrOpenFile(const ShmOptions& options, const std::string& path,
                                             bool create_only) {
  absl::StatusOr<ShmFile> f = OpenShmFile(path, O_RDWR | O_CREAT | O_EXCL, CreateMode(options));
  if (absl::IsAlreadyExists(f.status())) {
    if (create_only) {
      return absl::AlreadyExistsError(absl::StrCat("segment ", path, " already exists"));
    }
    RINGCAST_ASSIGN_OR_RETURN(ShmFile existing, OpenExisting(options, path, O_RDWR));
    return SegmentFile{std::move(existing), false};
  }
  if (!f.ok()) return f.status();
  // Exact mode whatever the umask; the group, if configured.
  if (::fchmod(f->fd(), CreateMode(options)) != 0 ||
      (options.group && ::fchown(f->fd(), static_cast<uid_t>(-1), *options.group) != 0)) {
    const absl::Status s = Errno(errno, "fchmod/fchown", path);
    ::unlink(path.c_str());
    return s;
  }
  return SegmentFile{*std::move(f), true};
}

// What one attempt to join a segment file came to.
struct Attempt {
  enum class Outcome {
    kJoined,  // mapped, checked, holding LOCK_SH
    kRetry,   // the name was unlinked under us: open it again
    kWait,    // someone holds (or held) LOCK_EX: wait for its initialisation
  };
  Outcome outcome = Outcome::kRetry;
  std::byte* base = nullptr;
  std::uint64_t size = 0;
};
Attempt Retry() { return Attempt{Attempt::Outcome::kRetry}; }
Attempt Wait() { return Attempt{Attempt::Outcome::kWait}; }

// Maps an initialised file of `file_size` bytes and checks its header.
absl::StatusOr<Attempt> MapInitialised(int fd, const std::string& path, SegmentKind kind,
                                       std::uint64_t file_size) {
  RINGCAST_ASSIGN_OR_RETURN(std::byte * base, Map(fd, file_size, true, path));
  if (absl::Status s = CheckHeader(*reinterpret_cast<const SegmentHeader*>(base), path, kind,
                                   file_size);
      !s.ok()) {
    ::munmap(base, file_size);
    return s;
  }
  return Attempt{Attempt::Outcome::kJoined, base, file_size};
}

// Step 3, holding LOCK_EX on a file of `old_size` bytes: initialises it,
// or, if someone finished it between our look and our lock, maps it. A
// failed initialisation unlinks the name: never leave a half-made segment.
absl::StatusOr<Attempt> InitialiseOrMap(int fd, const std::string& path, SegmentKind kind,
                                        std::uint64_t size, std::uint64_t committed,
                                        std::uint64_t old_size, Segment::InitFn init) {
  if (Initialised(fd, old_size)) return MapInitialised(fd, path, kind, old_size);
  absl::StatusOr<std::byte*> base =
      Initialise(fd, path, kind, size, committed, old_size, init);
  if (!base.ok()) {
    ::unlink(path.c_str());
    return base.status();
  }
  return Attempt{Attempt::Outcome::kJoined, *base, size};
}

// Step 4, after LOCK_EX: back to LOCK_SH for the rest of our life. Not
// atomic: a leaving participant may take LOCK_EX in between and unlink,
// which the link count shows (or still hold it, which the non-blocking
// lock shows); the attempt is then retried.
Attempt Downgrade(int fd, Attempt joined) {
  struct stat st {};
  if (Flock(fd, LOCK_SH | LOCK_NB) != 0 || ::fstat(fd, &st) != 0 || st.st_nlink == 0) {
    ::munmap(joined.base, joined.size);
    return Retry();
  }
  return joined;
}

// Steps 2 to 4 for one file: lock, look, then join, repair or wait.
absl::StatusOr<Attempt> JoinFile(SegmentFile& f, const std::string& path, SegmentKind kind,
                                 std::uint64_t size, std::uint64_t committed,
                                 Segment::InitFn init) {
  const int fd = f.file.fd();
  struct stat st {};
  // Step 2: a creator normally gets LOCK_EX at once; if an opener got to
  // the file first, it continues as an opener.
  if (f.created && Flock(fd, LOCK_EX | LOCK_NB) == 0) {
    if (::fstat(fd, &st) != 0) return Errno(errno, "fstat", path);
    if (st.st_nlink == 0) return Retry();
    RINGCAST_ASSIGN_OR_RETURN(
        Attempt a, InitialiseOrMap(fd, path, kind, size, committed,
                                   static_cast<std::uint64_t>(st.st_size), init));
    return Downgrade(fd, a);
  }
  if (Flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Wait();
    return Errno(errno, "flock", path);
  }
  if (::fstat(fd, &st) != 0) return Errno(errno, "fstat", path);
  if (st.st_nlink == 0) return Retry();
  if (Initialised(fd, static_cast<std::uint64_t>(st.st_size))) {
    return MapInitialised(fd, path, kind, static_cast<std::uint64_t>(st.st_size));
  }
  // Step 3': no magic and nobody initialising: its creator died (or has
  // yet to take its lock). Repair it if we are alone on it; otherwise let
  // go, so that one of the others can, and wait for that one.
  if (Flock(fd, LOCK_EX | LOCK_NB) != 0) {
    (void)Flock(fd, LOCK_UN);
    return Wait();
  }
  if (::fstat(fd, &st) != 0) return Errno(errno, "fstat", path);
  if (st.st_nlink == 0) return Retry();
  RINGCAST_ASSIGN_OR_RETURN(Attempt a,
                            InitialiseOrMap(fd, path, kind, size, committed,
                                            static_cast<std::uint64_t>(st.st_size), init));
  return Downgrade(fd, a);
}

// Names and links of `path` kept changing under us for kInitTimeout.
absl::Status GaveUp(const std::string& path) {
  return absl::AbortedError(absl::StrCat("segment ", path, ": gave up after ",
                                         absl::FormatDuration(kInitTimeout),
                                         " of other processes unlinking and re-creating it"));
}

// Step 5: sleeps until whoever holds the file's LOCK_EX is done with it:
// on the header's `initialised` word when the file has a header, which
// the initialiser wakes; otherwise (an initialiser between its lock and
// sizing the file, or a participant unlinking the name as it leaves: a
// few system calls either way) by yielding once. Unavailable, naming the
// creator, once `deadline` has passed.
absl::Status WaitForInitialiser(const ShmFile& f, const std::string& path, absl::Time deadline) {
  struct stat st {};
  if (::fstat(f.fd(), &st) != 0) return Errno(errno, "fstat", path);
  if (st.st_nlink == 0) return absl::OkStatus();  // unlinked: open the name again
  const absl::Duration left = deadline - absl::Now();
  // Never shrunk below one header once it had one (Allocate), so the
  // header page stays mapped for as long as we look.
  void* p = static_cast<std::uint64_t>(st.st_size) >= sizeof(SegmentHeader)
                ? ::mmap(nullptr, sizeof(SegmentHeader), PROT_READ, MAP_SHARED, f.fd(), 0)
                : MAP_FAILED;
  const auto* h = static_cast<const SegmentHeader*>(p);
  if (left <= absl::ZeroDuration()) {
    const std::string creator =
        p != MAP_FAILED ? absl::StrCat("creator pid ", h->creator_pid) : "its creator";
    if (p != MAP_FAILED) ::munmap(p, sizeof(SegmentHeader));
    return absl::UnavailableError(absl::StrCat(
        "segment ", path, ": ", creator, " has not finished initialising it within ",
        absl::FormatDuration(kInitTimeout),
        "; if that process is stopped, resume or kill it (a dead creator's segment is repaired "
        "by the next opener)"));
  }
  if (p == MAP_FAILED) {
    ::sched_yield();
    return absl::OkStatus();
  }
  // Relaxed: only decides whether to sleep; the magic, under our lock,
  // decides what we do next.
  if (h->initialised.load(std::memory_order_relaxed) == 0) {
    absl::Status s = FutexWait(h->initialised, 0, std::min(left, kInitWaitSlice));
    if (!s.ok() && !absl::IsDeadlineExceeded(s)) {
      ::munmap(p, sizeof(SegmentHeader));
      return s;
    }
  } else {
    ::sched_yield();  // initialised: a participant is unlinking the name
  }
  ::munmap(p, sizeof(SegmentHeader));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Segment> Segment::OpenOrCreateImpl(const ShmOptions& options,
                                                  absl::string_view name,
                                                  SegmentKind kind, std::uint64_t size,
                                                  std::uint64_t committed, InitFn init,
                                                  bool create_only) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  const absl::Time deadline = absl::Now() + kInitTimeout;
  for (;;) {
    absl::StatusOr<SegmentFile> f = CreateOrOpenFile(options, path, create_only);
    if (absl::IsNotFound(f.status())) {  // unlinked since: open it again
      if (absl::Now() > deadline) return GaveUp(path);
      continue;
    }
    if (!f.ok()) return f.status();
    RINGCAST_ASSIGN_OR_RETURN(const Attempt a,
                              JoinFile(*f, path, kind, size, committed, init));
    switch (a.outcome) {
      case Attempt::Outcome::kJoined:
        return Segment(std::string(name), path, f->file.Release(), a.base, a.size,
                       Access::kParticipant);
      case Attempt::Outcome::kWait:
        RINGCAST_RETURN_IF_ERROR(WaitForInitialiser(f->file, path, deadline));
        break;
      case Attempt::Outcome::kRetry:
        if (absl::Now() > deadline) return GaveUp(path);
        break;
    }
  }
}

absl::StatusOr<Segment> Segment::OpenOrCreate(const ShmOptions& options,
                                              absl::string_view name,
                                              SegmentKind kind,
                                              std::uint64_t size, InitFn init,
                                              std::uint64_t committed) {
  return OpenOrCreateImpl(options, name, kind, size, committed, init, /*create_only=*/false);
}

absl::StatusOr<Segment> Segment::Create(const ShmOptions& options,
                                        absl::string_view name,
                                        SegmentKind kind, std::uint64_t size,
                                        InitFn init, std::uint64_t committed) {
  return OpenOrCreateImpl(options, name, kind, size, committed, init, /*create_only=*/true);
}

absl::StatusOr<Segment> Segment::Open(const ShmOptions& options,
                                      absl::string_view name, SegmentKind kind,
                                      Access access) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  const bool participant = access == Access::kParticipant;
  const absl::Time deadline = absl::Now() + kInitTimeout;
  for (;;) {
    RINGCAST_ASSIGN_OR_RETURN(ShmFile f,
                              OpenExisting(options, path, participant ? O_RDWR : O_RDONLY));
    // A participant waits for a creator still initialising (without
    // blocking on its lock); an observer never locks, and reports such a
    // segment as unavailable.
    struct stat st = f.stat();
    if (participant) {
      if (Flock(f.fd(), LOCK_SH | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) return Errno(errno, "flock", path);
        RINGCAST_RETURN_IF_ERROR(WaitForInitialiser(f, path, deadline));
        continue;
      }
      if (::fstat(f.fd(), &st) != 0) return Errno(errno, "fstat", path);
    }
    if (st.st_nlink == 0) {  // unlinked since: open it again
      if (absl::Now() > deadline) return GaveUp(path);
      continue;
    }
    const std::uint64_t file_size = static_cast<std::uint64_t>(st.st_size);
    if (file_size < sizeof(SegmentHeader)) {
      return absl::UnavailableError(absl::StrCat(
          "segment ", path, " has ", file_size,
          " bytes, less than a header: its creator is initialising it or died doing so "
          "(`ringcast doctor --clean` removes it once its creator is gone)"));
    }
    RINGCAST_ASSIGN_OR_RETURN(std::byte* base, Map(f.fd(), file_size, participant, path));
    if (absl::Status s = CheckHeader(*reinterpret_cast<const SegmentHeader*>(base), path, kind,
                                     file_size);
        !s.ok()) {
      ::munmap(base, file_size);
      return s;
    }
    return Segment(std::string(name), path, f.Release(), base, file_size, access);
  }
}

}  // namespace ringcast::transport
