// cli/graph_verbs.cc: the verbs that read discovery's graph once (or on
// every change, with --watch): node list/info, topic list/info, type
// list/show, doctor.
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cli/inspect.h"
#include "cli/types.h"
#include "cli/verbs.h"

namespace ringcast::cli {
namespace {

// How often a watch re-checks liveness when nothing changes: a kill -9
// does not bump the registry's generation, so the dead are noticed here.
constexpr absl::Duration kWatchRecheck = absl::Seconds(2);

// What the verbs' options parse into. Shared by the subcommands' callbacks,
// so it lives as long as the app that holds them.
struct Flags {
  bool json = false;
  bool watch = false;
  bool clean = false;
  std::string name;  // NODE, TOPIC or TYPE
};

using Render = std::function<std::string(const Domain&)>;

// Renders with `render` after a refresh; with watch, again on every change
// until SIGINT or SIGTERM. Returns the exit code.
int List(const Globals& g, bool watch, bool json, const Render& render) {
  Domain domain(g.options);
  if (!watch) {
    if (absl::Status s = domain.Refresh(); !s.ok()) return Fail(s);
    std::fputs(render(domain).c_str(), stdout);
    return 0;
  }
  StopOnSignals();
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  std::string last;
  while (!StopRequested()) {
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

// Refreshes once and prints what `render` makes of the domain, or fails
// with its error.
int Once(const Globals& g,
         const std::function<absl::StatusOr<std::string>(const Domain&)>& render) {
  Domain domain(g.options);
  if (absl::Status s = domain.Refresh(); !s.ok()) return Fail(s);
  absl::StatusOr<std::string> out = render(domain);
  if (!out.ok()) return Fail(out.status());
  std::fputs(out->c_str(), stdout);
  return 0;
}

int RunDoctor(const Globals& g, const Flags& f) {
  absl::StatusOr<DoctorReport> report = Doctor(g.options, f.clean);
  if (!report.ok()) return Fail(report.status());
  std::fputs((f.json ? DoctorJson(g.options, *report) : DoctorText(g.options, *report)).c_str(), stdout);
  return report->found_trouble() ? 1 : 0;
}

// Adds verb `name` to `group`, with its own flags; `action` runs once the
// command line is parsed, if this verb was chosen.
CLI::App* AddVerb(const Verbs& verbs, CLI::App* group, const std::string& name,
                  const std::string& what, const std::shared_ptr<Flags>& flags,
                  std::function<int(const Globals&, const Flags&)> action) {
  CLI::App* verb = group->add_subcommand(name, what);
  verb->callback([verbs, flags, action = std::move(action)] {
    *verbs.run = [g = verbs.globals, flags, action] { return action(*g, *flags); };
  });
  return verb;
}

void AddJson(CLI::App* verb, Flags* f) {
  verb->add_flag("--json", f->json, "print one JSON object (one line) instead of a table");
}
void AddWatch(CLI::App* verb, Flags* f) {
  verb->add_flag("-w,--watch", f->watch,
                 "print again on every change until Ctrl-C (JSON: one object per line)");
}

}  // namespace

void AddGraphVerbs(const Verbs& verbs) {
  // One set of flags per verb, so that a flag parsed for one never leaks
  // into another.
  auto node_list = std::make_shared<Flags>();
  CLI::App* v = AddVerb(verbs, verbs.node, "list",
                        "every node: pid, executable, publisher and subscriber counts",
                        node_list, [](const Globals& g, const Flags& f) {
                          return List(g, f.watch, f.json, [json = f.json](const Domain& d) {
                            return json ? NodeListJson(d.options(), d.Nodes())
                                        : NodeListText(d.Nodes());
                          });
                        });
  AddJson(v, node_list.get());
  AddWatch(v, node_list.get());

  auto node_info = std::make_shared<Flags>();
  v = AddVerb(verbs, verbs.node, "info",
              "one node: its process, and every endpoint with topic, type, QoS and counters",
              node_info, [](const Globals& g, const Flags& f) {
                return Once(g, [&f](const Domain& d) -> absl::StatusOr<std::string> {
                  absl::StatusOr<std::vector<NodeDetail>> n = d.DescribeNode(f.name);
                  if (!n.ok()) return n.status();
                  return f.json ? NodeInfoJson(d.options(), *n) : NodeInfoText(*n);
                });
              });
  v->add_option("NODE", node_info->name, "the node's name (as `ringcast node list` shows it)")
      ->required();
  AddJson(v, node_info.get());

  auto topic_list = std::make_shared<Flags>();
  v = AddVerb(verbs, verbs.topic, "list",
              "every topic: type, type hash, publisher and subscriber counts", topic_list,
              [](const Globals& g, const Flags& f) {
                return List(g, f.watch, f.json, [json = f.json](const Domain& d) {
                  return json ? TopicListJson(d.options(), d.Topics())
                              : TopicListText(d.Topics());
                });
              });
  AddJson(v, topic_list.get());
  AddWatch(v, topic_list.get());

  auto topic_info = std::make_shared<Flags>();
  v = AddVerb(verbs, verbs.topic, "info",
              "one topic: type, ring, memory, every endpoint with node, QoS, lag and losses",
              topic_info, [](const Globals& g, const Flags& f) {
                return Once(g, [&f](const Domain& d) -> absl::StatusOr<std::string> {
                  absl::StatusOr<TopicDetail> t = d.Describe(f.name);
                  if (!t.ok()) return t.status();
                  return f.json ? TopicInfoJson(*t) : TopicInfoText(*t);
                });
              });
  v->add_option("TOPIC", topic_info->name, "the topic's name, e.g. /camera/image")->required();
  AddJson(v, topic_info.get());

  auto type_list = std::make_shared<Flags>();
  v = AddVerb(verbs, verbs.type, "list",
              "every registered message type: hash, flat head size, descriptor size", type_list,
              [](const Globals& g, const Flags& f) {
                return Once(g, [&f](const Domain& d) -> absl::StatusOr<std::string> {
                  std::vector<TypeInfo> types;
                  for (const TypeRecordRow& t : d.Types()) {
                    types.push_back(DescribeType(t, /*with_source=*/false));
                  }
                  return f.json ? TypeListJson(d.options(), types) : TypeListText(types);
                });
              });
  AddJson(v, type_list.get());

  auto type_show = std::make_shared<Flags>();
  v = AddVerb(verbs, verbs.type, "show",
              "one type's .proto source, rebuilt from its stored descriptor, with hash and size",
              type_show, [](const Globals& g, const Flags& f) {
                return Once(g, [&f](const Domain& d) -> absl::StatusOr<std::string> {
                  absl::StatusOr<std::vector<TypeInfo>> t =
                      FindType(d.options(), d.Types(), f.name);
                  if (!t.ok()) return t.status();
                  return f.json ? TypeShowJson(d.options(), *t) : TypeShowText(*t);
                });
              });
  v->add_option("TYPE", type_show->name, "the type's full name, e.g. ringcast.msgs.String")
      ->required();
  AddJson(v, type_show.get());

  auto doctor = std::make_shared<Flags>();
  v = AddVerb(verbs, verbs.app, "doctor",
              "what dead processes and strangers left in shared memory; exits 1 if anything",
              doctor, RunDoctor);
  v->add_flag("--clean", doctor->clean,
              "remove what can be removed (files ringcast did not make stay, and are named)");
  AddJson(v, doctor.get());
}

}  // namespace ringcast::cli
