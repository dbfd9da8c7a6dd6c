// Tests of record/mcap.h: round trips through McapWriter and McapReader
// for each compression, inline and on the writer's thread; reads by time
// and topic; metadata; files cut at every byte (a writer killed with
// kill -9) and their recovery; files with a byte flipped at every offset,
// and hand-made bad lengths and CRCs, which must be DataLoss naming an
// offset and never a crash.
#include "record/mcap.h"

#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "record/mcap_internal.h"

namespace ringcast::record {
namespace {

using ::testing::HasSubstr;

// A directory under /tmp, removed with what is in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ringcast-mcap-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    path_ = d == nullptr ? "/tmp" : d;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, absl::string_view bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A message as written and as read back (owning its bytes).
struct Msg {
  std::uint16_t channel = 0;
  std::uint32_t sequence = 0;
  std::uint64_t log_time = 0;
  std::uint64_t publish_time = 0;
  std::string data;
  bool operator==(const Msg& o) const {
    return std::tie(channel, sequence, log_time, publish_time, data) ==
           std::tie(o.channel, o.sequence, o.log_time, o.publish_time, o.data);
  }
};

[[maybe_unused]] std::ostream& operator<<(std::ostream& os, const Msg& m) {
  return os << "{ch " << m.channel << " seq " << m.sequence << " t " << m.log_time << " "
            << m.data.size() << " bytes}";
}

// Options without designated initializers (GCC 12 warns about the
// members they leave out).
WriterOptions Options(Compression compression, std::size_t chunk_size, bool background = true,
                      std::size_t max_queued_bytes = 256 << 20) {
  WriterOptions o;
  o.profile = "ringcast";
  o.compression = compression;
  o.chunk_size = chunk_size;
  o.background = background;
  o.max_queued_bytes = max_queued_bytes;
  return o;
}

ReadOptions Range(std::uint64_t start, std::uint64_t end, std::vector<std::string> topics = {}) {
  ReadOptions o;
  o.start = start;
  o.end = end;
  o.topics = std::move(topics);
  return o;
}

Message ToMessage(const Msg& m) {
  Message out;
  out.channel_id = m.channel;
  out.sequence = m.sequence;
  out.log_time = m.log_time;
  out.publish_time = m.publish_time;
  out.data = m.data;
  return out;
}

absl::Status ReadAll(const McapReader& r, const ReadOptions& options, std::vector<Msg>* out) {
  out->clear();
  return r.ReadMessages(options, [&](const Channel& c, const Message& m) {
    EXPECT_EQ(c.id, m.channel_id);
    out->push_back({m.channel_id, m.sequence, m.log_time, m.publish_time, std::string(m.data)});
    return true;
  });
}

// Sorted as the reader yields them: by log time, ties in write order.
std::vector<Msg> InLogTimeOrder(std::vector<Msg> v) {
  std::stable_sort(v.begin(), v.end(),
                   [](const Msg& a, const Msg& b) { return a.log_time < b.log_time; });
  return v;
}

std::string Pattern(std::mt19937_64& rng, std::size_t n) {
  // Compressible but not trivially: bytes from a small alphabet.
  std::string s(n, '\0');
  std::uint64_t x = rng();
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 8 == 0) x = rng();
    s[i] = static_cast<char>('a' + (x >> (8 * (i % 8))) % 16);
  }
  return s;
}

const std::map<std::string, std::string> kImageMeta = {{"frame_id", "camera"}, {"rate", "30"}};

// What a file's writer put there.
struct Written {
  std::vector<Msg> messages;
  std::uint16_t imu = 0, image = 0, log = 0;
};

absl::Status AddCatalog(McapWriter& w, Written* out) {
  absl::StatusOr<std::uint16_t> s1 =
      w.AddSchema("pkg.Imu", "protobuf", std::string("\x0a\x03imu", 5));
  if (!s1.ok()) return s1.status();
  absl::StatusOr<std::uint16_t> s2 = w.AddSchema("pkg.Image", "protobuf", "image-descriptor");
  if (!s2.ok()) return s2.status();
  absl::StatusOr<std::uint16_t> c1 = w.AddChannel(*s1, "/imu", "protobuf", {});
  if (!c1.ok()) return c1.status();
  absl::StatusOr<std::uint16_t> c2 = w.AddChannel(*s2, "/camera/image", "protobuf", kImageMeta);
  if (!c2.ok()) return c2.status();
  absl::StatusOr<std::uint16_t> c3 = w.AddChannel(0, "/log", "json", {{"k", ""}});
  if (!c3.ok()) return c3.status();
  out->imu = *c1;
  out->image = *c2;
  out->log = *c3;
  return absl::OkStatus();
}

absl::Status Put(McapWriter& w, Written* out, Msg m) {
  absl::Status st = w.Write(ToMessage(m));
  if (st.ok()) out->messages.push_back(std::move(m));
  return st;
}

