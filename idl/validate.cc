#include "idl/validate.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"

namespace ringcast::idl {
namespace {

struct Range {
  std::uint64_t begin;
  std::uint64_t end;
  const MessageTable* owner;  // for messages: whose field refers to it
  const FieldTable* field;    // nullptr: the root head
};

std::string FieldName(const MessageTable* owner, const FieldTable* field) {
  if (field == nullptr) return absl::StrCat(owner->full_name, " (root head)");
  return absl::StrCat(owner->full_name, ".", field->name);
}

class Validator {
 public:
  explicit Validator(absl::Span<const std::byte> buffer)
      : data_(buffer.data()), size_(buffer.size()) {}

  absl::Status Run(const MessageTable& root) {
    if (reinterpret_cast<std::uintptr_t>(data_) % kMessageAlign != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          root.full_name, ": buffer starts at 0x", absl::Hex(reinterpret_cast<std::uintptr_t>(data_)),
          ", which is not ", kMessageAlign, "-aligned; flat buffers must start ",
          kMessageAlign, "-aligned"));
    }
    if (size_ > UINT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat(
          root.full_name, ": buffer of ", size_, " bytes; flat buffers hold at most ",
          UINT32_MAX, " bytes"));
    }
    if (size_ < root.size) {
      return absl::DataLossError(absl::StrCat(
          root.full_name, ": buffer of ", size_, " bytes is shorter than the ",
          root.size, "-byte head of the message"));
    }
    ranges_.push_back({0, root.size, &root, nullptr});
    covered_ = root.size;
    if (absl::Status s = Message(root, 0, 0); !s.ok()) return s;
    if (ranges_.size() < 2) return absl::OkStatus();
    std::sort(ranges_.begin(), ranges_.end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin; });
    for (std::size_t i = 1; i < ranges_.size(); ++i) {
      const Range& a = ranges_[i - 1];
      const Range& b = ranges_[i];
      if (b.begin < a.end) {
        return absl::DataLossError(absl::StrCat(
            FieldName(b.owner, b.field), ": bytes [", b.begin, ", ", b.end,
            ") overlap those of ", FieldName(a.owner, a.field), " [", a.begin, ", ",
            a.end, "); every referenced range must be disjoint"));
      }
    }
    return absl::OkStatus();
  }

 private:
  template <typename T>
  T Load(std::uint64_t offset) const {
    T v;
    std::memcpy(&v, data_ + offset, sizeof v);
    return v;
  }

  absl::Status Message(const MessageTable& t, std::uint64_t base, int depth) {
    if (depth > kMaxDepth) {
      return absl::DataLossError(absl::StrCat(
          t.full_name, ": nested ", depth, " levels deep at offset ", base,
          "; at most ", kMaxDepth, " levels are accepted"));
    }
    for (std::uint32_t i = 0; i < t.oneof_count; ++i) {
      const auto value = Load<std::uint32_t>(base + t.oneof_offsets[i]);
      if (value == 0) continue;
      bool member = false;
      for (std::uint32_t f = 0; f < t.field_count; ++f) {
        member |= t.fields[f].oneof == i + 1 && t.fields[f].number == value;
      }
      if (!member) {
        return absl::DataLossError(absl::StrCat(
            t.full_name, ": oneof #", i, " at offset ", base + t.oneof_offsets[i],
            " says field ", value, " is set, which is not a member of it"));
      }
    }
    for (std::uint32_t i = 0; i < t.field_count; ++i) {
      const FieldTable& f = t.fields[i];
      if (f.oneof != 0 &&
          Load<std::uint32_t>(base + t.oneof_offsets[f.oneof - 1]) != f.number) {
        continue;  // an inactive oneof member is never read
      }
      if (absl::Status s = Field(t, f, base, depth); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status CheckBool(const MessageTable& t, const FieldTable& f, std::uint64_t at,
                         const char* what) const {
    const auto b = Load<std::uint8_t>(at);
    if (b > 1) {
      return absl::DataLossError(absl::StrCat(FieldName(&t, &f), ": ", what, " byte at offset ",
                                              at, " is ", b, "; expected 0 or 1"));
    }
    return absl::OkStatus();
  }

  // Checks `r` as `count` elements of `elem_size` bytes aligned to `align`
  // and records its range.
  absl::Status Reference(const MessageTable& t, const FieldTable& f, Ref r,
                         std::uint32_t elem_size, std::uint32_t align) {
    if (r.count == 0) {
      if (r.offset != 0) {
        return absl::DataLossError(absl::StrCat(FieldName(&t, &f), ": empty reference has offset ",
                                                r.offset, "; expected offset 0"));
      }
      return absl::OkStatus();
    }
    const std::uint64_t bytes = std::uint64_t{r.count} * elem_size;
    if (r.offset % align != 0) {
      return absl::DataLossError(absl::StrCat(FieldName(&t, &f), ": offset ", r.offset,
                                              " is not a multiple of ", align,
                                              ", the alignment of its elements"));
    }
    if (r.offset + bytes > size_) {
      return absl::DataLossError(absl::StrCat(
          FieldName(&t, &f), ": ", r.count, " elements of ", elem_size, " bytes at offset ",
          r.offset, " end at ", r.offset + bytes, ", past the buffer end ", size_));
    }
    // Disjoint ranges cannot cover more bytes than the buffer holds; this
    // stops a reference cycle long before the final overlap check.
    covered_ += bytes;
    if (covered_ > size_) {
      return absl::DataLossError(absl::StrCat(
          FieldName(&t, &f), ": references cover ", covered_, " bytes of a ", size_,
          "-byte buffer, so some overlap; every referenced range must be disjoint"));
    }
    ranges_.push_back({r.offset, r.offset + bytes, &t, &f});
    return absl::OkStatus();
  }

  absl::Status Field(const MessageTable& t, const FieldTable& f, std::uint64_t base,
                     int depth) {
    const std::uint64_t at = base + f.offset;
    if (!f.repeated) {
      switch (f.kind) {
        case Kind::kBool:
          return CheckBool(t, f, at, "bool");
        case Kind::kString:
        case Kind::kBytes:
          return Reference(t, f, Load<Ref>(at), 1, 1);
        case Kind::kMessage:
          if (f.presence != kNoPresence) {
            if (absl::Status s = CheckBool(t, f, base + f.presence, "presence"); !s.ok()) {
              return s;
            }
          }
          return Message(*f.message, at, depth + 1);
        default:
          return absl::OkStatus();
      }
    }
    const Ref r = Load<Ref>(at);
    const std::uint32_t elem = ElementSize(f);
    if (absl::Status s = Reference(t, f, r, elem, ElementAlign(f)); !s.ok()) return s;
    switch (f.kind) {
      case Kind::kBool:
        for (std::uint32_t i = 0; i < r.count; ++i) {
          if (absl::Status s = CheckBool(t, f, std::uint64_t{r.offset} + i, "bool"); !s.ok()) {
            return s;
          }
        }
        return absl::OkStatus();
      case Kind::kString:
      case Kind::kBytes:
        for (std::uint32_t i = 0; i < r.count; ++i) {
          const Ref e = Load<Ref>(std::uint64_t{r.offset} + std::uint64_t{i} * sizeof(Ref));
          if (absl::Status s = Reference(t, f, e, 1, 1); !s.ok()) return s;
        }
        return absl::OkStatus();
      case Kind::kMessage:
        for (std::uint32_t i = 0; i < r.count; ++i) {
          const std::uint64_t element = std::uint64_t{r.offset} + std::uint64_t{i} * elem;
          if (absl::Status s = Message(*f.message, element, depth + 1); !s.ok()) return s;
        }
        return absl::OkStatus();
      default:
        return absl::OkStatus();
    }
  }

  const std::byte* data_;
  std::uint64_t size_;
  std::uint64_t covered_ = 0;
  absl::InlinedVector<Range, 16> ranges_;
};

}  // namespace

namespace {

// The fast path, for the common flat message: scalars, bools, strings and
// bytes, no nested message, oneof or repeated field, at most kFastRefs
// references. It checks exactly what Validator does (alignment, size,
// bools, every reference inside the buffer and disjoint from the head and
// from each other) without building a range list; anything else, and
// every failure (for its message), goes to Validator.
constexpr std::uint32_t kFastRefs = 8;

bool FastValid(const MessageTable& t, absl::Span<const std::byte> buffer) {
  const std::byte* data = buffer.data();
  const std::uint64_t size = buffer.size();
  if (t.oneof_count != 0 || reinterpret_cast<std::uintptr_t>(data) % kMessageAlign != 0 ||
      size > UINT32_MAX || size < t.size) {
    return false;
  }
  std::uint64_t begin[kFastRefs], end[kFastRefs];
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < t.field_count; ++i) {
    const FieldTable& f = t.fields[i];
    if (f.repeated || f.kind == Kind::kMessage) return false;
    if (f.kind == Kind::kBool) {
      if (static_cast<std::uint8_t>(data[f.offset]) > 1) return false;
      continue;
    }
    if (f.kind != Kind::kString && f.kind != Kind::kBytes) continue;
    Ref r;
    std::memcpy(&r, data + f.offset, sizeof r);
    if (r.count == 0) {
      if (r.offset != 0) return false;
      continue;
    }
    const std::uint64_t b = r.offset, e = b + r.count;
    if (b < t.size || e > size || n == kFastRefs) return false;  // overlaps the head, or past
    for (std::uint32_t k = 0; k < n; ++k) {
      if (b < end[k] && begin[k] < e) return false;  // overlaps another
    }
    begin[n] = b;
    end[n] = e;
    ++n;
  }
  return true;
}

}  // namespace

absl::Status Validate(const MessageTable& table, absl::Span<const std::byte> buffer) {
  if (FastValid(table, buffer)) return absl::OkStatus();
  return Validator(buffer).Run(table);
}

absl::Status internal::ValidateFully(const MessageTable& table,
                                     absl::Span<const std::byte> buffer) {
  return Validator(buffer).Run(table);
}

}  // namespace ringcast::idl
