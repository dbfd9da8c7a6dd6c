// camera: a 1920x1080 RGB camera at 30 Hz and two viewers, zero-copy.
// The camera builds each 6.2 MB frame in place in a chunk of its pool
// (Loan + alloc_data) and publishes it by reference; each viewer reads the
// pixels where the camera wrote them and prints its rate and latency. At
// the end the camera says how much shared memory its pool committed: the
// pool grows with the frames in use, so the topic's default QoS fits in
// Docker's 64 MiB /dev/shm.
//
//   build/examples/camera [--seconds N]     # camera and 2 viewer processes
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/time/clock.h"
#include "examples/camera.ringcast.h"
#include "ringcast/ringcast.h"

namespace {

constexpr std::uint32_t kWidth = 1920, kHeight = 1080;
using Image = ringcast::msgs::flat::Image;

int Fail(const char* who, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", who, s.ToString().c_str());
  return 1;
}

// Prints its rate and median latency once a second until no frame comes
// for a second.
int Viewer(int n) {
  const std::string who = "viewer" + std::to_string(n);
  auto ctx = ringcast::Context::Create();
  if (!ctx.ok()) return Fail(who.c_str(), ctx.status());
  auto node = ringcast::Node::Create(*ctx, who);
  if (!node.ok()) return Fail(who.c_str(), node.status());
  auto sub = node->CreateSubscriber(examples::topics::kCameraImage);
  if (!sub.ok()) return Fail(who.c_str(), sub.status());
  std::vector<double> latency_us;
  std::uint64_t frames = 0, checksum = 0;
  absl::Time window = absl::Now();
  while (sub->Wait(absl::Seconds(frames == 0 ? 10 : 1)).ok()) {
    auto s = sub->Take();
    if (!s.ok()) return Fail(who.c_str(), s.status());
    if (!*s) continue;
    const ringcast::Sample<Image>& frame = **s;
    latency_us.push_back(absl::ToDoubleMicroseconds(absl::Now() - frame.publish_time()));
    // Touch the pixels where the camera wrote them: no copy was made.
    const absl::Span<const std::uint8_t> px = frame->data();
    checksum += px.empty() ? 0 : px[0] + px[px.size() / 2] + px[px.size() - 1];
    ++frames;
    if (absl::Now() - window >= absl::Seconds(1)) {
      std::sort(latency_us.begin(), latency_us.end());
      std::printf("%s: %zu frames/s of %ux%u, latency p50 %.0f us, lost %lu\n", who.c_str(),
                  latency_us.size(), frame->width(), frame->height(),
                  latency_us[latency_us.size() / 2], sub->lost());
      std::fflush(stdout);
      latency_us.clear();
      window = absl::Now();
    }
  }
  std::printf("%s: %lu frames in all, %lu lost (checksum %lu)\n", who.c_str(), frames, sub->lost(),
              checksum);
  return 0;
}

int Camera(absl::Duration run) {
  auto ctx = ringcast::Context::Create();
  if (!ctx.ok()) return Fail("camera", ctx.status());
  auto node = ringcast::Node::Create(*ctx, "camera");
  if (!node.ok()) return Fail("camera", node.status());
  auto pub = node->CreatePublisher(examples::topics::kCameraImage);
  if (!pub.ok()) return Fail("camera", pub.status());
  absl::SleepFor(absl::Milliseconds(300));  // let the viewers join (volatile topic)
  const absl::Time start = absl::Now();
  std::uint64_t n = 0, peak_bytes = 0;
  for (absl::Time next = start; absl::Now() - start < run; next += absl::Seconds(1) / 30, ++n) {
    absl::SleepFor(next - absl::Now());
    auto frame = pub->Loan(kWidth * kHeight * 3 + 256);  // a pool chunk
    if (!frame.ok()) return Fail("camera", frame.status());
    (*frame)->set_width(kWidth);
    (*frame)->set_height(kHeight);
    (*frame)->set_step(kWidth * 3);
    if (absl::Status s = (*frame)->set_encoding("rgb8"); !s.ok()) return Fail("camera", s);
    auto pixels = (*frame)->alloc_data(kWidth * kHeight * 3);  // in the chunk itself
    if (!pixels.ok()) return Fail("camera", pixels.status());
    std::memset(pixels->data(), static_cast<int>(n), pixels->size());  // "expose" the frame
    if (absl::Status s = pub->Publish(std::move(*frame)); !s.ok()) return Fail("camera", s);
    peak_bytes = std::max(peak_bytes, pub->pool_use().committed_bytes);
  }
  const ringcast::transport::PoolUse pool = pub->pool_use();
  std::printf("camera: published %lu frames in %.1f s\n", n,
              absl::ToDoubleSeconds(absl::Now() - start));
  std::printf("camera: pool commits %u chunks of %lu bytes (%.1f MB, %.1f MB at peak; "
              "planned %.0f MB)\n",
              pool.chunks, pool.classes.empty() ? 0ul : pool.classes[0].chunk_size,
              pool.committed_bytes / 1e6, peak_bytes / 1e6, pool.planned_bytes / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 5;
  if (argc > 2 && std::strcmp(argv[1], "--seconds") == 0) seconds = std::atoi(argv[2]);
  std::vector<pid_t> viewers;
  for (int i = 1; i <= 2; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) std::exit(Viewer(i));  // exit, not _exit: clean up as any process
    viewers.push_back(pid);
  }
  int rc = Camera(absl::Seconds(seconds));
  for (const pid_t pid : viewers) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) rc = 1;
  }
  return rc;
}
