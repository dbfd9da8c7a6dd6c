// record/mcap.h: MCAP files, written and read from the public specification
// (https://mcap.dev/spec): magic, header, schemas, channels, messages in
// chunks (compressed with zstd, lz4 or not at all), a message index after
// each chunk, and a summary (schemas, channels, statistics, chunk and
// metadata indexes) with summary offsets, a footer and the closing magic.
// Every chunk carries the CRC-32 of its records, the data end the CRC of
// the data section, the footer the CRC of the summary.
//
//   absl::StatusOr<std::unique_ptr<McapWriter>> w = McapWriter::Create("run.mcap", {});
//   uint16_t s = *(*w)->AddSchema("pkg.Msg", "protobuf", descriptor_set);
//   uint16_t c = *(*w)->AddChannel(s, "/topic", "protobuf", {});
//   (*w)->Write({.channel_id = c, .log_time = t, .publish_time = t, .data = bytes});
//   (*w)->Close();
//
//   absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::Open("run.mcap");
//   (*r)->ReadMessages({.start = t0}, [](const Channel& c, const Message& m) { ...; return true; });
//
// A file whose writer was killed has no summary: the reader then scans the
// data section and keeps every complete chunk (Summary::recovered), and
// Recover() rewrites such a file with its summary.
#ifndef RINGCAST_RECORD_MCAP_H_
#define RINGCAST_RECORD_MCAP_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ringcast::record {

enum class Compression { kNone, kLz4, kZstd };

// "none", "lz4", "zstd"; InvalidArgument naming `name` and those three.
absl::StatusOr<Compression> ParseCompression(absl::string_view name);
// What the chunk record says: "", "lz4", "zstd".
absl::string_view CompressionField(Compression c);

struct Schema {
  std::uint16_t id = 0;
  std::string name;
  std::string encoding;
  std::string data;
};

struct Channel {
  std::uint16_t id = 0;
  std::uint16_t schema_id = 0;
  std::string topic;
  std::string message_encoding;
  std::map<std::string, std::string> metadata;
};

// One message; `data` views the writer's caller or the reader's buffer.
struct Message {
  std::uint16_t channel_id = 0;
  std::uint32_t sequence = 0;
  std::uint64_t log_time = 0;      // ns since the Unix epoch
  std::uint64_t publish_time = 0;  // ns since the Unix epoch
  absl::string_view data;
};

struct Statistics {
  std::uint64_t message_count = 0;
  std::uint16_t schema_count = 0;
  std::uint32_t channel_count = 0;
  std::uint32_t attachment_count = 0;
  std::uint32_t metadata_count = 0;
  std::uint32_t chunk_count = 0;
  std::uint64_t message_start_time = 0;
  std::uint64_t message_end_time = 0;
  std::map<std::uint16_t, std::uint64_t> channel_message_counts;
};

struct ChunkIndex {
  std::uint64_t message_start_time = 0;
  std::uint64_t message_end_time = 0;
  std::uint64_t chunk_start_offset = 0;
  std::uint64_t chunk_length = 0;
  std::map<std::uint16_t, std::uint64_t> message_index_offsets;
  std::uint64_t message_index_length = 0;
  std::string compression;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
};

struct MetadataIndex {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::string name;
};

struct WriterOptions {
  std::string profile;  // the header's profile ("" for none)
  std::string library = "ringcast";
  Compression compression = Compression::kZstd;
  // A chunk is closed once its records reach this many bytes (a larger
  // message makes a chunk of its own).
  std::size_t chunk_size = 4 << 20;
  // Compress and write closed chunks on a thread of the writer's, so that
  // Write() returns after a copy; Write() waits only when this many bytes
  // of closed chunks are still queued.
  bool background = true;
  std::size_t max_queued_bytes = 256 << 20;
};

class McapWriter {
 public:
  // Creates `path` (replacing a file there) and writes the magic and the
  // header. Errors name the path and errno's text.
  static absl::StatusOr<std::unique_ptr<McapWriter>> Create(const std::string& path,
                                                           const WriterOptions& options);
  ~McapWriter();  // Close()s if not closed; errors are lost then

  // Ids are given in order from 1. The record goes to the data section at
  // once (before any chunk that refers to it) and again to the summary.
  absl::StatusOr<std::uint16_t> AddSchema(absl::string_view name, absl::string_view encoding,
                                          absl::string_view data);
  absl::StatusOr<std::uint16_t> AddChannel(std::uint16_t schema_id, absl::string_view topic,
                                           absl::string_view message_encoding,
                                           const std::map<std::string, std::string>& metadata);
  // InvalidArgument for an unknown channel; an I/O error of the background
  // thread is returned by the next call.
  absl::Status Write(const Message& message);
  // A metadata record (in the data section, indexed in the summary).
  absl::Status WriteMetadata(absl::string_view name,
                             const std::map<std::string, std::string>& metadata);
  // Closes the open chunk, writes data end, summary, summary offsets,
  // footer and magic, and closes the file. Idempotent.
  absl::Status Close();

  // Bytes in the file so far (chunks still queued not counted).
  std::uint64_t bytes_written() const;
  std::uint64_t message_count() const;

 private:
  struct Impl;
  explicit McapWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct Summary {
  std::string profile;
  std::string library;
  std::map<std::uint16_t, Schema> schemas;
  std::map<std::uint16_t, Channel> channels;
  Statistics statistics;
  std::vector<ChunkIndex> chunks;  // in file order
  std::vector<MetadataIndex> metadata;
  // True if the file had no valid summary or footer (a writer killed
  // before Close): what is above was rebuilt by scanning the data section,
  // which kept every complete chunk and stopped at `recovered_bytes`.
  bool recovered = false;
  std::uint64_t recovered_bytes = 0;
  std::string recovery_note;  // why the scan stopped, with the offset
};

struct ReadOptions {
  std::uint64_t start = 0;                           // log_time >= start
  std::uint64_t end = UINT64_MAX;                    // log_time < end
  std::vector<std::string> topics;                   // empty: every topic
};

class McapReader {
 public:
  // Maps `path` and reads its summary (else scans, see Summary::recovered).
  // DataLoss naming the path and the offset for a file that is not MCAP or
  // is corrupt; never crashes on any input.
  static absl::StatusOr<std::unique_ptr<McapReader>> Open(const std::string& path);
  // The same over bytes the caller keeps alive (for tests and fuzzing).
  static absl::StatusOr<std::unique_ptr<McapReader>> FromBytes(absl::string_view bytes);
  ~McapReader();

  const Summary& summary() const;

  // Calls `fn` for every message matching `options`, in log_time order
  // (ties in file order), reading only the chunks whose time range and
  // channels match. `fn` returns false to stop. DataLoss naming the offset
  // for a corrupt chunk (bad CRC, bad compression, bad record).
  absl::Status ReadMessages(const ReadOptions& options,
                            const std::function<bool(const Channel&, const Message&)>& fn) const;
  // The metadata records called `name`, in file order.
  absl::StatusOr<std::vector<std::map<std::string, std::string>>> ReadMetadata(
      absl::string_view name) const;

 private:
  struct Impl;
  explicit McapReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Rewrites `in` (typically a recording whose writer was killed) as `out`
// with every message the reader finds, its metadata and a summary.
// Returns the summary of `out`.
absl::StatusOr<Summary> Recover(const std::string& in, const std::string& out,
                                Compression compression);

}  // namespace ringcast::record

#endif  // RINGCAST_RECORD_MCAP_H_
