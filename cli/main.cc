// ringcast: answers questions about a domain.
//
//   ringcast [--domain=N] [--prefix=P] [--dir=D] node list [--json] [--watch]
//   ringcast [...] topic list [--json] [--watch]
//   ringcast [...] topic info TOPIC [--json]
//   ringcast [...] doctor [--clean] [--json]
//
// The domain comes from --domain, else RINGCAST_DOMAIN, else 0. Errors are
// one line on stderr and a non-zero exit (2 for a usage error). --watch
// redraws whenever the registry changes (it sleeps on the registry's
// futex) and stops cleanly on Ctrl-C (SIGINT) or SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/inspect.h"
#include "transport/names.h"

namespace ringcast::cli {
namespace {

constexpr char kUsage[] =
    "usage: ringcast [--domain=N] [--prefix=P] [--dir=D] VERB\n"
    "verbs:\n"
    "  node list [--json] [--watch]    nodes with pid, executable, endpoint counts\n"
    "  topic list [--json] [--watch]   topics with type, publisher and subscriber counts\n"
    "  topic info TOPIC [--json]       one topic: type, ring, memory, every endpoint\n"
    "                                  with its node, pid and QoS, each subscriber's\n"
    "                                  lag and losses\n"
    "  doctor [--clean] [--json]       what dead processes and strangers left (entries,\n"
    "                                  segments, pools, planted files, corrupt values);\n"
    "                                  exits 1 if any, or if something could not be\n"
    "                                  checked; --clean removes what can be removed\n"
    "The domain is --domain, else $RINGCAST_DOMAIN, else 0. Listings reclaim what\n"
    "dead processes left. --watch redraws on every change until Ctrl-C.\n";

// How often a watch re-checks liveness when nothing changes: a kill -9
// does not bump the registry's generation, so the dead are noticed here.
constexpr absl::Duration kWatchRecheck = absl::Seconds(2);

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// One line on stderr; `ringcast --help` prints the verbs.
int Usage(const std::string& why) {
  std::fprintf(stderr, "ringcast: %s (see ringcast --help)\n", why.c_str());
  return 2;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "ringcast: %s\n", std::string(s.message()).c_str());
  return 1;
}

absl::Status ParseDomain(absl::string_view text, absl::string_view from,
                         transport::ShmOptions* options) {
  std::uint32_t d = 0;
  if (!absl::SimpleAtoi(text, &d) || d > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(from, "='", text, "' is not a domain number (0..65535)"));
  }
  options->domain = d;
  return absl::OkStatus();
}

// Renders with `render` after each refresh; with watch, again on every
// change until a signal. Returns the exit code.
int List(Domain& domain, bool watch, bool json,
         const std::function<std::string(const Domain&)>& render) {
  if (!watch) {
    if (absl::Status s = domain.Refresh(); !s.ok()) return Fail(s);
    std::fputs(render(domain).c_str(), stdout);
    return 0;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: a sleeping futex returns
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  std::string last;
  while (g_stop == 0) {
    if (absl::Status s = domain.Refresh(); !s.ok()) return Fail(s);
    std::string frame = render(domain);
    if (frame != last) {
      // A terminal is redrawn in place; a pipe gets one frame after another
      // (JSON: one object per line).
      if (tty && !json) std::fputs("\x1b[H\x1b[2J", stdout);
      std::fputs(frame.c_str(), stdout);
      if (!tty && !json) std::fputs("\n", stdout);
      std::fflush(stdout);
      last = std::move(frame);
    }
    domain.WaitForChange(kWatchRecheck);
  }
  return 0;
}

int Main(int argc, char** argv) {
  transport::ShmOptions options;
  if (const char* env = std::getenv("RINGCAST_DOMAIN"); env != nullptr && *env != '\0') {
    if (absl::Status s = ParseDomain(env, "RINGCAST_DOMAIN", &options); !s.ok()) {
      return Usage(std::string(s.message()));
    }
  }
  bool json = false, clean = false, watch = false;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--domain=", 0) == 0 || (a == "--domain" && i + 1 < argc)) {
      const std::string v = a == "--domain" ? argv[++i] : a.substr(9);
      if (absl::Status s = ParseDomain(v, "--domain", &options); !s.ok()) {
        return Usage(std::string(s.message()));
      }
    } else if (a.rfind("--prefix=", 0) == 0) {
      options.prefix = a.substr(9);
    } else if (a.rfind("--dir=", 0) == 0) {
      options.dir = a.substr(6);
    } else if (a == "--json") {
      json = true;
    } else if (a == "--clean") {
      clean = true;
    } else if (a == "--watch" || a == "-w") {
      watch = true;
    } else if (a == "--help" || a == "-h" || a == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a.rfind("-", 0) == 0) {
      return Usage(absl::StrCat("unknown flag ", a));
    } else {
      words.push_back(a);
    }
  }
  if (absl::Status s = transport::ValidateShmOptions(options); !s.ok()) {
    return Usage(std::string(s.message()));
  }
  if (words.empty()) return Usage("no verb given");
  const std::string verb = words.size() >= 2 ? words[0] + " " + words[1] : words[0];
  if (watch && verb != "node list" && verb != "topic list") {
    return Usage("--watch applies to `node list` and `topic list` only");
  }
  if (clean && verb != "doctor") return Usage("--clean applies to `doctor` only");
  Domain domain(options);
  if (verb == "node list" && words.size() == 2) {
    return List(domain, watch, json, [json](const Domain& d) {
      return json ? NodeListJson(d.options(), d.Nodes()) : NodeListText(d.Nodes());
    });
  }
  if (verb == "topic list" && words.size() == 2) {
    return List(domain, watch, json, [json](const Domain& d) {
      return json ? TopicListJson(d.options(), d.Topics()) : TopicListText(d.Topics());
    });
  }
  if (verb == "topic info") {
    if (words.size() != 3) return Usage("topic info takes one TOPIC, e.g. /camera/image");
    if (absl::Status s = domain.Refresh(); !s.ok()) return Fail(s);
    absl::StatusOr<TopicDetail> info = domain.Describe(words[2]);
    if (!info.ok()) return Fail(info.status());
    std::fputs((json ? TopicInfoJson(*info) : TopicInfoText(*info)).c_str(), stdout);
    return 0;
  }
  if (verb == "doctor" && words.size() == 1) {
    absl::StatusOr<DoctorReport> report = Doctor(options, clean);
    if (!report.ok()) return Fail(report.status());
    std::fputs((json ? DoctorJson(*report) : DoctorText(*report)).c_str(), stdout);
    // Non-zero when something is stale (and was not cleaned), when
    // something could not be checked at all, or when something is there
    // that --clean never removes: a file someone planted at one of our
    // names, corrupt values met, a corrupt pool.
    const discovery::OrphanReport& o = report->orphans;
    if (!report->errors.empty() || !o.foreign_files.empty() || !o.anomalies.empty() ||
        !o.corrupt_pools.empty()) {
      return 1;
    }
    return report->healthy() || clean ? 0 : 1;
  }
  std::string given;
  for (const std::string& w : words) absl::StrAppend(&given, given.empty() ? "" : " ", w);
  return Usage(absl::StrCat("unknown verb '", given, "'"));
}

}  // namespace
}  // namespace ringcast::cli

int main(int argc, char** argv) { return ringcast::cli::Main(argc, argv); }
