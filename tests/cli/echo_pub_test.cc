// `ringcast topic echo` and `topic pub` end to end: the built binary runs
// against publishers and subscribers of this test (a forked child or this
// process) on a private prefix; what echo prints is parsed back into the
// protobuf class and compared with what was published.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "discovery/registry.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ringcast/msgs/geometry.ringcast.h"
#include "ringcast/msgs/header.ringcast.h"
#include "ringcast/msgs/image.ringcast.h"
#include "ringcast/msgs/imu.ringcast.h"
#include "ringcast/msgs/point_cloud.ringcast.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/msgs/time.ringcast.h"
#include "ringcast/node.h"
#include "tests/support/core_support.h"
#include "tests/support/cli_support.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"
#include "transport/topic_config.h"

#ifndef RINGCAST_CLI_PATH
#error "RINGCAST_CLI_PATH must name the built ringcast binary"
#endif


namespace ringcast::cli {
namespace {

namespace flat = ::ringcast::msgs::flat;
using ::google::protobuf::Message;
using ::ringcast::testing::ContextFor;
using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::UniqueOptions;
using ::ringcast::testing::WaitChild;

constexpr absl::Duration kTimeout = absl::Seconds(60);

using Spawned = ::ringcast::testing::CliChild;
using Result = ::ringcast::testing::CliResult;
using ::ringcast::testing::ReadUntil;

Spawned Spawn(const std::vector<std::string>& args) { return ::ringcast::testing::SpawnCli(args); }
Result Finish(const Spawned& s) { return ::ringcast::testing::FinishCli(s, kTimeout); }

class EchoPubTest : public ::testing::Test {
 protected:
  Result Run(std::vector<std::string> args) { return Finish(Spawn(Cli(std::move(args)))); }
  std::vector<std::string> Cli(std::vector<std::string> args) const {
    args.insert(args.begin(), absl::StrCat("--prefix=", o_.prefix));
    return args;
  }
  absl::StatusOr<Node> MakeNode(const char* name) const {
    absl::StatusOr<Context> ctx = ContextFor(o_);
    if (!ctx.ok()) return ctx.status();
    return Node::Create(*ctx, name);
  }
  bool WaitForEndpoint(const std::string& topic, discovery::EndpointKind kind) const {
    return ::ringcast::testing::WaitForEndpoint(o_, topic, kind);
  }
  // Files of the prefix other than this process's own liveness file.
  std::vector<std::string> Leftovers() const {
    transport::ReleaseProcessTokens();
    return FilesWithPrefix(kShmDir, o_.prefix + ".");
  }

  const transport::ShmOptions o_ = UniqueOptions();
};

// One line on stderr naming `mentions`, nothing on stdout, exit `code`.
void ExpectOneLineError(const Result& r, int code, const std::vector<std::string>& mentions) {
  EXPECT_EQ(r.code, code) << r.out << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.err, "ringcast: ")) << r.err;
  for (const std::string& m : mentions) EXPECT_TRUE(absl::StrContains(r.err, m)) << m << ": " << r.err;
}

// ---- one sample of every msgs/ type ----------------------------------------

msgs::Header MakeHeader() {
  msgs::Header h;
  h.mutable_stamp()->set_sec(1733230000);
  h.mutable_stamp()->set_nanosec(123456789);
  h.set_frame_id("base_link");
  h.set_seq(42);
  return h;
}

// A published type: its topic, its support, its bytes and its protobuf.
struct Typed {
  std::string topic;
  TypeSupport support;
  std::vector<std::byte> bytes;
  std::shared_ptr<Message> proto;
  Qos qos;
};

template <typename T>
Typed Make(const std::string& topic, const typename T::Proto& p, Qos qos = {}) {
  absl::StatusOr<std::vector<std::byte>> bytes = T::FromProto(p);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return {topic, TypeSupport::Of<T>(), bytes.value_or(std::vector<std::byte>{}),
          std::make_shared<typename T::Proto>(p), qos};
}

