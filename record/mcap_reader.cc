// McapReader: maps a file (or takes the caller's bytes), checks the magic
// and the header, and reads the summary found through the footer. A file
// whose footer or summary is missing or invalid (its writer was killed, or
// the tail is damaged) is scanned from the header on instead: every
// complete record is taken, every chunk decompressed and checked, and the
// scan stops at the first record that is cut off or bad, which the summary
// then reports (Summary::recovered, recovered_bytes, recovery_note).
//
// Every length and offset read from the file is checked against the bytes
// there before use; a chunk's declared uncompressed size is checked against
// what its codec could produce (mcap_internal.h) before any allocation, and
// decompression never writes past it. A corrupt file is DataLoss naming the
// file (when it has a name) and the offset of the bad record.
//
// ReadMessages decompresses only the chunks whose time range and channels
// match, a group of chunks whose time ranges overlap at a time, and sorts
// each group's messages by log time (ties in file order): the usual file
// (chunks in time order) costs one chunk of memory.
#include <fcntl.h>
#include <lz4frame.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "record/mcap.h"
#include "record/mcap_internal.h"

namespace ringcast::record {
namespace {

using internal::Cursor;
using internal::kRecordPrefix;

// A growable byte buffer that does not zero what it allocates (a chunk's
// records are overwritten by the decompressor anyway).
class Buffer {
 public:
  char* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  void set_size(std::size_t n) { size_ = n; }
  void Reset(std::size_t capacity) {
    if (capacity > capacity_ || data_ == nullptr) {
      data_.reset(new char[std::max<std::size_t>(capacity, 1)]);
      capacity_ = capacity;
    }
    size_ = 0;
  }
  void Grow(std::size_t capacity) {
    if (capacity <= capacity_) return;
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = capacity;
  }
  absl::string_view view() const { return absl::string_view(data_.get(), size_); }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

// A record framed in a span: opcode, the file offset of its opcode, body.
struct RecordView {
  std::uint8_t op = 0;
  std::uint64_t offset = 0;
  absl::string_view body;
  std::uint64_t size() const { return kRecordPrefix + body.size(); }
};

// Frames the record at data[pos]; `base` is the offset of data[0] in the
// file. On failure `why` says what is cut off.
bool FrameRecord(absl::string_view data, std::uint64_t base, std::size_t pos, RecordView* r,
                 std::string* why) {
  const std::size_t left = data.size() - pos;
  if (left < kRecordPrefix) {
    *why = absl::StrCat("record at offset ", base + pos,
                        " is cut off: its 9-byte opcode and length need 9 bytes, ", left, " left");
    return false;
  }
  const std::uint64_t length = internal::GetU64(data.data() + pos + 1);
  if (length > left - kRecordPrefix) {
    *why = absl::StrCat("record at offset ", base + pos, " is cut off: ", length,
                        " bytes announced, ", left - kRecordPrefix, " left");
    return false;
  }
  r->op = static_cast<std::uint8_t>(data[pos]);
  r->offset = base + pos;
  r->body = data.substr(pos + kRecordPrefix, static_cast<std::size_t>(length));
  return true;
}

const char* OpName(std::uint8_t op) {
  switch (op) {
    case internal::kHeader: return "header";
    case internal::kFooter: return "footer";
    case internal::kSchema: return "schema";
    case internal::kChannel: return "channel";
    case internal::kMessage: return "message";
    case internal::kChunk: return "chunk";
    case internal::kMessageIndex: return "message index";
    case internal::kChunkIndex: return "chunk index";
    case internal::kAttachment: return "attachment";
    case internal::kAttachmentIndex: return "attachment index";
    case internal::kStatistics: return "statistics";
    case internal::kMetadata: return "metadata";
    case internal::kMetadataIndex: return "metadata index";
    case internal::kSummaryOffset: return "summary offset";
    case internal::kDataEnd: return "data end";
    default: return "unknown";
  }
}

// ---- Record bodies. Each parses every field, then the caller checks
// c.ok() (see Cursor).

void ParseSchema(Cursor& c, Schema* s) {
  s->id = c.U16("schema id");
  s->name = c.String("schema name");
  s->encoding = c.String("schema encoding");
  s->data = std::string(c.Bytes32("schema data"));
  if (c.ok() && s->id == 0) c.Fail("schema id 0 is reserved (it means \"no schema\")");
}

void ParseChannel(Cursor& c, Channel* ch) {
  ch->id = c.U16("channel id");
  ch->schema_id = c.U16("channel schema id");
  ch->topic = c.String("channel topic");
  ch->message_encoding = c.String("channel message encoding");
  ch->metadata = c.StringMap("channel metadata");
}

void ParseStatistics(Cursor& c, Statistics* s) {
  s->message_count = c.U64("message count");
  s->schema_count = c.U16("schema count");
  s->channel_count = c.U32("channel count");
  s->attachment_count = c.U32("attachment count");
  s->metadata_count = c.U32("metadata count");
  s->chunk_count = c.U32("chunk count");
  s->message_start_time = c.U64("message start time");
  s->message_end_time = c.U64("message end time");
  s->channel_message_counts = c.U16U64Map("channel message counts");
}

void ParseChunkIndex(Cursor& c, ChunkIndex* ci) {
  ci->message_start_time = c.U64("message start time");
  ci->message_end_time = c.U64("message end time");
  ci->chunk_start_offset = c.U64("chunk start offset");
  ci->chunk_length = c.U64("chunk length");
  ci->message_index_offsets = c.U16U64Map("message index offsets");
  ci->message_index_length = c.U64("message index length");
  ci->compression = c.String("compression");
  ci->compressed_size = c.U64("compressed size");
  ci->uncompressed_size = c.U64("uncompressed size");
}

void ParseMetadataIndex(Cursor& c, MetadataIndex* m) {
  m->offset = c.U64("metadata offset");
  m->length = c.U64("metadata length");
  m->name = c.String("metadata name");
}

bool ParseMessage(absl::string_view body, Message* m) {
  if (body.size() < internal::kMessageFixed) return false;
  const char* p = body.data();
  m->channel_id = internal::GetU16(p);
  m->sequence = internal::GetU32(p + 2);
  m->log_time = internal::GetU64(p + 6);
  m->publish_time = internal::GetU64(p + 14);
  m->data = body.substr(internal::kMessageFixed);
  return true;
}

struct ChunkRecord {
  std::uint64_t start_time = 0;
  std::uint64_t end_time = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint32_t crc = 0;
  std::string compression;
  absl::string_view payload;
};

// Decompression contexts, made on first use and kept for the chunks of one
// Open or ReadMessages (a zstd context costs ~100 KiB to set up).
class Decoders {
 public:
  Decoders() = default;
  Decoders(const Decoders&) = delete;
  Decoders& operator=(const Decoders&) = delete;
  ~Decoders() {
    if (zstd_ != nullptr) ZSTD_freeDCtx(zstd_);
    if (lz4_ != nullptr) LZ4F_freeDecompressionContext(lz4_);
  }
  ZSTD_DCtx* zstd() {
    if (zstd_ == nullptr) zstd_ = ZSTD_createDCtx();
    if (zstd_ != nullptr) ZSTD_DCtx_reset(zstd_, ZSTD_reset_session_only);
    return zstd_;
  }
  LZ4F_dctx* lz4() {
    if (lz4_ == nullptr) {
      if (LZ4F_isError(LZ4F_createDecompressionContext(&lz4_, LZ4F_VERSION))) lz4_ = nullptr;
    } else {
      LZ4F_resetDecompressionContext(lz4_);
    }
    return lz4_;
  }

