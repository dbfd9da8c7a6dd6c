// The dynamic path: any message <-> flat buffer through the layout engine,
// checked by round-trip properties over thousands of random messages, and
// the text and JSON printers.
#include "idl/dynamic.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "idl/validate.h"
#include "tests/idl/idl_test_util.h"

namespace ringcast::idl {
namespace {

using ::testing::HasSubstr;
using google::protobuf::util::MessageDifferencer;

class DynamicTest : public ::testing::Test {
 protected:
  const MessageLayout& Layout(const std::string& type) {
    const google::protobuf::Descriptor* d = files_.Message("ringcast_test/all_types.proto", type);
    EXPECT_NE(d, nullptr) << files_.errors();
    absl::StatusOr<const MessageLayout*> layout = pool_.Get(d);
    EXPECT_TRUE(layout.ok()) << layout.status();
    return **layout;
  }

  // Random message -> flat -> message, `cases` times; returns failures.
  void RoundTrip(const std::string& type, int cases, int depth, int max_repeated) {
    const MessageLayout& layout = Layout(type);
    std::mt19937_64 rng(42);
    for (int i = 0; i < cases; ++i) {
      std::unique_ptr<google::protobuf::Message> in = files_.New(layout.descriptor());
      testing::RandomFill(in.get(), rng, depth, max_repeated);
      absl::StatusOr<std::vector<std::byte>> flat = WriteFlat(layout, *in);
      ASSERT_TRUE(flat.ok()) << flat.status();
      ASSERT_EQ(flat->size(), *FlatSize(layout, *in));
      std::unique_ptr<google::protobuf::Message> out = files_.New(layout.descriptor());
      const absl::Status read = ReadFlat(layout, *flat, out.get());
      ASSERT_TRUE(read.ok()) << "case " << i << ": " << read << "\n" << in->DebugString();
      ASSERT_TRUE(MessageDifferencer::Equals(*in, *out))
          << "case " << i << "\nin:\n" << in->DebugString() << "out:\n" << out->DebugString();
    }
  }

