// idl/dynamic.h: flat buffers of any type known only by its descriptor, for
// the CLI and recording: flat <-> google::protobuf::Message through the
// layout engine, and printers to protobuf text format and JSON.
#ifndef RINGCAST_IDL_DYNAMIC_H_
#define RINGCAST_IDL_DYNAMIC_H_

#include <cstddef>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor_database.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "idl/layout.h"

namespace ringcast::idl {

// Validates `buffer` as `layout` and copies it into `out` (any message of
// layout.descriptor(): generated or dynamic); `out` is cleared first.
absl::Status ReadFlat(const MessageLayout& layout, absl::Span<const std::byte> buffer,
                      google::protobuf::Message* out);

// The exact bytes WriteFlat() takes for `msg`.
absl::StatusOr<std::size_t> FlatSize(const MessageLayout& layout,
                                     const google::protobuf::Message& msg);
// Writes `msg` into `buffer` (8-aligned); returns the bytes used.
// ResourceExhausted if it does not fit, naming the field and the sizes.
absl::StatusOr<std::size_t> WriteFlat(const MessageLayout& layout,
                                      const google::protobuf::Message& msg,
                                      absl::Span<std::byte> buffer);
// Writes `msg` into a new buffer of exactly FlatSize() bytes.
absl::StatusOr<std::vector<std::byte>> WriteFlat(const MessageLayout& layout,
                                                 const google::protobuf::Message& msg);

// `buffer` printed in protobuf text format / as JSON (proto3 JSON mapping,
// field names as in the .proto).
absl::StatusOr<std::string> FlatToText(const MessageLayout& layout,
                                       absl::Span<const std::byte> buffer);
absl::StatusOr<std::string> FlatToJson(const MessageLayout& layout,
                                       absl::Span<const std::byte> buffer);

// A message type known from a serialized FileDescriptorSet (as the registry
// stores it): owns the descriptors, the layout and a message factory.
class DynamicType {
 public:
  // InvalidArgument if `file_descriptor_set` does not parse or does not
  // define `full_name` (the message names the types it does define), or
  // if the type has no flat layout.
  static absl::StatusOr<std::unique_ptr<DynamicType>> FromDescriptorSet(
      absl::string_view file_descriptor_set, absl::string_view full_name);

  const MessageLayout& layout() const { return *layout_; }
  const google::protobuf::Descriptor* descriptor() const { return layout_->descriptor(); }
  // An empty message of this type.
  std::unique_ptr<google::protobuf::Message> New() const;

  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Read(
      absl::Span<const std::byte> buffer) const;
  absl::StatusOr<std::vector<std::byte>> Write(const google::protobuf::Message& msg) const;
  // Text format in, flat buffer out (what `ringcast topic pub` needs);
  // InvalidArgument with the parser's line and column on bad text.
  absl::StatusOr<std::vector<std::byte>> FromText(absl::string_view text) const;
  absl::StatusOr<std::string> ToText(absl::Span<const std::byte> buffer) const;
  absl::StatusOr<std::string> ToJson(absl::Span<const std::byte> buffer) const;

 private:
  DynamicType() = default;
  google::protobuf::SimpleDescriptorDatabase database_;
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
  LayoutPool layouts_;
  const MessageLayout* layout_ = nullptr;
};

}  // namespace ringcast::idl

#endif  // RINGCAST_IDL_DYNAMIC_H_
