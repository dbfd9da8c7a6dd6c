#include "idl/dynamic.h"

#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "idl/builder.h"
#include "idl/validate.h"
#include "idl/view.h"

namespace ringcast::idl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using internal::Reader;
using internal::Writer;

std::uint64_t AlignUp(std::uint64_t v, std::uint32_t a) { return (v + a - 1) / a * a; }

// `depth` bounds the recursion even if the buffer is rewritten after
// Validate (a pooled sample is readable, and writable, by its publisher):
// deeper than kMaxDepth stops copying instead of exhausting the stack.
void ReadMessage(const MessageLayout& m, const Reader& r, Message* out, int depth = 0) {
  if (depth > kMaxDepth) return;
  const Reflection* refl = out->GetReflection();
  for (const FieldLayout& f : m.fields()) {
    const FieldDescriptor* fd = f.descriptor;
    const bool in_oneof = f.oneof >= 0;
    if (in_oneof &&
        r.Get<std::uint32_t>(m.oneofs()[f.oneof].offset) != static_cast<std::uint32_t>(fd->number())) {
      continue;
    }
    if (!f.repeated) {
      switch (f.kind) {
        case Kind::kBool: refl->SetBool(out, fd, r.GetBool(f.offset)); break;
        case Kind::kInt32: refl->SetInt32(out, fd, r.Get<std::int32_t>(f.offset)); break;
        case Kind::kUInt32: refl->SetUInt32(out, fd, r.Get<std::uint32_t>(f.offset)); break;
        case Kind::kInt64: refl->SetInt64(out, fd, r.Get<std::int64_t>(f.offset)); break;
        case Kind::kUInt64: refl->SetUInt64(out, fd, r.Get<std::uint64_t>(f.offset)); break;
        case Kind::kFloat: refl->SetFloat(out, fd, r.Get<float>(f.offset)); break;
        case Kind::kDouble: refl->SetDouble(out, fd, r.Get<double>(f.offset)); break;
        case Kind::kEnum: refl->SetEnumValue(out, fd, r.Get<std::int32_t>(f.offset)); break;
        case Kind::kString: refl->SetString(out, fd, std::string(r.GetString(f.offset))); break;
        case Kind::kBytes: {
          const absl::Span<const std::uint8_t> b = r.GetBytes(f.offset);
          refl->SetString(out, fd, std::string(reinterpret_cast<const char*>(b.data()), b.size()));
          break;
        }
        case Kind::kMessage:
          if (in_oneof || r.GetBool(f.presence)) {
            ReadMessage(*f.message, r.Inline(f.offset), refl->MutableMessage(out, fd), depth + 1);
          }
          break;
      }
      continue;
    }
    const std::uint32_t elem = f.kind == Kind::kMessage ? f.message->size() : ScalarSize(f.kind);
    const std::uint32_t align = f.kind == Kind::kMessage                       ? kMessageAlign
                                : (f.kind == Kind::kString || f.kind == Kind::kBytes) ? alignof(Ref)
                                                                               : elem;
    const Ref a = r.GetArray(f.offset, elem, align);
    const std::byte* p = r.data() + a.offset;
    auto at = [&](std::uint32_t i) { return p + std::size_t{i} * elem; };
    for (std::uint32_t i = 0; i < a.count; ++i) {
      switch (f.kind) {
        case Kind::kBool: {
          std::uint8_t v;
          std::memcpy(&v, at(i), 1);
          refl->AddBool(out, fd, v != 0);
          break;
        }
#define RINGCAST_ADD_(KIND, T, ADD)     \
  case Kind::KIND: {                    \
    T v;                                \
    std::memcpy(&v, at(i), sizeof v);   \
    refl->ADD(out, fd, v);              \
    break;                              \
  }
        RINGCAST_ADD_(kInt32, std::int32_t, AddInt32)
        RINGCAST_ADD_(kUInt32, std::uint32_t, AddUInt32)
        RINGCAST_ADD_(kInt64, std::int64_t, AddInt64)
        RINGCAST_ADD_(kUInt64, std::uint64_t, AddUInt64)
        RINGCAST_ADD_(kFloat, float, AddFloat)
        RINGCAST_ADD_(kDouble, double, AddDouble)
        RINGCAST_ADD_(kEnum, std::int32_t, AddEnumValue)
#undef RINGCAST_ADD_
        case Kind::kString:
        case Kind::kBytes: {
          Ref e;
          std::memcpy(&e, at(i), sizeof e);
          const std::string_view s = r.StringAt(e);
          refl->AddString(out, fd, std::string(s));
          break;
        }
        case Kind::kMessage:
          ReadMessage(*f.message,
                      Reader(r.data(), r.size(), static_cast<std::uint32_t>(at(i) - r.data())),
                      refl->AddMessage(out, fd), depth + 1);
          break;
      }
    }
  }
}

