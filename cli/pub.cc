// cli/pub.cc: topic pub.
#include "cli/live.h"

namespace ringcast::cli {

void AddPubVerb(const Verbs&) {}

}  // namespace ringcast::cli
