// transport/writer.h: the bytes-level publisher. One Writer owns one ring of
// its topic; publishing is wait-free and makes no system call unless a
// subscriber sleeps.
//
//   auto w = Writer::Create(options, "/imu", config);
//   RINGCAST_RETURN_IF_ERROR(w->Publish(bytes));
#ifndef RINGCAST_TRANSPORT_WRITER_H_
#define RINGCAST_TRANSPORT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "transport/topic.h"

namespace ringcast::transport {

class Writer {
 public:
  // Joins (or creates) `topic`, reclaims entries of dead processes, and
  // claims a ring.
  static absl::StatusOr<Writer> Create(const ShmOptions& options, absl::string_view topic,
                                       const TopicConfig& config);

  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();  // releases the ring; unlinks the topic if it was the last user

  // Publishes `payload`. Messages of 0 bytes are valid. InvalidArgument if
  // the payload exceeds the topic's inline capacity (the message names both
  // sizes).
  absl::Status Publish(absl::Span<const std::byte> payload);

  std::uint64_t publisher_id() const { return publisher_id_; }
  std::uint32_t ring_index() const { return ring_; }
  // The sequence number the next Publish will carry.
  std::uint64_t next_sequence() const { return next_seq_; }
  const TopicSegment& topic() const { return *topic_; }

 private:
  Writer(std::unique_ptr<TopicSegment> topic, TopicSegment::RingClaim claim);
  void RingSleepers();
  void Close();

  std::unique_ptr<TopicSegment> topic_;  // stable address for the pointers below
  std::uint32_t ring_ = 0;
  std::uint64_t publisher_id_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t mask_ = 0;
  std::uint32_t slot_size_ = 0;
  std::uint32_t inline_capacity_ = 0;
  std::uint32_t sleeping_words_ = 0;
  std::byte* slots_ = nullptr;
  internal::RingHot* hot_ = nullptr;
};

}  // namespace ringcast::transport

#endif  // RINGCAST_TRANSPORT_WRITER_H_
