// The graph of a small domain (discovery/graph.h): nodes with their
// endpoints, topics with publishers and subscribers matched to their rings
// and subscriber entries, types with their descriptors; named topics,
// topics only a segment knows, and the errors for the rest.
#include "discovery/graph.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "discovery/registry.h"
#include "gtest/gtest.h"
#include "ringcast/node.h"
#include "tests/support/core_support.h"
#include "tests/support/test_support.h"
#include "transport/writer.h"

namespace ringcast::discovery {
namespace {

using ::ringcast::testing::BytesType;
using ::ringcast::testing::ContextFor;
using ::ringcast::testing::QosOf;
using ::ringcast::testing::UniqueOptions;

constexpr char kImageDescriptor[] = "image descriptor";

transport::TopicConfig ImageConfig() {
  transport::TopicConfig c;
  c.type_name = "test.Image";
  c.type_hash = 0xabc;
  c.depth = 8;
  c.max_publishers = 2;
  c.max_subscribers = 4;
  c.max_message_size = 4096;
  return c;
}

transport::TopicConfig StatusConfig() {
  transport::TopicConfig c;
  c.type_name = "test.Status";
  c.type_hash = 0xdef;
  c.depth = 4;
  c.max_publishers = 2;
  c.max_subscribers = 4;
  return c;
}

absl::StatusOr<Node> MakeNode(const transport::ShmOptions& o, const char* name) {
  absl::StatusOr<Context> ctx = ContextFor(o);
  if (!ctx.ok()) return ctx.status();
  return Node::Create(*ctx, name);
}

// camera publishes /image (pooled, 3 samples); viewer subscribes to /image
// (has read 1) and /status; monitor publishes /status.
class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    o_ = UniqueOptions();
    camera_.emplace(MakeNode(o_, "camera"));
    viewer_.emplace(MakeNode(o_, "viewer"));
    monitor_.emplace(MakeNode(o_, "monitor"));
    ASSERT_TRUE(camera_->ok() && viewer_->ok() && monitor_->ok());
    const transport::TopicConfig image = ImageConfig();
    const transport::TopicConfig status = StatusConfig();
    image_pub_.emplace((*camera_)->CreateRawPublisher(
        "/image", BytesType(image, kImageDescriptor), QosOf(image)));
    ASSERT_TRUE(image_pub_->ok()) << image_pub_->status();
    image_sub_.emplace((*viewer_)->CreateRawSubscriber(
        "/image", BytesType(image, kImageDescriptor), QosOf(image)));
    ASSERT_TRUE(image_sub_->ok()) << image_sub_->status();
    status_sub_.emplace(
        (*viewer_)->CreateRawSubscriber("/status", BytesType(status), QosOf(status)));
    ASSERT_TRUE(status_sub_->ok()) << status_sub_->status();
    status_pub_.emplace(
        (*monitor_)->CreateRawPublisher("/status", BytesType(status), QosOf(status)));
    ASSERT_TRUE(status_pub_->ok()) << status_pub_->status();
    for (const std::size_t n : {3000, 100, 2000}) {
      ASSERT_TRUE((*image_pub_)->Publish(std::vector<std::byte>(n, std::byte{1})).ok());
    }
    transport::Sample s;
    ASSERT_TRUE((*image_sub_)->Wait(absl::Seconds(10)).ok());
    absl::StatusOr<bool> got = (*image_sub_)->Take(&s);
    ASSERT_TRUE(got.ok() && *got);
    registry_.emplace(Registry::Open(o_));
    ASSERT_TRUE(registry_->ok()) << registry_->status();
  }

  void TearDown() override {
    if (registry_ && registry_->ok()) (*registry_)->Leave();
  }

  transport::ShmOptions o_;
  std::optional<absl::StatusOr<Node>> camera_, viewer_, monitor_;
  std::optional<absl::StatusOr<RawPublisher>> image_pub_, status_pub_;
  std::optional<absl::StatusOr<RawSubscriber>> image_sub_, status_sub_;
  std::optional<absl::StatusOr<Registry>> registry_;
};

