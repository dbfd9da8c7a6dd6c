// QoS (ringcast/qos.h) and the YAML configuration file (ringcast/config.h): overlaying and
// validating Qos, topic globs, rule precedence, a full file field by field, loading files, and
// a table of bad files, each with the exact error it must give.
#include "ringcast/config.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ringcast/qos.h"

namespace ringcast {
namespace {

using ::testing::HasSubstr;

// A Qos with every field set (and none at its default), to catch a field Overlay forgets.
Qos AllSet() {
  return Qos()
      .set_depth(16)
      .set_reliable(absl::Milliseconds(250))
      .set_transient_local()
      .set_max_message_size(1 << 20)
      .set_max_held_samples(3)
      .set_inline_capacity(100)
      .set_max_publishers(5)
      .set_max_subscribers(7)
      .set_pool_initial_chunks(6)
      .set_pool_release_after(absl::Seconds(30));
}

TEST(QosTest, SettersChainAndSetOnlyTheirFields) {
  const Qos q = Qos().set_depth(4).set_reliable(absl::Milliseconds(50)).set_transient_local();
  EXPECT_EQ(q.depth, 4u);
  EXPECT_EQ(q.reliability, ReliabilityPolicy::kReliable);
  EXPECT_EQ(q.reliable_timeout, absl::Milliseconds(50));
  EXPECT_EQ(q.durability, DurabilityPolicy::kTransientLocal);
  EXPECT_FALSE(q.max_message_size.has_value());
  EXPECT_FALSE(q.max_held_samples.has_value());
  EXPECT_FALSE(q.inline_capacity.has_value());
  EXPECT_FALSE(q.max_publishers.has_value());
  EXPECT_FALSE(q.max_subscribers.has_value());
  EXPECT_FALSE(q.pool_initial_chunks.has_value());
  EXPECT_FALSE(q.pool_release_after.has_value());
  EXPECT_EQ(Qos().set_best_effort().reliability, ReliabilityPolicy::kBestEffort);
  EXPECT_EQ(Qos().set_volatile().durability, DurabilityPolicy::kVolatile);
  Qos pool;
  pool.pool_initial_chunks = 3;
  pool.pool_release_after = absl::Milliseconds(250);
  EXPECT_EQ(Qos().set_pool_initial_chunks(3).set_pool_release_after(absl::Milliseconds(250)),
            pool);
}

TEST(QosTest, OverlayCopiesEveryFieldThatIsSet) {
  Qos empty;
  EXPECT_EQ(empty.Overlay(AllSet()), AllSet());
  Qos all = AllSet();
  EXPECT_EQ(all.Overlay(Qos()), AllSet()) << "unset fields must not erase";
}

TEST(QosTest, OverlayLaterWinsFieldByField) {
  const Qos declared = Qos().set_depth(8).set_best_effort().set_max_subscribers(4);
  const Qos yaml = Qos().set_depth(32).set_transient_local();
  const Qos code = Qos().set_reliable(absl::Seconds(1));
  Qos q = declared;
  q.Overlay(yaml).Overlay(code);
  EXPECT_EQ(q, Qos()
                   .set_depth(32)
                   .set_reliable(absl::Seconds(1))
                   .set_transient_local()
                   .set_max_subscribers(4));
}

TEST(QosTest, OverlayLaterWinsForThePoolFields) {
  const Qos declared = Qos().set_pool_initial_chunks(8).set_pool_release_after(absl::Seconds(9));
  const Qos yaml = Qos().set_pool_initial_chunks(4);
  const Qos code = Qos().set_pool_release_after(absl::Milliseconds(20));
  Qos q = declared;
  q.Overlay(yaml).Overlay(code);
  EXPECT_EQ(q.pool_initial_chunks, 4u) << "the file over the declaration";
  EXPECT_EQ(q.pool_release_after, absl::Milliseconds(20)) << "code over the file";
  q = declared;
  q.Overlay(Qos().set_depth(4));
  EXPECT_EQ(q.pool_initial_chunks, 8u) << "a source silent on them keeps them";
  EXPECT_EQ(q.pool_release_after, absl::Seconds(9));
}

TEST(QosTest, ValidateAcceptsEmptyBoundsAndAllSet) {
  EXPECT_TRUE(ValidateQos(Qos()).ok());
  EXPECT_TRUE(ValidateQos(AllSet()).ok());
  EXPECT_TRUE(ValidateQos(Qos()
                              .set_depth(1)
                              .set_reliable(absl::Hours(1))
                              .set_max_message_size(0)
                              .set_max_held_samples(1)
                              .set_inline_capacity(0)
                              .set_max_publishers(1)
                              .set_max_subscribers(1)
                              .set_pool_initial_chunks(1)
                              .set_pool_release_after(absl::Nanoseconds(1)))
                  .ok());
  EXPECT_TRUE(ValidateQos(Qos()
                              .set_depth(65536)
                              .set_reliable(absl::Nanoseconds(1))
                              .set_max_message_size(std::uint64_t{1} << 40)
                              .set_max_held_samples(64)
                              .set_inline_capacity(65520)
                              .set_max_publishers(64)
                              .set_max_subscribers(512)
                              .set_pool_initial_chunks(1048576)
                              .set_pool_release_after(absl::Hours(1)))
                  .ok());
}

TEST(QosTest, ValidateNamesTheFirstBadFieldItsValueAndTheRange) {
  struct Case {
    Qos qos;
    std::string message;
  };
  const Case cases[] = {
      {Qos().set_depth(12), "qos depth = 12: valid a power of two in 1..65536"},
      {Qos().set_depth(0), "qos depth = 0: valid a power of two in 1..65536"},
      {Qos().set_depth(131072), "qos depth = 131072: valid a power of two in 1..65536"},
      {Qos().set_reliable(absl::ZeroDuration()),
       "qos reliable_timeout = 0: valid more than 0 and at most 1h"},
      {Qos().set_reliable(absl::Seconds(-1)),
       "qos reliable_timeout = -1s: valid more than 0 and at most 1h"},
      {Qos().set_reliable(absl::Hours(1) + absl::Nanoseconds(1)),
       "qos reliable_timeout = 1h0.000000001s: valid more than 0 and at most 1h"},
      {Qos().set_reliable(absl::InfiniteDuration()),
       "qos reliable_timeout = inf: valid more than 0 and at most 1h"},
      {Qos().set_max_message_size((std::uint64_t{1} << 40) + 1),
       "qos max_message_size = 1099511627777: valid 0..1099511627776 (1 TiB)"},
      {Qos().set_max_held_samples(0), "qos max_held_samples = 0: valid 1..64"},
      {Qos().set_max_held_samples(65), "qos max_held_samples = 65: valid 1..64"},
      {Qos().set_inline_capacity(65521), "qos inline_capacity = 65521: valid 0..65520"},
      {Qos().set_max_publishers(0), "qos max_publishers = 0: valid 1..64"},
      {Qos().set_max_publishers(65), "qos max_publishers = 65: valid 1..64"},
      {Qos().set_max_subscribers(0), "qos max_subscribers = 0: valid 1..512"},
      {Qos().set_max_subscribers(513), "qos max_subscribers = 513: valid 1..512"},
      {Qos().set_pool_initial_chunks(0), "qos pool_initial_chunks = 0: valid 1..1048576"},
      {Qos().set_pool_initial_chunks(1048577),
       "qos pool_initial_chunks = 1048577: valid 1..1048576"},
      {Qos().set_pool_initial_chunks(std::numeric_limits<std::uint32_t>::max()),
       "qos pool_initial_chunks = 4294967295: valid 1..1048576"},
      {Qos().set_pool_release_after(absl::ZeroDuration()),
       "qos pool_release_after = 0: valid more than 0 and at most 1h"},
      {Qos().set_pool_release_after(absl::Milliseconds(-5)),
       "qos pool_release_after = -5ms: valid more than 0 and at most 1h"},
      {Qos().set_pool_release_after(absl::Hours(1) + absl::Nanoseconds(1)),
       "qos pool_release_after = 1h0.000000001s: valid more than 0 and at most 1h"},
      {Qos().set_pool_release_after(absl::InfiniteDuration()),
       "qos pool_release_after = inf: valid more than 0 and at most 1h"},
      {Qos().set_pool_release_after(absl::ZeroDuration()).set_pool_initial_chunks(0),
       "qos pool_initial_chunks = 0: valid 1..1048576"},
      // Two bad fields: the first in declaration order is named.
      {Qos().set_max_subscribers(0).set_depth(3),
       "qos depth = 3: valid a power of two in 1..65536"},
  };
  for (const Case& c : cases) {
    const absl::Status s = ValidateQos(c.qos);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(s.message(), c.message);
  }
  // Enum values nobody can write in YAML or with the setters, but a cast can.
  Qos q;
  q.reliability = static_cast<ReliabilityPolicy>(7);
  EXPECT_EQ(ValidateQos(q).message(), "qos reliability = 7: valid 0 (best effort) or 1 (reliable)");
  q = Qos();
  q.durability = static_cast<DurabilityPolicy>(2);
  EXPECT_EQ(ValidateQos(q).message(),
            "qos durability = 2: valid 0 (volatile) or 1 (transient local)");
}

TEST(TopicMatchesTest, ExactNames) {
  EXPECT_TRUE(TopicMatches("/camera/image", "/camera/image"));
  EXPECT_FALSE(TopicMatches("/camera/image", "/camera/image2"));
  EXPECT_FALSE(TopicMatches("/camera/image", "/camera"));
  EXPECT_FALSE(TopicMatches("/camera/image", ""));
}

TEST(TopicMatchesTest, StarStaysWithinOneToken) {
  EXPECT_TRUE(TopicMatches("/imu/*", "/imu/accel"));
  EXPECT_TRUE(TopicMatches("/imu/*", "/imu/gyro"));
  EXPECT_FALSE(TopicMatches("/imu/*", "/imu/accel/raw"));
  EXPECT_FALSE(TopicMatches("/imu/*", "/imux"));
  EXPECT_TRUE(TopicMatches("/imu*", "/imu"));
  EXPECT_TRUE(TopicMatches("/imu*", "/imu2"));
  EXPECT_FALSE(TopicMatches("/imu*", "/imu/accel"));
  EXPECT_TRUE(TopicMatches("/*/image", "/camera/image"));
  EXPECT_FALSE(TopicMatches("/*/image", "/left/camera/image"));
  EXPECT_TRUE(TopicMatches("/cam*_*/image", "/cam_left_1/image"));
  EXPECT_FALSE(TopicMatches("*", "/a"));
}

TEST(TopicMatchesTest, DoubleStarCrossesTokens) {
  EXPECT_TRUE(TopicMatches("/**", "/a"));
  EXPECT_TRUE(TopicMatches("/**", "/a/b/c"));
  EXPECT_TRUE(TopicMatches("/robot/**/raw", "/robot/arm/joint/raw"));
  EXPECT_TRUE(TopicMatches("/robot/**/raw", "/robot/arm/raw"));
  EXPECT_FALSE(TopicMatches("/robot/**/raw", "/robot/raw"));
  EXPECT_FALSE(TopicMatches("/robot/**/raw", "/robot/arm/raw2"));
  EXPECT_TRUE(TopicMatches("/**image", "/camera/left/image"));
  EXPECT_FALSE(TopicMatches("/**", "camera"));
}

TEST(TopicMatchesTest, ManyStarsStayFast) {
  // Backtracking would take ages here; the matcher is O(pattern * topic).
  const std::string topic = absl::StrCat("/", std::string(5000, 'a'));
  EXPECT_FALSE(TopicMatches("/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", topic));
  EXPECT_FALSE(TopicMatches("/**a**a**a**a**a**a**a**a**a**a**a**b", topic));
  EXPECT_TRUE(TopicMatches("/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", topic));
}

TEST(ConfigTest, QosForOverlaysGlobsInFileOrderThenTheExactRule) {
  const absl::StatusOr<Config> config = ParseConfig(R"(
topics:
  "/**":
    depth: 8
    reliability: reliable
  "/camera/*":
    depth: 16
  /camera/image:
    depth: 4
  "/*/image":
    depth: 32
    durability: transient_local
)",
                                                    "ringcast.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->topics.size(), 4u);
  EXPECT_EQ(config->topics[2].pattern, "/camera/image");
  // The exact rule wins although "/*/image" comes after it; the globs apply in file order.
  Qos want;
  want.depth = 4;
  want.reliability = ReliabilityPolicy::kReliable;
  want.durability = DurabilityPolicy::kTransientLocal;
  EXPECT_EQ(config->QosFor("/camera/image"), want);
  want = Qos();
  want.depth = 16;
  want.reliability = ReliabilityPolicy::kReliable;
  EXPECT_EQ(config->QosFor("/camera/info"), want);
  want.depth = 32;
  want.durability = DurabilityPolicy::kTransientLocal;
  EXPECT_EQ(config->QosFor("/lidar/image"), want);
  want = Qos();
  want.depth = 8;
  want.reliability = ReliabilityPolicy::kReliable;
  EXPECT_EQ(config->QosFor("/a/b/c"), want);
  EXPECT_EQ(Config().QosFor("/camera/image"), Qos());
}

TEST(ConfigTest, QosForOverlaysThePoolFieldsLikeTheOthers) {
  const absl::StatusOr<Config> config = ParseConfig(R"(
topics:
  "/camera/**":
    pool_initial_chunks: 8
    pool_release_after: 1m
  /camera/image:
    pool_release_after: 250ms
)",
                                                    "ringcast.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  const Qos image = config->QosFor("/camera/image");
  EXPECT_EQ(image.pool_initial_chunks, 8u) << "the glob, where the exact rule is silent";
  EXPECT_EQ(image.pool_release_after, absl::Milliseconds(250)) << "the exact rule wins";
  const Qos info = config->QosFor("/camera/info");
  EXPECT_EQ(info.pool_initial_chunks, 8u);
  EXPECT_EQ(info.pool_release_after, absl::Minutes(1));
  EXPECT_EQ(config->QosFor("/lidar"), Qos());
}

TEST(ConfigTest, FullFileFieldByField) {
  const absl::StatusOr<Config> config = ParseConfig(R"(# every key there is
domain: 3
shm:
  dir: /dev/shm
  prefix: ringcast
  group: video
registry:
  max_nodes: 256
  max_endpoints: 4096
  max_types: 512
  max_descriptor_size: 16384
topics:
  /camera/image:
    depth: 4
    reliability: reliable
    reliable_timeout: 100ms
    durability: transient_local
    max_message_size: 8388608
    max_held_samples: 4
    inline_capacity: 48
    max_publishers: 8
    max_subscribers: 16
    pool_initial_chunks: 4
    pool_release_after: 30s
  "/imu/*":
    depth: 64
    reliability: best_effort
    reliable_timeout: 1.5s
    durability: volatile
    max_message_size: 0
)",
                                                    "ringcast.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source, "ringcast.yaml");
  EXPECT_EQ(config->domain, 3u);
  EXPECT_EQ(config->shm_dir, "/dev/shm");
  EXPECT_EQ(config->shm_prefix, "ringcast");
  EXPECT_EQ(config->group, "video");
  EXPECT_EQ(config->max_nodes, 256u);
  EXPECT_EQ(config->max_endpoints, 4096u);
  EXPECT_EQ(config->max_types, 512u);
  EXPECT_EQ(config->max_descriptor_size, 16384u);
  ASSERT_EQ(config->topics.size(), 2u);
  EXPECT_EQ(config->topics[0].pattern, "/camera/image");
  const Qos& image = config->topics[0].qos;
  EXPECT_EQ(image.depth, 4u);
  EXPECT_EQ(image.reliability, ReliabilityPolicy::kReliable);
  EXPECT_EQ(image.reliable_timeout, absl::Milliseconds(100));
  EXPECT_EQ(image.durability, DurabilityPolicy::kTransientLocal);
  EXPECT_EQ(image.max_message_size, 8388608u);
  EXPECT_EQ(image.max_held_samples, 4u);
  EXPECT_EQ(image.inline_capacity, 48u);
  EXPECT_EQ(image.max_publishers, 8u);
  EXPECT_EQ(image.max_subscribers, 16u);
  EXPECT_EQ(image.pool_initial_chunks, 4u);
  EXPECT_EQ(image.pool_release_after, absl::Seconds(30));
  EXPECT_EQ(config->topics[1].pattern, "/imu/*");
  const Qos& imu = config->topics[1].qos;
  EXPECT_EQ(imu.depth, 64u);
  EXPECT_EQ(imu.reliability, ReliabilityPolicy::kBestEffort);
  EXPECT_EQ(imu.reliable_timeout, absl::Milliseconds(1500));
  EXPECT_EQ(imu.durability, DurabilityPolicy::kVolatile);
  EXPECT_EQ(imu.max_message_size, 0u);
  EXPECT_FALSE(imu.max_held_samples.has_value());
  EXPECT_FALSE(imu.inline_capacity.has_value());
  EXPECT_FALSE(imu.max_publishers.has_value());
  EXPECT_FALSE(imu.max_subscribers.has_value());
  EXPECT_FALSE(imu.pool_initial_chunks.has_value());
  EXPECT_FALSE(imu.pool_release_after.has_value());
}

TEST(ConfigTest, UnsetFieldsStayUnset) {
  const absl::StatusOr<Config> config = ParseConfig("shm:\n  prefix: test\n", "c.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->shm_prefix, "test");
  EXPECT_FALSE(config->domain.has_value());
  EXPECT_FALSE(config->shm_dir.has_value());
  EXPECT_FALSE(config->group.has_value());
  EXPECT_FALSE(config->max_nodes.has_value());
  EXPECT_FALSE(config->max_endpoints.has_value());
  EXPECT_FALSE(config->max_types.has_value());
  EXPECT_FALSE(config->max_descriptor_size.has_value());
  EXPECT_TRUE(config->topics.empty());
}

TEST(ConfigTest, EmptyFilesAndEmptySectionsAreValid) {
  for (const char* yaml : {"", "\n", "# only a comment\n", "---\n", "~\n", "---\n...\n"}) {
    const absl::StatusOr<Config> config = ParseConfig(yaml, "empty.yaml");
    ASSERT_TRUE(config.ok()) << "'" << yaml << "': " << config.status();
    EXPECT_EQ(config->source, "empty.yaml");
    EXPECT_FALSE(config->domain.has_value());
    EXPECT_TRUE(config->topics.empty());
  }
  // A section or topic with nothing under it says nothing (but a topic pattern is still
  // checked, and gets a rule that sets nothing).
  const absl::StatusOr<Config> config =
      ParseConfig("shm:\nregistry:\ntopics:\n  /a:\n", "empty.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->topics.size(), 1u);
  EXPECT_EQ(config->topics[0].qos, Qos());
  EXPECT_FALSE(ParseConfig("topics:\n  a:\n", "empty.yaml").ok());
}

TEST(ConfigTest, ValuesAtTheirBoundsAndInOtherYamlForms) {
  // Flow style, quoted scalars (text is parsed the same, quoted or not), numeric gid.
  const absl::StatusOr<Config> config = ParseConfig(
      R"({domain: "65535", shm: {prefix: "a-B_9", group: 4294967294, dir: "/"},
          registry: {max_nodes: 65536, max_endpoints: 1048576, max_types: 1,
                     max_descriptor_size: 0},
          topics: {"/a_b/c1": {depth: "65536", reliable_timeout: 1h,
                               max_message_size: 1099511627776,
                               pool_initial_chunks: 1048576, pool_release_after: 1h},
                   "/**": {depth: 1, reliable_timeout: 1ns, reliability: "reliable",
                           pool_initial_chunks: "1", pool_release_after: 1.5ms}}})",
      "flow.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->domain, 65535u);
  EXPECT_EQ(config->shm_prefix, "a-B_9");
  EXPECT_EQ(config->group, "4294967294");
  EXPECT_EQ(config->shm_dir, "/");
  EXPECT_EQ(config->max_nodes, 65536u);
  EXPECT_EQ(config->max_endpoints, 1048576u);
  EXPECT_EQ(config->max_types, 1u);
  EXPECT_EQ(config->max_descriptor_size, 0u);
  ASSERT_EQ(config->topics.size(), 2u);
  EXPECT_EQ(config->topics[0].qos.depth, 65536u);
  EXPECT_EQ(config->topics[0].qos.reliable_timeout, absl::Hours(1));
  EXPECT_EQ(config->topics[0].qos.max_message_size, std::uint64_t{1} << 40);
  EXPECT_EQ(config->topics[1].qos.reliable_timeout, absl::Nanoseconds(1));
  EXPECT_EQ(config->topics[1].qos.reliability, ReliabilityPolicy::kReliable);
  EXPECT_EQ(config->topics[0].qos.pool_initial_chunks, 1048576u);
  EXPECT_EQ(config->topics[0].qos.pool_release_after, absl::Hours(1));
  EXPECT_EQ(config->topics[1].qos.pool_initial_chunks, 1u);
  EXPECT_EQ(config->topics[1].qos.pool_release_after, absl::Microseconds(1500));
  // Domain 0 and gid 0 are real values, not "unset".
  const absl::StatusOr<Config> zero = ParseConfig("domain: 0\nshm: {group: 0}\n", "z.yaml");
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(zero->domain, 0u);
  EXPECT_EQ(zero->group, "0");
}

TEST(ConfigTest, ErrorsNameTheSourceEvenWithoutAFileName) {
  const absl::StatusOr<Config> config = ParseConfig("domain: x\n", "");
  EXPECT_EQ(config.status().message(),
            "(config):1:9: domain='x' is not a domain number; valid 0..65535");
}

TEST(ConfigTest, NothingThrowsOnHostileYaml) {
  // Deep nesting trips yaml-cpp's depth guard (an exception), and binary junk its scanner;
  // both must come back as a Status.
  const std::string deep = absl::StrCat(std::string(100000, '['), std::string(100000, ']'));
  const absl::StatusOr<Config> config = ParseConfig(deep, "deep.yaml");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("deep.yaml:"));
  const std::string junk("\0\x01\xff\xfe{[:\t\"", 10);
  EXPECT_FALSE(ParseConfig(junk, "junk.yaml").ok());
}

TEST(ConfigTest, AnchoredQosCanBeShared) {
  // yaml-cpp shares an aliased node rather than copying it; both rules get its fields.
  const absl::StatusOr<Config> config =
      ParseConfig("topics:\n  /a: &fast {depth: 2, reliability: best_effort}\n  /b: *fast\n",
                  "alias.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->topics.size(), 2u);
  EXPECT_EQ(config->topics[0].qos, config->topics[1].qos);
  EXPECT_EQ(config->topics[1].qos.depth, 2u);
}

TEST(ParseDomainTest, PlainDecimalInRange) {
  EXPECT_EQ(ParseDomain("0", "RINGCAST_DOMAIN").value(), 0u);
  EXPECT_EQ(ParseDomain("42", "RINGCAST_DOMAIN").value(), 42u);
  EXPECT_EQ(ParseDomain("65535", "--domain").value(), 65535u);
  for (const char* bad : {"65536", "", " 3", "3 ", "+3", "-3", "03", "0x10", "3.0", "1e3",
                          "99999999999999999999999", "three"}) {
    const absl::StatusOr<std::uint32_t> d = ParseDomain(bad, "RINGCAST_DOMAIN");
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(d.status().message(), absl::StrCat("RINGCAST_DOMAIN='", bad,
                                                 "' is not a domain number; valid 0..65535"));
  }
  // Control characters are shown escaped.
  EXPECT_EQ(ParseDomain("1\n", "--domain").status().message(),
            "--domain='1\\n' is not a domain number; valid 0..65535");
}

// A private directory under /tmp, removed with what the test put in it.
class LoadConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ringcast-config-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) ::unlink(f.c_str());
    EXPECT_EQ(::rmdir(dir_.c_str()), 0) << "something left in " << dir_;
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(LoadConfigFileTest, ReadsAndParsesAFile) {
  const std::string path = Write("ringcast.yaml", "domain: 7\ntopics:\n  /a: {depth: 2}\n");
  const absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->source, path);
  EXPECT_EQ(config->domain, 7u);
  EXPECT_EQ(config->QosFor("/a").depth, 2u);
}

TEST_F(LoadConfigFileTest, ErrorsNameThePath) {
  const std::string path = Write("bad.yaml", "domain: 7\nshm:\n  prefx: x\n");
  EXPECT_EQ(LoadConfigFile(path).status().message(),
            absl::StrCat(path, ":3:3: shm.prefx: unknown key; valid keys: dir, prefix, group"));
}

TEST_F(LoadConfigFileTest, MissingFileIsNotFoundNamingThePath) {
  const std::string path = absl::StrCat(dir_, "/absent.yaml");
  const absl::Status s = LoadConfigFile(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("'", path, "'")));
}

