// libFuzzer target: arbitrary bytes as an MCAP file, as a damaged disk or a
// hostile sender would hand one to `ringcast play`. The reader must open it
// or return an error, and every read of an opened file must finish with
// messages or an error: no crash, no read out of bounds, no allocation
// beyond what the bytes could decompress to.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "record/mcap.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringcast::record;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::unique_ptr<McapReader>> r = McapReader::FromBytes(bytes);
  if (!r.ok()) return 0;
  const Summary& s = (*r)->summary();
  std::uint64_t sum = 0;
  auto touch = [&](const Channel& c, const Message& m) {
    sum += c.topic.size() + m.log_time;
    for (char ch : m.data) sum += static_cast<unsigned char>(ch);  // every byte is readable
    return true;
  };
  (void)(*r)->ReadMessages({}, touch);
  std::vector<std::string> topics;
  for (const auto& [id, c] : s.channels) {
    topics.push_back(c.topic);
    break;
  }
  const std::uint64_t mid = s.statistics.message_start_time / 2 + s.statistics.message_end_time / 2;
  ReadOptions window;
  window.start = mid;
  window.topics = topics;
  (void)(*r)->ReadMessages(window, touch);
  int stop_after = 3;
  (void)(*r)->ReadMessages({}, [&](const Channel&, const Message&) { return --stop_after > 0; });
  for (const MetadataIndex& m : s.metadata) {
    auto meta = (*r)->ReadMetadata(m.name);
    if (meta.ok()) {
      for (const auto& map : *meta) sum += map.size();
    }
  }
  return sum == 0xdeadbeef ? 1 : 0;  // keeps `sum` alive
}
