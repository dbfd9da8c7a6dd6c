// Code for one message: the view, the builder, the traits struct, the table.
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "idl/plugin/generator.h"

namespace ringcast::idl::plugin::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using Vars = std::vector<std::pair<std::string, std::string>>;

std::string Fill(const std::string& tmpl, const Vars& vars) {
  std::vector<std::pair<absl::string_view, absl::string_view>> r;
  for (const auto& [k, v] : vars) r.emplace_back(k, v);
  return absl::StrReplaceAll(tmpl, r);
}

bool IsKeyword(const std::string& s) {
  static const char* const kWords[] = {
      "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char",
      "class", "const", "constexpr", "continue", "default", "delete", "do", "double", "else",
      "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if",
      "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "nullptr",
      "operator", "or", "private", "protected", "public", "register", "return", "short",
      "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw", "true",
      "try", "typedef", "typename", "union", "unsigned", "using", "virtual", "void",
      "volatile", "while", "xor"};
  for (const char* w : kWords) {
    if (s == w) return true;
  }
  return false;
}

// protoc's accessor name: lower case, '_' appended to a C++ keyword.
std::string Accessor(const FieldDescriptor* f) {
  std::string n = absl::AsciiStrToLower(f->name());
  if (IsKeyword(n)) n += "_";
  return n;
}

const char* Scalar(Kind k) {
  switch (k) {
    case Kind::kBool: return "bool";
    case Kind::kInt32: return "std::int32_t";
    case Kind::kUInt32: return "std::uint32_t";
    case Kind::kInt64: return "std::int64_t";
    case Kind::kUInt64: return "std::uint64_t";
    case Kind::kFloat: return "float";
    case Kind::kDouble: return "double";
    case Kind::kEnum: return "std::int32_t";
    default: return "";
  }
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kBool: return "kBool";
    case Kind::kInt32: return "kInt32";
    case Kind::kUInt32: return "kUInt32";
    case Kind::kInt64: return "kInt64";
    case Kind::kUInt64: return "kUInt64";
    case Kind::kFloat: return "kFloat";
    case Kind::kDouble: return "kDouble";
    case Kind::kEnum: return "kEnum";
    case Kind::kString: return "kString";
    case Kind::kBytes: return "kBytes";
    case Kind::kMessage: return "kMessage";
  }
  return "";
}

// The field's leading comment in the .proto, as C++ comment lines.
std::string Comment(const FieldDescriptor* f) {
  google::protobuf::SourceLocation loc;
  if (!f->GetSourceLocation(&loc)) return "";
  std::string text = loc.leading_comments.empty() ? loc.trailing_comments : loc.leading_comments;
  std::string out;
  for (absl::string_view line : absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    // A trailing backslash would splice the next line into the comment.
    const char* guard = !line.empty() && line.back() == '\\' ? "." : "";
    absl::StrAppend(&out, "  //", line.empty() || line[0] == ' ' ? "" : " ", line, guard, "\n");
  }
  return text.empty() ? "" : out;
}

}  // namespace

