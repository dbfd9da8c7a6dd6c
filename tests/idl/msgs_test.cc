// The standard messages: each round-trips, each field is documented, and an
// Image is built in place and read without a copy.
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "idl/layout.h"
#include "ringcast/msgs/geometry.ringcast.h"
#include "ringcast/msgs/header.ringcast.h"
#include "ringcast/msgs/image.ringcast.h"
#include "ringcast/msgs/imu.ringcast.h"
#include "ringcast/msgs/point_cloud.ringcast.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/msgs/time.ringcast.h"
#include "tests/idl/idl_test_util.h"

namespace ringcast::idl {
namespace {

using google::protobuf::util::MessageDifferencer;
namespace msgs = ::ringcast::msgs;

template <typename Flat>
void RoundTrip(int cases) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < cases; ++i) {
    typename Flat::Proto in;
    testing::RandomFill(&in, rng, 3, 4);
    absl::StatusOr<std::vector<std::byte>> bytes = Flat::FromProto(in);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    typename Flat::Proto out;
    ASSERT_TRUE(Flat::ToProto(*bytes, &out).ok());
    ASSERT_TRUE(MessageDifferencer::Equals(in, out)) << Flat::kTypeName << " case " << i;
  }
}

TEST(StandardMessagesTest, RoundTrip) {
  RoundTrip<msgs::flat::Time>(200);
  RoundTrip<msgs::flat::Header>(200);
  RoundTrip<msgs::flat::String>(200);
  RoundTrip<msgs::flat::Image>(200);
  RoundTrip<msgs::flat::CompressedImage>(200);
  RoundTrip<msgs::flat::PointCloud>(200);
  RoundTrip<msgs::flat::Imu>(200);
  RoundTrip<msgs::flat::Pose>(200);
  RoundTrip<msgs::flat::PoseStamped>(200);
  RoundTrip<msgs::flat::Twist>(200);
}

TEST(StandardMessagesTest, EveryFieldHasAComment) {
  for (const google::protobuf::FileDescriptor* f :
       {msgs::Time::descriptor()->file(), msgs::Header::descriptor()->file(),
        msgs::String::descriptor()->file(), msgs::Image::descriptor()->file(),
        msgs::PointCloud::descriptor()->file(), msgs::Imu::descriptor()->file(),
        msgs::Pose::descriptor()->file()}) {
    // Generated classes carry no source info: re-parse the .proto.
    testing::ProtoFiles files;
    files.MapPath(RINGCAST_MSGS_PROTO_DIR);
    const google::protobuf::FileDescriptor* parsed = files.Import(f->name());
    ASSERT_NE(parsed, nullptr) << files.errors();
    for (int m = 0; m < parsed->message_type_count(); ++m) {
      const google::protobuf::Descriptor* d = parsed->message_type(m);
      for (int i = 0; i < d->field_count(); ++i) {
        google::protobuf::SourceLocation loc;
        ASSERT_TRUE(d->field(i)->GetSourceLocation(&loc));
        EXPECT_FALSE(loc.leading_comments.empty() && loc.trailing_comments.empty())
            << d->field(i)->full_name() << " has no comment";
      }
    }
  }
}

TEST(StandardMessagesTest, TypeHashesArePinned) {
  // Golden: changing a standard message breaks every peer built before it.
  EXPECT_EQ(absl::StrCat(absl::Hex(msgs::flat::Image::kTypeHash, absl::kZeroPad16)),
            "bfb8f740ff10a5e6");
  EXPECT_EQ(absl::StrCat(absl::Hex(msgs::flat::Imu::kTypeHash, absl::kZeroPad16)),
            "866dbe95573d8a5a");
  LayoutPool pool;
  EXPECT_EQ((*pool.Get(msgs::Image::descriptor()))->type_hash(), msgs::flat::Image::kTypeHash);
}

TEST(StandardMessagesTest, FullHdImageBuiltInPlace) {
  constexpr std::uint32_t kW = 1920, kH = 1080;
  std::vector<std::byte> chunk(msgs::flat::Image::kHeadSize + 64 + kW * kH * 3);
  absl::StatusOr<msgs::flat::ImageBuilder> b = msgs::flat::ImageBuilder::Create(absl::MakeSpan(chunk));
  ASSERT_TRUE(b.ok()) << b.status();
  msgs::flat::HeaderBuilder header = b->mutable_header();
  header.mutable_stamp().set_sec(1700000000);
  ASSERT_TRUE(header.set_frame_id("camera").ok());
  header.set_seq(42);
  b->set_width(kW);
  b->set_height(kH);
  b->set_step(kW * 3);
  ASSERT_TRUE(b->set_encoding("rgb8").ok());
  absl::StatusOr<absl::Span<std::uint8_t>> data = b->alloc_data(std::size_t{kW} * kH * 3);
  ASSERT_TRUE(data.ok()) << data.status();
  for (std::size_t i = 0; i < data->size(); i += 4096) (*data)[i] = static_cast<std::uint8_t>(i >> 12);

  absl::StatusOr<msgs::flat::ImageView> v = msgs::flat::ImageView::Create(b->UsedBytes());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->width(), kW);
  EXPECT_EQ(v->header().frame_id(), "camera");
  EXPECT_EQ(v->header().stamp().sec(), 1700000000);
  EXPECT_EQ(v->encoding(), "rgb8");
  ASSERT_EQ(v->data().size(), std::size_t{kW} * kH * 3);
  EXPECT_EQ(v->data().data(), data->data());  // no copy: the view points at the bytes
  EXPECT_EQ(v->data()[4096 * 3], 3);
}

}  // namespace
}  // namespace ringcast::idl