TEST_F(GraphTest, NodesTopicsAndTypes) {
  GraphOptions go;
  go.with_recent = true;
  go.with_pools = true;
  absl::StatusOr<Graph> g = ReadGraph(**registry_, go);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->generation, (*registry_)->generation());

  ASSERT_EQ(g->nodes.size(), 3u);
  EXPECT_EQ(g->nodes[0].name, "camera");
  EXPECT_EQ(g->nodes[1].name, "monitor");
  EXPECT_EQ(g->nodes[2].name, "viewer");
  for (const GraphNode& n : g->nodes) {
    EXPECT_EQ(n.pid, static_cast<std::uint32_t>(::getpid()));
    EXPECT_FALSE(n.exe.empty());
  }
  EXPECT_EQ(g->nodes[0].publishers, 1);
  EXPECT_EQ(g->nodes[0].subscribers, 0);
  ASSERT_EQ(g->nodes[0].endpoints.size(), 1u);
  EXPECT_EQ(g->nodes[0].endpoints[0].topic, "/image");
  EXPECT_EQ(g->nodes[0].endpoints[0].kind, EndpointKind::kPublisher);
  EXPECT_EQ(g->nodes[0].endpoints[0].id, (*image_pub_)->id());
  EXPECT_EQ(g->nodes[2].publishers, 0);
  EXPECT_EQ(g->nodes[2].subscribers, 2);
  ASSERT_EQ(g->nodes[2].endpoints.size(), 2u);
  EXPECT_EQ(g->nodes[2].endpoints[0].type_name + g->nodes[2].endpoints[1].type_name,
            (*image_sub_)->id() < (*status_sub_)->id() ? "test.Imagetest.Status"
                                                       : "test.Statustest.Image");

  ASSERT_EQ(g->topics.size(), 2u);
  EXPECT_EQ(g->topics[0].topic, "/image");
  EXPECT_EQ(g->topics[1].topic, "/status");
  const GraphTopic& image = g->topics[0];
  EXPECT_EQ(image.type_name, "test.Image");
  EXPECT_EQ(image.type_hash, 0xabcu);
  EXPECT_EQ(image.descriptor_bytes, sizeof kImageDescriptor - 1);
  EXPECT_EQ(image.publishers, 1);
  EXPECT_EQ(image.subscribers, 1);
  ASSERT_TRUE(image.segment_found) << image.segment_error;
  EXPECT_EQ(image.snapshot.depth, 8u);
  EXPECT_EQ(image.snapshot.max_message_size, 4096u);
  EXPECT_GT(image.shm_bytes(), image.snapshot.segment_bytes) << "the pool counts too";
  EXPECT_EQ(image.shm_bytes() - image.snapshot.segment_bytes,
            (*image_pub_)->pool_use().committed_bytes);

  ASSERT_EQ(image.endpoints.size(), 2u);
  const GraphEndpoint& pub = image.endpoints[0];
  EXPECT_TRUE(pub.publisher());
  EXPECT_EQ(pub.node, "camera");
  EXPECT_EQ(pub.id, (*image_pub_)->id());
  EXPECT_EQ(pub.pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(pub.qos.depth, 8u);
  EXPECT_EQ(pub.qos.max_message_size, 4096u);
  EXPECT_FALSE(pub.qos.reliable);
  ASSERT_TRUE(pub.in_segment());
  ASSERT_TRUE(pub.ring.has_value());
  EXPECT_FALSE(pub.subscriber.has_value());
  EXPECT_EQ(pub.ring->index, pub.transport_index);
  EXPECT_EQ(pub.ring->index, (*image_pub_)->writer().ring_index());
  EXPECT_EQ(pub.ring->publisher_id, pub.transport_id);
  EXPECT_EQ(pub.ring->samples, 3u);
  EXPECT_EQ(pub.ring->bytes, 5100u);
  ASSERT_EQ(pub.ring->recent.size(), 3u);
  EXPECT_EQ(pub.ring->recent[0].size, 3000u);
  EXPECT_TRUE(pub.ring->recent[0].pooled);
  EXPECT_EQ(pub.ring->recent[1].size, 100u);
  EXPECT_EQ(pub.ring->recent[2].size, 2000u);

  const GraphEndpoint& sub = image.endpoints[1];
  EXPECT_FALSE(sub.publisher());
  EXPECT_EQ(sub.node, "viewer");
  EXPECT_EQ(sub.id, (*image_sub_)->id());
  ASSERT_TRUE(sub.subscriber.has_value());
  EXPECT_EQ(sub.subscriber->index, (*image_sub_)->reader().subscriber_index());
  EXPECT_EQ(sub.subscriber->subscriber_id, sub.transport_id);
  EXPECT_EQ(sub.subscriber->received, 1u);
  EXPECT_EQ(sub.subscriber->lag, 2u);
  EXPECT_EQ(sub.subscriber->lost, 0u);

  const GraphTopic& status = g->topics[1];
  EXPECT_EQ(status.type_name, "test.Status");
  EXPECT_EQ(status.descriptor_bytes, 0u);
  ASSERT_EQ(status.endpoints.size(), 2u);
  EXPECT_EQ(status.endpoints[0].node, "monitor");
  EXPECT_EQ(status.endpoints[1].node, "viewer");
  EXPECT_TRUE(status.endpoints[0].ring.has_value());
  EXPECT_TRUE(status.endpoints[1].subscriber.has_value());

  ASSERT_EQ(g->types.size(), 2u);
  EXPECT_EQ(g->types[0].name, "test.Image");
  EXPECT_EQ(g->types[0].hash, 0xabcu);
  EXPECT_EQ(g->types[0].descriptor, kImageDescriptor);
  EXPECT_EQ(g->types[1].name, "test.Status");
  EXPECT_TRUE(g->types[1].descriptor.empty());
}

