// record/mcap_internal.h: what the MCAP writer and reader share: opcodes,
// little-endian encoding into a std::string, a bounds-checked cursor over
// bytes read from a file, CRC-32, and the limits the reader enforces on
// sizes a file declares. Not part of the API.
#ifndef RINGCAST_RECORD_MCAP_INTERNAL_H_
#define RINGCAST_RECORD_MCAP_INTERNAL_H_

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ringcast::record::internal {

inline constexpr char kMagic[8] = {'\x89', 'M', 'C', 'A', 'P', '0', '\r', '\n'};
inline constexpr absl::string_view kMagicView(kMagic, sizeof(kMagic));

enum Opcode : std::uint8_t {
  kHeader = 0x01,
  kFooter = 0x02,
  kSchema = 0x03,
  kChannel = 0x04,
  kMessage = 0x05,
  kChunk = 0x06,
  kMessageIndex = 0x07,
  kChunkIndex = 0x08,
  kAttachment = 0x09,
  kAttachmentIndex = 0x0A,
  kStatistics = 0x0B,
  kMetadata = 0x0C,
  kMetadataIndex = 0x0D,
  kSummaryOffset = 0x0E,
  kDataEnd = 0x0F,
};

// Opcode byte + u64 content length.
inline constexpr std::size_t kRecordPrefix = 9;
// A message record's fixed fields: channel u16, sequence u32, log and
// publish time u64.
inline constexpr std::size_t kMessageFixed = 2 + 4 + 8 + 8;
// The footer's content: summary_start, summary_offset_start, summary_crc.
inline constexpr std::size_t kFooterContent = 8 + 8 + 4;
inline constexpr std::size_t kFooterRecord = kRecordPrefix + kFooterContent;

// Limits on what a chunk may declare, so that a corrupt or hostile file
// cannot make the reader allocate without bound. A chunk's records are at
// most 1 GiB uncompressed (the writer refuses a message that would need
// more). A compressed chunk may not claim more than its codec can produce
// from its compressed bytes: lz4 encodes at most ~255 bytes per input byte
// (a match length grows by 255 per extra byte), zstd at most ~32 KiB per
// 4-byte RLE block, so 64 Ki-fold; both plus 4 KiB of slack for tiny frames.
inline constexpr std::uint64_t kMaxChunkRecords = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kLz4MaxRatio = 256;
inline constexpr std::uint64_t kZstdMaxRatio = 65536;
inline constexpr std::uint64_t kRatioSlack = 4096;

inline std::uint32_t Crc32(std::uint32_t crc, absl::string_view bytes) {
  // zlib takes uInt lengths: feed at most 1 GiB at a time.
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  while (n > 0) {
    const std::size_t step = std::min<std::size_t>(n, std::size_t{1} << 30);
    crc = static_cast<std::uint32_t>(
        ::crc32(crc, reinterpret_cast<const Bytef*>(p), static_cast<uInt>(step)));
    p += step;
    n -= step;
  }
  return crc;
}

// ---- Encoding (always little endian, whatever the host).

inline void PutU8(std::string* s, std::uint8_t v) { s->push_back(static_cast<char>(v)); }
inline void PutU16(std::string* s, std::uint16_t v) {
  char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  s->append(b, 2);
}
inline void PutU32(std::string* s, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  s->append(b, 4);
}
inline void PutU64(std::string* s, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  s->append(b, 8);
}
inline void SetU64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void SetU32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void PutString(std::string* s, absl::string_view v) {
  PutU32(s, static_cast<std::uint32_t>(v.size()));
  s->append(v.data(), v.size());
}
inline void PutStringMap(std::string* s, const std::map<std::string, std::string>& m) {
  const std::size_t at = s->size();
  PutU32(s, 0);
  for (const auto& [k, v] : m) {
    PutString(s, k);
    PutString(s, v);
  }
  SetU32(s->data() + at, static_cast<std::uint32_t>(s->size() - at - 4));
}

// Starts a record (opcode and a length to be patched by EndRecord).
inline std::size_t BeginRecord(std::string* s, Opcode op) {
  const std::size_t at = s->size();
  PutU8(s, op);
  PutU64(s, 0);
  return at;
}
inline void EndRecord(std::string* s, std::size_t at) {
  SetU64(s->data() + at + 1, s->size() - at - kRecordPrefix);
}

// ---- Decoding.

inline std::uint16_t GetU16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint16_t>(u[0] | (u[1] << 8));
}
inline std::uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}
inline std::uint64_t GetU64(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | u[i];
  return v;
}

