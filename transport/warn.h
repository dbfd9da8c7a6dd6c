// transport/warn.h: warnings that must not stop an operation. A sweep that
// meets a FIFO planted at a liveness file's name, or a publisher that finds
// a sleeping mask with bits past its table, goes on; the first time each
// such thing is seen, the process says so once.
//
// Warnings go to stderr as "ringcast: warning: ..." unless a program
// installs its own sink (the CLI and tests do). Thread-safe.
#ifndef RINGCAST_TRANSPORT_WARN_H_
#define RINGCAST_TRANSPORT_WARN_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace ringcast::transport {

// Emits `message` unless a warning with the same `key` was emitted before
// by this process. Returns true if it emitted it.
bool WarnOnce(absl::string_view key, absl::string_view message);

// Replaces where warnings go (nullptr: back to stderr). Returns the old sink.
using WarningSink = std::function<void(const std::string& message)>;
WarningSink SetWarningSink(WarningSink sink);

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_WARN_H_