 private:
  ZSTD_DCtx* zstd_ = nullptr;
  LZ4F_dctx* lz4_ = nullptr;
};

// Decompresses into `out`, whose size must come out as exactly `declared`
// bytes: the loop never offers the codec more room than that.
bool Zstd(ZSTD_DCtx* d, absl::string_view in, std::uint64_t declared, Buffer* out,
          std::string* why) {
  if (d == nullptr) {
    *why = "cannot allocate a zstd context";
    return false;
  }
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  std::size_t ret = 1;
  for (;;) {
    if (out->size() == out->capacity() && out->capacity() < declared) {
      out->Grow(static_cast<std::size_t>(std::min<std::uint64_t>(declared, 2 * out->capacity())));
    }
    ZSTD_outBuffer ob{out->data(), out->capacity(), out->size()};
    const std::size_t in_before = ib.pos;
    const std::size_t out_before = ob.pos;
    ret = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(ret)) {
      *why = absl::StrCat("zstd data does not decode (", ZSTD_getErrorName(ret), ") after ", ob.pos,
                          " bytes");
      return false;
    }
    out->set_size(ob.pos);
    if (ret == 0 && ib.pos == ib.size) break;
    if (ib.pos == in_before && ob.pos == out_before) break;  // stuck: cut off or too long
  }
  if (ret != 0 || ib.pos != ib.size || out->size() != declared) {
    *why = absl::StrCat("zstd data does not decode to exactly the declared ", declared, " bytes (",
                        out->size(), " bytes decoded from ", ib.pos, " of ", in.size(),
                        " compressed bytes", ret != 0 ? ", frame incomplete" : "", ")");
    return false;
  }
  return true;
}

bool Lz4(LZ4F_dctx* d, absl::string_view in, std::uint64_t declared, Buffer* out,
         std::string* why) {
  if (d == nullptr) {
    *why = "cannot allocate an lz4 context";
    return false;
  }
  std::size_t in_pos = 0;
  std::size_t ret = 1;
  for (;;) {
    if (out->size() == out->capacity() && out->capacity() < declared) {
      out->Grow(static_cast<std::size_t>(std::min<std::uint64_t>(declared, 2 * out->capacity())));
    }
    std::size_t dst = out->capacity() - out->size();
    std::size_t src = in.size() - in_pos;
    ret = LZ4F_decompress(d, out->data() + out->size(), &dst, in.data() + in_pos, &src, nullptr);
    if (LZ4F_isError(ret)) {
      *why = absl::StrCat("lz4 frame does not decode (", LZ4F_getErrorName(ret), ") after ",
                          out->size(), " bytes");
      return false;
    }
    in_pos += src;
    out->set_size(out->size() + dst);
    if (ret == 0 && in_pos == in.size()) break;
    if (src == 0 && dst == 0) break;  // stuck: cut off or too long
  }
  if (ret != 0 || in_pos != in.size() || out->size() != declared) {
    *why = absl::StrCat("lz4 data does not decode to exactly the declared ", declared, " bytes (",
                        out->size(), " bytes decoded from ", in_pos, " of ", in.size(),
                        " compressed bytes", ret != 0 ? ", frame incomplete" : "", ")");
    return false;
  }
  return true;
}

// A record inside a chunk's records: opcode, offset within the records.
struct Inner {
  std::uint8_t op;
  std::uint64_t at;
  absl::string_view body;
};

// A file with its name, for errors.
struct File {
  std::string name;  // "" for FromBytes
  absl::string_view data;
  std::uint64_t header_end = 0;

