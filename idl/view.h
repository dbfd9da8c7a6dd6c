// idl/view.h: what generated read views and the dynamic reader stand on: a
// position in a validated flat buffer, scalar loads, and ranges over repeated
// fields. Every reference is bounds-checked again where it is read (one
// compare), so a peer that rewrites a buffer after Validate() can make a view
// see wrong values, never read outside the buffer.
#ifndef RINGCAST_IDL_VIEW_H_
#define RINGCAST_IDL_VIEW_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string_view>
#include <type_traits>

#include "absl/types/span.h"
#include "idl/flat_format.h"

namespace ringcast::idl {
namespace internal {

// A message head at `base` of a buffer of `size` bytes; [base, base + head)
// is inside the buffer (whoever makes a Reader checks that).
class Reader {
 public:
  constexpr Reader() = default;
  constexpr Reader(const std::byte* data, std::uint32_t size, std::uint32_t base)
      : data_(data), size_(size), base_(base) {}

  const std::byte* data() const { return data_; }
  std::uint32_t size() const { return size_; }
  std::uint32_t base() const { return base_; }

  template <typename T>
  T Get(std::uint32_t offset) const {
    T v;
    std::memcpy(&v, data_ + base_ + offset, sizeof v);
    return v;
  }
  bool GetBool(std::uint32_t offset) const { return Get<std::uint8_t>(offset) != 0; }

  // True if `r` names `r.count` elements of `elem` bytes aligned to `align`
  // inside the buffer.
  bool Fits(Ref r, std::uint32_t elem, std::uint32_t align) const {
    return r.count == 0 ||
           (r.offset % align == 0 &&
            std::uint64_t{r.offset} + std::uint64_t{r.count} * elem <= size_);
  }

  std::string_view GetString(std::uint32_t offset) const {
    return StringAt(Get<Ref>(offset));
  }
  absl::Span<const std::uint8_t> GetBytes(std::uint32_t offset) const {
    return BytesAt(Get<Ref>(offset));
  }
  std::string_view StringAt(Ref r) const {
    if (r.count == 0 || !Fits(r, 1, 1)) return {};
    return {reinterpret_cast<const char*>(data_ + r.offset), r.count};
  }
  absl::Span<const std::uint8_t> BytesAt(Ref r) const {
    if (r.count == 0 || !Fits(r, 1, 1)) return {};
    return absl::Span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data_ + r.offset), r.count);
  }

  template <typename T>
  absl::Span<const T> GetSpan(std::uint32_t offset) const {
    const Ref r = Get<Ref>(offset);
    if (r.count == 0 || !Fits(r, sizeof(T), alignof(T))) return {};
    return absl::Span<const T>(reinterpret_cast<const T*>(data_ + r.offset), r.count);
  }

  // The head of a nested message stored inline at `offset`.
  Reader Inline(std::uint32_t offset) const { return Reader(data_, size_, base_ + offset); }

  // Elements of the repeated field whose Ref is at `offset`; empty if the
  // reference does not fit.
  Ref GetArray(std::uint32_t offset, std::uint32_t elem, std::uint32_t align) const {
    const Ref r = Get<Ref>(offset);
    return Fits(r, elem, align) ? r : Ref{0, 0};
  }

 private:
  const std::byte* data_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t base_ = 0;
};

