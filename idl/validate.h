// idl/validate.h: the one check a flat buffer passes before any view reads
// it (flat_format.h says what is checked).
#ifndef RINGCAST_IDL_VALIDATE_H_
#define RINGCAST_IDL_VALIDATE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "idl/flat_format.h"

namespace ringcast::idl {

// OK if `buffer` holds a well-formed message of type `table`. Otherwise
// DataLoss naming the field path (e.g. "ringcast.msgs.Image.data"), what
// was found and what would be valid; InvalidArgument if the buffer itself is
// unusable (misaligned start, over 4 GiB). Reads only inside `buffer`, each
// byte a bounded number of times; work and memory are O(buffer.size()).
absl::Status Validate(const MessageTable& table, absl::Span<const std::byte> buffer);

namespace internal {
// Validate without its fast path for flat messages of scalars, strings and
// bytes: the reference the fast path is tested against.
absl::Status ValidateFully(const MessageTable& table, absl::Span<const std::byte> buffer);
}  // namespace internal

}  // namespace ringcast::idl

#endif  // RINGCAST_IDL_VALIDATE_H_
