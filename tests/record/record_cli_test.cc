// `ringcast record`, `play` and `bag` end to end: the built binary against
// in-test publishers and subscribers.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "discovery/registry.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "ringcast/msgs/image.ringcast.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/node.h"
#include "tests/support/cli_support.h"
#include "tests/support/core_support.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"

namespace ringcast::record {
namespace {

namespace fs = std::filesystem;
namespace flat = ::ringcast::msgs::flat;
using ::ringcast::testing::CliChild;
using ::ringcast::testing::CliResult;
using ::ringcast::testing::ContextFor;
using ::ringcast::testing::ReadUntil;

constexpr absl::Duration kTimeout = absl::Seconds(60);

class RecordCliTest : public ::testing::Test {
 protected:
  RecordCliTest() {
    char templ[] = "/tmp/ringcast-record-cli-XXXXXX";
    dir_ = ::mkdtemp(templ);
  }
  ~RecordCliTest() override {
    fs::remove_all(dir_);
    // What a killed recorder left in the registry goes with the dead.
    if (auto reg = discovery::Registry::Open(o_); reg.ok()) {
      reg->ReclaimDead();
      reg->Leave();
    }
    transport::ReleaseProcessTokens();
    EXPECT_TRUE(::ringcast::testing::FilesWithPrefix(::ringcast::testing::kShmDir, o_.prefix + ".")
                    .empty());
  }
  std::vector<std::string> Cli(std::vector<std::string> args) const {
    args.insert(args.begin(), absl::StrCat("--prefix=", o_.prefix));
    return args;
  }
  CliResult Run(std::vector<std::string> args) { return ::ringcast::testing::RunCli(Cli(args)); }
  CliChild Spawn(std::vector<std::string> args) { return ::ringcast::testing::SpawnCli(Cli(args)); }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }

  bool WaitForEndpoint(const std::string& topic, discovery::EndpointKind kind) const {
    return ::ringcast::testing::WaitForEndpoint(o_, topic, kind);
  }

  // Publishes String "<i>" on `topic` every `period` until stopped.
  class Talker {
   public:
    Talker(const transport::ShmOptions& o, std::string topic, absl::Duration period) {
      thread_ = std::thread([this, o, topic, period] {
        absl::StatusOr<Context> ctx = ContextFor(o);
        if (!ctx.ok()) return;
        absl::StatusOr<Node> node = Node::Create(*ctx, "talker");
        if (!node.ok()) return;
        auto pub = node->CreatePublisher<flat::String>(topic);
        if (!pub.ok()) return;
        ready_ = true;
        while (!stop_) {
          msgs::String m;
          m.set_data(absl::StrCat(sent_.load()));
          auto bytes = flat::String::FromProto(m);
          if (bytes.ok() && pub->raw().Publish(*bytes).ok()) ++sent_;
          absl::SleepFor(period);
        }
      });
      const absl::Time deadline = absl::Now() + kTimeout;
      while (!ready_ && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    }
    ~Talker() {
      stop_ = true;
      thread_.join();
    }
    std::uint64_t sent() const { return sent_; }

   private:
    std::atomic<bool> ready_{false}, stop_{false};
    std::atomic<std::uint64_t> sent_{0};
    std::thread thread_;
  };

  const transport::ShmOptions o_ = ::ringcast::testing::UniqueOptions();
  std::string dir_;
};

nlohmann::json Json(const CliResult& r) {
  EXPECT_EQ(r.code, 0) << r.command << "\n" << r.err;
  return nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
}

TEST_F(RecordCliTest, RecordForADurationThenBagInfoDescribesTheFile) {
  Talker talker(o_, "/chat", absl::Milliseconds(5));
  const std::string file = File("chat.mcap");
  CliResult r = Run({"record", "/chat", "-o", file, "--duration", "1.5s"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "recorded ")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "/chat (ringcast.msgs.String)")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "lost 0")) << r.out;