TEST_F(LoadConfigFileTest, ADirectoryIsAnError) {
  const absl::Status s = LoadConfigFile(dir_).status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("'", dir_, "'")));
}

// A FIFO nobody writes (planted, or a writer that never comes) is an error
// within a few seconds, never a hang; a pipe that is written is read.
TEST_F(LoadConfigFileTest, AFifoNobodyWritesIsAnErrorNotAHang) {
  const std::string path = absl::StrCat(dir_, "/fifo.yaml");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  files_.push_back(path);
  const absl::Time start = absl::Now();
  const absl::Status s = LoadConfigFile(path).status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_THAT(s.message(), HasSubstr(absl::StrCat("'", path, "' is a pipe nobody finished")));

  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const std::string text = "domain: 5\n";
  ASSERT_EQ(::write(p[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(p[1]);
  const absl::StatusOr<Config> piped = LoadConfigFile(absl::StrCat("/dev/fd/", p[0]));
  ::close(p[0]);
  ASSERT_TRUE(piped.ok()) << piped.status();
  EXPECT_EQ(piped->domain, 5u);
}

TEST_F(LoadConfigFileTest, AHugeFileIsRefused) {
  const std::string path = Write("huge.yaml", std::string((4 << 20) + 1, '#'));
  const absl::Status s = LoadConfigFile(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), absl::StrCat("configuration file '", path,
                                      "' is larger than 4 MiB; valid a YAML file of a few KiB"));
}

// One bad file and the exact error it must give.
struct BadFile {
  std::string name;  // the test's name
  std::string yaml;
  std::string error;
};

void PrintTo(const BadFile& b, std::ostream* os) { *os << b.name; }

class BadFileTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadFileTest, GivesTheExactError) {
  const absl::StatusOr<Config> config = ParseConfig(GetParam().yaml, "ringcast.yaml");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), GetParam().error);
}

