// Generated types that use another generated library's types, nested
// messages and enums, in a nested package.
#include <random>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ringcast_test/uses_msgs.ringcast.h"
#include "tests/idl/idl_test_util.h"

namespace ringcast::idl {
namespace {

namespace sub = ::ringcast_test::sub;

TEST(CrossFileTest, RoundTrip) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 1000; ++i) {
    sub::Stamped in;
    testing::RandomFill(&in, rng, 3, 3);
    absl::StatusOr<std::vector<std::byte>> bytes = sub::flat::Stamped::FromProto(in);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    sub::Stamped out;
    ASSERT_TRUE(sub::flat::Stamped::ToProto(*bytes, &out).ok());
    ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(in, out)) << "case " << i;
  }
}

TEST(CrossFileTest, NestedTypesAndForeignViews) {
  alignas(8) std::byte buffer[512];
  absl::StatusOr<sub::flat::StampedBuilder> b = sub::flat::StampedBuilder::Create(buffer);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->mutable_header().set_frame_id("map").ok());
  absl::StatusOr<ringcast::msgs::flat::PoseBuilder> pose = b->add_poses();
  ASSERT_TRUE(pose.ok());
  pose->mutable_orientation().set_w(1);
  b->mutable_inner().set_mode(sub::Stamped_Inner_Mode_MODE_B);
  ASSERT_TRUE(b->add_modes(sub::Stamped_Inner_Mode_MODE_B).ok());
  b->set_pick_mode(sub::Stamped_Inner_Mode_MODE_B);

  absl::StatusOr<sub::flat::StampedView> v = sub::flat::StampedView::Create(b->UsedBytes());
  ASSERT_TRUE(v.ok()) << v.status();
  const ringcast::msgs::flat::HeaderView header = v->header();
  EXPECT_EQ(header.frame_id(), "map");
  EXPECT_EQ(v->poses()[0].orientation().w(), 1);
  const sub::flat::Stamped_InnerView inner = v->inner();
  EXPECT_EQ(inner.mode(), sub::Stamped_Inner_Mode_MODE_B);
  EXPECT_EQ(v->modes()[0], sub::Stamped_Inner_Mode_MODE_B);
  EXPECT_EQ(v->pick_case(), sub::flat::StampedView::PickCase::kPickMode);
  EXPECT_FALSE(v->has_twist());
  EXPECT_EQ(sub::flat::Stamped_Inner::kTypeName, "ringcast_test.sub.Stamped.Inner");
}

}  // namespace
}  // namespace ringcast::idl