std::vector<Typed> EveryType() {
  std::vector<Typed> all;
  msgs::Time time;
  time.set_sec(-5);
  time.set_nanosec(7);
  all.push_back(Make<flat::Time>("/every/time", time));
  msgs::Duration duration;
  duration.set_sec(3600);
  duration.set_nanosec(500);
  all.push_back(Make<flat::Duration>("/every/duration", duration));
  all.push_back(Make<flat::Header>("/every/header", MakeHeader()));
  msgs::String str;
  str.set_data("hello \"ringcast\"\n\xc3\xa9t\xc3\xa9");
  all.push_back(Make<flat::String>("/every/string", str));
  msgs::Image image;  // 300 bytes of pixels: pooled (inline holds 48)
  *image.mutable_header() = MakeHeader();
  image.set_height(10);
  image.set_width(10);
  image.set_encoding("mono8");
  image.set_step(30);
  std::string pixels(300, '\0');
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>(i * 7);
  image.set_data(pixels);
  all.push_back(Make<flat::Image>("/every/image", image));
  msgs::CompressedImage jpeg;
  *jpeg.mutable_header() = MakeHeader();
  jpeg.set_format("jpeg");
  jpeg.set_data(std::string("\xff\xd8\xff\xe0\x00\x10JFIF", 10));
  all.push_back(Make<flat::CompressedImage>("/every/compressed_image", jpeg));
  msgs::PointField field;
  field.set_name("x");
  field.set_offset(0);
  field.set_datatype(msgs::PointField::DATA_TYPE_FLOAT32);
  field.set_count(1);
  all.push_back(Make<flat::PointField>("/every/point_field", field));
  msgs::PointCloud cloud;
  *cloud.mutable_header() = MakeHeader();
  cloud.set_height(1);
  cloud.set_width(2);
  for (const char* n : {"x", "y", "z"}) {
    msgs::PointField* f = cloud.add_fields();
    f->set_name(n);
    f->set_offset(static_cast<std::uint32_t>(4 * cloud.fields_size() - 4));
    f->set_datatype(msgs::PointField::DATA_TYPE_FLOAT32);
    f->set_count(1);
  }
  cloud.set_point_step(12);
  cloud.set_row_step(24);
  cloud.set_data(std::string(24, '\x01'));
  cloud.set_is_dense(true);
  all.push_back(Make<flat::PointCloud>("/every/point_cloud", cloud));
  msgs::Vector3 v;
  v.set_x(0.1);
  v.set_y(-2.5e-300);
  v.set_z(1e21);
  all.push_back(Make<flat::Vector3>("/every/vector3", v));
  msgs::Point point;
  point.set_x(1.5);
  point.set_y(2.25);
  point.set_z(-3);
  all.push_back(Make<flat::Point>("/every/point", point));
  msgs::Quaternion q;
  q.set_x(0);
  q.set_y(0);
  q.set_z(0.7071067811865476);
  q.set_w(0.7071067811865476);
  all.push_back(Make<flat::Quaternion>("/every/quaternion", q));
  msgs::Pose pose;
  *pose.mutable_position() = point;
  *pose.mutable_orientation() = q;
  all.push_back(Make<flat::Pose>("/every/pose", pose));
  msgs::PoseStamped stamped;
  *stamped.mutable_header() = MakeHeader();
  *stamped.mutable_pose() = pose;
  all.push_back(Make<flat::PoseStamped>("/every/pose_stamped", stamped));
  msgs::Twist twist;
  *twist.mutable_linear() = v;
  twist.mutable_angular()->set_z(0.5);
  all.push_back(Make<flat::Twist>("/every/twist", twist));
  msgs::Imu imu;
  *imu.mutable_header() = MakeHeader();
  *imu.mutable_orientation() = q;
  for (int i = 0; i < 9; ++i) {
    imu.add_orientation_covariance(i * 0.01);
    imu.add_angular_velocity_covariance(i == 0 ? -1 : 0);
    imu.add_linear_acceleration_covariance(1.0 / (i + 1));
  }
  *imu.mutable_angular_velocity() = v;
  imu.mutable_linear_acceleration()->set_z(9.81);
  all.push_back(Make<flat::Imu>("/every/imu", imu));
  // Summaries: a VGA frame (pooled, 921600 bytes) and 100 covariances.
  msgs::Image vga = image;
  vga.set_height(480);
  vga.set_width(640);
  vga.set_encoding("rgb8");
  vga.set_step(640 * 3);
  vga.set_data(std::string(640 * 480 * 3, '\x7f'));
  // 4 + 4 x 4 + 4 chunks of 1 MiB: fits a container's 64 MiB /dev/shm.
  all.push_back(Make<flat::Image>(
      "/big/image", vga,
      Qos().set_depth(4).set_max_message_size(1 << 20).set_max_subscribers(4)));
  msgs::Imu long_imu = imu;
  for (int i = 0; i < 91; ++i) long_imu.add_orientation_covariance(i);
  all.push_back(Make<flat::Imu>("/big/imu", long_imu));
  return all;
}

