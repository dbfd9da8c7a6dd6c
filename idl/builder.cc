#include "idl/builder.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringcast::idl::internal {
namespace {

std::uint64_t AlignUp(std::uint64_t v, std::uint32_t align) {
  return (v + align - 1) / align * align;
}

}  // namespace

absl::StatusOr<Writer> Writer::Root(const MessageTable& table, absl::Span<std::byte> buffer) {
  if (reinterpret_cast<std::uintptr_t>(buffer.data()) % kMessageAlign != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        table.full_name, ": buffer at 0x", absl::Hex(reinterpret_cast<std::uintptr_t>(buffer.data())),
        " is not ", kMessageAlign, "-aligned; flat buffers must start ", kMessageAlign,
        "-aligned"));
  }
  if (buffer.size() > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(table.full_name, ": buffer of ",
                                                   buffer.size(), " bytes; at most ",
                                                   UINT32_MAX, " are supported"));
  }
  if (buffer.size() < table.size) {
    return absl::InvalidArgumentError(absl::StrCat(
        table.full_name, ": buffer of ", buffer.size(), " bytes cannot hold the ", table.size,
        "-byte head of the message"));
  }
  return RootOfChecked(buffer, table.size);
}

absl::StatusOr<std::uint32_t> Writer::Reserve(const MessageTable& t, const FieldTable& f,
                                              std::uint64_t bytes, std::uint32_t align) {
  const std::uint64_t start = AlignUp(arena_->used, align);
  if (start + bytes > arena_->capacity) {
    return absl::ResourceExhaustedError(absl::StrCat(
        t.full_name, ".", f.name, ": needs ", bytes, " bytes at offset ", start,
        " but the buffer holds ", arena_->capacity, " bytes (", arena_->used,
        " used); size the buffer with FlatSize() or loan a larger one"));
  }
  arena_->used = static_cast<std::uint32_t>(start + bytes);
  return static_cast<std::uint32_t>(start);
}

absl::StatusOr<std::byte*> Writer::Alloc(const MessageTable& t, const FieldTable& f,
                                         std::size_t count) {
  if (count == 0) {
    Set<Ref>(f.offset, Ref{0, 0});
    return arena_->data + arena_->used;
  }
  if (count > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(t.full_name, ".", f.name, ": ", count,
                                                   " elements; at most ", UINT32_MAX));
  }
  const std::uint32_t elem = f.repeated ? ElementSize(f) : 1;
  const std::uint32_t align = f.repeated ? ElementAlign(f) : 1;
  absl::StatusOr<std::uint32_t> start = Reserve(t, f, std::uint64_t{count} * elem, align);
  if (!start.ok()) return start.status();
  std::byte* p = arena_->data + *start;
  if (f.repeated && (f.kind == Kind::kMessage || f.kind == Kind::kString ||
                     f.kind == Kind::kBytes)) {
    std::memset(p, 0, std::size_t{count} * elem);
  }
  Set<Ref>(f.offset, Ref{*start, static_cast<std::uint32_t>(count)});
  return p;
}

absl::Status Writer::AssignSlow(const MessageTable& t, const FieldTable& f, const void* p,
                                std::size_t count) {
  absl::StatusOr<std::byte*> dst = Alloc(t, f, count);
  if (!dst.ok()) return dst.status();
  const std::size_t bytes = count * (f.repeated ? ElementSize(f) : 1);
  if (bytes != 0) std::memcpy(*dst, p, bytes);
  return absl::OkStatus();
}

absl::StatusOr<std::byte*> Writer::Append(const MessageTable& t, const FieldTable& f) {
  const Ref r = Get<Ref>(f.offset);
  if (r.count == 0) return Alloc(t, f, 1);
  if (r.count == UINT32_MAX) {
    return absl::ResourceExhaustedError(
        absl::StrCat(t.full_name, ".", f.name, ": already holds ", UINT32_MAX, " elements"));
  }
  const std::uint32_t elem = ElementSize(f);
  const std::uint64_t end = std::uint64_t{r.offset} + std::uint64_t{r.count} * elem;
  if (end == arena_->used && end + elem <= arena_->capacity) {
    arena_->used = static_cast<std::uint32_t>(end + elem);  // grow in place
    std::memset(arena_->data + end, 0, elem);
    Set<Ref>(f.offset, Ref{r.offset, r.count + 1});
    return arena_->data + end;
  }
  // Move the array to the end. Nested references are offsets from the
  // buffer start, so element heads copy unchanged.
  absl::StatusOr<std::uint32_t> start =
      Reserve(t, f, (std::uint64_t{r.count} + 1) * elem, ElementAlign(f));
  if (!start.ok()) return start.status();
  std::memcpy(arena_->data + *start, arena_->data + r.offset, std::size_t{r.count} * elem);
  std::byte* last = arena_->data + *start + std::size_t{r.count} * elem;
  std::memset(last, 0, elem);
  Set<Ref>(f.offset, Ref{*start, r.count + 1});
  return last;
}

absl::Status Writer::AssignElement(const MessageTable& t, const FieldTable& f, std::size_t i,
                                   const void* p, std::size_t n) {
  const Ref r = Get<Ref>(f.offset);
  if (i >= r.count) {
    return absl::OutOfRangeError(absl::StrCat(t.full_name, ".", f.name, ": element ", i,
                                              " of ", r.count, "; allocate it first"));
  }
  if (n > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(t.full_name, ".", f.name, "[", i, "]: ",
                                                   n, " bytes; at most ", UINT32_MAX));
  }
  Ref e{0, 0};
  if (n != 0) {
    absl::StatusOr<std::uint32_t> start = Reserve(t, f, n, 1);
    if (!start.ok()) return start.status();
    std::memcpy(arena_->data + *start, p, n);
    e = Ref{*start, static_cast<std::uint32_t>(n)};
  }
  std::memcpy(arena_->data + r.offset + i * sizeof(Ref), &e, sizeof e);
  return absl::OkStatus();
}

}  // namespace ringcast::idl::internal