  nlohmann::json j = Json(Run({"bag", "info", file, "--json"}));
  ASSERT_TRUE(j.is_object()) << j;
  EXPECT_FALSE(j.contains("recovered"));
  ASSERT_EQ(j["topics"].size(), 1u);
  const nlohmann::json& t = j["topics"][0];
  EXPECT_EQ(t["topic"], "/chat");
  EXPECT_EQ(t["type"], "ringcast.msgs.String");
  EXPECT_GT(t["messages"].get<std::uint64_t>(), 50u);
  EXPECT_EQ(t["lost"].get<std::uint64_t>(), 0u);
  EXPECT_GT(t["bytes"].get<std::uint64_t>(), 0u);
  EXPECT_GT(t["hz"].get<double>(), 20.0);
  EXPECT_GT(j["duration_s"].get<double>(), 0.5);
  EXPECT_EQ(j["compression"][0], "zstd");

  CliResult text = Run({"bag", "info", file});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_TRUE(absl::StrContains(text.out, "ringcast.msgs.String")) << text.out;
  EXPECT_TRUE(absl::StrContains(text.out, "duration:")) << text.out;
}

TEST_F(RecordCliTest, SigintAndSigtermCloseTheFileWithItsSummary) {
  Talker talker(o_, "/tick", absl::Milliseconds(2));
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string file = File(absl::StrCat("sig", sig, ".mcap"));
    CliChild c = Spawn({"record", "--all", "-o", file, "--compression", "lz4"});
    ASSERT_TRUE(WaitForEndpoint("/tick", discovery::EndpointKind::kSubscriber));
    absl::SleepFor(absl::Milliseconds(300));
    ::kill(c.pid, sig);
    CliResult r = ::ringcast::testing::FinishCli(c, kTimeout);
    ASSERT_EQ(r.code, 0) << r.err;
    nlohmann::json j = Json(Run({"bag", "info", file, "--json"}));
    EXPECT_FALSE(j.contains("recovered")) << j;
    EXPECT_GT(j["messages"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(j["compression"][0], "lz4");
    // Its subscriber is gone with it.
    absl::StatusOr<discovery::Registry> reg = discovery::Registry::Observe(o_);
    ASSERT_TRUE(reg.ok());
    for (const auto& e : reg->Read(false).endpoints) {
      EXPECT_NE(e.kind, discovery::EndpointKind::kSubscriber) << e.topic;
    }
  }
}

TEST_F(RecordCliTest, AKilledRecordingIsReadUpToItsLastChunkAndRecovered) {
  // 32 kB images at ~1 kHz: several 4 MiB chunks in a second or two.
  std::atomic<bool> stop{false};
  std::thread camera([&] {
    absl::StatusOr<Context> ctx = ContextFor(o_);
    absl::StatusOr<Node> node = Node::Create(*ctx, "camera");
    auto pub = node->CreatePublisher<flat::Image>(
        "/cam", Qos().set_max_message_size(64 << 10).set_depth(64));
    if (!pub.ok()) return;
    msgs::Image m;
    m.set_width(128);
    m.set_height(64);
    m.set_encoding("rgb8");
    m.set_data(std::string(32 << 10, 'p'));
    while (!stop) {
      auto bytes = flat::Image::FromProto(m);
      if (bytes.ok()) (void)pub->raw().Publish(*bytes);
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  const std::string file = File("killed.mcap");
  CliChild c = Spawn({"record", "/cam", "-o", file, "--compression", "none"});
  const absl::Time deadline = absl::Now() + kTimeout;
  while (absl::Now() < deadline && (!fs::exists(file) || fs::file_size(file) < (9u << 20))) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ::kill(c.pid, SIGKILL);
  CliResult killed = ::ringcast::testing::FinishCli(c, kTimeout);
  // The dead recorder's entries and liveness file go with the dead, while
  // the camera still holds the registry.
  if (auto reg = discovery::Registry::Open(o_); reg.ok()) {
    reg->ReclaimDead();
    reg->Leave();
  }
  stop = true;
  camera.join();
  EXPECT_EQ(killed.code, 128 + SIGKILL);

  CliResult info = Run({"bag", "info", file});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_TRUE(absl::StrContains(info.out, "NOT CLOSED")) << info.out;
  EXPECT_TRUE(absl::StrContains(info.out, "bag recover")) << info.out;
  nlohmann::json j = Json(Run({"bag", "info", file, "--json"}));
  ASSERT_TRUE(j.contains("recovered")) << j;
  const std::uint64_t kept = j["messages"].get<std::uint64_t>();
  // 9 MiB were on disk: two complete 4 MiB chunks of ~127 frames each.
  EXPECT_GE(j["chunks"].get<std::uint64_t>(), 2u) << j;
  EXPECT_GE(kept, 2u * 120u) << j;

  const std::string fixed = File("fixed.mcap");
  CliResult rec = Run({"bag", "recover", file, "-o", fixed});
  ASSERT_EQ(rec.code, 0) << rec.err;
  nlohmann::json k = Json(Run({"bag", "info", fixed, "--json"}));
  EXPECT_FALSE(k.contains("recovered")) << k;
  EXPECT_EQ(k["messages"].get<std::uint64_t>(), kept);
}

TEST_F(RecordCliTest, PlayRepublishesEveryMessageInOrderWithTheRecordedType) {
  const std::string file = File("play.mcap");
  {
    Talker talker(o_, "/words", absl::Milliseconds(2));
    CliResult r = Run({"record", "/words", "-o", file, "--duration", "1s"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  nlohmann::json info = Json(Run({"bag", "info", file, "--json"}));
  const std::uint64_t n = info["topics"][0]["messages"].get<std::uint64_t>();
  ASSERT_GT(n, 20u);

  absl::StatusOr<Context> ctx = ContextFor(o_);
  ASSERT_TRUE(ctx.ok());
  absl::StatusOr<Node> node = Node::Create(*ctx, "listener");
  ASSERT_TRUE(node.ok());
  auto sub = node->CreateSubscriber<flat::String>("/words", Qos().set_depth(1024));
  ASSERT_TRUE(sub.ok()) << sub.status();
  CliResult played = Run({"play", file, "--rate", "4"});
  ASSERT_EQ(played.code, 0) << played.err;
  EXPECT_TRUE(absl::StrContains(played.out, absl::StrCat("played ", n, " messages"))) << played.out;
  std::vector<std::string> got;
  for (;;) {
    auto s = sub->Take();
    ASSERT_TRUE(s.ok());
    if (!*s) break;
    got.emplace_back((**s)->data());
  }
  ASSERT_EQ(got.size(), n);
  // The talker counted from some k: consecutive numbers, in order.
  const int first = std::stoi(got[0]);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], absl::StrCat(first + static_cast<int>(i)));
}

TEST_F(RecordCliTest, EveryBadInputIsOneLineAndANonZeroExit) {
  auto one_line = [](const CliResult& r, int code, const std::vector<std::string>& mentions) {
    EXPECT_EQ(r.code, code) << r.command << "\n" << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, "ringcast: ")) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const std::string& m : mentions) EXPECT_TRUE(absl::StrContains(r.err, m)) << m << ": " << r.err;
  };
  one_line(Run({"record", "-o", File("x.mcap")}), 2, {"--all"});
  one_line(Run({"record", "/a", "--compression", "brotli"}), 2, {"brotli", "zstd", "lz4", "none"});
  one_line(Run({"record", "/a", "--duration", "soon"}), 2, {"soon", "20s"});
  one_line(Run({"record", "/a", "--split-size", "lots"}), 2, {"lots", "100M"});
  one_line(Run({"record", "a/b", "-o", File("y.mcap")}), 1, {"a/b", "/"});
  one_line(Run({"bag", "info", File("missing.mcap")}), 1, {"missing.mcap"});
  const std::string junk = File("junk.mcap");
  std::ofstream(junk) << "this is not an MCAP file at all, just text\n";
  one_line(Run({"bag", "info", junk}), 1, {"junk.mcap"});
  one_line(Run({"play", junk}), 1, {"junk.mcap"});
  one_line(Run({"play", File("missing.mcap"), "--rate", "0"}), 2, {"--rate", "> 0"});
  // A recording without the topic asked for names the ones it has.
  {
    Talker talker(o_, "/there", absl::Milliseconds(5));
    ASSERT_EQ(Run({"record", "/there", "-o", File("t.mcap"), "--duration", "0.3"}).code, 0);
  }
  one_line(Run({"play", File("t.mcap"), "--topics", "/nope"}), 1, {"/nope", "/there"});
}

}  // namespace
}  // namespace ringcast::record
