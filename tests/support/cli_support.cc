#include "tests/support/cli_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace ringcast::testing {
namespace {

int PollMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  return left <= absl::ZeroDuration() ? 0 : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

}  // namespace

CliChild SpawnCli(const std::vector<std::string>& args, const std::string& env_domain) {
  // Everything the child needs is built before fork(): between fork and
  // exec only async-signal-safe calls.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "RINGCAST_DOMAIN=") && !absl::StartsWith(*e, "RINGCAST_CONFIG=")) {
      env.emplace_back(*e);
    }
  }
  if (!env_domain.empty()) env.push_back(absl::StrCat("RINGCAST_DOMAIN=", env_domain));
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> all = {"ringcast"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {};
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return {};
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execve(RINGCAST_CLI_PATH, argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    return {};
  }
  return {pid, out[0], err[0]};
}

std::string ReadUntil(int fd, absl::Time deadline,
                      const std::function<bool(const std::string&)>& until) {
  std::string got;
  char buf[65536];
  while (!until(got)) {
    const int ms = PollMs(deadline);
    if (ms == 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

int ReapCli(pid_t pid, absl::Time deadline) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 || absl::Now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

CliResult FinishCli(const CliChild& child, absl::Duration timeout) {
  CliResult r;
  if (child.pid <= 0) return r;
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + timeout;
  pollfd fds[2] = {{child.out, POLLIN, 0}, {child.err, POLLIN, 0}};
  std::string* into[2] = {&r.out, &r.err};
  char buf[65536];
  int open = 2;
  while (open > 0) {
    const int ms = PollMs(deadline);
    if (ms == 0) break;
    if (::poll(fds, 2, ms) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        into[i]->append(buf, static_cast<std::size_t>(n));
      } else {
        fds[i].fd = -1;  // EOF (or an error): poll ignores negative fds
        --open;
      }
    }
  }
  ::close(child.out);
  ::close(child.err);
  r.code = ReapCli(child.pid, deadline);
  r.took = absl::Now() - start;
  return r;
}

CliResult RunCli(const std::vector<std::string>& args, const std::string& env_domain,
                 absl::Duration timeout) {
  CliResult r = FinishCli(SpawnCli(args, env_domain), timeout);
  r.command = absl::StrCat("ringcast ", absl::StrJoin(args, " "));
  return r;
}

}  // namespace ringcast::testing
