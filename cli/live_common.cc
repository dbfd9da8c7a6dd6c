// cli/live_common.cc: a Context on the command's domain and message types
// known by descriptor, for topic echo and topic pub.
#include "cli/live_common.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "discovery/registry.h"
#include "google/protobuf/descriptor.pb.h"
#include "ringcast/msgs/geometry.ringcast.h"
#include "ringcast/msgs/header.ringcast.h"
#include "ringcast/msgs/image.ringcast.h"
#include "ringcast/msgs/imu.ringcast.h"
#include "ringcast/msgs/point_cloud.ringcast.h"
#include "ringcast/msgs/string.ringcast.h"
#include "ringcast/msgs/time.ringcast.h"
#include "transport/names.h"

namespace ringcast::cli {
namespace {

// One type of each file in msgs/: its FileDescriptorSet holds the file and
// its imports, so together they hold every type ringcast ships.
std::vector<std::string_view> ShippedSets() {
  return {msgs::flat::Time::DescriptorSet(),   msgs::flat::Header::DescriptorSet(),
          msgs::flat::String::DescriptorSet(), msgs::flat::Image::DescriptorSet(),
          msgs::flat::PointCloud::DescriptorSet(), msgs::flat::Vector3::DescriptorSet(),
          msgs::flat::Imu::DescriptorSet()};
}

// The message types `set` defines (top-level and nested), by full name.
void AddTypeNames(std::string_view set, std::set<std::string>* names) {
  google::protobuf::FileDescriptorSet files;
  if (!files.ParseFromArray(set.data(), static_cast<int>(set.size()))) return;
  for (const google::protobuf::FileDescriptorProto& f : files.file()) {
    const std::string package = f.package().empty() ? "" : f.package() + ".";
    std::vector<std::pair<std::string, const google::protobuf::DescriptorProto*>> todo;
    for (const auto& m : f.message_type()) todo.emplace_back(package + m.name(), &m);
    while (!todo.empty()) {
      auto [name, m] = todo.back();
      todo.pop_back();
      for (const auto& nested : m->nested_type()) todo.emplace_back(name + "." + nested.name(), &nested);
      names->insert(std::move(name));
    }
  }
}

absl::StatusOr<LiveType> FromDescriptor(std::string name, std::uint64_t hash,
                                        std::string descriptor) {
  absl::StatusOr<std::unique_ptr<idl::DynamicType>> dynamic =
      idl::DynamicType::FromDescriptorSet(descriptor, name);
  if (!dynamic.ok()) return dynamic.status();
  LiveType t;
  t.name = std::move(name);
  t.hash = hash;
  t.descriptor = std::move(descriptor);
  t.dynamic = *std::move(dynamic);
  return t;
}

}  // namespace

absl::StatusOr<Context> LiveContext(const transport::ShmOptions& options) {
  ContextOptions co;
  co.overrides.shm_dir = options.dir;
  co.overrides.shm_prefix = options.prefix;
  co.overrides.domain = options.domain;
  if (options.group) co.overrides.group = std::to_string(*options.group);
  return Context::Create(co);
}

std::string DomainName(const transport::ShmOptions& options) {
  transport::ShmOptions defaults;
  if (options.prefix == defaults.prefix && options.dir == defaults.dir) {
    return absl::StrCat("domain ", options.domain);
  }
  if (options.dir == defaults.dir) {
    return absl::StrCat("domain ", options.domain, " (prefix ", options.prefix, ")");
  }
  return absl::StrCat("domain ", options.domain, " (prefix ", options.prefix, ", dir ",
                      options.dir, ")");
}

absl::StatusOr<LiveTopic> LookupTopic(const transport::ShmOptions& options,
                                      absl::string_view topic) {
  if (absl::Status s = transport::ValidateTopicName(topic); !s.ok()) return s;
  LiveTopic t;
  t.topic = std::string(topic);
  absl::StatusOr<discovery::Registry> registry = discovery::Registry::Open(options);
  if (absl::IsNotFound(registry.status())) return t;  // nobody has joined the domain
  if (!registry.ok()) return registry.status();
  // Joining is one of the moments the dead are noticed: a topic whose
  // every endpoint died is unknown, not waited for.
  registry->ReclaimDead();
  const discovery::RegistrySnapshot snap = registry->Read();
  registry->Leave();  // unlinks the registry if we were its last user
  const discovery::EndpointRecord* pick = nullptr;
  for (const discovery::EndpointRecord& e : snap.endpoints) {
    if (e.topic != topic) continue;
    const bool pub = e.kind == discovery::EndpointKind::kPublisher;
    if (pick == nullptr) {
      pick = &e;
      continue;
    }
    const bool pick_pub = pick->kind == discovery::EndpointKind::kPublisher;
    // The newest publisher's type, else the oldest subscriber's.
    if ((pub && !pick_pub) || (pub && pick_pub && e.id > pick->id) ||
        (!pub && !pick_pub && e.id < pick->id)) {
      pick = &e;
    }
  }
  if (pick == nullptr) return t;
  t.known = true;
  t.type_name = pick->type_name;
  t.type_hash = pick->type_hash;
  for (const discovery::TypeRecord& type : snap.types) {
    if (type.name == t.type_name && type.hash == t.type_hash) t.descriptor = type.descriptor;
  }
  return t;
}

TypeSupport LiveType::support() const {
  TypeSupport s;
  s.type_name = name;
  s.type_hash = hash;
  s.descriptor_set = descriptor;
  s.head_size = dynamic->layout().size();
  s.fixed_size = !TypeSupport::HasTail(dynamic->layout().table());
  return s;
}

absl::StatusOr<LiveType> TypeOfTopic(const LiveTopic& topic) {
  const std::string what = absl::StrFormat("type %s (hash %016x) of %s", topic.type_name,
                                           topic.type_hash, topic.topic);
  if (topic.descriptor.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " has no stored descriptor (its endpoints registered none), so it cannot be "
              "decoded; publish it with a type generated by ringcast's protoc plugin"));
  }
  absl::StatusOr<LiveType> t = FromDescriptor(topic.type_name, topic.type_hash, topic.descriptor);
  if (!t.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": its stored descriptor is unusable: ", t.status().message()));
  }
  if (t->dynamic->layout().type_hash() != topic.type_hash) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: its stored descriptor gives layout hash %016x, not the topic's; it was "
        "registered by a different ringcast version",
        what, t->dynamic->layout().type_hash()));
  }
  return t;
}