TEST_F(GraphTest, WithoutSnapshotsNoSegmentIsRead) {
  GraphOptions go;
  go.with_snapshots = false;
  absl::StatusOr<Graph> g = ReadGraph(**registry_, go);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->topics.size(), 2u);
  for (const GraphTopic& t : g->topics) {
    EXPECT_FALSE(t.segment_found);
    for (const GraphEndpoint& e : t.endpoints) EXPECT_FALSE(e.in_segment());
  }
}

TEST_F(GraphTest, NamedTopics) {
  GraphOptions go;
  go.topics = {"/status", "/image", "/status"};
  absl::StatusOr<Graph> g = ReadGraph(**registry_, go);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->topics.size(), 2u) << "in the order named, once each";
  EXPECT_EQ(g->topics[0].topic, "/status");
  EXPECT_EQ(g->topics[1].topic, "/image");
  EXPECT_EQ(g->nodes.size(), 3u) << "nodes are the whole domain's";

  go.topics = {"/nowhere"};
  absl::StatusOr<Graph> missing = ReadGraph(**registry_, go);
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_NE(missing.status().message().find("no topic /nowhere"), std::string::npos)
      << missing.status();

  go.topics = {"not a topic"};
  EXPECT_TRUE(absl::IsInvalidArgument(ReadGraph(**registry_, go).status()));

  // A topic only its segment knows (a transport endpoint nobody registered).
  transport::TopicConfig raw = StatusConfig();
  raw.type_name = "test.Raw";
  absl::StatusOr<transport::Writer> w = transport::Writer::Create(o_, "/raw", raw);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->Publish(std::vector<std::byte>(5)).ok());
  go.topics = {"/raw"};
  g = ReadGraph(**registry_, go);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->topics.size(), 1u);
  EXPECT_TRUE(g->topics[0].endpoints.empty());
  ASSERT_TRUE(g->topics[0].segment_found);
  EXPECT_EQ(g->topics[0].type_name, "test.Raw");
  ASSERT_EQ(g->topics[0].snapshot.rings.size(), 1u);
  EXPECT_EQ(g->topics[0].snapshot.rings[0].samples, 1u);
}

TEST(GraphBuildTest, AnEmptyDomainHasAnEmptyGraph) {
  const transport::ShmOptions o = UniqueOptions();
  absl::StatusOr<Graph> g = BuildGraph(o, RegistrySnapshot{});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(g->nodes.empty());
  EXPECT_TRUE(g->topics.empty());
  EXPECT_TRUE(g->types.empty());
}

}  // namespace
}  // namespace ringcast::discovery
