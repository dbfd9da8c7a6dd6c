#include "idl/plugin/generator.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/io/printer.h"
#include "google/protobuf/io/zero_copy_stream.h"
#include "idl/topic.h"
#include "ringcast/options.pb.h"
#include "transport/names.h"

namespace ringcast::idl::plugin {
namespace internal {

using google::protobuf::Descriptor;
using google::protobuf::FileDescriptor;

std::string CppNamespace(const FileDescriptor* file) {
  if (file->package().empty()) return "";
  return absl::StrCat("::", absl::StrReplaceAll(file->package(), {{".", "::"}}));
}

std::string FlatName(const std::string& full_name, const std::string& package) {
  absl::string_view rel = full_name;
  if (!package.empty()) absl::ConsumePrefix(&rel, absl::StrCat(package, "."));
  return absl::StrReplaceAll(rel, {{".", "_"}});
}

std::string ProtoClass(const Descriptor* d) {
  return absl::StrCat(CppNamespace(d->file()), "::", FlatName(d->full_name(), d->file()->package()));
}

std::string ProtoEnum(const google::protobuf::EnumDescriptor* e) {
  return absl::StrCat(CppNamespace(e->file()), "::", FlatName(e->full_name(), e->file()->package()));
}

std::string FlatClass(const Descriptor* d, const std::string& suffix) {
  return absl::StrCat(CppNamespace(d->file()), "::flat::",
                      FlatName(d->full_name(), d->file()->package()), suffix);
}

std::string TableName(const Descriptor* d) {
  return absl::StrCat(CppNamespace(d->file()), "::flat::internal::k",
                      FlatName(d->full_name(), d->file()->package()), "Table");
}

std::string CamelCase(const std::string& name) {
  std::string out;
  bool cap = true;
  for (const char c : name) {
    if (c >= 'a' && c <= 'z') {
      out += cap ? static_cast<char>(c - 'a' + 'A') : c;
      cap = false;
    } else if (c >= 'A' && c <= 'Z') {
      out += c;
      cap = false;
    } else if (c >= '0' && c <= '9') {
      out += c;
      cap = true;
    } else {
      cap = true;
    }
  }
  return out;
}

}  // namespace internal

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using namespace internal;  // NOLINT: this file's own helpers

std::string Base(const FileDescriptor* file) {
  return std::string(absl::StripSuffix(file->name(), ".proto"));
}

// Files with no ringcast output, whose messages cannot be fields.
bool IsForeign(const FileDescriptor* file) {
  return absl::StartsWith(file->name(), "google/protobuf/") ||
         file->name() == "ringcast/options.proto";
}

std::string WhereTopic(const FileDescriptor* file, int index) {
  google::protobuf::SourceLocation loc;
  if (file->GetSourceLocation({8, 51820, index}, &loc)) {
    return absl::StrCat(file->name(), ":", loc.start_line + 1, ":", loc.start_column + 1);
  }
  return file->name();
}

void Collect(const Descriptor* d, std::vector<const Descriptor*>* out) {
  if (d->options().map_entry()) return;
  out->push_back(d);
  for (int i = 0; i < d->nested_type_count(); ++i) Collect(d->nested_type(i), out);
}

std::string DescriptorSetLiteral(const FileDescriptor* file) {
  google::protobuf::FileDescriptorSet set;
  std::vector<const FileDescriptor*> order;
  std::function<void(const FileDescriptor*)> visit = [&](const FileDescriptor* f) {
    for (const FileDescriptor* seen : order) {
      if (seen == f) return;
    }
    for (int i = 0; i < f->dependency_count(); ++i) visit(f->dependency(i));
    order.push_back(f);
  };
  visit(file);
  for (const FileDescriptor* f : order) f->CopyTo(set.add_file());
  const std::string bytes = set.SerializeAsString();
  std::string out = "    \"";
  int n = 0;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    absl::StrAppend(&out, "\\", std::string(1, static_cast<char>('0' + (u >> 6))),
                    std::string(1, static_cast<char>('0' + ((u >> 3) & 7))),
                    std::string(1, static_cast<char>('0' + (u & 7))));
    if (++n % 32 == 0) out += "\"\n    \"";
  }
  out += "\"";
  return out;
}

