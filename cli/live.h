// cli/live.h: the verbs that watch or drive topics while they run. Each
// adds its subcommand to the groups in `verbs` (cli/verbs.h).
#ifndef RINGCAST_CLI_LIVE_H_
#define RINGCAST_CLI_LIVE_H_

#include "cli/verbs.h"

namespace ringcast::cli {

void AddEchoVerb(const Verbs& verbs);   // topic echo (echo.cc)
void AddPubVerb(const Verbs& verbs);    // topic pub (pub.cc)
void AddRateVerbs(const Verbs& verbs);  // topic hz, bw, delay (rates.cc)
void AddTopVerb(const Verbs& verbs);    // top (top.cc)
void AddRecordVerbs(const Verbs& verbs);  // record, play, bag info/recover (record.cc)

}  // namespace ringcast::cli

#endif  // RINGCAST_CLI_LIVE_H_
