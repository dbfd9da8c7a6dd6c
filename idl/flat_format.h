// idl/flat_format.h: the bytes of a flat message buffer (layout version 1),
// and the tables that describe one message type to the validator, the views
// and the builders. The layout engine (layout.h) is the only producer of
// layouts; generated code carries the same tables as constants.
//
// A buffer holds one root message; it starts 8-aligned and is at most
// 4 GiB - 1 bytes. Nothing in it is a pointer.
//
//   [0, head)          the root message's head: fixed-size fields
//   [head, size)       the tail: the arrays that references point at
//
// Head of a message (size a multiple of 8; every message aligned to 8).
// Fields are placed in three groups, each in declaration order:
//   8-byte group  int64, uint64, double (8 bytes), references (8 bytes),
//                 singular nested messages (their head, inline)
//   4-byte group  int32, uint32, float, enum (int32), then one uint32
//                 "case" word per oneof (field number of the member set,
//                 0 = none; proto3 `optional` is a oneof of one member)
//   1-byte group  bool (0 or 1), then one presence byte (0 or 1) per
//                 singular nested message field, in declaration order
// The size is then rounded up to 8. sint/fixed variants store the value
// like int32/int64: the flat bytes do not depend on the wire encoding.
//
// Reference (string, bytes, every repeated field):
//   off size field   meaning
//   0   4    offset  from the start of the ROOT buffer (not of the message
//                    holding it), so nested heads can be copied unchanged;
//                    0 when count is 0
//   4   4    count   bytes of a string/bytes, elements of a repeated field
// A reference points at `count` elements of the element type:
//   repeated scalar   the scalar (bool: 1 byte, 0 or 1), naturally aligned
//   repeated string   a Reference per element (aligned 4), each pointing at
//                     that element's bytes
//   repeated message  the element heads, back to back, aligned 8
// Validate() (validate.h) accepts a buffer only if every reference it can
// reach lies inside the buffer, is aligned for its element type, and no two
// referenced ranges (nor a range and the root head) overlap. Scalars are in
// host byte order (little-endian, x86-64 and aarch64): buffers never leave
// the host.
//
// Any change of placement, width or meaning bumps kLayoutVersion, which is
// part of every type hash (layout.h), so mixed versions never agree.
#ifndef RINGCAST_IDL_FLAT_FORMAT_H_
#define RINGCAST_IDL_FLAT_FORMAT_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ringcast::idl {

inline constexpr std::uint32_t kLayoutVersion = 1;
// Buffers, message heads and message arrays start at multiples of this.
inline constexpr std::uint32_t kMessageAlign = 8;
// Nesting deeper than this (possible only through repeated fields of a
// recursive type) is refused by Validate, so a hostile buffer cannot
// exhaust the stack.
inline constexpr int kMaxDepth = 64;

static_assert(std::endian::native == std::endian::little,
              "flat buffers are little-endian host memory");

struct Ref {
  std::uint32_t offset;
  std::uint32_t count;
};
static_assert(sizeof(Ref) == 8 && alignof(Ref) == 4);
static_assert(std::is_trivially_copyable_v<Ref>);

// What a field holds; the values are part of no ABI (the description string
// of layout.h names kinds by text).
enum class Kind : std::uint8_t {
  kBool = 1,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kFloat,
  kDouble,
  kEnum,
  kString,
  kBytes,
  kMessage,
};

// Not a field offset: a field without a presence byte.
inline constexpr std::uint32_t kNoPresence = 0xFFFFFFFFu;

struct MessageTable;

// One field as the validator, views and builders need it.
struct FieldTable {
  const char* name;              // the field's name, for error messages
  std::uint32_t number;          // the field number
  Kind kind;
  bool repeated;
  std::uint16_t oneof;           // 1 + oneof index; 0 = not in a oneof
  std::uint32_t offset;          // in the head: the value or the Ref
  std::uint32_t presence;        // presence byte in the head, or kNoPresence
  const MessageTable* message;   // kMessage only
};

struct MessageTable {
  const char* full_name;                // e.g. "ringcast.msgs.Image"
  std::uint32_t size;                   // head bytes, a multiple of 8
  std::uint32_t field_count;
  const FieldTable* fields;
  std::uint32_t oneof_count;
  const std::uint32_t* oneof_offsets;   // the case word of each oneof
};

// Bytes one element of `kind` takes in the tail of a repeated field (for
// kMessage: the element head, from the table).
constexpr std::uint32_t ScalarSize(Kind kind) {
  switch (kind) {
    case Kind::kBool:
      return 1;
    case Kind::kInt32:
    case Kind::kUInt32:
    case Kind::kFloat:
    case Kind::kEnum:
      return 4;
    case Kind::kInt64:
    case Kind::kUInt64:
    case Kind::kDouble:
      return 8;
    case Kind::kString:
    case Kind::kBytes:
      return sizeof(Ref);
    case Kind::kMessage:
      return 0;
  }
  return 0;
}

constexpr std::uint32_t ElementSize(const FieldTable& f) {
  return f.kind == Kind::kMessage ? f.message->size : ScalarSize(f.kind);
}
constexpr std::uint32_t ElementAlign(const FieldTable& f) {
  return f.kind == Kind::kMessage ? kMessageAlign
         : (f.kind == Kind::kString || f.kind == Kind::kBytes) ? alignof(Ref)
                                                               : ScalarSize(f.kind);
}

}  // namespace ringcast::idl

#endif  // RINGCAST_IDL_FLAT_FORMAT_H_
