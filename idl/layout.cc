#include "idl/layout.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "transport/names.h"

namespace ringcast::idl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr std::uint32_t kMaxHead = 1u << 30;

Kind KindOf(const FieldDescriptor* f) {
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      return Kind::kBool;
    case FieldDescriptor::CPPTYPE_INT32:
      return Kind::kInt32;
    case FieldDescriptor::CPPTYPE_UINT32:
      return Kind::kUInt32;
    case FieldDescriptor::CPPTYPE_INT64:
      return Kind::kInt64;
    case FieldDescriptor::CPPTYPE_UINT64:
      return Kind::kUInt64;
    case FieldDescriptor::CPPTYPE_FLOAT:
      return Kind::kFloat;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Kind::kDouble;
    case FieldDescriptor::CPPTYPE_ENUM:
      return Kind::kEnum;
    case FieldDescriptor::CPPTYPE_STRING:
      return f->type() == FieldDescriptor::TYPE_BYTES ? Kind::kBytes : Kind::kString;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return Kind::kMessage;
  }
  return Kind::kMessage;
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kBool: return "bool";
    case Kind::kInt32: return "int32";
    case Kind::kUInt32: return "uint32";
    case Kind::kInt64: return "int64";
    case Kind::kUInt64: return "uint64";
    case Kind::kFloat: return "float";
    case Kind::kDouble: return "double";
    case Kind::kEnum: return "enum";
    case Kind::kString: return "string";
    case Kind::kBytes: return "bytes";
    case Kind::kMessage: return "message";
  }
  return "?";
}

absl::Status Unsupported(const FieldDescriptor* f, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Where(f), ": field ", f->full_name(), ": ", what));
}

std::uint32_t AlignUp(std::uint64_t v, std::uint32_t a) {
  return static_cast<std::uint32_t>((v + a - 1) / a * a);
}

void Describe(const MessageLayout& m, absl::flat_hash_set<const MessageLayout*>* seen,
              std::string* out) {
  if (!seen->insert(&m).second) return;
  absl::StrAppend(out, "message ", m.full_name(), " size ", m.size(), "\n");
  for (const FieldLayout& f : m.fields()) {
    absl::StrAppend(out, " field ", f.descriptor->number(), " ", f.descriptor->name(), " ",
                    KindName(f.kind), f.repeated ? " repeated" : "", " offset ", f.offset);
    if (f.presence != kNoPresence) absl::StrAppend(out, " presence ", f.presence);
    if (f.oneof >= 0) absl::StrAppend(out, " oneof ", m.oneofs()[f.oneof].descriptor->name());
    if (f.kind == Kind::kMessage) absl::StrAppend(out, " type ", f.message->full_name());
    if (f.kind == Kind::kEnum) {
      absl::StrAppend(out, " type ", f.descriptor->enum_type()->full_name());
    }
    absl::StrAppend(out, "\n");
  }
  for (const OneofLayout& o : m.oneofs()) {
    absl::StrAppend(out, " oneof ", o.descriptor->name(), " offset ", o.offset, "\n");
  }
  for (const FieldLayout& f : m.fields()) {
    if (f.kind == Kind::kMessage) Describe(*f.message, seen, out);
  }
}

}  // namespace


std::string Where(const FieldDescriptor* field) {
  google::protobuf::SourceLocation loc;
  if (field->GetSourceLocation(&loc)) {
    return absl::StrCat(field->file()->name(), ":", loc.start_line + 1, ":",
                        loc.start_column + 1);
  }
  return field->file()->name();
}

std::string Where(const Descriptor* message) {
  google::protobuf::SourceLocation loc;
  if (message->GetSourceLocation(&loc)) {
    return absl::StrCat(message->file()->name(), ":", loc.start_line + 1, ":",
                        loc.start_column + 1);
  }
  return message->file()->name();
}

const FieldLayout* MessageLayout::FindFieldByNumber(int number) const {
  for (const FieldLayout& f : fields_) {
    if (f.descriptor->number() == number) return &f;
  }
  return nullptr;
}

