// core/ringcast/type_support.h: what ringcast needs to know about a message
// type to carry it: its name, its layout hash, the descriptor that lets any
// process (the CLI above all) decode it, and its flat size. The typed API
// derives it from a generated type (TypeSupport::Of<T>()); untyped users
// (the CLI, recording, playback) build it from a stored descriptor.
#ifndef RINGCAST_CORE_RINGCAST_TYPE_SUPPORT_H_
#define RINGCAST_CORE_RINGCAST_TYPE_SUPPORT_H_

#include <cstdint>
#include <string_view>

#include "idl/flat_format.h"

namespace ringcast {

struct TypeSupport {
  // Full protobuf name, e.g. "ringcast.msgs.Image".
  std::string_view type_name;
  // FNV-1a 64 of the flat layout (idl/layout.h): equal hashes, equal bytes.
  std::uint64_t type_hash = 0;
  // Serialized google.protobuf.FileDescriptorSet of the type's file and its
  // imports; stored in the registry once per type. May be empty.
  std::string_view descriptor_set;
  // Bytes of the fixed part of every message (scalars, nested messages,
  // references); at least 8.
  std::uint32_t head_size = 8;
  // True if the type has no string, bytes or repeated field anywhere: every
  // message is exactly head_size bytes.
  bool fixed_size = false;

  // The support of generated flat type `T` (pkg::flat::M).
  template <typename T>
  static TypeSupport Of() {
    TypeSupport t;
    t.type_name = T::kTypeName;
    t.type_hash = T::kTypeHash;
    t.descriptor_set = T::DescriptorSet();
    t.head_size = T::kHeadSize;
    t.fixed_size = !HasTail(T::Table());
    return t;
  }

  // True if messages of `table` can carry bytes past their head.
  static bool HasTail(const idl::MessageTable& table);
};

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_TYPE_SUPPORT_H_
