// tests/cli/json_lite.h: just enough JSON to read what `ringcast --json`
// prints: objects, arrays, strings (with the escapes the CLI emits),
// numbers, true/false/null. Malformed input yields nullopt, never a crash.
#ifndef RINGCAST_TESTS_CLI_JSON_LITE_H_
#define RINGCAST_TESTS_CLI_JSON_LITE_H_

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ringcast::testing {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  // The member `key` of an object, or a null value.
  const Json& operator[](const std::string& key) const {
    static const Json kNull;
    auto it = object.find(key);
    return it == object.end() ? kNull : it->second;
  }
  const Json& operator[](std::size_t i) const {
    static const Json kNull;
    return i < array.size() ? array[i] : kNull;
  }
  std::int64_t integer() const { return static_cast<std::int64_t>(number); }
  bool has(const std::string& key) const { return object.count(key) != 0; }
};

class JsonParser {
 public:
  static std::optional<Json> Parse(const std::string& text) {
    JsonParser p(text);
    Json v;
    if (!p.Value(&v, 0)) return std::nullopt;
    p.Space();
    if (p.pos_ != text.size()) return std::nullopt;
    return v;
  }

 private:
  explicit JsonParser(const std::string& t) : t_(t) {}
  void Space() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\n' || t_[pos_] == '\t' ||
                                t_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(const char* word) {
    const std::string w(word);
    if (t_.compare(pos_, w.size(), w) != 0) return false;
    pos_ += w.size();
    return true;
  }
  bool String(std::string* out) {
    if (pos_ >= t_.size() || t_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < t_.size() && t_[pos_] != '"') {
      char c = t_[pos_++];
      if (c == '\\') {
        if (pos_ >= t_.size()) return false;
        const char e = t_[pos_++];
        switch (e) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'u': {
            if (pos_ + 4 > t_.size()) return false;
            c = static_cast<char>(std::strtol(t_.substr(pos_, 4).c_str(), nullptr, 16));
            pos_ += 4;
            break;
          }
          default: c = e;
        }
      }
      out->push_back(c);
    }
    if (pos_ >= t_.size()) return false;
    ++pos_;
    return true;
  }
  bool Value(Json* v, int depth) {
    if (depth > 64) return false;
    Space();
    if (pos_ >= t_.size()) return false;
    const char c = t_[pos_];
    if (c == '{') {
      ++pos_;
      v->type = Json::Type::kObject;
      Space();
      if (pos_ < t_.size() && t_[pos_] == '}') return ++pos_, true;
      for (;;) {
        Space();
        std::string key;
        if (!String(&key)) return false;
        Space();
        if (pos_ >= t_.size() || t_[pos_++] != ':') return false;
        if (!Value(&v->object[key], depth + 1)) return false;
        Space();
        if (pos_ >= t_.size()) return false;
        if (t_[pos_] == ',') { ++pos_; continue; }
        if (t_[pos_] == '}') return ++pos_, true;
        return false;
      }
    }
    if (c == '[') {
      ++pos_;
      v->type = Json::Type::kArray;
      Space();
      if (pos_ < t_.size() && t_[pos_] == ']') return ++pos_, true;
      for (;;) {
        v->array.emplace_back();
        if (!Value(&v->array.back(), depth + 1)) return false;
        Space();
        if (pos_ >= t_.size()) return false;
        if (t_[pos_] == ',') { ++pos_; continue; }
        if (t_[pos_] == ']') return ++pos_, true;
        return false;
      }
    }
    if (c == '"') {
      v->type = Json::Type::kString;
      return String(&v->string);
    }
    if (Literal("true")) { v->type = Json::Type::kBool; v->boolean = true; return true; }
    if (Literal("false")) { v->type = Json::Type::kBool; return true; }
    if (Literal("null")) return true;
    const char* begin = t_.c_str() + pos_;
    char* end = nullptr;
    v->number = std::strtod(begin, &end);
    if (end == begin) return false;
    v->type = Json::Type::kNumber;
    pos_ += static_cast<std::size_t>(end - begin);
    return true;
  }

  const std::string& t_;
  std::size_t pos_ = 0;
};

}  // namespace ringcast::testing

#endif  // RINGCAST_TESTS_CLI_JSON_LITE_H_
