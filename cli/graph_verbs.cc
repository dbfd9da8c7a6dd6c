// cli/graph_verbs.cc: the verbs that read discovery's graph once (or on
// every change, with --watch): node list/info, topic list/info, type
// list/show, doctor.
#include "cli/verbs.h"

namespace ringcast::cli {

void AddGraphVerbs(const Verbs&) {}

}  // namespace ringcast::cli
