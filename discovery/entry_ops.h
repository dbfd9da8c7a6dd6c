// discovery/entry_ops.h: helpers for registry entries: NUL-padded strings
// as relaxed atomic words, and claiming the first free entry of a table.
// The entries' life (claim, activate, release, take over) is transport's
// one state machine, transport/entry_state.h.
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

// Claims the first free entry of a table of `count` for `token` (T1, T2 of
// transport/entry_state.h), taking over tokens left on free entries by
// processes that `is_dead`. Returns {index, epoch} or nullopt when full.
template <typename EntryAt, typename IsDead>
std::optional<std::pair<std::uint32_t, std::uint64_t>> ClaimFirst(std::uint32_t count,
                                                                  EntryAt entry_at,
                                                                  std::uint64_t token,
                                                                  IsDead&& is_dead) {
  for (std::uint32_t i = 0; i < count; ++i) {
    if (const std::optional<std::uint64_t> epoch =
            transport::internal::TryClaim(entry_at(i), token, is_dead)) {
      return std::make_pair(i, *epoch);
    }
  }
  return std::nullopt;
}

}  // namespace ringcast::discovery::internal

#endif  // RINGCAST_DISCOVERY_ENTRY_OPS_H_
