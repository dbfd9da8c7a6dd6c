// cli/live_verbs.cc: the verbs that watch topics live: topic echo, hz, bw,
// delay, pub, and top.
#include "cli/verbs.h"

namespace ringcast::cli {

void AddLiveVerbs(const Verbs&) {}

}  // namespace ringcast::cli