absl::StatusOr<MessageLayout*> LayoutPool::Place(const Descriptor* type,
                                                 std::vector<const Descriptor*>* later,
                                                 int depth) {
  if (auto it = layouts_.find(type); it != layouts_.end()) return it->second.get();
  if (type->file()->syntax() != google::protobuf::FileDescriptor::SYNTAX_PROTO3) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(type), ": message ", type->full_name(), ": syntax \"",
        google::protobuf::FileDescriptor::SyntaxName(type->file()->syntax()),
        "\" is not supported; ringcast messages are proto3 (syntax = \"proto3\";)"));
  }
  auto owned = std::make_unique<MessageLayout>();
  MessageLayout* m = owned.get();
  layouts_.emplace(type, std::move(owned));
  m->descriptor_ = type;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    if (f->is_map()) {
      return Unsupported(f, "map fields are not supported by ringcast (layout version 1); "
                            "use a repeated message with key and value fields");
    }
    if (f->type() == FieldDescriptor::TYPE_GROUP) {
      return Unsupported(f, "groups are not supported; use a nested message");
    }
    FieldLayout fl{f, KindOf(f), f->is_repeated(), 0, 0, kNoPresence, -1, nullptr};
    if (f->containing_oneof() != nullptr) fl.oneof = f->containing_oneof()->index();
    if (fl.kind == Kind::kMessage && !fl.repeated) {
      if (depth >= kMaxInlineDepth) {
        return Unsupported(f, absl::StrCat("nests messages inline more than ", kMaxInlineDepth,
                                           " levels deep; make a field repeated or flatten "
                                           "the nesting"));
      }
      absl::StatusOr<MessageLayout*> nested = Place(f->message_type(), later, depth + 1);
      if (!nested.ok()) return nested.status();
      if (!(*nested)->done_) {
        return Unsupported(f, absl::StrCat("embeds ", f->message_type()->full_name(),
                                           " inline, which contains this field again; make "
                                           "the field repeated to break the cycle"));
      }
      fl.message = *nested;
      m->inline_depth_ = std::max(m->inline_depth_, 1 + (*nested)->inline_depth_);
      if (m->inline_depth_ > kMaxInlineDepth) {
        return Unsupported(f, absl::StrCat("nests messages inline more than ", kMaxInlineDepth,
                                           " levels deep; make a field repeated or flatten "
                                           "the nesting"));
      }
    } else if (fl.kind == Kind::kMessage) {
      later->push_back(f->message_type());
    }
    m->fields_.push_back(fl);
  }
  for (int i = 0; i < type->oneof_decl_count(); ++i) {
    m->oneofs_.push_back(OneofLayout{type->oneof_decl(i), 0});
  }

  // Placement: the 8-byte group, the 4-byte group, the 1-byte group.
  std::uint64_t offset = 0;
  for (FieldLayout& f : m->fields_) {
    const bool reference = f.repeated || f.kind == Kind::kString || f.kind == Kind::kBytes;
    if (reference || ScalarSize(f.kind) == 8 || f.kind == Kind::kMessage) {
      f.size = reference ? sizeof(Ref) : f.kind == Kind::kMessage ? f.message->size_ : 8;
      f.offset = static_cast<std::uint32_t>(offset);
      offset += f.size;
    }
  }
  for (FieldLayout& f : m->fields_) {
    if (!f.repeated && ScalarSize(f.kind) == 4) {
      f.size = 4;
      f.offset = static_cast<std::uint32_t>(offset);
      offset += 4;
    }
  }
  for (OneofLayout& o : m->oneofs_) {
    o.offset = static_cast<std::uint32_t>(offset);
    offset += 4;
  }
  for (FieldLayout& f : m->fields_) {
    if (!f.repeated && f.kind == Kind::kBool) {
      f.size = 1;
      f.offset = static_cast<std::uint32_t>(offset);
      offset += 1;
    }
  }
  for (FieldLayout& f : m->fields_) {
    if (!f.repeated && f.kind == Kind::kMessage) {
      f.presence = static_cast<std::uint32_t>(offset);
      offset += 1;
    }
  }
  if (offset > kMaxHead) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(type), ": message ", type->full_name(), ": its head would take ", offset,
        " bytes; at most ", kMaxHead, " are supported (move large parts to repeated fields)"));
  }
  m->size_ = std::max<std::uint32_t>(kMessageAlign, AlignUp(offset, kMessageAlign));
  m->done_ = true;
  return m;
}

absl::StatusOr<const MessageLayout*> LayoutPool::Get(const Descriptor* type) {
  // Every entry is complete between calls (a failed call removes its own).
  if (auto it = layouts_.find(type); it != layouts_.end()) return it->second.get();
  // Entries made by this call are complete only once every reachable type
  // is placed; on an error, drop them all.
  std::vector<const Descriptor*> later;
  absl::Status failed;
  absl::StatusOr<MessageLayout*> root = Place(type, &later, 0);
  if (!root.ok()) failed = root.status();
  while (failed.ok() && !later.empty()) {
    const Descriptor* next = later.back();
    later.pop_back();
    if (absl::StatusOr<MessageLayout*> m = Place(next, &later, 0); !m.ok()) failed = m.status();
  }
  if (!failed.ok()) {
    absl::erase_if(layouts_, [](const auto& kv) { return kv.second->table_.full_name == nullptr; });
    return failed;
  }
  // Link repeated message fields, then make tables and hashes.
  for (auto& [d, m] : layouts_) {
    if (m->table_.full_name != nullptr) continue;
    for (FieldLayout& f : m->fields_) {
      if (f.kind == Kind::kMessage && f.message == nullptr) {
        f.message = layouts_.at(f.descriptor->message_type()).get();
      }
    }
  }
  for (auto& [d, m] : layouts_) {
    if (m->table_.full_name != nullptr) continue;
    for (const FieldLayout& f : m->fields_) {
      m->field_tables_.push_back(FieldTable{
          f.descriptor->name().c_str(), static_cast<std::uint32_t>(f.descriptor->number()),
          f.kind, f.repeated, static_cast<std::uint16_t>(f.oneof + 1), f.offset, f.presence,
          f.message == nullptr ? nullptr : &f.message->table_});
    }
    for (const OneofLayout& o : m->oneofs_) m->oneof_offsets_.push_back(o.offset);
  }
  for (auto& [d, m] : layouts_) {
    if (m->table_.full_name != nullptr) continue;
    m->table_ = MessageTable{m->full_name().c_str(), m->size_,
                             static_cast<std::uint32_t>(m->field_tables_.size()),
                             m->field_tables_.data(),
                             static_cast<std::uint32_t>(m->oneof_offsets_.size()),
                             m->oneof_offsets_.data()};
  }
  for (auto& [d, m] : layouts_) {
    if (!m->description_.empty()) continue;
    absl::flat_hash_set<const MessageLayout*> seen;
    m->description_ = absl::StrCat("ringcast layout ", kLayoutVersion, "\n");
    Describe(*m, &seen, &m->description_);
    m->type_hash_ = transport::Fnv1a64(m->description_);
  }
  return *root;
}

}  // namespace ringcast::idl
