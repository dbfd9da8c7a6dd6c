// libFuzzer target: arbitrary bytes as a serialized FileDescriptorSet, as a
// registry entry written by a buggy or hostile process would hand it to
// the CLI. DynamicType must build a layout or return an error, and a type
// it accepts must write, validate and read back an empty message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.pb.h"
#include "idl/dynamic.h"
#include "idl/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromArray(data, static_cast<int>(size))) return 0;
  int tried = 0;
  for (const google::protobuf::FileDescriptorProto& file : set.file()) {
    for (const google::protobuf::DescriptorProto& message : file.message_type()) {
      if (++tried > 8) return 0;
      const std::string name =
          file.package().empty() ? message.name() : file.package() + "." + message.name();
      absl::StatusOr<std::unique_ptr<ringcast::idl::DynamicType>> type =
          ringcast::idl::DynamicType::FromDescriptorSet(bytes, name);
      if (!type.ok()) continue;
      std::unique_ptr<google::protobuf::Message> empty = (*type)->New();
      absl::StatusOr<std::vector<std::byte>> flat = (*type)->Write(*empty);
      if (!flat.ok()) __builtin_trap();
      if (!ringcast::idl::Validate((*type)->layout().table(), *flat).ok()) __builtin_trap();
      if (!(*type)->Read(*flat).ok()) __builtin_trap();
      if (!(*type)->ToText(*flat).ok()) __builtin_trap();
    }
  }
  return 0;
}
