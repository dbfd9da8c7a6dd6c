// Recording and playback in one process: publishers of every msgs/ type
// (inline and pooled) recorded with each compression and read back field
// by field, also by the official TypeScript MCAP reader (tests/record/js);
// exact loss on a lapped topic; topics that appear late; split files; a
// recorder killed with SIGKILL; record -> play -> record.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "discovery/registry.h"
#include "record/convert.h"
#include "record/mcap.h"
#include "record/player.h"
#include "record/recorder.h"
#include "ringcast/msgs/geometry.ringcast.h"
#include "ringcast/msgs/header.ringcast.h"
#include "ringcast/msgs/image.ringcast.h"
#include "ringcast/msgs/imu.ringcast.h"
#include "ringcast/msgs/point_cloud.ringcast.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/msgs/time.ringcast.h"
#include "ringcast/ringcast.h"
#include "tests/idl/idl_test_util.h"
#include "tests/support/core_support.h"
#include "tests/support/test_support.h"

namespace ringcast::record {
namespace {

namespace fs = std::filesystem;
namespace flat = ::ringcast::msgs::flat;
using Proto = google::protobuf::Message;
using ::ringcast::testing::UniqueOptions;

constexpr absl::Duration kTimeout = absl::Seconds(30);

// A scratch directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/ringcast-record-XXXXXX";
    path_ = ::mkdtemp(templ);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

Context MakeContext() {
  absl::StatusOr<Context> c = ::ringcast::testing::ContextFor(UniqueOptions());
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

// One topic of the test: a publisher of a type and what it published.
struct Stream {
  std::string topic;
  TypeSupport support;
  std::function<absl::StatusOr<std::vector<std::byte>>(const Proto&)> to_flat;
  std::function<std::unique_ptr<Proto>()> make;
  std::optional<RawPublisher> publisher;
  std::vector<std::unique_ptr<Proto>> sent;
};

template <typename T>
Stream StreamOf(const std::string& topic) {
  Stream s;
  s.topic = topic;
  s.support = TypeSupport::Of<T>();
  s.to_flat = [](const Proto& m) {
    return T::FromProto(static_cast<const typename T::Proto&>(m));
  };
  s.make = [] { return std::make_unique<typename T::Proto>(); };
  return s;
}

// Every type ringcast ships in msgs/, one topic each.
std::vector<Stream> EveryType() {
  std::vector<Stream> all;
  all.push_back(StreamOf<flat::Vector3>("/every/vector3"));
  all.push_back(StreamOf<flat::Point>("/every/point"));
  all.push_back(StreamOf<flat::Quaternion>("/every/quaternion"));
  all.push_back(StreamOf<flat::Pose>("/every/pose"));
  all.push_back(StreamOf<flat::PoseStamped>("/every/pose_stamped"));
  all.push_back(StreamOf<flat::Twist>("/every/twist"));
  all.push_back(StreamOf<flat::Header>("/every/header"));
  all.push_back(StreamOf<flat::Image>("/every/image"));
  all.push_back(StreamOf<flat::CompressedImage>("/every/compressed_image"));
  all.push_back(StreamOf<flat::Imu>("/every/imu"));
  all.push_back(StreamOf<flat::PointField>("/every/point_field"));
  all.push_back(StreamOf<flat::PointCloud>("/every/point_cloud"));
  all.push_back(StreamOf<flat::String>("/every/string"));
  all.push_back(StreamOf<flat::Time>("/every/time"));
  all.push_back(StreamOf<flat::Duration>("/every/duration"));
  return all;
}

// Publishes `m` on `s` and keeps it as sent.
void Send(Stream& s, std::unique_ptr<Proto> m) {
  absl::StatusOr<std::vector<std::byte>> bytes = s.to_flat(*m);
  ASSERT_TRUE(bytes.ok()) << s.topic << ": " << bytes.status();
  ASSERT_TRUE(s.publisher->Publish(*bytes).ok()) << s.topic;
  s.sent.push_back(std::move(m));
}

// Polls until `rec` has recorded `n` messages, at most kTimeout.
void RecordUntil(Recorder& rec, std::uint64_t n) {
  const absl::Time deadline = absl::Now() + kTimeout;
  while (rec.stats().messages < n && absl::Now() < deadline) {
    ASSERT_TRUE(rec.Poll(absl::Milliseconds(1)).ok());
  }
  ASSERT_EQ(rec.stats().messages, n) << "recorded in " << absl::FormatDuration(kTimeout);
}

// Every message of `path` by topic, in log_time order, as wire bytes.
std::map<std::string, std::vector<std::string>> ReadAll(const std::string& path,
                                                        const ReadOptions& options = {}) {
  std::map<std::string, std::vector<std::string>> out;
  absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::Open(path);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return out;
  absl::Status s = (*r)->ReadMessages(options, [&](const Channel& c, const record::Message& m) {
    out[c.topic].emplace_back(m.data);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::string ExpectedJsonl(const std::vector<Stream>& streams) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string out;
  for (const Stream& s : streams) {
    for (const auto& m : s.sent) {
      std::string json;
      EXPECT_TRUE(google::protobuf::util::MessageToJsonString(*m, &json, o).ok());
      absl::StrAppend(&out, "{\"topic\":\"", s.topic, "\",\"message\":", json, "}\n");
    }
  }
  return out;
}

// The official TypeScript reader's verdict on `file` (tests/record/js).
void VerifyWithTheTypeScriptReader(const std::string& file, const std::string& expected) {
  const std::string js = RINGCAST_MCAP_JS_DIR;
  ASSERT_TRUE(fs::exists(js + "/node_modules/@mcap/core"))
      << "the npm packages of " << js << " are not installed; scripts/setup.sh installs them";
  const std::string cmd = absl::StrCat("node ", js, "/verify.mjs ", file, " ", expected, " 2>&1");
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\n" << out;
  EXPECT_TRUE(absl::StrContains(out, "verified")) << out;
}

class RecordEveryType : public ::testing::TestWithParam<const char*> {};

TEST_P(RecordEveryType, EveryShippedTypeReadsBackFieldByFieldHereAndInTypeScript) {
  TempDir dir;
  Context ctx = MakeContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "source");
  ASSERT_TRUE(node.ok()) << node.status();
  std::vector<Stream> streams = EveryType();
  for (Stream& s : streams) {
    Qos qos;
    // A pool of 16 chunks of 1 MiB (depth + subscribers x held + 4), so
    // that the test fits a 64 MiB /dev/shm.
    if (s.topic == "/every/image") {
      qos.set_max_message_size(1 << 20).set_depth(4).set_max_subscribers(4).set_max_held_samples(2);
    }
    absl::StatusOr<RawPublisher> pub = node->CreateRawPublisher(s.topic, s.support, qos);
    ASSERT_TRUE(pub.ok()) << pub.status();
    s.publisher.emplace(*std::move(pub));
  }
  RecordOptions ro;
  ro.path = dir.File("every.mcap");
  ro.topics = {"/every/*"};
  ro.compression = *ParseCompression(GetParam());
  ro.chunk_size = 32 << 10;  // many chunks
  ro.threads = GetParam()[0] != 'n';  // both ways of taking
  absl::StatusOr<std::unique_ptr<Recorder>> rec = Recorder::Create(ctx, ro);
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_EQ((*rec)->stats().topics.size(), streams.size());

  std::mt19937_64 rng(42);
  std::uint64_t sent = 0;
  for (int round = 0; round < 20; ++round) {
    for (Stream& s : streams) {
      std::unique_ptr<Proto> m = s.make();
      idl::testing::RandomFill(m.get(), rng, 3, 4);
      if (s.topic == "/every/image" && round % 5 == 0) {
        // A camera-like frame: pooled, several chunks' worth.
        auto* image = static_cast<msgs::Image*>(m.get());
        std::string pixels(600 << 10, '\0');
        for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>(rng());
        image->set_data(pixels);
      }
      Send(s, std::move(m));
      ++sent;
    }
    RecordUntil(**rec, sent);  // no lap: every sample taken
  }
  ASSERT_TRUE((*rec)->Close().ok());
  EXPECT_EQ((*rec)->stats().lost, 0u);

  const std::map<std::string, std::vector<std::string>> got = ReadAll(ro.path);
  for (const Stream& s : streams) {
    auto it = got.find(s.topic);
    ASSERT_NE(it, got.end()) << s.topic;
    ASSERT_EQ(it->second.size(), s.sent.size()) << s.topic;
    for (std::size_t i = 0; i < s.sent.size(); ++i) {
      std::unique_ptr<Proto> back = s.make();
      ASSERT_TRUE(back->ParseFromString(it->second[i])) << s.topic << " #" << i;
      EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*back, *s.sent[i]))
          << s.topic << " #" << i << "\nsent: " << s.sent[i]->ShortDebugString()
          << "\ngot:  " << back->ShortDebugString();
    }
  }
  // What the file says of itself.
  absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::Open(ro.path);
  ASSERT_TRUE(r.ok());
  const Summary& summary = (*r)->summary();
  EXPECT_FALSE(summary.recovered);
  EXPECT_EQ(summary.statistics.message_count, sent);
  EXPECT_GT(summary.chunks.size(), 5u);
  for (const auto& [id, c] : summary.channels) {
    EXPECT_EQ(c.message_encoding, "protobuf");
    const Schema& schema = summary.schemas.at(c.schema_id);
    EXPECT_EQ(schema.encoding, "protobuf");
    EXPECT_TRUE(absl::StartsWith(schema.name, "ringcast.msgs.")) << schema.name;
    EXPECT_TRUE(c.metadata.count("ringcast.type_hash")) << c.topic;
  }
  absl::StatusOr<std::vector<std::map<std::string, std::string>>> lost =
      (*r)->ReadMetadata("ringcast.lost");
  ASSERT_TRUE(lost.ok()) << lost.status();
  ASSERT_EQ(lost->size(), 1u);
  EXPECT_EQ(lost->front().size(), streams.size());
  for (const auto& [topic, n] : lost->front()) EXPECT_EQ(n, "0") << topic;

  const std::string expected = dir.File("expected.jsonl");
  std::ofstream(expected) << ExpectedJsonl(streams);
  VerifyWithTheTypeScriptReader(ro.path, expected);
}

INSTANTIATE_TEST_SUITE_P(Compression, RecordEveryType, ::testing::Values("zstd", "lz4", "none"));

TEST(RecorderTest, ALappedTopicReportsTheExactLoss) {
  TempDir dir;
  Context ctx = MakeContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "source");
  ASSERT_TRUE(node.ok());
  Stream s = StreamOf<flat::Time>("/lapped");
  s.publisher.emplace(*node->CreateRawPublisher(s.topic, s.support, Qos().set_depth(8)));
  RecordOptions ro;
  ro.path = dir.File("lapped.mcap");
  ro.topics = {"/lapped"};
  ro.threads = false;  // nothing takes until Poll: the ring laps for sure
  absl::StatusOr<std::unique_ptr<Recorder>> rec = Recorder::Create(ctx, ro);
  ASSERT_TRUE(rec.ok()) << rec.status();
  for (int i = 0; i < 100; ++i) {  // nobody takes: the ring of 8 laps
    auto m = std::make_unique<msgs::Time>();
    m->set_sec(i);
    Send(s, std::move(m));
  }
  ASSERT_TRUE((*rec)->Poll(absl::ZeroDuration()).ok());
  ASSERT_TRUE((*rec)->Close().ok());
  const RecordStats& st = (*rec)->stats();
  ASSERT_EQ(st.topics.size(), 1u);
  EXPECT_EQ(st.topics[0].messages + st.topics[0].lost, 100u);
  EXPECT_EQ(st.lost, st.topics[0].lost);
  EXPECT_GE(st.topics[0].lost, 92u) << "a ring of 8 keeps at most 8";

