// core/node_state.h: what a node's endpoints share: the registry, the
// node's entry, its identity and context, and the callback subscriptions an
// Executor serves. Internal to core/.
#ifndef RINGCAST_CORE_NODE_STATE_H_
#define RINGCAST_CORE_NODE_STATE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "discovery/registry.h"
#include "ringcast/context.h"
#include "ringcast/raw.h"

namespace ringcast::internal {

struct NodeState {
  NodeState(discovery::Registry r, discovery::EntryHandle e, std::string n,
            discovery::ProcessIdentity i, Context c)
      : registry(std::move(r)), entry(e), name(std::move(n)), me(std::move(i)),
        context(std::move(c)) {}
  ~NodeState() {
    registry.RemoveNode(entry);
    registry.Leave();  // unlinks the registry if we were its last user
  }

  // Live callback subscriptions (expired ones are dropped when seen).
  std::vector<std::shared_ptr<CallbackSubscription>> Callbacks();

  discovery::Registry registry;
  discovery::EntryHandle entry;
  std::string name;
  discovery::ProcessIdentity me;
  Context context;

  std::mutex mu;
  std::vector<std::weak_ptr<CallbackSubscription>> callbacks;  // guarded by mu
  // +1 whenever `callbacks` changes, so an executor knows to look again.
  std::atomic<std::uint64_t> version{0};
};

}  // namespace ringcast::internal

#endif  // RINGCAST_CORE_NODE_STATE_H_
