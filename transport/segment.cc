#include "transport/segment.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "absl/time/clock.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "transport/fault.h"
#include "transport/process.h"
#include "transport/shm_file.h"
#include "transport/status_macros.h"

namespace ringcast::transport {
namespace {

// An OpenOrCreate races with closers unlinking the name, with a creator
// between its open and its lock, and with other repairers of a dead
// creator's file; each of those windows is short, so retrying for a while
// always gets through. Open() races only with closers.
constexpr int kMaxAttempts = 16;
constexpr absl::Duration kRaceTimeout = absl::Seconds(5);

absl::Status Errno(int err, absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(err, absl::StrCat(what, "(", path, ")"));
}

// flock, retried on EINTR.
int Flock(int fd, int op) {
  int r;
  do {
    r = ::flock(fd, op);
  } while (r < 0 && errno == EINTR);
  return r;
}

mode_t CreateMode(const ShmOptions& options) {
  return options.group ? 0660 : 0600;
}

// Refuses files that another user could have planted or could write,
// naming every problem found (owner and mode). Checked before any lock or
// map: a squatter's file must not make us wait or read its bytes.
absl::Status CheckOwnerAndMode(const ShmOptions& options, const std::string& path,
                               const struct stat& st) {
  const uid_t me = ::geteuid();
  const bool group_ok = options.group && st.st_gid == *options.group;
  std::vector<std::string> problems;
  if (st.st_uid != me && !group_ok) {
    problems.push_back(absl::StrCat("is owned by uid ", UserName(st.st_uid),
                                    ", not by this user (uid ", UserName(me), ")",
                                    options.group ? " nor by the configured group" : ""));
  }
  const mode_t allowed = CreateMode(options);
  const mode_t mode = st.st_mode & 07777;
  if ((mode & ~allowed) != 0) {
    problems.push_back(
        absl::StrFormat("has mode 0%03o, looser than the configured 0%03o", mode, allowed));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "segment ", path, " ", absl::StrJoin(problems, " and "),
      "; refusing a segment that others could have planted or could write: remove it (as its "
      "owner or root) or use another domain or prefix"));
}

// Opens an existing segment file for `flags` and checks its owner and mode
// before anything else is done with it.
absl::StatusOr<ShmFile> OpenExisting(const ShmOptions& options, const std::string& path,
                                     int flags) {
  absl::StatusOr<ShmFile> f = OpenShmFile(path, flags);
  if (absl::IsNotFound(f.status())) {
    return absl::NotFoundError(absl::StrCat("segment ", path, " does not exist"));
  }
  if (!f.ok()) return f.status();
  RINGCAST_RETURN_IF_ERROR(CheckOwnerAndMode(options, path, f->stat()));
  return f;
}

// Takes flock `lock` on `f` and re-stats it (a creator may have sized it
// while we waited).
absl::Status LockAndStat(ShmFile& f, int lock, absl::string_view path, struct stat* st) {
  if (Flock(f.fd(), lock) != 0) return Errno(errno, "flock", path);
  if (::fstat(f.fd(), st) != 0) return Errno(errno, "fstat", path);
  return absl::OkStatus();
}

// Validates the header of a mapping of `file_size` bytes. REQUIRES:
// file_size >= sizeof(SegmentHeader).
absl::Status CheckHeader(const SegmentHeader& h, const std::string& path,
                         SegmentKind kind, std::uint64_t file_size) {
  // Acquire: pairs with the creator's final release store of the magic,
  // so every field read below is complete.
  const std::uint64_t magic = h.magic.load(std::memory_order_acquire);
  if (magic == 0) {
    return absl::UnavailableError(absl::StrCat(
        "segment ", path, ": creator pid ", h.creator_pid,
        " has not finished initialising it (or died doing so)"));
  }
  if (magic != kSegmentMagic) {
    return absl::DataLossError(absl::StrFormat(
        "segment %s: magic 0x%016x, expected 0x%016x; not a ringcast segment "
        "or corrupt",
        path, magic, kSegmentMagic));
  }
  if (h.layout_version != kLayoutVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "segment ", path, ": layout version ", h.layout_version,
        ", this binary speaks ", kLayoutVersion,
        "; run one ringcast version per domain"));
  }
  if (h.kind != kind) {
    return absl::FailedPreconditionError(absl::StrCat(
        "segment ", path, ": is a ", SegmentKindName(h.kind),
        " segment, expected a ", SegmentKindName(kind), " segment"));
  }
  if (h.total_size != file_size) {
    return absl::DataLossError(absl::StrCat(
        "segment ", path, ": header says ", h.total_size, " bytes, file has ",
        file_size));
  }
  if (h.header_size > file_size - sizeof(SegmentHeader)) {
    return absl::DataLossError(absl::StrCat("segment ", path, ": header size ",
                                            h.header_size, " exceeds the file (",
                                            file_size, " bytes)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::byte*> Map(int fd, std::uint64_t size, bool writable,
                               const std::string& path) {
  const int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  // MAP_POPULATE: fault every page in now, not on the first publish.
  void* p = ::mmap(nullptr, size, prot, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) return Errno(errno, "mmap", path);
  return static_cast<std::byte*>(p);
}

// Allocates and initialises a segment whose fd we hold LOCK_EX on.
absl::StatusOr<std::byte*> Initialise(int fd, const ShmOptions& options,
                                      const std::string& path,
                                      SegmentKind kind, std::uint64_t size,
                                      Segment::InitFn init) {
  if (size < sizeof(SegmentHeader)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "segment ", path, ": size ", size, " is smaller than its header"));
  }
  // Start from zero whatever a dead creator left, then commit every page.
  if (::ftruncate(fd, 0) != 0) return Errno(errno, "ftruncate", path);
  const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (err != 0) {
    if (err == ENOSPC) {
      struct statvfs vfs {};
      const std::uint64_t free_bytes =
          ::fstatvfs(fd, &vfs) == 0
              ? static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize
              : 0;
      return absl::ResourceExhaustedError(absl::StrCat(
          "segment ", path, ": needs ", size, " bytes but ", options.dir,
          " has only ", free_bytes,
          " free; enlarge it (Docker: --shm-size) or shrink the topic"));
    }
    return Errno(err, "posix_fallocate", path);
  }
  RINGCAST_FAULT_POINT("segment.init.allocated");
  RINGCAST_ASSIGN_OR_RETURN(std::byte * base, Map(fd, size, true, path));
  auto* h = reinterpret_cast<SegmentHeader*>(base);
  h->layout_version = kLayoutVersion;
  h->kind = kind;
  h->total_size = size;
  h->creator_pid = static_cast<std::uint32_t>(::getpid());
  h->creator_start_time = ProcessStartTime(::getpid());
  init(base, size);
  RINGCAST_FAULT_POINT("segment.init.written");
  // Release: an opener that acquire-loads the magic sees every byte above.
  h->magic.store(kSegmentMagic, std::memory_order_release);
  return base;
}

}  // namespace