  const auto got = ReadAll(ro.path);
  ASSERT_EQ(got.at("/lapped").size(), st.topics[0].messages);
  msgs::Time last;
  ASSERT_TRUE(last.ParseFromString(got.at("/lapped").back()));
  EXPECT_EQ(last.sec(), 99) << "the newest samples are the ones kept";
  absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::Open(ro.path);
  ASSERT_TRUE(r.ok());
  auto lost = (*r)->ReadMetadata("ringcast.lost");
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(lost->at(0).at("/lapped"), absl::StrCat(st.topics[0].lost));
}

TEST(RecorderTest, TopicsThatAppearLaterAreRecordedAndOthersAreNot) {
  TempDir dir;
  Context ctx = MakeContext();
  RecordOptions ro;
  ro.path = dir.File("late.mcap");
  ro.topics = {"/late/*"};
  absl::StatusOr<std::unique_ptr<Recorder>> rec = Recorder::Create(ctx, ro);
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_TRUE((*rec)->stats().topics.empty());
  absl::StatusOr<Node> node = Node::Create(ctx, "late");
  ASSERT_TRUE(node.ok());
  Stream in = StreamOf<flat::String>("/late/news");
  Stream out = StreamOf<flat::String>("/elsewhere");
  in.publisher.emplace(*node->CreateRawPublisher(in.topic, in.support));
  out.publisher.emplace(*node->CreateRawPublisher(out.topic, out.support));
  ASSERT_TRUE((*rec)->Discover().ok());
  ASSERT_EQ((*rec)->stats().topics.size(), 1u);
  EXPECT_EQ((*rec)->stats().topics[0].topic, "/late/news");
  EXPECT_EQ((*rec)->stats().topics[0].type_name, "ringcast.msgs.String");
  for (int i = 0; i < 5; ++i) {
    auto m = std::make_unique<msgs::String>();
    m->set_data(absl::StrCat("news ", i));
    Send(in, std::move(m));
    Send(out, std::make_unique<msgs::String>());
  }
  RecordUntil(**rec, 5);
  ASSERT_TRUE((*rec)->Close().ok());
  const auto got = ReadAll(ro.path);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(got.at("/late/news").size(), 5u);
}

TEST(RecorderTest, SplitFilesHoldEveryMessageOnceInOrder) {
  TempDir dir;
  Context ctx = MakeContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "source");
  ASSERT_TRUE(node.ok());
  Stream s = StreamOf<flat::String>("/split");
  s.publisher.emplace(*node->CreateRawPublisher(s.topic, s.support));
  RecordOptions ro;
  ro.path = dir.File("split.mcap");
  ro.topics = {"/split"};
  ro.compression = Compression::kNone;
  ro.chunk_size = 4 << 10;
  ro.split_size = 32 << 10;
  absl::StatusOr<std::unique_ptr<Recorder>> rec = Recorder::Create(ctx, ro);
  ASSERT_TRUE(rec.ok()) << rec.status();
  for (int i = 0; i < 400; ++i) {
    auto m = std::make_unique<msgs::String>();
    m->set_data(absl::StrCat(i, ":", std::string(500, 'x')));
    Send(s, std::move(m));
    RecordUntil(**rec, i + 1);
  }
  ASSERT_TRUE((*rec)->Close().ok());
  const std::vector<std::string> files = (*rec)->stats().files;
  ASSERT_GE(files.size(), 4u) << "200 kB in files of 32 kB";
  EXPECT_EQ(files[0], dir.File("split_0.mcap"));
  int next = 0;
  for (const std::string& f : files) {
    absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::Open(f);
    ASSERT_TRUE(r.ok()) << f << ": " << r.status();
    EXPECT_FALSE((*r)->summary().recovered) << f;
    const auto got = ReadAll(f);
    if (got.count("/split") == 0) continue;
    for (const std::string& wire : got.at("/split")) {
      msgs::String m;
      ASSERT_TRUE(m.ParseFromString(wire));
      EXPECT_TRUE(absl::StartsWith(m.data(), absl::StrCat(next, ":"))) << f << ": " << next;
      ++next;
    }
  }
  EXPECT_EQ(next, 400);
}

