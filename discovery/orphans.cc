// discovery/orphans.cc: finds (and with clean, removes) what dead processes
// and strangers left in a domain's directory: it reads topics through
// transport's snapshots (transport/inspect.h) and cleans through
// transport's own reclaim code.
#include "discovery/orphans.h"

#include <unistd.h>

#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "discovery/registry.h"
#include "transport/inspect.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/segment.h"
#include "transport/shm_file.h"
#include "transport/topic.h"

namespace ringcast::discovery {
namespace {

using transport::EntryPhase;
using transport::Segment;
using transport::ShmOptions;

// Files the domain's names point at, as FindOrphans meets them.
struct Pools {
  absl::flat_hash_set<std::uint64_t> named;  // by any ring
  absl::flat_hash_set<std::uint64_t> live;   // by a ring with an owner
};

// Files a look could not open: a planted one, or another failure.
void Refused(const absl::Status& s, OrphanReport* report) {
  if (transport::IsForeignFile(s) || absl::IsPermissionDenied(s)) {
    report->foreign_files.push_back(std::string(s.message()));
  } else {
    report->errors.push_back(std::string(s.message()));
  }
}

// Step 1, for any segment: true if it is complete and worth a look inside.
// A half-made one (its creator died initialising it) is reported, and
// removed with `clean`.
bool Ready(const ShmOptions& options, const std::string& name, bool clean,
           OrphanReport* report) {
  absl::StatusOr<Segment::Condition> c = Segment::Check(options, name);
  if (absl::IsNotFound(c.status())) return false;  // gone since the listing
  if (!c.ok()) {
    Refused(c.status(), report);
    return false;
  }
  if (*c == Segment::Condition::kBeingCreated) return false;
  if (*c == Segment::Condition::kHalfMade) {
    report->half_made.push_back(name);
    if (clean) {
      if (absl::StatusOr<bool> r = Segment::RemoveIfHalfMade(options, name); !r.ok()) {
        report->errors.push_back(std::string(r.status().message()));
      }
    }
    return false;
  }
  return true;
}

// Step 2: what one topic segment says about its rings and subscribers:
// entries not free whose holder is dead, the pools its rings name, the
// corrupt values its endpoints counted, and the pools nobody needs.
void LookInsideTopic(const ShmOptions& options, const transport::TopicSnapshot& t,
                     OrphanReport* report, Pools* pools) {
  auto stale = [&](const char* kind, std::uint64_t id, std::uint32_t pid, EntryPhase state) {
    report->stale_topic_entries.push_back(absl::StrCat(t.topic, ": ", kind, " ", id, " (pid ",
                                                       pid, ", dead while ",
                                                       transport::EntryPhaseName(state), ")"));
  };
  // Pools by family: a publisher's segments share it (pool_layout.h).
  for (const std::uint64_t pool : t.named_pools) {
    pools->named.insert(transport::internal::PoolFamilyOf(pool));
  }
  for (const transport::RingSnapshot& r : t.rings) {
    if (r.pool_id != 0) pools->live.insert(transport::internal::PoolFamilyOf(r.pool_id));
    if (!r.owner_alive) stale("publisher", r.publisher_id, r.owner_pid, r.state);
    if (r.anomalies != 0) {
      report->anomalies.push_back(absl::StrCat(t.topic, ": publisher ", r.publisher_id,
                                               " (ring ", r.index, ") refused ", r.anomalies,
                                               " corrupt values"));
    }
  }
  for (const transport::SubscriberSnapshot& s : t.subscribers) {
    if (!s.owner_alive) stale("subscriber", s.subscriber_id, s.owner_pid, s.state);
    if (s.anomalies != 0) {
      report->anomalies.push_back(absl::StrCat(t.topic, ": subscriber ", s.subscriber_id,
                                               " (entry ", s.index, ") refused ", s.anomalies,
                                               " corrupt values"));
    }
  }
  for (const std::uint64_t pool : t.drained_pools) {
    for (const std::string& name :
         transport::PoolFamilyNames(options, transport::internal::PoolFamilyOf(pool))) {
      report->orphan_pools.push_back(
          absl::StrCat(name, " (its publisher on ", t.topic, " is gone)"));
    }
  }
}

// Step 3, with clean: transport's own reclaim frees the dead entries
// (returning held chunks) and the drained pools; Leave unlinks the segment
// if nobody uses it.
void CleanTopic(const ShmOptions& options, const std::string& name, OrphanReport* report) {
  absl::StatusOr<transport::TopicSegment> attached =
      transport::TopicSegment::AttachSegment(options, name);
  if (!attached.ok()) {
    if (!absl::IsNotFound(attached.status())) {
      report->errors.push_back(std::string(attached.status().message()));
    }
    return;
  }
  attached->ReclaimDead();
  attached->Leave();
}

void CheckTopics(const ShmOptions& options, const std::string& stem, bool clean,
                 OrphanReport* report, Pools* pools) {
  for (const std::string& name : transport::NamesWithStem(options, absl::StrCat(stem, "t."))) {
    if (!Ready(options, name, clean, report)) continue;
    absl::StatusOr<transport::TopicObserver> t =
        transport::TopicObserver::OpenSegment(options, name);
    if (!t.ok()) {
      Refused(t.status(), report);
      continue;
    }
    LookInsideTopic(options, t->Snapshot(), report, pools);
    const absl::StatusOr<bool> unused = Segment::IsUnused(options, name);
    if (unused.ok() && *unused) report->orphan_topics.push_back(name);
    if (clean) CleanTopic(options, name, report);
  }
}

// Pools no ring names (their publisher died between creating the pool and
// claiming a ring, or their topic went without them), and the free lists
// of the pools live publishers use.
void CheckPools(const ShmOptions& options, const std::string& stem, bool clean,
                const Pools& pools, OrphanReport* report) {
  const std::string pool_stem = absl::StrCat(stem, "p.");
  for (const std::string& name : transport::NamesWithStem(options, pool_stem)) {
    const std::optional<std::uint64_t> parsed = transport::PoolIdOfName(options, name);
    if (!parsed) continue;
    const std::uint64_t id = *parsed;
    if (!Ready(options, name, clean, report)) continue;
    const std::uint64_t family = transport::internal::PoolFamilyOf(id);
    if (pools.live.contains(family)) {
      absl::StatusOr<transport::ChunkPool> pool = transport::ChunkPool::Observe(options, id);
      absl::Status verified = pool.ok() ? pool->Verify() : pool.status();
      // A pool in use changes under a look: believe a failure seen twice.
      if (!verified.ok() && pool.ok()) verified = pool->Verify();
      if (!verified.ok()) report->corrupt_pools.push_back(std::string(verified.message()));
      continue;
    }
    // No ring names it: its publisher died (or left) between creating it
    // and claiming a ring. Its creator and every reader hold a lock on it
    // while they live, so an unlocked one is nobody's.
    if (pools.named.contains(family)) continue;
    const absl::StatusOr<bool> unused = Segment::IsUnused(options, name);
    if (!unused.ok() || !*unused) continue;
    report->orphan_pools.push_back(absl::StrCat(name, " (no topic names it)"));
    if (clean) (void)Segment::UnlinkIfUnused(options, name);
  }
}

// Liveness files nobody holds, and things planted at their names.
void CheckTokens(const ShmOptions& options, bool clean, OrphanReport* report) {
  for (const std::string& name : transport::TokenFileNames(options)) {
    const std::string path = absl::StrCat(options.dir, name);
    switch (transport::LookAtLivenessFile(path, /*remove=*/false)) {
      case transport::LivenessFile::kAlive:
        break;
      case transport::LivenessFile::kForeign:
        report->foreign_files.push_back(std::string(transport::ForeignFileError(path).message()));
        break;
      case transport::LivenessFile::kDead:
        if (::access(path.c_str(), F_OK) == 0) report->dead_tokens.push_back(name);
        break;
    }
  }
  if (clean) transport::SweepDeadTokens(options);
}

}  // namespace

OrphanReport FindOrphans(const ShmOptions& options, bool clean) {
  OrphanReport report;
  const std::string stem = transport::DomainStem(options);
  (void)Ready(options, RegistrySegmentName(options), clean, &report);
  Pools pools;
  CheckTopics(options, stem, clean, &report, &pools);
  CheckPools(options, stem, clean, pools, &report);
  CheckTokens(options, clean, &report);
  return report;
}

}  // namespace ringcast::discovery
