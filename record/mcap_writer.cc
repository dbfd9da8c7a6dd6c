// McapWriter: magic and header at Create; schemas, channels and metadata
// straight to the data section; messages copied once into the open chunk,
// which is closed at WriterOptions::chunk_size and then compressed, CRC'd
// and written (with one message index per channel after it) either inline
// or by the writer's thread; Close() writes data end, summary, summary
// offsets, footer and magic.
//
// With `background`, every record bound for the file (chunks and the small
// records alike) goes through one queue to the thread, so the file keeps
// the order of the calls and one thread owns the file offset and the data
// section's CRC. The thread's first error sticks: it is returned by the
// next call and by Close().
#include <fcntl.h>
#include <sys/stat.h>
#include <lz4frame.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "record/mcap.h"
#include "record/mcap_internal.h"

namespace ringcast::record {

absl::StatusOr<Compression> ParseCompression(absl::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "lz4") return Compression::kLz4;
  if (name == "zstd") return Compression::kZstd;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression \"", name, "\"; expected none, lz4 or zstd"));
}

absl::string_view CompressionField(Compression c) {
  switch (c) {
    case Compression::kNone: return "";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "";
}

namespace {

using internal::BeginRecord;
using internal::EndRecord;
using internal::PutString;
using internal::PutStringMap;
using internal::PutU16;
using internal::PutU32;
using internal::PutU64;
using internal::PutU8;

// zstd level 1: a camera at 30 Hz is ~200 MB/s of images, which level 1
// keeps up with on one core; higher levels gain little on sensor data.
constexpr int kZstdLevel = 1;
// Closed chunk buffers kept for reuse, so that a steady stream does not
// fault in fresh pages for every chunk.
constexpr std::size_t kPoolBuffers = 2;
// The most a chunk buffer reserves ahead of its messages.
constexpr std::size_t kMaxReserve = 64 << 20;

struct IndexEntry {
  std::uint64_t log_time;
  std::uint64_t offset;  // into the chunk's uncompressed records
};

// Something bound for the file: a ready record (schema, channel,
// metadata), or a closed chunk's records and index.
struct Item {
  std::string bytes;
  bool is_chunk = false;
  // A metadata record: its name, for the metadata index.
  bool is_metadata = false;
  std::string metadata_name;
  // Chunks only.
  std::uint64_t start_time = 0;
  std::uint64_t end_time = 0;
  std::map<std::uint16_t, std::vector<IndexEntry>> index;
};

absl::Status ErrnoError(int err, absl::string_view what, absl::string_view path) {
  return absl::ErrnoToStatus(err, absl::StrCat(what, "(", path, ")"));
}

// writev until every byte is written (short writes, EINTR).
absl::Status WriteAll(int fd, std::vector<absl::string_view> parts, const std::string& path) {
  std::vector<iovec> iov;
  for (absl::string_view p : parts) {
    if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
  }
  std::size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
    const ssize_t n = ::writev(fd, iov.data() + first, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "write", path);
    }
    std::size_t left = static_cast<std::size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return absl::OkStatus();
}

}  // namespace

struct McapWriter::Impl {
  std::string path;
  WriterOptions options;
  int fd = -1;

  // Serializes the public calls (a recorder may write from several
  // threads); bytes_written() and message_count() only read atomics.
  std::mutex api_mu;
  bool closed = false;
  absl::Status close_status;
  absl::Status status;  // sticky: the first I/O error (inline mode)

  // The open chunk.
  std::string chunk;
  std::uint64_t chunk_start = UINT64_MAX;
  std::uint64_t chunk_end = 0;
  std::map<std::uint16_t, std::vector<IndexEntry>> chunk_index;

  // Summary material kept by the calling side.
  std::vector<std::string> schema_records;
  std::vector<std::string> channel_records;
  std::vector<std::uint64_t> channel_counts;  // by channel id
  std::vector<bool> channel_used;
  std::uint64_t start_time = UINT64_MAX;
  std::uint64_t end_time = 0;
  std::atomic<std::uint64_t> messages{0};

  // File state, owned by whoever writes (the thread while it runs).
  std::uint64_t offset = 0;
  std::uint32_t data_crc = 0;
  std::vector<ChunkIndex> chunk_indexes;
  std::vector<MetadataIndex> metadata_indexes;
  std::string scratch;  // compressed records, header, index
  ZSTD_CCtx* zstd = nullptr;
  std::atomic<std::uint64_t> written{0};

