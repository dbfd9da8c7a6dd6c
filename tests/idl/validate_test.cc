// Validate(): accepts what the writers make, rejects truncated buffers,
// references past the end, misaligned, overlapping or overflowing ones, bad
// bools, oneof cases and nesting; never reads out of bounds (this suite
// runs under ASan: buffers are exactly sized heap blocks).
#include "idl/validate.h"

#include <cstring>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "google/protobuf/text_format.h"
#include "idl/dynamic.h"
#include "tests/idl/idl_test_util.h"

namespace ringcast::idl {
namespace {

using ::testing::HasSubstr;

class ValidateTest : public ::testing::Test {
 protected:
  const MessageLayout& Layout(const std::string& type) {
    const google::protobuf::Descriptor* d = files_.Message("ringcast_test/all_types.proto", type);
    EXPECT_NE(d, nullptr) << files_.errors();
    return **pool_.Get(d);
  }
  std::vector<std::byte> Flat(const MessageLayout& layout, const std::string& text) {
    auto msg = files_.New(layout.descriptor());
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, msg.get())) << text;
    return *WriteFlat(layout, *msg);
  }
  template <typename T>
  static void Poke(std::vector<std::byte>& b, std::size_t at, T v) {
    std::memcpy(b.data() + at, &v, sizeof v);
  }
  template <typename T>
  static T Peek(const std::vector<std::byte>& b, std::size_t at) {
    T v;
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
  }
  static std::uint32_t Offset(const MessageLayout& m, const char* field) {
    return m.FindFieldByNumber(m.descriptor()->FindFieldByName(field)->number())->offset;
  }
  absl::Status Check(const MessageLayout& m, const std::vector<std::byte>& b) {
    return Validate(m.table(), b);
  }

  testing::ProtoFiles files_;
  LayoutPool pool_;
};

constexpr char kSample[] =
    "b: true i32: 1 str: \"hello\" data: \"\\001\\002\" point { x: 1 } "
    "inner { label: \"in\" values: 3 where { y: 2 } } rb: true rb: false ri64: 9 "
    "rstr: \"a\" rstr: \"bc\" rpoint { z: 3 } rinner { label: \"r\" values: 1 values: 2 } "
    "choice_str: \"c\" maybe: 0";

TEST_F(ValidateTest, AcceptsWhatTheWriterMakes) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  EXPECT_TRUE(Check(m, Flat(m, kSample)).ok());
  EXPECT_TRUE(Check(m, Flat(m, "")).ok());
}

TEST_F(ValidateTest, RejectsEveryTruncation) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  const std::vector<std::byte> full = Flat(m, kSample);
  for (std::size_t n = 0; n < full.size(); ++n) {
    const std::vector<std::byte> cut(full.begin(), full.begin() + n);
    const absl::Status s = Check(m, cut);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "prefix of " << n << " bytes: " << s;
  }
  EXPECT_EQ(Check(m, {}).message(),
            "ringcast_test.AllTypes: buffer of 0 bytes is shorter than the 312-byte head of the "
            "message");
}

TEST_F(ValidateTest, RejectsAReferencePastTheEnd) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  std::vector<std::byte> b = Flat(m, kSample);
  const std::uint32_t at = Offset(m, "str");
  Poke<std::uint32_t>(b, at + 4, 1000000);
  EXPECT_EQ(Check(m, b).message(),
            absl::StrCat("ringcast_test.AllTypes.str: 1000000 elements of 1 bytes at offset ",
                         Peek<std::uint32_t>(b, at), " end at ",
                         Peek<std::uint32_t>(b, at) + 1000000, ", past the buffer end ",
                         b.size()));
}

TEST_F(ValidateTest, RejectsALengthThatOverflows) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  std::vector<std::byte> b = Flat(m, kSample);
  const std::uint32_t at = Offset(m, "ri64");
  Poke<std::uint32_t>(b, at + 4, 0xFFFFFFFFu);  // 32 GiB of int64 in 32 bits would wrap
  EXPECT_THAT(Check(m, b).message(),
              HasSubstr("ringcast_test.AllTypes.ri64: 4294967295 elements of 8 bytes"));
  Poke<std::uint32_t>(b, at, 0xFFFFFFF8u);
  Poke<std::uint32_t>(b, at + 4, 2);  // offset + length wraps 32 bits
  EXPECT_THAT(Check(m, b).message(), HasSubstr("past the buffer end"));
}

TEST_F(ValidateTest, RejectsMisalignedReferences) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  std::vector<std::byte> b = Flat(m, kSample);
  const std::uint32_t at = Offset(m, "ri64");
  Poke<std::uint32_t>(b, at, Peek<std::uint32_t>(b, at) + 1);
  EXPECT_THAT(Check(m, b).message(),
              HasSubstr("is not a multiple of 8, the alignment of its elements"));
}

