// transport/names.h: topic names (ROS rules) and the segment names they map
// to. Every segment of a domain is "/<prefix>.<domain>.<rest>":
//   registry  "/<prefix>.<domain>.registry"
//   topic     "/<prefix>.<domain>.t.<topic with '/' as '.'>", e.g.
//             /camera/image -> "/ringcast.0.t.camera.image" ('.' cannot appear
//             in a topic token, so the mapping is reversible)
//   pool      "/<prefix>.<domain>.p.<publisher id, 16 hex>"
//   liveness  "/<prefix>.<domain>.live.<token id, 16 hex>"
// A topic segment name longer than NAME_MAX keeps a readable head and ends
// in "~<16 hex of FNV-1a 64 of the topic>".
#ifndef RINGCAST_TRANSPORT_NAMES_H_
#define RINGCAST_TRANSPORT_NAMES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "transport/shm_options.h"

namespace ringcast::transport {

// OK if `topic` follows the ROS rules: starts with '/', '/'-separated tokens
// of [A-Za-z0-9_], no token starting with a digit, no "__", no empty token, no
// trailing '/'. Otherwise InvalidArgument naming the topic and the rule.
absl::Status ValidateTopicName(absl::string_view topic);

// OK if options' prefix is 1..64 of [A-Za-z0-9_-] and domain <= 65535.
absl::Status ValidateShmOptions(const ShmOptions& options);

// "/<prefix>.<domain>." : the start of every segment name of the domain.
std::string DomainStem(const ShmOptions& options);

// Names in options.dir starting with `stem` ("/<prefix>.<domain>.t." etc.),
// sorted, each with its leading '/'. Empty if the directory is unreadable.
std::vector<std::string> NamesWithStem(const ShmOptions& options, absl::string_view stem);

// How much of options.dir a domain holds, and how much is left.
struct SpaceUsage {
  std::uint64_t domain_bytes = 0;   // allocated by the domain's regular files
  std::uint64_t domain_files = 0;
  std::string largest;              // the name of its largest file ("" if none)
  std::uint64_t largest_bytes = 0;
  std::uint64_t free_bytes = 0;     // free in options.dir for an unprivileged user
  std::uint64_t total_bytes = 0;    // options.dir's size
};
// Counts allocated blocks (not file lengths: the registry's descriptor
// space is a hole until used), by lstat, so a planted FIFO is never opened.
SpaceUsage MeasureSpace(const ShmOptions& options);

// The topic segment's name (validates topic and options).
absl::StatusOr<std::string> TopicSegmentName(const ShmOptions& options,
                                             absl::string_view topic);

// The topic a topic segment name stands for, if it is one of options'
// domain and was not shortened by hashing.
std::optional<std::string> TopicFromSegmentName(const ShmOptions& options,
                                                absl::string_view segment_name);

// FNV-1a, 64-bit: stable across runs, compilers and machines.
std::uint64_t Fnv1a64(absl::string_view bytes);

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_NAMES_H_
