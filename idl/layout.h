// idl/layout.h: the layout engine, the one source of truth that turns a
// protobuf message descriptor into a flat layout (flat_format.h). The
// protoc plugin and the runtime (dynamic reader/writer, CLI) both use it.
//
// Type hash: FNV-1a 64 (offset basis 0xcbf29ce484222325, prime
// 0x100000001b3) over the bytes of description(), a canonical text:
//
//   ringcast layout 1\n
//   message <full name> size <head bytes>\n          root first, then each
//    field <number> <name> <kind>[ repeated] offset <o>[ presence <p>]
//          [ oneof <name>][ type <message or enum full name>]\n
//    oneof <name> offset <o>\n
//   message <next type reached, depth-first in field order, each once> ...
//
// <kind> is one of bool int32 uint32 int64 uint64 float double enum string
// bytes message. Only integers in decimal, names and fixed words go in, so
// the hash is the same on every run, compiler and machine; it changes when
// the layout version, a type name, a field's name, number, kind, cardinality
// or placement changes, or any of that in a type it reaches.
#ifndef RINGCAST_IDL_LAYOUT_H_
#define RINGCAST_IDL_LAYOUT_H_

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "idl/flat_format.h"

namespace ringcast::idl {

class MessageLayout;

struct FieldLayout {
  const google::protobuf::FieldDescriptor* descriptor;
  Kind kind;
  bool repeated;
  std::uint32_t offset;    // in the head: the value, the Ref or the nested head
  std::uint32_t size;      // bytes in the head
  std::uint32_t presence;  // presence byte (singular messages), or kNoPresence
  int oneof;               // index into MessageLayout::oneofs(), or -1
  const MessageLayout* message;  // kMessage only
};

struct OneofLayout {
  const google::protobuf::OneofDescriptor* descriptor;
  std::uint32_t offset;  // the uint32 case word
};

class MessageLayout {
 public:
  const google::protobuf::Descriptor* descriptor() const { return descriptor_; }
  const std::string& full_name() const { return descriptor_->full_name(); }
  // Head bytes: a multiple of 8, at least 8.
  std::uint32_t size() const { return size_; }
  // In declaration order.
  const std::vector<FieldLayout>& fields() const { return fields_; }
  const std::vector<OneofLayout>& oneofs() const { return oneofs_; }
  const FieldLayout* FindFieldByNumber(int number) const;
  // The canonical description hashed into type_hash() (see the top).
  const std::string& description() const { return description_; }
  std::uint64_t type_hash() const { return type_hash_; }
  // The same layout as the table Validate(), views and builders read;
  // fields in declaration order.
  const MessageTable& table() const { return table_; }

 private:
  friend class LayoutPool;
  const google::protobuf::Descriptor* descriptor_ = nullptr;
  std::uint32_t size_ = 0;
  std::vector<FieldLayout> fields_;
  std::vector<OneofLayout> oneofs_;
  std::string description_;
  std::uint64_t type_hash_ = 0;
  std::vector<FieldTable> field_tables_;
  std::vector<std::uint32_t> oneof_offsets_;
  MessageTable table_{};
  int inline_depth_ = 1;  // 1 + the deepest chain of inline nested messages
  bool done_ = false;
};

// Messages nested inline (singular message fields) at most this deep, so
// that every buffer of a valid schema stays within Validate's kMaxDepth.
inline constexpr int kMaxInlineDepth = kMaxDepth / 2;

// Builds and owns layouts; returned pointers live as long as the pool.
// Not thread-safe.
class LayoutPool {
 public:
  // The layout of `type` and of every type it reaches. An unsupported
  // feature is InvalidArgument "<file>:<line>:<column>: <field full name>:
  // <what is wrong>; <what to do>" (without line and column when the
  // descriptor carries no source info).
  absl::StatusOr<const MessageLayout*> Get(const google::protobuf::Descriptor* type);

 private:
  // `depth`: messages this one is inline in, while placing them.
  absl::StatusOr<MessageLayout*> Place(const google::protobuf::Descriptor* type,
                                       std::vector<const google::protobuf::Descriptor*>* later,
                                       int depth);
  absl::flat_hash_map<const google::protobuf::Descriptor*, std::unique_ptr<MessageLayout>>
      layouts_;
};

// "<file>:<line>:<column>" of a descriptor with source info, else "<file>".
std::string Where(const google::protobuf::FieldDescriptor* field);
std::string Where(const google::protobuf::Descriptor* message);

}  // namespace ringcast::idl

#endif  // RINGCAST_IDL_LAYOUT_H_
