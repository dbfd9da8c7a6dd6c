// record/recorder.h: what `ringcast record` runs. A Recorder is a node of
// the domain with one best-effort subscriber per recorded topic (so it is
// listed by `ringcast topic info`, and never slows a best-effort
// publisher); each sample it takes is converted to protobuf wire format
// and written to an MCAP file, with the type's FileDescriptorSet as the
// channel's schema. Topics that appear while it runs are picked up by
// Discover(); each sample's `lost_before` adds to its topic's loss, which
// the status line shows and the file keeps as metadata "ringcast.lost".
//
//   auto rec = Recorder::Create(context, {.path = "run.mcap", .topics = {"/imu"}});
//   while (!stop) {
//     (*rec)->Discover();                     // now and then
//     (*rec)->Poll(absl::Milliseconds(100));  // a thread per topic records
//   }
//   (*rec)->Close();
#ifndef RINGCAST_RECORD_RECORDER_H_
#define RINGCAST_RECORD_RECORDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "record/mcap.h"
#include "ringcast/context.h"

namespace ringcast::record {

struct RecordOptions {
  // The file; with split_size, files are <stem>_0.mcap, <stem>_1.mcap, ...
  // (stem: path without its ".mcap").
  std::string path;
  // Topic names or glob patterns ('*', '?', '[...]', as fnmatch(3)); empty
  // records every topic.
  std::vector<std::string> topics;
  Compression compression = Compression::kZstd;
  // Start a new file once one holds this many bytes; 0: one file.
  std::uint64_t split_size = 0;
  std::size_t chunk_size = 4 << 20;
  std::string node_name = "ringcast_record";
  // One thread per topic takes and converts its samples, so that a slow
  // topic (a 6 MB camera frame takes milliseconds to convert) never makes
  // a fast one lap. Without, Poll() records in the caller's thread.
  bool threads = true;
};

// One topic the recorder found.
struct RecordedTopic {
  std::string topic;
  std::string type_name;
  std::uint64_t messages = 0;  // written
  std::uint64_t bytes = 0;     // of protobuf wire format written
  std::uint64_t lost = 0;      // published but never taken (lapped)
  std::uint64_t invalid = 0;   // taken but not valid messages of the type
  // Why the topic is not recorded ("" while it is), e.g. no descriptor.
  std::string problem;
};

struct RecordStats {
  absl::Time started;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;       // message bytes written
  std::uint64_t lost = 0;
  std::uint64_t file_bytes = 0;  // in every file so far
  std::vector<RecordedTopic> topics;  // by name
  std::vector<std::string> files;     // in order; the last is being written
};

class Recorder {
 public:
  // Joins the context's domain as node `options.node_name` and creates the
  // (first) file. InvalidArgument for a bad pattern or path; the file's
  // error (naming it) if it cannot be created.
  static absl::StatusOr<std::unique_ptr<Recorder>> Create(const Context& context,
                                                          const RecordOptions& options);
  ~Recorder();  // Close()s

  // Subscribes to every matching topic not recorded yet (cheap when the
  // registry has not changed since the last call).
  absl::Status Discover();
  // Without threads: records every sample there is; if there was none,
  // first sleeps until one arrives, at most `timeout`. With threads:
  // sleeps `timeout`, then returns the first error of a topic's thread.
  absl::Status Poll(absl::Duration timeout);
  // A copy, consistent (the threads update it under a lock).
  RecordStats stats() const;
  // Records what is left, writes the metadata and the summary, closes the
  // file. Idempotent.
  absl::Status Close();

 private:
  struct Impl;
  explicit Recorder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True if `topic` is one of `patterns` or matches one as a glob (fnmatch);
// every topic matches an empty list. What record and play select by.
bool TopicMatches(const std::vector<std::string>& patterns, const std::string& topic);

// Files of a split recording: <stem>_<index>.mcap.
std::string SplitPath(const std::string& path, int index);

}  // namespace ringcast::record

#endif  // RINGCAST_RECORD_RECORDER_H_
