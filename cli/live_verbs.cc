// cli/live_verbs.cc: the verbs that watch or drive topics live.
#include "cli/live.h"

namespace ringcast::cli {

void AddLiveVerbs(const Verbs& verbs) {
  AddEchoVerb(verbs);
  AddPubVerb(verbs);
  AddRateVerbs(verbs);
  AddTopVerb(verbs);
  AddRecordVerbs(verbs);
}

}  // namespace ringcast::cli
