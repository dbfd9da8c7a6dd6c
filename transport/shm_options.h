// transport/shm_options.h: where segments live and what they are called.
#ifndef RINGCAST_TRANSPORT_SHM_OPTIONS_H_
#define RINGCAST_TRANSPORT_SHM_OPTIONS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace ringcast::transport {

// Every segment of one domain is named "/<prefix>.<domain>.<rest>" and lives
// in `dir`. Two domains, or two prefixes, never see each other.
struct ShmOptions {
  // The directory that holds segments. POSIX shared memory on Linux is
  // /dev/shm; tests may point this at a small private tmpfs.
  std::string dir = "/dev/shm";
  // First component of every segment name: [A-Za-z0-9_-], 1..64 chars.
  std::string prefix = "ringcast";
  // RINGCAST_DOMAIN; 0..65535.
  std::uint32_t domain = 0;
  // When set, segments are created 0660 and owned by this group, and
  // segments of other users in this group are accepted. Otherwise 0600 and
  // only segments this user owns are opened.
  std::optional<gid_t> group;
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_SHM_OPTIONS_H_
