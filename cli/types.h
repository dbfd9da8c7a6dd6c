// cli/types.h: the message types a domain's registry knows, as `ringcast
// type list` and `ringcast type show` print them: each with its hash, the
// flat head size its stored descriptor gives through idl's layout engine
// (idl/dynamic.h), and the .proto source rebuilt from that descriptor.
#ifndef RINGCAST_CLI_TYPES_H_
#define RINGCAST_CLI_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "discovery/graph.h"
#include "transport/shm_options.h"

namespace ringcast::cli {

struct TypeInfo {
  std::string name;
  std::uint64_t hash = 0;
  std::uint64_t descriptor_bytes = 0;      // the stored FileDescriptorSet; 0 = none
  std::optional<std::uint32_t> head_size;  // flat head bytes; nullopt = not known
  std::string file;    // the .proto file defining it (with source)
  std::string source;  // that file rebuilt as .proto text (with source)
  std::string problem;  // why the size or the source is not known, else ""
};

// What `type` says of itself; with `with_source`, its .proto file too.
TypeInfo DescribeType(const discovery::GraphType& type, bool with_source);

// Every registered type called `name` (one per hash), with its source.
// NotFound naming it and the types there are when there is none.
absl::StatusOr<std::vector<TypeInfo>> FindType(const transport::ShmOptions& options,
                                               const std::vector<discovery::GraphType>& types,
                                               absl::string_view name);

// Renderings (each ends with a newline; JSON is one line).
std::string TypeListText(const std::vector<TypeInfo>& types);
std::string TypeListJson(const transport::ShmOptions& o, const std::vector<TypeInfo>& types);
std::string TypeShowText(const std::vector<TypeInfo>& types);
std::string TypeShowJson(const transport::ShmOptions& o, const std::vector<TypeInfo>& types);

}  // namespace ringcast::cli

#endif  // RINGCAST_CLI_TYPES_H_
