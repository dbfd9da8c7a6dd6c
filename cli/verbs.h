// cli/verbs.h: how the `ringcast` verbs plug into the command line. main.cc
// builds one CLI11 app with the global options (--domain, --prefix, --dir)
// and asks each group of verbs to add its subcommands; a parsed subcommand
// leaves its action in `Verbs::run`, which main calls once parsing is done.
//
//   ringcast [--domain N] [--prefix P] [--dir D] node list|info ...
//   ringcast [...] topic list|info|echo|hz|bw|delay|pub ...
//   ringcast [...] type list|show ...   ringcast [...] top   ringcast [...] doctor
//   ringcast [...] record|play ...   ringcast bag info|recover ...
//
// Errors are one line on stderr ("ringcast: ...") and exit 1; usage errors
// exit 2. Long-running verbs stop cleanly on SIGINT and SIGTERM.
#ifndef RINGCAST_CLI_VERBS_H_
#define RINGCAST_CLI_VERBS_H_

#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json_fwd.hpp"
#include "transport/shm_options.h"

namespace ringcast::cli {

// What every verb gets: the domain's shared-memory options (filled in from
// the global options and RINGCAST_DOMAIN before any action runs).
struct Globals {
  transport::ShmOptions options;
};

// The subcommand groups; main.cc creates `node`, `topic` and `type` and
// passes them here. Each Add* adds its verbs and, for the one parsed,
// sets `*run` to its action (the exit code it returns is the process's).
struct Verbs {
  CLI::App* app = nullptr;    // the root: `top`, `doctor`, `record`, `play`, `bag`
  CLI::App* node = nullptr;   // `node ...`
  CLI::App* topic = nullptr;  // `topic ...`
  CLI::App* type = nullptr;   // `type ...`
  const Globals* globals = nullptr;
  std::function<int()>* run = nullptr;
};

// node list/info, topic list/info, type list/show, doctor (graph_verbs.cc).
void AddGraphVerbs(const Verbs& verbs);
// topic echo/hz/bw/delay/pub, top, record, play and bag (live verbs, one
// file each).
void AddLiveVerbs(const Verbs& verbs);

// Prints "ringcast: <message>" on stderr and returns 1.
int Fail(const absl::Status& status);
// Prints "ringcast: <why> (see ringcast --help)" on stderr and returns 2.
int UsageError(const std::string& why);

// `j` as one line of JSON and a newline (what --json prints; a watch
// prints one such line per frame). Strings that are not UTF-8 (names read
// from a corrupt segment) come out with U+FFFD instead of throwing.
std::string JsonLine(const nlohmann::ordered_json& j);

// Long-running verbs: StopOnSignals() makes SIGINT and SIGTERM set a flag
// (without SA_RESTART, so a sleeping futex or nanosleep returns early);
// StopRequested() reads it. SleepUnlessStopped sleeps up to `d` and
// returns false once a stop was requested.
void StopOnSignals();
bool StopRequested();
bool SleepUnlessStopped(absl::Duration d);

// A status line on a terminal (stderr): redrawn in place with "\r" and
// cleared at the end; off a terminal, one line per call at most once a
// second, so logs stay readable.
class StatusLine {
 public:
  StatusLine();
  ~StatusLine();  // ends the line
  void Show(const std::string& text);

 private:
  bool tty_;
  absl::Time last_;
  std::size_t width_ = 0;
};

}  // namespace ringcast::cli

#endif  // RINGCAST_CLI_VERBS_H_
