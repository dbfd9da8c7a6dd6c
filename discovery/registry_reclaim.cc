// Registry::Read and Registry::ReclaimDead: copying entries out, and
// freeing those of dead processes.
#include <algorithm>
#include <optional>
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
using transport::internal::HeldByDead;
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

// Copies entry `e` with `copy` like a seqlocked slot: acquire the state,
// copy with relaxed loads, then re-check the state after an acquire fence.
// nullopt if the entry is not Active, or kept changing under us (it is
// being reclaimed or reused: left out of this snapshot).
template <typename Entry, typename Copy>
auto CopyIfActive(const Entry& e, Copy&& copy) -> std::optional<decltype(copy())> {
  for (int attempt = 0; attempt < kCopyAttempts; ++attempt) {
    // Acquire: pairs with Activate's release, so every field is complete.
    const std::uint64_t s = e.state.load(std::memory_order_acquire);
    if (StateOf(s) != EntryState::kActive) return std::nullopt;
    auto record = copy();
    // Pairs with the release of any later transition: if we copied a field
    // of a new owner, the re-load below sees its state.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e.state.load(std::memory_order_relaxed) == s) return record;
  }
  return std::nullopt;
}

}  // namespace

// Relaxed loads throughout the Copy* functions: CopyIfActive's state
// loads and fence order them, and its re-check discards a torn copy.
NodeRecord Registry::CopyNode(std::uint32_t i) const {
  const internal::NodeEntry& e = node(i);
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
  return r;
}

EndpointRecord Registry::CopyEndpoint(std::uint32_t i) const {
  const internal::EndpointEntry& e = endpoint(i);
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
  return r;
}

TypeRecord Registry::CopyType(std::uint32_t i) const {
  const internal::TypeEntry& t = type(i);
  TypeRecord r;
  r.index = i;
  r.hash = t.hash.load(std::memory_order_relaxed);
  r.name = LoadString(t.name, internal::kTypeNameSize);
  // Bound the size before copying: a torn or hostile value must not read
  // past this entry.
  const std::uint32_t size =
      std::min(t.descriptor_size.load(std::memory_order_relaxed), config_.max_descriptor_size);
  r.descriptor.resize(size);
  transport::internal::LoadWordsRelaxed(reinterpret_cast<const Word*>(descriptor(i)), size,
                                        reinterpret_cast<std::byte*>(r.descriptor.data()));
  return r;
}

RegistrySnapshot Registry::Read(bool with_types) const {
  RegistrySnapshot snap;
  snap.generation = generation();
  for (std::uint32_t i = 0; i < config_.max_nodes; ++i) {
    if (auto r = CopyIfActive(node(i), [&] { return CopyNode(i); })) {
      snap.nodes.push_back(*std::move(r));
    }
  }
  for (std::uint32_t i = 0; i < config_.max_endpoints; ++i) {
    if (auto r = CopyIfActive(endpoint(i), [&] { return CopyEndpoint(i); })) {
      snap.endpoints.push_back(*std::move(r));
    }
  }
  if (!with_types) return snap;
  for (std::uint32_t i = 0; i < config_.max_types; ++i) {
    if (auto r = CopyIfActive(type(i), [&] { return CopyType(i); })) {
      snap.types.push_back(*std::move(r));
    }
  }
  return snap;
}

// What one ReclaimDead pass knows and has done so far.
struct Registry::ReclaimPass {
  ReclaimPass(const ShmOptions& options, bool dry, std::uint64_t token, ReclaimReport* out)
      : dry_run(dry), mine(token), judge(options, dry), report(out) {}

  // Frees entry `e`, seen as `look`, whose holder was judged dead, after
  // `clean()`; true if it was freed (or, in a dry run, would be). Our own
  // token holds it only when an entry of this process was judged dead by
  // its pid (a recorded identity that is not ours): we finish it as its
  // holder. Otherwise the token CAS makes exactly one reclaimer win, and
  // one killed mid-way is taken over in turn (transport/entry_state.h).
  template <typename Entry, typename Clean>
  bool Free(Entry& e, const transport::internal::EntryLook& look, Clean&& clean) {
    if (dry_run) return true;
    bool freed = true;
    if (look.holder == mine) {
      clean();
      FreeTakenOver(e, look.state, mine);
    } else {
      freed = transport::internal::ReclaimFromDead(e, look, mine, clean);
    }
    changed = changed || freed;
    return freed;
  }

  const bool dry_run;
  const std::uint64_t mine;
  DeathJudge judge;
  ReclaimReport* const report;
  bool changed = false;
  absl::flat_hash_set<std::string> topics;  // of dead endpoints
};