  // The queue to the thread.
  std::mutex q_mu;
  std::condition_variable work_cv;
  std::condition_variable space_cv;
  std::deque<Item> queue;
  std::size_t queued_bytes = 0;  // queued or being written
  bool stop = false;
  absl::Status thread_status;
  std::atomic<bool> failed{false};
  std::vector<std::string> pool;
  std::thread thread;

  ~Impl() {
    if (zstd != nullptr) ZSTD_freeCCtx(zstd);
    if (fd >= 0) ::close(fd);
  }

  // Appends to the file, keeping the offset and the data section's CRC.
  absl::Status Append(const std::vector<absl::string_view>& parts) {
    absl::Status st = WriteAll(fd, parts, path);
    if (!st.ok()) return st;
    for (absl::string_view p : parts) {
      data_crc = internal::Crc32(data_crc, p);
      offset += p.size();
    }
    written.store(offset, std::memory_order_relaxed);
    return absl::OkStatus();
  }

  absl::Status Process(Item& item) {
    if (!item.is_chunk) {
      const std::uint64_t at = offset;
      absl::Status st = Append({item.bytes});
      if (st.ok() && item.is_metadata) {
        metadata_indexes.push_back({at, item.bytes.size(), std::move(item.metadata_name)});
      }
      return st;
    }
    return WriteChunk(item);
  }

  absl::Status WriteChunk(Item& item) {
    const std::string& records = item.bytes;
    const std::uint32_t records_crc = internal::Crc32(0, records);
    absl::string_view payload = records;
    std::string& out = scratch;
    out.clear();
    if (options.compression == Compression::kZstd) {
      if (zstd == nullptr) zstd = ZSTD_createCCtx();
      if (zstd == nullptr) return absl::ResourceExhaustedError("ZSTD_createCCtx failed");
      out.resize(ZSTD_compressBound(records.size()));
      const std::size_t n = ZSTD_compressCCtx(zstd, out.data(), out.size(), records.data(),
                                              records.size(), kZstdLevel);
      if (ZSTD_isError(n)) {
        return absl::InternalError(absl::StrCat("zstd compression of a ", records.size(),
                                                "-byte chunk failed: ", ZSTD_getErrorName(n)));
      }
      out.resize(n);
      payload = out;
    } else if (options.compression == Compression::kLz4) {
      LZ4F_preferences_t prefs{};
      prefs.frameInfo.contentSize = records.size();
      out.resize(LZ4F_compressFrameBound(records.size(), &prefs));
      const std::size_t n =
          LZ4F_compressFrame(out.data(), out.size(), records.data(), records.size(), &prefs);
      if (LZ4F_isError(n)) {
        return absl::InternalError(absl::StrCat("lz4 compression of a ", records.size(),
                                                "-byte chunk failed: ", LZ4F_getErrorName(n)));
      }
      out.resize(n);
      payload = out;
    }
    const absl::string_view compression = CompressionField(options.compression);

    std::string head;
    PutU8(&head, internal::kChunk);
    const std::uint64_t content = 8 + 8 + 8 + 4 + 4 + compression.size() + 8 + payload.size();
    PutU64(&head, content);
    PutU64(&head, item.start_time);
    PutU64(&head, item.end_time);
    PutU64(&head, records.size());
    PutU32(&head, records_crc);
    PutString(&head, compression);
    PutU64(&head, payload.size());

    ChunkIndex ci;
    ci.message_start_time = item.start_time;
    ci.message_end_time = item.end_time;
    ci.chunk_start_offset = offset;
    ci.chunk_length = internal::kRecordPrefix + content;
    ci.compression = std::string(compression);
    ci.compressed_size = payload.size();
    ci.uncompressed_size = records.size();

    std::string index;
    for (const auto& [channel, entries] : item.index) {
      ci.message_index_offsets[channel] = ci.chunk_start_offset + ci.chunk_length + index.size();
      const std::size_t at = BeginRecord(&index, internal::kMessageIndex);
      PutU16(&index, channel);
      PutU32(&index, static_cast<std::uint32_t>(entries.size() * 16));
      for (const IndexEntry& e : entries) {
        PutU64(&index, e.log_time);
        PutU64(&index, e.offset);
      }
      EndRecord(&index, at);
    }
    ci.message_index_length = index.size();

    absl::Status st;
    if (options.compression == Compression::kNone) {
      // The payload is the records: combine their CRC instead of
      // computing it a second time over megabytes.
      st = WriteAll(fd, {head, records, index}, path);
      if (st.ok()) {
        data_crc = internal::Crc32(data_crc, head);
        data_crc = static_cast<std::uint32_t>(
            crc32_combine(data_crc, records_crc, static_cast<z_off_t>(records.size())));
        data_crc = internal::Crc32(data_crc, index);
        offset += head.size() + records.size() + index.size();
        written.store(offset, std::memory_order_relaxed);
      }
    } else {
      st = Append({head, payload, index});
    }
    if (st.ok()) chunk_indexes.push_back(std::move(ci));
    return st;
  }