TEST(RecorderTest, SeekingByTimeReadsOnlyThatSpan) {
  TempDir dir;
  Context ctx = MakeContext();
  absl::StatusOr<Node> node = Node::Create(ctx, "source");
  ASSERT_TRUE(node.ok());
  Stream s = StreamOf<flat::Time>("/clock");
  s.publisher.emplace(*node->CreateRawPublisher(s.topic, s.support));
  RecordOptions ro;
  ro.path = dir.File("clock.mcap");
  ro.topics = {"/clock"};
  ro.chunk_size = 1 << 10;
  absl::StatusOr<std::unique_ptr<Recorder>> rec = Recorder::Create(ctx, ro);
  ASSERT_TRUE(rec.ok());
  for (int i = 0; i < 300; ++i) {
    auto m = std::make_unique<msgs::Time>();
    m->set_sec(i);
    Send(s, std::move(m));
    RecordUntil(**rec, i + 1);
  }
  ASSERT_TRUE((*rec)->Close().ok());
  // Log times, by sec.
  std::vector<std::uint64_t> at;
  absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::Open(ro.path);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*r)->ReadMessages({}, [&](const Channel&, const record::Message& m) {
                   at.push_back(m.log_time);
                   return true;
                 }).ok());
  ASSERT_EQ(at.size(), 300u);
  ReadOptions from;
  from.start = at[100];
  from.end = at[200];
  std::vector<std::int64_t> secs;
  ASSERT_TRUE((*r)->ReadMessages(from, [&](const Channel&, const record::Message& m) {
                   msgs::Time t;
                   EXPECT_TRUE(t.ParseFromArray(m.data.data(), static_cast<int>(m.data.size())));
                   secs.push_back(t.sec());
                   return true;
                 }).ok());
  // Log times are distinct (one message per poll), so exactly 100..199.
  ASSERT_FALSE(secs.empty());
  EXPECT_EQ(secs.front(), 100);
  EXPECT_EQ(secs.back(), 199);
  EXPECT_EQ(secs.size(), 100u);
}