// Reads fields off a bounded span of a file. A read past the end returns
// zero or empty and records the first such problem (field name, its file
// offset, what it needed and what was left); callers parse every field of
// a record and then check ok(). `base` is the file offset of data[0] (for
// bytes of a decompressed chunk: the chunk's offset, see `where`).
class Cursor {
 public:
  Cursor(absl::string_view data, std::uint64_t base) : data_(data), base_(base) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t pos() const { return pos_; }
  std::size_t left() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }
  // Records a problem found by the caller (first one wins).
  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  std::uint8_t U8(absl::string_view what) {
    const char* p = Take(1, what);
    return p == nullptr ? 0 : static_cast<std::uint8_t>(*p);
  }
  std::uint16_t U16(absl::string_view what) {
    const char* p = Take(2, what);
    return p == nullptr ? 0 : GetU16(p);
  }
  std::uint32_t U32(absl::string_view what) {
    const char* p = Take(4, what);
    return p == nullptr ? 0 : GetU32(p);
  }
  std::uint64_t U64(absl::string_view what) {
    const char* p = Take(8, what);
    return p == nullptr ? 0 : GetU64(p);
  }
  // u32 length + bytes.
  absl::string_view Bytes32(absl::string_view what) { return Sized(U32(what), what); }
  // u64 length + bytes.
  absl::string_view Bytes64(absl::string_view what) { return Sized(U64(what), what); }
  std::string String(absl::string_view what) { return std::string(Bytes32(what)); }
  absl::string_view Rest() {
    absl::string_view r = data_.substr(pos_);
    pos_ = data_.size();
    return r;
  }
  // map<string, string>: u32 byte length, then key/value pairs filling it.
  std::map<std::string, std::string> StringMap(absl::string_view what) {
    std::map<std::string, std::string> m;
    const std::uint64_t at = base_ + pos_;
    Cursor sub(Bytes32(what), at + 4);
    while (ok() && sub.ok() && !sub.done()) {
      std::string k = sub.String(absl::StrCat(what, " key"));
      std::string v = sub.String(absl::StrCat(what, " value"));
      if (sub.ok()) m[std::move(k)] = std::move(v);
    }
    if (!sub.ok()) Fail(sub.error());
    return m;
  }
  // map<u16, u64>, as in chunk indexes and statistics.
  std::map<std::uint16_t, std::uint64_t> U16U64Map(absl::string_view what) {
    std::map<std::uint16_t, std::uint64_t> m;
    const std::uint64_t at = base_ + pos_;
    Cursor sub(Bytes32(what), at + 4);
    while (ok() && sub.ok() && !sub.done()) {
      const std::uint16_t k = sub.U16(absl::StrCat(what, " key"));
      const std::uint64_t v = sub.U64(absl::StrCat(what, " value"));
      if (sub.ok()) m[k] = v;
    }
    if (!sub.ok()) Fail(sub.error());
    return m;
  }

 private:
  const char* Take(std::uint64_t n, absl::string_view what) {
    if (!ok()) return nullptr;
    if (n > left()) {
      Fail(absl::StrCat(what, " at offset ", base_ + pos_, " needs ", n, " bytes, ", left(),
                        " left in the record"));
      return nullptr;
    }
    const char* p = data_.data() + pos_;
    pos_ += static_cast<std::size_t>(n);
    return p;
  }
  absl::string_view Sized(std::uint64_t n, absl::string_view what) {
    const char* p = Take(n, what);
    return p == nullptr ? absl::string_view() : absl::string_view(p, static_cast<std::size_t>(n));
  }

  absl::string_view data_;
  std::uint64_t base_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace ringcast::record::internal

#endif  // RINGCAST_RECORD_MCAP_INTERNAL_H_
