#include "tests/support/test_support.h"

#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "transport/liveness.h"

namespace ringcast::testing {

std::string UniquePrefix() {
  static std::atomic<int> counter{0};
  // Relaxed: only uniqueness within this process matters.
  return absl::StrCat("ringcast-t", ::getpid(), "-",
                      counter.fetch_add(1, std::memory_order_relaxed));
}

transport::ShmOptions UniqueOptions() {
  transport::ShmOptions o;
  o.prefix = UniquePrefix();
  return o;
}

std::vector<std::string> FilesWithPrefix(const std::string& dir,
                                         const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    if (absl::StartsWith(e->d_name, prefix)) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

pid_t StartChild(absl::FunctionRef<int()> body, absl::Duration timeout) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(static_cast<unsigned>(absl::ToInt64Seconds(timeout)) + 1);
    const int code = body();
    // What a clean exit's atexit would do, without gtest's second teardown.
    transport::ReleaseProcessTokens();
    ::_exit(code);
  }
  return pid;
}

int WaitChild(pid_t pid, absl::Duration timeout) {
  if (pid <= 0) return -1;
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (absl::Now() > deadline) {
      KillChild(pid);
      return -1;
    }
    ::usleep(1000);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

int RunInChild(absl::FunctionRef<int()> body, absl::Duration timeout) {
  return WaitChild(StartChild(body, timeout), timeout + absl::Seconds(5));
}

void KillChild(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

int MountPrivateTmpfs(const std::string& dir, const char* options) {
  if (::unshare(CLONE_NEWNS) != 0) return 1;
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 2;
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options) != 0) return 3;
  return 0;
}

std::string WhyNoPrivateTmpfs() {
  static const std::string why = [] {
    if (::geteuid() != 0) return std::string("needs root to mount a tmpfs");
    char tmpl[] = "/tmp/ringcast-probe-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return std::string("cannot make a scratch directory in /tmp");
    const std::string dir = tmpl;
    const int step =
        RunInChild([&] { return MountPrivateTmpfs(dir, "size=64k"); }, absl::Seconds(10));
    ::rmdir(dir.c_str());
    switch (step) {
      case 0: return std::string();
      case 1: return std::string("cannot make a private mount namespace (unshare(CLONE_NEWNS) "
                                 "refused: no CAP_SYS_ADMIN here, as in a chroot or container)");
      case 2: return std::string("cannot make mounts private (mount MS_PRIVATE refused: "
                                 "a chroot or container)");
      case 3: return std::string("cannot mount a tmpfs in a private mount namespace");
      default: return "the mount probe's child ended with code " + std::to_string(step);
    }
  }();
  return why;
}

bool WaitUntil(absl::FunctionRef<bool()> done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return done();
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

std::string WhyTooLittleShm(std::uint64_t bytes) {
  struct statvfs vfs {};
  if (::statvfs(kShmDir, &vfs) != 0) return absl::StrCat("cannot statvfs ", kShmDir);
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free_bytes >= bytes) return "";
  return absl::StrCat("needs ", bytes >> 20, " MiB of ", kShmDir, ", which has ",
                      free_bytes >> 20, " MiB free (a container's default is 64 MiB; "
                      "Docker: --shm-size)");
}

}  // namespace ringcast::testing
