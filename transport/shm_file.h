// transport/shm_file.h: the one way any ringcast process opens a path in
// the shared-memory directory.
//
// That directory is writable by every user: any name in it may hold a FIFO
// (whose open() blocks until a writer comes), a symbolic link, a directory,
// a socket or a device planted by someone else. OpenShmFile opens with
// O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, so the open itself never
// blocks and never follows a link, then fstat()s the descriptor and refuses
// anything but a regular file before the caller reads, locks or maps it.
// The refusal is PermissionDenied naming the path, what was found there,
// its owner and its mode, and what to do about it.
//
// Segments, pools, liveness files, orphan finding and `ringcast doctor` all
// come through here; no other open() of those paths exists.
#ifndef RINGCAST_TRANSPORT_SHM_FILE_H_
#define RINGCAST_TRANSPORT_SHM_FILE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ringcast::transport {

// An open descriptor of a regular file in the shared-memory directory,
// with the fstat() taken right after opening it. Move-only; closes on
// destruction unless released.
class ShmFile {
 public:
  ShmFile() = default;
  ShmFile(int fd, const struct stat& st) : fd_(fd), st_(st) {}
  ShmFile(ShmFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)), st_(other.st_) {}
  ShmFile& operator=(ShmFile&& other) noexcept {
    if (this != &other) {
      Close();
      fd_ = std::exchange(other.fd_, -1);
      st_ = other.st_;
    }
    return *this;
  }
  ShmFile(const ShmFile&) = delete;
  ShmFile& operator=(const ShmFile&) = delete;
  ~ShmFile() { Close(); }

  int fd() const { return fd_; }
  const struct stat& stat() const { return st_; }
  // Gives up ownership of the descriptor.
  int Release() { return std::exchange(fd_, -1); }
  void Close();

 private:
  int fd_ = -1;
  struct stat st_ {};
};

// Opens `path` with `flags` (O_RDONLY or O_RDWR, optionally O_CREAT|O_EXCL
// with `mode`) plus O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC|O_NOCTTY, and refuses
// anything that is not a regular file. NotFound if absent (without
// O_CREAT); AlreadyExists if O_EXCL and present; PermissionDenied (see
// DescribeForeign) for a FIFO, link, directory, socket or device;
// PermissionDenied describing the file (DescribePath) for one this user may
// not open; other errno values as absl::ErrnoToStatus naming the call and
// the path.
absl::StatusOr<ShmFile> OpenShmFile(const std::string& path, int flags, mode_t mode = 0);

// What `path` is, for a refusal: "a FIFO owned by uid 1000 (bob), mode
// 0666" (from lstat, so a link is described, not followed).
std::string DescribePath(const std::string& path);

// The PermissionDenied a caller returns for a non-regular file at `path`.
// It carries a payload, so that IsForeignFile tells it from an EACCES.
absl::Status ForeignFileError(const std::string& path);
bool IsForeignFile(const absl::Status& status);

// "regular file", "FIFO", "symbolic link", "directory", "socket",
// "character device", "block device" or "file of unknown type".
const char* FileTypeName(mode_t mode);

// "1000 (bob)", or "1000" when the uid has no name.
std::string UserName(uid_t uid);

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_SHM_FILE_H_