TEST(RecorderTest, RecordThenPlayThenRecordGivesTheSameMessages) {
  TempDir dir;
  Context ctx = MakeContext();
  const std::string first = dir.File("first.mcap"), second = dir.File("second.mcap");
  std::mt19937_64 rng(7);
  {
    absl::StatusOr<Node> node = Node::Create(ctx, "source");
    ASSERT_TRUE(node.ok());
    std::vector<Stream> streams;
    streams.push_back(StreamOf<flat::Imu>("/rt/imu"));
    streams.push_back(StreamOf<flat::Image>("/rt/image"));
    streams.push_back(StreamOf<flat::String>("/rt/chatter"));
    for (Stream& s : streams) {
      // Deep rings: the recorder keeps up even on a loaded machine (and
      // play makes its publishers with the depth recorded here).
      Qos qos = Qos().set_depth(64);
      if (s.topic == "/rt/image") qos.set_max_message_size(128 << 10).set_depth(32);
      s.publisher.emplace(*node->CreateRawPublisher(s.topic, s.support, qos));
    }
    RecordOptions ro;
    ro.path = first;
    ro.topics = {"/rt/*"};
    absl::StatusOr<std::unique_ptr<Recorder>> rec = Recorder::Create(ctx, ro);
    ASSERT_TRUE(rec.ok());
    std::uint64_t n = 0;
    for (int i = 0; i < 30; ++i) {
      for (Stream& s : streams) {
        std::unique_ptr<Proto> m = s.make();
        idl::testing::RandomFill(m.get(), rng, 3, 4);
        if (s.topic == "/rt/image") {
          static_cast<msgs::Image*>(m.get())->set_data(std::string(100 << 10, static_cast<char>(i)));
        }
        Send(s, std::move(m));
        RecordUntil(**rec, ++n);
      }
      absl::SleepFor(absl::Milliseconds(2));  // some timing to replay
    }
    ASSERT_TRUE((*rec)->Close().ok());
  }
  // Play `first` while recording `second`.
  RecordOptions ro;
  ro.path = second;
  ro.topics = {"/rt/*"};
  absl::StatusOr<std::unique_ptr<Recorder>> rec = Recorder::Create(ctx, ro);
  ASSERT_TRUE(rec.ok());
  PlayOptions po;
  po.path = first;
  absl::StatusOr<std::unique_ptr<Player>> player = Player::Create(ctx, po);
  ASSERT_TRUE(player.ok()) << player.status();
  ASSERT_TRUE((*rec)->Discover().ok());
  ASSERT_EQ((*rec)->stats().topics.size(), 3u);
  std::atomic<bool> done{false};
  absl::Status played;
  PlayStats last;
  std::thread t([&] {
    played = (*player)->Run([] { return false; }, [&](const PlayStats& s) { last = s; });
    done = true;
  });
  const absl::Time deadline = absl::Now() + kTimeout;
  while (!done && absl::Now() < deadline) ASSERT_TRUE((*rec)->Poll(absl::Milliseconds(10)).ok());
  t.join();
  ASSERT_TRUE(played.ok()) << played;
  EXPECT_EQ(last.published, 90u);
  EXPECT_EQ(last.failed, 0u) << last.last_error;
  RecordUntil(**rec, 90);
  ASSERT_TRUE((*rec)->Close().ok());
  for (const RecordedTopic& t : (*rec)->stats().topics) {
    EXPECT_EQ(t.lost, 0u) << t.topic;
    EXPECT_EQ(t.messages, 30u) << t.topic;
  }
  EXPECT_EQ(ReadAll(first), ReadAll(second));
}

