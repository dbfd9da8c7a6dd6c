#include "transport/names.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "transport/status_macros.h"

namespace ringcast::transport {
namespace {

absl::Status BadTopic(absl::string_view topic, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid topic name '", topic, "': ", why,
      " (valid: '/'-separated tokens of [A-Za-z0-9_], each not starting with "
      "a digit, no '__', e.g. /camera/image)"));
}

}  // namespace

absl::Status ValidateTopicName(absl::string_view topic) {
  if (topic.empty()) return BadTopic(topic, "it is empty");
  if (topic[0] != '/') return BadTopic(topic, "it must start with '/'");
  if (topic.size() == 1) return BadTopic(topic, "it has no token after '/'");
  if (topic.back() == '/') return BadTopic(topic, "it ends with '/'");
  bool token_start = true;
  for (std::size_t i = 1; i < topic.size(); ++i) {
    const char c = topic[i];
    if (c == '/') {
      if (token_start) {
        return BadTopic(topic, absl::StrCat("empty token at offset ", i));
      }
      token_start = true;
      continue;
    }
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return BadTopic(topic, absl::StrFormat("character '%s' at offset %d",
                                             absl::CHexEscape(absl::string_view(&c, 1)),
                                             i));
    }
    if (c == '_' && topic[i - 1] == '_') {
      return BadTopic(topic, absl::StrCat("repeated '_' at offset ", i));
    }
    if (token_start && absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return BadTopic(topic, absl::StrCat("token starts with digit '", absl::string_view(&c, 1),
                                          "' at offset ", i));
    }
    token_start = false;
  }
  return absl::OkStatus();
}

absl::Status ValidateShmOptions(const ShmOptions& options) {
  const absl::string_view p = options.prefix;
  bool ok = !p.empty() && p.size() <= 64;
  for (const char c : p) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid segment prefix '", p, "': expected 1..64 of [A-Za-z0-9_-]"));
  }
  if (options.domain > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid domain ", options.domain, ": expected 0..65535"));
  }
  if (options.dir.empty() || options.dir[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid segment directory '", options.dir, "': expected an absolute path"));
  }
  return absl::OkStatus();
}

std::vector<std::string> NamesWithStem(const ShmOptions& options, absl::string_view stem) {
  std::vector<std::string> out;
  DIR* d = ::opendir(options.dir.c_str());
  if (d == nullptr) return out;
  const absl::string_view bare = absl::StripPrefix(stem, "/");
  while (const dirent* e = ::readdir(d)) {
    if (absl::StartsWith(e->d_name, bare)) out.push_back(absl::StrCat("/", e->d_name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

SpaceUsage MeasureSpace(const ShmOptions& options) {
  SpaceUsage u;
  for (const std::string& name : NamesWithStem(options, DomainStem(options))) {
    struct stat st {};
    if (::lstat(absl::StrCat(options.dir, name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    const std::uint64_t bytes = static_cast<std::uint64_t>(st.st_blocks) * 512;
    u.domain_bytes += bytes;
    ++u.domain_files;
    if (bytes > u.largest_bytes) {
      u.largest_bytes = bytes;
      u.largest = name;
    }
  }
  struct statvfs vfs {};
  if (::statvfs(options.dir.c_str(), &vfs) == 0) {
    u.free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    u.total_bytes = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  }
  return u;
}

std::string DomainStem(const ShmOptions& options) {
  return absl::StrCat("/", options.prefix, ".", options.domain, ".");
}

absl::StatusOr<std::string> TopicSegmentName(const ShmOptions& options,
                                             absl::string_view topic) {
  RINGCAST_RETURN_IF_ERROR(ValidateShmOptions(options));
  RINGCAST_RETURN_IF_ERROR(ValidateTopicName(topic));
  std::string name = absl::StrCat(DomainStem(options), "t",
                                  absl::StrReplaceAll(topic, {{"/", "."}}));
  // NAME_MAX counts the name without the leading '/'.
  if (name.size() - 1 > NAME_MAX) {
    const std::string tail = absl::StrFormat("~%016x", Fnv1a64(topic));
    name.resize(1 + NAME_MAX - tail.size());
    name += tail;
  }
  return name;
}

std::optional<std::string> TopicFromSegmentName(const ShmOptions& options,
                                                absl::string_view segment_name) {
  const std::string stem = absl::StrCat(DomainStem(options), "t.");
  if (!absl::StartsWith(segment_name, stem)) return std::nullopt;
  if (absl::StrContains(segment_name, "~")) return std::nullopt;
  segment_name.remove_prefix(stem.size() - 1);  // keep the '.' -> leading '/'
  std::string topic = absl::StrReplaceAll(segment_name, {{".", "/"}});
  if (!ValidateTopicName(topic).ok()) return std::nullopt;
  return topic;
}

std::uint64_t Fnv1a64(absl::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace ringcast::transport
