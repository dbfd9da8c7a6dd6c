// The README's code is the examples' code, letter for letter: the hello
// world a newcomer copies compiles and runs (as build/examples/talker and
// listener), because it is what the build compiles.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace {

std::string Read(const std::string& relative) {
  std::ifstream in(std::string(RINGCAST_SOURCE_DIR) + "/" + relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReadmeTest, ShowsTheExamplesExactly) {
  const std::string readme = Read("README.md");
  ASSERT_FALSE(readme.empty());
  for (const char* file : {"examples/talker.cc", "examples/listener.cc",
                           "examples/proto/examples/chatter.proto"}) {
    const std::string code = Read(file);
    ASSERT_FALSE(code.empty()) << file;
    EXPECT_TRUE(absl::StrContains(readme, code))
        << "README.md no longer shows " << file << " as it is; update one or the other";
  }
}

TEST(ReadmeTest, TheHelloWorldIsShort) {
  // The bar: a typed hello-world of about ten lines of code.
  for (const char* file : {"examples/talker.cc", "examples/listener.cc"}) {
    std::istringstream in(Read(file));
    int code_lines = 0;
    bool in_main = false;
    for (std::string line; std::getline(in, line);) {
      in_main = in_main || absl::StartsWith(line, "int main");
      if (in_main && !absl::StripAsciiWhitespace(line).empty() && line != "}") ++code_lines;
    }
    EXPECT_LE(code_lines, 14) << file;
  }
}

// The repository stands alone: nothing in it points at a document kept
// outside it.
TEST(ReadmeTest, NothingRefersToFilesOutsideTheRepository) {
  namespace fs = std::filesystem;
  const fs::path root(RINGCAST_SOURCE_DIR);
  int files = 0;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name == ".git" || name.rfind("build", 0) == 0 ||
                               name == "node_modules")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || it->file_size() > (1 << 20)) continue;
    const std::string text = Read(fs::relative(it->path(), root).string());
    ++files;
    // Spelled in two parts, so that this file does not find itself.
    for (const std::string& outside : {std::string("../") + "shared", std::string("design") + ".md",
                                       std::string("style") + ".md"}) {
      EXPECT_FALSE(absl::StrContains(text, outside))
          << it->path() << " mentions " << outside << ", which is not in the repository";
    }
  }
  EXPECT_GT(files, 100);
}

}  // namespace
