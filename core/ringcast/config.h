// core/ringcast/config.h: the YAML configuration file (RINGCAST_CONFIG): domain, shared-memory
// placement, registry sizes and per-topic QoS rules, parsed strictly so that a typo is an
// error naming its file, line and column rather than a setting silently ignored.
//
//   domain: 3
//   shm:      {dir: /dev/shm, prefix: ringcast, group: video}
//   registry: {max_nodes: 256, max_endpoints: 1024, max_types: 512, max_descriptor_size: 16384}
//   topics:
//     /camera/image: {depth: 4, reliability: reliable, reliable_timeout: 100ms}
//     "/imu/*":      {depth: 64}
//
// Every key is optional. Keys that hold a map (shm, registry, topics, a topic) may be left
// empty. Numbers are plain decimal: no sign, fraction, exponent, hex, '_' or leading zero.
#ifndef RINGCAST_CORE_RINGCAST_CONFIG_H_
#define RINGCAST_CORE_RINGCAST_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringcast/qos.h"

namespace ringcast {

// One entry of the file's `topics` map: the QoS it gives the topics `pattern` matches.
struct QosRule {
  std::string pattern;  // an exact topic name, or a glob with '*' (see TopicMatches)
  Qos qos;
};

// The YAML configuration file, as parsed: unset fields were not in the file. Every field that
// is set has been validated (ranges, names, patterns).
struct Config {
  std::string source;                      // the file it came from ("" if none)
  std::optional<std::uint32_t> domain;     // 0..65535
  std::optional<std::string> shm_dir;      // an absolute path
  std::optional<std::string> shm_prefix;   // [A-Za-z0-9_-], 1..64 chars
  std::optional<std::string> group;        // a group name or a numeric gid; segments then 0660
  std::optional<std::uint32_t> max_nodes, max_endpoints, max_types, max_descriptor_size;
  std::vector<QosRule> topics;             // file order; patterns are unique

  // What the rules say for `topic`: every matching glob rule overlaid in file order, then the
  // exact-name rule (the most specific) on top. Empty if no rule matches.
  Qos QosFor(std::string_view topic) const;
};

// Whether `topic` matches `pattern`: '*' matches any run of characters except '/' (including
// none); "**" matches any run including '/'. Everything else matches itself.
bool TopicMatches(std::string_view pattern, std::string_view topic);

// Parses YAML text; `file` names it in errors ("(config)" if empty), which are InvalidArgument
// and read
//   "<file>:<line>:<column>: <key path> ...: <what would be valid>"
// (1-based line and column of the offending key or value). Text that is empty or holds only
// comments is a valid empty Config.
absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file);

// Reads and parses `path`: NotFound (PermissionDenied, ...) naming the path if it cannot be
// read, else as ParseConfig with `path` as the file name.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// The one place a domain number given as text is validated (RINGCAST_DOMAIN, --domain, YAML):
// plain decimal 0..65535, else InvalidArgument "<from>='<text>' is not a domain number; valid
// 0..65535".
absl::StatusOr<std::uint32_t> ParseDomain(std::string_view text, std::string_view from);

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_CONFIG_H_