// A small file: 3 channels, `n` short messages, small chunks, metadata
// between chunks.
Written WriteSmall(const std::string& path, Compression compression, bool background, int n = 200,
                   std::size_t chunk_size = 600) {
  Written out;
  auto w = McapWriter::Create(path, Options(compression, chunk_size, background));
  EXPECT_TRUE(w.ok()) << w.status();
  EXPECT_TRUE(AddCatalog(**w, &out).ok());
  std::mt19937_64 rng(7);
  for (int i = 0; i < n; ++i) {
    const std::uint16_t ch = i % 3 == 0 ? out.imu : (i % 3 == 1 ? out.image : out.log);
    EXPECT_TRUE(Put(**w, &out,
                    {ch, static_cast<std::uint32_t>(i), 1000 + 10 * static_cast<std::uint64_t>(i),
                     2000 + static_cast<std::uint64_t>(i), Pattern(rng, 5 + i % 40)})
                    .ok());
    if (i == n / 2) {
      EXPECT_TRUE((*w)->WriteMetadata("run", {{"operator", "ada"}, {"site", "lab"}}).ok());
    }
  }
  EXPECT_TRUE((*w)->WriteMetadata("end", {}).ok());
  EXPECT_TRUE((*w)->Close().ok());
  return out;
}

class RoundTrip : public ::testing::TestWithParam<std::tuple<Compression, bool>> {};

TEST_P(RoundTrip, SmallAndLargeMessagesComeBackExactly) {
  const auto [compression, background] = GetParam();
  TempDir dir;
  const std::string path = dir.File("run.mcap");
  Written out;
  {
    auto w = McapWriter::Create(path, Options(compression, 1 << 20, background, 8 << 20));
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE(AddCatalog(**w, &out).ok());
    std::mt19937_64 rng(1);
    std::uint32_t images = 0;
    for (std::uint32_t i = 0; i < 4000; ++i) {
      const std::uint64_t t = 1'000'000'000 + 1'000'000ull * i;  // 1 kHz
      ASSERT_TRUE(Put(**w, &out, {out.imu, i, t, t + 5, Pattern(rng, 24 + i % 100)}).ok());
      if (i % 3 == 0) {
        ASSERT_TRUE(Put(**w, &out, {out.log, i, t, t, "{}"}).ok());  // a tie
      }
      if (i % 1000 == 500) {
        ASSERT_TRUE(Put(**w, &out, {out.image, images++, t + 1, t, Pattern(rng, 6 << 20)}).ok());
      }
    }
    ASSERT_TRUE((*w)->WriteMetadata("run", {{"a", "1"}}).ok());
    EXPECT_EQ((*w)->message_count(), out.messages.size());
    ASSERT_TRUE((*w)->Close().ok());
    ASSERT_TRUE((*w)->Close().ok());  // idempotent
    EXPECT_EQ((*w)->bytes_written(), std::filesystem::file_size(path));
  }

  auto r = McapReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  const Summary& s = (*r)->summary();
  EXPECT_FALSE(s.recovered) << s.recovery_note;
  EXPECT_EQ(s.profile, "ringcast");
  EXPECT_EQ(s.library, "ringcast");
  ASSERT_EQ(s.schemas.size(), 2u);
  EXPECT_EQ(s.schemas.at(1).name, "pkg.Imu");
  EXPECT_EQ(s.schemas.at(1).data, std::string("\x0a\x03imu", 5));
  EXPECT_EQ(s.schemas.at(2).encoding, "protobuf");
  ASSERT_EQ(s.channels.size(), 3u);
  EXPECT_EQ(s.channels.at(out.image).topic, "/camera/image");
  EXPECT_EQ(s.channels.at(out.image).schema_id, 2);
  EXPECT_EQ(s.channels.at(out.image).metadata, kImageMeta);
  EXPECT_EQ(s.channels.at(out.log).schema_id, 0);
  EXPECT_EQ(s.channels.at(out.log).message_encoding, "json");

  const Statistics& st = s.statistics;
  EXPECT_EQ(st.message_count, out.messages.size());
  EXPECT_EQ(st.schema_count, 2);
  EXPECT_EQ(st.channel_count, 3u);
  EXPECT_EQ(st.metadata_count, 1u);
  EXPECT_EQ(st.attachment_count, 0u);
  EXPECT_EQ(st.chunk_count, s.chunks.size());
  EXPECT_EQ(st.message_start_time, 1'000'000'000u);
  EXPECT_EQ(st.message_end_time, 1'000'000'000u + 1'000'000ull * 3999);
  std::map<std::uint16_t, std::uint64_t> counts;
  for (const Msg& m : out.messages) ++counts[m.channel];
  EXPECT_EQ(st.channel_message_counts, counts);

  // 4 images of 6 MB make chunks of their own; the rest splits at 1 MB.
  EXPECT_GE(s.chunks.size(), 6u);
  std::uint64_t total = 0;
  for (const ChunkIndex& c : s.chunks) {
    EXPECT_EQ(c.compression, CompressionField(compression));
    EXPECT_FALSE(c.message_index_offsets.empty());
    EXPECT_GT(c.message_index_length, 0u);
    EXPECT_LE(c.message_start_time, c.message_end_time);
    if (compression == Compression::kNone) {
      EXPECT_EQ(c.compressed_size, c.uncompressed_size);
    }
    total += c.uncompressed_size;
  }
  EXPECT_GT(total, 24u << 20);

  std::vector<Msg> got;
  ASSERT_TRUE(ReadAll(**r, {}, &got).ok());
  ASSERT_EQ(got.size(), out.messages.size());
  EXPECT_TRUE(got == InLogTimeOrder(out.messages));
  auto meta = (*r)->ReadMetadata("run");
  ASSERT_TRUE(meta.ok()) << meta.status();
  ASSERT_EQ(meta->size(), 1u);
  EXPECT_EQ((*meta)[0].at("a"), "1");

  // The same through FromBytes over the file's bytes.
  const std::string bytes = ReadFile(path);
  auto b = McapReader::FromBytes(bytes);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->summary().chunks.size(), s.chunks.size());
}

INSTANTIATE_TEST_SUITE_P(Mcap, RoundTrip,
                         ::testing::Combine(::testing::Values(Compression::kNone, Compression::kLz4,
                                                              Compression::kZstd),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return absl::StrCat(std::get<0>(info.param) == Compression::kNone
                                                   ? "none"
                                                   : CompressionField(std::get<0>(info.param)),
                                               std::get<1>(info.param) ? "_background" : "_inline");
                         });

TEST(McapTest, ParseCompression) {
  EXPECT_EQ(*ParseCompression("none"), Compression::kNone);
  EXPECT_EQ(*ParseCompression("lz4"), Compression::kLz4);
  EXPECT_EQ(*ParseCompression("zstd"), Compression::kZstd);
  absl::StatusOr<Compression> bad = ParseCompression("gzip");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("gzip"));
  EXPECT_THAT(bad.status().message(), HasSubstr("none, lz4 or zstd"));
}

