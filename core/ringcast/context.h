// core/ringcast/context.h: where a process's ringcast endpoints live and
// how they are configured: the domain, the shared-memory directory and
// prefix, the group segments are shared with, the registry's capacities and
// per-topic QoS rules.
//
//   auto ctx = ringcast::Context::Create();   // defaults, $RINGCAST_CONFIG,
//                                             // $RINGCAST_DOMAIN
//
// Each setting comes from, in this order of precedence (later wins): the
// built-in defaults, the YAML file named by RINGCAST_CONFIG (config.h),
// RINGCAST_DOMAIN, then code (ContextOptions::overrides). A Context is a
// cheap, copyable, immutable handle; share it between threads freely.
#ifndef RINGCAST_CORE_RINGCAST_CONTEXT_H_
#define RINGCAST_CORE_RINGCAST_CONTEXT_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "discovery/registry_config.h"
#include "ringcast/config.h"
#include "ringcast/qos.h"
#include "transport/shm_options.h"

namespace ringcast {

struct ContextOptions {
  // Read this YAML file instead of the one $RINGCAST_CONFIG names ("" reads
  // none).
  std::optional<std::string> config_file;
  // Code's word, which wins over the file and the environment: every field
  // set here. Its topic rules apply after the file's.
  Config overrides;
};

class Context {
 public:
  // InvalidArgument naming the file, line, column and key for a bad YAML
  // file, "RINGCAST_DOMAIN='x' ..." for a bad domain, or the field and its
  // valid range for a bad override.
  static absl::StatusOr<Context> Create(const ContextOptions& options = {});

  std::uint32_t domain() const { return state_->shm.domain; }
  const transport::ShmOptions& shm() const { return state_->shm; }
  const discovery::RegistryConfig& registry_config() const { return state_->registry; }
  // The YAML file read ("" if none).
  const std::string& config_file() const { return state_->config_file; }
  // What the file's rules and then code's rules say for `topic`.
  Qos QosFor(std::string_view topic) const;

 private:
  struct State {
    transport::ShmOptions shm;
    discovery::RegistryConfig registry;
    std::string config_file;
    Config file;
    Config code;
  };
  explicit Context(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_CONTEXT_H_
