// Registry::Read and Registry::ReclaimDead: copying entries out, and
// freeing those of dead processes.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "discovery/entry_ops.h"
#include "discovery/registry.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/process.h"
#include "transport/topic.h"
#include "transport/words.h"

namespace ringcast::discovery {
namespace {

using internal::EntryState;
using internal::LoadString;
using internal::StateOf;
using transport::internal::FreeTakenOver;
using transport::internal::TakeOver;
using internal::Word;
using transport::ShmOptions;

// Entries a reader re-copies when it races with a writer before giving up
// on that entry for this snapshot (it is being reclaimed or reused).
constexpr int kCopyAttempts = 4;

// Liveness of the process behind an entry (docs/architecture.md: the token decides;
// pid and start time may prove a reused pid dead within our namespace).
// With `look_only`, a dead process's liveness file is left in place, so a
// dry run changes nothing.
class DeathJudge {
 public:
  DeathJudge(const ShmOptions& options, bool look_only)
      : live_(options, look_only), my_ns_(PidNamespace()) {}

  bool Dead(std::uint64_t token, std::uint32_t pid, std::uint64_t start_time,
            std::uint64_t pid_ns) {
    if (TokenDead(token)) return true;
    if (pid == 0 || pid_ns == 0 || pid_ns != my_ns_) return false;
    auto [it, inserted] = start_times_.try_emplace(pid, 0);
    if (inserted) it->second = transport::ProcessStartTime(static_cast<pid_t>(pid));
    // A pid that runs now with another start time was reused: the entry's
    // process is gone. (A pid that does not run proves nothing here: the
    // token said alive.)
    return it->second != 0 && it->second != start_time;
  }
  bool TokenDead(std::uint64_t token) { return live_.IsDead(token); }

