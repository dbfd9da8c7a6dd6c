#include "transport/liveness.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ringcast::transport {
namespace {

struct Token {
  std::uint64_t id = 0;
  int fd = -1;
  std::string path;
};

// This process's tokens, keyed by "<dir>/<prefix>.<domain>". Created on
// first use and kept for the process's life; removed at a clean exit.
struct Registry {
  std::mutex mu;
  pid_t owner = 0;  // the pid that created the entries below
  absl::flat_hash_map<std::string, Token> tokens;
};

Registry& Tokens() {
  static Registry* r = new Registry;  // never destroyed: used from atexit
  return *r;
}

void RemoveTokensAtExit() { ReleaseProcessTokens(); }

std::uint64_t RandomId() {
  std::uint64_t id = 0;
  while (id == 0) {
    if (::getrandom(&id, sizeof id, 0) != sizeof id) id = 0;
  }
  return id;
}

// True if nobody holds a lock on `path` (its owner is dead); removes it then.
bool RemoveIfUnlocked(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT;
  // The owner holds LOCK_EX for its whole life: if we can lock, it is gone.
  const bool dead = ::flock(fd, LOCK_SH | LOCK_NB) == 0;
  if (dead) ::unlink(path.c_str());
  ::close(fd);
  return dead;
}

}  // namespace

std::string LivenessName(const ShmOptions& options, std::uint64_t id) {
  return absl::StrFormat("/%s.%u.live.%016x", options.prefix, options.domain, id);
}

void ReleaseProcessTokens() {
  Registry& r = Tokens();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.owner != ::getpid()) return;  // inherited from a parent: not ours
  for (auto& [key, t] : r.tokens) {
    ::unlink(t.path.c_str());
    ::close(t.fd);
  }
  r.tokens.clear();
}

absl::StatusOr<std::uint64_t> ProcessToken(const ShmOptions& options) {
  Registry& r = Tokens();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.owner != ::getpid()) {
    // A forked child: the parent's files are the parent's. Closing our
    // inherited descriptors lets the parent's death be seen while we live.
    for (auto& [key, t] : r.tokens) ::close(t.fd);
    r.tokens.clear();
    if (r.owner == 0) std::atexit(RemoveTokensAtExit);  // children inherit it
    r.owner = ::getpid();
  }
  const std::string key =
      absl::StrCat(options.dir, "/", options.prefix, ".", options.domain);
  if (auto it = r.tokens.find(key); it != r.tokens.end()) return it->second.id;

  // Create under a temporary name, lock, then rename into place: a checker
  // must never find the real name unlocked while we are alive.
  const std::uint64_t id = RandomId();
  const std::string path = absl::StrCat(options.dir, LivenessName(options, id));
  const std::string tmp = absl::StrCat(path, ".new");
  const int fd =
      ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open(", tmp, ")"));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    ::close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat("liveness file ", path));
  }
  r.tokens[key] = Token{id, fd, path};
  return id;
}

bool IsTokenAlive(const ShmOptions& options, std::uint64_t id) {
  if (id == 0) return false;
  return !RemoveIfUnlocked(absl::StrCat(options.dir, LivenessName(options, id)));
}

int SweepDeadTokens(const ShmOptions& options) {
  const std::string stem = absl::StrFormat("%s.%u.live.", options.prefix, options.domain);
  DIR* d = ::opendir(options.dir.c_str());
  if (d == nullptr) return 0;
  std::vector<std::string> candidates;
  while (const dirent* e = ::readdir(d)) {
    if (absl::StartsWith(e->d_name, stem)) candidates.emplace_back(e->d_name);
  }
  ::closedir(d);
  int removed = 0;
  for (const std::string& name : candidates) {
    // A ".new" file is unlocked only between its creation and its lock, a
    // few microseconds; one older than a few seconds was left by the dead.
    const std::string path = absl::StrCat(options.dir, "/", name);
    struct stat st {};
    if (absl::EndsWith(name, ".new") &&
        (::stat(path.c_str(), &st) != 0 || ::time(nullptr) - st.st_mtime < 10)) {
      continue;
    }
    if (RemoveIfUnlocked(path)) ++removed;
  }
  return removed;
}

bool LivenessCache::IsAlive(std::uint64_t id) {
  auto [it, inserted] = known_.try_emplace(id, false);
  if (inserted) it->second = IsTokenAlive(options_, id);
  return it->second;
}

}  // namespace ringcast::transport
