#include "transport/process.h"

#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringcast::transport {
ssize_t ReadSmallFile(const std::string& path, char* buf, std::size_t cap) {
  // O_NONBLOCK: /proc files never block, and a FIFO planted at a
  // substituted path (a container's odd /proc) must not either.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return -1;
  const ssize_t n = ::read(fd, buf, cap - 1);
  ::close(fd);
  if (n >= 0) buf[n] = '\0';
  return n;
}

std::uint64_t ProcessStartTime(pid_t pid) {
  char buf[1024];
  if (ReadSmallFile(absl::StrCat("/proc/", pid, "/stat"), buf, sizeof buf) <= 0) {
    return 0;
  }
  // Field 2 (comm) may hold spaces and parentheses: skip to the last ')'.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return 0;
  // After ") " comes field 3; field 22 is 19 fields further on.
  for (int field = 2; field < 22 && p != nullptr; ++field) {
    p = std::strchr(p + 1, ' ');
  }
  return p == nullptr ? 0 : std::strtoull(p + 1, nullptr, 10);
}

std::string ProcessName(pid_t pid) {
  char buf[64];
  const ssize_t n =
      ReadSmallFile(absl::StrCat("/proc/", pid, "/comm"), buf, sizeof buf);
  if (n <= 0) return "";
  std::string name(buf, static_cast<std::size_t>(n));
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

std::int64_t WallNanos() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::uint64_t RandomNonZeroId() {
  std::uint64_t id = 0;
  while (id == 0) {
    if (::getrandom(&id, sizeof id, 0) != sizeof id) id = 0;
  }
  return id;
}

}  // namespace ringcast::transport
