// transport/fault.h: named fault-injection points, for crash tests.
//
// A test kills a child process at an exact instruction of a multi-step
// operation (a claim, a free, a publish, a loan, a segment's
// initialisation) and checks that whoever comes next cleans up. Points are
// compiled only into the *_faults variants of the libraries, which only
// tests link (RINGCAST_FAULT_INJECTION); everywhere else
// RINGCAST_FAULT_POINT expands to nothing and costs nothing.
//
// A point fires (the process SIGKILLs itself) when it is armed: by
// ArmFaultPoint in the process, or by the environment variable
// RINGCAST_FAULT_POINT=<name>[:<hits to let pass>] for a process that a
// test execs.
#ifndef RINGCAST_TRANSPORT_FAULT_H_
#define RINGCAST_TRANSPORT_FAULT_H_

#include <array>
#include <cstdint>

namespace ringcast::transport {

// Every point, in the order an entry lives through them. Tests iterate
// this list, so a new point is tested as soon as it is listed here.
inline constexpr std::array<const char*, 17> kFaultPoints = {
    "segment.init.allocated",   // creator: file sized, header not written
    "segment.init.written",     // creator: initialised, magic not stored
    "entry.claim.token",        // claimer: token taken, entry still Free
    "entry.claim.state",        // claimer: entry Claiming, fields unwritten
    "entry.claim.written",      // claimer: fields written, not yet Active
    "entry.release.state",      // owner: entry Free, token not cleared
    "entry.takeover.token",     // reclaimer: dead owner's token replaced
    "entry.takeover.cleaned",   // reclaimer: held chunks returned, not Free
    "entry.takeover.state",     // reclaimer: entry Free, token not cleared
    "pool.loan.allocated",      // publisher: chunk popped, loan not recorded
    "pool.grow.created",        // publisher: pool segment made, not recorded
    "pool.shrink.retired",      // publisher: segment marked retired, still named
    "pool.shrink.unlinked",     // publisher: segment unlinked, still mapped
    "publish.slot.odd",         // publisher: slot marked odd, payload half
    "publish.committed",        // publisher: slot even, head not advanced
    "reader.take.acquired",     // subscriber: chunk referenced, not recorded
    "reader.release.cleared",   // subscriber: record cleared, not released
};

namespace internal {
// Dies by SIGKILL if `name` is armed and its passes are used up.
void FaultPoint(const char* name);
}  // namespace internal

// Arms `name` in this process: it fires on its (pass + 1)-th hit. Returns
// false (and arms nothing) for a name not in kFaultPoints, or in a build
// without fault points.
bool ArmFaultPoint(const char* name, std::uint32_t pass = 0);

// True in the *_faults library variants.
bool FaultPointsCompiledIn();

}  // namespace ringcast::transport

#ifdef RINGCAST_FAULT_INJECTION
#define RINGCAST_FAULT_POINT(name) ::ringcast::transport::internal::FaultPoint(name)
#else
#define RINGCAST_FAULT_POINT(name) ((void)0)
#endif

#endif  // RINGCAST_TRANSPORT_FAULT_H_