  std::string Where(std::uint64_t offset) const {
    return absl::StrCat(name.empty() ? "" : name + ": ", "offset ", offset, ": ");
  }
  absl::Status Loss(std::uint64_t offset, absl::string_view what) const {
    return absl::DataLossError(absl::StrCat(Where(offset), what));
  }

  // The chunk record at `r`: fields, checked sizes, decompressed and
  // CRC-checked records (a view of the file for uncompressed chunks, else
  // of `buffer`), each record of which is framed into `inner`.
  absl::Status ReadChunk(const RecordView& r, ChunkRecord* chunk, Decoders* decoders,
                         Buffer* buffer, absl::string_view* records,
                         std::vector<Inner>* inner) const {
    Cursor c(r.body, r.offset + kRecordPrefix);
    chunk->start_time = c.U64("message start time");
    chunk->end_time = c.U64("message end time");
    chunk->uncompressed_size = c.U64("uncompressed size");
    chunk->crc = c.U32("uncompressed crc");
    chunk->compression = c.String("compression");
    chunk->payload = c.Bytes64("records");
    if (!c.ok()) return Loss(r.offset, absl::StrCat("chunk record: ", c.error()));
    // Bytes after the records would be fields of a later version: ignored.
    const std::uint64_t declared = chunk->uncompressed_size;
    const std::uint64_t compressed = chunk->payload.size();
    if (declared > internal::kMaxChunkRecords) {
      return Loss(r.offset, absl::StrCat("chunk record: uncompressed size ", declared,
                                         " exceeds the reader's limit of ",
                                         internal::kMaxChunkRecords, " bytes per chunk"));
    }
    const std::size_t initial = static_cast<std::size_t>(
        std::min<std::uint64_t>(declared, std::max<std::uint64_t>(16 * compressed, 1 << 20)));
    std::string why;
    if (chunk->compression.empty()) {
      if (compressed != declared) {
        return Loss(r.offset,
                    absl::StrCat("chunk record: uncompressed size ", declared,
                                 " but the uncompressed records are ", compressed, " bytes"));
      }
      *records = chunk->payload;
    } else if (chunk->compression == "zstd" || chunk->compression == "lz4") {
      const bool zstd = chunk->compression == "zstd";
      const std::uint64_t ratio = zstd ? internal::kZstdMaxRatio : internal::kLz4MaxRatio;
      if (declared > ratio * compressed + internal::kRatioSlack) {
        return Loss(r.offset,
                    absl::StrCat("chunk record: uncompressed size ", declared, " from ", compressed,
                                 " bytes of ", chunk->compression, " is more than ",
                                 chunk->compression, " can produce (at most ", ratio,
                                 " times the compressed size plus ", internal::kRatioSlack, ")"));
      }
      buffer->Reset(initial);
      const bool ok = zstd ? Zstd(decoders->zstd(), chunk->payload, declared, buffer, &why)
                           : Lz4(decoders->lz4(), chunk->payload, declared, buffer, &why);
      if (!ok) return Loss(r.offset, absl::StrCat("chunk record: ", why));
      *records = buffer->view();
    } else {
      return Loss(r.offset, absl::StrCat("chunk record: unknown compression \"",
                                         absl::CHexEscape(chunk->compression),
                                         "\"; expected \"\", \"lz4\" or \"zstd\""));
    }
    if (chunk->crc != 0) {
      const std::uint32_t crc = internal::Crc32(0, *records);
      if (crc != chunk->crc) {
        return Loss(r.offset, absl::StrFormat("chunk record: CRC-32 of the records is %08x, the "
                                              "chunk says %08x",
                                              crc, chunk->crc));
      }
    }
    inner->clear();
    for (std::size_t pos = 0; pos < records->size();) {
      RecordView v;
      if (!FrameRecord(*records, 0, pos, &v, &why)) {
        return Loss(r.offset, absl::StrCat("chunk record: in its uncompressed records: ", why));
      }
      if (v.op == internal::kMessage && v.body.size() < internal::kMessageFixed) {
        return Loss(r.offset, absl::StrCat("chunk record: message record at offset ", pos,
                                           " of its uncompressed records has ", v.body.size(),
                                           " bytes, fewer than the 22 of its fixed fields"));
      }
      inner->push_back({v.op, pos, v.body});
      pos += static_cast<std::size_t>(v.size());
    }
    return absl::OkStatus();
  }
};

void AddMessageToStats(Statistics* s, const Message& m) {
  if (s->message_count == 0 || m.log_time < s->message_start_time) {
    s->message_start_time = m.log_time;
  }
  if (s->message_count == 0 || m.log_time > s->message_end_time) {
    s->message_end_time = m.log_time;
  }
  ++s->message_count;
  ++s->channel_message_counts[m.channel_id];
}

}  // namespace

struct McapReader::Impl {
  File file;
  void* map = nullptr;
  std::size_t map_size = 0;
  Summary summary;
  // Per entry of summary.chunks: the channels with messages in it.
  std::vector<std::vector<std::uint16_t>> chunk_channels;
  // Message records outside chunks (found by a scan only), file offsets.
  std::vector<std::uint64_t> loose;
  std::uint64_t loose_start = UINT64_MAX;
  std::uint64_t loose_end = 0;