// A child publishing every sample of `types` every 10 ms until `release`
// closes; it reports on `ready` once every publisher exists.
struct Publisher {
  int ready[2] = {-1, -1};
  int release[2] = {-1, -1};
  pid_t pid = -1;

  bool Start(const transport::ShmOptions& o, const std::vector<Typed>& types) {
    if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(release, O_CLOEXEC) != 0) return false;
    pid = StartChild([&] {
      ::close(release[1]);
      absl::StatusOr<Context> ctx = ContextFor(o);
      if (!ctx.ok()) return 10;
      absl::StatusOr<Node> node = Node::Create(*ctx, "every_type");
      if (!node.ok()) return 11;
      std::vector<RawPublisher> pubs;
      for (const Typed& t : types) {
        absl::StatusOr<RawPublisher> p = node->CreateRawPublisher(t.topic, t.support, t.qos);
        if (!p.ok()) {
          std::fprintf(stderr, "publisher of %s: %s\n", t.topic.c_str(), p.status().ToString().c_str());
          return 12;
        }
        pubs.push_back(*std::move(p));
      }
      char b = 'r';
      if (::write(ready[1], &b, 1) != 1) return 13;
      for (;;) {
        for (std::size_t i = 0; i < types.size(); ++i) {
          if (!pubs[i].Publish(types[i].bytes).ok()) return 14;
        }
        pollfd p{release[0], POLLIN, 0};
        if (::poll(&p, 1, 10) != 0) return 0;  // EOF: the parent is done
      }
    });
    ::close(ready[1]);
    ::close(release[0]);
    char b;
    return ::read(ready[0], &b, 1) == 1;
  }
  int Stop() {
    ::close(release[1]);
    ::close(ready[0]);
    return WaitChild(pid);
  }
};

