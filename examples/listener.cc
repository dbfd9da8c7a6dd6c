// listener: the hello-world's subscriber. Prints every line said on
// /chatter, and how many it missed, until --count N lines have arrived (or
// forever) or --timeout S seconds pass without one.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "examples/chatter.ringcast.h"
#include "ringcast/ringcast.h"

int main(int argc, char** argv) {
  long count = -1, timeout_s = 3600;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--count") == 0) count = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--timeout") == 0) timeout_s = std::atol(argv[i + 1]);
  }
  auto ctx = ringcast::Context::Create();
  if (!ctx.ok()) return std::fprintf(stderr, "listener: %s\n", ctx.status().ToString().c_str()), 1;
  auto node = ringcast::Node::Create(*ctx, "listener");
  if (!node.ok()) return std::fprintf(stderr, "listener: %s\n", node.status().ToString().c_str()), 1;
  auto sub = node->CreateSubscriber(examples::topics::kChatter);
  if (!sub.ok()) return std::fprintf(stderr, "listener: %s\n", sub.status().ToString().c_str()), 1;
  for (long got = 0; count < 0 || got < count;) {
    if (!sub->Wait(absl::Seconds(timeout_s)).ok()) {
      std::fprintf(stderr, "listener: nothing on /chatter for %lds\n", timeout_s);
      return 2;
    }
    for (;;) {
      auto sample = sub->Take();  // StatusOr<optional<Sample>>
      if (!sample.ok()) {
        std::fprintf(stderr, "listener: %s\n", sample.status().ToString().c_str());
        break;
      }
      if (!*sample) break;  // nothing more for now
      const ringcast::Sample<examples::flat::Chatter>& s = **sample;
      if (s.lost_before() > 0) std::printf("(missed %lu lines)\n", s.lost_before());
      std::printf("heard #%lu: %.*s\n", s->count(), static_cast<int>(s->text().size()),
                  s->text().data());
      ++got;
    }
    std::fflush(stdout);
  }
  return 0;
}
