// tests/support/core_support.h: what tests that make endpoints through
// core's public API (ringcast::Node) need on top of test_support.h: a
// Context on a test's own ShmOptions, a wait for an endpoint to join, and the type and QoS of an endpoint
// of opaque bytes whose topic segment is exactly a transport::TopicConfig.
//
// Header-only, and apart from test_support.h, so that ringcast_test_support
// (and its *_faults variant) keep linking transport only: a test that
// includes this links ringcast::ringcast itself.
#ifndef RINGCAST_TESTS_SUPPORT_CORE_SUPPORT_H_
#define RINGCAST_TESTS_SUPPORT_CORE_SUPPORT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "discovery/registry.h"
#include "ringcast/context.h"
#include "ringcast/qos.h"
#include "ringcast/type_support.h"
#include "transport/shm_options.h"
#include "transport/topic_config.h"

namespace ringcast::testing {

// A Context whose segments are exactly `options`' (directory, prefix,
// domain, group) and whose registry, if it creates one, has `registry`'s
// capacities: no configuration file is read, and RINGCAST_DOMAIN does not
// apply (code's word wins).
inline absl::StatusOr<Context> ContextFor(const transport::ShmOptions& options,
                                          const discovery::RegistryConfig& registry = {}) {
  ContextOptions co;
  co.config_file = "";
  co.overrides.shm_dir = options.dir;
  co.overrides.shm_prefix = options.prefix;
  co.overrides.domain = options.domain;
  if (options.group) co.overrides.group = std::to_string(*options.group);
  co.overrides.max_nodes = registry.max_nodes;
  co.overrides.max_endpoints = registry.max_endpoints;
  co.overrides.max_types = registry.max_types;
  co.overrides.max_descriptor_size = registry.max_descriptor_size;
  return Context::Create(co);
}

// The QoS that makes the topic segment `c` describes: every field of its
// geometry set (core's defaults for what is left unset are not
// transport::TopicConfig's), best effort, volatile unless `transient_local`.
inline Qos QosOf(const transport::TopicConfig& c, bool transient_local = false) {
  Qos q;
  q.set_depth(c.depth)
      .set_inline_capacity(c.inline_capacity)
      .set_max_publishers(c.max_publishers)
      .set_max_subscribers(c.max_subscribers)
      .set_max_held_samples(c.max_held_samples)
      .set_max_message_size(c.max_message_size);
  if (transient_local) q.set_transient_local();
  return q;
}

// Opaque bytes of `c`'s type (its name and hash), with `descriptor` stored
// in the registry as the type's FileDescriptorSet. It views c.type_name and
// `descriptor`: both must outlive it (pass it straight to CreateRaw*).
inline TypeSupport BytesType(const transport::TopicConfig& c, std::string_view descriptor = {}) {
  TypeSupport t;
  t.type_name = c.type_name;
  t.type_hash = c.type_hash;
  t.descriptor_set = descriptor;
  t.head_size = 8;
  t.fixed_size = false;
  return t;
}

// Waits until an endpoint of `kind` on `topic` has its transport entry in
// `options`' registry (it can then see or be seen); false after `timeout`.
inline bool WaitForEndpoint(const transport::ShmOptions& options, const std::string& topic,
                            discovery::EndpointKind kind,
                            absl::Duration timeout = absl::Seconds(60)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (absl::StatusOr<discovery::Registry> reg = discovery::Registry::Observe(options); reg.ok()) {
      for (const discovery::EndpointRecord& e : reg->Read(false).endpoints) {
        if (e.topic == topic && e.kind == kind && e.transport_index != discovery::kNoTransport) {
          return true;
        }
      }
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

}  // namespace ringcast::testing

#endif  // RINGCAST_TESTS_SUPPORT_CORE_SUPPORT_H_
