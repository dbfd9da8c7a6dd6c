// transport/entry_state.h: the life of every table entry in shared memory:
// topic rings and subscriber entries here, registry nodes, endpoints and
// types in discovery/. One state machine, defined once.
//
// Every entry starts with two 64-bit words:
//   0  state  bits 63..8 epoch (+1 at every claim), bits 7..0 EntryState
//   8  token  liveness token (liveness.h) of the process that holds the
//             entry: its owner, a claimer, or a reclaimer; 0 = nobody
//
// The token is taken before the state leaves Free, and given back only
// after the state is Free again, so at every instant an entry that is not
// Free names a process, and whoever finds that process dead may finish or
// undo its work. A process killed at any instruction of a claim, a
// release or a reclaim leaves nothing that the next reclaimer or claimer
// cannot free.
//
// Transitions (C claimer, O owner, R reclaimer; every one a CAS):
//   T1 take token   Free(e) tok 0      -> Free(e) tok C        C
//                   Free(e) tok dead D -> Free(e) tok C        C (D judged dead)
//   T2 claim        Free(e) tok C      -> Claiming(e+1) tok C  C
//   T3 activate     Claiming(e) tok C  -> Active(e) tok C      C
//   T4 release      Active(e) tok O    -> Free(e) tok O        O
//      abandon      Claiming(e) tok C  -> Free(e) tok C        C
//   T5 take over    Active|Claiming(e) tok dead D
//                                      -> same state, tok R    R
//   T6 free         Active|Claiming(e) tok R -> Free(e) tok R  R, after cleaning
//   T7 give back    Free(e) tok X      -> Free(e) tok 0        X (or T1 once X died)
// Only the token holder moves the state, so two reclaimers never both
// clean one entry (T5 has one winner) and a reclaimer killed mid-clean is
// taken over in turn (its token is now the dead one). Readers copy only
// Active entries and re-check the state word after copying (seqlock).
#ifndef RINGCAST_TRANSPORT_ENTRY_STATE_H_
#define RINGCAST_TRANSPORT_ENTRY_STATE_H_

#include <atomic>
#include <cstdint>
#include <optional>

#include "transport/fault.h"

