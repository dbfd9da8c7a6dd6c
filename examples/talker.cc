// talker: the hello-world's publisher. Says one numbered line on /chatter
// ten times a second (or --count N lines, then exits).
//
//   build/examples/talker            # in one terminal
//   build/examples/listener          # in another
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/time/clock.h"
#include "examples/chatter.ringcast.h"
#include "ringcast/ringcast.h"

int main(int argc, char** argv) {
  const long count = argc > 2 && std::strcmp(argv[1], "--count") == 0 ? std::atol(argv[2]) : -1;
  auto ctx = ringcast::Context::Create();
  if (!ctx.ok()) return std::fprintf(stderr, "talker: %s\n", ctx.status().ToString().c_str()), 1;
  auto node = ringcast::Node::Create(*ctx, "talker");
  if (!node.ok()) return std::fprintf(stderr, "talker: %s\n", node.status().ToString().c_str()), 1;
  auto pub = node->CreatePublisher(examples::topics::kChatter);
  if (!pub.ok()) return std::fprintf(stderr, "talker: %s\n", pub.status().ToString().c_str()), 1;
  for (long i = 0; count < 0 || i < count; ++i) {
    examples::Chatter line;  // the protobuf class; Publish builds the flat message
    line.set_count(static_cast<std::uint64_t>(i));
    line.set_text("hello from ringcast");
    if (absl::Status s = pub->Publish(line); !s.ok()) {
      std::fprintf(stderr, "talker: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("said #%ld\n", i);
    std::fflush(stdout);
    absl::SleepFor(absl::Milliseconds(100));
  }
  return 0;
}