constexpr char kQosKeys[] =
    "depth, reliability, reliable_timeout, durability, max_message_size, max_held_samples, "
    "inline_capacity, max_publishers, max_subscribers, pool_initial_chunks, pool_release_after";
constexpr char kTopicRule[] =
    " (valid: '/'-separated tokens of [A-Za-z0-9_], each not starting with a digit, no '__', "
    "e.g. /camera/image)";
constexpr char kGroupValid[] =
    "a group name (1..32 of [A-Za-z0-9._-], not starting with '-') or a gid in 0..4294967294";

INSTANTIATE_TEST_SUITE_P(
    Table, BadFileTest,
    ::testing::Values(
        // --- YAML itself ---
        BadFile{"SyntaxUnclosedFlow", "topics:\n  /a: [1\n",
                "ringcast.yaml:3:1: YAML syntax error: end of sequence flow not found"},
        BadFile{"SyntaxBadIndent", "domain: 1\n shm: 2\n",
                "ringcast.yaml:2:5: YAML syntax error: illegal map value"},
        BadFile{"SecondDocument", "domain: 1\n---\ndomain: 2\n",
                "ringcast.yaml:3:1: a second YAML document (after '---'); a configuration "
                "file holds one"},
        // --- top level ---
        BadFile{"TopIsSequence", "- domain\n- 3\n",
                "ringcast.yaml:1:1: expected a map with keys domain, shm, registry, topics, got "
                "a sequence"},
        BadFile{"TopIsText", "domain 3\n",
                "ringcast.yaml:1:1: expected a map with keys domain, shm, registry, topics, got "
                "text \"domain 3\""},
        BadFile{"TopUnknownKey", "domain: 1\ndomian: 2\n",
                "ringcast.yaml:2:1: domian: unknown key; valid keys: domain, shm, registry, "
                "topics"},
        BadFile{"TopWrongCase", "Domain: 1\n",
                "ringcast.yaml:1:1: Domain: unknown key; valid keys: domain, shm, registry, "
                "topics"},
        BadFile{"TopUnknownKeyEscaped", "\"do\\tmain\": 1\n",
                "ringcast.yaml:1:1: do\\tmain: unknown key; valid keys: domain, shm, registry, "
                "topics"},
        BadFile{"TopKeyNotText", "? [a, b]\n: 1\n",
                "ringcast.yaml:1:3: a key must be text, got a sequence"},
        BadFile{"TopDuplicateKey", "domain: 1\nshm: {}\ndomain: 2\n",
                "ringcast.yaml:3:1: domain: duplicate key (first at line 1, column 1)"},
        // --- domain ---
        BadFile{"DomainText", "domain: three\n",
                "ringcast.yaml:1:9: domain='three' is not a domain number; valid 0..65535"},
        BadFile{"DomainTooBig", "domain: 65536\n",
                "ringcast.yaml:1:9: domain='65536' is not a domain number; valid 0..65535"},
        BadFile{"DomainNegative", "domain: -1\n",
                "ringcast.yaml:1:9: domain='-1' is not a domain number; valid 0..65535"},
        BadFile{"DomainFloat", "domain: 1.0\n",
                "ringcast.yaml:1:9: domain='1.0' is not a domain number; valid 0..65535"},
        BadFile{"DomainMap", "domain:\n  id: 3\n",
                "ringcast.yaml:2:3: domain: expected a domain number in 0..65535, got a map"},
        BadFile{"DomainEmpty", "domain:\nshm: {}\n",
                "ringcast.yaml:1:1: domain: expected a domain number in 0..65535, got no value"},
        // --- shm ---
        BadFile{"ShmIsText", "shm: /dev/shm\n",
                "ringcast.yaml:1:6: shm = \"/dev/shm\": expected a map with keys dir, prefix, "
                "group"},
        BadFile{"ShmUnknownKey", "shm:\n  dir: /dev/shm\n  prefx: ringcast\n",
                "ringcast.yaml:3:3: shm.prefx: unknown key; valid keys: dir, prefix, group"},
        BadFile{"ShmDuplicateKey", "shm:\n  prefix: a\n  dir: /dev/shm\n  prefix: b\n",
                "ringcast.yaml:4:3: shm.prefix: duplicate key (first at line 2, column 3)"},
        BadFile{"ShmDirRelative", "shm:\n  dir: dev/shm\n",
                "ringcast.yaml:2:8: shm.dir = \"dev/shm\": valid an absolute path"},
        BadFile{"ShmDirSequence", "shm:\n  dir: [/dev/shm]\n",
                "ringcast.yaml:2:8: shm.dir: expected an absolute path, got a sequence"},
        BadFile{"ShmPrefixBadChar", "shm:\n  prefix: ring.cast\n",
                "ringcast.yaml:2:11: shm.prefix = \"ring.cast\": valid 1..64 of [A-Za-z0-9_-]"},
        BadFile{"ShmPrefixEmpty", "shm:\n  prefix: \"\"\n",
                "ringcast.yaml:2:11: shm.prefix = \"\": valid 1..64 of [A-Za-z0-9_-]"},
        BadFile{"ShmPrefixTooLong", absl::StrCat("shm:\n  prefix: ", std::string(65, 'p'), "\n"),
                absl::StrCat("ringcast.yaml:2:11: shm.prefix = \"", std::string(64, 'p'),
                             "\"...: valid 1..64 of [A-Za-z0-9_-]")},
        BadFile{"ShmPrefixNull", "shm:\n  prefix: null\n",
                "ringcast.yaml:2:3: shm.prefix: expected 1..64 of [A-Za-z0-9_-], got no value"},
        BadFile{"ShmGroupBadName", "shm:\n  group: \"video users\"\n",
                absl::StrCat("ringcast.yaml:2:10: shm.group = \"video users\": valid ",
                             kGroupValid)},
        BadFile{"ShmGroupGidTooBig", "shm:\n  group: 4294967295\n",
                absl::StrCat("ringcast.yaml:2:10: shm.group = \"4294967295\": valid ",
                             kGroupValid)},
        BadFile{"ShmGroupMap", "shm:\n  group: {name: video}\n",
                absl::StrCat("ringcast.yaml:2:10: shm.group: expected ", kGroupValid,
                             ", got a map")},
        // --- registry ---
        BadFile{"RegistrySequence", "registry: [1, 2]\n",
                "ringcast.yaml:1:11: registry: expected a map with keys max_nodes, "
                "max_endpoints, max_types, max_descriptor_size, got a sequence"},
        BadFile{"RegistryUnknownKey", "registry:\n  max_node: 5\n",
                "ringcast.yaml:2:3: registry.max_node: unknown key; valid keys: max_nodes, "
                "max_endpoints, max_types, max_descriptor_size"},
        BadFile{"RegistryText", "domain: 1\nregistry:\n  max_endpoints: 8\n\n  max_nodes: many\n",
                "ringcast.yaml:5:14: registry.max_nodes = \"many\": expected a whole number in "
                "1..65536"},
        BadFile{"RegistryZero", "registry:\n  max_nodes: 0\n",
                "ringcast.yaml:2:14: registry.max_nodes = 0: valid 1..65536"},
        BadFile{"RegistryOverRange", "registry:\n  max_types: 65537\n",
                "ringcast.yaml:2:14: registry.max_types = 65537: valid 1..65536"},
        BadFile{"RegistryTooBigForField", "registry:\n  max_endpoints: 99999999999\n",
                "ringcast.yaml:2:18: registry.max_endpoints = 99999999999: valid 1..1048576"},
        BadFile{"RegistryFloat", "registry:\n  max_descriptor_size: 1.5\n",
                "ringcast.yaml:2:24: registry.max_descriptor_size = \"1.5\": expected a whole "
                "number in 0..1048576"},
        BadFile{"RegistryNegative", "registry:\n  max_descriptor_size: -3\n",
                "ringcast.yaml:2:24: registry.max_descriptor_size = \"-3\": expected a whole "
                "number in 0..1048576"},
        BadFile{"RegistryMap", "registry:\n  max_types:\n    a: 1\n",
                "ringcast.yaml:3:5: registry.max_types: expected a whole number in 1..65536, "
                "got a map"},
        // --- topics and topic patterns ---
        BadFile{"TopicsText", "topics: 5\n",
                "ringcast.yaml:1:9: topics = \"5\": expected a map from topic names or "
                "patterns to their QoS"},
        BadFile{"TopicsSequence", "topics:\n  - /a\n",
                "ringcast.yaml:2:3: topics: expected a map from topic names or patterns to "
                "their QoS, got a sequence"},
        BadFile{"TopicNoSlash", "topics:\n  camera: {depth: 4}\n",
                absl::StrCat("ringcast.yaml:2:3: topics.camera: not a valid topic name or "
                             "pattern: it must start with '/'",
                             kTopicRule)},
        BadFile{"TopicPatternDigitToken", "topics:\n  \"/imu/*/1x\": {depth: 4}\n",
                absl::StrCat("ringcast.yaml:2:3: topics./imu/*/1x: not a valid topic name or "
                             "pattern: token starts with digit '1' at offset 7",
                             kTopicRule)},
        BadFile{"TopicPatternBadChar", "topics:\n  /imu/?:\n    depth: 4\n",
                absl::StrCat("ringcast.yaml:2:3: topics./imu/?: not a valid topic name or "
                             "pattern: character '?' at offset 5",
                             kTopicRule)},
        BadFile{"TopicTrailingSlash", "topics:\n  \"/imu/**/\":\n    depth: 4\n",
                absl::StrCat("ringcast.yaml:2:3: topics./imu/**/: not a valid topic name or "
                             "pattern: it ends with '/'",
                             kTopicRule)},
        BadFile{"TopicDuplicate", "topics:\n  /a: {depth: 4}\n  \"/a\": {depth: 8}\n",
                "ringcast.yaml:3:3: topics./a: duplicate key (first at line 2, column 3)"},
        BadFile{"TopicIsNumber", "topics:\n  /a: 4\n",
                absl::StrCat("ringcast.yaml:2:7: topics./a = \"4\": expected a map with keys ",
                             kQosKeys)},
        // --- QoS keys ---
        BadFile{"QosUnknownKey", "topics:\n  /a:\n    dept: 4\n",
                absl::StrCat("ringcast.yaml:3:5: topics./a.dept: unknown key; valid keys: ",
                             kQosKeys)},
        BadFile{"QosDuplicateKey", "topics:\n  /a:\n    depth: 4\n    depth: 8\n",
                "ringcast.yaml:4:5: topics./a.depth: duplicate key (first at line 3, column 5)"},
        BadFile{"QosDepthNotPowerOfTwo",
                "domain: 3\nshm:\n  dir: /dev/shm\nregistry: {}\ntopics:\n  /camera/image:\n"
                "    depth: 12\n",
                "ringcast.yaml:7:12: topics./camera/image.depth = 12: valid a power of two in "
                "1..65536"},
        BadFile{"QosDepthZero", "topics:\n  /a:\n    depth: 0\n",
                "ringcast.yaml:3:12: topics./a.depth = 0: valid a power of two in 1..65536"},
        BadFile{"QosDepthNegative", "topics:\n  /a:\n    depth: -4\n",
                "ringcast.yaml:3:12: topics./a.depth = \"-4\": expected a power of two in "
                "1..65536"},
        BadFile{"QosDepthHex", "topics:\n  /a:\n    depth: 0x10\n",
                "ringcast.yaml:3:12: topics./a.depth = \"0x10\": expected a power of two in "
                "1..65536"},
        BadFile{"QosDepthLeadingZero", "topics:\n  /a:\n    depth: 010\n",
                "ringcast.yaml:3:12: topics./a.depth = \"010\": expected a power of two in "
                "1..65536 without leading zeros (YAML reads 010 as octal)"},
        BadFile{"QosDepthHuge", "topics:\n  /a:\n    depth: 99999999999999999999999\n",
                "ringcast.yaml:3:12: topics./a.depth = 99999999999999999999999: valid a power "
                "of two in 1..65536"},
        BadFile{"QosDepthEmpty", "topics:\n  /a:\n    depth:\n",
                "ringcast.yaml:3:5: topics./a.depth: expected a power of two in 1..65536, got "
                "no value"},
        BadFile{"QosReliabilityWord", "topics:\n  /a:\n    reliability: reliabel\n",
                "ringcast.yaml:3:18: topics./a.reliability = \"reliabel\": valid best_effort or "
                "reliable"},
        BadFile{"QosReliabilityBool", "topics:\n  /a: {reliability: true}\n",
                "ringcast.yaml:2:21: topics./a.reliability = \"true\": valid best_effort or "
                "reliable"},
        BadFile{"QosDurabilityMap", "topics:\n  /a:\n    durability: {kind: volatile}\n",
                "ringcast.yaml:3:17: topics./a.durability: expected volatile or "
                "transient_local, got a map"},
        BadFile{"QosTimeoutNoUnit", "topics:\n  /a:\n    reliable_timeout: 100\n",
                "ringcast.yaml:3:23: topics./a.reliable_timeout = \"100\": expected a duration "
                "such as 100ms, 2s or 1.5s, at most 1h"},
        BadFile{"QosTimeoutZero", "topics:\n  /a:\n    reliable_timeout: 0s\n",
                "ringcast.yaml:3:23: topics./a.reliable_timeout = 0: valid more than 0 and at "
                "most 1h"},
        BadFile{"QosTimeoutTooLong", "topics:\n  /a:\n    reliable_timeout: 90m\n",
                "ringcast.yaml:3:23: topics./a.reliable_timeout = 1h30m: valid more than 0 and "
                "at most 1h"},
        BadFile{"QosMaxMessageSizeTooBig", "topics:\n  /a:\n    max_message_size: 1099511627777\n",
                "ringcast.yaml:3:23: topics./a.max_message_size = 1099511627777: valid "
                "0..1099511627776 (1 TiB)"},
        BadFile{"QosMaxMessageSizeUnit", "topics:\n  /a:\n    max_message_size: 8MiB\n",
                "ringcast.yaml:3:23: topics./a.max_message_size = \"8MiB\": expected a whole "
                "number in 0..1099511627776 (1 TiB)"},
        BadFile{"QosMaxHeldSamplesZero", "topics:\n  /a:\n    max_held_samples: 0\n",
                "ringcast.yaml:3:23: topics./a.max_held_samples = 0: valid 1..64"},
        BadFile{"QosInlineCapacityTooBig", "topics:\n  /a:\n    inline_capacity: 65521\n",
                "ringcast.yaml:3:22: topics./a.inline_capacity = 65521: valid 0..65520"},
        BadFile{"QosMaxPublishersTooMany", "topics:\n  /a:\n    max_publishers: 65\n",
                "ringcast.yaml:3:21: topics./a.max_publishers = 65: valid 1..64"},
        BadFile{"QosMaxSubscribersFloat", "topics:\n  /a:\n    max_subscribers: 1e3\n",
                "ringcast.yaml:3:22: topics./a.max_subscribers = \"1e3\": expected a whole "
                "number in 1..512"},
        BadFile{"QosMaxSubscribersTooMany", "topics:\n  \"/imu/*\":\n    max_subscribers: 513\n",
                "ringcast.yaml:3:22: topics./imu/*.max_subscribers = 513: valid 1..512"},
        BadFile{"QosPoolInitialChunksZero", "topics:\n  /a:\n    pool_initial_chunks: 0\n",
                "ringcast.yaml:3:26: topics./a.pool_initial_chunks = 0: valid 1..1048576"},
        BadFile{"QosPoolInitialChunksTooMany",
                "topics:\n  /a:\n    pool_initial_chunks: 1048577\n",
                "ringcast.yaml:3:26: topics./a.pool_initial_chunks = 1048577: valid 1..1048576"},
        BadFile{"QosPoolInitialChunksTooBigForField",
                "topics:\n  /a:\n    pool_initial_chunks: 4294967296\n",
                "ringcast.yaml:3:26: topics./a.pool_initial_chunks = 4294967296: valid "
                "1..1048576"},
        BadFile{"QosPoolInitialChunksFloat", "topics:\n  /a:\n    pool_initial_chunks: 2.5\n",
                "ringcast.yaml:3:26: topics./a.pool_initial_chunks = \"2.5\": expected a whole "
                "number in 1..1048576"},
        BadFile{"QosPoolInitialChunksSequence", "topics:\n  /a: {pool_initial_chunks: [2]}\n",
                "ringcast.yaml:2:29: topics./a.pool_initial_chunks: expected a whole number in "
                "1..1048576, got a sequence"},
        BadFile{"QosPoolReleaseAfterNoUnit", "topics:\n  /a:\n    pool_release_after: 5\n",
                "ringcast.yaml:3:25: topics./a.pool_release_after = \"5\": expected a duration "
                "such as 100ms, 2s or 1.5s, at most 1h"},
        BadFile{"QosPoolReleaseAfterWord", "topics:\n  /a:\n    pool_release_after: soon\n",
                "ringcast.yaml:3:25: topics./a.pool_release_after = \"soon\": expected a "
                "duration such as 100ms, 2s or 1.5s, at most 1h"},
        BadFile{"QosPoolReleaseAfterEmpty", "topics:\n  /a:\n    pool_release_after:\n",
                "ringcast.yaml:3:5: topics./a.pool_release_after: expected a duration such as "
                "100ms, 2s or 1.5s, at most 1h, got no value"},
        BadFile{"QosPoolReleaseAfterZero", "topics:\n  /a:\n    pool_release_after: 0s\n",
                "ringcast.yaml:3:25: topics./a.pool_release_after = 0: valid more than 0 and "
                "at most 1h"},
        BadFile{"QosPoolReleaseAfterNegative", "topics:\n  /a:\n    pool_release_after: -1s\n",
                "ringcast.yaml:3:25: topics./a.pool_release_after = -1s: valid more than 0 and "
                "at most 1h"},
        BadFile{"QosPoolReleaseAfterTooLong", "topics:\n  /a:\n    pool_release_after: 2h\n",
                "ringcast.yaml:3:25: topics./a.pool_release_after = 2h: valid more than 0 and "
                "at most 1h"},
        BadFile{"QosPoolUnknownKey", "topics:\n  /a:\n    pool_initial_chunk: 4\n",
                absl::StrCat("ringcast.yaml:3:5: topics./a.pool_initial_chunk: unknown key; "
                             "valid keys: ",
                             kQosKeys)}),
    [](const ::testing::TestParamInfo<BadFile>& info) { return info.param.name; });

}  // namespace
}  // namespace ringcast