void Write(google::protobuf::compiler::GeneratorContext* context, const std::string& name,
           const std::string& text) {
  std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> out(context->Open(name));
  google::protobuf::io::Printer printer(out.get(), '$');
  printer.PrintRaw(text);
}

struct TopicConstant {
  std::string constant;
  std::string flat_type;
  const ringcast::Topic* decl;
};

absl::Status CheckTopics(const FileDescriptor* file, std::vector<TopicConstant>* out) {
  const auto& topics = file->options().GetRepeatedExtension(ringcast::topic);
  absl::flat_hash_map<std::string, int> seen_names;
  absl::flat_hash_map<std::string, std::string> seen_constants;
  for (int i = 0; i < topics.size(); ++i) {
    const ringcast::Topic& t = topics.Get(i);
    const std::string where = WhereTopic(file, i);
    if (absl::Status s = transport::ValidateTopicName(t.name()); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
    }
    if (auto [it, fresh] = seen_names.emplace(t.name(), i); !fresh) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": topic '", t.name(),
                                                     "' is declared twice (first at ",
                                                     WhereTopic(file, it->second), ")"));
    }
    const std::string full = absl::StrContains(t.type(), '.') || file->package().empty()
                                 ? t.type()
                                 : absl::StrCat(file->package(), ".", t.type());
    const Descriptor* d = file->pool()->FindMessageTypeByName(full);
    // A message of this file or of one it imports directly (whose header
    // the generated one includes): a topic of ringcast.msgs.Image may be
    // declared beside the code that publishes it.
    bool imported = false;
    for (int k = 0; d != nullptr && k < file->dependency_count(); ++k) {
      imported = imported || (d->file() == file->dependency(k) && !IsForeign(d->file()));
    }
    if (d == nullptr || (d->file() != file && !imported)) {
      std::vector<std::string> names;
      std::vector<const Descriptor*> all;
      for (int k = 0; k < file->message_type_count(); ++k) Collect(file->message_type(k), &all);
      for (const Descriptor* m : all) names.push_back(m->full_name());
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": topic '", t.name(), "': type '", t.type(),
          "' is not a message of this file or of a file it imports; messages here: ",
          names.empty() ? "(none)" : absl::StrJoin(names, ", ")));
    }
    std::string constant = "k";
    for (absl::string_view token : absl::StrSplit(t.name(), '/', absl::SkipEmpty())) {
      constant += CamelCase(std::string(token));
    }
    if (auto [it, fresh] = seen_constants.emplace(constant, t.name()); !fresh) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": topics '", it->second, "' and '", t.name(), "' would both be constant ",
          constant, "; rename one"));
    }
    out->push_back({constant, FlatClass(d, ""), &t});
  }
  return absl::OkStatus();
}

std::string TopicLine(const TopicConstant& c) {
  const ringcast::Topic& t = *c.decl;
  return absl::StrCat(
      "inline constexpr ::ringcast::idl::Topic<", c.flat_type, "> ", c.constant, "{\"", t.name(),
      "\", ", t.depth(), ", ::ringcast::idl::Reliability::",
      t.reliability() == ringcast::RELIABILITY_RELIABLE ? "kReliable" : "kBestEffort",
      ", ::ringcast::idl::Durability::",
      t.durability() == ringcast::DURABILITY_TRANSIENT_LOCAL ? "kTransientLocal" : "kVolatile",
      ", ", t.max_message_size(), "ull};\n");
}

}  // namespace

