#include "transport/liveness.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "transport/names.h"
#include "transport/process.h"
#include "transport/shm_file.h"
#include "transport/warn.h"

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

// A half-made ".new" liveness file younger than this may still be on its
// way to being locked by its (live) creator.
constexpr int kNewTokenGraceSeconds = 10;

}  // namespace

// A file that is not a regular file was planted by someone: its owner's
// real file is gone, so the owner is dead, but the planted file is left
// alone (with one warning).
LivenessFile LookAtLivenessFile(const std::string& path, bool remove) {
  absl::StatusOr<ShmFile> f = OpenShmFile(path, O_RDONLY);
  if (absl::IsNotFound(f.status())) return LivenessFile::kDead;
  if (IsForeignFile(f.status())) {
    WarnOnce(path, absl::StrCat("skipping liveness name: ", f.status().message()));
    return LivenessFile::kForeign;
  }
  if (!f.ok()) return LivenessFile::kAlive;  // cannot look (another user's file): assume alive
  // The owner holds LOCK_EX for its whole life: if we can lock, it is gone.
  if (::flock(f->fd(), LOCK_SH | LOCK_NB) != 0) return LivenessFile::kAlive;
  if (remove) ::unlink(path.c_str());
  return LivenessFile::kDead;
}


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
  const std::uint64_t id = RandomNonZeroId();
  const std::string path = absl::StrCat(options.dir, LivenessName(options, id));
  const std::string tmp = absl::StrCat(path, ".new");
  // Readable by the group, if one is configured, so that its members can
  // tell whether we are alive.
  absl::StatusOr<ShmFile> f =
      OpenShmFile(tmp, O_RDWR | O_CREAT | O_EXCL, options.group ? 0640 : 0600);
  if (!f.ok()) return f.status();
  if ((options.group && (::fchmod(f->fd(), 0640) != 0 ||
                         ::fchown(f->fd(), static_cast<uid_t>(-1), *options.group) != 0)) ||
      ::flock(f->fd(), LOCK_EX | LOCK_NB) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return absl::ErrnoToStatus(err, absl::StrCat("liveness file ", path));
  }
  r.tokens[key] = Token{id, f->Release(), path};
  return id;
}

bool IsTokenAlive(const ShmOptions& options, std::uint64_t id) {
  if (id == 0) return false;
  return LookAtLivenessFile(absl::StrCat(options.dir, LivenessName(options, id)), /*remove=*/true) ==
         LivenessFile::kAlive;
}

bool IsTokenAliveNoRemove(const ShmOptions& options, std::uint64_t id) {
  if (id == 0) return false;
  return LookAtLivenessFile(absl::StrCat(options.dir, LivenessName(options, id)), /*remove=*/false) ==
         LivenessFile::kAlive;
}

std::vector<std::string> TokenFileNames(const ShmOptions& options) {
  std::vector<std::string> names =
      NamesWithStem(options, absl::StrCat(DomainStem(options), "live."));
  // A ".new" file is unlocked only between its creation and its lock, a
  // few microseconds; one older than a few seconds was left by the dead.
  names.erase(std::remove_if(names.begin(), names.end(),
                             [&](const std::string& name) {
                               struct stat st {};
                               return absl::EndsWith(name, ".new") &&
                                      (::lstat(absl::StrCat(options.dir, name).c_str(), &st) != 0 ||
                                       ::time(nullptr) - st.st_mtime < kNewTokenGraceSeconds);
                             }),
              names.end());
  return names;
}

int SweepDeadTokens(const ShmOptions& options) {
  int removed = 0;
  for (const std::string& name : TokenFileNames(options)) {
    if (LookAtLivenessFile(absl::StrCat(options.dir, name), /*remove=*/true) ==
        LivenessFile::kDead) {
      ++removed;
    }
  }
  return removed;
}

bool LivenessCache::IsAlive(std::uint64_t id) {
  auto [it, inserted] = known_.try_emplace(id, false);
  if (inserted) {
    it->second = look_only_ ? IsTokenAliveNoRemove(options_, id) : IsTokenAlive(options_, id);
  }
  return it->second;
}

}  // namespace ringcast::transport