// Random-access iteration by index, enough for range-for and <algorithm>.
template <typename Range>
class IndexIterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = typename Range::value_type;
  using difference_type = std::ptrdiff_t;
  using reference = value_type;
  using pointer = void;

  IndexIterator() = default;
  IndexIterator(const Range* range, std::uint32_t i) : range_(range), i_(i) {}
  value_type operator*() const { return (*range_)[i_]; }
  value_type operator[](difference_type n) const { return (*range_)[i_ + n]; }
  IndexIterator& operator++() { ++i_; return *this; }
  IndexIterator operator++(int) { IndexIterator t = *this; ++i_; return t; }
  IndexIterator& operator--() { --i_; return *this; }
  IndexIterator operator--(int) { IndexIterator t = *this; --i_; return t; }
  IndexIterator& operator+=(difference_type n) { i_ += n; return *this; }
  IndexIterator& operator-=(difference_type n) { i_ -= n; return *this; }
  friend IndexIterator operator+(IndexIterator a, difference_type n) { return a += n; }
  friend IndexIterator operator+(difference_type n, IndexIterator a) { return a += n; }
  friend IndexIterator operator-(IndexIterator a, difference_type n) { return a -= n; }
  friend difference_type operator-(IndexIterator a, IndexIterator b) {
    return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
  }
  friend bool operator==(IndexIterator a, IndexIterator b) { return a.i_ == b.i_; }
  friend auto operator<=>(IndexIterator a, IndexIterator b) { return a.i_ <=> b.i_; }

 private:
  const Range* range_ = nullptr;
  std::uint32_t i_ = 0;
};

}  // namespace internal

// The elements of a repeated bool field. Each byte is read as `!= 0`, so
// a byte other than 0 or 1 (possible only in a buffer rewritten after
// Validate()) is never loaded as a bool.
class RepeatedBools {
 public:
  using value_type = bool;
  using iterator = internal::IndexIterator<RepeatedBools>;

  RepeatedBools() = default;
  explicit RepeatedBools(absl::Span<const std::uint8_t> bytes) : bytes_(bytes) {}

  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // REQUIRES: i < size().
  bool operator[](std::size_t i) const { return bytes_[i] != 0; }
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, static_cast<std::uint32_t>(bytes_.size())); }

 private:
  absl::Span<const std::uint8_t> bytes_;
};

// The elements of a repeated string (T = std::string_view) or bytes
// (T = absl::Span<const std::uint8_t>) field.
template <typename T>
class RepeatedStrings {
 public:
  using value_type = T;
  using iterator = internal::IndexIterator<RepeatedStrings>;

  RepeatedStrings() = default;
  RepeatedStrings(internal::Reader buffer, Ref array) : buffer_(buffer), array_(array) {}

  std::size_t size() const { return array_.count; }
  bool empty() const { return array_.count == 0; }
  // REQUIRES: i < size().
  T operator[](std::size_t i) const {
    Ref e;
    std::memcpy(&e, buffer_.data() + array_.offset + i * sizeof(Ref), sizeof e);
    if constexpr (std::is_same_v<T, std::string_view>) {
      return buffer_.StringAt(e);
    } else {
      return buffer_.BytesAt(e);
    }
  }
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, array_.count); }

 private:
  internal::Reader buffer_;
  Ref array_{0, 0};
};

// The elements of a repeated message field, each a view `V`.
template <typename V>
class RepeatedMessages {
 public:
  using value_type = V;
  using iterator = internal::IndexIterator<RepeatedMessages>;

  RepeatedMessages() = default;
  RepeatedMessages(internal::Reader buffer, Ref array, std::uint32_t elem)
      : buffer_(buffer), array_(array), elem_(elem) {}

  std::size_t size() const { return array_.count; }
  bool empty() const { return array_.count == 0; }
  // REQUIRES: i < size().
  V operator[](std::size_t i) const {
    return V(internal::Reader(buffer_.data(), buffer_.size(),
                              array_.offset + static_cast<std::uint32_t>(i) * elem_));
  }
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, array_.count); }

 private:
  internal::Reader buffer_;
  Ref array_{0, 0};
  std::uint32_t elem_ = 0;
};

// A view of generated type `V` over `bytes` that V::Create validated
// before and that have only moved since (an inline sample's copy follows
// its owner): no second validation. Accessors stay bounds-checked.
template <typename V>
V ViewOfValidated(absl::Span<const std::byte> bytes) {
  return V(internal::Reader(bytes.data(), static_cast<std::uint32_t>(bytes.size()), 0));
}

}  // namespace ringcast::idl

#endif  // RINGCAST_IDL_VIEW_H_