 private:
  transport::LivenessCache live_;
  std::uint64_t my_ns_;
  absl::flat_hash_map<std::uint32_t, std::uint64_t> start_times_;
};

}  // namespace

RegistrySnapshot Registry::Read(bool with_types) const {
  RegistrySnapshot snap;
  snap.generation = generation();
  // Each entry is copied like a seqlocked slot: acquire the state, copy
  // with relaxed loads, then re-check the state after an acquire fence.
  auto stable = [](const Word& state, std::uint64_t before) {
    // Pairs with the release of any later transition: if we copied a field
    // of a new owner, the re-load below sees its state.
    std::atomic_thread_fence(std::memory_order_acquire);
    return state.load(std::memory_order_relaxed) == before;
  };
  for (std::uint32_t i = 0; i < config_.max_nodes; ++i) {
    const internal::NodeEntry& e = node(i);
    for (int attempt = 0; attempt < kCopyAttempts; ++attempt) {
      // Acquire: pairs with Activate's release.
      const std::uint64_t s = e.state.load(std::memory_order_acquire);
      if (StateOf(s) != EntryState::kActive) break;
      NodeRecord r;
      r.index = i;
      r.id = e.id.load(std::memory_order_relaxed);
      r.owner.token = e.token.load(std::memory_order_relaxed);
      r.owner.pid = e.pid.load(std::memory_order_relaxed);
      r.owner.start_time = e.start_time.load(std::memory_order_relaxed);
      r.owner.pid_ns = e.pid_ns.load(std::memory_order_relaxed);
      r.exe = LoadString(e.exe, internal::kExeSize);
      r.owner.exe = r.exe;
      r.name = LoadString(e.name, internal::kNodeNameSize);
      if (stable(e.state, s)) {
        snap.nodes.push_back(std::move(r));
        break;
      }
    }
  }
  for (std::uint32_t i = 0; i < config_.max_endpoints; ++i) {
    const internal::EndpointEntry& e = endpoint(i);
    for (int attempt = 0; attempt < kCopyAttempts; ++attempt) {
      const std::uint64_t s = e.state.load(std::memory_order_acquire);
      if (StateOf(s) != EntryState::kActive) break;
      EndpointRecord r;
      r.index = i;
      r.id = e.id.load(std::memory_order_relaxed);
      const std::uint32_t kind = e.kind.load(std::memory_order_relaxed);
      r.kind = kind == static_cast<std::uint32_t>(EndpointKind::kSubscriber)
                   ? EndpointKind::kSubscriber
                   : EndpointKind::kPublisher;
      r.node_id = e.node_id.load(std::memory_order_relaxed);
      r.node_index = e.node_index.load(std::memory_order_relaxed);
      r.owner.token = e.token.load(std::memory_order_relaxed);
      r.owner.pid = e.pid.load(std::memory_order_relaxed);
      r.owner.start_time = e.start_time.load(std::memory_order_relaxed);
      r.owner.pid_ns = e.pid_ns.load(std::memory_order_relaxed);
      const std::uint32_t flags = e.flags.load(std::memory_order_relaxed);
      r.qos.reliable = (flags & internal::kReliable) != 0;
      r.qos.transient_local = (flags & internal::kTransientLocal) != 0;
      r.qos.depth = e.depth.load(std::memory_order_relaxed);
      r.qos.max_message_size = e.max_message_size.load(std::memory_order_relaxed);
      r.type_hash = e.type_hash.load(std::memory_order_relaxed);
      r.transport_index = e.transport_index.load(std::memory_order_relaxed);
      r.transport_id = e.transport_id.load(std::memory_order_relaxed);
      r.topic = LoadString(e.topic, internal::kTopicSize);
      r.type_name = LoadString(e.type_name, internal::kTypeNameSize);
      if (stable(e.state, s)) {
        snap.endpoints.push_back(std::move(r));
        break;
      }
    }
  }
  if (!with_types) return snap;
  for (std::uint32_t i = 0; i < config_.max_types; ++i) {
    const internal::TypeEntry& t = type(i);
    for (int attempt = 0; attempt < kCopyAttempts; ++attempt) {
      const std::uint64_t s = t.state.load(std::memory_order_acquire);
      if (StateOf(s) != EntryState::kActive) break;
      TypeRecord r;
      r.index = i;
      r.hash = t.hash.load(std::memory_order_relaxed);
      r.name = LoadString(t.name, internal::kTypeNameSize);
      // Bound the size before copying: a torn or hostile value must not
      // read past this entry.
      const std::uint32_t size =
          std::min(t.descriptor_size.load(std::memory_order_relaxed), config_.max_descriptor_size);
      r.descriptor.resize(size);
      transport::internal::LoadWordsRelaxed(reinterpret_cast<const Word*>(descriptor(i)), size,
                                            reinterpret_cast<std::byte*>(r.descriptor.data()));
      if (stable(t.state, s)) {
        snap.types.push_back(std::move(r));
        break;
      }
    }
  }
  return snap;
}

ReclaimReport Registry::ReclaimDead(bool dry_run) {
  ReclaimReport report;
  // Without a writable mapping there is nothing we could free.
  dry_run = dry_run || !segment_.writable();
  std::uint64_t mine = 0;
  if (!dry_run) {
    absl::StatusOr<std::uint64_t> token = transport::ProcessToken(options_);
    if (!token.ok()) {
      report.errors.push_back(std::string(token.status().message()));
      dry_run = true;
    } else {
      mine = *token;
    }
  }
  DeathJudge judge(options_, dry_run);
  const RegistrySnapshot snap = Read(/*with_types=*/true);
  bool changed = false;

  // Takes entry `e`, seen in state `s` held by dead `holder`, over and
  // frees it (transport/entry_state.h, T5-T7). The token CAS makes exactly
  // one reclaimer win; one killed mid-way is taken over in turn.
  auto take_over = [&](auto& e, std::uint64_t s, std::uint64_t holder) {
    if (dry_run) return true;
    // Held by our own token only when an entry of this process was judged
    // dead by its pid (a recorded identity that is not ours): we hold it.
    if (holder != mine && !TakeOver(e, s, holder, mine)) return false;
    FreeTakenOver(e, s, mine);
    changed = true;
    return true;
  };
  // The entry must still be the one a snapshot judged (same state, same id).
  auto unchanged = [](auto& e, const auto& r, std::uint64_t* s) {
    // Acquire: pairs with the holder's release of the state.
    *s = e.state.load(std::memory_order_acquire);
    return StateOf(*s) == EntryState::kActive && e.id.load(std::memory_order_relaxed) == r.id;
  };

  absl::flat_hash_set<std::string> topics;
  absl::flat_hash_set<std::uint64_t> live_hashes;
  std::uint64_t s = 0;
  for (const EndpointRecord& r : snap.endpoints) {
    if (!judge.Dead(r.owner.token, r.owner.pid, r.owner.start_time, r.owner.pid_ns)) {
      live_hashes.insert(r.type_hash);
      continue;
    }
    internal::EndpointEntry& e = endpoint(r.index);
    if (unchanged(e, r, &s) && take_over(e, s, r.owner.token)) {
      report.dead_endpoints.push_back(r);
      topics.insert(r.topic);
    }
  }
  for (const NodeRecord& r : snap.nodes) {
    if (!judge.Dead(r.owner.token, r.owner.pid, r.owner.start_time, r.owner.pid_ns)) continue;
    internal::NodeEntry& e = node(r.index);
    if (unchanged(e, r, &s) && take_over(e, s, r.owner.token)) report.dead_nodes.push_back(r);
  }
  for (const TypeRecord& r : snap.types) {
    internal::TypeEntry& t = type(r.index);
    s = t.state.load(std::memory_order_acquire);
    // Relaxed: the acquire above ordered the registrant's token store.
    const std::uint64_t token = t.token.load(std::memory_order_relaxed);
    if (StateOf(s) != EntryState::kActive || live_hashes.contains(r.hash) ||
        !judge.TokenDead(token)) {
      continue;
    }
    if (take_over(t, s, token)) report.dead_types.push_back(r);
  }
  // Entries whose holder died half-way through a claim, a release or a
  // reclaim: Claiming with a dead holder is taken over and freed; Free
  // with a dead holder's token left on it gets the token back.
  auto sweep = [&](absl::string_view table, std::uint32_t count, auto entry_at,
                   auto&& on_freed) {
    for (std::uint32_t i = 0; i < count; ++i) {
      auto& e = entry_at(i);
      const std::uint64_t st = e.state.load(std::memory_order_acquire);
      const std::uint64_t holder = e.token.load(std::memory_order_relaxed);
      if (holder == 0 || holder == mine || StateOf(st) == EntryState::kActive ||
          !judge.TokenDead(holder)) {
        continue;
      }
      if (StateOf(st) == EntryState::kFree) {
        if (!dry_run) transport::internal::GiveBackToken(e, holder);
        continue;
      }
      report.stuck_entries.push_back(
          absl::StrCat(table, " entry ", i, ": claiming, its holder is dead"));
      if (take_over(e, st, holder)) on_freed(i);
    }
  };
  sweep("node", config_.max_nodes, [this](std::uint32_t i) -> auto& { return node(i); },
        [](std::uint32_t) {});
  sweep("endpoint", config_.max_endpoints,
        [this](std::uint32_t i) -> auto& { return endpoint(i); }, [&](std::uint32_t i) {
          // Its topic may hold a ring or subscriber entry already.
          const std::string topic = LoadString(endpoint(i).topic, internal::kTopicSize);
          if (transport::ValidateTopicName(topic).ok()) topics.insert(topic);
        });
  sweep("type", config_.max_types, [this](std::uint32_t i) -> auto& { return type(i); },
        [](std::uint32_t) {});
  if (changed) Bump();
  if (dry_run) return report;

  // The dead endpoints' entries in their topic segments, through transport's
  // own reclaim (which also returns the chunks a dead subscriber held), and
  // the topic segments (with their pools) nobody uses any more.
  std::vector<std::string> sorted(topics.begin(), topics.end());
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& topic : sorted) {
    absl::StatusOr<std::string> name = transport::TopicSegmentName(options_, topic);
    if (!name.ok()) continue;
    absl::StatusOr<transport::TopicSegment> t =
        transport::TopicSegment::AttachSegment(options_, *name);
    if (absl::IsNotFound(t.status())) continue;
    if (!t.ok()) {
      report.errors.push_back(std::string(t.status().message()));
      continue;
    }
    report.topic_entries_freed += t->ReclaimDead();
    if (t->Leave()) report.topics_unlinked.push_back(*name);
  }
  report.liveness_files_removed = transport::SweepDeadTokens(options_);
  return report;
}

}  // namespace ringcast::discovery
