// idl/builder.h: what generated builders and the dynamic writer stand on:
// a bump allocator over a caller's buffer (the arena) and a Writer, one
// message head inside it. Builders write in place: nothing is serialized.
//
// Allocation order is the caller's; a field set twice leaves its first
// bytes unreferenced (harmless, they are never read).
#ifndef RINGCAST_IDL_BUILDER_H_
#define RINGCAST_IDL_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "idl/flat_format.h"

namespace ringcast::idl {
namespace internal {

struct Arena {
  std::byte* data = nullptr;
  std::uint32_t capacity = 0;
  std::uint32_t used = 0;  // bytes handed out, the root head included
};

// One message head at `base` of an arena. A root Writer owns its arena and
// stays valid when moved; nested Writers point at the root's arena and
// live no longer than the root builder (like iterators).
class Writer {
 public:
  Writer() = default;
  Writer(Arena* arena, std::uint32_t base) : arena_(arena), base_(base) {}
  Writer(Writer&& o) noexcept { *this = std::move(o); }
  Writer& operator=(Writer&& o) noexcept {
    own_ = o.own_;
    arena_ = o.arena_ == &o.own_ ? &own_ : o.arena_;
    base_ = o.base_;
    return *this;
  }
  // A copy of a root would split its arena; copies of nested ones are fine
  // but not needed.
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Makes `buffer` a root of type `table`: zeroes the head. InvalidArgument
  // if the buffer is misaligned, too large, or smaller than the head.
  static absl::StatusOr<Writer> Root(const MessageTable& table, absl::Span<std::byte> buffer);
  // The same for a buffer that passes those checks (RootFits), with a
  // head of `head_size` bytes: inline, for loans sized by their publisher.
  static Writer RootOfChecked(absl::Span<std::byte> buffer, std::uint32_t head_size) {
    std::memset(buffer.data(), 0, head_size);  // first: no call between the stores below and
                                               // their use
    Writer w;
    w.own_ = Arena{buffer.data(), static_cast<std::uint32_t>(buffer.size()), head_size};
    w.arena_ = &w.own_;
    return w;
  }
  // True if Root would accept `buffer`.
  static bool RootFits(std::uint32_t head_size, absl::Span<const std::byte> buffer) {
    return reinterpret_cast<std::uintptr_t>(buffer.data()) % kMessageAlign == 0 &&
           buffer.size() <= UINT32_MAX && buffer.size() >= head_size;
  }

  Arena* arena() const { return arena_; }
  std::uint32_t base() const { return base_; }
  std::byte* head() const { return arena_->data + base_; }

  template <typename T>
  void Set(std::uint32_t offset, T v) {
    std::memcpy(head() + offset, &v, sizeof v);
  }
  template <typename T>
  T Get(std::uint32_t offset) const {
    T v;
    std::memcpy(&v, head() + offset, sizeof v);
    return v;
  }
  Writer Inline(std::uint32_t offset) const { return Writer(arena_, base_ + offset); }

  // Allocates `count` elements of field `f` (of message `t`), points the
  // field's Ref at them and returns their first byte. Message elements and
  // string references are zeroed; scalar and byte arrays are not (the caller
  // fills them). ResourceExhausted names the field and the sizes.
  absl::StatusOr<std::byte*> Alloc(const MessageTable& t, const FieldTable& f,
                                   std::size_t count);
  // Copies `n` bytes (string, bytes, or a repeated scalar's elements: n is
  // then count * element size) into a new allocation for field `f`.
  // The common case (a string or bytes that fits: no alignment) inline.
  absl::Status Assign(const MessageTable& t, const FieldTable& f, const void* p,
                      std::size_t count) {
    // count fits 32 bits when it fits the capacity.
    if (!f.repeated && count != 0 && count <= arena_->capacity - arena_->used) {
      const std::uint32_t start = arena_->used;
      arena_->used = start + static_cast<std::uint32_t>(count);
      Set<Ref>(f.offset, Ref{start, static_cast<std::uint32_t>(count)});
      std::memcpy(arena_->data + start, p, count);
      return absl::OkStatus();
    }
    return AssignSlow(t, f, p, count);
  }
  // Appends one zeroed element to repeated field `f`, moving the array to
  // the end of the arena if something was allocated after it.
  absl::StatusOr<std::byte*> Append(const MessageTable& t, const FieldTable& f);
  // Element `i` of a repeated string/bytes field (allocated with Alloc):
  // copies `n` bytes and points the element at them. OutOfRange if i is not
  // below the field's count.
  absl::Status AssignElement(const MessageTable& t, const FieldTable& f, std::size_t i,
                             const void* p, std::size_t n);

  // Offset of `p` from the start of the buffer.
  std::uint32_t OffsetOf(const std::byte* p) const {
    return static_cast<std::uint32_t>(p - arena_->data);
  }

 private:
  absl::Status AssignSlow(const MessageTable& t, const FieldTable& f, const void* p,
                          std::size_t count);
  absl::StatusOr<std::uint32_t> Reserve(const MessageTable& t, const FieldTable& f,
                                        std::uint64_t bytes, std::uint32_t align);

  Arena own_;
  Arena* arena_ = nullptr;
  std::uint32_t base_ = 0;
};

// One allocation of FlatSize(): `bytes` at the next multiple of `align`
// (nothing for 0 bytes, like Writer::Alloc).
inline void Take(std::uint64_t* cursor, std::uint64_t bytes, std::uint32_t align) {
  if (bytes != 0) *cursor = (*cursor + align - 1) / align * align + bytes;
}

}  // namespace internal

// For a generated type T: true if `buffer` can hold a root builder of T
// (8-aligned, at least T's head, at most 4 GiB), which T::Builder::Create
// would otherwise refuse, saying why.
template <typename T>
bool CanRoot(absl::Span<const std::byte> buffer) {
  return internal::Writer::RootFits(T::kHeadSize, buffer);
}
// A root builder of T over `buffer`, its head zeroed. REQUIRES:
// CanRoot<T>(buffer). Inline and without a Status on the way, for
// publishers that loan a buffer per message.
template <typename T>
typename T::Builder RootBuilder(absl::Span<std::byte> buffer) {
  return typename T::Builder(internal::Writer::RootOfChecked(buffer, T::kHeadSize));
}

// The element builders of a repeated message field allocated with
// alloc_<field>(n); valid as long as the root builder.
template <typename B>
class RepeatedBuilders {
 public:
  RepeatedBuilders(internal::Arena* arena, std::uint32_t offset, std::size_t count,
                   std::uint32_t elem)
      : arena_(arena), offset_(offset), count_(count), elem_(elem) {}
  std::size_t size() const { return count_; }
  // REQUIRES: i < size().
  B operator[](std::size_t i) const {
    return B(internal::Writer(arena_, offset_ + static_cast<std::uint32_t>(i) * elem_));
  }

 private:
  internal::Arena* arena_;
  std::uint32_t offset_;
  std::size_t count_;
  std::uint32_t elem_;
};

}  // namespace ringcast::idl

#endif  // RINGCAST_IDL_BUILDER_H_