  ~Impl() {
    if (map != nullptr) ::munmap(map, map_size);
  }

  absl::Status ReadHeader() {
    const absl::string_view d = file.data;
    if (d.size() < sizeof(internal::kMagic) || d.substr(0, 8) != internal::kMagicView) {
      std::string got;
      for (std::size_t i = 0; i < std::min<std::size_t>(d.size(), 8); ++i) {
        absl::StrAppend(&got, i == 0 ? "" : " ",
                        absl::Hex(static_cast<unsigned char>(d[i]), absl::kZeroPad2));
      }
      return file.Loss(0, absl::StrCat("not an MCAP file: it ",
                                       d.empty() ? "is empty" : absl::StrCat("starts with ", got),
                                       ", not the MCAP magic 89 4d 43 41 50 30 0d 0a"));
    }
    RecordView r;
    std::string why;
    if (!FrameRecord(d, 0, 8, &r, &why)) return file.Loss(8, absl::StrCat("header: ", why));
    if (r.op != internal::kHeader) {
      return file.Loss(
          8, absl::StrCat("the first record is opcode 0x", absl::Hex(r.op, absl::kZeroPad2), " (",
                          OpName(r.op), "), not the header (0x01)"));
    }
    Cursor c(r.body, 8 + kRecordPrefix);
    summary.profile = c.String("profile");
    summary.library = c.String("library");
    if (!c.ok()) return file.Loss(8, absl::StrCat("header record: ", c.error()));
    file.header_end = 8 + r.size();
    return absl::OkStatus();
  }

  // The summary through the footer; a non-OK status says why it cannot be
  // used (the caller then scans).
  absl::Status ReadSummary() {
    const absl::string_view d = file.data;
    const std::uint64_t size = d.size();
    if (size < file.header_end + internal::kFooterRecord + 8) {
      return absl::DataLossError(absl::StrCat("the file ends at offset ", size,
                                              ", too soon for a footer and the closing magic"));
    }
    if (d.substr(d.size() - 8) != internal::kMagicView) {
      return file.Loss(size - 8, "no closing magic");
    }
    const std::uint64_t footer = size - 8 - internal::kFooterRecord;
    const char* f = d.data() + footer;
    if (static_cast<std::uint8_t>(f[0]) != internal::kFooter ||
        internal::GetU64(f + 1) != internal::kFooterContent) {
      return file.Loss(footer, "no footer record (opcode 0x02, 20 bytes) before the closing magic");
    }
    const std::uint64_t summary_start = internal::GetU64(f + 9);
    const std::uint64_t offsets_start = internal::GetU64(f + 17);
    const std::uint32_t crc = internal::GetU32(f + 25);
    if (summary_start == 0) return file.Loss(footer, "the footer says there is no summary");
    if (summary_start < file.header_end || summary_start > footer) {
      return file.Loss(footer, absl::StrCat("footer: summary start ", summary_start,
                                            " is outside the file's records [", file.header_end,
                                            ", ", footer, "]"));
    }
    if (offsets_start != 0 && (offsets_start < summary_start || offsets_start > footer)) {
      return file.Loss(footer, absl::StrCat("footer: summary offset start ", offsets_start,
                                            " is outside [", summary_start, ", ", footer, "]"));
    }
    if (crc != 0) {
      const std::uint32_t got =
          internal::Crc32(0, d.substr(summary_start, footer + kRecordPrefix + 16 - summary_start));
      if (got != crc) {
        return file.Loss(footer, absl::StrFormat("footer: the summary's CRC-32 is %08x, the "
                                                 "footer says %08x",
                                                 got, crc));
      }
    }
    const std::uint64_t end = offsets_start != 0 ? offsets_start : footer;
    const absl::string_view section = d.substr(0, end);
    bool have_stats = false;
    std::string why;
    for (std::uint64_t pos = summary_start; pos < end;) {
      RecordView r;
      if (!FrameRecord(section, 0, pos, &r, &why)) return file.Loss(pos, why);
      Cursor c(r.body, r.offset + kRecordPrefix);
      switch (r.op) {
        case internal::kSchema: {
          Schema s;
          ParseSchema(c, &s);
          if (c.ok()) summary.schemas[s.id] = std::move(s);
          break;
        }
        case internal::kChannel: {
          Channel ch;
          ParseChannel(c, &ch);
          if (c.ok()) summary.channels[ch.id] = std::move(ch);
          break;
        }
        case internal::kStatistics:
          ParseStatistics(c, &summary.statistics);
          have_stats = true;
          break;
        case internal::kChunkIndex: {
          ChunkIndex ci;
          ParseChunkIndex(c, &ci);
          if (c.ok() &&
              (ci.chunk_start_offset < file.header_end || ci.chunk_length < kRecordPrefix ||
               ci.chunk_length > summary_start - ci.chunk_start_offset ||
               ci.chunk_start_offset > summary_start)) {
            c.Fail(absl::StrCat("chunk [", ci.chunk_start_offset, ", +", ci.chunk_length,
                                ") is not within the data section [", file.header_end, ", ",
                                summary_start, ")"));
          }
          if (c.ok()) summary.chunks.push_back(std::move(ci));
          break;
        }
        case internal::kMetadataIndex: {
          MetadataIndex m;
          ParseMetadataIndex(c, &m);
          if (c.ok() && (m.offset < file.header_end || m.length < kRecordPrefix ||
                         m.offset > summary_start || m.length > summary_start - m.offset)) {
            c.Fail(absl::StrCat("metadata [", m.offset, ", +", m.length,
                                ") is not within the data section [", file.header_end, ", ",
                                summary_start, ")"));
          }
          if (c.ok()) summary.metadata.push_back(std::move(m));
          break;
        }
        default: break;  // attachment indexes, and records of later versions
      }
      if (!c.ok()) {
        return file.Loss(r.offset, absl::StrCat(OpName(r.op), " record: ", c.error()));
      }
      pos += r.size();
    }
    std::stable_sort(summary.chunks.begin(), summary.chunks.end(),
                     [](const ChunkIndex& a, const ChunkIndex& b) {
                       return a.chunk_start_offset < b.chunk_start_offset;
                     });
    // Chunks are distinct records: entries that overlap (or repeat) are
    // not an index of this file, and would make one chunk be read twice.
    for (std::size_t i = 1; i < summary.chunks.size(); ++i) {
      const ChunkIndex& a = summary.chunks[i - 1];
      const ChunkIndex& b = summary.chunks[i];
      if (b.chunk_start_offset < a.chunk_start_offset + a.chunk_length) {
        return file.Loss(
            summary_start,
            absl::StrCat("summary: the chunk index entries for offsets ", a.chunk_start_offset,
                         " (", a.chunk_length, " bytes) and ", b.chunk_start_offset, " overlap"));
      }
    }
    for (const ChunkIndex& ci : summary.chunks) {
      std::vector<std::uint16_t> ids;
      for (const auto& [id, off] : ci.message_index_offsets) ids.push_back(id);
      chunk_channels.push_back(std::move(ids));
    }
    if (!have_stats) {
      summary.statistics.schema_count = static_cast<std::uint16_t>(summary.schemas.size());
      summary.statistics.channel_count = static_cast<std::uint32_t>(summary.channels.size());
      summary.statistics.chunk_count = static_cast<std::uint32_t>(summary.chunks.size());
      summary.statistics.metadata_count = static_cast<std::uint32_t>(summary.metadata.size());
    }
    // A summary without chunk indexes (a writer that does not index) says
    // nothing about where the messages are: find them by a scan.
    if (summary.chunks.empty() && (!have_stats || summary.statistics.message_count > 0)) {
      Summary scanned;
      Scan(&scanned);
      summary.chunks = std::move(scanned.chunks);
    }
    return absl::OkStatus();
  }

