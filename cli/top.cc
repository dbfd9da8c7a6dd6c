// cli/top.cc: top.
#include "cli/live.h"

namespace ringcast::cli {

void AddTopVerb(const Verbs&) {}

}  // namespace ringcast::cli
