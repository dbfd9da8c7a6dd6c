// The umbrella header is all a user includes: this file includes nothing
// else of ringcast, so it compiles only if ringcast/ringcast.h stands alone.
// And no public header of core names another layer's internal types.
#include "ringcast/ringcast.h"

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace {

TEST(HeaderTest, UmbrellaHeaderStandsAlone) {
  // Names from every part of the API, to prove they were declared.
  ringcast::Qos qos = ringcast::Qos().set_depth(4);
  ringcast::ContextOptions options;
  ringcast::ExecutorOptions executor;
  EXPECT_EQ(*qos.depth, 4u);
  EXPECT_TRUE(options.overrides.topics.empty());
  EXPECT_GT(executor.batch, 0);
}

TEST(HeaderTest, NoPublicHeaderNamesAnotherLayersInternals) {
  const std::string dir = std::string(RINGCAST_SOURCE_DIR) + "/core/ringcast";
  DIR* d = ::opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  // Plain substrings, not std::regex: GCC 12's <regex> trips
  // -Wmaybe-uninitialized under the sanitizer builds.
  const char* const foreign[] = {"transport::internal", "discovery::internal",
                                 "idl::internal", "_layout.h"};
  int headers = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() < 2 || name.substr(name.size() - 2) != ".h") continue;
    std::ifstream in(dir + "/" + name);
    std::stringstream text;
    text << in.rdbuf();
    const std::string body = text.str();
    for (const char* needle : foreign) {
      EXPECT_EQ(body.find(needle), std::string::npos) << name << " names " << needle;
    }
    ++headers;
  }
  ::closedir(d);
  EXPECT_GE(headers, 9);
}

}  // namespace