// Mirrors WriteMessage's allocations (same order, same alignment) without
// writing: the generated FlatSize() does the same.
void SizeMessage(const MessageLayout& m, const Message& msg, std::uint64_t* cursor) {
  const Reflection* refl = msg.GetReflection();
  auto take = [cursor](std::uint64_t bytes, std::uint32_t align) {
    if (bytes != 0) *cursor = AlignUp(*cursor, align) + bytes;
  };
  for (const FieldLayout& f : m.fields()) {
    const FieldDescriptor* fd = f.descriptor;
    if (f.oneof >= 0 && !refl->HasField(msg, fd)) continue;
    if (!f.repeated) {
      if (f.kind == Kind::kString || f.kind == Kind::kBytes) {
        std::string scratch;
        take(refl->GetStringReference(msg, fd, &scratch).size(), 1);
      } else if (f.kind == Kind::kMessage && refl->HasField(msg, fd)) {
        SizeMessage(*f.message, refl->GetMessage(msg, fd), cursor);
      }
      continue;
    }
    const int n = refl->FieldSize(msg, fd);
    if (f.kind == Kind::kMessage) {
      take(std::uint64_t(n) * f.message->size(), kMessageAlign);
      for (int i = 0; i < n; ++i) SizeMessage(*f.message, refl->GetRepeatedMessage(msg, fd, i), cursor);
    } else if (f.kind == Kind::kString || f.kind == Kind::kBytes) {
      take(std::uint64_t(n) * sizeof(Ref), alignof(Ref));
      for (int i = 0; i < n; ++i) {
        std::string scratch;
        take(refl->GetRepeatedStringReference(msg, fd, i, &scratch).size(), 1);
      }
    } else {
      take(std::uint64_t(n) * ScalarSize(f.kind), ScalarSize(f.kind));
    }
  }
}

