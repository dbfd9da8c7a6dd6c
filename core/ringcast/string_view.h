// core/ringcast/string_view.h: the public API speaks std::string_view; the
// layers below speak absl::string_view, which in our Abseil is its own type.
// One conversion, used at that boundary.
#ifndef RINGCAST_CORE_RINGCAST_STRING_VIEW_H_
#define RINGCAST_CORE_RINGCAST_STRING_VIEW_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace ringcast::internal {

inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace ringcast::internal

#endif  // RINGCAST_CORE_RINGCAST_STRING_VIEW_H_
