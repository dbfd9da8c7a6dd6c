// transport/process.h: facts about processes, for people to read (a pid and
// its start time may prove a process alive in this PID namespace; liveness
// itself is decided by transport/liveness.h).
#ifndef RINGCAST_TRANSPORT_PROCESS_H_
#define RINGCAST_TRANSPORT_PROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ringcast::transport {

// Field 22 of /proc/<pid>/stat (clock ticks after boot), or 0 if unreadable.
std::uint64_t ProcessStartTime(pid_t pid);

// The executable's name (/proc/<pid>/comm), or "" if unreadable.
std::string ProcessName(pid_t pid);

// A random 64-bit id, never 0 (getrandom): liveness tokens and pool ids.
std::uint64_t RandomNonZeroId();

// Reads up to `cap`-1 bytes of a small /proc file with one read (a
// seq_file gives whole records), NUL-terminated; returns the length or -1.
ssize_t ReadSmallFile(const std::string& path, char* buf, std::size_t cap);

// CLOCK_REALTIME in nanoseconds: publish times are wall-clock so that
// processes (and people) can compare them.
std::int64_t WallNanos();

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_PROCESS_H_