namespace ringcast::transport::internal {

// Entry states, in the low 8 bits of a state word. Part of the layout.
enum class EntryState : std::uint8_t { kFree = 0, kClaiming = 1, kActive = 2 };

inline constexpr std::uint64_t MakeState(std::uint64_t epoch, EntryState s) {
  return epoch << 8 | static_cast<std::uint8_t>(s);
}
inline constexpr EntryState StateOf(std::uint64_t word) {
  return static_cast<EntryState>(word & 0xff);
}
inline constexpr std::uint64_t EpochOf(std::uint64_t word) { return word >> 8; }
inline const char* EntryStateName(EntryState s) {
  switch (s) {
    case EntryState::kFree: return "free";
    case EntryState::kClaiming: return "claiming";
    case EntryState::kActive: return "active";
  }
  return "corrupt";
}

// T7: gives the token back if it is still `token`. Release: the next
// claimer's acquire CAS of the token sees everything the holder wrote.
template <typename Entry>
void GiveBackToken(Entry& e, std::uint64_t token) {
  e.token.compare_exchange_strong(token, 0, std::memory_order_release,
                                  std::memory_order_relaxed);
}

// T1 + T2: claims `e` for `token` if it is free. A leftover token of a
// process that died between its T6 and T7 (or after its T1) is taken over
// when `is_dead(leftover)`. Returns the epoch of the claim, or nullopt if
// the entry is in use (or being claimed or freed by a live process).
template <typename Entry, typename IsDead>
std::optional<std::uint64_t> TryClaim(Entry& e, std::uint64_t token, IsDead&& is_dead) {
  // Relaxed: hints; the CASes below decide.
  if (StateOf(e.state.load(std::memory_order_relaxed)) != EntryState::kFree) return std::nullopt;
  std::uint64_t leftover = e.token.load(std::memory_order_relaxed);
  if (leftover != 0 && !is_dead(leftover)) return std::nullopt;
  // Acquire: pairs with the last holder's GiveBackToken (or, for a dead
  // one, with its release of the state below): we see the entry as it was
  // left.
  if (!e.token.compare_exchange_strong(leftover, token, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
    return std::nullopt;
  }
  RINGCAST_FAULT_POINT("entry.claim.token");
  // Acquire: pairs with the release that made the entry Free.
  std::uint64_t s = e.state.load(std::memory_order_acquire);
  // Only a token holder moves an entry out of Free, so it is still Free;
  // anything else is a corrupt entry, which we leave alone.
  if (StateOf(s) != EntryState::kFree ||
      !e.state.compare_exchange_strong(s, MakeState(EpochOf(s) + 1, EntryState::kClaiming),
                                       std::memory_order_acquire, std::memory_order_relaxed)) {
    GiveBackToken(e, token);
    return std::nullopt;
  }
  RINGCAST_FAULT_POINT("entry.claim.state");
  return EpochOf(s) + 1;
}

// T3: Claiming(epoch) -> Active(epoch). False if the entry was taken from
// us (a reclaimer judged us dead): the caller reports Aborted.
template <typename Entry>
bool Activate(Entry& e, std::uint64_t epoch) {
  RINGCAST_FAULT_POINT("entry.claim.written");
  std::uint64_t expected = MakeState(epoch, EntryState::kClaiming);
  // Release: a reader that acquire-loads kActive sees every field written.
  return e.state.compare_exchange_strong(expected, MakeState(epoch, EntryState::kActive),
                                         std::memory_order_release, std::memory_order_relaxed);
}

// T4 + T7: the owner (`token`) frees its entry of `epoch`, Active or still
// Claiming. False if a reclaimer freed it already.
template <typename Entry>
bool ReleaseEntry(Entry& e, std::uint64_t epoch, std::uint64_t token) {
  // Relaxed: we own the entry; nobody else moves its state while we live.
  std::uint64_t s = e.state.load(std::memory_order_relaxed);
  if (EpochOf(s) != epoch || StateOf(s) == EntryState::kFree) return false;
  // Release: the next claimer's acquire sees everything we wrote.
  if (!e.state.compare_exchange_strong(s, MakeState(epoch, EntryState::kFree),
                                       std::memory_order_release, std::memory_order_relaxed)) {
    return false;
  }
  RINGCAST_FAULT_POINT("entry.release.state");
  GiveBackToken(e, token);
  return true;
}

// T5: reclaimer `mine` takes over entry `e`, seen in state `seen` (not
// Free) with token `held`, which the caller judged dead (or, for a
// duplicate registry type, decided to replace). True if we won it: we
// must then clean it and call FreeTakenOver.
template <typename Entry>
bool TakeOver(Entry& e, std::uint64_t seen, std::uint64_t held, std::uint64_t mine) {
  if (StateOf(seen) == EntryState::kFree || held == 0 || held == mine) return false;
  // Acq_rel: acquire the dead holder's writes (we clean after it); release
  // nothing yet, but a later reclaimer that takes over from us acquires
  // from here.
  if (!e.token.compare_exchange_strong(held, mine, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
    return false;
  }
  // The state cannot have moved: only the token holder moves it, and that
  // was the dead process. A mismatch is a corrupt entry: give it back.
  if (e.state.load(std::memory_order_acquire) != seen) {
    GiveBackToken(e, mine);
    return false;
  }
  RINGCAST_FAULT_POINT("entry.takeover.token");
  return true;
}

// One look at an entry, for a reclaimer: its state word and its holder.
struct EntryLook {
  std::uint64_t state = 0;
  std::uint64_t holder = 0;
};
template <typename Entry>
EntryLook LookAt(const Entry& e) {
  EntryLook look;
  // Acquire: pairs with the holder's releases, so its token and every
  // field it wrote are visible.
  look.state = e.state.load(std::memory_order_acquire);
  // Relaxed: ordered by the acquire above; a CAS decides whatever is done
  // with it.
  look.holder = e.token.load(std::memory_order_relaxed);
  return look;
}

// Whether reclaimer `mine` may act on an entry seen as `look`: it names a
// holder other than us, and `is_dead(holder)`.
template <typename IsDead>
bool HeldByDead(const EntryLook& look, std::uint64_t mine, IsDead&& is_dead) {
  return look.holder != 0 && look.holder != mine && is_dead(look.holder);
}

// The reclaim of an entry seen as `look`, whose holder was judged dead:
// T7 alone for a Free entry (its token comes back), else T5, `clean()`
// (return what the holder held, while we hold the entry), T6 and T7. True
// if this call freed the entry; false if another reclaimer won it.
template <typename Entry, typename Clean>
bool ReclaimFromDead(Entry& e, const EntryLook& look, std::uint64_t mine, Clean&& clean);

// T6 + T7: after cleaning an entry taken over in state `seen`.
template <typename Entry>
void FreeTakenOver(Entry& e, std::uint64_t seen, std::uint64_t mine) {
  RINGCAST_FAULT_POINT("entry.takeover.cleaned");
  // Release: the next claimer sees our cleaning.
  e.state.compare_exchange_strong(seen, MakeState(EpochOf(seen), EntryState::kFree),
                                  std::memory_order_release, std::memory_order_relaxed);
  RINGCAST_FAULT_POINT("entry.takeover.state");
  GiveBackToken(e, mine);
}

template <typename Entry, typename Clean>
bool ReclaimFromDead(Entry& e, const EntryLook& look, std::uint64_t mine, Clean&& clean) {
  if (StateOf(look.state) == EntryState::kFree) {
    GiveBackToken(e, look.holder);
    return false;
  }
  if (!TakeOver(e, look.state, look.holder, mine)) return false;
  clean();
  FreeTakenOver(e, look.state, mine);
  return true;
}

}  // namespace ringcast::transport::internal

#endif  // RINGCAST_TRANSPORT_ENTRY_STATE_H_
