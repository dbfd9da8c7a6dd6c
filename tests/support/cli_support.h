// tests/support/cli_support.h: running the built `ringcast` command from a
// test. The child gets our environment without RINGCAST_DOMAIN and
// RINGCAST_CONFIG (plus RINGCAST_DOMAIN when a test asks for one), built
// before fork(), since tests fork while publisher threads run. Every wait
// is bounded: a command that hangs is killed and reported as exit -1.
#ifndef RINGCAST_TESTS_SUPPORT_CLI_SUPPORT_H_
#define RINGCAST_TESTS_SUPPORT_CLI_SUPPORT_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ringcast::testing {

inline constexpr absl::Duration kCliTimeout = absl::Seconds(60);

// A started `ringcast`, with pipes from its stdout and stderr.
struct CliChild {
  pid_t pid = -1;
  int out = -1;
  int err = -1;
};

// What a finished `ringcast` printed, and its exit code (128 + signal if it
// was killed by one; -1 if it did not end in time).
struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
  absl::Duration took;
  std::string command;  // "ringcast <args...>", for failure messages
};

// Starts `ringcast args...`; RINGCAST_DOMAIN=env_domain unless it is empty.
CliChild SpawnCli(const std::vector<std::string>& args, const std::string& env_domain = "");

// Reads `fd` until `until` holds for what was read so far, EOF, or
// `deadline`. Returns what was read.
std::string ReadUntil(int fd, absl::Time deadline,
                      const std::function<bool(const std::string&)>& until);

// The exit code of `pid` (128 + signal if killed by one); -1, and the
// child killed and reaped, if it has not ended by `deadline`.
int ReapCli(pid_t pid, absl::Time deadline);

// Reads both pipes of `child` to EOF (together, so neither can fill and
// stall it), closes them and reaps it, all within `timeout` of now.
CliResult FinishCli(const CliChild& child, absl::Duration timeout = kCliTimeout);

// SpawnCli then FinishCli.
CliResult RunCli(const std::vector<std::string>& args, const std::string& env_domain = "",
                 absl::Duration timeout = kCliTimeout);

}  // namespace ringcast::testing

#endif  // RINGCAST_TESTS_SUPPORT_CLI_SUPPORT_H_
