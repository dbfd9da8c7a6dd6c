// Writes the seed corpus of mcap_reader_fuzz into a directory (scripts/
// fuzz.sh runs it first): small MCAP files of each compression, written
// inline and on the writer's thread, each also cut in the middle of a chunk
// and without its summary, so that the fuzzer starts from every path of
// the reader (summary, scan, recovery) and stays under its 16 KiB inputs.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "record/mcap.h"

using namespace ringcast::record;

namespace {

bool WriteOne(const std::string& path, Compression c, bool background, int messages) {
  WriterOptions options;
  options.compression = c;
  options.chunk_size = 512;
  options.background = background;
  auto w = McapWriter::Create(path, options);
  if (!w.ok()) return false;
  auto s = (*w)->AddSchema("pkg.Msg", "protobuf", "\x0a\x07msg.proto");
  if (!s.ok()) return false;
  auto a = (*w)->AddChannel(*s, "/a", "protobuf", {{"k", "v"}});
  auto b = (*w)->AddChannel(0, "/b", "json", {});
  if (!a.ok() || !b.ok()) return false;
  for (int i = 0; i < messages; ++i) {
    const std::string data(static_cast<std::size_t>(3 + i % 50), static_cast<char>('a' + i % 26));
    // Some times out of order, so that chunks overlap.
    const std::uint64_t t = static_cast<std::uint64_t>(i % 7 == 3 ? i - 2 : i) * 1000;
    Message m;
    m.channel_id = i % 2 ? *a : *b;
    m.sequence = static_cast<std::uint32_t>(i);
    m.log_time = t;
    m.publish_time = t;
    m.data = data;
    if (!(*w)->Write(m).ok()) {
      return false;
    }
    if (i == messages / 2 && !(*w)->WriteMetadata("run", {{"x", "1"}}).ok()) return false;
  }
  return (*w)->Close().ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <corpus dir> <fuzz target>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int n = 0;
  for (Compression c : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    for (bool background : {false, true}) {
      for (int messages : {0, 5, 60}) {
        const std::string path = dir + "/seed-" + std::to_string(n++) + ".mcap";
        if (!WriteOne(path, c, background, messages)) {
          std::fprintf(stderr, "cannot write %s\n", path.c_str());
          return 1;
        }
        std::ifstream in(path, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
        // Cut in the middle, and cut before the summary (the footer's
        // summary start, less the 13-byte data end).
        std::ofstream(path + ".cut", std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
        std::uint64_t summary_start = 0;
        for (int i = 7; i >= 0; --i) {
          summary_start = (summary_start << 8) |
                          static_cast<unsigned char>(bytes[bytes.size() - 8 - 29 + 9 + i]);
        }
        std::ofstream(path + ".nosummary", std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(summary_start - 13));
      }
    }
  }
  return 0;
}