TEST_F(ValidateTest, RejectsMisalignedBuffer) {
  const MessageLayout& m = Layout("ringcast_test.Point");
  std::vector<std::byte> b(m.size() + 1);
  EXPECT_EQ(Validate(m.table(), absl::MakeConstSpan(b).subspan(1)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ValidateTest, RejectsOverlappingReferences) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  std::vector<std::byte> b = Flat(m, kSample);
  // The second string of rstr points at the first's bytes.
  const Ref array = Peek<Ref>(b, Offset(m, "rstr"));
  const Ref first = Peek<Ref>(b, array.offset);
  Poke(b, array.offset + sizeof(Ref), Ref{first.offset, 1});
  EXPECT_THAT(Check(m, b).message(),
              HasSubstr("ringcast_test.AllTypes.rstr: bytes ["));
  EXPECT_THAT(Check(m, b).message(), HasSubstr("every referenced range must be disjoint"));
  // A string pointing into the head.
  b = Flat(m, kSample);
  Poke(b, Offset(m, "str"), Ref{0, 4});
  EXPECT_THAT(Check(m, b).message(), HasSubstr("ringcast_test.AllTypes (root head)"));
}

TEST_F(ValidateTest, RejectsEmptyReferenceWithOffset) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  std::vector<std::byte> b = Flat(m, "");
  Poke(b, Offset(m, "str"), Ref{8, 0});
  EXPECT_EQ(Check(m, b).message(),
            "ringcast_test.AllTypes.str: empty reference has offset 8; expected offset 0");
}

TEST_F(ValidateTest, RejectsBadBoolsPresenceAndOneofCase) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  std::vector<std::byte> b = Flat(m, kSample);
  Poke<std::uint8_t>(b, Offset(m, "b"), 2);
  EXPECT_EQ(Check(m, b).message(),
            "ringcast_test.AllTypes.b: bool byte at offset 308 is 2; expected 0 or 1");

  b = Flat(m, kSample);
  const Ref rb = Peek<Ref>(b, Offset(m, "rb"));
  Poke<std::uint8_t>(b, rb.offset + 1, 7);
  EXPECT_THAT(Check(m, b).message(), HasSubstr("ringcast_test.AllTypes.rb: bool byte"));

  b = Flat(m, kSample);
  const FieldLayout* point = m.FindFieldByNumber(17);
  Poke<std::uint8_t>(b, point->presence, 9);
  EXPECT_EQ(Check(m, b).message(),
            "ringcast_test.AllTypes.point: presence byte at offset 309 is 9; expected 0 or 1");

  b = Flat(m, kSample);
  Poke<std::uint32_t>(b, m.oneofs()[0].offset, 17);  // a field, not a member
  EXPECT_EQ(Check(m, b).message(),
            "ringcast_test.AllTypes: oneof #0 at offset 300 says field 17 is set, which is not "
            "a member of it");
}

TEST_F(ValidateTest, RejectsAReferenceCycle) {
  const MessageLayout& m = Layout("ringcast_test.Tree");
  std::vector<std::byte> b = Flat(m, "name: \"root\" children { name: \"a\" }");
  // The child's children point back at the array holding the child.
  const Ref children = Peek<Ref>(b, Offset(m, "children"));
  Poke(b, children.offset + Offset(m, "children"), children);
  const absl::Status s = Check(m, b);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("overlap"));
}

TEST_F(ValidateTest, RejectsNestingDeeperThanTheLimit) {
  const MessageLayout& m = Layout("ringcast_test.Tree");
  std::string text;
  for (int i = 0; i <= kMaxDepth; ++i) text += "children { ";
  for (int i = 0; i <= kMaxDepth; ++i) text += "} ";
  const absl::Status s = Check(m, Flat(m, text));
  EXPECT_THAT(s.message(), HasSubstr("levels deep"));
  std::string ok;
  for (int i = 0; i < kMaxDepth; ++i) ok += "children { ";
  for (int i = 0; i < kMaxDepth; ++i) ok += "} ";
  EXPECT_TRUE(Check(m, Flat(m, ok)).ok());
}

// Random byte corruption of valid buffers: Validate never reads out of
// bounds (ASan), and whatever it accepts reads and prints without error.
TEST_F(ValidateTest, RandomCorruptionIsRejectedOrReadsSafely) {
  const MessageLayout& m = Layout("ringcast_test.AllTypes");
  std::mt19937_64 rng(7);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    auto msg = files_.New(m.descriptor());
    testing::RandomFill(msg.get(), rng, 2, 3);
    std::vector<std::byte> b = *WriteFlat(m, *msg);
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      b[rng() % b.size()] = static_cast<std::byte>(rng());
    }
    if (rng() % 8 == 0) b.resize(rng() % (b.size() + 1));
    std::vector<std::byte> exact(b);  // exactly sized: ASan sees any overread
    if (!Validate(m.table(), exact).ok()) continue;
    ++accepted;
    auto out = files_.New(m.descriptor());
    ASSERT_TRUE(ReadFlat(m, exact, out.get()).ok());
    ASSERT_TRUE(FlatToText(m, exact).ok());
  }
  EXPECT_GT(accepted, 0);  // some flips land on values, not references
}

// The fast path for flat messages of scalars, strings and bytes accepts
// exactly what the full check accepts, whatever the bytes.
TEST_F(ValidateTest, FastPathAgreesWithTheFullCheck) {
  const MessageLayout& m = Layout("ringcast_test.Record");
  std::mt19937_64 rng(11);
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    auto msg = files_.New(m.descriptor());
    testing::RandomFill(msg.get(), rng, 1, 3);
    std::vector<std::byte> b = *WriteFlat(m, *msg);
    const int flips = static_cast<int>(rng() % 3);
    for (int k = 0; k < flips && !b.empty(); ++k) {
      b[rng() % b.size()] = static_cast<std::byte>(rng() % 4 == 0 ? rng() : rng() % 48);
    }
    if (rng() % 8 == 0) b.resize(rng() % (b.size() + 1));
    std::vector<std::byte> exact(b);
    const absl::Status fast = Validate(m.table(), exact);
    const absl::Status full = internal::ValidateFully(m.table(), exact);
    ASSERT_EQ(fast, full) << "case " << i;
    (fast.ok() ? accepted : rejected)++;
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace ringcast::idl
