#include "tests/idl/idl_test_util.h"

#include <limits>

namespace ringcast::idl::testing {
namespace {

using google::protobuf::FieldDescriptor;

std::string RandomString(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> len(0, 40);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(static_cast<std::size_t>(len(rng)), '\0');
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

std::string RandomUtf8(std::mt19937_64& rng) {  // proto3 strings must be UTF-8
  std::uniform_int_distribution<int> len(0, 40);
  std::uniform_int_distribution<int> ch(0x20, 0x7e);
  std::string s(static_cast<std::size_t>(len(rng)), '\0');
  for (char& c : s) c = static_cast<char>(ch(rng));
  if (!s.empty() && rng() % 4 == 0) s += "\xc3\xa9";  // é
  return s;
}

template <typename T>
T RandomInt(std::mt19937_64& rng) {
  // Mostly small numbers, sometimes the extremes.
  switch (rng() % 4) {
    case 0: return std::numeric_limits<T>::min();
    case 1: return std::numeric_limits<T>::max();
    default: return static_cast<T>(rng());
  }
}

}  // namespace

void RandomFill(google::protobuf::Message* m, std::mt19937_64& rng, int depth, int max_repeated) {
  const google::protobuf::Descriptor* d = m->GetDescriptor();
  const google::protobuf::Reflection* r = m->GetReflection();
  std::uniform_real_distribution<double> real(-1e9, 1e9);
  std::uniform_int_distribution<int> count(0, max_repeated);
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (rng() % 2 == 0) continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && depth <= 0) continue;
    const int n = f->is_repeated() ? count(rng) : 1;
    for (int k = 0; k < n; ++k) {
      const bool rep = f->is_repeated();
      switch (f->cpp_type()) {
#define RC_CASE(CPP, T, SET, ADD, VALUE)     \
  case FieldDescriptor::CPP: {               \
    const T v = VALUE;                       \
    if (rep) r->ADD(m, f, v); else r->SET(m, f, v); \
    break;                                   \
  }
        RC_CASE(CPPTYPE_BOOL, bool, SetBool, AddBool, rng() % 2 == 0)
        RC_CASE(CPPTYPE_INT32, std::int32_t, SetInt32, AddInt32, RandomInt<std::int32_t>(rng))
        RC_CASE(CPPTYPE_UINT32, std::uint32_t, SetUInt32, AddUInt32, RandomInt<std::uint32_t>(rng))
        RC_CASE(CPPTYPE_INT64, std::int64_t, SetInt64, AddInt64, RandomInt<std::int64_t>(rng))
        RC_CASE(CPPTYPE_UINT64, std::uint64_t, SetUInt64, AddUInt64, RandomInt<std::uint64_t>(rng))
        RC_CASE(CPPTYPE_FLOAT, float, SetFloat, AddFloat, static_cast<float>(real(rng)))
        RC_CASE(CPPTYPE_DOUBLE, double, SetDouble, AddDouble, real(rng))
        RC_CASE(CPPTYPE_ENUM, int, SetEnumValue, AddEnumValue,
                static_cast<int>(rng() % 4))  // 3 is unknown: open enums keep it
        RC_CASE(CPPTYPE_STRING, std::string, SetString, AddString,
                f->type() == FieldDescriptor::TYPE_BYTES ? RandomString(rng) : RandomUtf8(rng))
#undef RC_CASE
        case FieldDescriptor::CPPTYPE_MESSAGE:
          RandomFill(rep ? r->AddMessage(m, f) : r->MutableMessage(m, f), rng, depth - 1,
                     max_repeated);
          break;
      }
    }
  }
}

}  // namespace ringcast::idl::testing
