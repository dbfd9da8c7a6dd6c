// talker N: publishes greetings 0..N-1 on /greeting, 1 ms apart.
#include <cstdio>
#include <cstdlib>

#include "absl/time/clock.h"
#include "greeter/greeting.ringcast.h"
#include "ringcast/ringcast.h"

int main(int argc, char** argv) {
  const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100;
  absl::StatusOr<ringcast::Context> ctx = ringcast::Context::Create();
  if (!ctx.ok()) return std::fprintf(stderr, "talker: %s\n", ctx.status().ToString().c_str()), 1;
  absl::StatusOr<ringcast::Node> node = ringcast::Node::Create(*ctx, "talker");
  if (!node.ok()) return std::fprintf(stderr, "talker: %s\n", node.status().ToString().c_str()), 1;
  auto pub = node->CreatePublisher(greeter::topics::kGreeting);
  if (!pub.ok()) return std::fprintf(stderr, "talker: %s\n", pub.status().ToString().c_str()), 1;
  for (std::uint64_t i = 0; i < n; ++i) {
    greeter::Greeting g;
    g.set_count(i);
    g.set_text("hello from outside the tree");
    g.mutable_stamp()->set_sec(absl::ToUnixSeconds(absl::Now()));
    if (absl::Status s = pub->Publish(g); !s.ok()) {
      return std::fprintf(stderr, "talker: %s\n", s.ToString().c_str()), 1;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return 0;
}