  // Rebuilds `s` from the data section (see the file comment). Fills
  // chunk_channels and loose too.
  void Scan(Summary* s) {
    const absl::string_view d = file.data;
    chunk_channels.clear();
    loose.clear();
    std::uint64_t pos = file.header_end;
    s->recovered_bytes = pos;
    std::string note;
    Buffer buffer;
    Decoders decoders;
    std::vector<Inner> inner;
    bool after_chunk = false;  // message indexes follow their chunk
    while (note.empty()) {
      if (pos == d.size()) {
        note = absl::StrCat("the file ends at offset ", pos,
                            " after a complete record, without a data end record");
        break;
      }
      RecordView r;
      std::string why;
      if (!FrameRecord(d, 0, static_cast<std::size_t>(pos), &r, &why)) {
        note = why;
        break;
      }
      Cursor c(r.body, r.offset + kRecordPrefix);
      bool keep_after_chunk = false;
      switch (r.op) {
        case internal::kSchema: {
          Schema sc;
          ParseSchema(c, &sc);
          if (c.ok()) s->schemas[sc.id] = std::move(sc);
          break;
        }
        case internal::kChannel: {
          Channel ch;
          ParseChannel(c, &ch);
          if (c.ok()) s->channels[ch.id] = std::move(ch);
          break;
        }
        case internal::kMessage: {
          Message m;
          if (!ParseMessage(r.body, &m)) {
            c.Fail(absl::StrCat(r.body.size(), " bytes, fewer than the 22 of its fixed fields"));
            break;
          }
          AddMessageToStats(&s->statistics, m);
          loose.push_back(r.offset);
          loose_start = std::min(loose_start, m.log_time);
          loose_end = std::max(loose_end, m.log_time);
          break;
        }
        case internal::kChunk: {
          ChunkRecord chunk;
          absl::string_view records;
          absl::Status st = file.ReadChunk(r, &chunk, &decoders, &buffer, &records, &inner);
          if (!st.ok()) {
            note = std::string(st.message());
            break;
          }
          // Taken only once every record in it is good.
          std::map<std::uint16_t, Schema> schemas;
          std::map<std::uint16_t, Channel> channels;
          Statistics stats;
          for (const Inner& in : inner) {
            Cursor ic(in.body, in.at + kRecordPrefix);
            if (in.op == internal::kMessage) {
              Message m;
              ParseMessage(in.body, &m);
              AddMessageToStats(&stats, m);
            } else if (in.op == internal::kSchema) {
              Schema sc;
              ParseSchema(ic, &sc);
              if (ic.ok()) schemas[sc.id] = std::move(sc);
            } else if (in.op == internal::kChannel) {
              Channel ch;
              ParseChannel(ic, &ch);
              if (ic.ok()) channels[ch.id] = std::move(ch);
            }
            if (!ic.ok()) {
              note = file.Where(r.offset) +
                     absl::StrCat("chunk record: ", OpName(in.op), " record at offset ", in.at,
                                  " of its uncompressed records: ", ic.error());
              break;
            }
          }
          if (!note.empty()) break;
          for (auto& [id, sc] : schemas) s->schemas[id] = std::move(sc);
          for (auto& [id, ch] : channels) s->channels[id] = std::move(ch);
          ChunkIndex ci;
          ci.message_start_time =
              stats.message_count > 0 ? stats.message_start_time : chunk.start_time;
          ci.message_end_time = stats.message_count > 0 ? stats.message_end_time : chunk.end_time;
          ci.chunk_start_offset = r.offset;
          ci.chunk_length = r.size();
          ci.compression = chunk.compression;
          ci.compressed_size = chunk.payload.size();
          ci.uncompressed_size = chunk.uncompressed_size;
          std::vector<std::uint16_t> ids;
          for (const auto& [id, n] : stats.channel_message_counts) {
            ids.push_back(id);
            s->statistics.channel_message_counts[id] += n;
          }
          if (stats.message_count > 0) {
            Statistics& t = s->statistics;
            if (t.message_count == 0 || stats.message_start_time < t.message_start_time) {
              t.message_start_time = stats.message_start_time;
            }
            if (t.message_count == 0 || stats.message_end_time > t.message_end_time) {
              t.message_end_time = stats.message_end_time;
            }
            t.message_count += stats.message_count;
          }
          s->chunks.push_back(std::move(ci));
          chunk_channels.push_back(std::move(ids));
          keep_after_chunk = true;
          break;
        }
        case internal::kMessageIndex: {
          if (after_chunk) {
            const std::uint16_t channel = c.U16("channel id");
            if (c.ok()) {
              ChunkIndex& ci = s->chunks.back();
              ci.message_index_offsets[channel] = r.offset;
              ci.message_index_length += r.size();
            }
            keep_after_chunk = true;
          }
          break;
        }
        case internal::kMetadata: {
          const std::string name = c.String("metadata name");
          c.StringMap("metadata");
          if (c.ok()) s->metadata.push_back({r.offset, r.size(), name});
          break;
        }
        case internal::kAttachment: ++s->statistics.attachment_count; break;
        case internal::kDataEnd:
          note = absl::StrCat("data end record at offset ", r.offset);
          s->recovered_bytes = r.offset + r.size();
          break;
        case internal::kFooter:
          note = absl::StrCat("footer record at offset ", r.offset, " without a data end record");
          break;
        default: break;  // records of later versions, attachments' indexes
      }
      if (!note.empty()) break;
      if (!c.ok()) {
        note = file.Where(r.offset) + absl::StrCat(OpName(r.op), " record: ", c.error());
        break;
      }
      after_chunk = keep_after_chunk;
      pos += r.size();
      s->recovered_bytes = pos;
    }
    s->recovery_note = std::move(note);
    Statistics& t = s->statistics;
    t.schema_count = static_cast<std::uint16_t>(std::min<std::size_t>(s->schemas.size(), 65535));
    t.channel_count = static_cast<std::uint32_t>(s->channels.size());
    t.chunk_count = static_cast<std::uint32_t>(s->chunks.size());
    t.metadata_count = static_cast<std::uint32_t>(s->metadata.size());
  }