bool Same(const Message& a, const Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

TEST_F(EchoPubTest, EchoDecodesEveryShippedTypeInTextAndJson) {
  const std::vector<Typed> types = EveryType();
  Publisher pub;
  ASSERT_TRUE(pub.Start(o_, types));
  for (const Typed& t : types) {
    if (absl::StartsWith(t.topic, "/big/")) continue;
    SCOPED_TRACE(t.topic);
    // JSON, in full: parsed back by protobuf's own JSON parser.
    Result r = Run({"topic", "echo", t.topic, "--count", "1", "--json", "--full"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    std::unique_ptr<Message> got(t.proto->New());
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, got.get()).ok()) << r.out;
    EXPECT_TRUE(Same(*got, *t.proto)) << r.out << "\nwanted " << t.proto->ShortDebugString();
    // Text format, two samples with "---" between.
    r = Run({"topic", "echo", t.topic, "--count", "2", "--full"});
    ASSERT_EQ(r.code, 0) << r.err;
    const std::vector<std::string> parts = absl::StrSplit(r.out, "---\n");
    ASSERT_EQ(parts.size(), 2u) << r.out;
    for (const std::string& part : parts) {
      got->Clear();
      ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(part, got.get())) << part;
      EXPECT_TRUE(Same(*got, *t.proto)) << part << "\nwanted " << t.proto->ShortDebugString();
    }
  }
  // Summaries, unless --full: bytes and long repeated fields become counts.
  Result r = Run({"topic", "echo", "/big/image", "--once"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "data: <921600 bytes>\n")) << r.out.substr(0, 2000);
  EXPECT_TRUE(absl::StrContains(r.out, "width: 640\n")) << r.out.substr(0, 2000);
  EXPECT_TRUE(absl::StrContains(r.out, "frame_id: \"base_link\"")) << r.out.substr(0, 2000);
  r = Run({"topic", "echo", "/big/image", "--once", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"data\":\"<921600 bytes>\"")) << r.out.substr(0, 2000);
  r = Run({"topic", "echo", "/big/image", "--once", "--json", "--full"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(r.out.size(), 1228800u) << "the base64 of every pixel";
  r = Run({"topic", "echo", "/big/imu", "--once"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "orientation_covariance: <100 values>\n")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "linear_acceleration_covariance: [1, 0.5, ")) << r.out;
  // --field: a nested scalar, a nested message, an element of a list.
  r = Run({"topic", "echo", "/every/pose_stamped", "--field", "pose.position.y", "--once"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "2.25\n");
  r = Run({"topic", "echo", "/every/pose_stamped", "--field", "header.stamp", "--once"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "sec: 1733230000\nnanosec: 123456789\n");
  r = Run({"topic", "echo", "/every/point_cloud", "--field", "fields[1].name", "--once", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "\"y\"\n");
  r = Run({"topic", "echo", "/every/header", "--field", "stamp", "--count", "2", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"sec\":1733230000,\"nanosec\":123456789}\n"
                   "{\"sec\":1733230000,\"nanosec\":123456789}\n");
  // A path that does not exist: the path and the fields there are.
  ExpectOneLineError(Run({"topic", "echo", "/every/pose_stamped", "--field", "header.stmp"}), 1,
                     {"header.stmp", "stmp", "stamp, frame_id, seq"});
  ExpectOneLineError(Run({"topic", "echo", "/every/image", "--field", "data.x"}), 1,
                     {"data.x", "not a message"});
  EXPECT_EQ(pub.Stop(), 0);
  const std::vector<std::string> left = Leftovers();
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];
}

// ---- losses ----------------------------------------------------------------

TEST_F(EchoPubTest, EchoThroughALappedRingReportsTheGap) {
  absl::StatusOr<Node> node = MakeNode("lapper");
  ASSERT_TRUE(node.ok()) << node.status();
  absl::StatusOr<RawPublisher> pub =
      node->CreateRawPublisher("/lap", TypeSupport::Of<flat::String>(), Qos().set_depth(4));
  ASSERT_TRUE(pub.ok()) << pub.status();
  for (const bool json : {true, false}) {
    SCOPED_TRACE(json ? "json" : "text");
    std::vector<std::string> args = {"topic", "echo", "/lap"};
    if (json) args.push_back("--json");
    const Spawned echo = Spawn(Cli(args));
    ASSERT_GT(echo.pid, 0);
    ASSERT_TRUE(WaitForEndpoint("/lap", discovery::EndpointKind::kSubscriber));
    // Stopped, the echo reads nothing while 100 samples go round 4 slots.
    ASSERT_EQ(::kill(echo.pid, SIGSTOP), 0);
    for (int i = 0; i < 100; ++i) {
      msgs::String s;
      s.set_data(absl::StrCat("m", i));
      ASSERT_TRUE(pub->Publish(*flat::String::FromProto(s)).ok());
    }
    ASSERT_EQ(::kill(echo.pid, SIGCONT), 0);
    const std::string out = ReadUntil(echo.out, absl::Now() + kTimeout, [](const std::string& s) {
      return absl::StrContains(s, "m99");
    });
    ASSERT_EQ(::kill(echo.pid, SIGINT), 0);
    const Result rest = Finish(echo);
    EXPECT_EQ(rest.code, 0) << rest.err;
    const std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
    ASSERT_FALSE(lines.empty()) << out;
    std::int64_t lost = 0;
    int received = 0;
    for (const std::string& line : lines) {
      if (json && absl::StartsWith(line, "{\"lost\":")) {
        lost += std::stoll(line.substr(8));
      } else if (!json && absl::StartsWith(line, "# lost ")) {
        EXPECT_TRUE(absl::EndsWith(line, " samples")) << line;
        lost += std::stoll(line.substr(7));
      } else if (absl::StrContains(line, "\"m")) {
        ++received;
      }
    }
    EXPECT_GT(lost, 0) << out;
    EXPECT_EQ(lost + received, 100) << out;
    EXPECT_TRUE(absl::StartsWith(out, json ? "{\"lost\":" : "# lost ")) << out;
  }
  pub->Close();
}

// ---- pub -------------------------------------------------------------------

// The next sample of `sub` as a String, within the timeout.
absl::StatusOr<std::string> NextString(RawSubscriber& sub) {
  const absl::Time deadline = absl::Now() + kTimeout;
  transport::Sample s;
  while (absl::Now() < deadline) {
    absl::StatusOr<bool> got = sub.Take(&s);
    if (!got.ok()) return got.status();
    if (*got) {
      msgs::String str;
      if (absl::Status st = flat::String::ToProto(s.data(), &str); !st.ok()) return st;
      return str.data();
    }
    (void)sub.Wait(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError("no sample");
}

TEST_F(EchoPubTest, PubThenEchoRoundTripsInlineAndPooled) {
  // pub makes the topic (--type), echo reads it back.
  Spawned pub = Spawn(Cli({"topic", "pub", "/rt/string", "data: \"hello\"", "--type",
                           "ringcast.msgs.String", "--rate", "20"}));
  ASSERT_TRUE(WaitForEndpoint("/rt/string", discovery::EndpointKind::kPublisher));
  Result r = Run({"topic", "echo", "/rt/string", "--once", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"data\":\"hello\"}\n");
  ASSERT_EQ(::kill(pub.pid, SIGINT), 0);
  EXPECT_EQ(Finish(pub).code, 0);

  // A pooled Image: 200 bytes of pixels, more than a slot holds.
  std::string pixels;
  for (int i = 0; i < 200; ++i) pixels.push_back(static_cast<char>(i));
  pub = Spawn(Cli({"topic", "pub", "/rt/image",
                   absl::StrCat("header { frame_id: \"cam\" seq: 9 } height: 1 width: 200 "
                                "encoding: \"mono8\" step: 200 data: \"",
                                absl::CEscape(pixels), "\""),
                   "--type", "ringcast.msgs.Image", "--rate", "20"}));
  ASSERT_TRUE(WaitForEndpoint("/rt/image", discovery::EndpointKind::kPublisher));
  r = Run({"topic", "echo", "/rt/image", "--once", "--json", "--full"});
  EXPECT_EQ(r.code, 0) << r.err;
  msgs::Image image;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &image).ok()) << r.out;
  EXPECT_EQ(image.data(), pixels);
  EXPECT_EQ(image.header().frame_id(), "cam");
  EXPECT_EQ(image.width(), 200u);
  ASSERT_EQ(::kill(pub.pid, SIGTERM), 0);
  EXPECT_EQ(Finish(pub).code, 0);

  // The type from the registry (our subscriber's), once by default, text
  // or JSON, and --times.
  {
  absl::StatusOr<Node> node = MakeNode("reader");
  ASSERT_TRUE(node.ok()) << node.status();
  absl::StatusOr<RawSubscriber> sub =
      node->CreateRawSubscriber("/rt/once", TypeSupport::Of<flat::String>());
  ASSERT_TRUE(sub.ok()) << sub.status();
  r = Run({"topic", "pub", "/rt/once", "data: \"once\""});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(NextString(*sub).value_or("?"), "once");
  r = Run({"topic", "pub", "/rt/once", "{\"data\": \"json\"}", "--json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(NextString(*sub).value_or("?"), "json");
  r = Run({"topic", "pub", "/rt/once", "data: \"thrice\"", "--times", "3", "--rate", "100"});
  EXPECT_EQ(r.code, 0) << r.err;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(NextString(*sub).value_or("?"), "thrice") << i;
  transport::Sample extra;
  EXPECT_FALSE(sub->Take(&extra).value_or(true)) << "exactly three";
  }
  const std::vector<std::string> left = Leftovers();
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];
}

// ---- bad input -------------------------------------------------------------

TEST_F(EchoPubTest, EveryBadInputIsOneLineAndANonZeroExit) {
  ExpectOneLineError(Run({"topic", "echo", "/nowhere"}), 1, {"/nowhere", "domain 0"});
  ExpectOneLineError(Run({"topic", "echo", "bad name"}), 1, {"bad name"});
  ExpectOneLineError(Run({"topic", "pub", "/new", "data: \"x\"", "--type", "ringcast.msgs.Nope"}),
                     1, {"ringcast.msgs.Nope", "ringcast.msgs.String"});
  ExpectOneLineError(Run({"topic", "pub", "/new", "data: \"x\""}), 1, {"/new", "--type"});
  ExpectOneLineError(
      Run({"topic", "pub", "/new", "data: \"x\"\n dta: 1", "--type", "ringcast.msgs.String"}), 1,
      {"dta", "at 2:"});
  ExpectOneLineError(
      Run({"topic", "pub", "/new", "data: 5 5", "--type", "ringcast.msgs.String"}), 1, {"at 1:"});
  ExpectOneLineError(
      Run({"topic", "pub", "/new", "{\"data\": ", "--json", "--type", "ringcast.msgs.String"}), 1,
      {"line 1"});
  ExpectOneLineError(
      Run({"topic", "pub", "/new", "{\"dta\": 1}", "--json", "--type", "ringcast.msgs.String"}), 1,
      {"dta"});
  ExpectOneLineError(Run({"topic", "echo", "/x", "--once", "--count", "2"}), 2, {"--once"});
  ExpectOneLineError(Run({"topic", "pub", "/x", "--rate", "0"}), 2, {"--rate"});

  {
  absl::StatusOr<Node> node = MakeNode("odd");
  ASSERT_TRUE(node.ok()) << node.status();
  // A topic whose type was registered without a descriptor.
  transport::TopicConfig c;
  c.type_name = "test.Opaque";
  c.type_hash = 0x1234;
  absl::StatusOr<RawPublisher> opaque =
      node->CreateRawPublisher("/opaque", testing::BytesType(c, ""), testing::QosOf(c));
  ASSERT_TRUE(opaque.ok()) << opaque.status();
  ExpectOneLineError(Run({"topic", "echo", "/opaque"}), 1,
                     {"test.Opaque", "/opaque", "no stored descriptor"});
  ExpectOneLineError(Run({"topic", "pub", "/opaque", ""}), 1, {"no stored descriptor"});
  // A known topic of another type than --type.
  absl::StatusOr<RawPublisher> str =
      node->CreateRawPublisher("/str", TypeSupport::Of<flat::String>());
  ASSERT_TRUE(str.ok()) << str.status();
  ExpectOneLineError(Run({"topic", "pub", "/str", "", "--type", "ringcast.msgs.Time"}), 1,
                     {"ringcast.msgs.String", "ringcast.msgs.Time"});
  ExpectOneLineError(Run({"topic", "echo", "/str", "--field", "dat"}), 1,
                     {"--field dat", "its fields: data"});
  }
  const std::vector<std::string> left = Leftovers();
  EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];
}

// ---- stopping --------------------------------------------------------------

TEST_F(EchoPubTest, SigintAndSigtermStopEchoAndPubCleanly) {
  for (const int sig : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(sig);
    {
      absl::StatusOr<Node> node = MakeNode("talker");
      ASSERT_TRUE(node.ok()) << node.status();
      absl::StatusOr<RawPublisher> pub =
          node->CreateRawPublisher("/sig", TypeSupport::Of<flat::String>());
      ASSERT_TRUE(pub.ok()) << pub.status();
      const Spawned echo = Spawn(Cli({"topic", "echo", "/sig"}));
      ASSERT_TRUE(WaitForEndpoint("/sig", discovery::EndpointKind::kSubscriber));
      msgs::String s;
      s.set_data("before the signal");
      ASSERT_TRUE(pub->Publish(*flat::String::FromProto(s)).ok());
      const std::string out = ReadUntil(echo.out, absl::Now() + kTimeout, [](const std::string& o) {
        return absl::StrContains(o, "before the signal");
      });
      EXPECT_EQ(out, "data: \"before the signal\"\n");
      ASSERT_EQ(::kill(echo.pid, sig), 0);
      const Result r = Finish(echo);
      EXPECT_EQ(r.code, 0) << r.err;
      pub->Close();
    }
    const Spawned pub = Spawn(Cli({"topic", "pub", "/sig2", "data: \"x\"", "--type",
                                   "ringcast.msgs.String", "--rate", "50"}));
    ASSERT_TRUE(WaitForEndpoint("/sig2", discovery::EndpointKind::kPublisher));
    absl::SleepFor(absl::Milliseconds(1200));  // past the wait for a subscriber: publishing
    ASSERT_EQ(::kill(pub.pid, sig), 0);
    const Result r = Finish(pub);
    EXPECT_EQ(r.code, 0) << r.err;
    const std::vector<std::string> left = Leftovers();
    EXPECT_TRUE(left.empty()) << left.size() << " left, first " << left[0];
  }
}

}  // namespace
}  // namespace ringcast::cli
