// discovery/orphans.h: what dead processes (and strangers) left in a
// domain's directory outside the registry's view: entries of dead
// processes in topic segments, topic segments nobody uses, pools of
// publishers that are gone, half-made segments whose creator died,
// liveness files nobody holds, files that are not ours at our names, and
// corrupt values processes met and counted. `ringcast doctor` reports
// them; with clean, what can be removed is removed, through transport's
// own reclaim code.
#ifndef RINGCAST_DISCOVERY_ORPHANS_H_
#define RINGCAST_DISCOVERY_ORPHANS_H_

#include <string>
#include <vector>

#include "transport/shm_options.h"

namespace ringcast::discovery {

struct OrphanReport {
  std::vector<std::string> stale_topic_entries;  // "<topic>: publisher|subscriber <id> (pid N)"
  std::vector<std::string> orphan_topics;        // topic segment names nobody uses
  std::vector<std::string> orphan_pools;         // pools of publishers that are gone
  std::vector<std::string> half_made;            // segments whose creator died initialising
  std::vector<std::string> dead_tokens;          // liveness file names
  std::vector<std::string> foreign_files;        // non-regular or foreign files at our names
  std::vector<std::string> anomalies;            // corrupt values met and refused, per topic
  std::vector<std::string> corrupt_pools;        // pools whose free list is damaged
  std::vector<std::string> errors;               // what could not be read or removed, and why
  bool empty() const {
    return stale_topic_entries.empty() && orphan_topics.empty() && orphan_pools.empty() &&
           half_made.empty() && dead_tokens.empty() && foreign_files.empty() &&
           anomalies.empty() && corrupt_pools.empty();
  }
};

// Finds (and with clean, removes) what is described above. Pools and
// half-made liveness files younger than a few seconds are left alone: their
// creator may be between creating them and recording them.
OrphanReport FindOrphans(const transport::ShmOptions& options, bool clean);

}  // namespace ringcast::discovery

#endif  // RINGCAST_DISCOVERY_ORPHANS_H_
