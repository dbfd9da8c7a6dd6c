// The generated path: protoc-gen-ringcast's views and builders, checked
// against protobuf and against the dynamic path (same bytes, same values).
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "idl/dynamic.h"
#include "ringcast_test/all_types.ringcast.h"
#include "tests/idl/idl_test_util.h"

namespace ringcast::idl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using google::protobuf::util::MessageDifferencer;
namespace flat = ::ringcast_test::flat;

const MessageLayout& LayoutOf(const google::protobuf::Descriptor* d) {
  static LayoutPool* pool = new LayoutPool;
  return **pool->Get(d);
}

TEST(GeneratedTest, ConstantsAgreeWithTheLayoutEngine) {
  const MessageLayout& m = LayoutOf(ringcast_test::AllTypes::descriptor());
  EXPECT_EQ(flat::AllTypes::kTypeHash, m.type_hash());
  EXPECT_EQ(flat::AllTypes::kTypeHash, 0x458215482854f088ull);  // layout_test's golden
  EXPECT_EQ(flat::AllTypes::kTypeName, "ringcast_test.AllTypes");
  EXPECT_EQ(flat::AllTypes::kHeadSize, m.size());
  EXPECT_EQ(flat::Tree::kTypeHash, LayoutOf(ringcast_test::Tree::descriptor()).type_hash());
}

TEST(GeneratedTest, TopicConstants) {
  constexpr auto t = ringcast_test::topics::kTestAllTypes;
  static_assert(std::is_same_v<decltype(t)::Type, flat::AllTypes>);
  EXPECT_EQ(t.name, "/test/all_types");
  EXPECT_EQ(t.depth, 8u);
  EXPECT_EQ(t.reliability, Reliability::kReliable);
  EXPECT_EQ(t.durability, Durability::kTransientLocal);
  EXPECT_EQ(t.max_message_size, 1048576u);
  constexpr auto tree = ringcast_test::topics::kTestTree;
  static_assert(std::is_same_v<decltype(tree)::Type, flat::Tree>);
  EXPECT_EQ(tree.name, "/test/tree");
  EXPECT_EQ(tree.depth, 0u);
}

TEST(GeneratedTest, EmbeddedDescriptorSetDecodesAnyBuffer) {
  absl::StatusOr<std::unique_ptr<DynamicType>> type =
      DynamicType::FromDescriptorSet(
          absl::string_view(flat::AllTypes::DescriptorSet().data(), flat::AllTypes::DescriptorSet().size()),
          "ringcast_test.AllTypes");
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_EQ((*type)->layout().type_hash(), flat::AllTypes::kTypeHash);
  ringcast_test::AllTypes msg;
  msg.set_str("x");
  msg.add_rpoint()->set_x(2);
  absl::StatusOr<std::vector<std::byte>> flat_bytes = flat::AllTypes::FromProto(msg);
  ASSERT_TRUE(flat_bytes.ok());
  EXPECT_EQ(*(*type)->ToText(*flat_bytes), "str: \"x\"\nrpoint {\n  x: 2\n}\n");
}

// Random protobuf -> generated builder -> bytes; the same bytes as the
// dynamic writer; generated view -> protobuf and dynamic reader -> protobuf
// both equal the input.
TEST(GeneratedTest, RoundTrip3000RandomMessagesAgainstProtobufAndDynamic) {
  const MessageLayout& layout = LayoutOf(ringcast_test::AllTypes::descriptor());
  std::mt19937_64 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    ringcast_test::AllTypes in;
    testing::RandomFill(&in, rng, 2, 4);
    absl::StatusOr<std::vector<std::byte>> gen = flat::AllTypes::FromProto(in);
    ASSERT_TRUE(gen.ok()) << gen.status();
    absl::StatusOr<std::vector<std::byte>> dyn = WriteFlat(layout, in);
    ASSERT_TRUE(dyn.ok()) << dyn.status();
    ASSERT_EQ(*gen, *dyn) << "case " << i << ": generated and dynamic bytes differ\n"
                          << in.DebugString();
    ringcast_test::AllTypes out;
    ASSERT_TRUE(flat::AllTypes::ToProto(*gen, &out).ok());
    ASSERT_TRUE(MessageDifferencer::Equals(in, out))
        << "case " << i << "\nin:\n" << in.DebugString() << "out:\n" << out.DebugString();
    ringcast_test::AllTypes dyn_out;
    ASSERT_TRUE(ReadFlat(layout, *gen, &dyn_out).ok());
    ASSERT_TRUE(MessageDifferencer::Equals(in, dyn_out)) << "case " << i;
  }
}

