// The layout engine: golden layout of a schema with every field kind, the
// type hash (golden, stable, sensitive), and unsupported features.
#include "idl/layout.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/compiler/parser.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "gtest/gtest.h"
#include "tests/idl/idl_test_util.h"

namespace ringcast::idl {
namespace {

using ::testing::HasSubstr;

// Builds a .proto given as text into its own pool (source info kept).
class Source {
 public:
  const google::protobuf::FileDescriptor* Build(const std::string& name, const std::string& text) {
    google::protobuf::io::ArrayInputStream in(text.data(), static_cast<int>(text.size()));
    google::protobuf::io::Tokenizer tokenizer(&in, nullptr);
    google::protobuf::FileDescriptorProto proto;
    google::protobuf::compiler::Parser parser;
    if (!parser.Parse(&tokenizer, &proto)) return nullptr;
    proto.set_name(name);
    return pool_.BuildFile(proto);
  }
  const google::protobuf::Descriptor* Find(const std::string& name) {
    return pool_.FindMessageTypeByName(name);
  }

 private:
  google::protobuf::DescriptorPool pool_;
};

TEST(LayoutTest, LayoutVersionIsPinned) {
  // Bump only with a layout change; the golden tests below change with it.
  EXPECT_EQ(kLayoutVersion, 1u);
}

constexpr char kAllTypesGolden[] = R"(ringcast layout 1
message ringcast_test.AllTypes size 312
 field 1 b bool offset 308
 field 2 i32 int32 offset 264
 field 3 u32 uint32 offset 268
 field 4 i64 int64 offset 0
 field 5 u64 uint64 offset 8
 field 6 s32 int32 offset 272
 field 7 s64 int64 offset 16
 field 8 f32 uint32 offset 276
 field 9 f64 uint64 offset 24
 field 10 sf32 int32 offset 280
 field 11 sf64 int64 offset 32
 field 12 fl float offset 284
 field 13 db double offset 40
 field 14 color enum offset 288 type ringcast_test.Color
 field 15 str string offset 48
 field 16 data bytes offset 56
 field 17 point message offset 64 presence 309 type ringcast_test.Point
 field 18 inner message offset 88 presence 310 type ringcast_test.Inner
 field 21 rb bool repeated offset 136
 field 22 ri32 int32 repeated offset 144
 field 23 ru32 uint32 repeated offset 152
 field 24 ri64 int64 repeated offset 160
 field 25 ru64 uint64 repeated offset 168
 field 26 rfl float repeated offset 176
 field 27 rdb double repeated offset 184
 field 28 rcolor enum repeated offset 192 type ringcast_test.Color
 field 29 rstr string repeated offset 200
 field 30 rdata bytes repeated offset 208
 field 31 rpoint message repeated offset 216 type ringcast_test.Point
 field 32 rinner message repeated offset 224 type ringcast_test.Inner
 field 40 choice_int int32 offset 292 oneof choice
 field 41 choice_str string offset 232 oneof choice
 field 42 choice_point message offset 240 presence 311 oneof choice type ringcast_test.Point
 field 43 maybe int32 offset 296 oneof _maybe
 oneof choice offset 300
 oneof _maybe offset 304
message ringcast_test.Point size 24
 field 1 x double offset 0
 field 2 y double offset 8
 field 3 z double offset 16
message ringcast_test.Inner size 48
 field 1 label string offset 0
 field 2 values int32 repeated offset 8
 field 3 where message offset 16 presence 41 type ringcast_test.Point
 field 4 flag bool offset 40
)";

TEST(LayoutTest, GoldenAllTypes) {
  testing::ProtoFiles files;
  const google::protobuf::Descriptor* d =
      files.Message("ringcast_test/all_types.proto", "ringcast_test.AllTypes");
  ASSERT_NE(d, nullptr) << files.errors();
  LayoutPool pool;
  absl::StatusOr<const MessageLayout*> layout = pool.Get(d);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ((*layout)->description(), kAllTypesGolden);
  EXPECT_EQ((*layout)->size(), 312u);
  // Golden: a change here breaks every peer built before it. Only a layout
  // change (and so a kLayoutVersion bump) may change it.
  EXPECT_EQ((*layout)->type_hash(), 0x458215482854f088ull) << absl::StrCat(absl::Hex((*layout)->type_hash()));
}

// Every field is naturally aligned, inside the head, and no two overlap.
TEST(LayoutTest, FieldsAreAlignedAndDisjoint) {
  testing::ProtoFiles files;
  for (const char* name : {"ringcast_test.AllTypes", "ringcast_test.Inner", "ringcast_test.Point",
                           "ringcast_test.Tree", "ringcast_test.Empty"}) {
    const google::protobuf::Descriptor* d = files.Message("ringcast_test/all_types.proto", name);
    ASSERT_NE(d, nullptr) << files.errors();
    LayoutPool pool;
    absl::StatusOr<const MessageLayout*> layout = pool.Get(d);
    ASSERT_TRUE(layout.ok()) << layout.status();
    const MessageLayout& m = **layout;
    EXPECT_EQ(m.size() % 8, 0u) << name;
    EXPECT_GE(m.size(), 8u) << name;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> used;
    for (const FieldLayout& f : m.fields()) {
      const std::uint32_t align = f.size >= 8 ? 8 : f.size;
      EXPECT_EQ(f.offset % align, 0u) << name << "." << f.descriptor->name();
      EXPECT_LE(f.offset + f.size, m.size()) << name << "." << f.descriptor->name();
      used.emplace_back(f.offset, f.offset + f.size);
      if (f.presence != kNoPresence) used.emplace_back(f.presence, f.presence + 1);
    }
    for (const OneofLayout& o : m.oneofs()) used.emplace_back(o.offset, o.offset + 4);
    std::sort(used.begin(), used.end());
    for (std::size_t i = 1; i < used.size(); ++i) {
      EXPECT_LE(used[i - 1].second, used[i].first) << name;
    }
  }
}

const char kBase[] = R"(syntax = "proto3";
package t;
message A {
  int32 x = 1;
  string s = 2;
}
)";

