// Liveness tokens: a lock held for life, dropped by the kernel at death.
#include "transport/liveness.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace ringcast::transport {
namespace {

using ::ringcast::testing::UniqueOptions;

using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::UniquePrefix;

bool Exists(const ShmOptions& o, std::uint64_t id) {
  struct stat st {};
  return ::stat(absl::StrCat(o.dir, LivenessName(o, id)).c_str(), &st) == 0;
}

TEST(LivenessTest, OwnTokenIsStableAndAlive) {
  const ShmOptions o = UniqueOptions();
  absl::StatusOr<std::uint64_t> a = ProcessToken(o);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_NE(*a, 0u);
  EXPECT_EQ(*ProcessToken(o), *a);
  EXPECT_TRUE(IsTokenAlive(o, *a));
  EXPECT_TRUE(Exists(o, *a));
  EXPECT_FALSE(IsTokenAlive(o, 0));
  // Another domain gets another token.
  ShmOptions other = o;
  other.domain = 9;
  EXPECT_NE(*ProcessToken(other), *a);
  ReleaseProcessTokens();
  EXPECT_FALSE(Exists(o, *a));
}

TEST(LivenessTest, KilledProcessReadsDeadAndItsFileIsRemoved) {
  const ShmOptions o = UniqueOptions();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::ringcast::testing::StartChild([&] {
    absl::StatusOr<std::uint64_t> t = ProcessToken(o);
    if (!t.ok()) return 1;
    (void)!::write(fds[1], &*t, sizeof *t);
    ::pause();
    return 0;
  });
  std::uint64_t id = 0;
  ASSERT_EQ(::read(fds[0], &id, sizeof id), static_cast<ssize_t>(sizeof id));
  EXPECT_TRUE(IsTokenAlive(o, id));
  ::ringcast::testing::KillChild(child);
  EXPECT_FALSE(IsTokenAlive(o, id));
  EXPECT_FALSE(Exists(o, id));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(LivenessTest, ForkedChildGetsItsOwnTokenAndParentStaysAliveAfterIt) {
  const ShmOptions o = UniqueOptions();
  const std::uint64_t parent = *ProcessToken(o);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::ringcast::testing::StartChild([&] {
    absl::StatusOr<std::uint64_t> t = ProcessToken(o);
    if (!t.ok()) return 1;
    (void)!::write(fds[1], &*t, sizeof *t);
    // The child must not keep the parent's lock alive nor drop it.
    return IsTokenAlive(o, parent) ? 0 : 2;
  });
  std::uint64_t id = 0;
  ASSERT_EQ(::read(fds[0], &id, sizeof id), static_cast<ssize_t>(sizeof id));
  EXPECT_NE(id, parent);
  EXPECT_EQ(::ringcast::testing::WaitChild(child), 0);
  EXPECT_TRUE(IsTokenAlive(o, parent));
  // StartChild's clean exit released the child's file.
  EXPECT_FALSE(Exists(o, id));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(LivenessTest, SweepRemovesOnlyTheDead) {
  const ShmOptions o = UniqueOptions();
  const std::uint64_t mine = *ProcessToken(o);
  for (int i = 0; i < 3; ++i) {
    // Children that die without cleaning up.
    const int code = ::ringcast::testing::RunInChild([&] {
      if (!ProcessToken(o).ok()) return 1;
      ::raise(SIGKILL);
      return 2;
    });
    ASSERT_EQ(code, 128 + SIGKILL);
  }
  EXPECT_EQ(FilesWithPrefix(kShmDir, o.prefix).size(), 4u);
  EXPECT_EQ(SweepDeadTokens(o), 3);
  EXPECT_EQ(FilesWithPrefix(kShmDir, o.prefix).size(), 1u);
  EXPECT_TRUE(IsTokenAlive(o, mine));
}

}  // namespace
}  // namespace ringcast::transport