TEST(GeneratedTest, TreeRoundTrip) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 500; ++i) {
    ringcast_test::Tree in;
    testing::RandomFill(&in, rng, 5, 3);
    absl::StatusOr<std::vector<std::byte>> gen = flat::Tree::FromProto(in);
    ASSERT_TRUE(gen.ok()) << gen.status();
    ringcast_test::Tree out;
    ASSERT_TRUE(flat::Tree::ToProto(*gen, &out).ok());
    ASSERT_TRUE(MessageDifferencer::Equals(in, out)) << "case " << i;
  }
}

// A pooled sample stays writable by its publisher: a buffer rewritten into
// a reference cycle after Create must not recurse without bound.
TEST(GeneratedTest, ToProtoOfABufferRewrittenIntoACycleStops) {
  ringcast_test::Tree in;
  in.set_name("root");
  in.add_children()->set_name("a");
  absl::StatusOr<std::vector<std::byte>> b = flat::Tree::FromProto(in);
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<flat::TreeView> v = flat::TreeView::Create(*b);
  ASSERT_TRUE(v.ok()) << v.status();
  // The child's children now point back at the array holding the child.
  const MessageLayout& m = LayoutOf(ringcast_test::Tree::descriptor());
  const std::uint32_t at =
      m.FindFieldByNumber(ringcast_test::Tree::kChildrenFieldNumber)->offset;
  Ref children;
  std::memcpy(&children, b->data() + at, sizeof children);
  std::memcpy(b->data() + children.offset + at, &children, sizeof children);
  ringcast_test::Tree out;
  v->ToProto(&out);  // returns: the depth bound stops the copy
  int depth = 0;
  for (const ringcast_test::Tree* t = &out; t->children_size() > 0; t = &t->children(0)) {
    ++depth;
  }
  EXPECT_LE(depth, kMaxDepth + 1);
  EXPECT_FALSE(flat::TreeView::Create(*b).ok()) << "Create itself refuses the cycle";
}

TEST(GeneratedTest, BuildInPlaceAndReadBack) {
  alignas(8) std::byte buffer[1024];
  absl::StatusOr<flat::AllTypesBuilder> b = flat::AllTypesBuilder::Create(buffer);
  ASSERT_TRUE(b.ok()) << b.status();
  b->set_b(true);
  b->set_i64(-7);
  b->set_color(ringcast_test::COLOR_GREEN);
  ASSERT_TRUE(b->set_str("hello").ok());
  absl::StatusOr<absl::Span<std::uint8_t>> data = b->alloc_data(4);
  ASSERT_TRUE(data.ok());
  for (std::size_t i = 0; i < 4; ++i) (*data)[i] = static_cast<std::uint8_t>(10 + i);
  b->mutable_point().set_y(1.5);
  flat::InnerBuilder inner = b->mutable_inner();
  ASSERT_TRUE(inner.set_label("in").ok());
  ASSERT_TRUE(inner.add_values(1).ok());
  inner.mutable_where().set_z(3);
  ASSERT_TRUE(b->set_str("hello again").ok());  // the first bytes are abandoned
  ASSERT_TRUE(inner.add_values(2).ok());        // moves the array: str came after it
  absl::StatusOr<absl::Span<double>> rdb = b->alloc_rdb(3);
  ASSERT_TRUE(rdb.ok());
  (*rdb)[0] = 1;
  (*rdb)[1] = 2;
  (*rdb)[2] = 3;
  ASSERT_TRUE(b->add_rstr("a").ok());
  ASSERT_TRUE(b->add_rstr("").ok());
  ASSERT_TRUE(b->add_rstr("ccc").ok());
  absl::StatusOr<RepeatedBuilders<flat::PointBuilder>> pts = b->alloc_rpoint(2);
  ASSERT_TRUE(pts.ok());
  (*pts)[1].set_x(9);
  absl::StatusOr<flat::InnerBuilder> ri = b->add_rinner();
  ASSERT_TRUE(ri.ok());
  ASSERT_TRUE(ri->set_label("r0").ok());
  ASSERT_TRUE(b->add_rcolor(ringcast_test::COLOR_RED).ok());
  b->mutable_choice_point().set_x(4);
  b->set_maybe(0);

  absl::StatusOr<flat::AllTypesView> v = flat::AllTypesView::Create(b->UsedBytes());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->b());
  EXPECT_EQ(v->i64(), -7);
  EXPECT_EQ(v->color(), ringcast_test::COLOR_GREEN);
  EXPECT_EQ(v->str(), "hello again");
  EXPECT_THAT(v->data(), ElementsAre(10, 11, 12, 13));
  EXPECT_TRUE(v->has_point());
  EXPECT_EQ(v->point().y(), 1.5);
  EXPECT_EQ(v->inner().label(), "in");
  EXPECT_THAT(v->inner().values(), ElementsAre(1, 2));
  EXPECT_EQ(v->inner().where().z(), 3);
  EXPECT_THAT(v->rdb(), ElementsAre(1, 2, 3));
  std::vector<std::string> strs;
  for (std::string_view s : v->rstr()) strs.emplace_back(s);
  EXPECT_THAT(strs, ElementsAre("a", "", "ccc"));
  ASSERT_EQ(v->rpoint().size(), 2u);
  EXPECT_EQ(v->rpoint()[1].x(), 9);
  EXPECT_EQ(v->rinner()[0].label(), "r0");
  EXPECT_THAT(v->rcolor(), ElementsAre(ringcast_test::COLOR_RED));
  EXPECT_EQ(v->choice_case(), flat::AllTypesView::ChoiceCase::kChoicePoint);
  EXPECT_TRUE(v->has_choice_point());
  EXPECT_FALSE(v->has_choice_int());
  EXPECT_EQ(v->choice_int(), 0);
  EXPECT_EQ(v->choice_point().x(), 4);
  EXPECT_TRUE(v->has_maybe());
  EXPECT_FALSE(v->has_inner() == false);

  ringcast_test::AllTypes proto;
  v->ToProto(&proto);
  EXPECT_EQ(proto.str(), "hello again");
  EXPECT_EQ(proto.rstr_size(), 3);
  EXPECT_TRUE(proto.has_maybe());
  EXPECT_EQ(proto.choice_case(), ringcast_test::AllTypes::kChoicePoint);
}

