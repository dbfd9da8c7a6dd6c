// talker: says a numbered line on /chatter ten times a second.
#include "absl/time/clock.h"
#include "examples/chatter.ringcast.h"  // generated from proto/examples/chatter.proto
#include "ringcast/ringcast.h"

int main() {
  ringcast::Context ctx = ringcast::Context::Create().value();  // value(): stop on error
  ringcast::Node node = ringcast::Node::Create(ctx, "talker").value();
  auto pub = node.CreatePublisher(examples::topics::kChatter).value();
  for (std::uint64_t i = 0;; ++i) {
    examples::Chatter line;  // the protobuf class: Publish builds the flat message
    line.set_count(i);
    line.set_text("hello from ringcast");
    if (absl::Status s = pub.Publish(line); !s.ok()) return std::puts(s.ToString().c_str()), 1;
    absl::SleepFor(absl::Milliseconds(100));
  }
}
