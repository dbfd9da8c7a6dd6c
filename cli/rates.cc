// cli/rates.cc: topic hz, bw and delay.
#include "cli/live.h"

namespace ringcast::cli {

void AddRateVerbs(const Verbs&) {}

}  // namespace ringcast::cli