bool Generator::Generate(const FileDescriptor* file, const std::string& /*parameter*/,
                         google::protobuf::compiler::GeneratorContext* context,
                         std::string* error) const {
  auto fail = [error](const absl::Status& s) {
    *error = std::string(s.message());
    return false;
  };
  if (file->extension_count() > 0) {
    const FieldDescriptor* x = file->extension(0);
    return fail(absl::InvalidArgumentError(absl::StrCat(
        Where(x), ": extension ", x->full_name(),
        ": extensions are not supported by ringcast; add a field to the message instead")));
  }
  std::vector<const Descriptor*> messages;
  for (int i = 0; i < file->message_type_count(); ++i) Collect(file->message_type(i), &messages);
  LayoutPool pool;
  std::vector<const MessageLayout*> layouts;
  for (const Descriptor* d : messages) {
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->message_type() != nullptr && IsForeign(f->message_type()->file()) && !f->is_map()) {
        return fail(absl::InvalidArgumentError(absl::StrCat(
            Where(f), ": field ", f->full_name(), ": type ", f->message_type()->full_name(),
            " comes from ", f->message_type()->file()->name(),
            ", which has no ringcast types; use a message of your own (e.g. "
            "ringcast.msgs.Time for a timestamp)")));
      }
    }
    absl::StatusOr<const MessageLayout*> layout = pool.Get(d);
    if (!layout.ok()) return fail(layout.status());
    layouts.push_back(*layout);
  }
  std::vector<TopicConstant> topics;
  if (absl::Status s = CheckTopics(file, &topics); !s.ok()) return fail(s);

  const std::string base = Base(file);
  std::string guard = absl::StrCat(absl::AsciiStrToUpper(base), "_RINGCAST_H_");
  for (char& c : guard) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  const std::string ns = absl::StrCat(absl::StripPrefix(CppNamespace(file), "::"),
                                      file->package().empty() ? "" : "::");

  std::string h = absl::StrCat(
      "// Generated by protoc-gen-ringcast from ", file->name(), ". Do not edit.\n",
      "// Flat shared-memory types: see idl/flat_format.h for the bytes.\n#ifndef ", guard,
      "\n#define ", guard, R"(

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "idl/builder.h"
#include "idl/flat_format.h"
#include "idl/topic.h"
#include "idl/validate.h"
#include "idl/view.h"
)");
  absl::StrAppend(&h, "#include \"", base, ".pb.h\"\n");
  for (int i = 0; i < file->dependency_count(); ++i) {
    if (!IsForeign(file->dependency(i))) {
      absl::StrAppend(&h, "#include \"", Base(file->dependency(i)), ".ringcast.h\"\n");
    }
  }
  absl::StrAppend(&h, "\nnamespace ", ns, "flat {\n");
  if (!messages.empty()) absl::StrAppend(&h, "\nnamespace internal {\n");
  for (const Descriptor* d : messages) {
    absl::StrAppend(&h, "extern const ::ringcast::idl::MessageTable k",
                    FlatName(d->full_name(), file->package()), "Table;\n");
  }
  if (!messages.empty()) absl::StrAppend(&h, "}  // namespace internal\n\n");
  for (const Descriptor* d : messages) {
    const std::string n = FlatName(d->full_name(), file->package());
    absl::StrAppend(&h, "class ", n, "View;\nclass ", n, "Builder;\nstruct ", n, ";\n");
  }
  std::string classes, inlines, source;
  for (const MessageLayout* m : layouts) EmitMessage(*m, &classes, &inlines, &source);
  absl::StrAppend(&h, classes, "\n// Inline definitions.\n", inlines, "\n}  // namespace ", ns,
                  "flat\n");
  if (!topics.empty()) {
    absl::StrAppend(&h, "\n// Topics declared in ", file->name(), ".\nnamespace ", ns, "topics {\n");
    for (const TopicConstant& t : topics) absl::StrAppend(&h, TopicLine(t));
    absl::StrAppend(&h, "}  // namespace ", ns, "topics\n");
  }
  absl::StrAppend(&h, "\n#endif  // ", guard, "\n");

  std::string cc = absl::StrCat("// Generated by protoc-gen-ringcast from ", file->name(),
                                ". Do not edit.\n#include \"", base, ".ringcast.h\"\n\nnamespace ",
                                ns, "flat {\nnamespace {\n\n// google.protobuf.FileDescriptorSet of ",
                                file->name(), " and its imports.\nconstexpr char kDescriptorSet[] =\n",
                                DescriptorSetLiteral(file), ";\n\n}  // namespace\n");
  absl::StrAppend(&cc, "\nnamespace internal {\n", source, "}  // namespace internal\n");
  for (const Descriptor* d : messages) {
    absl::StrAppend(&cc, "\nstd::string_view ", FlatName(d->full_name(), file->package()),
                    "::DescriptorSet() {\n  return {kDescriptorSet, sizeof kDescriptorSet - 1};\n}\n");
  }
  absl::StrAppend(&cc, "\n}  // namespace ", ns, "flat\n");

  Write(context, absl::StrCat(base, ".ringcast.h"), h);
  Write(context, absl::StrCat(base, ".ringcast.cc"), cc);
  return true;
}

}  // namespace ringcast::idl::plugin
