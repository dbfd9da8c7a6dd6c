// listener N: prints "ready" once subscribed, then takes greetings until it
// has seen count N-1. Exits 0 only if it got all N, in order, none lost.
#include <cstdio>
#include <cstdlib>

#include "greeter/greeting.ringcast.h"
#include "ringcast/ringcast.h"

int main(int argc, char** argv) {
  const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100;
  absl::StatusOr<ringcast::Context> ctx = ringcast::Context::Create();
  if (!ctx.ok()) return std::fprintf(stderr, "listener: %s\n", ctx.status().ToString().c_str()), 1;
  absl::StatusOr<ringcast::Node> node = ringcast::Node::Create(*ctx, "listener");
  if (!node.ok()) return std::fprintf(stderr, "listener: %s\n", node.status().ToString().c_str()), 1;
  auto sub = node->CreateSubscriber(greeter::topics::kGreeting);
  if (!sub.ok()) return std::fprintf(stderr, "listener: %s\n", sub.status().ToString().c_str()), 1;
  std::printf("ready\n");
  std::fflush(stdout);
  ringcast::Sample<greeter::flat::Greeting> g;
  std::uint64_t next = 0;
  while (next < n) {
    if (absl::Status s = sub->Wait(absl::Seconds(10)); !s.ok()) {
      return std::fprintf(stderr, "listener: got %lu of %lu: %s\n", next, n, s.ToString().c_str()), 1;
    }
    absl::StatusOr<bool> took;
    while ((took = sub->Take(&g)).ok() && *took) {
      if (g->count() != next || g.lost_before() != 0) {
        return std::fprintf(stderr, "listener: expected #%lu, got #%lu (%lu lost before it)\n",
                            next, g->count(), g.lost_before()), 1;
      }
      ++next;
    }
    if (!took.ok()) return std::fprintf(stderr, "listener: %s\n", took.status().ToString().c_str()), 1;
  }
  std::printf("received %lu of %lu\n", next, n);
  return 0;
}