std::uint64_t HashOf(const std::string& text) {
  Source src;
  if (src.Build("t.proto", text) == nullptr) return 0;
  LayoutPool pool;
  absl::StatusOr<const MessageLayout*> layout = pool.Get(src.Find("t.A"));
  return layout.ok() ? (*layout)->type_hash() : 0;
}

TEST(TypeHashTest, StableAcrossPoolsAndRuns) {
  const std::uint64_t h = HashOf(kBase);
  ASSERT_NE(h, 0u);
  EXPECT_EQ(HashOf(kBase), h);
  // Golden: the same on every compiler and machine (FNV-1a of a text).
  EXPECT_EQ(h, 0x4cb1f3f12a3046b0ull) << absl::StrCat(absl::Hex(h));
}

TEST(TypeHashTest, ChangesWithTypeNumberAndName) {
  const std::uint64_t h = HashOf(kBase);
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kBase;
    s.replace(s.find(from), from.size(), to);
    return HashOf(s);
  };
  EXPECT_NE(with("int32 x", "int64 x"), h);
  EXPECT_NE(with("int32 x", "uint32 x"), h);
  EXPECT_NE(with("x = 1", "x = 3"), h);
  EXPECT_NE(with("string s", "bytes s"), h);
  EXPECT_NE(with("string s", "repeated string s"), h);
  EXPECT_NE(with("int32 x", "int32 y"), h);
  // Encoding-only changes keep the layout and so the hash.
  EXPECT_EQ(with("int32 x", "sint32 x"), h);
}

struct BadProto {
  std::string name;
  std::string text;
  std::string message;  // the exact error
};

class UnsupportedTest : public ::testing::TestWithParam<BadProto> {};

TEST_P(UnsupportedTest, IsAClearError) {
  Source src;
  ASSERT_NE(src.Build("bad.proto", GetParam().text), nullptr);
  LayoutPool pool;
  absl::StatusOr<const MessageLayout*> layout = pool.Get(src.Find("t.A"));
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(layout.status().message(), GetParam().message);
  // A failed Get leaves nothing half-built behind.
  EXPECT_FALSE(pool.Get(src.Find("t.A")).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Features, UnsupportedTest,
    ::testing::Values(
        BadProto{"Map", "syntax = \"proto3\";\npackage t;\nmessage A {\n  map<string, int32> m = 1;\n}\n",
                 "bad.proto:4:3: field t.A.m: map fields are not supported by ringcast (layout "
                 "version 1); use a repeated message with key and value fields"},
        BadProto{"InlineCycle",
                 "syntax = \"proto3\";\npackage t;\nmessage A {\n  B b = 1;\n}\nmessage B {\n"
                 "  A a = 1;\n}\n",
                 "bad.proto:7:3: field t.B.a: embeds t.A inline, which contains this field "
                 "again; make the field repeated to break the cycle"},
        BadProto{"Proto2", "syntax = \"proto2\";\npackage t;\nmessage A {\n  optional int32 x = 1;\n}\n",
                 "bad.proto:3:1: message t.A: syntax \"proto2\" is not supported; ringcast "
                 "messages are proto3 (syntax = \"proto3\";)"}),
    [](const auto& info) { return info.param.name; });

TEST(LayoutTest, InlineNestingIsBounded) {
  // M0 { M1 m } ... M39 { int32 x }: deeper than kMaxInlineDepth.
  std::string text = "syntax = \"proto3\";\npackage t;\n";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&text, "message M", i, " { M", i + 1, " m = 1; }\n");
  absl::StrAppend(&text, "message M40 { int32 x = 1; }\n");
  Source src;
  ASSERT_NE(src.Build("deep.proto", text), nullptr);
  LayoutPool pool;
  absl::StatusOr<const MessageLayout*> layout = pool.Get(src.Find("t.M0"));
  ASSERT_FALSE(layout.ok());
  EXPECT_EQ(layout.status().message(),
            "deep.proto:35:15: field t.M32.m: nests messages inline more than 32 levels deep; "
            "make a field repeated or flatten the nesting");
  // 32 levels are fine, and so is a deep part already placed.
  EXPECT_TRUE(pool.Get(src.Find("t.M9")).ok());
  EXPECT_FALSE(pool.Get(src.Find("t.M8")).ok());
}

TEST(LayoutTest, RecursionThroughRepeatedIsFine) {
  testing::ProtoFiles files;
  const google::protobuf::Descriptor* d =
      files.Message("ringcast_test/all_types.proto", "ringcast_test.Tree");
  ASSERT_NE(d, nullptr) << files.errors();
  LayoutPool pool;
  absl::StatusOr<const MessageLayout*> layout = pool.Get(d);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ((*layout)->size(), 16u);
  EXPECT_EQ((*layout)->fields()[1].message, *layout);
}

TEST(LayoutTest, EmptyMessageHasAnEightByteHead) {
  testing::ProtoFiles files;
  const google::protobuf::Descriptor* d =
      files.Message("ringcast_test/all_types.proto", "ringcast_test.Empty");
  ASSERT_NE(d, nullptr) << files.errors();
  LayoutPool pool;
  absl::StatusOr<const MessageLayout*> layout = pool.Get(d);
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ((*layout)->size(), 8u);
}

}  // namespace
}  // namespace ringcast::idl
