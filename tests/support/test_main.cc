// The main of every test binary: gtest plus a global leak check. Any file
// left in /dev/shm with this process's test prefix fails the run.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"

namespace {

class ShmLeakCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    // What a clean exit does anyway; a token file left after this belongs
    // to a child that died without anyone sweeping it.
    ringcast::transport::ReleaseProcessTokens();
    // The trailing '-' keeps pid 12 from matching pid 123's files.
    const std::string prefix = absl::StrCat("ringcast-t", ::getpid(), "-");
    for (const std::string& f :
         ringcast::testing::FilesWithPrefix(ringcast::testing::kShmDir, prefix)) {
      ADD_FAILURE() << "left behind in /dev/shm: " << f;
      ::unlink(absl::StrCat(ringcast::testing::kShmDir, "/", f).c_str());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new ShmLeakCheck);
  return RUN_ALL_TESTS();
}