  testing::ProtoFiles files_;
  LayoutPool pool_;
};

TEST_F(DynamicTest, AllTypesRoundTrip3000RandomMessages) { RoundTrip("ringcast_test.AllTypes", 3000, 2, 4); }

TEST_F(DynamicTest, TreeRoundTrip1000RandomMessages) { RoundTrip("ringcast_test.Tree", 1000, 5, 3); }

TEST_F(DynamicTest, EmptyMessagesRoundTrip) {
  RoundTrip("ringcast_test.Empty", 1, 0, 0);
  RoundTrip("ringcast_test.AllTypes", 1, 0, 0);
}

TEST_F(DynamicTest, OneofAndOptionalKeepPresence) {
  const MessageLayout& layout = Layout("ringcast_test.AllTypes");
  auto msg = files_.New(layout.descriptor());
  const google::protobuf::Reflection* r = msg->GetReflection();
  const google::protobuf::Descriptor* d = layout.descriptor();
  r->SetInt32(msg.get(), d->FindFieldByName("maybe"), 0);  // present, zero
  r->SetInt32(msg.get(), d->FindFieldByName("choice_int"), 0);
  absl::StatusOr<std::vector<std::byte>> flat = WriteFlat(layout, *msg);
  ASSERT_TRUE(flat.ok()) << flat.status();
  auto out = files_.New(d);
  ASSERT_TRUE(ReadFlat(layout, *flat, out.get()).ok());
  EXPECT_TRUE(r->HasField(*out, d->FindFieldByName("maybe")));
  EXPECT_TRUE(r->HasField(*out, d->FindFieldByName("choice_int")));
  EXPECT_FALSE(r->HasField(*out, d->FindFieldByName("point")));
}

TEST_F(DynamicTest, TooSmallBufferNamesTheFieldAndSizes) {
  const MessageLayout& layout = Layout("ringcast_test.AllTypes");
  auto msg = files_.New(layout.descriptor());
  msg->GetReflection()->SetString(msg.get(), layout.descriptor()->FindFieldByName("str"),
                                  std::string(100, 'x'));
  std::vector<std::byte> buffer(layout.size() + 10);
  absl::StatusOr<std::size_t> used = WriteFlat(layout, *msg, absl::MakeSpan(buffer));
  ASSERT_FALSE(used.ok());
  EXPECT_EQ(used.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(used.status().message(),
            "ringcast_test.AllTypes.str: needs 100 bytes at offset 312 but the buffer holds 322 "
            "bytes (312 used); size the buffer with FlatSize() or loan a larger one");
  std::vector<std::byte> tiny(8);
  EXPECT_THAT(WriteFlat(layout, *msg, absl::MakeSpan(tiny)).status().message(),
              HasSubstr("cannot hold the 312-byte head"));
}

TEST_F(DynamicTest, WrongMessageTypeIsRefused) {
  const MessageLayout& layout = Layout("ringcast_test.AllTypes");
  auto tree = files_.New(Layout("ringcast_test.Tree").descriptor());
  EXPECT_EQ(WriteFlat(layout, *tree).status().message(),
            "message of type ringcast_test.Tree given for layout ringcast_test.AllTypes");
}

TEST_F(DynamicTest, PrintsTextAndJson) {
  const MessageLayout& layout = Layout("ringcast_test.Inner");
  auto msg = files_.New(layout.descriptor());
  const google::protobuf::Descriptor* d = layout.descriptor();
  const google::protobuf::Reflection* r = msg->GetReflection();
  r->SetString(msg.get(), d->FindFieldByName("label"), "cam0");
  r->AddInt32(msg.get(), d->FindFieldByName("values"), 7);
  r->AddInt32(msg.get(), d->FindFieldByName("values"), -1);
  r->SetBool(msg.get(), d->FindFieldByName("flag"), true);
  absl::StatusOr<std::vector<std::byte>> flat = WriteFlat(layout, *msg);
  ASSERT_TRUE(flat.ok()) << flat.status();
  absl::StatusOr<std::string> text = FlatToText(layout, *flat);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "label: \"cam0\"\nvalues: 7\nvalues: -1\nflag: true\n");
  absl::StatusOr<std::string> json = FlatToJson(layout, *flat);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, R"({"label":"cam0","values":[7,-1],"flag":true})");
  // A corrupt buffer is an error, not a print.
  std::vector<std::byte> bad = *flat;
  bad[4] = std::byte{0xff};  // label's count far past the end
  EXPECT_EQ(FlatToText(layout, bad).status().code(), absl::StatusCode::kDataLoss);
}

std::string DescriptorSetOf(const google::protobuf::FileDescriptor* file) {
  google::protobuf::FileDescriptorSet set;
  std::vector<const google::protobuf::FileDescriptor*> order;
  std::function<void(const google::protobuf::FileDescriptor*)> visit =
      [&](const google::protobuf::FileDescriptor* f) {
        if (std::find(order.begin(), order.end(), f) != order.end()) return;
        for (int i = 0; i < f->dependency_count(); ++i) visit(f->dependency(i));
        order.push_back(f);
      };
  visit(file);
  for (const auto* f : order) f->CopyTo(set.add_file());
  return set.SerializeAsString();
}

TEST_F(DynamicTest, DynamicTypeFromDescriptorSet) {
  const MessageLayout& layout = Layout("ringcast_test.AllTypes");
  const std::string set = DescriptorSetOf(layout.descriptor()->file());
  absl::StatusOr<std::unique_ptr<DynamicType>> type =
      DynamicType::FromDescriptorSet(set, "ringcast_test.AllTypes");
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_EQ((*type)->layout().type_hash(), layout.type_hash());
  absl::StatusOr<std::vector<std::byte>> flat =
      (*type)->FromText("i32: -5 str: \"hi\" rpoint { x: 1 } rpoint { y: 2 } choice_str: \"c\"");
  ASSERT_TRUE(flat.ok()) << flat.status();
  absl::StatusOr<std::string> text = (*type)->ToText(*flat);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "i32: -5\nstr: \"hi\"\nrpoint {\n  x: 1\n}\nrpoint {\n  y: 2\n}\nchoice_str: \"c\"\n");

  EXPECT_THAT((*type)->FromText("i32: \"x\"").status().message(),
              HasSubstr("text for ringcast_test.AllTypes: line 1, column"));
  absl::StatusOr<std::unique_ptr<DynamicType>> missing =
      DynamicType::FromDescriptorSet(set, "ringcast_test.Nope");
  EXPECT_EQ(missing.status().message(),
            "descriptor set defines no message ringcast_test.Nope (or it does not build); its "
            "files: google/protobuf/descriptor.proto, ringcast/options.proto, "
            "ringcast_test/all_types.proto");
  EXPECT_THAT(DynamicType::FromDescriptorSet("\xff\xff", "x").status().message(),
              HasSubstr("does not parse as a google.protobuf.FileDescriptorSet"));
}

}  // namespace
}  // namespace ringcast::idl