TEST(RecorderTest, AKilledRecorderLeavesAFileReadableUpToItsLastCompleteChunk) {
  TempDir dir;
  Context ctx = MakeContext();
  const std::string path = dir.File("killed.mcap");
  absl::StatusOr<Node> node = Node::Create(ctx, "source");
  ASSERT_TRUE(node.ok());
  Stream s = StreamOf<flat::String>("/killed");
  s.publisher.emplace(*node->CreateRawPublisher(s.topic, s.support, Qos().set_depth(1024)));
  // The recorder runs in a child that we SIGKILL mid-recording.
  const pid_t child = ::ringcast::testing::StartChild([&] {
    RecordOptions ro;
    ro.path = path;
    ro.topics = {"/killed"};
    ro.compression = Compression::kZstd;
    ro.chunk_size = 2 << 10;
    absl::StatusOr<std::unique_ptr<Recorder>> rec = Recorder::Create(ctx, ro);
    if (!rec.ok()) return 1;
    for (;;) {
      if (!(*rec)->Poll(absl::Milliseconds(50)).ok()) return 2;
    }
  });
  // Wait for its subscriber, then publish; kill once chunks are on disk.
  // Its subscriber must be in the topic segment (not only registered), or
  // the first samples would be published before it could see them.
  ASSERT_TRUE(::ringcast::testing::WaitForEndpoint(ctx.shm(), "/killed",
                                                   discovery::EndpointKind::kSubscriber, kTimeout));
  const absl::Time deadline = absl::Now() + kTimeout;
  for (int i = 0; i < 2000; ++i) {
    auto m = std::make_unique<msgs::String>();
    m->set_data(absl::StrCat("line ", i, " ", std::string(i % 50, 'z')));
    Send(s, std::move(m));
    if (i % 100 == 99) absl::SleepFor(absl::Milliseconds(5));
  }
  while (absl::Now() < deadline && (!fs::exists(path) || fs::file_size(path) < 20000)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ::ringcast::testing::KillChild(child);

  absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  const Summary& summary = (*r)->summary();
  EXPECT_TRUE(summary.recovered);
  EXPECT_FALSE(summary.recovery_note.empty());
  EXPECT_GT(summary.chunks.size(), 2u);
  // What is there is a prefix of what was published, exact.
  const auto got = ReadAll(path);
  const std::vector<std::string>& wires = got.count("/killed") ? got.at("/killed") : std::vector<std::string>{};
  ASSERT_GT(wires.size(), 0u);
  for (std::size_t i = 0; i < wires.size(); ++i) {
    EXPECT_EQ(wires[i], s.sent[i]->SerializeAsString()) << i;
  }
  // bag recover: the same messages, with a summary.
  const std::string fixed = dir.File("fixed.mcap");
  absl::StatusOr<Summary> rs = Recover(path, fixed, Compression::kLz4);
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_EQ(rs->statistics.message_count, wires.size());
  absl::StatusOr<std::unique_ptr<McapReader>> rf = McapReader::Open(fixed);
  ASSERT_TRUE(rf.ok());
  EXPECT_FALSE((*rf)->summary().recovered);
  EXPECT_EQ(ReadAll(fixed), got);
  // The dead recorder's registration goes with the dead.
  absl::StatusOr<discovery::Registry> reg = discovery::Registry::Open(ctx.shm());
  ASSERT_TRUE(reg.ok());
  reg->ReclaimDead();
  reg->Leave();
}

TEST(ConvertTest, BadInputIsAnErrorNamingTheType) {
  absl::StatusOr<std::unique_ptr<WireConverter>> c =
      WireConverter::Create(flat::Imu::DescriptorSet(), "ringcast.msgs.Imu");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->type_hash(), flat::Imu::kTypeHash);
  std::string wire;
  alignas(8) std::byte junk[16] = {};
  junk[0] = std::byte{0xff};
  absl::Status s = (*c)->ToWire(absl::MakeSpan(junk), &wire);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "ringcast.msgs.Imu")) << s;
  s = (*c)->ParseWire("\xff\xff\xff");
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "ringcast.msgs.Imu")) << s;
  absl::StatusOr<std::unique_ptr<WireConverter>> none =
      WireConverter::Create(flat::Imu::DescriptorSet(), "ringcast.msgs.Nope");
  EXPECT_TRUE(absl::StrContains(none.status().message(), "ringcast.msgs.Nope")) << none.status();
}

}  // namespace
}  // namespace ringcast::record
