// transport/status_macros.h: early return on a non-OK absl::Status, for every
// layer (our Abseil, LTS 20220623, has no status_macros.h).
#ifndef RINGCAST_TRANSPORT_STATUS_MACROS_H_
#define RINGCAST_TRANSPORT_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RINGCAST_CONCAT_INNER_(a, b) a##b
#define RINGCAST_CONCAT_(a, b) RINGCAST_CONCAT_INNER_(a, b)

// RINGCAST_RETURN_IF_ERROR(expr): returns the status of `expr` if not OK.
#define RINGCAST_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    const ::absl::Status ringcast_status_ = (expr);      \
    if (!ringcast_status_.ok()) return ringcast_status_; \
  } while (0)

// RINGCAST_ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`;
// returns its status if not OK, else moves its value into `lhs`.
#define RINGCAST_ASSIGN_OR_RETURN(lhs, expr) \
  RINGCAST_ASSIGN_OR_RETURN_IMPL_(RINGCAST_CONCAT_(ringcast_or_, __LINE__), lhs, expr)
#define RINGCAST_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(*tmp)

#endif  // RINGCAST_TRANSPORT_STATUS_MACROS_H_