const char* SegmentKindName(SegmentKind kind) {
  switch (kind) {
    case SegmentKind::kRegistry: return "registry";
    case SegmentKind::kTopic: return "topic";
    case SegmentKind::kPool: return "pool";
  }
  return "unknown-kind";
}

absl::StatusOr<std::string> SegmentPath(const ShmOptions& options,
                                        absl::string_view name) {
  if (name.size() < 2 || name[0] != '/' ||
      name.find('/', 1) != absl::string_view::npos || name.size() - 1 > NAME_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "segment name '", name, "': expected '/' and 1..", NAME_MAX,
        " characters without another '/'"));
  }
  return absl::StrCat(options.dir, name);
}

// True if a mapping of the file behind `fd`, `file_size` bytes long, holds
// a header whose magic was stored: its creator finished initialising it.
bool Initialised(int fd, std::uint64_t file_size) {
  if (file_size < sizeof(SegmentHeader)) return false;
  void* p = ::mmap(nullptr, sizeof(SegmentHeader), PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return false;
  // Acquire: pairs with the creator's release store of the magic.
  const bool done =
      static_cast<const SegmentHeader*>(p)->magic.load(std::memory_order_acquire) != 0;
  ::munmap(p, sizeof(SegmentHeader));
  return done;
}

absl::StatusOr<Segment> Segment::OpenOrCreateImpl(const ShmOptions& options,
                                                  absl::string_view name,
                                                  SegmentKind kind, std::uint64_t size,
                                                  InitFn init, bool create_only) {
  // The protocol. A creator holds LOCK_EX from just after its O_EXCL open
  // until its magic is stored; everyone else takes LOCK_SH, which waits for
  // it, and keeps LOCK_SH for life. A file found without magic under
  // LOCK_SH was left by a creator that died (or is between its open and its
  // lock): whoever gets LOCK_EX without waiting re-initialises it in place.
  // Nobody ever waits for LOCK_EX, so no participant can block an opener.
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  const absl::Time give_up = absl::Now() + kRaceTimeout;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      if (absl::Now() > give_up) {
        return absl::AbortedError(absl::StrCat(
            "segment ", path, ": gave up after ", absl::FormatDuration(kRaceTimeout),
            " racing with other processes creating or repairing it"));
      }
      absl::SleepFor(absl::Microseconds(std::min(attempt, 100) * 10));
    }
    bool created = true;
    absl::StatusOr<ShmFile> f = OpenShmFile(path, O_RDWR | O_CREAT | O_EXCL, CreateMode(options));
    if (absl::IsAlreadyExists(f.status())) {
      if (create_only) {
        return absl::AlreadyExistsError(absl::StrCat("segment ", path, " already exists"));
      }
      created = false;
      f = OpenExisting(options, path, O_RDWR);
      if (absl::IsNotFound(f.status())) continue;  // unlinked since: start over
    }
    if (!f.ok()) return f.status();
    if (created && (::fchmod(f->fd(), CreateMode(options)) != 0 ||
                    (options.group &&
                     ::fchown(f->fd(), static_cast<uid_t>(-1), *options.group) != 0))) {
      // Exact mode whatever the umask; the group, if configured.
      const absl::Status s = Errno(errno, "fchmod/fchown", path);
      ::unlink(path.c_str());
      return s;
    }
    // A creator normally gets LOCK_EX at once; if an opener repaired the
    // file in the meantime, it continues as an opener.
    bool exclusive = created && Flock(f->fd(), LOCK_EX | LOCK_NB) == 0;
    struct stat st {};
    if (exclusive) {
      if (::fstat(f->fd(), &st) != 0) return Errno(errno, "fstat", path);
    } else {
      RINGCAST_RETURN_IF_ERROR(LockAndStat(*f, LOCK_SH, path, &st));
    }
    if (st.st_nlink == 0) continue;  // a closer or repairer unlinked it: start over
    bool initialise = exclusive;
    if (!exclusive && !Initialised(f->fd(), static_cast<std::uint64_t>(st.st_size))) {
      // Its creator died mid-way (or has yet to take its lock). Repair it
      // if nobody else holds it; otherwise look again shortly.
      if (Flock(f->fd(), LOCK_EX | LOCK_NB) != 0 || ::fstat(f->fd(), &st) != 0 ||
          st.st_nlink == 0) {
        continue;
      }
      exclusive = true;
      // Someone may have finished it between our two locks.
      initialise = !Initialised(f->fd(), static_cast<std::uint64_t>(st.st_size));
    }
    std::byte* base = nullptr;
    std::uint64_t mapped = static_cast<std::uint64_t>(st.st_size);
    if (initialise) {
      absl::StatusOr<std::byte*> m = Initialise(f->fd(), options, path, kind, size, init);
      if (!m.ok()) {
        ::unlink(path.c_str());  // never leave a half-made segment behind
        return m.status();
      }
      base = *m;
      mapped = size;
    } else {
      RINGCAST_ASSIGN_OR_RETURN(base, Map(f->fd(), mapped, true, path));
      if (absl::Status s =
              CheckHeader(*reinterpret_cast<const SegmentHeader*>(base), path, kind, mapped);
          !s.ok()) {
        ::munmap(base, mapped);
        return s;
      }
    }
    // Downgrade to shared for the rest of our life. Not atomic: a leaving
    // participant may take LOCK_EX in between and unlink, which the nlink
    // check below notices.
    if (exclusive &&
        (Flock(f->fd(), LOCK_SH) != 0 || ::fstat(f->fd(), &st) != 0 || st.st_nlink == 0)) {
      ::munmap(base, mapped);
      continue;
    }
    return Segment(std::string(name), path, f->Release(), base, mapped, Access::kParticipant);
  }
}