absl::Status WriteMessage(const MessageLayout& m, Writer& w, const Message& msg) {
  const Reflection* refl = msg.GetReflection();
  const MessageTable& t = m.table();
  for (std::size_t i = 0; i < m.fields().size(); ++i) {
    const FieldLayout& f = m.fields()[i];
    const FieldTable& ft = t.fields[i];
    const FieldDescriptor* fd = f.descriptor;
    if (f.oneof >= 0) {
      if (!refl->HasField(msg, fd)) continue;
      w.Set<std::uint32_t>(m.oneofs()[f.oneof].offset, static_cast<std::uint32_t>(fd->number()));
    }
    if (!f.repeated) {
      switch (f.kind) {
        case Kind::kBool: w.Set<std::uint8_t>(f.offset, refl->GetBool(msg, fd) ? 1 : 0); break;
        case Kind::kInt32: w.Set(f.offset, refl->GetInt32(msg, fd)); break;
        case Kind::kUInt32: w.Set(f.offset, refl->GetUInt32(msg, fd)); break;
        case Kind::kInt64: w.Set(f.offset, refl->GetInt64(msg, fd)); break;
        case Kind::kUInt64: w.Set(f.offset, refl->GetUInt64(msg, fd)); break;
        case Kind::kFloat: w.Set(f.offset, refl->GetFloat(msg, fd)); break;
        case Kind::kDouble: w.Set(f.offset, refl->GetDouble(msg, fd)); break;
        case Kind::kEnum: w.Set<std::int32_t>(f.offset, refl->GetEnumValue(msg, fd)); break;
        case Kind::kString:
        case Kind::kBytes: {
          std::string scratch;
          const std::string& s = refl->GetStringReference(msg, fd, &scratch);
          if (absl::Status st = w.Assign(t, ft, s.data(), s.size()); !st.ok()) return st;
          break;
        }
        case Kind::kMessage:
          if (refl->HasField(msg, fd)) {
            w.Set<std::uint8_t>(f.presence, 1);
            Writer nested = w.Inline(f.offset);
            if (absl::Status st = WriteMessage(*f.message, nested, refl->GetMessage(msg, fd));
                !st.ok()) {
              return st;
            }
          }
          break;
      }
      continue;
    }
    const int n = refl->FieldSize(msg, fd);
    absl::StatusOr<std::byte*> p = w.Alloc(t, ft, static_cast<std::size_t>(n));
    if (!p.ok()) return p.status();
    const std::uint32_t elem = f.kind == Kind::kMessage ? f.message->size() : ScalarSize(f.kind);
    for (int j = 0; j < n; ++j) {
      std::byte* at = *p + std::size_t(j) * elem;
      switch (f.kind) {
        case Kind::kBool: {
          const std::uint8_t v = refl->GetRepeatedBool(msg, fd, j) ? 1 : 0;
          std::memcpy(at, &v, 1);
          break;
        }
#define RINGCAST_PUT_(KIND, T, GET)      \
  case Kind::KIND: {                     \
    const T v = refl->GET(msg, fd, j);   \
    std::memcpy(at, &v, sizeof v);       \
    break;                               \
  }
        RINGCAST_PUT_(kInt32, std::int32_t, GetRepeatedInt32)
        RINGCAST_PUT_(kUInt32, std::uint32_t, GetRepeatedUInt32)
        RINGCAST_PUT_(kInt64, std::int64_t, GetRepeatedInt64)
        RINGCAST_PUT_(kUInt64, std::uint64_t, GetRepeatedUInt64)
        RINGCAST_PUT_(kFloat, float, GetRepeatedFloat)
        RINGCAST_PUT_(kDouble, double, GetRepeatedDouble)
        RINGCAST_PUT_(kEnum, std::int32_t, GetRepeatedEnumValue)
#undef RINGCAST_PUT_
        case Kind::kString:
        case Kind::kBytes: {
          std::string scratch;
          const std::string& s = refl->GetRepeatedStringReference(msg, fd, j, &scratch);
          if (absl::Status st = w.AssignElement(t, ft, j, s.data(), s.size()); !st.ok()) {
            return st;
          }
          break;
        }
        case Kind::kMessage: {
          Writer e(w.arena(), w.OffsetOf(at));
          if (absl::Status st = WriteMessage(*f.message, e, refl->GetRepeatedMessage(msg, fd, j));
              !st.ok()) {
            return st;
          }
          break;
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckType(const MessageLayout& layout, const google::protobuf::Descriptor* d) {
  if (d->full_name() != layout.full_name()) {
    return absl::InvalidArgumentError(absl::StrCat("message of type ", d->full_name(),
                                                   " given for layout ", layout.full_name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Message>> ReadNew(const MessageLayout& layout,
                                                 absl::Span<const std::byte> buffer,
                                                 google::protobuf::MessageFactory* factory) {
  const Message* prototype = factory->GetPrototype(layout.descriptor());
  if (prototype == nullptr) {
    return absl::InternalError(absl::StrCat("no message factory for ", layout.full_name()));
  }
  std::unique_ptr<Message> msg(prototype->New());
  if (absl::Status s = ReadFlat(layout, buffer, msg.get()); !s.ok()) return s;
  return msg;
}

}  // namespace

absl::Status ReadFlat(const MessageLayout& layout, absl::Span<const std::byte> buffer,
                      Message* out) {
  if (absl::Status s = CheckType(layout, out->GetDescriptor()); !s.ok()) return s;
  if (absl::Status s = Validate(layout.table(), buffer); !s.ok()) return s;
  out->Clear();
  ReadMessage(layout, Reader(buffer.data(), static_cast<std::uint32_t>(buffer.size()), 0), out);
  return absl::OkStatus();
}

absl::StatusOr<std::size_t> FlatSize(const MessageLayout& layout, const Message& msg) {
  if (absl::Status s = CheckType(layout, msg.GetDescriptor()); !s.ok()) return s;
  std::uint64_t cursor = layout.size();
  SizeMessage(layout, msg, &cursor);
  if (cursor > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(layout.full_name(), ": needs ", cursor,
                                                   " bytes; flat buffers hold at most ",
                                                   UINT32_MAX));
  }
  return static_cast<std::size_t>(cursor);
}

absl::StatusOr<std::size_t> WriteFlat(const MessageLayout& layout, const Message& msg,
                                      absl::Span<std::byte> buffer) {
  if (absl::Status s = CheckType(layout, msg.GetDescriptor()); !s.ok()) return s;
  absl::StatusOr<Writer> w = Writer::Root(layout.table(), buffer);
  if (!w.ok()) return w.status();
  if (absl::Status s = WriteMessage(layout, *w, msg); !s.ok()) return s;
  return std::size_t{w->arena()->used};
}

absl::StatusOr<std::vector<std::byte>> WriteFlat(const MessageLayout& layout,
                                                 const Message& msg) {
  absl::StatusOr<std::size_t> size = FlatSize(layout, msg);
  if (!size.ok()) return size.status();
  std::vector<std::byte> out(*size);
  absl::StatusOr<std::size_t> used = WriteFlat(layout, msg, absl::MakeSpan(out));
  if (!used.ok()) return used.status();
  if (*used != *size) {
    return absl::InternalError(absl::StrCat(layout.full_name(), ": wrote ", *used,
                                            " bytes, FlatSize said ", *size));
  }
  return out;
}

absl::StatusOr<std::string> FlatToText(const MessageLayout& layout,
                                       absl::Span<const std::byte> buffer) {
  google::protobuf::DynamicMessageFactory factory;
  absl::StatusOr<std::unique_ptr<Message>> msg = ReadNew(layout, buffer, &factory);
  if (!msg.ok()) return msg.status();
  std::string out;
  if (!google::protobuf::TextFormat::PrintToString(**msg, &out)) {
    return absl::InternalError(absl::StrCat(layout.full_name(), ": text format printing failed"));
  }
  return out;
}

absl::StatusOr<std::string> FlatToJson(const MessageLayout& layout,
                                       absl::Span<const std::byte> buffer) {
  google::protobuf::DynamicMessageFactory factory;
  absl::StatusOr<std::unique_ptr<Message>> msg = ReadNew(layout, buffer, &factory);
  if (!msg.ok()) return msg.status();
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto status = google::protobuf::util::MessageToJsonString(**msg, &out, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat(layout.full_name(), ": JSON printing failed: ",
                                            status.message().as_string()));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<DynamicType>> DynamicType::FromDescriptorSet(
    absl::string_view file_descriptor_set, absl::string_view full_name) {
  google::protobuf::FileDescriptorSet set;
  if (!set.ParseFromArray(file_descriptor_set.data(), static_cast<int>(file_descriptor_set.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "descriptor set of ", file_descriptor_set.size(),
        " bytes does not parse as a google.protobuf.FileDescriptorSet"));
  }
  std::unique_ptr<DynamicType> t(new DynamicType);
  std::vector<std::string> files;
  for (const google::protobuf::FileDescriptorProto& f : set.file()) {
    files.push_back(f.name());
    if (!t->database_.Add(f)) {
      return absl::InvalidArgumentError(absl::StrCat("descriptor set: file ", f.name(),
                                                     " is defined twice or is malformed"));
    }
  }
  t->pool_ = std::make_unique<google::protobuf::DescriptorPool>(&t->database_);
  const google::protobuf::Descriptor* d = t->pool_->FindMessageTypeByName(std::string(full_name));
  if (d == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "descriptor set defines no message ", full_name, " (or it does not build); its files: ",
        absl::StrJoin(files, ", ")));
  }
  t->factory_ = std::make_unique<google::protobuf::DynamicMessageFactory>(t->pool_.get());
  absl::StatusOr<const MessageLayout*> layout = t->layouts_.Get(d);
  if (!layout.ok()) return layout.status();
  t->layout_ = *layout;
  return t;
}

std::unique_ptr<Message> DynamicType::New() const {
  return std::unique_ptr<Message>(factory_->GetPrototype(descriptor())->New());
}

absl::StatusOr<std::unique_ptr<Message>> DynamicType::Read(absl::Span<const std::byte> buffer) const {
  return ReadNew(*layout_, buffer, factory_.get());
}

absl::StatusOr<std::vector<std::byte>> DynamicType::Write(const Message& msg) const {
  return WriteFlat(*layout_, msg);
}

namespace {
class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};
}  // namespace

absl::StatusOr<std::vector<std::byte>> DynamicType::FromText(absl::string_view text) const {
  std::unique_ptr<Message> msg = New();
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), msg.get())) {
    return absl::InvalidArgumentError(absl::StrCat("text for ", layout_->full_name(), ": ",
                                                   errors.first()));
  }
  return Write(*msg);
}

absl::StatusOr<std::string> DynamicType::ToText(absl::Span<const std::byte> buffer) const {
  return FlatToText(*layout_, buffer);
}

absl::StatusOr<std::string> DynamicType::ToJson(absl::Span<const std::byte> buffer) const {
  return FlatToJson(*layout_, buffer);
}

}  // namespace ringcast::idl
