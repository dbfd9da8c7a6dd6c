// protoc-gen-ringcast on bad .proto files: one clear line naming the file,
// line and field, and a failing exit status; never a crash.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace {

struct ProtocRun {
  int exit_code;
  std::string output;  // stdout and stderr
};

class PluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringcast-plugin-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)::system(absl::StrCat("rm -rf '", dir_, "'").c_str()); }

  ProtocRun Protoc(const std::string& name, const std::string& text) {
    std::ofstream(absl::StrCat(dir_, "/", name)) << text;
    const std::string cmd = absl::StrCat(
        "ASAN_OPTIONS=detect_leaks=0 '", PROTOC, "' --plugin=protoc-gen-ringcast='", PLUGIN,
        "' --ringcast_out='", dir_, "' -I '", dir_, "' -I '", RINGCAST_PROTO_DIR, "' -I '",
        PROTOBUF_INCLUDE_DIR, "' ", name, " 2>&1");
    FILE* p = ::popen(cmd.c_str(), "r");
    ProtocRun run{-1, ""};
    if (p == nullptr) return run;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) run.output.append(buf, n);
    const int status = ::pclose(p);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
  }

  // Asserts protoc failed with exactly `message` (protoc prefixes the
  // generator flag and the file).
  void ExpectError(const std::string& name, const std::string& text, const std::string& message) {
    const ProtocRun run = Protoc(name, text);
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_EQ(run.output, absl::StrCat("--ringcast_out: ", name, ": ", message, "\n"));
  }

  std::string dir_;
};

constexpr char kHead[] = "syntax = \"proto3\";\npackage t;\nimport \"ringcast/options.proto\";\n";
// Without the import (protoc would warn that it is unused); one line less.
constexpr char kPlain[] = "syntax = \"proto3\";\npackage t;\n\n";

TEST_F(PluginTest, GoodFileGenerates) {
  const ProtocRun run = Protoc("good.proto", absl::StrCat(kHead, R"(
option (ringcast.topic) = { name: "/a" type: "A" };
message A { int32 x = 1; }
)"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output, "");
  EXPECT_EQ(::access(absl::StrCat(dir_, "/good.ringcast.h").c_str(), R_OK), 0);
  EXPECT_EQ(::access(absl::StrCat(dir_, "/good.ringcast.cc").c_str(), R_OK), 0);
}

TEST_F(PluginTest, MapField) {
  ExpectError("map.proto", absl::StrCat(kPlain, "message A {\n  map<string, int32> m = 1;\n}\n"),
              "map.proto:5:3: field t.A.m: map fields are not supported by ringcast (layout "
              "version 1); use a repeated message with key and value fields");
}

TEST_F(PluginTest, MapFieldInNestedMessage) {
  ExpectError("nested.proto",
              absl::StrCat(kPlain, "message A {\n  message B {\n    map<int32, int32> m = 7;\n  }\n  B b = 1;\n}\n"),
              "nested.proto:6:5: field t.A.B.m: map fields are not supported by ringcast "
              "(layout version 1); use a repeated message with key and value fields");
}

TEST_F(PluginTest, Proto2) {
  ExpectError("p2.proto", "syntax = \"proto2\";\npackage t;\nmessage A {\n  optional int32 x = 1;\n}\n",
              "p2.proto:3:1: message t.A: syntax \"proto2\" is not supported; ringcast messages "
              "are proto3 (syntax = \"proto3\";)");
}

TEST_F(PluginTest, Extension) {
  ExpectError("ext.proto",
              absl::StrCat(kPlain, "import \"google/protobuf/descriptor.proto\";\n"
                                  "extend google.protobuf.FieldOptions {\n  int32 mine = 50001;\n}\n"),
              "ext.proto:6:3: extension t.mine: extensions are not supported by ringcast; add a "
              "field to the message instead");
}

TEST_F(PluginTest, WellKnownTypeField) {
  ExpectError("wkt.proto",
              absl::StrCat(kPlain, "import \"google/protobuf/timestamp.proto\";\n"
                                  "message A {\n  google.protobuf.Timestamp t = 1;\n}\n"),
              "wkt.proto:6:3: field t.A.t: type google.protobuf.Timestamp comes from "
              "google/protobuf/timestamp.proto, which has no ringcast types; use a message of "
              "your own (e.g. ringcast.msgs.Time for a timestamp)");
}

TEST_F(PluginTest, InlineRecursion) {
  ExpectError("rec.proto", absl::StrCat(kPlain, "message A {\n  A self = 1;\n}\n"),
              "rec.proto:5:3: field t.A.self: embeds t.A inline, which contains this field "
              "again; make the field repeated to break the cycle");
}

TEST_F(PluginTest, TopicWithMissingType) {
  ExpectError("topic_type.proto", absl::StrCat(kHead, R"(option (ringcast.topic) = {
  name: "/camera/image" type: "Imag"
};
message Image { bytes data = 1; }
)"),
              "topic_type.proto:4:1: topic '/camera/image': type 'Imag' is not a message of "
              "this file or of a file it imports; messages here: t.Image");
}

TEST_F(PluginTest, TopicWithInvalidName) {
  ExpectError("topic_name.proto",
              absl::StrCat(kHead, "message A { int32 x = 1; }\n\noption (ringcast.topic) = { "
                                  "name: \"/camera//image\" type: \"A\" };\n"),
              "topic_name.proto:6:1: invalid topic name '/camera//image': empty token at "
              "offset 8 (valid: '/'-separated tokens of [A-Za-z0-9_], each not starting with a "
              "digit, no '__', e.g. /camera/image)");
}

TEST_F(PluginTest, DuplicateTopic) {
  ExpectError("topic_dup.proto", absl::StrCat(kHead, R"(message A { int32 x = 1; }
option (ringcast.topic) = { name: "/a" type: "A" };
option (ringcast.topic) = { name: "/b" type: "A" };
option (ringcast.topic) = { name: "/a" type: "t.A" };
)"),
              "topic_dup.proto:7:1: topic '/a' is declared twice (first at topic_dup.proto:5:1)");
}

TEST_F(PluginTest, TopicsWithTheSameConstant) {
  ExpectError("topic_const.proto", absl::StrCat(kHead, R"(message A { int32 x = 1; }
option (ringcast.topic) = { name: "/a_b" type: "A" };
option (ringcast.topic) = { name: "/aB" type: "A" };
)"),
              "topic_const.proto:6:1: topics '/a_b' and '/aB' would both be constant kAB; "
              "rename one");
}

}  // namespace
