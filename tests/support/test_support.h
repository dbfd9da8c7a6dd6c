// tests/support/test_support.h: what every shared-memory test needs: a
// unique segment prefix, children with bounded lifetimes, and leak checks.
#ifndef RINGCAST_TESTS_SUPPORT_TEST_SUPPORT_H_
#define RINGCAST_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "transport/shm_options.h"

namespace ringcast::testing {

// The directory segments live in during tests (/dev/shm).
inline constexpr char kShmDir[] = "/dev/shm";

// A segment prefix no other test process uses: "ringcast-t<pid>-<n>". The
// leak check at exit fails the binary if any file with this process's
// prefix is left in /dev/shm (and removes it, so the machine stays clean).
std::string UniquePrefix();

// Default ShmOptions (/dev/shm, domain 0) with a UniquePrefix(): what every
// test that makes segments starts from.
transport::ShmOptions UniqueOptions();

// Files in `dir` whose names start with `prefix` (no leading '/').
std::vector<std::string> FilesWithPrefix(const std::string& dir,
                                         const std::string& prefix);

// Runs `body` in a forked child and waits; returns its exit code, or
// 128+signal. The child dies by SIGALRM after `timeout`, so a hang fails.
// Gtest assertions in the child are invisible: report by exit code.
int RunInChild(absl::FunctionRef<int()> body,
               absl::Duration timeout = absl::Seconds(60));

// Starts `body` in a forked child without waiting (it dies by SIGALRM after
// `timeout`). Pair with WaitChild or KillChild.
pid_t StartChild(absl::FunctionRef<int()> body,
                 absl::Duration timeout = absl::Seconds(60));

// Waits at most `timeout` for `pid`; returns its exit code, 128+signal, or
// -1 if it did not end in time (it is then killed and reaped).
int WaitChild(pid_t pid, absl::Duration timeout = absl::Seconds(60));

// SIGKILLs `pid` and reaps it.
void KillChild(pid_t pid);

// Polls `done` (every millisecond) until it holds or `timeout` passes;
// returns its last answer. For what another thread does in its own time.
bool WaitUntil(absl::FunctionRef<bool()> done, absl::Duration timeout = absl::Seconds(10));

// In a child (RunInChild): moves this process into a private mount
// namespace and mounts a tmpfs with `options` (e.g. "size=4m") on `dir`.
// 0, or the step that failed: 1 unshare, 2 making mounts private, 3 the
// mount.
int MountPrivateTmpfs(const std::string& dir, const char* options);

// Why this process cannot mount a small tmpfs in a private mount namespace
// (not root; no CAP_SYS_ADMIN, as in a chroot or an unprivileged
// container), or "" when it can. Probed once, in a child, by doing it.
// Tests that need it: `if (auto why = WhyNoPrivateTmpfs(); !why.empty())
// GTEST_SKIP() << why;`
std::string WhyNoPrivateTmpfs();

// Why a test that needs `bytes` of /dev/shm cannot run here (less is free,
// as in a container's default 64 MiB), or "". Tests that need more than a
// few MiB: `if (auto why = WhyTooLittleShm(n); !why.empty()) GTEST_SKIP() << why;`
std::string WhyTooLittleShm(std::uint64_t bytes);

}  // namespace ringcast::testing

#endif  // RINGCAST_TESTS_SUPPORT_TEST_SUPPORT_H_