std::vector<std::string> ShippedTypeNames() {
  std::set<std::string> names;
  for (std::string_view set : ShippedSets()) AddTypeNames(set, &names);
  return {names.begin(), names.end()};
}

absl::StatusOr<LiveType> TypeByName(const transport::ShmOptions& options,
                                    absl::string_view name) {
  const std::string wanted(name);
  // The registry first: a user's own type, as its publishers stored it.
  if (absl::StatusOr<discovery::Registry> registry = discovery::Registry::Observe(options);
      registry.ok()) {
    for (const discovery::TypeRecord& type : registry->Read().types) {
      if (type.name != wanted || type.descriptor.empty()) continue;
      absl::StatusOr<LiveType> t = FromDescriptor(type.name, type.hash, type.descriptor);
      if (t.ok() && t->dynamic->layout().type_hash() == type.hash) return t;
    }
  }
  std::set<std::string> shipped;
  for (std::string_view set : ShippedSets()) {
    std::set<std::string> here;
    AddTypeNames(set, &here);
    if (here.count(wanted) != 0) {
      absl::StatusOr<LiveType> t = FromDescriptor(wanted, 0, std::string(set));
      if (!t.ok()) return t.status();
      t->hash = t->dynamic->layout().type_hash();
      return t;
    }
    shipped.insert(here.begin(), here.end());
  }
  return absl::NotFoundError(absl::StrCat(
      "unknown type ", name, ": the registry of ", DomainName(options),
      " stores no descriptor of it and ringcast ships no such type; shipped: ",
      absl::StrJoin(shipped, ", ")));
}

}  // namespace ringcast::cli