  absl::Status Open() {
    if (absl::Status st = ReadHeader(); !st.ok()) return st;
    absl::Status st = ReadSummary();
    if (st.ok()) return st;
    // No usable summary: start over from the data section.
    Summary scanned;
    scanned.profile = std::move(summary.profile);
    scanned.library = std::move(summary.library);
    summary = std::move(scanned);
    Scan(&summary);
    summary.recovered = true;
    summary.recovery_note =
        absl::StrCat("summary not used (", st.message(),
                     "); the scan of the data section stopped: ", summary.recovery_note);
    return absl::OkStatus();
  }
};

McapReader::McapReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
McapReader::~McapReader() = default;

absl::StatusOr<std::unique_ptr<McapReader>> McapReader::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->file.name = path;
  int fd;
  do {
    // O_NONBLOCK: a FIFO planted at `path` is refused below (not a regular
    // file) instead of waiting for ever for a writer.
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open(", path, ")"));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat("fstat(", path, ")"));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a regular file; an MCAP recording is one"));
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > 0) {
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return absl::ErrnoToStatus(err, absl::StrCat("mmap(", path, ")"));
    }
    impl->map = m;
    impl->map_size = size;
    impl->file.data = absl::string_view(static_cast<const char*>(m), size);
  }
  ::close(fd);  // the mapping stays
  if (absl::Status s = impl->Open(); !s.ok()) return s;
  return std::unique_ptr<McapReader>(new McapReader(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<McapReader>> McapReader::FromBytes(absl::string_view bytes) {
  auto impl = std::make_unique<Impl>();
  impl->file.data = bytes;
  if (absl::Status s = impl->Open(); !s.ok()) return s;
  return std::unique_ptr<McapReader>(new McapReader(std::move(impl)));
}

const Summary& McapReader::summary() const { return impl_->summary; }

absl::Status McapReader::ReadMessages(
    const ReadOptions& options,
    const std::function<bool(const Channel&, const Message&)>& fn) const {
  const Impl& r = *impl_;
  const File& file = r.file;
  if (options.start >= options.end) return absl::OkStatus();
  std::set<std::uint16_t> wanted;
  if (!options.topics.empty()) {
    const std::set<std::string> topics(options.topics.begin(), options.topics.end());
    for (const auto& [id, ch] : r.summary.channels) {
      if (topics.count(ch.topic) > 0) wanted.insert(id);
    }
    if (wanted.empty()) return absl::OkStatus();
  }
  auto channel_wanted = [&](std::uint16_t id) { return wanted.empty() || wanted.count(id) > 0; };

  // What to read: matching chunks, and the messages outside chunks as one
  // more source (index -1).
  struct Source {
    std::uint64_t start;
    std::uint64_t end;
    std::uint64_t offset;
    int chunk;
  };
  std::vector<Source> sources;
  for (std::size_t i = 0; i < r.summary.chunks.size(); ++i) {
    const ChunkIndex& ci = r.summary.chunks[i];
    if (ci.message_end_time < options.start || ci.message_start_time >= options.end) continue;
    if (!wanted.empty()) {
      const std::vector<std::uint16_t>& ids = r.chunk_channels[i];
      if (std::none_of(ids.begin(), ids.end(), channel_wanted)) continue;
    }
    sources.push_back(
        {ci.message_start_time, ci.message_end_time, ci.chunk_start_offset, static_cast<int>(i)});
  }
  if (!r.loose.empty() && r.loose_end >= options.start && r.loose_start < options.end) {
    sources.push_back({r.loose_start, r.loose_end, r.loose.front(), -1});
  }
  std::sort(sources.begin(), sources.end(), [](const Source& a, const Source& b) {
    return std::tie(a.start, a.offset) < std::tie(b.start, b.offset);
  });

  struct Item {
    std::uint64_t log_time;
    std::uint64_t offset;  // of the chunk or loose record
    std::uint64_t at;      // within the chunk's records
    const Channel* channel;
    Message message;
  };
  std::vector<Item> items;
  std::vector<Buffer> buffers;
  Decoders decoders;
  std::vector<Inner> inner;
  auto take = [&](const Message& m, std::uint64_t offset, std::uint64_t at) -> absl::Status {
    if (m.log_time < options.start || m.log_time >= options.end) return absl::OkStatus();
    if (!channel_wanted(m.channel_id)) return absl::OkStatus();
    auto it = r.summary.channels.find(m.channel_id);
    if (it == r.summary.channels.end()) {
      return file.Loss(
          offset,
          absl::StrCat("message record",
                       at != UINT64_MAX
                           ? absl::StrCat(" at offset ", at, " of the chunk's uncompressed records")
                           : "",
                       " is on channel ", m.channel_id, ", which no channel record defines"));
    }
    items.push_back({m.log_time, offset, at == UINT64_MAX ? 0 : at, &it->second, m});
    return absl::OkStatus();
  };

  for (std::size_t g = 0; g < sources.size();) {
    // A group: sources whose time ranges overlap, transitively.
    std::size_t e = g + 1;
    std::uint64_t group_end = sources[g].end;
    while (e < sources.size() && sources[e].start <= group_end) {
      group_end = std::max(group_end, sources[e].end);
      ++e;
    }
    items.clear();
    buffers.clear();
    buffers.resize(e - g);
    for (std::size_t k = g; k < e; ++k) {
      const Source& src = sources[k];
      if (src.chunk < 0) {
        for (std::uint64_t off : r.loose) {
          RecordView rv;
          std::string why;
          Message m;
          if (!FrameRecord(file.data, 0, static_cast<std::size_t>(off), &rv, &why) ||
              !ParseMessage(rv.body, &m)) {
            return file.Loss(off, "message record: cannot be read again");
          }
          if (absl::Status st = take(m, off, UINT64_MAX); !st.ok()) return st;
        }
        continue;
      }
      const ChunkIndex& ci = r.summary.chunks[static_cast<std::size_t>(src.chunk)];
      RecordView rv;
      std::string why;
      if (ci.chunk_start_offset > file.data.size() ||
          !FrameRecord(file.data, 0, static_cast<std::size_t>(ci.chunk_start_offset), &rv, &why)) {
        return file.Loss(ci.chunk_start_offset,
                         absl::StrCat("the chunk index points here, but ",
                                      why.empty() ? "the file is shorter" : why));
      }
      if (rv.op != internal::kChunk || rv.size() != ci.chunk_length) {
        return file.Loss(ci.chunk_start_offset,
                         absl::StrCat("the chunk index points to a ", ci.chunk_length,
                                      "-byte chunk record here, but finds a ", rv.size(),
                                      "-byte record of opcode 0x",
                                      absl::Hex(rv.op, absl::kZeroPad2), " (", OpName(rv.op), ")"));
      }
      ChunkRecord chunk;
      absl::string_view records;
      if (absl::Status st =
              file.ReadChunk(rv, &chunk, &decoders, &buffers[k - g], &records, &inner);
          !st.ok()) {
        return st;
      }
      for (const Inner& in : inner) {
        if (in.op != internal::kMessage) continue;
        Message m;
        ParseMessage(in.body, &m);
        if (absl::Status st = take(m, ci.chunk_start_offset, in.at); !st.ok()) return st;
      }
    }
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      return std::tie(a.log_time, a.offset, a.at) < std::tie(b.log_time, b.offset, b.at);
    });
    for (const Item& it : items) {
      if (!fn(*it.channel, it.message)) return absl::OkStatus();
    }
    g = e;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::map<std::string, std::string>>> McapReader::ReadMetadata(
    absl::string_view name) const {
  const File& file = impl_->file;
  std::vector<MetadataIndex> found;
  for (const MetadataIndex& m : impl_->summary.metadata) {
    if (m.name == name) found.push_back(m);
  }
  std::stable_sort(found.begin(), found.end(), [](const MetadataIndex& a, const MetadataIndex& b) {
    return a.offset < b.offset;
  });
  std::vector<std::map<std::string, std::string>> out;
  for (const MetadataIndex& m : found) {
    RecordView rv;
    std::string why;
    if (m.offset > file.data.size() ||
        !FrameRecord(file.data, 0, static_cast<std::size_t>(m.offset), &rv, &why)) {
      return file.Loss(m.offset, absl::StrCat("the metadata index points here, but ",
                                              why.empty() ? "the file is shorter" : why));
    }
    if (rv.op != internal::kMetadata || rv.size() != m.length) {
      return file.Loss(m.offset,
                       absl::StrCat("the metadata index points to a ", m.length,
                                    "-byte metadata record here, but finds a ", rv.size(),
                                    "-byte record of opcode 0x", absl::Hex(rv.op, absl::kZeroPad2),
                                    " (", OpName(rv.op), ")"));
    }
    Cursor c(rv.body, rv.offset + kRecordPrefix);
    const std::string record_name = c.String("metadata name");
    std::map<std::string, std::string> map = c.StringMap("metadata");
    if (c.ok() && record_name != m.name) {
      c.Fail(absl::StrCat("the record is named \"", absl::CHexEscape(record_name),
                          "\", the index says \"", absl::CHexEscape(m.name), "\""));
    }
    if (!c.ok()) return file.Loss(m.offset, absl::StrCat("metadata record: ", c.error()));
    out.push_back(std::move(map));
  }
  return out;
}

absl::StatusOr<Summary> Recover(const std::string& in, const std::string& out,
                                Compression compression) {
  struct stat a, b;
  if (::stat(in.c_str(), &a) == 0 && ::stat(out.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
      a.st_ino == b.st_ino) {
    return absl::InvalidArgumentError(absl::StrCat("recover: ", out, " is the input file ", in,
                                                   "; write the recovered file elsewhere"));
  }
  absl::StatusOr<std::unique_ptr<McapReader>> reader = McapReader::Open(in);
  if (!reader.ok()) return reader.status();
  const Summary& s = (*reader)->summary();
  WriterOptions options;
  options.profile = s.profile;
  options.compression = compression;
  absl::StatusOr<std::unique_ptr<McapWriter>> writer = McapWriter::Create(out, options);
  if (!writer.ok()) return writer.status();
  McapWriter& w = **writer;

  // Ids are given afresh in order; the input's ids map to them.
  std::map<std::uint16_t, std::uint16_t> schema_ids;
  for (const auto& [id, schema] : s.schemas) {
    absl::StatusOr<std::uint16_t> n = w.AddSchema(schema.name, schema.encoding, schema.data);
    if (!n.ok()) return n.status();
    schema_ids[id] = *n;
  }
  std::map<std::uint16_t, std::uint16_t> channel_ids;
  for (const auto& [id, ch] : s.channels) {
    auto sid = schema_ids.find(ch.schema_id);
    absl::StatusOr<std::uint16_t> n = w.AddChannel(sid == schema_ids.end() ? 0 : sid->second,
                                                   ch.topic, ch.message_encoding, ch.metadata);
    if (!n.ok()) return n.status();
    channel_ids[id] = *n;
  }
  // Metadata in file order: the k-th index entry of a name is the k-th
  // record ReadMetadata returns for it.
  std::vector<MetadataIndex> metadata = s.metadata;
  std::stable_sort(
      metadata.begin(), metadata.end(),
      [](const MetadataIndex& x, const MetadataIndex& y) { return x.offset < y.offset; });
  std::map<std::string, std::pair<std::vector<std::map<std::string, std::string>>, std::size_t>>
      by_name;
  for (const MetadataIndex& m : metadata) {
    auto it = by_name.find(m.name);
    if (it == by_name.end()) {
      absl::StatusOr<std::vector<std::map<std::string, std::string>>> records =
          (*reader)->ReadMetadata(m.name);
      if (!records.ok()) return records.status();
      it = by_name.emplace(m.name, std::make_pair(std::move(*records), 0)).first;
    }
    auto& [records, next] = it->second;
    if (next < records.size()) {
      if (absl::Status st = w.WriteMetadata(m.name, records[next++]); !st.ok()) return st;
    }
  }
  absl::Status write_status;
  absl::Status read_status = (*reader)->ReadMessages({}, [&](const Channel& ch, const Message& m) {
    Message copy = m;
    copy.channel_id = channel_ids[ch.id];
    write_status = w.Write(copy);
    return write_status.ok();
  });
  if (!write_status.ok()) return write_status;
  if (!read_status.ok()) return read_status;
  if (absl::Status st = w.Close(); !st.ok()) return st;
  absl::StatusOr<std::unique_ptr<McapReader>> result = McapReader::Open(out);
  if (!result.ok()) return result.status();
  return (*result)->summary();
}

}  // namespace ringcast::record
