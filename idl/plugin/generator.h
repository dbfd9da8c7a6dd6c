// idl/plugin/generator.h: protoc-gen-ringcast. For a.proto it writes
// a.ringcast.h and a.ringcast.cc beside protoc's a.pb.{h,cc}:
//
//   namespace <package>::flat {
//     struct M;          // traits: View, Builder, Proto, kTypeName, kTypeHash,
//                        // kHeadSize, DescriptorSet(), FromProto, ToProto
//     class MView;       // read view over a validated buffer
//     class MBuilder;    // writes in place into a caller's buffer
//   }
//   namespace <package>::topics {
//     inline constexpr ringcast::idl::Topic<flat::M> kCameraImage{...};
//   }
//
// Layouts come from the layout engine (idl/layout.h) and nowhere else.
#ifndef RINGCAST_IDL_PLUGIN_GENERATOR_H_
#define RINGCAST_IDL_PLUGIN_GENERATOR_H_

#include <string>

#include "google/protobuf/compiler/code_generator.h"
#include "google/protobuf/descriptor.h"
#include "idl/layout.h"

namespace ringcast::idl::plugin {

class Generator : public google::protobuf::compiler::CodeGenerator {
 public:
  bool Generate(const google::protobuf::FileDescriptor* file, const std::string& parameter,
                google::protobuf::compiler::GeneratorContext* context,
                std::string* error) const override;
  std::uint64_t GetSupportedFeatures() const override { return FEATURE_PROTO3_OPTIONAL; }
};

// The pieces emit_message.cc shares with generator.cc.
namespace internal {

// "::a::b" for package "a.b" ("" for no package).
std::string CppNamespace(const google::protobuf::FileDescriptor* file);
// The name of a message or enum relative to its package, '.' -> '_' (as
// protoc's C++ generator names classes).
std::string FlatName(const std::string& full_name, const std::string& package);
// "::pkg::Outer_Inner": protoc's class for a message or enum.
std::string ProtoClass(const google::protobuf::Descriptor* d);
std::string ProtoEnum(const google::protobuf::EnumDescriptor* e);
// "::pkg::flat::Outer_Inner" + suffix ("View", "Builder", "" for traits).
std::string FlatClass(const google::protobuf::Descriptor* d, const std::string& suffix);
// "::pkg::flat::internal::kOuter_InnerTable".
std::string TableName(const google::protobuf::Descriptor* d);
// protoc's UnderscoresToCamelCase(name, cap_first = true).
std::string CamelCase(const std::string& name);

// Appends the class definitions (header), inline definitions (header) and
// out-of-line definitions and tables (.cc) of `m`.
void EmitMessage(const MessageLayout& m, std::string* classes, std::string* inlines,
                 std::string* source);

}  // namespace internal
}  // namespace ringcast::idl::plugin

#endif  // RINGCAST_IDL_PLUGIN_GENERATOR_H_
