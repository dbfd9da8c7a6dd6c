// discovery/entry_ops.h: the life of a registry entry, shared by every
// table (design.md: "each entry claimed by CAS on a state word").
//
//   Free(e) --Claim--> Claiming(e+1) --Activate--> Active(e+1)
//   Active(e) --Release--> Claiming(e) --FreeClaimed--> Free(e)
//   Active(e) or dead Claiming(e) --take-over--> Claiming(e+1) --> Free(e+1)
//
// The token word names the process that may write the entry; it is cleared
// before every transition to Free, so a claimer's entry never shows the
// previous owner's (dead) token. Reclaimers skip a Claiming entry whose
// token is 0 or alive; every transition is a CAS, so of two racing
// reclaimers exactly one wins each epoch.
//
// Internal to discovery/.
#ifndef RINGCAST_DISCOVERY_ENTRY_OPS_H_
#define RINGCAST_DISCOVERY_ENTRY_OPS_H_

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "discovery/registry_layout.h"
#include "transport/words.h"

namespace ringcast::discovery::internal {

inline void StoreString(Word* dst, std::size_t capacity, absl::string_view s) {
  std::string padded(capacity, '\0');
  std::memcpy(padded.data(), s.data(), std::min(s.size(), capacity - 1));
  transport::internal::StoreWordsRelaxed(reinterpret_cast<const std::byte*>(padded.data()),
                                         capacity, dst);
}

// Copies a NUL-padded string field; never reads past `capacity`.
inline std::string LoadString(const Word* src, std::size_t capacity) {
  std::string buf(capacity, '\0');
  transport::internal::LoadWordsRelaxed(src, capacity, reinterpret_cast<std::byte*>(buf.data()));
  buf.resize(::strnlen(buf.data(), capacity));
  return buf;
}

// Claims the first free entry of a table by CAS: Free(e) -> Claiming(e+1),
// then records our token. Returns {index, epoch} or nullopt when full.
template <typename EntryAt>
inline std::optional<std::pair<std::uint32_t, std::uint64_t>> Claim(std::uint32_t count,
                                                             EntryAt entry_at,
                                                             std::uint64_t token) {
  for (std::uint32_t i = 0; i < count; ++i) {
    auto& e = entry_at(i);
    // Relaxed: the CAS below decides; a stale value only makes it fail.
    std::uint64_t s = e.state.load(std::memory_order_relaxed);
    if (StateOf(s) != EntryState::kFree) continue;
    const std::uint64_t epoch = EpochOf(s) + 1;
    // Acquire: pairs with the release that freed it (after its token was
    // cleared), so no reclaimer can mistake the old token for ours.
    if (e.state.compare_exchange_strong(s, MakeState(epoch, EntryState::kClaiming),
                                        std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
      // Relaxed: read by reclaimers only after they acquire-load a later
      // state (our release in Activate) or as a hint while kClaiming.
      e.token.store(token, std::memory_order_relaxed);
      return std::make_pair(i, epoch);
    }
  }
  return std::nullopt;
}

// Claiming(epoch) -> Active(epoch). False if a reclaimer took it over (it
// judged us dead): the caller reports Aborted.
template <typename Entry>
bool Activate(Entry& e, std::uint64_t epoch) {
  std::uint64_t expected = MakeState(epoch, EntryState::kClaiming);
  // Release: a reader that acquire-loads kActive sees every field we wrote.
  return e.state.compare_exchange_strong(expected, MakeState(epoch, EntryState::kActive),
                                         std::memory_order_release,
                                         std::memory_order_relaxed);
}

// Frees an entry we hold in Claiming(epoch) whose token is `token` (the
// owner's, read while it was ours, or the dead token a reclaimer judged):
// token first, then the state. The token is cleared by CAS, so a slow
// reclaimer whose take-over was itself taken over never wipes the token of
// a later owner of the entry.
template <typename Entry>
void FreeClaimed(Entry& e, std::uint64_t epoch, std::uint64_t token) {
  // Relaxed: published by the release CAS below.
  e.token.compare_exchange_strong(token, 0, std::memory_order_relaxed,
                                  std::memory_order_relaxed);
  std::uint64_t expected = MakeState(epoch, EntryState::kClaiming);
  // Release: pairs with the next claimer's acquire CAS, which then sees
  // token 0. Fails only if a reclaimer took the entry over; it frees it.
  e.state.compare_exchange_strong(expected, MakeState(epoch, EntryState::kFree),
                                  std::memory_order_release, std::memory_order_relaxed);
}

// Active(epoch) -> Claiming(epoch) -> Free: removal by the owner.
template <typename Entry>
bool Release(Entry& e, std::uint64_t epoch) {
  std::uint64_t expected = MakeState(epoch, EntryState::kActive);
  // Relaxed: we own the entry; FreeClaimed's release publishes the free.
  if (!e.state.compare_exchange_strong(expected, MakeState(epoch, EntryState::kClaiming),
                                       std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
    return false;  // already reclaimed
  }
  // Relaxed: our own token; while it is alive nobody takes the entry over.
  FreeClaimed(e, epoch, e.token.load(std::memory_order_relaxed));
  return true;
}

}  // namespace ringcast::discovery::internal

#endif  // RINGCAST_DISCOVERY_ENTRY_OPS_H_
