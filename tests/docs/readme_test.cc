// The README's code is the examples' code, letter for letter: the hello
// world a newcomer copies compiles and runs (as build/examples/talker and
// listener), because it is what the build compiles.
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

}  // namespace