TEST(McapTest, OutOfOrderMessagesInOverlappingChunksComeOutInLogTimeOrder) {
  TempDir dir;
  const std::string path = dir.File("shuffled.mcap");
  Written out;
  {
    auto w = McapWriter::Create(path, Options(Compression::kZstd, 2000));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(AddCatalog(**w, &out).ok());
    std::vector<std::uint64_t> times;
    for (int i = 0; i < 3000; ++i) times.push_back(static_cast<std::uint64_t>(i / 2));  // ties
    std::mt19937_64 rng(3);
    // Shuffled within windows: neighbouring chunks overlap in time.
    for (std::size_t i = 0; i + 300 <= times.size(); i += 300) {
      std::shuffle(times.begin() + static_cast<long>(i), times.begin() + static_cast<long>(i + 300),
                   rng);
    }
    for (std::size_t i = 0; i < times.size(); ++i) {
      ASSERT_TRUE(Put(**w, &out,
                      {i % 2 ? out.imu : out.log, static_cast<std::uint32_t>(i), times[i], 0,
                       absl::StrCat("m", i)})
                      .ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto r = McapReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Msg> got;
  ASSERT_TRUE(ReadAll(**r, {}, &got).ok());
  EXPECT_TRUE(got == InLogTimeOrder(out.messages));
  ASSERT_TRUE(ReadAll(**r, Range(400, 700), &got).ok());
  std::vector<Msg> want;
  for (const Msg& m : InLogTimeOrder(out.messages)) {
    if (m.log_time >= 400 && m.log_time < 700) want.push_back(m);
  }
  EXPECT_EQ(got.size(), 600u);
  EXPECT_TRUE(got == want);
}

TEST(McapTest, ReadsByTimeAndTopic) {
  TempDir dir;
  const std::string path = dir.File("seek.mcap");
  const Written out = WriteSmall(path, Compression::kLz4, true, 1500, 1000);
  auto r = McapReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_GT((*r)->summary().chunks.size(), 20u);
  const std::vector<Msg> all = InLogTimeOrder(out.messages);
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges = {
      {0, UINT64_MAX},     {0, 1000},    {1000, 1001},   {5000, 6000},
      {5005, 5006},        {5000, 5010}, {12345, 13000}, {15990, UINT64_MAX},
      {16000, UINT64_MAX}, {7000, 7000}, {9000, 8000}};
  for (const auto& [start, end] : ranges) {
    for (const std::vector<std::string>& topics : std::vector<std::vector<std::string>>{
             {}, {"/imu"}, {"/log", "/camera/image"}, {"/none"}}) {
      std::vector<Msg> want;
      for (const Msg& m : all) {
        const std::string& topic = (*r)->summary().channels.at(m.channel).topic;
        const bool topic_ok =
            topics.empty() || std::find(topics.begin(), topics.end(), topic) != topics.end();
        if (m.log_time >= start && m.log_time < end && topic_ok) want.push_back(m);
      }
      std::vector<Msg> got;
      ASSERT_TRUE(ReadAll(**r, Range(start, end, topics), &got).ok());
      EXPECT_TRUE(got == want) << "[" << start << ", " << end << ") " << topics.size()
                               << " topics: " << got.size() << " vs " << want.size();
    }
  }
  // fn returning false stops the read.
  int calls = 0;
  ASSERT_TRUE(
      (*r)->ReadMessages({}, [&](const Channel&, const Message&) { return ++calls < 10; }).ok());
  EXPECT_EQ(calls, 10);
}

// A chunk with a bad CRC shows whether a read touched it: reads by time or
// topic that do not need it succeed.
TEST(McapTest, ReadsOnlyTheChunksItNeeds) {
  TempDir dir;
  const std::string path = dir.File("sel.mcap");
  Written out;
  {
    auto w = McapWriter::Create(path, Options(Compression::kNone, 1000, false));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(AddCatalog(**w, &out).ok());
    for (std::uint32_t i = 0; i < 200; ++i) {
      ASSERT_TRUE(
          Put(**w, &out, {i < 100 ? out.imu : out.log, i, i, i, std::string(60, 'x')}).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  std::string bytes = ReadFile(path);
  const std::vector<ChunkIndex> chunks = (*McapReader::FromBytes(bytes))->summary().chunks;
  ASSERT_GT(chunks.size(), 4u);
  const ChunkIndex& first = chunks.front();
  ASSERT_EQ(first.message_index_offsets.size(), 1u);  // /imu only
  bytes[first.chunk_start_offset + first.chunk_length - 1] ^= 0x01;
  auto r = McapReader::FromBytes(bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Msg> got;
  EXPECT_EQ(ReadAll(**r, {}, &got).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadAll(**r, Range(0, 1), &got).code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(ReadAll(**r, Range(first.message_end_time + 1, UINT64_MAX), &got).ok());
  EXPECT_EQ(got.size(), 200 - (first.message_end_time + 1));
  ASSERT_TRUE(ReadAll(**r, Range(0, UINT64_MAX, {"/log"}), &got).ok());
  EXPECT_EQ(got.size(), 100u);
  EXPECT_EQ(got.front().log_time, 100u);
}

// Messages outside chunks are valid MCAP (writers that do not chunk): a
// file made by hand with two, with a summary that has no chunk index, and
// the same file cut before its summary.
TEST(McapTest, MessagesOutsideChunksAreRead) {
  using namespace internal;
  std::string f(kMagic, sizeof(kMagic));
  std::size_t at = BeginRecord(&f, kHeader);
  PutString(&f, "");
  PutString(&f, "hand");
  EndRecord(&f, at);
  std::string channel;
  at = BeginRecord(&channel, kChannel);
  PutU16(&channel, 7);
  PutU16(&channel, 0);
  PutString(&channel, "/loose");
  PutString(&channel, "json");
  PutStringMap(&channel, {});
  EndRecord(&channel, at);
  f += channel;
  for (std::uint64_t t : {30, 10}) {
    at = BeginRecord(&f, kMessage);
    PutU16(&f, 7);
    PutU32(&f, static_cast<std::uint32_t>(t));
    PutU64(&f, t);
    PutU64(&f, t);
    f += absl::StrCat("at ", t);
    EndRecord(&f, at);
  }
  const std::string data = f;
  at = BeginRecord(&f, kDataEnd);
  PutU32(&f, 0);
  EndRecord(&f, at);
  const std::uint64_t summary_start = f.size();
  f += channel;
  at = BeginRecord(&f, kStatistics);
  PutU64(&f, 2);
  PutU16(&f, 0);
  PutU32(&f, 1);
  PutU32(&f, 0);
  PutU32(&f, 0);
  PutU32(&f, 0);
  PutU64(&f, 10);
  PutU64(&f, 30);
  PutU32(&f, 10);
  PutU16(&f, 7);
  PutU64(&f, 2);
  EndRecord(&f, at);
  at = BeginRecord(&f, kFooter);
  PutU64(&f, summary_start);
  PutU64(&f, 0);
  PutU32(&f, 0);
  EndRecord(&f, at);
  f.append(kMagic, sizeof(kMagic));

  for (const std::string& bytes : {f, data}) {
    auto r = McapReader::FromBytes(bytes);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->summary().recovered, bytes.size() == data.size());
    EXPECT_EQ((*r)->summary().statistics.message_count, 2u);
    std::vector<Msg> got;
    ASSERT_TRUE(ReadAll(**r, {}, &got).ok());
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].data, "at 10");
    EXPECT_EQ(got[1].data, "at 30");
    ASSERT_TRUE(ReadAll(**r, Range(20, 40, {"/loose"}), &got).ok());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].log_time, 30u);
  }
}

TEST(McapTest, MetadataRoundTrip) {
  TempDir dir;
  const std::string path = dir.File("meta.mcap");
  {
    auto w = McapWriter::Create(path, Options(Compression::kZstd, 4 << 20, false));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->WriteMetadata("calibration", {{"fx", "500.5"}, {"fy", "501"}}).ok());
    ASSERT_TRUE((*w)->WriteMetadata("run", {{"operator", "ada"}}).ok());
    ASSERT_TRUE((*w)->WriteMetadata("calibration", {{"fx", "499"}}).ok());
    ASSERT_TRUE((*w)->WriteMetadata("empty", {}).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto r = McapReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->summary().metadata.size(), 4u);
  EXPECT_EQ((*r)->summary().statistics.metadata_count, 4u);
  EXPECT_EQ((*r)->summary().statistics.message_count, 0u);
  auto cal = (*r)->ReadMetadata("calibration");
  ASSERT_TRUE(cal.ok()) << cal.status();
  ASSERT_EQ(cal->size(), 2u);
  EXPECT_EQ((*cal)[0], (std::map<std::string, std::string>{{"fx", "500.5"}, {"fy", "501"}}));
  EXPECT_EQ((*cal)[1], (std::map<std::string, std::string>{{"fx", "499"}}));
  EXPECT_EQ((*r)->ReadMetadata("empty")->size(), 1u);
  EXPECT_TRUE((*r)->ReadMetadata("empty")->front().empty());
  EXPECT_TRUE((*r)->ReadMetadata("missing")->empty());
  std::vector<Msg> got;
  EXPECT_TRUE(ReadAll(**r, {}, &got).ok());
  EXPECT_TRUE(got.empty());
}

TEST(McapTest, WriterRefusesWhatItCannotWrite) {
  TempDir dir;
  auto bad = McapWriter::Create(dir.File("no/such/dir.mcap"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("no/such/dir.mcap"));

  auto w = McapWriter::Create(dir.File("w.mcap"), {});
  ASSERT_TRUE(w.ok());
  absl::StatusOr<std::uint16_t> ch = (*w)->AddChannel(3, "/x", "json", {});
  EXPECT_EQ(ch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ch.status().message(), HasSubstr("unknown schema id 3"));
  absl::Status st = (*w)->Write(ToMessage({1, 0, 0, 0, "x"}));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("unknown channel id 1"));
  EXPECT_TRUE((*w)->Close().ok());
  EXPECT_EQ((*w)->Write(ToMessage({1, 0, 0, 0, ""})).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*w)->Close().ok());
}

// A write error on the writer's thread (here: the file size limit, EFBIG)
// comes back from a later call and from Close(), naming the file.
TEST(McapTest, WriterThreadErrorsReachTheCaller) {
  for (bool background : {true, false}) {
    TempDir dir;
    const std::string path = dir.File("full.mcap");
    auto w = McapWriter::Create(path, Options(Compression::kNone, 64 << 10, background));
    ASSERT_TRUE(w.ok());
    Written out;
    ASSERT_TRUE(AddCatalog(**w, &out).ok());
    struct rlimit old;
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    struct sigaction ignore = {}, previous = {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGXFSZ, &ignore, &previous);
    struct rlimit limit = old;
    limit.rlim_cur = 1 << 20;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
    absl::Status first_error;
    const std::string payload(10000, 'p');
    for (std::uint32_t i = 0; i < 1000 && first_error.ok(); ++i) {
      first_error = (*w)->Write(ToMessage({out.imu, i, i, i, payload}));
    }
    absl::Status closed = (*w)->Close();
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::sigaction(SIGXFSZ, &previous, nullptr);
    ASSERT_FALSE(first_error.ok()) << "background " << background;
    EXPECT_THAT(first_error.message(), HasSubstr(path));
    EXPECT_EQ(closed, first_error);
    EXPECT_EQ((*w)->Close(), first_error);  // idempotent, the same error
    EXPECT_LE((*w)->bytes_written(), 1u << 20);
    // What reached the file is a recording cut short.
    auto r = McapReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE((*r)->summary().recovered);
    EXPECT_GT((*r)->summary().statistics.message_count, 0u);
  }
}

TEST(McapTest, BackgroundQueueSmallerThanAChunkStillWritesEverything) {
  TempDir dir;
  const std::string path = dir.File("q.mcap");
  Written out;
  {
    auto w = McapWriter::Create(path, Options(Compression::kZstd, 4096, true, 1));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(AddCatalog(**w, &out).ok());
    for (std::uint32_t i = 0; i < 5000; ++i) {
      ASSERT_TRUE(Put(**w, &out, {out.imu, i, i, i, std::string(100, static_cast<char>(i))}).ok());
    }
    // The destructor closes.
  }
  auto r = McapReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE((*r)->summary().recovered);
  std::vector<Msg> got;
  ASSERT_TRUE(ReadAll(**r, {}, &got).ok());
  EXPECT_TRUE(got == out.messages);
}

TEST(McapTest, NotMcapFilesAreErrorsNamingThePath) {
  TempDir dir;
  const std::string text = dir.File("notes.txt");
  WriteFile(text, "hello, this is not a recording at all");
  auto r = McapReader::Open(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr(text));
  EXPECT_THAT(r.status().message(), HasSubstr("not an MCAP file"));
  EXPECT_THAT(r.status().message(), HasSubstr("offset 0"));

  const std::string empty = dir.File("empty.mcap");
  WriteFile(empty, "");
  r = McapReader::Open(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(empty));
  EXPECT_THAT(r.status().message(), HasSubstr("is empty"));

  r = McapReader::Open(dir.File("missing.mcap"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("missing.mcap"));

  r = McapReader::Open("/tmp");
  EXPECT_FALSE(r.ok());
}

// The ground truth for a cut file: the original's chunks, each with the
// messages in its time range (written in time order, so a prefix).
struct Layout {
  std::vector<ChunkIndex> chunks;
  std::vector<MetadataIndex> metadata;
  std::uint64_t data_end = 0;
};

Layout LayoutOf(absl::string_view bytes) {
  auto r = McapReader::FromBytes(bytes);
  EXPECT_TRUE(r.ok()) << r.status();
  Layout l;
  l.chunks = (*r)->summary().chunks;
  l.metadata = (*r)->summary().metadata;
  // The footer's summary start, less the 13-byte data end record.
  l.data_end = internal::GetU64(bytes.data() + bytes.size() - 8 - 29 + 9) - 13;
  return l;
}

class Truncated : public ::testing::TestWithParam<Compression> {};

TEST_P(Truncated, EveryPrefixOpensWithExactlyTheCompleteChunks) {
  TempDir dir;
  const std::string path = dir.File("cut.mcap");
  const Written out = WriteSmall(path, GetParam(), false, 120, 500);
  const std::string full = ReadFile(path);
  const Layout layout = LayoutOf(full);
  ASSERT_GT(layout.chunks.size(), 5u);
  const std::vector<Msg> all = InLogTimeOrder(out.messages);
  const std::uint64_t header_end = 8 + 9 + 4 + 8 + 4 + 8;  // "ringcast" twice

  for (std::size_t n = 0; n <= full.size(); ++n) {
    SCOPED_TRACE(absl::StrCat("first ", n, " of ", full.size(), " bytes"));
    const std::string cut = full.substr(0, n);
    auto r = McapReader::FromBytes(cut);
    if (n < header_end) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_THAT(r.status().message(), HasSubstr("offset"));
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.status();
    const Summary& s = (*r)->summary();
    if (n == full.size()) {
      EXPECT_FALSE(s.recovered);
      continue;
    }
    ASSERT_TRUE(s.recovered);
    EXPECT_THAT(s.recovery_note, HasSubstr("offset"));
    std::size_t complete = 0;
    std::uint64_t last_end = 0;
    std::uint64_t last_time = 0;
    for (const ChunkIndex& c : layout.chunks) {
      if (c.chunk_start_offset + c.chunk_length <= n) {
        ++complete;
        last_end = c.chunk_start_offset + c.chunk_length;
        last_time = c.message_end_time;
      }
    }
    ASSERT_EQ(s.chunks.size(), complete);
    EXPECT_GE(s.recovered_bytes, last_end);
    EXPECT_LE(s.recovered_bytes, n);
    std::vector<Msg> want;
    for (const Msg& m : all) {
      if (complete > 0 && m.log_time <= last_time) want.push_back(m);
    }
    EXPECT_EQ(s.statistics.message_count, want.size());
    EXPECT_EQ(s.statistics.chunk_count, complete);
    if (complete > 0) {  // the catalog precedes the first chunk
      EXPECT_EQ(s.channels.size(), 3u);
      EXPECT_EQ(s.schemas.size(), 2u);
    }
    for (std::size_t i = 0; i < complete; ++i) {
      EXPECT_EQ(s.chunks[i].chunk_start_offset, layout.chunks[i].chunk_start_offset);
      EXPECT_EQ(s.chunks[i].message_start_time, layout.chunks[i].message_start_time);
      EXPECT_EQ(s.chunks[i].message_end_time, layout.chunks[i].message_end_time);
      if (n >= layout.chunks[i].chunk_start_offset + layout.chunks[i].chunk_length +
                   layout.chunks[i].message_index_length) {
        EXPECT_EQ(s.chunks[i].message_index_offsets, layout.chunks[i].message_index_offsets);
      }
    }
    std::size_t metadata = 0;
    for (const MetadataIndex& m : layout.metadata) metadata += m.offset + m.length <= n;
    EXPECT_EQ(s.metadata.size(), metadata);
    if (n >= layout.data_end + 13) {
      EXPECT_THAT(s.recovery_note, HasSubstr("data end record"));
    }
    std::vector<Msg> got;
    ASSERT_TRUE(ReadAll(**r, {}, &got).ok());
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want);
  }
}

INSTANTIATE_TEST_SUITE_P(Mcap, Truncated,
                         ::testing::Values(Compression::kNone, Compression::kLz4,
                                           Compression::kZstd));

TEST(McapTest, KilledWriterWithLargeMessagesIsRecovered) {
  TempDir dir;
  const std::string path = dir.File("big.mcap");
  Written out;
  {
    auto w = McapWriter::Create(path, Options(Compression::kZstd, 1 << 20));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(AddCatalog(**w, &out).ok());
    std::mt19937_64 rng(5);
    for (std::uint32_t i = 0; i < 6; ++i) {
      ASSERT_TRUE(Put(**w, &out, {out.image, i, 100 * i, 100 * i, Pattern(rng, 3 << 20)}).ok());
      ASSERT_TRUE(Put(**w, &out, {out.imu, i, 100 * i + 50, 0, "imu"}).ok());
    }
    ASSERT_TRUE((*w)->WriteMetadata("run", {{"take", "3"}}).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  const std::string full = ReadFile(path);
  const Layout layout = LayoutOf(full);
  ASSERT_GE(layout.chunks.size(), 6u);
  // Cut in the middle of the 5th chunk, as kill -9 during its write would.
  const ChunkIndex& c4 = layout.chunks[4];
  const std::uint64_t n = c4.chunk_start_offset + c4.chunk_length / 2;
  const std::string cut_path = dir.File("cut.mcap");
  WriteFile(cut_path, absl::string_view(full).substr(0, n));

  auto r = McapReader::Open(cut_path);
  ASSERT_TRUE(r.ok()) << r.status();
  const Summary& s = (*r)->summary();
  EXPECT_TRUE(s.recovered);
  EXPECT_EQ(s.chunks.size(), 4u);
  EXPECT_THAT(s.recovery_note,
              HasSubstr(absl::StrCat("record at offset ", c4.chunk_start_offset,
                                     " is cut off: ", c4.chunk_length - 9, " bytes announced")));
  EXPECT_GE(s.recovered_bytes, c4.chunk_start_offset - 1);
  EXPECT_LE(s.recovered_bytes, c4.chunk_start_offset);
  std::vector<Msg> got;
  ASSERT_TRUE(ReadAll(**r, {}, &got).ok());
  std::vector<Msg> want;
  for (const Msg& m : out.messages) {
    if (m.log_time <= layout.chunks[3].message_end_time) want.push_back(m);
  }
  EXPECT_TRUE(got == want);

  // Recover() writes a complete file with those messages.
  const std::string fixed = dir.File("fixed.mcap");
  absl::StatusOr<Summary> rs = Recover(cut_path, fixed, Compression::kLz4);
  ASSERT_TRUE(rs.ok()) << rs.status();
  EXPECT_FALSE(rs->recovered);
  EXPECT_EQ(rs->statistics.message_count, want.size());
  EXPECT_EQ(rs->channels.size(), 3u);
  EXPECT_EQ(rs->schemas.size(), 2u);
  auto fr = McapReader::Open(fixed);
  ASSERT_TRUE(fr.ok()) << fr.status();
  ASSERT_TRUE(ReadAll(**fr, {}, &got).ok());
  EXPECT_TRUE(got == want);
  for (const ChunkIndex& c : (*fr)->summary().chunks) EXPECT_EQ(c.compression, "lz4");
  EXPECT_EQ((*fr)->summary().channels.at(out.image).metadata, kImageMeta);

  EXPECT_FALSE(Recover(fixed, fixed, Compression::kNone).ok());
}

TEST(McapTest, RecoverKeepsMetadataSchemasAndChannels) {
  TempDir dir;
  const std::string path = dir.File("in.mcap");
  const Written out = WriteSmall(path, Compression::kNone, true);
  const std::string full = ReadFile(path);
  const std::string cut = dir.File("cut.mcap");
  WriteFile(cut, absl::string_view(full).substr(0, full.size() - 100));  // summary lost
  const std::string fixed = dir.File("fixed.mcap");
  absl::StatusOr<Summary> s = Recover(cut, fixed, Compression::kZstd);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->statistics.message_count, out.messages.size());
  EXPECT_EQ(s->metadata.size(), 2u);
  auto r = McapReader::Open(fixed);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->summary().profile, "ringcast");
  EXPECT_EQ((*r)->ReadMetadata("run")->at(0).at("operator"), "ada");
  std::vector<Msg> got;
  ASSERT_TRUE(ReadAll(**r, {}, &got).ok());
  EXPECT_TRUE(got == InLogTimeOrder(out.messages));

  EXPECT_FALSE(Recover(dir.File("missing.mcap"), dir.File("x.mcap"), Compression::kNone).ok());
}

// A corrupt file is refused with DataLoss naming an offset, or read
// correctly (a byte nobody reads, or a summary the scan replaces).
void ExpectSafe(absl::string_view bytes, const std::vector<Msg>& want, const std::string& what) {
  auto r = McapReader::FromBytes(bytes);
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << what << ": " << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("offset")) << what;
    return;
  }
  std::vector<Msg> got;
  absl::Status st = ReadAll(**r, {}, &got);
  if (!st.ok()) {
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << what << ": " << st;
    EXPECT_THAT(st.message(), HasSubstr("offset")) << what;
  } else {
    EXPECT_TRUE(got == want) << what << ": " << got.size() << " messages, " << want.size()
                             << " written; " << (*r)->summary().recovery_note;
  }
  for (const MetadataIndex& m : (*r)->summary().metadata) {
    auto meta = (*r)->ReadMetadata(m.name);
    if (!meta.ok()) {
      EXPECT_THAT(meta.status().message(), HasSubstr("offset")) << what;
    }
  }
  // A time window and a topic take other paths through the chunks.
  (void)ReadAll(**r, Range(1500, 2000, {"/imu"}), &got);
}