  void ThreadMain() {
    for (;;) {
      Item item;
      {
        std::unique_lock<std::mutex> lock(q_mu);
        work_cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;
        item = std::move(queue.front());
        queue.pop_front();
      }
      absl::Status st;
      if (!failed.load(std::memory_order_acquire)) st = Process(item);
      std::unique_lock<std::mutex> lock(q_mu);
      queued_bytes -= item.bytes.size();
      if (!st.ok() && thread_status.ok()) {
        thread_status = st;
        failed.store(true, std::memory_order_release);
      }
      if (item.is_chunk && pool.size() < kPoolBuffers &&
          item.bytes.capacity() <= 2 * options.chunk_size + (1 << 20)) {
        item.bytes.clear();
        pool.push_back(std::move(item.bytes));
      }
      space_cv.notify_all();
    }
  }

  // The sticky error, from either mode.
  absl::Status Failure() {
    if (!status.ok()) return status;
    if (failed.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(q_mu);
      return thread_status;
    }
    return absl::OkStatus();
  }

  // Hands an item to the file: inline, or to the thread (waiting while
  // the queue holds max_queued_bytes; an item larger than that waits for
  // an empty queue).
  absl::Status Submit(Item item) {
    if (!options.background) {
      absl::Status st = Process(item);
      if (!st.ok()) status = st;
      if (item.is_chunk && pool.empty()) {
        item.bytes.clear();
        pool.push_back(std::move(item.bytes));
      }
      return st;
    }
    const std::size_t n = item.bytes.size();
    std::unique_lock<std::mutex> lock(q_mu);
    space_cv.wait(lock, [&] {
      return !thread_status.ok() || queued_bytes == 0 ||
             queued_bytes + n <= options.max_queued_bytes;
    });
    if (!thread_status.ok()) return thread_status;
    queued_bytes += n;
    queue.push_back(std::move(item));
    work_cv.notify_one();
    return absl::OkStatus();
  }

  absl::Status FlushChunk() {
    if (chunk.empty()) return absl::OkStatus();
    Item item;
    item.is_chunk = true;
    item.bytes = std::move(chunk);
    item.start_time = chunk_start;
    item.end_time = chunk_end;
    item.index = std::move(chunk_index);
    chunk_index.clear();
    chunk_start = UINT64_MAX;
    chunk_end = 0;
    chunk = std::string();
    {
      std::lock_guard<std::mutex> lock(q_mu);
      if (!pool.empty()) {
        chunk = std::move(pool.back());
        pool.pop_back();
      }
    }
    return Submit(std::move(item));
  }