absl::StatusOr<Segment> Segment::OpenOrCreate(const ShmOptions& options,
                                              absl::string_view name,
                                              SegmentKind kind,
                                              std::uint64_t size, InitFn init) {
  return OpenOrCreateImpl(options, name, kind, size, init, /*create_only=*/false);
}

absl::StatusOr<Segment> Segment::Create(const ShmOptions& options,
                                        absl::string_view name,
                                        SegmentKind kind, std::uint64_t size,
                                        InitFn init) {
  return OpenOrCreateImpl(options, name, kind, size, init, /*create_only=*/true);
}

absl::StatusOr<Segment> Segment::Open(const ShmOptions& options,
                                      absl::string_view name, SegmentKind kind,
                                      Access access) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  const bool participant = access == Access::kParticipant;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    RINGCAST_ASSIGN_OR_RETURN(ShmFile f,
                              OpenExisting(options, path, participant ? O_RDWR : O_RDONLY));
    // A participant waits (LOCK_SH) for a creator still initialising; an
    // observer never locks, and reports such a segment as unavailable.
    struct stat st = f.stat();
    if (participant) RINGCAST_RETURN_IF_ERROR(LockAndStat(f, LOCK_SH, path, &st));
    if (st.st_nlink == 0) continue;
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
  return absl::AbortedError(absl::StrCat("segment ", path, ": gave up after ",
                                         kMaxAttempts, " attempts"));
}

