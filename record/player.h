// record/player.h: what `ringcast play` runs. A Player reads an MCAP file
// (ours, or any whose channels carry protobuf messages with a protobuf
// schema), makes one publisher per recorded topic with the type the
// schema describes (so the same type hash, and QoS from the channel's
// metadata when the file was written by `ringcast record`), converts each
// message back to a flat sample and publishes it at its recorded time,
// scaled by the rate.
//
//   auto player = Player::Create(context, {.path = "run.mcap", .rate = 2});
//   (*player)->Run([] { return stop_requested; },
//                  [](const PlayStats& s) { ShowStatus(s); });
#ifndef RINGCAST_RECORD_PLAYER_H_
#define RINGCAST_RECORD_PLAYER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "record/mcap.h"
#include "ringcast/context.h"

namespace ringcast::record {

struct PlayOptions {
  std::string path;
  double rate = 1.0;  // > 0: 2 plays twice as fast
  bool loop = false;
  std::vector<std::string> topics;  // names or glob patterns; empty: every topic
  absl::Duration start = absl::ZeroDuration();  // into the recording
  std::string node_name = "ringcast_play";
};

struct PlayStats {
  std::uint64_t published = 0;
  std::uint64_t bytes = 0;  // flat bytes published
  std::uint64_t loops = 0;  // completed passes
  absl::Duration position;  // of the last message published, from the recording's start
  absl::Duration duration;  // of the recording
  std::uint64_t failed = 0;  // messages that could not be converted or published
  std::string last_error;
};

class Player {
 public:
  // Opens the file (a truncated one is played up to its last complete
  // chunk) and makes the publishers. InvalidArgument for a bad rate or a
  // topic the file does not have (naming the ones it has);
  // FailedPrecondition for a channel that is not protobuf.
  static absl::StatusOr<std::unique_ptr<Player>> Create(const Context& context,
                                                        const PlayOptions& options);
  ~Player();

  const Summary& summary() const;
  // Plays the file (forever with loop) until `stop` returns true, calling
  // `progress` at most every 100 ms and once at the end.
  absl::Status Run(const std::function<bool()>& stop,
                   const std::function<void(const PlayStats&)>& progress);

 private:
  struct Impl;
  explicit Player(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringcast::record

#endif  // RINGCAST_RECORD_PLAYER_H_