  // Data end, summary, summary offsets, footer, magic.
  absl::Status WriteTail() {
    std::string s;
    std::size_t at = BeginRecord(&s, internal::kDataEnd);
    PutU32(&s, data_crc);
    EndRecord(&s, at);
    const std::uint64_t summary_start = offset + s.size();
    const std::size_t summary_at = s.size();

    struct Group {
      internal::Opcode op;
      std::uint64_t start;
      std::uint64_t length;
    };
    std::vector<Group> groups;
    auto group = [&](internal::Opcode op, const std::function<void()>& body) {
      const std::size_t begin = s.size();
      body();
      if (s.size() > begin) groups.push_back({op, offset + begin, s.size() - begin});
    };
    group(internal::kSchema, [&] {
      for (const std::string& r : schema_records) s += r;
    });
    group(internal::kChannel, [&] {
      for (const std::string& r : channel_records) s += r;
    });
    group(internal::kStatistics, [&] {
      const std::size_t r = BeginRecord(&s, internal::kStatistics);
      PutU64(&s, messages.load());
      PutU16(&s, static_cast<std::uint16_t>(schema_records.size()));
      PutU32(&s, static_cast<std::uint32_t>(channel_records.size()));
      PutU32(&s, 0);  // attachments
      PutU32(&s, static_cast<std::uint32_t>(metadata_indexes.size()));
      PutU32(&s, static_cast<std::uint32_t>(chunk_indexes.size()));
      const bool any = messages.load() > 0;
      PutU64(&s, any ? start_time : 0);
      PutU64(&s, any ? end_time : 0);
      const std::size_t m = s.size();
      PutU32(&s, 0);
      for (std::size_t id = 0; id < channel_counts.size(); ++id) {
        if (!channel_used[id]) continue;
        PutU16(&s, static_cast<std::uint16_t>(id));
        PutU64(&s, channel_counts[id]);
      }
      internal::SetU32(s.data() + m, static_cast<std::uint32_t>(s.size() - m - 4));
      EndRecord(&s, r);
    });
    group(internal::kChunkIndex, [&] {
      for (const ChunkIndex& c : chunk_indexes) {
        const std::size_t r = BeginRecord(&s, internal::kChunkIndex);
        PutU64(&s, c.message_start_time);
        PutU64(&s, c.message_end_time);
        PutU64(&s, c.chunk_start_offset);
        PutU64(&s, c.chunk_length);
        PutU32(&s, static_cast<std::uint32_t>(c.message_index_offsets.size() * 10));
        for (const auto& [channel, off] : c.message_index_offsets) {
          PutU16(&s, channel);
          PutU64(&s, off);
        }
        PutU64(&s, c.message_index_length);
        PutString(&s, c.compression);
        PutU64(&s, c.compressed_size);
        PutU64(&s, c.uncompressed_size);
        EndRecord(&s, r);
      }
    });
    group(internal::kMetadataIndex, [&] {
      for (const MetadataIndex& m : metadata_indexes) {
        const std::size_t r = BeginRecord(&s, internal::kMetadataIndex);
        PutU64(&s, m.offset);
        PutU64(&s, m.length);
        PutString(&s, m.name);
        EndRecord(&s, r);
      }
    });
    const std::uint64_t summary_offset_start = offset + s.size();
    for (const Group& g : groups) {
      const std::size_t r = BeginRecord(&s, internal::kSummaryOffset);
      PutU8(&s, g.op);
      PutU64(&s, g.start);
      PutU64(&s, g.length);
      EndRecord(&s, r);
    }
    PutU8(&s, internal::kFooter);
    PutU64(&s, internal::kFooterContent);  // set now: the CRC covers it
    PutU64(&s, summary_start);
    PutU64(&s, summary_offset_start);
    // The summary CRC covers the summary and summary offset sections and
    // the footer up to (not including) the CRC field itself.
    const std::uint32_t summary_crc = internal::Crc32(0, absl::string_view(s).substr(summary_at));
    PutU32(&s, summary_crc);
    s.append(internal::kMagic, sizeof(internal::kMagic));
    return Append({s});
  }
};

McapWriter::McapWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

McapWriter::~McapWriter() {
  if (impl_ != nullptr) (void)Close();
}

absl::StatusOr<std::unique_ptr<McapWriter>> McapWriter::Create(const std::string& path,
                                                               const WriterOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->options = options;
  // Readers refuse chunks over 1 GiB of records (mcap_internal.h).
  impl->options.chunk_size = static_cast<std::size_t>(
      std::min<std::uint64_t>(options.chunk_size, internal::kMaxChunkRecords));
  do {
    // O_NONBLOCK: a FIFO at `path` fails (ENXIO, or the check below)
    // instead of waiting for ever for a reader.
    impl->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
                      0644);
  } while (impl->fd < 0 && errno == EINTR);
  if (impl->fd < 0) return ErrnoError(errno, "create", path);
  struct stat st;
  if (::fstat(impl->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a regular file; a recording is written to one"));
  }
  // Regular files ignore O_NONBLOCK; clear it so that nothing depends on it.
  if (const int fl = ::fcntl(impl->fd, F_GETFL); fl >= 0) ::fcntl(impl->fd, F_SETFL, fl & ~O_NONBLOCK);

  std::string head(internal::kMagic, sizeof(internal::kMagic));
  const std::size_t at = BeginRecord(&head, internal::kHeader);
  PutString(&head, options.profile);
  PutString(&head, options.library);
  EndRecord(&head, at);
  if (absl::Status st = impl->Append({head}); !st.ok()) return st;
  impl->chunk.reserve(std::min(impl->options.chunk_size, kMaxReserve));

  Impl* raw = impl.get();
  if (options.background) raw->thread = std::thread([raw] { raw->ThreadMain(); });
  return std::unique_ptr<McapWriter>(new McapWriter(std::move(impl)));
}

