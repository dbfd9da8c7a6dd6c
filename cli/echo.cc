// cli/echo.cc: topic echo.
#include "cli/live.h"

namespace ringcast::cli {

void AddEchoVerb(const Verbs&) {}

}  // namespace ringcast::cli
