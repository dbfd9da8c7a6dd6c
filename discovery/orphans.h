// discovery/orphans.h: what dead processes left in a domain's directory
// outside the registry's view: entries of dead processes in topic segments
// (a process that died between making its transport endpoint and
// registering it), topic segments nobody uses, pool segments no topic
// names, and liveness files nobody holds. `ringcast doctor` reports them;
// with clean, they are reclaimed through transport's own reclaim code.
#ifndef RINGCAST_DISCOVERY_ORPHANS_H_
#define RINGCAST_DISCOVERY_ORPHANS_H_

#include <string>
#include <vector>

#include "transport/shm_options.h"

namespace ringcast::discovery {

struct OrphanReport {
  std::vector<std::string> stale_topic_entries;  // "<topic>: publisher|subscriber <id> (pid N)"
  std::vector<std::string> orphan_topics;        // topic segment names nobody uses
  std::vector<std::string> orphan_pools;         // pool segment names no topic names
  std::vector<std::string> dead_tokens;          // liveness file names
  std::vector<std::string> errors;               // what could not be read or removed
  bool empty() const {
    return stale_topic_entries.empty() && orphan_topics.empty() && orphan_pools.empty() &&
           dead_tokens.empty();
  }
};

// Finds (and with clean, removes) what is described above. Pools and
// half-made liveness files younger than a few seconds are left alone: their
// creator may be between creating them and recording them.
OrphanReport FindOrphans(const transport::ShmOptions& options, bool clean);

// Names in options.dir starting with `stem` ("/<prefix>.<domain>.t." etc.),
// sorted, each with its leading '/'.
std::vector<std::string> SegmentNamesWithStem(const transport::ShmOptions& options,
                                              const std::string& stem);

}  // namespace ringcast::discovery

#endif  // RINGCAST_DISCOVERY_ORPHANS_H_