absl::StatusOr<std::uint16_t> McapWriter::AddSchema(absl::string_view name,
                                                    absl::string_view encoding,
                                                    absl::string_view data) {
  Impl& w = *impl_;
  std::lock_guard<std::mutex> lock(w.api_mu);
  if (w.closed) return absl::FailedPreconditionError(absl::StrCat(w.path, ": writer is closed"));
  if (absl::Status st = w.Failure(); !st.ok()) return st;
  if (w.schema_records.size() >= UINT16_MAX) {
    return absl::ResourceExhaustedError(
        absl::StrCat(w.path, ": schema \"", name, "\": an MCAP file holds at most 65535 schemas"));
  }
  const auto id = static_cast<std::uint16_t>(w.schema_records.size() + 1);
  std::string r;
  const std::size_t at = BeginRecord(&r, internal::kSchema);
  PutU16(&r, id);
  PutString(&r, name);
  PutString(&r, encoding);
  PutString(&r, data);
  EndRecord(&r, at);
  w.schema_records.push_back(r);
  Item item;
  item.bytes = std::move(r);
  if (absl::Status st = w.Submit(std::move(item)); !st.ok()) return st;
  return id;
}

absl::StatusOr<std::uint16_t> McapWriter::AddChannel(
    std::uint16_t schema_id, absl::string_view topic, absl::string_view message_encoding,
    const std::map<std::string, std::string>& metadata) {
  Impl& w = *impl_;
  std::lock_guard<std::mutex> lock(w.api_mu);
  if (w.closed) return absl::FailedPreconditionError(absl::StrCat(w.path, ": writer is closed"));
  if (absl::Status st = w.Failure(); !st.ok()) return st;
  if (schema_id > w.schema_records.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(w.path, ": channel \"", topic, "\": unknown schema id ", schema_id, "; ",
                     w.schema_records.size(), " schemas were added (ids 1..",
                     w.schema_records.size(), "; 0 for none)"));
  }
  if (w.channel_records.size() >= UINT16_MAX) {
    return absl::ResourceExhaustedError(absl::StrCat(
        w.path, ": channel \"", topic, "\": an MCAP file holds at most 65535 channels"));
  }
  const auto id = static_cast<std::uint16_t>(w.channel_records.size() + 1);
  std::string r;
  const std::size_t at = BeginRecord(&r, internal::kChannel);
  PutU16(&r, id);
  PutU16(&r, schema_id);
  PutString(&r, topic);
  PutString(&r, message_encoding);
  PutStringMap(&r, metadata);
  EndRecord(&r, at);
  w.channel_records.push_back(r);
  w.channel_counts.resize(id + 1, 0);
  w.channel_used.resize(id + 1, false);
  Item item;
  item.bytes = std::move(r);
  if (absl::Status st = w.Submit(std::move(item)); !st.ok()) return st;
  return id;
}

