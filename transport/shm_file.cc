#include "transport/shm_file.h"

#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ringcast::transport {

void ShmFile::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

const char* FileTypeName(mode_t mode) {
  if (S_ISREG(mode)) return "regular file";
  if (S_ISFIFO(mode)) return "FIFO";
  if (S_ISLNK(mode)) return "symbolic link";
  if (S_ISDIR(mode)) return "directory";
  if (S_ISSOCK(mode)) return "socket";
  if (S_ISCHR(mode)) return "character device";
  if (S_ISBLK(mode)) return "block device";
  return "file of unknown type";
}

std::string UserName(uid_t uid) {
  passwd pw;
  passwd* result = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &result) == 0 && result != nullptr) {
    return absl::StrCat(uid, " (", result->pw_name, ")");
  }
  return absl::StrCat(uid);
}

std::string DescribePath(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "a file that is gone";
  std::string what = absl::StrFormat("a %s owned by uid %s, mode 0%03o", FileTypeName(st.st_mode),
                                     UserName(st.st_uid), st.st_mode & 07777);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n >= 0) absl::StrAppend(&what, ", pointing to ", absl::string_view(target, n));
  }
  return what;
}

namespace {
constexpr char kForeignPayload[] = "ringcast.transport/foreign-file";
}  // namespace

absl::Status ForeignFileError(const std::string& path) {
  absl::Status s = absl::PermissionDeniedError(absl::StrCat(
      path, " is ", DescribePath(path),
      "; ringcast makes only regular files there and refuses to open anything else. "
      "Remove it (as its owner or root), or use another domain or prefix"));
  s.SetPayload(kForeignPayload, absl::Cord("1"));
  return s;
}

bool IsForeignFile(const absl::Status& status) {
  return status.GetPayload(kForeignPayload).has_value();
}

absl::StatusOr<ShmFile> OpenShmFile(const std::string& path, int flags, mode_t mode) {
  // O_NONBLOCK: opening a FIFO never waits for a peer. O_NOFOLLOW: a link
  // fails with ELOOP instead of taking us elsewhere. O_NOCTTY: a terminal
  // device never becomes our controlling terminal.
  const int fd = ::open(path.c_str(), flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                        mode);
  if (fd < 0) {
    const int err = errno;
    switch (err) {
      case ENOENT:
        return absl::NotFoundError(absl::StrCat(path, " does not exist"));
      case EEXIST:
        return absl::AlreadyExistsError(absl::StrCat(path, " already exists"));
      case ELOOP:   // a symbolic link under O_NOFOLLOW
      case EISDIR:  // a directory opened for writing
      case ENXIO:   // a socket, or a FIFO opened write-only
      case ENODEV:  // a device without a driver
        return ForeignFileError(path);
      case EACCES: {
        // Another user's file we may not open: say whose it is, as the
        // owner and mode check would have had we been able to open it.
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0) {
          return absl::PermissionDeniedError(absl::StrCat(
              path, " is ", DescribePath(path), ", which this user (uid ",
              UserName(::geteuid()), ") may not open; remove it (as its owner or root), or use "
              "another domain or prefix"));
        }
        break;
      }
      default:
        break;
    }
    return absl::ErrnoToStatus(err, absl::StrCat("open(", path, ")"));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat("fstat(", path, ")"));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return ForeignFileError(path);
  }
  // Our files are read and mapped, never waited on: blocking mode back, so
  // that nothing later depends on O_NONBLOCK's meaning for regular files.
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return ShmFile(fd, st);
}

}  // namespace ringcast::transport
