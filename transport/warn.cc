#include "transport/warn.h"

#include <cstdio>
#include <mutex>
#include <utility>

#include "absl/container/flat_hash_set.h"

namespace ringcast::transport {
namespace {

struct Warnings {
  std::mutex mu;
  absl::flat_hash_set<std::string> seen;
  WarningSink sink;
};

Warnings& State() {
  static Warnings* w = new Warnings;  // never destroyed: may warn at exit
  return *w;
}

}  // namespace

bool WarnOnce(absl::string_view key, absl::string_view message) {
  Warnings& w = State();
  WarningSink sink;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    if (!w.seen.emplace(key).second) return false;
    sink = w.sink;
  }
  const std::string text(message);
  if (sink) {
    sink(text);
  } else {
    std::fprintf(stderr, "ringcast: warning: %s\n", text.c_str());
  }
  return true;
}

WarningSink SetWarningSink(WarningSink sink) {
  Warnings& w = State();
  std::lock_guard<std::mutex> lock(w.mu);
  return std::exchange(w.sink, std::move(sink));
}

}  // namespace ringcast::transport
