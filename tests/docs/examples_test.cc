// The examples as a newcomer runs them. The camera, at its topic's declared
// QoS, in a /dev/shm of 64 MiB: what Docker gives a container by default.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace {

using ::testing::HasSubstr;

TEST(ExamplesTest, CameraRunsInDockersDefault64MiBOfShm) {
  if (const std::string why = ringcast::testing::WhyNoPrivateTmpfs(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const int code = ringcast::testing::RunInChild(
      [&] {
        ::close(out[0]);
        // Steps 10-12: unshare, private mounts, the mount.
        if (const int step = ringcast::testing::MountPrivateTmpfs("/dev/shm", "size=64m,mode=1777");
            step != 0) {
          return 9 + step;
        }
        const pid_t camera = ::fork();
        if (camera == 0) {
          ::dup2(out[1], STDOUT_FILENO);
          ::dup2(out[1], STDERR_FILENO);
          ::execl(RINGCAST_CAMERA_PATH, "camera", "--seconds", "3", nullptr);
          ::_exit(127);
        }
        int status = 0;
        if (camera < 0 || ::waitpid(camera, &status, 0) != camera) return 13;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 14;
        // The camera and its viewers left nothing behind.
        std::vector<std::string> left = ringcast::testing::FilesWithPrefix("/dev/shm", "");
        std::erase_if(left, [](const std::string& name) { return name == "." || name == ".."; });
        for (const std::string& name : left) {
          const std::string line = "left in /dev/shm: " + name + "\n";
          (void)!::write(out[1], line.data(), line.size());
        }
        return left.empty() ? 0 : 15;
      },
      absl::Seconds(90));
  ::close(out[1]);
  std::string output;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) output.append(buf, n);
  ::close(out[0]);
  ASSERT_EQ(code, 0) << "step " << code << " failed; the camera printed:\n" << output;
  // "camera: pool commits N chunks of 6221056 bytes (...)": a frame's size,
  // and few enough to fit.
  const std::size_t at = output.find("camera: pool commits ");
  ASSERT_NE(at, std::string::npos) << output;
  const std::vector<absl::string_view> words =
      absl::StrSplit(absl::string_view(output).substr(at), ' ');
  std::uint32_t chunks = 0;
  ASSERT_GE(words.size(), 7u);
  ASSERT_TRUE(absl::SimpleAtoi(words[3], &chunks)) << output;
  EXPECT_EQ(words[6], "6221056") << output;
  EXPECT_GE(chunks, 1u);
  EXPECT_LE(chunks, 8u) << "8 frames is what fits next to the topic in 64 MiB\n" << output;
  EXPECT_THAT(output, HasSubstr("viewer1: ")) << output;
  EXPECT_THAT(output, HasSubstr("viewer2: ")) << output;
}

}  // namespace
