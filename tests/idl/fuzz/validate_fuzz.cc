// libFuzzer target: arbitrary bytes as flat buffers of the test schema.
// Validate must never read out of bounds; what it accepts must convert
// (generated and dynamic) and print; and views over bytes Validate never
// saw (a peer rewriting a buffer after validation) must stay in bounds too.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "idl/dynamic.h"
#include "idl/layout.h"
#include "idl/validate.h"
#include "ringcast_test/all_types.ringcast.h"

namespace {

namespace flat = ::ringcast_test::flat;

template <typename T>
void Use(const T& v) {
  volatile auto sink = v;
  (void)sink;
}

// Reads every field of an AllTypes view one level deep (no recursion
// through repeated elements: an unvalidated buffer may hold cycles).
void Touch(const flat::AllTypesView& v) {
  Use(v.b()); Use(v.i32()); Use(v.u64()); Use(v.db()); Use(v.color());
  Use(v.str().size()); Use(v.data().size());
  Use(v.point().x()); Use(v.inner().label().size()); Use(v.inner().where().z());
  for (std::int32_t x : v.inner().values()) Use(x);
  for (bool x : v.rb()) Use(x);
  for (double x : v.rdb()) Use(x);
  for (std::int64_t x : v.ri64()) Use(x);
  for (std::string_view s : v.rstr()) Use(s.size());
  for (auto s : v.rdata()) Use(s.size());
  for (const flat::PointView p : v.rpoint()) Use(p.y());
  for (const flat::InnerView i : v.rinner()) {
    Use(i.label().size());
    for (std::int32_t x : i.values()) Use(x);
  }
  Use(v.choice_case()); Use(v.choice_str().size()); Use(v.maybe());
}

const ringcast::idl::MessageLayout& Layout(const google::protobuf::Descriptor* d) {
  static auto* pool = new ringcast::idl::LayoutPool;
  return **pool->Get(d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exactly sized, 8-aligned heap copy: ASan flags any byte read past it.
  std::vector<std::byte> buf(size);
  if (size != 0) std::memcpy(buf.data(), data, size);
  const absl::Span<const std::byte> bytes(buf.data(), size);

  if (ringcast::idl::Validate(flat::AllTypes::Table(), bytes).ok()) {
    absl::StatusOr<flat::AllTypesView> v = flat::AllTypesView::Create(bytes);
    if (!v.ok()) __builtin_trap();  // Validate said yes
    Touch(*v);
    ringcast_test::AllTypes proto;
    v->ToProto(&proto);
    // Back to flat and out again: the same message.
    absl::StatusOr<std::vector<std::byte>> again = flat::AllTypes::FromProto(proto);
    if (!again.ok()) __builtin_trap();
    ringcast_test::AllTypes proto2;
    if (!flat::AllTypes::ToProto(*again, &proto2).ok()) __builtin_trap();
    if (proto.SerializeAsString() != proto2.SerializeAsString()) __builtin_trap();
    if (!ringcast::idl::FlatToText(Layout(ringcast_test::AllTypes::descriptor()), bytes).ok()) {
      __builtin_trap();
    }
  } else if (size >= flat::AllTypes::kHeadSize) {
    // Not valid: the accessors still never leave the buffer.
    Touch(flat::AllTypesView(ringcast::idl::internal::Reader(
        buf.data(), static_cast<std::uint32_t>(size), 0)));
  }

  if (ringcast::idl::Validate(flat::Tree::Table(), bytes).ok()) {
    ringcast_test::Tree tree;
    if (!flat::Tree::ToProto(bytes, &tree).ok()) __builtin_trap();
    ringcast_test::Tree dyn;
    if (!ringcast::idl::ReadFlat(Layout(ringcast_test::Tree::descriptor()), bytes, &dyn).ok()) {
      __builtin_trap();
    }
  }
  return 0;
}