// RootBuilder (the publishers' inline path) accepts exactly the buffers
// Create accepts, zeroes the head like it, and builds the same bytes.
TEST(GeneratedTest, RootBuilderAcceptsWhatCreateAcceptsAndBuildsTheSameBytes) {
  using T = flat::AllTypes;
  alignas(8) std::byte buffer[1024 + 8];
  const absl::Span<std::byte> whole(buffer, sizeof buffer);
  for (const absl::Span<std::byte> b :
       {whole.first(1024), whole.subspan(1, 1024), whole.subspan(4, 1024),
        whole.first(T::kHeadSize), whole.first(T::kHeadSize - 1), whole.first(0)}) {
    EXPECT_EQ(idl::CanRoot<T>(b), T::Builder::Create(b).ok())
        << "offset " << b.data() - buffer << ", " << b.size() << " bytes";
  }
  alignas(8) std::byte a[512], c[512];
  std::memset(a, 0xAB, sizeof a);
  std::memset(c, 0xAB, sizeof c);
  ASSERT_TRUE(idl::CanRoot<T>(a));
  flat::AllTypesBuilder fast = idl::RootBuilder<T>(a);
  absl::StatusOr<flat::AllTypesBuilder> checked = T::Builder::Create(c);
  ASSERT_TRUE(checked.ok());
  EXPECT_EQ(fast.UsedSize(), T::kHeadSize);
  for (std::size_t i = 0; i < T::kHeadSize; ++i) ASSERT_EQ(a[i], std::byte{0}) << i;
  for (flat::AllTypesBuilder* b : {&fast, &*checked}) {
    b->set_i64(-7);
    ASSERT_TRUE(b->set_str("hello").ok());
    ASSERT_TRUE(b->add_rstr("x").ok());
  }
  ASSERT_EQ(fast.UsedSize(), checked->UsedSize());
  EXPECT_EQ(std::memcmp(a, c, fast.UsedSize()), 0);
  absl::StatusOr<flat::AllTypesView> v = flat::AllTypesView::Create(fast.UsedBytes());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->str(), "hello");
}

TEST(GeneratedTest, OutOfSpaceIsAnErrorNamingTheField) {
  alignas(8) std::byte buffer[flat::AllTypes::kHeadSize + 16];
  absl::StatusOr<flat::AllTypesBuilder> b = flat::AllTypesBuilder::Create(buffer);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->set_str("0123456789").ok());
  const absl::Status s = b->set_str("this one does not fit");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("ringcast_test.AllTypes.str: needs 21 bytes"));
  EXPECT_EQ(b->alloc_rdb(3).status().code(), absl::StatusCode::kResourceExhausted);
  // Too small for the head, misaligned.
  alignas(8) std::byte small[16];
  EXPECT_EQ(flat::AllTypesBuilder::Create(small).status().code(),
            absl::StatusCode::kInvalidArgument);
  alignas(8) std::byte big[512];
  EXPECT_EQ(flat::AllTypesBuilder::Create(absl::MakeSpan(big).subspan(4)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GeneratedTest, ViewRefusesCorruptBuffers) {
  ringcast_test::AllTypes msg;
  msg.set_str("abc");
  std::vector<std::byte> bytes = *flat::AllTypes::FromProto(msg);
  EXPECT_TRUE(flat::AllTypesView::Create(bytes).ok());
  std::vector<std::byte> cut(bytes.begin(), bytes.end() - 1);
  EXPECT_EQ(flat::AllTypesView::Create(cut).status().code(), absl::StatusCode::kDataLoss);
  ringcast_test::AllTypes out;
  EXPECT_EQ(flat::AllTypes::ToProto(cut, &out).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ringcast::idl
