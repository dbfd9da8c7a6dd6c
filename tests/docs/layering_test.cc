// The layers keep to their public interfaces: the `ringcast` command, the
// examples and the benchmarks read topics through transport's snapshots
// (transport/inspect.h) and domains through discovery's graph, never
// through the bytes of a segment; and nothing outside transport/ and
// tests/ calls TopicSegment's accessors of topic_layout.h's structs.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;

// The C++ sources under `dir` of the source tree (relative paths).
std::vector<std::string> Sources(const std::string& dir) {
  std::vector<std::string> out;
  const fs::path root = fs::path(RINGCAST_SOURCE_DIR) / dir;
  if (!fs::exists(root)) return out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".h" || ext == ".cc")) {
      out.push_back(fs::relative(e.path(), RINGCAST_SOURCE_DIR).string());
    }
  }
  return out;
}

std::string Read(const std::string& relative) {
  std::ifstream in(fs::path(RINGCAST_SOURCE_DIR) / relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool IsIdentifier(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// `word` in `code` with no identifier character on either side; with
// `called_with_argument`, also followed by "(" and something other than ")".
// (Plain string search, not std::regex: GCC 12's <regex> trips
// -Wmaybe-uninitialized in the sanitizer builds.)
bool HasWord(absl::string_view code, absl::string_view word, bool called_with_argument = false) {
  for (std::size_t at = code.find(word); at != absl::string_view::npos;
       at = code.find(word, at + 1)) {
    const std::size_t end = at + word.size();
    if ((at > 0 && IsIdentifier(code[at - 1])) || (end < code.size() && IsIdentifier(code[end]))) {
      continue;
    }
    if (!called_with_argument) return true;
    std::size_t i = end;
    while (i < code.size() && code[i] == ' ') ++i;
    if (i == code.size() || code[i] != '(') continue;
    ++i;
    while (i < code.size() && code[i] == ' ') ++i;
    if (i < code.size() && code[i] != ')') return true;
  }
  return false;
}

// Every line of `file` whose code (comments left out) `matches`, as
// "file:line: text".
template <typename Pred>
std::vector<std::string> Matches(const std::string& file, Pred matches) {
  std::vector<std::string> out;
  std::istringstream in(Read(file));
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    absl::string_view code = line;
    if (std::size_t c = code.find("//"); c != absl::string_view::npos) code = code.substr(0, c);
    if (matches(code)) out.push_back(absl::StrCat(file, ":", n, ": ", line));
  }
  return out;
}

TEST(LayeringTest, CliExamplesAndBenchmarksUseOnlyPublicInterfaces) {
  // A *_layout.h include, or a name of transport's or discovery's internals
  // (core's ringcast::internal is another matter).
  const auto internals = [](absl::string_view code) {
    return absl::StrContains(code, "_layout.h") || HasWord(code, "transport::internal") ||
           HasWord(code, "discovery::internal");
  };
  std::vector<std::string> found;
  int files = 0;
  for (const char* dir : {"cli", "examples", "bench"}) {
    for (const std::string& f : Sources(dir)) {
      ++files;
      for (std::string& m : Matches(f, internals)) found.push_back(std::move(m));
    }
  }
  EXPECT_GT(files, 10) << "the source tree was not found at " << RINGCAST_SOURCE_DIR;
  for (const std::string& m : found) ADD_FAILURE() << m;
}

TEST(LayeringTest, OnlyTransportAndTestsTouchTopicSegmentInternals) {
  // TopicSegment's accessors that hand out topic_layout.h's structs or
  // their words, and those structs by name.
  const auto accessors = [](absl::string_view code) {
    for (absl::string_view call : {"ring_control", "ring_hot", "ring_wait", "subscriber_control",
                                   "subscriber_counters"}) {
      if (HasWord(code, call) && absl::StrContains(code, "(")) return true;
    }
    for (absl::string_view call : {"cursors", "held", "doorbell"}) {
      if (HasWord(code, call, /*called_with_argument=*/true)) return true;
    }
    for (absl::string_view type : {"TopicHeader", "RingControl", "RingHot", "RingWait", "SlotHeader",
                                   "SubscriberControl", "SubscriberCounters"}) {
      if (HasWord(code, type)) return true;
    }
    return absl::StrContains(code, "topic_layout.h");
  };
  std::vector<std::string> found;
  for (const fs::directory_entry& top : fs::directory_iterator(RINGCAST_SOURCE_DIR)) {
    const std::string name = top.path().filename().string();
    if (!top.is_directory() || name == "transport" || name == "tests" ||
        absl::StartsWith(name, "build") || absl::StartsWith(name, ".")) {
      continue;
    }
    for (const std::string& f : Sources(name)) {
      for (std::string& m : Matches(f, accessors)) found.push_back(std::move(m));
    }
  }
  for (const std::string& m : found) ADD_FAILURE() << m;
}

}  // namespace
