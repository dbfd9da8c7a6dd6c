// record_bench: what `ringcast record` costs and whether it keeps up. A
// child process publishes the camera workload (1920x1080 rgb8 frames at
// 30 Hz, built in place in pool chunks) and a 1 kHz Imu; the built
// `ringcast record` records both to a file on tmpfs for --seconds, once per
// compression. Reported per run: samples lost (0 expected with none),
// messages recorded, file size and MB/s written, and the recorder's CPU
// time (user + system, from wait4) per recorded GB.
//
//   build/bench/record_bench [--seconds 20] [--dir /dev/shm] [--compression none,lz4,zstd]
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ringcast/msgs/image.ringcast.h"
#include "ringcast/msgs/imu.ringcast.h"
#include "ringcast/ringcast.h"

extern char** environ;

namespace {

constexpr std::uint32_t kWidth = 1920, kHeight = 1080;
constexpr char kPrefix[] = "rcbench";
using Image = ringcast::msgs::flat::Image;
using Imu = ringcast::msgs::flat::Imu;

ringcast::Qos CameraQos() {
  return ringcast::Qos().set_depth(4).set_max_message_size(8 << 20).set_max_subscribers(4).set_max_held_samples(2);
}

absl::StatusOr<ringcast::Context> BenchContext() {
  ringcast::ContextOptions o;
  o.config_file = "";
  o.overrides.shm_prefix = kPrefix;
  return ringcast::Context::Create(o);
}

// Two frames that look like a picture (gradients and some noise), so that
// compression has real work; the camera alternates between them.
std::vector<std::vector<std::uint8_t>> Frames() {
  std::mt19937 rng(1);
  std::vector<std::vector<std::uint8_t>> frames(2, std::vector<std::uint8_t>(kWidth * kHeight * 3));
  for (int f = 0; f < 2; ++f) {
    for (std::uint32_t y = 0; y < kHeight; ++y) {
      for (std::uint32_t x = 0; x < kWidth; ++x) {
        std::uint8_t* p = &frames[f][(y * kWidth + x) * 3];
        const std::uint32_t noise = rng() & 7;
        p[0] = static_cast<std::uint8_t>((x / 8 + f * 16 + noise) & 0xff);
        p[1] = static_cast<std::uint8_t>((y / 4 + noise) & 0xff);
        p[2] = static_cast<std::uint8_t>(((x + y) / 16 + noise) & 0xff);
      }
    }
  }
  return frames;
}

int Fail(const char* who, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", who, s.ToString().c_str());
  return 1;
}

// The publishers, for `run`.
int Publish(absl::Duration run) {
  auto ctx = BenchContext();
  if (!ctx.ok()) return Fail("publisher", ctx.status());
  auto node = ringcast::Node::Create(*ctx, "bench_sensors");
  if (!node.ok()) return Fail("publisher", node.status());
  auto camera = node->CreatePublisher<Image>("/camera/image", CameraQos());
  if (!camera.ok()) return Fail("camera", camera.status());
  auto imu = node->CreatePublisher<Imu>("/imu");
  if (!imu.ok()) return Fail("imu", imu.status());
  const std::vector<std::vector<std::uint8_t>> frames = Frames();
  const absl::Time start = absl::Now();
  absl::Time next_frame = start;
  std::uint64_t n = 0, frames_sent = 0;
  for (absl::Time next = start; absl::Now() - start < run; next += absl::Milliseconds(1), ++n) {
    absl::SleepFor(next - absl::Now());
    auto m = imu->Loan();
    if (!m.ok()) return Fail("imu", m.status());
    (*m)->mutable_header().mutable_stamp().set_nanosec(static_cast<std::uint32_t>(n));
    (*m)->mutable_angular_velocity().set_z(0.001 * static_cast<double>(n));
    (*m)->mutable_linear_acceleration().set_z(9.81);
    if (absl::Status s = imu->Publish(std::move(*m)); !s.ok()) return Fail("imu", s);
    if (absl::Now() < next_frame) continue;
    next_frame += absl::Seconds(1) / 30;
    auto frame = camera->Loan(kWidth * kHeight * 3 + 256);
    if (!frame.ok()) return Fail("camera", frame.status());
    (*frame)->set_width(kWidth);
    (*frame)->set_height(kHeight);
    (*frame)->set_step(kWidth * 3);
    if (absl::Status s = (*frame)->set_encoding("rgb8"); !s.ok()) return Fail("camera", s);
    auto pixels = (*frame)->alloc_data(kWidth * kHeight * 3);
    if (!pixels.ok()) return Fail("camera", pixels.status());
    std::memcpy(pixels->data(), frames[frames_sent % 2].data(), pixels->size());
    if (absl::Status s = camera->Publish(std::move(*frame)); !s.ok()) return Fail("camera", s);
    ++frames_sent;
  }
  return 0;
}

struct Run {
  std::string compression;
  int exit_code = -1;
  std::string out;
  std::uint64_t messages = 0, lost = 0;
  double file_bytes = 0, cpu_s = 0, seconds = 0;
};

Run Record(const std::string& compression, const std::string& file, int seconds) {
  Run r;
  r.compression = compression;
  std::vector<std::string> args = {RINGCAST_CLI_PATH, absl::StrCat("--prefix=", kPrefix),
                                   "record", "/camera/image", "/imu", "-o", file,
                                   "--compression", compression, "--duration",
                                   absl::StrCat(seconds, "s")};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe(out) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return r;
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) r.out.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  // "recorded N messages (...) in ... to FILE; lost L"
  const std::size_t at = r.out.find("recorded ");
  if (at != std::string::npos) {
    (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(r.out.substr(at + 9, r.out.find(' ', at + 9) - at - 9)), &r.messages);
  }
  const std::size_t lost = r.out.find("; lost ");
  if (lost != std::string::npos) {
    (void)absl::SimpleAtoi(r.out.substr(lost + 7, r.out.find('\n', lost) - lost - 7), &r.lost);
  }
  struct stat st{};
  if (::stat(file.c_str(), &st) == 0) r.file_bytes = static_cast<double>(st.st_size);
  r.seconds = seconds;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 20;
  std::string dir = "/dev/shm";
  std::vector<std::string> compressions = {"none", "lz4", "zstd"};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--compression") == 0) compressions = absl::StrSplit(argv[i + 1], ',');
  }
  std::printf("record_bench: camera 1920x1080x3 at 30 Hz + Imu at 1 kHz, %d s per run, file in %s\n",
              seconds, dir.c_str());
  std::printf("%-6s %6s %9s %6s %10s %9s %9s %12s\n", "comp", "exit", "messages", "lost", "file MB",
              "MB/s", "CPU s", "CPU s / GB");
  int rc = 0;
  for (const std::string& c : compressions) {
    const pid_t publisher = ::fork();
    if (publisher == 0) std::exit(Publish(absl::Seconds(seconds + 3)));
    absl::SleepFor(absl::Milliseconds(500));
    const std::string file = absl::StrCat(dir, "/rcbench-record-", c, ".mcap");
    Run r = Record(c, file, seconds);
    int status = 0;
    ::waitpid(publisher, &status, 0);
    ::unlink(file.c_str());
    const double gb = r.file_bytes / 1e9;
    std::printf("%-6s %6d %9lu %6lu %10.1f %9.1f %9.2f %12.2f\n", c.c_str(), r.exit_code,
                static_cast<unsigned long>(r.messages), static_cast<unsigned long>(r.lost),
                r.file_bytes / 1e6, r.file_bytes / 1e6 / r.seconds, r.cpu_s,
                gb > 0 ? r.cpu_s / gb : 0);
    // The recorder's own per-topic lines ("  /imu (...): N messages, ..., lost L").
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
      if (absl::StartsWith(line, "  /")) std::printf("         %s\n", std::string(line).c_str());
    }
    std::fflush(stdout);
    if (r.exit_code != 0) {
      std::fprintf(stderr, "ringcast record failed:\n%s\n", r.out.c_str());
      rc = 1;
    }
  }
  return rc;
}
