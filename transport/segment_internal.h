// transport/segment_internal.h: what segment.cc (names, looks, leaving)
// and segment_open.cc (the create-and-open protocol) share. Internal to
// transport/.
#ifndef RINGCAST_TRANSPORT_SEGMENT_INTERNAL_H_
#define RINGCAST_TRANSPORT_SEGMENT_INTERNAL_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/segment_layout.h"
#include "transport/shm_file.h"
#include "transport/shm_options.h"

namespace ringcast::transport::internal {

// absl::ErrnoToStatus naming the call and the path: "flock(/dev/shm/x)".
absl::Status Errno(int err, absl::string_view what, absl::string_view path);

// flock, retried on EINTR.
int Flock(int fd, int op);

// 0600, or 0660 with a configured group.
mode_t CreateMode(const ShmOptions& options);

// Opens an existing segment file for `flags` and checks its owner and mode
// before anything else is done with it. NotFound naming the segment.
absl::StatusOr<ShmFile> OpenExisting(const ShmOptions& options, const std::string& path,
                                     int flags);

// Validates the header of a mapping of `file_size` bytes, naming the
// segment, what was found and what was expected. REQUIRES: file_size >=
// sizeof(SegmentHeader).
absl::Status CheckHeader(const SegmentHeader& h, const std::string& path, SegmentKind kind,
                         std::uint64_t file_size);

// Maps `size` bytes of `fd`, every page faulted in.
absl::StatusOr<std::byte*> Map(int fd, std::uint64_t size, bool writable,
                               const std::string& path);

// posix_fallocate of [offset, offset + length) of the segment file behind
// `fd` at `path`: ResourceExhausted naming the bytes asked for and the
// bytes free in the directory when it is full.
absl::Status CommitRange(int fd, const std::string& path, std::uint64_t offset,
                         std::uint64_t length);

// True if a mapping of the file behind `fd`, `file_size` bytes long, holds
// a header whose magic was stored: its creator finished initialising it.
bool Initialised(int fd, std::uint64_t file_size);

}  // namespace ringcast::transport::internal

#endif  // RINGCAST_TRANSPORT_SEGMENT_INTERNAL_H_
