// Segment: names, the helpers of the create-and-open protocol
// (segment_open.cc), looks without joining, leaving.
#include "transport/segment.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "transport/segment_internal.h"
#include "transport/shm_file.h"
#include "transport/status_macros.h"

namespace ringcast::transport {
namespace internal {

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
  // MAP_POPULATE: fault every page in now, not on the first publish. Not
  // for a file with holes (the registry's uncommitted descriptor space):
  // faulting a hole in would allocate it, or SIGBUS on a full directory.
  struct stat st {};
  const bool whole = ::fstat(fd, &st) == 0 &&
                     static_cast<std::uint64_t>(st.st_blocks) * 512 >= size;
  void* p = ::mmap(nullptr, size, prot, MAP_SHARED | (whole ? MAP_POPULATE : 0), fd, 0);
  if (p == MAP_FAILED) return Errno(errno, "mmap", path);
  return static_cast<std::byte*>(p);
}

absl::Status CommitRange(int fd, const std::string& path, std::uint64_t offset,
                         std::uint64_t length) {
  if (length == 0) return absl::OkStatus();
  const int err =
      ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(length));
  if (err == 0) return absl::OkStatus();
  if (err != ENOSPC) return Errno(err, "posix_fallocate", path);
  struct statvfs vfs {};
  const std::uint64_t free_bytes =
      ::fstatvfs(fd, &vfs) == 0 ? static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize : 0;
  return absl::ResourceExhaustedError(absl::StrCat(
      "segment ", path, ": needs ", length, " bytes but ", path.substr(0, path.rfind('/')),
      " has only ", free_bytes,
      " free; enlarge it (Docker: --shm-size) or shrink the topic"));
}

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

}  // namespace internal

using internal::CreateMode;
using internal::Errno;
using internal::Flock;
using internal::Initialised;
using internal::OpenExisting;

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

absl::Status Segment::CheckWritableRange(absl::string_view verb, std::uint64_t offset,
                                          std::uint64_t length) const {
  if (!writable()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "segment ", path_, " is mapped read-only; only a participant ", verb));
  }
  if (offset > size_ || length > size_ - offset) {
    return absl::OutOfRangeError(absl::StrCat("segment ", path_, ": bytes ", offset, "+", length,
                                              " lie past its end at ", size_));
  }
  return absl::OkStatus();
}

absl::Status Segment::Commit(std::uint64_t offset, std::uint64_t length) const {
  RINGCAST_RETURN_IF_ERROR(CheckWritableRange("commits", offset, length));
  return internal::CommitRange(fd_, path_, offset, length);
}

absl::Status Segment::Discard(std::uint64_t offset, std::uint64_t length) const {
  RINGCAST_RETURN_IF_ERROR(CheckWritableRange("discards", offset, length));
  if (length == 0) return absl::OkStatus();
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0) {
    return Errno(errno, "fallocate(PUNCH_HOLE)", path_);
  }
  return absl::OkStatus();
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
