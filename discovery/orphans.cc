#include "discovery/orphans.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/segment.h"
#include "transport/topic.h"

namespace ringcast::discovery {
namespace {

using transport::ShmOptions;
using transport::internal::EntryState;
using transport::internal::StateOf;

// A file created less than this long ago may still be on its way to being
// recorded by its (live) creator.
constexpr int kYoungSeconds = 10;

bool Young(const ShmOptions& options, const std::string& name) {
  struct stat st {};
  return ::stat(absl::StrCat(options.dir, name).c_str(), &st) != 0 ||
         ::time(nullptr) - st.st_mtime < kYoungSeconds;
}

// True if nobody holds the liveness file's lock (or it is gone); never
// removes it.
bool TokenFileDead(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  const bool dead = ::flock(fd, LOCK_SH | LOCK_NB) == 0;
  ::close(fd);
  return dead;
}

}  // namespace

std::vector<std::string> SegmentNamesWithStem(const ShmOptions& options,
                                              const std::string& stem) {
  std::vector<std::string> out;
  DIR* d = ::opendir(options.dir.c_str());
  if (d == nullptr) return out;
  const absl::string_view bare = absl::string_view(stem).substr(1);
  while (const dirent* e = ::readdir(d)) {
    if (absl::StartsWith(e->d_name, bare)) out.push_back(absl::StrCat("/", e->d_name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

OrphanReport FindOrphans(const ShmOptions& options, bool clean) {
  OrphanReport report;
  const std::string stem = transport::DomainStem(options);
  absl::flat_hash_set<std::uint64_t> named_pools;
  for (const std::string& name : SegmentNamesWithStem(options, absl::StrCat(stem, "t."))) {
    absl::StatusOr<transport::TopicSegment> t =
        transport::TopicSegment::ObserveSegment(options, name);
    if (!t.ok()) {
      report.errors.push_back(std::string(t.status().message()));
      continue;
    }
    const transport::TopicGeometry& g = t->geometry();
    // Not transport::LivenessCache: that removes the files of the dead,
    // and a look without --clean must change nothing.
    auto alive = [&](std::uint64_t token) {
      return token != 0 &&
             !TokenFileDead(absl::StrCat(options.dir, transport::LivenessName(options, token)));
    };
    bool stale = false;
    for (std::uint32_t i = 0; i < g.max_publishers; ++i) {
      const auto& rc = t->ring_control(i);
      // Acquire: pairs with the claimer's release of kActive.
      const std::uint64_t s = rc.state.load(std::memory_order_acquire);
      // Relaxed: a listing; the reclaim below re-checks under its CAS.
      if (const std::uint64_t pool = rc.pool_id.load(std::memory_order_relaxed); pool != 0) {
        named_pools.insert(pool);
      }
      if (StateOf(s) != EntryState::kActive ||
          alive(rc.owner_token.load(std::memory_order_relaxed))) {
        continue;
      }
      stale = true;
      report.stale_topic_entries.push_back(absl::StrCat(
          t->topic(), ": publisher ", rc.publisher_id.load(std::memory_order_relaxed), " (pid ",
          rc.owner_pid.load(std::memory_order_relaxed), ", dead)"));
    }
    for (std::uint32_t i = 0; i < g.max_subscribers; ++i) {
      const auto& sc = t->subscriber_control(i);
      const std::uint64_t s = sc.state.load(std::memory_order_acquire);
      if (StateOf(s) != EntryState::kActive ||
          alive(sc.owner_token.load(std::memory_order_relaxed))) {
        continue;
      }
      stale = true;
      report.stale_topic_entries.push_back(absl::StrCat(
          t->topic(), ": subscriber ", sc.subscriber_id.load(std::memory_order_relaxed),
          " (pid ", sc.owner_pid.load(std::memory_order_relaxed), ", dead)"));
    }
    const absl::StatusOr<bool> unused = transport::Segment::IsUnused(options, name);
    const bool orphan = unused.ok() && *unused;
    if (orphan) report.orphan_topics.push_back(name);
    if (!clean || (!orphan && !stale)) continue;
    // Transport's own reclaim: frees the dead entries (returning held
    // chunks); Leave unlinks the segment and its pools if nobody uses it.
    absl::StatusOr<transport::TopicSegment> attached =
        transport::TopicSegment::AttachSegment(options, name);
    if (!attached.ok()) {
      if (!absl::IsNotFound(attached.status())) {
        report.errors.push_back(std::string(attached.status().message()));
      }
      continue;
    }
    attached->ReclaimDead();
    if (attached->Leave()) {
      for (std::uint32_t i = 0; i < g.max_publishers; ++i) {
        named_pools.erase(t->ring_control(i).pool_id.load(std::memory_order_relaxed));
      }
    }
  }
  // Pools no topic names: their publisher died between creating the pool
  // and claiming a ring, or their topic went without them.
  for (const std::string& name : SegmentNamesWithStem(options, absl::StrCat(stem, "p."))) {
    std::uint64_t id = 0;
    if (!absl::SimpleHexAtoi(absl::string_view(name).substr(stem.size() + 2), &id)) continue;
    if (named_pools.contains(id) || Young(options, name)) continue;
    report.orphan_pools.push_back(name);
    if (clean) (void)transport::Segment::UnlinkIfUnused(options, name);
  }
  // Liveness files nobody holds.
  for (const std::string& name : SegmentNamesWithStem(options, absl::StrCat(stem, "live."))) {
    if (absl::EndsWith(name, ".new") && Young(options, name)) continue;
    const std::string path = absl::StrCat(options.dir, name);
    if (::access(path.c_str(), F_OK) != 0 || !TokenFileDead(path)) continue;
    report.dead_tokens.push_back(name);
  }
  if (clean) transport::SweepDeadTokens(options);
  return report;
}

}  // namespace ringcast::discovery
