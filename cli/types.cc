// cli/types.cc: message types from their stored FileDescriptorSets: the
// flat head size (idl's layout engine, through idl::DynamicType) and the
// .proto source (a DescriptorPool built from the set), rendered.
#include "cli/types.h"

#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/verbs.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/descriptor_database.h"
#include "idl/dynamic.h"
#include "nlohmann/json.hpp"

namespace ringcast::cli {
namespace {

using Json = nlohmann::ordered_json;

// Keeps the first error a pool meets instead of logging it to stderr.
class FirstError : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const google::protobuf::Message*, ErrorLocation,
                const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat(filename, ": ", element_name, ": ", message);
  }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

// protoc stores each field's JSON name; the source shows it only where a
// .proto said one (where it is not the default lowerCamelCase of the name).
std::string DefaultJsonName(const std::string& name) {
  std::string out;
  bool upper = false;
  for (const char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? absl::ascii_toupper(static_cast<unsigned char>(c)) : c;
    upper = false;
  }
  return out;
}

void ClearDefaultJsonNames(google::protobuf::DescriptorProto* message) {
  for (google::protobuf::FieldDescriptorProto& f : *message->mutable_field()) {
    if (f.json_name() == DefaultJsonName(f.name())) f.clear_json_name();
  }
  for (google::protobuf::DescriptorProto& nested : *message->mutable_nested_type()) {
    ClearDefaultJsonNames(&nested);
  }
}

// Fills info->file and info->source from `set`, or says why not.
void RebuildSource(const std::string& set_bytes, TypeInfo* info) {
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromString(set_bytes)) {
    info->problem = absl::StrCat("its stored descriptor (", set_bytes.size(),
                                 " bytes) is not a FileDescriptorSet");
    return;
  }
  google::protobuf::SimpleDescriptorDatabase db;
  for (google::protobuf::FileDescriptorProto& f : *set.mutable_file()) {
    for (google::protobuf::DescriptorProto& m : *f.mutable_message_type()) {
      ClearDefaultJsonNames(&m);
    }
    if (!db.Add(f)) {
      info->problem = absl::StrCat("its stored descriptor defines ", f.name(), " twice");
      return;
    }
  }
  FirstError errors;
  google::protobuf::DescriptorPool pool(&db, &errors);
  const google::protobuf::Descriptor* d = pool.FindMessageTypeByName(info->name);
  if (d == nullptr) {
    info->problem = errors.error().empty()
                        ? absl::StrCat("its stored descriptor does not define ", info->name)
                        : absl::StrCat("its stored descriptor does not build: ", errors.error());
    return;
  }
  info->file = d->file()->name();
  info->source = d->file()->DebugString();
}

}  // namespace

TypeInfo DescribeType(const discovery::GraphType& type, bool with_source) {
  TypeInfo info;
  info.name = type.name;
  info.hash = type.hash;
  info.descriptor_bytes = type.descriptor.size();
  if (type.descriptor.empty()) {
    info.problem = "no descriptor stored";
    return info;
  }
  absl::StatusOr<std::unique_ptr<idl::DynamicType>> t =
      idl::DynamicType::FromDescriptorSet(type.descriptor, type.name);
  if (t.ok()) {
    info.head_size = (*t)->layout().size();
  } else {
    info.problem = std::string(t.status().message());
  }
  if (with_source) {
    std::string layout_problem = std::move(info.problem);
    info.problem.clear();
    RebuildSource(type.descriptor, &info);
    if (info.problem.empty()) info.problem = std::move(layout_problem);
  }
  return info;
}

absl::StatusOr<std::vector<TypeInfo>> FindType(const transport::ShmOptions& options,
                                               const std::vector<discovery::GraphType>& types,
                                               absl::string_view name) {
  std::vector<TypeInfo> found;
  std::set<std::string> known;
  for (const discovery::GraphType& t : types) {
    known.insert(t.name);
    if (t.name == name) found.push_back(DescribeType(t, /*with_source=*/true));
  }
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no type ", name, " in domain ", options.domain, " (prefix ", options.prefix,
        "); types there: ", known.empty() ? "none" : absl::StrJoin(known, ", ")));
  }
  return found;
}

namespace {

std::string SizeText(const TypeInfo& t) {
  return t.head_size ? absl::StrCat(*t.head_size) : std::string("-");
}

Json ToJson(const TypeInfo& t, bool with_source) {
  Json j = {{"name", t.name},
            {"hash", absl::StrFormat("%016x", t.hash)},
            {"head_size", t.head_size ? Json(*t.head_size) : Json(nullptr)},
            {"descriptor_bytes", t.descriptor_bytes}};
  if (with_source) {
    j["file"] = t.file.empty() ? Json(nullptr) : Json(t.file);
    j["source"] = t.source.empty() ? Json(nullptr) : Json(t.source);
  }
  j["problem"] = t.problem.empty() ? Json(nullptr) : Json(t.problem);
  return j;
}

}  // namespace

std::string TypeListText(const std::vector<TypeInfo>& types) {
  std::string out =
      absl::StrFormat("%-32s %-16s %6s %s\n", "TYPE", "HASH", "SIZE", "DESCRIPTOR");
  for (const TypeInfo& t : types) {
    absl::StrAppendFormat(&out, "%-32s %016x %6s %s\n", t.name, t.hash, SizeText(t),
                          t.descriptor_bytes == 0 ? std::string("none")
                                                  : absl::StrCat(t.descriptor_bytes, " bytes"));
  }
  if (types.empty()) out += "(no types)\n";
  return out;
}

std::string TypeListJson(const transport::ShmOptions& o, const std::vector<TypeInfo>& types) {
  Json items = Json::array();
  for (const TypeInfo& t : types) items.push_back(ToJson(t, /*with_source=*/false));
  return JsonLine({{"domain", o.domain}, {"types", std::move(items)}});
}

std::string TypeShowText(const std::vector<TypeInfo>& types) {
  std::string out;
  for (const TypeInfo& t : types) {
    if (!out.empty()) out += "\n";
    absl::StrAppendFormat(&out, "type        %s\nhash        %016x\n", t.name, t.hash);
    absl::StrAppendFormat(&out, "head size   %s\n",
                          t.head_size ? absl::StrCat(*t.head_size, " bytes (flat layout)")
                                      : std::string("-"));
    if (!t.file.empty()) absl::StrAppend(&out, "file        ", t.file, "\n");
    if (!t.problem.empty()) absl::StrAppend(&out, "note        ", t.problem, "\n");
    if (!t.source.empty()) {
      absl::StrAppend(&out, "\n", absl::StripTrailingAsciiWhitespace(t.source), "\n");
    }
  }
  return out;
}

std::string TypeShowJson(const transport::ShmOptions& o, const std::vector<TypeInfo>& types) {
  Json items = Json::array();
  for (const TypeInfo& t : types) items.push_back(ToJson(t, /*with_source=*/true));
  return JsonLine({{"domain", o.domain}, {"types", std::move(items)}});
}

}  // namespace ringcast::cli