absl::Status McapWriter::Write(const Message& message) {
  Impl& w = *impl_;
  std::lock_guard<std::mutex> lock(w.api_mu);
  if (w.closed) return absl::FailedPreconditionError(absl::StrCat(w.path, ": writer is closed"));
  if (absl::Status st = w.Failure(); !st.ok()) return st;
  if (message.channel_id == 0 || message.channel_id >= w.channel_counts.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        w.path, ": message for unknown channel id ", message.channel_id, "; ",
        w.channel_records.size(), " channels were added (ids 1..", w.channel_records.size(), ")"));
  }
  const std::uint64_t record =
      internal::kRecordPrefix + internal::kMessageFixed + message.data.size();
  if (record > internal::kMaxChunkRecords) {
    return absl::InvalidArgumentError(absl::StrCat(
        w.path, ": message of ", message.data.size(), " bytes; a message may have at most ",
        internal::kMaxChunkRecords - internal::kRecordPrefix - internal::kMessageFixed,
        " bytes (readers refuse chunks over 1 GiB)"));
  }
  // A message that does not fit the open chunk closes it first, so that
  // chunks stay within chunk_size unless one message alone is larger.
  if (!w.chunk.empty() && w.chunk.size() + record > w.options.chunk_size) {
    if (absl::Status st = w.FlushChunk(); !st.ok()) return st;
  }
  std::string& c = w.chunk;
  if (c.capacity() < c.size() + record) {
    // Room for a whole chunk at once, so that megabytes already there are
    // not copied again (a chunk size beyond kMaxReserve grows by doubling).
    std::size_t want =
        std::max<std::size_t>(c.size() + record, std::min(w.options.chunk_size, kMaxReserve));
    if (!c.empty()) want = std::max(want, 2 * c.capacity());
    c.reserve(want);
  }
  const std::uint64_t in_chunk = c.size();
  char head[internal::kRecordPrefix + internal::kMessageFixed];
  head[0] = static_cast<char>(internal::kMessage);
  internal::SetU64(head + 1, record - internal::kRecordPrefix);
  head[9] = static_cast<char>(message.channel_id);
  head[10] = static_cast<char>(message.channel_id >> 8);
  internal::SetU32(head + 11, message.sequence);
  internal::SetU64(head + 15, message.log_time);
  internal::SetU64(head + 23, message.publish_time);
  c.append(head, sizeof(head));
  c.append(message.data.data(), message.data.size());

  w.chunk_index[message.channel_id].push_back({message.log_time, in_chunk});
  w.chunk_start = std::min(w.chunk_start, message.log_time);
  w.chunk_end = std::max(w.chunk_end, message.log_time);
  w.start_time = std::min(w.start_time, message.log_time);
  w.end_time = std::max(w.end_time, message.log_time);
  ++w.channel_counts[message.channel_id];
  w.channel_used[message.channel_id] = true;
  w.messages.fetch_add(1, std::memory_order_relaxed);
  if (c.size() >= w.options.chunk_size) return w.FlushChunk();
  return absl::OkStatus();
}

absl::Status McapWriter::WriteMetadata(absl::string_view name,
                                       const std::map<std::string, std::string>& metadata) {
  Impl& w = *impl_;
  std::lock_guard<std::mutex> lock(w.api_mu);
  if (w.closed) return absl::FailedPreconditionError(absl::StrCat(w.path, ": writer is closed"));
  if (absl::Status st = w.Failure(); !st.ok()) return st;
  Item item;
  const std::size_t at = BeginRecord(&item.bytes, internal::kMetadata);
  PutString(&item.bytes, name);
  PutStringMap(&item.bytes, metadata);
  EndRecord(&item.bytes, at);
  item.is_metadata = true;
  item.metadata_name = std::string(name);
  return w.Submit(std::move(item));
}

absl::Status McapWriter::Close() {
  Impl& w = *impl_;
  std::lock_guard<std::mutex> lock(w.api_mu);
  if (w.closed) return w.close_status;
  w.closed = true;
  absl::Status st = w.Failure();
  if (st.ok()) st = w.FlushChunk();
  if (w.thread.joinable()) {
    {
      std::lock_guard<std::mutex> q(w.q_mu);
      w.stop = true;
    }
    w.work_cv.notify_all();
    w.thread.join();
  }
  if (st.ok()) st = w.Failure();
  if (st.ok()) st = w.WriteTail();
  if (w.fd >= 0) {
    // No retry on EINTR: Linux releases the descriptor either way.
    if (::close(w.fd) != 0 && st.ok()) st = ErrnoError(errno, "close", w.path);
    w.fd = -1;
  }
  w.chunk = std::string();
  w.close_status = st;
  return st;
}

std::uint64_t McapWriter::bytes_written() const {
  return impl_->written.load(std::memory_order_relaxed);
}

std::uint64_t McapWriter::message_count() const {
  return impl_->messages.load(std::memory_order_relaxed);
}

}  // namespace ringcast::record
