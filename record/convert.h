// record/convert.h: one message type's conversion between ringcast's flat
// samples and protobuf wire format, for recording (flat -> wire, so that
// any protobuf reader decodes the file) and playback (wire -> flat). The
// type is known only by its FileDescriptorSet: the one the registry stores,
// or the one a recording's schema carries. Both directions go through a
// dynamic message kept between calls, so a steady stream allocates nothing.
//
//   auto c = WireConverter::Create(descriptor_set, "ringcast.msgs.Imu");
//   std::string wire;
//   (*c)->ToWire(sample.data(), &wire);          // record
//   (*c)->ParseWire(wire);                       // play:
//   RawLoan loan = *pub.Loan(*(*c)->FlatSize());
//   pub.Publish(std::move(loan), *(*c)->WriteFlat(loan.data()));
#ifndef RINGCAST_RECORD_CONVERT_H_
#define RINGCAST_RECORD_CONVERT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/message.h"
#include "idl/dynamic.h"
#include "ringcast/type_support.h"

namespace ringcast::record {

class WireConverter {
 public:
  // InvalidArgument if the set does not parse, does not define `type_name`,
  // or the type has no flat layout (the message says which).
  static absl::StatusOr<std::unique_ptr<WireConverter>> Create(std::string_view descriptor_set,
                                                               std::string_view type_name);

  const std::string& type_name() const { return type_name_; }
  // The flat layout's hash: what publishers of the type register.
  std::uint64_t type_hash() const { return type_->layout().type_hash(); }
  const std::string& descriptor_set() const { return descriptor_set_; }
  // What an endpoint of the type needs; views this converter's strings.
  TypeSupport support() const;

  // The flat sample `flat` in protobuf wire format, into `*out` (replaced).
  // DataLoss naming the type if `flat` is not a valid message of it.
  absl::Status ToWire(absl::Span<const std::byte> flat, std::string* out);

  // Parses `wire` (protobuf wire format of the type) as the next message to
  // write flat; InvalidArgument naming the type if it does not parse.
  absl::Status ParseWire(absl::string_view wire);
  // The flat size of the parsed message, and writing it into `buffer`
  // (8-aligned, at least FlatSize() bytes); returns the bytes used.
  absl::StatusOr<std::size_t> FlatSize() const;
  absl::StatusOr<std::size_t> WriteFlat(absl::Span<std::byte> buffer) const;

 private:
  WireConverter() = default;
  std::string type_name_;
  std::string descriptor_set_;
  std::unique_ptr<idl::DynamicType> type_;
  std::unique_ptr<google::protobuf::Message> message_;  // reused by every call
};

}  // namespace ringcast::record

#endif  // RINGCAST_RECORD_CONVERT_H_
