#include "ringcast/context.h"

#include <grp.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ringcast/string_view.h"
#include "transport/names.h"
#include "transport/status_macros.h"

namespace ringcast {
namespace {

// A group given by name or number, as getgrnam_r knows it.
absl::StatusOr<gid_t> ResolveGroup(const std::string& group, std::string_view from) {
  if (std::uint32_t gid = 0; absl::SimpleAtoi(group, &gid)) return static_cast<gid_t>(gid);
  struct group g {};
  struct group* found = nullptr;
  char buf[4096];
  if (::getgrnam_r(group.c_str(), &g, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        internal::ToAbsl(from), " group '", group, "': no such group on this host; valid a group name from "
        "/etc/group or a numeric gid"));
  }
  return found->gr_gid;
}

// Applies every setting `c` makes (from `from`, for errors) onto the state.
template <typename State>
absl::Status Apply(const Config& c, std::string_view from, State* s) {
  if (c.domain) s->shm.domain = *c.domain;
  if (c.shm_dir) s->shm.dir = *c.shm_dir;
  if (c.shm_prefix) s->shm.prefix = *c.shm_prefix;
  if (c.group) {
    RINGCAST_ASSIGN_OR_RETURN(s->shm.group, ResolveGroup(*c.group, from));
  }
  if (c.max_nodes) s->registry.max_nodes = *c.max_nodes;
  if (c.max_endpoints) s->registry.max_endpoints = *c.max_endpoints;
  if (c.max_types) s->registry.max_types = *c.max_types;
  if (c.max_descriptor_size) s->registry.max_descriptor_size = *c.max_descriptor_size;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Context> Context::Create(const ContextOptions& options) {
  auto state = std::make_shared<State>();
  // The YAML file.
  if (options.config_file) {
    state->config_file = *options.config_file;
  } else if (const char* env = std::getenv("RINGCAST_CONFIG"); env != nullptr) {
    state->config_file = env;
  }
  if (!state->config_file.empty()) {
    RINGCAST_ASSIGN_OR_RETURN(state->file, LoadConfigFile(state->config_file));
    RINGCAST_RETURN_IF_ERROR(Apply(state->file, state->config_file, state.get()));
  }
  // The environment.
  if (const char* env = std::getenv("RINGCAST_DOMAIN"); env != nullptr && *env != '\0') {
    RINGCAST_ASSIGN_OR_RETURN(state->shm.domain, ParseDomain(env, "RINGCAST_DOMAIN"));
  }
  // Code.
  state->code = options.overrides;
  for (const QosRule& rule : state->code.topics) {
    if (absl::Status s = ValidateQos(rule.qos); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("ContextOptions topic rule '", rule.pattern,
                                                     "': ", s.message()));
    }
  }
  RINGCAST_RETURN_IF_ERROR(Apply(state->code, "ContextOptions", state.get()));
  if (absl::Status s = transport::ValidateShmOptions(state->shm); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("context: ", s.message()));
  }
  if (absl::Status s = discovery::ValidateRegistryConfig(state->registry); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("context: ", s.message()));
  }
  return Context(std::move(state));
}

Qos Context::QosFor(std::string_view topic) const {
  Qos q = state_->file.QosFor(topic);
  q.Overlay(state_->code.QosFor(topic));
  return q;
}

}  // namespace ringcast