void EmitMessage(const MessageLayout& m, std::string* classes, std::string* inlines,
                 std::string* source) {
  const Descriptor* d = m.descriptor();
  const std::string name = FlatName(d->full_name(), d->file()->package());
  const std::string table = absl::StrCat("internal::k", name, "Table");
  const Vars base = {{"$M", name},
                     {"$P", ProtoClass(d)},
                     {"$T", table},
                     {"$FULL", d->full_name()},
                     {"$HEAD", absl::StrCat(m.size())},
                     {"$HASH", absl::StrCat("0x", absl::Hex(m.type_hash(), absl::kZeroPad16))}};

  std::string view_decl, builder_decl, view_def, builder_def;
  std::string from_proto, flat_size, to_proto, fields, oneof_enums;

  for (const OneofLayout& o : m.oneofs()) {
    if (o.descriptor->is_synthetic()) continue;
    std::string cases;
    for (int i = 0; i < o.descriptor->field_count(); ++i) {
      const FieldDescriptor* f = o.descriptor->field(i);
      absl::StrAppend(&cases, "    k", CamelCase(f->name()), " = ", f->number(), ",\n");
    }
    const Vars v = {{"$C", CamelCase(o.descriptor->name())},
                    {"$c", absl::AsciiStrToLower(o.descriptor->name())},
                    {"$CASES", cases},
                    {"$OFF", absl::StrCat(o.offset)},
                    {"$M", name}};
    absl::StrAppend(&view_decl, Fill(R"(
  // Which field of oneof $c is set (kNotSet: none).
  enum class $CCase : std::uint32_t {
    kNotSet = 0,
$CASES  };
  $CCase $c_case() const;
)", v));
    absl::StrAppend(&view_def, Fill(R"(inline $MView::$CCase $MView::$c_case() const {
  return static_cast<$CCase>(r_.Get<std::uint32_t>($OFF));
}
)", v));
  }

  for (std::size_t i = 0; i < m.fields().size(); ++i) {
    const FieldLayout& f = m.fields()[i];
    const FieldDescriptor* fd = f.descriptor;
    const bool in_oneof = f.oneof >= 0;
    const std::string oneof_off = in_oneof ? absl::StrCat(m.oneofs()[f.oneof].offset) : "";
    Vars v = base;
    v.insert(v.end(), {{"$n", Accessor(fd)},
                       {"$OFF", absl::StrCat(f.offset)},
                       {"$NUM", absl::StrCat(fd->number())},
                       {"$CASEOFF", oneof_off},
                       {"$F", absl::StrCat(table, ".fields[", i, "]")},
                       {"$S", Scalar(f.kind)}});
    if (f.kind == Kind::kMessage) {
      v.insert(v.end(), {{"$XV", FlatClass(fd->message_type(), "View")},
                         {"$XB", FlatClass(fd->message_type(), "Builder")},
                         {"$XSIZE", absl::StrCat(f.message->size())},
                         {"$PRES", absl::StrCat(f.presence)}});
    }
    if (f.kind == Kind::kEnum) v.push_back({"$E", ProtoEnum(fd->enum_type())});
    // The guard FromProto/FlatSize put around a oneof member or optional.
    std::string guard_open, guard_close;
    if (in_oneof) {
      const auto* o = fd->containing_oneof();
      guard_open = o->is_synthetic()
                       ? absl::StrCat("  if (in.has_", Accessor(fd), "()) {\n")
                       : absl::StrCat("  if (in.", absl::AsciiStrToLower(o->name()), "_case() == ",
                                      ProtoClass(d), "::k", CamelCase(fd->name()), ") {\n");
      guard_close = "  }\n";
    }
    const std::string set_case = in_oneof ? Fill("  w_.Set<std::uint32_t>($CASEOFF, $NUM);\n", v) : "";
    v.push_back({"$SETCASE", set_case});
    absl::StrAppend(&fields, Fill("    {\"$name\", $NUM, ::ringcast::idl::Kind::$KIND, $REP, $ONEOF, $OFF, $PRESV, $MSG},\n",
                                  Vars{{"$name", fd->name()},
                                       {"$NUM", absl::StrCat(fd->number())},
                                       {"$KIND", KindName(f.kind)},
                                       {"$REP", f.repeated ? "true" : "false"},
                                       {"$ONEOF", absl::StrCat(f.oneof + 1)},
                                       {"$OFF", absl::StrCat(f.offset)},
                                       {"$PRESV", f.presence == kNoPresence
                                                      ? std::string("::ringcast::idl::kNoPresence")
                                                      : absl::StrCat(f.presence)},
                                       {"$MSG", f.kind == Kind::kMessage
                                                    ? absl::StrCat("&", TableName(fd->message_type()))
                                                    : "nullptr"}}));

    absl::StrAppend(&view_decl, Comment(fd));
    if (!f.repeated) {
      const std::string active = in_oneof ? Fill("r_.Get<std::uint32_t>($CASEOFF) == $NUM", v) : "";
      v.push_back({"$ACTIVE", active});
      if (in_oneof) {
        absl::StrAppend(&view_decl, Fill("  bool has_$n() const;\n", v));
        absl::StrAppend(&view_def, Fill("inline bool $MView::has_$n() const { return $ACTIVE; }\n", v));
      }
      switch (f.kind) {
        case Kind::kString:
        case Kind::kBytes: {
          const bool bytes = f.kind == Kind::kBytes;
          v.push_back({"$RET", bytes ? "absl::Span<const std::uint8_t>" : "std::string_view"});
          v.push_back({"$GET", bytes ? "GetBytes" : "GetString"});
          v.push_back({"$CH", bytes ? "std::uint8_t" : "char"});
          absl::StrAppend(&view_decl, Fill("  $RET $n() const;\n", v));
          absl::StrAppend(&view_def, Fill(in_oneof
              ? "inline $RET $MView::$n() const { return $ACTIVE ? r_.$GET($OFF) : $RET(); }\n"
              : "inline $RET $MView::$n() const { return r_.$GET($OFF); }\n", v));
          absl::StrAppend(&builder_decl, Fill(R"(  absl::Status set_$n(std::string_view v);
  // Allocates n bytes for $n and returns them to fill in place.
  absl::StatusOr<absl::Span<$CH>> alloc_$n(std::size_t n);
)", v));
          if (bytes) absl::StrAppend(&builder_decl, Fill("  absl::Status set_$n(absl::Span<const std::uint8_t> v);\n", v));
          absl::StrAppend(&builder_def, Fill(R"(inline absl::Status $MBuilder::set_$n(std::string_view v) {
$SETCASE  return w_.Assign($T, $F, v.data(), v.size());
}
inline absl::StatusOr<absl::Span<$CH>> $MBuilder::alloc_$n(std::size_t n) {
$SETCASE  absl::StatusOr<std::byte*> p = w_.Alloc($T, $F, n);
  if (!p.ok()) return p.status();
  return absl::Span<$CH>(reinterpret_cast<$CH*>(*p), n);
}
)", v));
          if (bytes) absl::StrAppend(&builder_def, Fill(R"(inline absl::Status $MBuilder::set_$n(absl::Span<const std::uint8_t> v) {
$SETCASE  return w_.Assign($T, $F, v.data(), v.size());
}
)", v));
          absl::StrAppend(&from_proto, guard_open, Fill(R"(  if (absl::Status s = set_$n(std::string_view(in.$n())); !s.ok()) return s;
)", v), guard_close);
          absl::StrAppend(&flat_size, guard_open, Fill("  ::ringcast::idl::internal::Take(c, in.$n().size(), 1);\n", v), guard_close);
          absl::StrAppend(&to_proto, in_oneof ? Fill("  if (has_$n()) {\n", v) : "  {\n",
                          Fill(bytes ? "    const auto b = $n();\n    out->set_$n(std::string(reinterpret_cast<const char*>(b.data()), b.size()));\n  }\n"
                                     : "    const std::string_view s = $n();\n    out->set_$n(std::string(s.data(), s.size()));\n  }\n", v));
          break;
        }
        case Kind::kMessage: {
          if (!in_oneof) {
            absl::StrAppend(&view_decl, Fill("  bool has_$n() const;\n", v));
            absl::StrAppend(&view_def, Fill("inline bool $MView::has_$n() const { return r_.GetBool($PRES); }\n", v));
          }
          absl::StrAppend(&view_decl, Fill("  $XV $n() const;\n", v));
          absl::StrAppend(&view_def, Fill("inline $XV $MView::$n() const { return $XV(r_.Inline($OFF)); }\n", v));
          absl::StrAppend(&builder_decl, Fill("  // Marks $n present and returns its builder (it lives inline).\n  $XB mutable_$n();\n", v));
          absl::StrAppend(&builder_def, Fill(R"(inline $XB $MBuilder::mutable_$n() {
$SETCASE  w_.Set<std::uint8_t>($PRES, 1);
  return $XB(w_.Inline($OFF));
}
)", v));
          const std::string g = in_oneof ? guard_open : Fill("  if (in.has_$n()) {\n", v);
          absl::StrAppend(&from_proto, g, Fill("    if (absl::Status s = mutable_$n().FromProto(in.$n()); !s.ok()) return s;\n  }\n", v));
          absl::StrAppend(&flat_size, g, Fill("    $XB::AddFlatSize(in.$n(), c);\n  }\n", v));
          absl::StrAppend(&to_proto, Fill("  if (has_$n()) $n().ToProto(out->mutable_$n(), depth + 1);\n", v));
          break;
        }
        default: {
          const bool is_enum = f.kind == Kind::kEnum;
          v.push_back({"$RET", is_enum ? Fill("$E", v) : std::string(Scalar(f.kind))});
          const std::string load = f.kind == Kind::kBool ? Fill("r_.GetBool($OFF)", v)
                                   : is_enum ? Fill("static_cast<$E>(r_.Get<std::int32_t>($OFF))", v)
                                             : Fill("r_.Get<$S>($OFF)", v);
          v.push_back({"$LOAD", load});
          absl::StrAppend(&view_decl, Fill("  $RET $n() const;\n", v));
          absl::StrAppend(&view_def, Fill(in_oneof
              ? "inline $RET $MView::$n() const { return $ACTIVE ? $LOAD : $RET(); }\n"
              : "inline $RET $MView::$n() const { return $LOAD; }\n", v));
          absl::StrAppend(&builder_decl, Fill("  void set_$n($RET v);\n", v));
          const std::string store = f.kind == Kind::kBool ? "w_.Set<std::uint8_t>($OFF, v ? 1 : 0);"
                                    : is_enum ? "w_.Set<std::int32_t>($OFF, static_cast<std::int32_t>(v));"
                                              : "w_.Set<$S>($OFF, v);";
          absl::StrAppend(&builder_def, Fill(absl::StrCat("inline void $MBuilder::set_$n($RET v) {\n$SETCASE  ", store, "\n}\n"), v));
          absl::StrAppend(&from_proto, guard_open, Fill("  set_$n(in.$n());\n", v), guard_close);
          absl::StrAppend(&to_proto, Fill(in_oneof ? "  if (has_$n()) out->set_$n($n());\n" : "  out->set_$n($n());\n", v));
          break;
        }
      }
      continue;
    }

    // Repeated fields.
    switch (f.kind) {
      case Kind::kString:
      case Kind::kBytes: {
        const bool bytes = f.kind == Kind::kBytes;
        v.push_back({"$ELEM", bytes ? "absl::Span<const std::uint8_t>" : "std::string_view"});
        absl::StrAppend(&view_decl, Fill("  ::ringcast::idl::RepeatedStrings<$ELEM> $n() const;\n", v));
        absl::StrAppend(&view_def, Fill(R"(inline ::ringcast::idl::RepeatedStrings<$ELEM> $MView::$n() const {
  return {r_, r_.GetArray($OFF, sizeof(::ringcast::idl::Ref), alignof(::ringcast::idl::Ref))};
}
)", v));
        absl::StrAppend(&builder_decl, Fill(R"(  // Allocates n empty elements of $n; fill them with set_$n(i, ...).
  absl::Status alloc_$n(std::size_t n);
  absl::Status set_$n(std::size_t i, std::string_view v);
  absl::Status add_$n(std::string_view v);
)", v));
        absl::StrAppend(&builder_def, Fill(R"(inline absl::Status $MBuilder::alloc_$n(std::size_t n) {
  return w_.Alloc($T, $F, n).status();
}
inline absl::Status $MBuilder::set_$n(std::size_t i, std::string_view v) {
  return w_.AssignElement($T, $F, i, v.data(), v.size());
}
inline absl::Status $MBuilder::add_$n(std::string_view v) {
  absl::StatusOr<std::byte*> p = w_.Append($T, $F);
  if (!p.ok()) return p.status();
  return w_.AssignElement($T, $F, w_.Get<::ringcast::idl::Ref>($OFF).count - 1, v.data(), v.size());
}
)", v));
        absl::StrAppend(&from_proto, Fill(R"(  if (absl::Status s = alloc_$n(static_cast<std::size_t>(in.$n_size())); !s.ok()) return s;
  for (int i = 0; i < in.$n_size(); ++i) {
    if (absl::Status s = set_$n(static_cast<std::size_t>(i), std::string_view(in.$n(i))); !s.ok()) return s;
  }
)", v));
        absl::StrAppend(&flat_size, Fill(R"(  ::ringcast::idl::internal::Take(c, std::uint64_t(in.$n_size()) * sizeof(::ringcast::idl::Ref), alignof(::ringcast::idl::Ref));
  for (const std::string& s : in.$n()) ::ringcast::idl::internal::Take(c, s.size(), 1);
)", v));
        absl::StrAppend(&to_proto, Fill(bytes
            ? "  for (const auto b : $n()) out->add_$n(std::string(reinterpret_cast<const char*>(b.data()), b.size()));\n"
            : "  for (const std::string_view s : $n()) out->add_$n(std::string(s.data(), s.size()));\n", v));
        break;
      }
      case Kind::kMessage: {
        absl::StrAppend(&view_decl, Fill("  ::ringcast::idl::RepeatedMessages<$XV> $n() const;\n", v));
        absl::StrAppend(&view_def, Fill(R"(inline ::ringcast::idl::RepeatedMessages<$XV> $MView::$n() const {
  return {r_, r_.GetArray($OFF, $XSIZE, ::ringcast::idl::kMessageAlign), $XSIZE};
}
)", v));
        absl::StrAppend(&builder_decl, Fill(R"(  // Allocates n zeroed elements of $n; build each through the result.
  absl::StatusOr<::ringcast::idl::RepeatedBuilders<$XB>> alloc_$n(std::size_t n);
  // Appends one element (moving the array if something was allocated
  // after it: builders of earlier elements then point at the old copy).
  absl::StatusOr<$XB> add_$n();
)", v));
        absl::StrAppend(&builder_def, Fill(R"(inline absl::StatusOr<::ringcast::idl::RepeatedBuilders<$XB>> $MBuilder::alloc_$n(std::size_t n) {
  absl::StatusOr<std::byte*> p = w_.Alloc($T, $F, n);
  if (!p.ok()) return p.status();
  return ::ringcast::idl::RepeatedBuilders<$XB>(w_.arena(), w_.OffsetOf(*p), n, $XSIZE);
}
inline absl::StatusOr<$XB> $MBuilder::add_$n() {
  absl::StatusOr<std::byte*> p = w_.Append($T, $F);
  if (!p.ok()) return p.status();
  return $XB(::ringcast::idl::internal::Writer(w_.arena(), w_.OffsetOf(*p)));
}
)", v));
        absl::StrAppend(&from_proto, Fill(R"(  {
    absl::StatusOr<::ringcast::idl::RepeatedBuilders<$XB>> a = alloc_$n(static_cast<std::size_t>(in.$n_size()));
    if (!a.ok()) return a.status();
    for (int i = 0; i < in.$n_size(); ++i) {
      if (absl::Status s = (*a)[static_cast<std::size_t>(i)].FromProto(in.$n(i)); !s.ok()) return s;
    }
  }
)", v));
        absl::StrAppend(&flat_size, Fill(R"(  ::ringcast::idl::internal::Take(c, std::uint64_t(in.$n_size()) * $XSIZE, ::ringcast::idl::kMessageAlign);
  for (const auto& e : in.$n()) $XB::AddFlatSize(e, c);
)", v));
        absl::StrAppend(&to_proto, Fill("  for (const $XV e : $n()) e.ToProto(out->add_$n(), depth + 1);\n", v));
        break;
      }
      default: {
        if (f.kind == Kind::kBool) {
          absl::StrAppend(&view_decl, Fill("  ::ringcast::idl::RepeatedBools $n() const;\n", v));
          absl::StrAppend(&view_def, Fill("inline ::ringcast::idl::RepeatedBools $MView::$n() const {\n  return ::ringcast::idl::RepeatedBools(r_.GetSpan<std::uint8_t>($OFF));\n}\n", v));
        } else {
          absl::StrAppend(&view_decl, Fill("  absl::Span<const $S> $n() const;\n", v));
          absl::StrAppend(&view_def, Fill("inline absl::Span<const $S> $MView::$n() const { return r_.GetSpan<$S>($OFF); }\n", v));
        }
        v.push_back({"$ADDT", f.kind == Kind::kEnum ? Fill("$E", v) : std::string(Scalar(f.kind))});
        absl::StrAppend(&builder_decl, Fill(R"(  // Allocates n elements of $n and returns them to fill in place.
  absl::StatusOr<absl::Span<$S>> alloc_$n(std::size_t n);
  absl::Status set_$n(absl::Span<const $S> v);
  absl::Status add_$n($ADDT v);
)", v));
        absl::StrAppend(&builder_def, Fill(R"(inline absl::StatusOr<absl::Span<$S>> $MBuilder::alloc_$n(std::size_t n) {
  absl::StatusOr<std::byte*> p = w_.Alloc($T, $F, n);
  if (!p.ok()) return p.status();
  return absl::Span<$S>(reinterpret_cast<$S*>(*p), n);
}
inline absl::Status $MBuilder::set_$n(absl::Span<const $S> v) {
  return w_.Assign($T, $F, v.data(), v.size());
}
inline absl::Status $MBuilder::add_$n($ADDT v) {
  absl::StatusOr<std::byte*> p = w_.Append($T, $F);
  if (!p.ok()) return p.status();
  const $S e = static_cast<$S>(v);
  std::memcpy(*p, &e, sizeof e);
  return absl::OkStatus();
}
)", v));
        absl::StrAppend(&from_proto, Fill(R"(  if (absl::Status s = set_$n(absl::Span<const $S>(reinterpret_cast<const $S*>(in.$n().data()), static_cast<std::size_t>(in.$n_size()))); !s.ok()) return s;
)", v));
        absl::StrAppend(&flat_size, Fill("  ::ringcast::idl::internal::Take(c, std::uint64_t(in.$n_size()) * sizeof($S), alignof($S));\n", v));
        absl::StrAppend(&to_proto, Fill(f.kind == Kind::kBool
            ? "  for (const bool b : $n()) out->add_$n(b);\n"
            : "  {\n    const absl::Span<const $S> s = $n();\n    out->mutable_$n()->Add(s.begin(), s.end());\n  }\n", v));
        break;
      }
    }
  }

  // Header: the classes.
  absl::StrAppend(classes, Fill(R"(
// $FULL: a read view. Make one with Create(), which validates the buffer
// once; accessors then read in place (strings and spans point into it).
class $MView {
 public:
  static absl::StatusOr<$MView> Create(absl::Span<const std::byte> buffer);
  explicit $MView(::ringcast::idl::internal::Reader r) : r_(r) {}
)", base), view_decl, Fill(R"(
  // Copies every field into the protobuf class (cleared first). `depth` is
  // the nesting level so far: past ::ringcast::idl::kMaxDepth copying stops,
  // so a buffer rewritten after Create cannot recurse without bound.
  void ToProto($P* out, int depth = 0) const;

 private:
  ::ringcast::idl::internal::Reader r_;
};

// $FULL: a builder writing in place into a caller's buffer. Scalars are
// set in the head; strings, bytes and repeated fields are allocated from
// the buffer's tail in call order. Nested builders live as long as the root.
class $MBuilder {
 public:
  // Zeroes the head; InvalidArgument if `buffer` is not 8-aligned or
  // smaller than $HEAD bytes.
  static absl::StatusOr<$MBuilder> Create(absl::Span<std::byte> buffer);
  explicit $MBuilder(::ringcast::idl::internal::Writer w) : w_(std::move(w)) {}
)", base), builder_decl, Fill(R"(
  // Writes every field of `in` (into a freshly created builder).
  absl::Status FromProto(const $P& in);
  // The exact bytes a root builder needs for FromProto(in).
  static std::size_t FlatSize(const $P& in);
  static void AddFlatSize(const $P& in, std::uint64_t* c);
  // Bytes of the buffer used so far (head and tail), from its start.
  std::size_t UsedSize() const { return w_.arena()->used; }
  absl::Span<const std::byte> UsedBytes() const { return {w_.arena()->data, w_.arena()->used}; }
  // A view of what was built so far.
  $MView AsView() const;

 private:
  ::ringcast::idl::internal::Writer w_;
};

// $FULL: the flat type, as publishers and subscribers name it.
struct $M {
  using View = $MView;
  using Builder = $MBuilder;
  using Proto = $P;
  static constexpr std::string_view kTypeName = "$FULL";
  // FNV-1a 64 of the layout description (idl/layout.h).
  static constexpr std::uint64_t kTypeHash = $HASHull;
  static constexpr std::uint32_t kHeadSize = $HEAD;
  static const ::ringcast::idl::MessageTable& Table();
  // Serialized google.protobuf.FileDescriptorSet of this file and its
  // imports, for the registry and the CLI.
  static std::string_view DescriptorSet();
  // Protobuf object -> new flat buffer of exactly FlatSize() bytes.
  static absl::StatusOr<std::vector<std::byte>> FromProto(const Proto& in);
  // Validated flat buffer -> protobuf object.
  static absl::Status ToProto(absl::Span<const std::byte> buffer, Proto* out);
};
)", base));

  // Header: inline definitions.
  absl::StrAppend(inlines, "\n// ", d->full_name(), "\n", Fill(R"(inline absl::StatusOr<$MView> $MView::Create(absl::Span<const std::byte> buffer) {
  if (absl::Status s = ::ringcast::idl::Validate($T, buffer); !s.ok()) return s;
  return $MView(::ringcast::idl::internal::Reader(buffer.data(), static_cast<std::uint32_t>(buffer.size()), 0));
}
inline absl::StatusOr<$MBuilder> $MBuilder::Create(absl::Span<std::byte> buffer) {
  absl::StatusOr<::ringcast::idl::internal::Writer> w = ::ringcast::idl::internal::Writer::Root($T, buffer);
  if (!w.ok()) return w.status();
  return $MBuilder(std::move(*w));
}
inline $MView $MBuilder::AsView() const {
  return $MView(::ringcast::idl::internal::Reader(w_.arena()->data, w_.arena()->used, w_.base()));
}
inline std::size_t $MBuilder::FlatSize(const $P& in) {
  std::uint64_t c = $HEAD;
  AddFlatSize(in, &c);
  return static_cast<std::size_t>(c);
}
inline const ::ringcast::idl::MessageTable& $M::Table() { return $T; }
)", base), view_def, builder_def);

  // Source: the table and the conversions.
  const std::string oneofs = [&] {
    std::string s;
    for (const OneofLayout& o : m.oneofs()) absl::StrAppend(&s, o.offset, ", ");
    return s;
  }();
  absl::StrAppend(source, "\n// ", d->full_name(), "\n");
  if (!m.fields().empty()) {
    absl::StrAppend(source, Fill("const ::ringcast::idl::FieldTable k$MFields[] = {\n", base), fields, "};\n");
  }
  if (!m.oneofs().empty()) {
    absl::StrAppend(source, Fill("const std::uint32_t k$MOneofs[] = {", base), oneofs, "};\n");
  }
  absl::StrAppend(source, Fill(absl::StrCat("}  // namespace internal\n\nconst ::ringcast::idl::MessageTable internal::k$MTable = {\"$FULL\", $HEAD, ",
      m.fields().size(), ", ", m.fields().empty() ? "nullptr" : "internal::k$MFields", ", ",
      m.oneofs().size(), ", ", m.oneofs().empty() ? "nullptr" : "internal::k$MOneofs", "};\n"), base));
  absl::StrAppend(source, Fill(R"(
void $MView::ToProto($P* out, int depth) const {
  out->Clear();
  if (depth > ::ringcast::idl::kMaxDepth) return;
)", base), to_proto, Fill(R"(}

absl::Status $MBuilder::FromProto(const $P& in) {
)", base), from_proto.empty() ? "  (void)in;\n" : from_proto, Fill(R"(  return absl::OkStatus();
}

void $MBuilder::AddFlatSize(const $P& in, std::uint64_t* c) {
)", base), flat_size.empty() ? "  (void)in;\n  (void)c;\n" : flat_size, Fill(R"(}

absl::StatusOr<std::vector<std::byte>> $M::FromProto(const Proto& in) {
  std::vector<std::byte> out(Builder::FlatSize(in));
  absl::StatusOr<Builder> b = Builder::Create(absl::MakeSpan(out));
  if (!b.ok()) return b.status();
  if (absl::Status s = b->FromProto(in); !s.ok()) return s;
  return out;
}

absl::Status $M::ToProto(absl::Span<const std::byte> buffer, Proto* out) {
  absl::StatusOr<View> v = View::Create(buffer);
  if (!v.ok()) return v.status();
  v->ToProto(out);
  return absl::OkStatus();
}

namespace internal {
)", base));
}

}  // namespace ringcast::idl::plugin::internal
