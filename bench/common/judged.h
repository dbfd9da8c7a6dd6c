// Figures reported beside the bound they are judged against, and yes/no
// checks: a table line, or (--json) one JSON object per figure, as
// ReportValue in bench_util.h.
#ifndef RINGCAST_BENCH_COMMON_JUDGED_H_
#define RINGCAST_BENCH_COMMON_JUDGED_H_

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "bench/common/bench_util.h"

namespace ringcast::bench {

// What a figure must be: at least or at most `limit`, or not judged.
struct Bound {
  enum Kind { kNone, kAtLeast, kAtMost };
  Kind kind = kNone;
  double limit = 0;

  static Bound AtLeast(double limit) { return {kAtLeast, limit}; }
  static Bound AtMost(double limit) { return {kAtMost, limit}; }
  static Bound NotJudged() { return {}; }

  bool Met(double value) const {
    return kind == kNone || (kind == kAtLeast ? value >= limit : value <= limit);
  }
  // ">= 0.9", "<= 3", or "" when not judged.
  std::string Text() const {
    if (kind == kNone) return "";
    return absl::StrFormat("%s %g", kind == kAtLeast ? ">=" : "<=", limit);
  }
};

// `name metric = value unit`, judged against `bound`: JSON objects carry
// "judged" and "met" besides ReportValue's fields.
inline void ReportJudged(const std::string& name, const char* metric, double value,
                         const char* unit, Bound bound) {
  const bool met = bound.Met(value);
  if (g_json) {
    std::string judged;
    if (bound.kind != Bound::kNone) {
      judged = absl::StrFormat(",\"judged\":\"%s\",\"met\":%s", bound.Text(),
                               met ? "true" : "false");
    }
    std::printf("{\"case\":\"%s\",\"metric\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"%s}\n",
                name.c_str(), metric, value, unit, judged.c_str());
  } else if (bound.kind == Bound::kNone) {
    std::printf("%-58s %9.2f %-6s (not judged)\n", name.c_str(), value, unit);
  } else {
    std::printf("%-58s %9.2f %-6s (judged %s: %s)\n", name.c_str(), value, unit,
                bound.Text().c_str(), met ? "met" : "NOT MET");
  }
}

inline void ReportRatio(const std::string& what, double value, Bound bound) {
  ReportJudged(what, "ratio", value, "x", bound);
}

// A property the run verified: `what: yes` or {"metric":"check","value":1}.
inline void ReportCheck(const std::string& what, bool ok) {
  if (g_json) {
    std::printf("{\"case\":\"%s\",\"metric\":\"check\",\"value\":%d,\"unit\":\"bool\"}\n",
                what.c_str(), ok ? 1 : 0);
  } else {
    std::printf("%-58s %s\n", what.c_str(), ok ? "yes" : "NO");
  }
}

}  // namespace ringcast::bench

#endif  // RINGCAST_BENCH_COMMON_JUDGED_H_
