// ringcast: the command-line tool. It answers questions about a domain and
// drives its topics; `ringcast --help` and `ringcast VERB --help` are its
// usage, and cli/README.md its guide with examples.
//
// This file builds the one CLI11 app: the global options (--domain, else
// RINGCAST_DOMAIN, else 0; --prefix; --dir), the verb groups, and the
// translation of every parse error into one line on stderr and exit 2.
// Runtime errors are one line and exit 1 (cli/verbs.h).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "cli/verbs.h"
#include "ringcast/context.h"
#include "transport/names.h"

#ifndef RINGCAST_VERSION
#error "RINGCAST_VERSION must be the project's version (cli/CMakeLists.txt)"
#endif

namespace ringcast::cli {
namespace {

// "" if `text` is a domain number, else what is wrong with it.
std::string DomainProblem(const std::string& text) {
  std::uint32_t d = 0;
  if (absl::SimpleAtoi(text, &d) && d <= 65535) return "";
  return absl::StrCat("'", text, "' is not a domain number (0..65535)");
}

// The verb chosen so far: the deepest subcommand that was parsed.
const CLI::App* Deepest(const CLI::App& app) {
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
  return at;
}

// "topic info" for the subcommand `at`; "" for the root.
std::string PathOf(const CLI::App* at) {
  std::vector<std::string> names;
  for (; at != nullptr && at->get_parent() != nullptr; at = at->get_parent()) {
    names.insert(names.begin(), at->get_name());
  }
  return absl::StrJoin(names, " ");
}

std::string VerbNames(const CLI::App* group) {
  std::vector<std::string> names;
  for (const CLI::App* sub : group->get_subcommands({})) names.push_back(sub->get_name());
  return absl::StrJoin(names, ", ");
}

// What a CLI11 parse error means here, in one line.
std::string Explain(const CLI::App& app, const CLI::ParseError& e) {
  const CLI::App* at = Deepest(app);
  const std::string where = PathOf(at);
  const std::vector<std::string> extras = app.remaining(/*recurse=*/true);
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr && !extras.empty()) {
    const std::string& first = extras.front();
    if (first.size() > 1 && first[0] == '-') {
      return where.empty() ? absl::StrCat("unknown flag ", first)
                           : absl::StrCat("unknown flag ", first, " for `", where, "`");
    }
    if (!at->get_subcommands({}).empty()) {
      return absl::StrCat("unknown verb '", where.empty() ? "" : where + " ", first, "'; ",
                          where.empty() ? "verbs" : "verbs of `" + where + "`", ": ",
                          VerbNames(at));
    }
    return absl::StrCat("unexpected argument '", first, "' for `", where, "`");
  }
  std::string what = absl::StrReplaceAll(e.what(), {{"\n", " "}});
  // "TOPIC is required" says more with its verb; an option's error names
  // the option already.
  const bool verbs_own = dynamic_cast<const CLI::RequiredError*>(&e) != nullptr;
  return where.empty() || !verbs_own ? what : absl::StrCat(where, ": ", what);
}

// Appends the group's verbs to its one-line description, so that
// `ringcast --help` names every verb (those AddLiveVerbs added too).
void DescribeGroup(CLI::App* group, const std::string& what) {
  group->description(absl::StrCat(what, ": ", VerbNames(group)));
}

int Main(int argc, char** argv) {
  CLI::App app("ringcast: looks into a ringcast domain (nodes, topics, message types, what "
               "the dead left in shared memory) and drives its topics.",
               "ringcast");
  // Global options are accepted after the verb too (`topic list --domain 3`).
  app.fallthrough();
  app.set_help_flag("-h,--help", "print this help and exit (every verb has its own --help)");
  app.set_version_flag("--version", "ringcast " RINGCAST_VERSION, "print the version and exit");
  app.footer("Domain, prefix, directory and group are what a program of the domain would use: "
             "the flags, else $RINGCAST_DOMAIN, else the YAML file (--config or $RINGCAST_CONFIG), else "
             "domain 0 in /dev/shm. Errors are one line on stderr; the exit code is 2 for a "
             "usage error, 1 for any other.");

  Globals globals;
  std::uint32_t domain = 0;
  std::string prefix = globals.options.prefix, dir = globals.options.dir;
  CLI::Option* domain_flag =
      app.add_option("--domain", domain,
                     "the domain, 0..65535 (default: $RINGCAST_DOMAIN, else the config's, else 0)")
          ->type_name("N")
          ->check([](const std::string& text) { return DomainProblem(text); });
  CLI::Option* prefix_flag =
      app.add_option("--prefix", prefix,
                     "first part of every segment name ([A-Za-z0-9_-], 1..64 characters)")
          ->type_name("P")
          ->capture_default_str();
  CLI::Option* dir_flag =
      app.add_option("--dir", dir, "the directory that holds the segments")
          ->type_name("D")
          ->capture_default_str();
  std::string config;
  CLI::Option* config_flag =
      app.add_option("--config", config,
                     "the YAML file the domain's programs read (default: $RINGCAST_CONFIG)")
          ->type_name("FILE");

  std::function<int()> run;
  Verbs verbs;
  verbs.app = &app;
  verbs.node = app.add_subcommand("node", "");
  verbs.topic = app.add_subcommand("topic", "");
  verbs.type = app.add_subcommand("type", "");
  verbs.globals = &globals;
  verbs.run = &run;
  AddGraphVerbs(verbs);
  AddLiveVerbs(verbs);
  DescribeGroup(verbs.node, "the participants");
  DescribeGroup(verbs.topic, "the topics");
  DescribeGroup(verbs.type, "the message types");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return UsageError(Explain(app, e));
  }

  // Where to look: what Context::Create gives any program of the domain
  // (defaults, $RINGCAST_CONFIG, $RINGCAST_DOMAIN), with the flags as code.
  ::ringcast::ContextOptions where;
  if (config_flag->count() > 0) where.config_file = config;
  if (domain_flag->count() > 0) where.overrides.domain = domain;
  if (prefix_flag->count() > 0) where.overrides.shm_prefix = prefix;
  if (dir_flag->count() > 0) where.overrides.shm_dir = dir;
  absl::StatusOr<::ringcast::Context> context = ::ringcast::Context::Create(where);
  if (!context.ok()) return UsageError(std::string(context.status().message()));
  globals.options = context->shm();
  if (!run) {
    const CLI::App* at = Deepest(app);
    if (at == &app) return UsageError(absl::StrCat("a verb is needed: ", VerbNames(&app)));
    return UsageError(absl::StrCat("`", PathOf(at), "` needs a verb: ", VerbNames(at)));
  }
  try {
    return run();
  } catch (const std::exception& e) {
    // Nothing below should throw; if it does, still one line.
    return Fail(absl::InternalError(absl::StrCat("unexpected error: ", e.what())));
  }
}

}  // namespace
}  // namespace ringcast::cli

int main(int argc, char** argv) { return ringcast::cli::Main(argc, argv); }