class Corrupt : public ::testing::TestWithParam<Compression> {};

TEST_P(Corrupt, EveryFlippedByteIsDataLossOrHarmless) {
  TempDir dir;
  const std::string path = dir.File("c.mcap");
  const Written out = WriteSmall(path, GetParam(), false, 90, 400);
  const std::string full = ReadFile(path);
  const std::vector<Msg> want = InLogTimeOrder(out.messages);
  std::mt19937_64 rng(11);
  for (std::size_t i = 0; i < full.size(); ++i) {
    std::string bad = full;
    bad[i] = static_cast<char>(bad[i] ^ 0xff);
    ExpectSafe(bad, want, absl::StrCat("byte ", i, " flipped"));
    bad[i] = static_cast<char>(rng());
    ExpectSafe(bad, want, absl::StrCat("byte ", i, " randomized"));
  }
}

TEST_P(Corrupt, EveryFlippedByteWithoutTheSummaryIsSafeToo) {
  // The scan path: no footer, every record read from the data section.
  TempDir dir;
  const std::string path = dir.File("c.mcap");
  WriteSmall(path, GetParam(), false, 90, 400);
  const std::string full = ReadFile(path);
  const Layout layout = LayoutOf(full);
  const std::string data = full.substr(0, layout.data_end);
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::string bad = data;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    auto r = McapReader::FromBytes(bad);
    if (!r.ok()) {
      EXPECT_THAT(r.status().message(), HasSubstr("offset"));
      continue;
    }
    EXPECT_TRUE((*r)->summary().recovered);
    EXPECT_THAT((*r)->summary().recovery_note, HasSubstr("offset"));
    std::vector<Msg> got;
    absl::Status st = ReadAll(**r, {}, &got);
    if (!st.ok()) {
      EXPECT_THAT(st.message(), HasSubstr("offset"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Mcap, Corrupt,
                         ::testing::Values(Compression::kNone, Compression::kLz4,
                                           Compression::kZstd));

// Patches a u64/u32 at `at` in a copy of `bytes`.
std::string WithU64(std::string bytes, std::uint64_t at, std::uint64_t v) {
  internal::SetU64(bytes.data() + at, v);
  return bytes;
}

TEST(McapTest, BadLengthsSizesAndCrcsAreDataLossNamingTheOffset) {
  TempDir dir;
  for (Compression c : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    SCOPED_TRACE(CompressionField(c));
    const std::string path = dir.File("b.mcap");
    WriteSmall(path, c, false, 60, 400);
    const std::string full = ReadFile(path);
    const Layout layout = LayoutOf(full);
    const ChunkIndex& ci = layout.chunks[1];
    const std::uint64_t at = ci.chunk_start_offset;
    const std::string where = absl::StrCat("offset ", at, ": chunk record");
    // Chunk fields: start, end (8+8 after the 9-byte prefix), uncompressed
    // size, crc, compression, records length.
    const std::uint64_t size_at = at + 9 + 16;
    const std::uint64_t crc_at = size_at + 8;

    auto read_error = [&](const std::string& bytes) -> std::string {
      auto r = McapReader::FromBytes(bytes);
      if (!r.ok()) return std::string(r.status().message());
      std::vector<Msg> got;
      absl::Status st = ReadAll(**r, {}, &got);
      EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
      return std::string(st.message());
    };
    // A huge declared size: refused before any allocation.
    std::string e = read_error(WithU64(full, size_at, std::uint64_t{1} << 40));
    EXPECT_THAT(e, HasSubstr(where));
    EXPECT_THAT(e, HasSubstr("uncompressed size 1099511627776"));
    // One byte more or less than the records.
    e = read_error(WithU64(full, size_at, ci.uncompressed_size + 1));
    EXPECT_THAT(e, HasSubstr(where));
    e = read_error(WithU64(full, size_at, ci.uncompressed_size - 1));
    EXPECT_THAT(e, HasSubstr(where));
    // A wrong CRC.
    std::string bad = full;
    bad[crc_at] = static_cast<char>(bad[crc_at] ^ 1);
    e = read_error(bad);
    EXPECT_THAT(e, HasSubstr(where));
    EXPECT_THAT(e, HasSubstr("CRC-32"));
    // A record length past the end of the file.
    e = read_error(WithU64(full, at + 1, UINT64_MAX));
    EXPECT_THAT(e, HasSubstr(absl::StrCat("offset ", at)));
    // The same cuts with the summary gone: the scan stops at the chunk.
    const std::string data = full.substr(0, layout.data_end);
    for (const std::string& b :
         {WithU64(data, size_at, std::uint64_t{1} << 40),
          WithU64(data, size_at, ci.uncompressed_size + 1), WithU64(data, at + 1, UINT64_MAX)}) {
      auto r = McapReader::FromBytes(b);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_TRUE((*r)->summary().recovered);
      EXPECT_EQ((*r)->summary().chunks.size(), 1u);
      EXPECT_EQ((*r)->summary().recovered_bytes, at);
      EXPECT_THAT((*r)->summary().recovery_note, HasSubstr(absl::StrCat("offset ", at)));
    }
  }
  // A message byte changed inside an uncompressed chunk: the CRC says so.
  const std::string path = dir.File("n.mcap");
  WriteSmall(path, Compression::kNone, false, 60, 400);
  std::string bytes = ReadFile(path);
  const Layout layout = LayoutOf(bytes);
  const ChunkIndex& ci = layout.chunks[2];
  bytes[ci.chunk_start_offset + ci.chunk_length - 1] ^= 0x10;  // the last message's last byte
  auto r = McapReader::FromBytes(bytes);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Msg> got;
  absl::Status st = ReadAll(**r, {}, &got);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), HasSubstr(absl::StrCat("offset ", ci.chunk_start_offset)));
  EXPECT_THAT(st.message(), HasSubstr("CRC-32"));
}

TEST(McapTest, OpenNamesThePathInDataLoss) {
  TempDir dir;
  const std::string path = dir.File("run.mcap");
  WriteSmall(path, Compression::kZstd, false, 60, 400);
  std::string bytes = ReadFile(path);
  const Layout layout = LayoutOf(bytes);
  const ChunkIndex& ci = layout.chunks[0];
  internal::SetU64(bytes.data() + ci.chunk_start_offset + 9 + 16, 10);
  WriteFile(path, bytes);
  auto r = McapReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Msg> got;
  absl::Status st = ReadAll(**r, {}, &got);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(),
              HasSubstr(absl::StrCat(path, ": offset ", ci.chunk_start_offset, ": chunk record")));
}

// A FIFO planted where a recording is read or written is an error at once,
// not an open() that waits for ever for its other end.
TEST(McapTest, AFifoAtThePathIsAnErrorNotAHang) {
  TempDir dir;
  const std::string fifo = dir.File("planted.mcap");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::Open(fifo);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(fifo));
  absl::StatusOr<std::unique_ptr<McapWriter>> w = McapWriter::Create(fifo, WriterOptions());
  EXPECT_FALSE(w.ok());
  EXPECT_THAT(std::string(w.status().message()), HasSubstr(fifo));
}

}  // namespace
}  // namespace ringcast::record
