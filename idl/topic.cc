#include "idl/topic.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace ringcast::idl {
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
      if (token_start) return BadTopic(topic, absl::StrCat("empty token at offset ", i));
      token_start = true;
      continue;
    }
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return BadTopic(topic, absl::StrCat("character '", absl::CHexEscape(absl::string_view(&c, 1)),
                                          "' at offset ", i));
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

}  // namespace ringcast::idl
