#include "tests/support/test_support.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

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

}  // namespace ringcast::testing