absl::Status Segment::Unlink(const ShmOptions& options, absl::string_view name) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  if (::unlink(path.c_str()) != 0) return Errno(errno, "unlink", path);
  return absl::OkStatus();
}

absl::StatusOr<bool> Segment::UnlinkIfUnused(const ShmOptions& options,
                                             absl::string_view name) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  absl::StatusOr<ShmFile> f = OpenShmFile(path, O_RDONLY);
  if (absl::IsNotFound(f.status())) return false;
  if (!f.ok()) return f.status();
  struct stat st {};
  // Holding LOCK_EX, nobody participates, and an opener waits on LOCK_SH
  // until we are done, then finds the name gone (nlink 0) and starts over.
  return Flock(f->fd(), LOCK_EX | LOCK_NB) == 0 && ::fstat(f->fd(), &st) == 0 &&
         st.st_nlink > 0 && ::unlink(path.c_str()) == 0;
}

absl::StatusOr<bool> Segment::IsUnused(const ShmOptions& options,
                                       absl::string_view name) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  RINGCAST_ASSIGN_OR_RETURN(const ShmFile f, OpenShmFile(path, O_RDONLY));
  return Flock(f.fd(), LOCK_EX | LOCK_NB) == 0;
}

namespace {

// The condition of the open segment file `f` (lock state included).
Segment::Condition ConditionOf(const ShmFile& f) {
  const std::uint64_t size = static_cast<std::uint64_t>(f.stat().st_size);
  if (Initialised(f.fd(), size)) return Segment::Condition::kReady;
  // A creator holds LOCK_EX from just after its open until its magic is
  // stored; participants hold LOCK_SH. Any lock: someone is on it.
  if (Flock(f.fd(), LOCK_SH | LOCK_NB) != 0) return Segment::Condition::kBeingCreated;
  // Unlocked without magic: between a creator's open and its lock (a few
  // microseconds), or left by a dead one. Age tells them apart.
  const absl::Time changed = absl::TimeFromTimespec(f.stat().st_ctim);
  if (absl::Now() - changed < Segment::kHalfMadeGrace) return Segment::Condition::kBeingCreated;
  return Segment::Condition::kHalfMade;
}

}  // namespace

absl::StatusOr<Segment::Condition> Segment::Check(const ShmOptions& options,
                                                  absl::string_view name) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  RINGCAST_ASSIGN_OR_RETURN(const ShmFile f, OpenExisting(options, path, O_RDONLY));
  return ConditionOf(f);
}

absl::StatusOr<bool> Segment::RemoveIfHalfMade(const ShmOptions& options,
                                               absl::string_view name) {
  RINGCAST_ASSIGN_OR_RETURN(const std::string path, SegmentPath(options, name));
  absl::StatusOr<ShmFile> f = OpenExisting(options, path, O_RDONLY);
  if (absl::IsNotFound(f.status())) return false;
  if (!f.ok()) return f.status();
  if (ConditionOf(*f) != Condition::kHalfMade) return false;
  // Under LOCK_EX nobody can be creating or repairing it; look once more.
  struct stat st {};
  if (Flock(f->fd(), LOCK_EX | LOCK_NB) != 0 || ::fstat(f->fd(), &st) != 0 || st.st_nlink == 0 ||
      Initialised(f->fd(), static_cast<std::uint64_t>(st.st_size))) {
    return false;
  }
  return ::unlink(path.c_str()) == 0;
}

Segment::Segment(Segment&& other) noexcept
    : name_(std::move(other.name_)), path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)), base_(std::exchange(other.base_, nullptr)),
      size_(std::exchange(other.size_, 0)), access_(other.access_) {}

Segment& Segment::operator=(Segment&& other) noexcept {
  if (this != &other) {
    Reset();
    name_ = std::move(other.name_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
    access_ = other.access_;
  }
  return *this;
}

Segment::~Segment() { Reset(); }

void Segment::Reset() {
  if (base_ != nullptr) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
  base_ = nullptr;
  fd_ = -1;
}

bool Segment::Leave() {
  if (fd_ < 0 || access_ != Access::kParticipant) return false;
  // Converting LOCK_SH to LOCK_EX succeeds only if no other participant, in
  // any process, holds the segment. Then nobody can be using the name.
  bool unlinked = false;
  if (Flock(fd_, LOCK_EX | LOCK_NB) == 0) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && st.st_nlink > 0) {
      unlinked = ::unlink(path_.c_str()) == 0;
    }
  }
  ::close(fd_);  // drops whatever lock we hold
  fd_ = -1;
  return unlinked;
}

}  // namespace ringcast::transport
