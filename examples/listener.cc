// listener: prints every line said on /chatter, and how many it missed.
#include <cstdio>

#include "examples/chatter.ringcast.h"  // generated from proto/examples/chatter.proto
#include "ringcast/ringcast.h"

int main() {
  ringcast::Context ctx = ringcast::Context::Create().value();  // value(): stop on error
  ringcast::Node node = ringcast::Node::Create(ctx, "listener").value();
  auto sub = node.CreateSubscriber(examples::topics::kChatter).value();
  ringcast::Sample<examples::flat::Chatter> line;  // reused: no allocation per sample
  while (sub.Wait(absl::InfiniteDuration()).ok()) {
    while (sub.Take(&line).value()) {  // a view into shared memory, validated once
      std::printf("heard #%lu: %.*s (missed %lu before it)\n", line->count(),
                  static_cast<int>(line->text().size()), line->text().data(), line.lost_before());
    }
    std::fflush(stdout);
  }
}
