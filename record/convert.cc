// record/convert.cc: flat <-> protobuf wire through a reused dynamic message.
#include "record/convert.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace ringcast::record {

absl::StatusOr<std::unique_ptr<WireConverter>> WireConverter::Create(
    std::string_view descriptor_set, std::string_view type_name) {
  absl::StatusOr<std::unique_ptr<idl::DynamicType>> type = idl::DynamicType::FromDescriptorSet(
      absl::string_view(descriptor_set.data(), descriptor_set.size()),
      absl::string_view(type_name.data(), type_name.size()));
  if (!type.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("type ", absl::string_view(type_name.data(), type_name.size()), ": ", type.status().message()));
  }
  std::unique_ptr<WireConverter> c(new WireConverter);
  c->type_name_ = std::string(type_name);
  c->descriptor_set_ = std::string(descriptor_set);
  c->type_ = *std::move(type);
  c->message_ = c->type_->New();
  return c;
}

TypeSupport WireConverter::support() const {
  TypeSupport s;
  s.type_name = type_name_;
  s.type_hash = type_hash();
  s.descriptor_set = descriptor_set_;
  s.head_size = type_->layout().size();
  s.fixed_size = !TypeSupport::HasTail(type_->layout().table());
  return s;
}

absl::Status WireConverter::ToWire(absl::Span<const std::byte> flat, std::string* out) {
  if (absl::Status s = idl::ReadFlat(type_->layout(), flat, message_.get()); !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("a sample of ", type_name_, " is not a valid message: ", s.message()));
  }
  out->clear();
  if (!message_->AppendToString(out)) {
    return absl::InternalError(absl::StrCat("a message of ", type_name_, " did not serialize"));
  }
  return absl::OkStatus();
}

absl::Status WireConverter::ParseWire(absl::string_view wire) {
  message_->Clear();
  if (!message_->ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a message of ", wire.size(), " bytes does not parse as ", type_name_));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::size_t> WireConverter::FlatSize() const {
  return idl::FlatSize(type_->layout(), *message_);
}

absl::StatusOr<std::size_t> WireConverter::WriteFlat(absl::Span<std::byte> buffer) const {
  return idl::WriteFlat(type_->layout(), *message_, buffer);
}

}  // namespace ringcast::record
