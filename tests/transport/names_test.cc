// Topic name validation (ROS rules) and the topic -> segment name mapping.
#include "transport/names.h"

#include <climits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ringcast::transport {
namespace {

using ::testing::HasSubstr;

struct BadName {
  std::string topic;
  std::string why;  // expected in the message
};

void PrintTo(const BadName& b, std::ostream* os) { *os << "'" << b.topic << "'"; }

class InvalidTopicTest : public ::testing::TestWithParam<BadName> {};

TEST_P(InvalidTopicTest, IsRejectedWithTheRule) {
  const absl::Status s = ValidateTopicName(GetParam().topic);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("'", GetParam().topic, "'")));
  EXPECT_THAT(s.message(), HasSubstr(GetParam().why));
  EXPECT_THAT(s.message(), HasSubstr("valid:"));
  // And no segment name is made from it.
  EXPECT_FALSE(TopicSegmentName(ShmOptions{}, GetParam().topic).ok());
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidTopicTest,
    ::testing::Values(BadName{"", "it is empty"},
                      BadName{"chatter", "it must start with '/'"},
                      BadName{"/", "it has no token after '/'"},
                      BadName{"/chatter/", "it ends with '/'"},
                      BadName{"//chatter", "empty token at offset 1"},
                      BadName{"/a//b", "empty token at offset 3"},
                      BadName{"/1chatter", "token starts with digit '1' at offset 1"},
                      BadName{"/robot/2d", "token starts with digit '2' at offset 7"},
                      BadName{"/chat ter", "character ' ' at offset 5"},
                      BadName{"/chat.ter", "character '.' at offset 5"},
                      BadName{"/chat-ter", "character '-' at offset 5"},
                      BadName{"/caf\xc3\xa9", "character '\\xc3' at offset 4"},
                      BadName{"/~private", "character '~' at offset 1"},
                      BadName{"/a__b", "repeated '_' at offset 3"}),
    [](const ::testing::TestParamInfo<BadName>& info) {
      return absl::StrCat("case", info.index);
    });

TEST(TopicNameTest, AcceptsRosNames) {
  for (const char* ok : {"/a", "/chatter", "/camera/image_raw", "/_private/x1", "/A/B/C",
                         "/robot_1/arm_2/joint_states"}) {
    EXPECT_TRUE(ValidateTopicName(ok).ok()) << ok;
  }
}

TEST(SegmentNameTest, MapsSlashesToDotsAndBack) {
  ShmOptions o;
  o.prefix = "rc";
  o.domain = 7;
  absl::StatusOr<std::string> name = TopicSegmentName(o, "/camera/image_raw");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, "/rc.7.t.camera.image_raw");
  EXPECT_EQ(TopicFromSegmentName(o, *name), "/camera/image_raw");
  EXPECT_EQ(TopicFromSegmentName(o, "/rc.8.t.camera"), std::nullopt);  // other domain
  EXPECT_EQ(TopicFromSegmentName(o, "/rc.7.registry"), std::nullopt);
  EXPECT_EQ(DomainStem(o), "/rc.7.");
}

TEST(SegmentNameTest, LongNamesFallBackToAReadableHeadAndAHash) {
  ShmOptions o;
  const std::string topic = "/" + std::string(200, 'a') + "/" + std::string(200, 'b');
  absl::StatusOr<std::string> name = TopicSegmentName(o, topic);
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->size() - 1, static_cast<std::size_t>(NAME_MAX));
  EXPECT_THAT(*name, ::testing::StartsWith("/ringcast.0.t.aaaa"));
  EXPECT_THAT(*name, ::testing::EndsWith(absl::StrFormat("~%016x", Fnv1a64(topic))));
  // Two long names with the same head still differ.
  const std::string other = "/" + std::string(200, 'a') + "/" + std::string(200, 'c');
  EXPECT_NE(*TopicSegmentName(o, other), *name);
  // A hashed name does not pretend to be reversible.
  EXPECT_EQ(TopicFromSegmentName(o, *name), std::nullopt);
}

TEST(ShmOptionsTest, RejectsBadPrefixDomainAndDir) {
  ShmOptions o;
  o.prefix = "has.dot";
  EXPECT_THAT(ValidateShmOptions(o).message(), HasSubstr("invalid segment prefix 'has.dot'"));
  o.prefix = "ok";
  o.domain = 70000;
  EXPECT_THAT(ValidateShmOptions(o).message(), HasSubstr("invalid domain 70000"));
  o.domain = 0;
  o.dir = "relative";
  EXPECT_THAT(ValidateShmOptions(o).message(), HasSubstr("expected an absolute path"));
}

TEST(Fnv1aTest, IsTheStandardFunction) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

}  // namespace
}  // namespace ringcast::transport