// Step 1: entries whose records show a dead owner (by token, or by a pid
// reused in our namespace); types no live endpoint uses.
void Registry::FreeDeadRecords(ReclaimPass& pass) {
  const RegistrySnapshot snap = Read(/*with_types=*/true);
  // The entry must still be the one the snapshot judged (same state, same
  // id, same holder); the holder is the one the record names.
  auto unchanged = [](auto& e, const auto& r, transport::internal::EntryLook* look) {
    *look = transport::internal::LookAt(e);
    // Relaxed: ordered by LookAt's acquire of the state.
    return StateOf(look->state) == EntryState::kActive && look->holder == r.owner.token &&
           e.id.load(std::memory_order_relaxed) == r.id;
  };
  auto dead = [&](const ProcessIdentity& o) {
    return pass.judge.Dead(o.token, o.pid, o.start_time, o.pid_ns);
  };
  absl::flat_hash_set<std::uint64_t> live_hashes;
  transport::internal::EntryLook look;
  for (const EndpointRecord& r : snap.endpoints) {
    if (!dead(r.owner)) {
      live_hashes.insert(r.type_hash);
      continue;
    }
    if (unchanged(endpoint(r.index), r, &look) && pass.Free(endpoint(r.index), look, [] {})) {
      pass.report->dead_endpoints.push_back(r);
      pass.topics.insert(r.topic);
    }
  }
  for (const NodeRecord& r : snap.nodes) {
    if (dead(r.owner) && unchanged(node(r.index), r, &look) &&
        pass.Free(node(r.index), look, [] {})) {
      pass.report->dead_nodes.push_back(r);
    }
  }
  for (const TypeRecord& r : snap.types) {
    internal::TypeEntry& t = type(r.index);
    look = transport::internal::LookAt(t);
    if (StateOf(look.state) != EntryState::kActive || live_hashes.contains(r.hash) ||
        !pass.judge.TokenDead(look.holder)) {
      continue;
    }
    if (pass.Free(t, look, [] {})) pass.report->dead_types.push_back(r);
  }
}

// Step 2: entries whose holder died half-way through a claim, a release or
// a reclaim. Not Free with a dead holder: taken over and freed (an
// endpoint's topic may hold a ring or subscriber entry already, so it is
// reclaimed too); Free with a dead holder's token left on it: the token
// comes back.
void Registry::FreeStuckEntries(ReclaimPass& pass) {
  auto sweep = [&](absl::string_view table, std::uint32_t count, auto entry_at, auto&& clean) {
    for (std::uint32_t i = 0; i < count; ++i) {
      auto& e = entry_at(i);
      const transport::internal::EntryLook look = transport::internal::LookAt(e);
      // Active entries were judged with their records, in step 1.
      if (StateOf(look.state) == EntryState::kActive ||
          !HeldByDead(look, pass.mine, [&](std::uint64_t t) { return pass.judge.TokenDead(t); })) {
        continue;
      }
      if (StateOf(look.state) == EntryState::kFree) {
        if (!pass.dry_run) transport::internal::GiveBackToken(e, look.holder);
        continue;
      }
      pass.report->stuck_entries.push_back(absl::StrCat(
          table, " entry ", i, ": ", transport::internal::EntryStateName(StateOf(look.state)),
          ", its holder is dead"));
      pass.Free(e, look, [&] { clean(i); });
    }
  };
  sweep("node", config_.max_nodes, [this](std::uint32_t i) -> auto& { return node(i); },
        [](std::uint32_t) {});
  sweep("endpoint", config_.max_endpoints,
        [this](std::uint32_t i) -> auto& { return endpoint(i); }, [&](std::uint32_t i) {
          // Read while we hold the entry, before it is freed.
          const std::string topic = LoadString(endpoint(i).topic, internal::kTopicSize);
          if (transport::ValidateTopicName(topic).ok()) pass.topics.insert(topic);
        });
  sweep("type", config_.max_types, [this](std::uint32_t i) -> auto& { return type(i); },
        [](std::uint32_t) {});
}

// Step 3: the dead endpoints' entries in their topic segments, through
// transport's own reclaim (which also returns the chunks a dead subscriber
// held), the topic segments (with their pools) nobody uses any more, and
// the dead processes' liveness files.
void Registry::ReclaimTopics(ReclaimPass& pass) {
  std::vector<std::string> sorted(pass.topics.begin(), pass.topics.end());
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& topic : sorted) {
    absl::StatusOr<std::string> name = transport::TopicSegmentName(options_, topic);
    if (!name.ok()) continue;
    absl::StatusOr<transport::TopicSegment> t =
        transport::TopicSegment::AttachSegment(options_, *name);
    if (absl::IsNotFound(t.status())) continue;
    if (!t.ok()) {
      pass.report->errors.push_back(std::string(t.status().message()));
      continue;
    }
    pass.report->topic_entries_freed += t->ReclaimDead();
    if (t->Leave()) pass.report->topics_unlinked.push_back(*name);
  }
  pass.report->liveness_files_removed = transport::SweepDeadTokens(options_);
}

ReclaimReport Registry::ReclaimDead(bool dry_run) {
  ReclaimReport report;
  // Without a writable mapping, or a token to hold entries by, there is
  // nothing we could free.
  dry_run = dry_run || !segment_.writable();
  std::uint64_t mine = 0;
  if (!dry_run) {
    absl::StatusOr<std::uint64_t> token = transport::ProcessToken(options_);
    if (token.ok()) {
      mine = *token;
    } else {
      report.errors.push_back(std::string(token.status().message()));
      dry_run = true;
    }
  }
  ReclaimPass pass(options_, dry_run, mine, &report);
  FreeDeadRecords(pass);
  FreeStuckEntries(pass);
  if (pass.changed) Bump();
  if (!dry_run) ReclaimTopics(pass);
  return report;
}

}  // namespace ringcast::discovery
