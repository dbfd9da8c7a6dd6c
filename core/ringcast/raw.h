// core/ringcast/raw.h: publishers and subscribers of message bytes whose
// type is described at run time (a TypeSupport), registered in the domain
// like any endpoint. The typed Publisher<T> and Subscriber<T> are thin
// layers over these; the CLI, recording and playback use them directly for
// types they know only by descriptor.
//
// Made by Node (node.h): node->CreateRawPublisher(topic, type, qos).
#ifndef RINGCAST_CORE_RINGCAST_RAW_H_
#define RINGCAST_CORE_RINGCAST_RAW_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "discovery/registry_config.h"
#include "ringcast/qos.h"
#include "ringcast/type_support.h"
#include "transport/reader.h"
#include "transport/writer.h"

namespace ringcast {

namespace internal {
struct NodeState;  // the registry and the node's entry, shared by endpoints
class CallbackSubscription;
}  // namespace internal

// A buffer to build one message in, loaned by a RawPublisher: inline
// messages in the publisher's own buffer, copied into the ring slot in one
// burst on Publish (a second inline loan at once gets a buffer of its own);
// larger ones in place in a chunk of the publisher's pool, published by
// reference with nothing copied. Move-only; dropping it unpublished returns
// what it holds. Must not outlive its publisher.
class RawLoan {
 public:
  RawLoan() = default;
  RawLoan(RawLoan&& other) noexcept
      : chunk_(std::move(other.chunk_)),
        scratch_busy_(std::exchange(other.scratch_busy_, nullptr)),
        own_(std::move(other.own_)), bytes_(std::exchange(other.bytes_, {})) {}
  RawLoan& operator=(RawLoan&& other) noexcept {
    if (this != &other) {
      Reset();
      chunk_ = std::move(other.chunk_);
      scratch_busy_ = std::exchange(other.scratch_busy_, nullptr);
      own_ = std::move(other.own_);
      bytes_ = std::exchange(other.bytes_, {});
    }
    return *this;
  }
  ~RawLoan() { Reset(); }

  // The bytes to build in, 8-aligned.
  absl::Span<std::byte> data() const { return bytes_; }
  // True if the bytes are a chunk of the pool (zero-copy).
  bool pooled() const { return chunk_.held(); }

 private:
  friend class RawPublisher;
  RawLoan(bool* scratch_busy, absl::Span<std::byte> bytes)
      : scratch_busy_(scratch_busy), bytes_(bytes) {}
  void Reset() {
    chunk_ = transport::ChunkLoan();  // an unpublished chunk goes back to the pool
    if (scratch_busy_ != nullptr) ReturnScratch();
    own_.reset();
    bytes_ = {};
  }
  // REQUIRES: scratch_busy_ != nullptr (the loan holds nothing else).
  void ReturnScratch() {
    *scratch_busy_ = false;
    scratch_busy_ = nullptr;
    bytes_ = {};
  }

  transport::ChunkLoan chunk_;     // held when the loan is pooled
  bool* scratch_busy_ = nullptr;   // the publisher's buffer, when we hold it
  std::unique_ptr<std::uint64_t[]> own_;  // ours, when that buffer is busy
  absl::Span<std::byte> bytes_;
};

class RawPublisher {
 public:
  RawPublisher(RawPublisher&&) noexcept;
  RawPublisher& operator=(RawPublisher&&) noexcept;
  ~RawPublisher();  // closes

  // A loan of `bytes` bytes: inline up to inline_capacity(), else from the
  // pool. InvalidArgument naming the size and the limits when the topic
  // cannot carry it.
  absl::StatusOr<RawLoan> Loan(std::size_t bytes);
  // The same into `loan` (what it held is returned first): no StatusOr to
  // move the loan through, for the typed hot path. The common case (an
  // inline message while our buffer is free) is inline, the rest a call.
  absl::Status Loan(std::size_t bytes, RawLoan* loan) {
    if (CanLoanInline(bytes)) {
      *loan = LoanInline(bytes);
      return absl::OkStatus();
    }
    return LoanSlow(bytes, loan);
  }
  // True if Loan(bytes) would hand out the publisher's own buffer (an
  // inline message while the buffer is free): the typed API then builds
  // the loan in place with LoanInline, inline, nothing moved. The message
  // is copied into the slot in one burst on Publish: building in the slot
  // itself (Writer::LoanSlot) moves the slot's cache line to a polling
  // subscriber once per field written, and measured no faster (bench/core).
  bool CanLoanInline(std::size_t bytes) const {
    return writer_ != nullptr && bytes <= *qos_.inline_capacity && !scratch_->busy;
  }
  // REQUIRES: CanLoanInline(bytes). The bytes are 8-aligned.
  RawLoan LoanInline(std::size_t bytes) {
    scratch_->busy = true;
    return RawLoan(&scratch_->busy, {reinterpret_cast<std::byte*>(scratch_->words.data()), bytes});
  }
  // Publishes the first `used` bytes of `loan`; an inline loan is copied
  // into the ring here (inline), a pooled one published by reference.
  absl::Status Publish(RawLoan&& loan, std::size_t used) {
    if (loan.scratch_busy_ != nullptr && writer_ != nullptr && used <= loan.bytes_.size()) {
      absl::Status s = writer_->Publish(loan.bytes_.first(used));
      loan.ReturnScratch();  // all such a loan holds: no full Reset
      return s;
    }
    return PublishSlow(std::move(loan), used);
  }
  // Publishes a copy of `bytes` (inline, or copied into a chunk).
  absl::Status Publish(absl::Span<const std::byte> bytes);

  const std::string& topic() const { return topic_; }
  const std::string& type_name() const { return type_name_; }
  std::uint64_t type_hash() const { return type_hash_; }
  // The QoS in force, every field set.
  const Qos& qos() const { return qos_; }
  std::size_t inline_capacity() const { return *qos_.inline_capacity; }
  std::uint64_t max_message_size() const { return *qos_.max_message_size; }
  // The registry id (unique in the domain) and the transport endpoint.
  std::uint64_t id() const { return entry_.id; }
  const transport::Writer& writer() const { return *writer_; }
  // What this publisher's chunk pool commits in shared memory now: it
  // grows with the loans a topic needs and shrinks when they stop, up to
  // the planned bound (empty without a pool, or once closed).
  transport::PoolUse pool_use() const {
    return writer_ != nullptr ? writer_->pool_use() : transport::PoolUse{};
  }
  bool closed() const { return writer_ == nullptr; }
  // Unregisters and closes. Idempotent.
  void Close();

 private:
  friend class Node;
  RawPublisher(std::shared_ptr<internal::NodeState> node, discovery::EntryHandle entry,
               std::unique_ptr<transport::Writer> writer, std::string topic,
               const TypeSupport& type, const Qos& qos);
  absl::Status LoanSlow(std::size_t bytes, RawLoan* loan);
  absl::Status PublishSlow(RawLoan&& loan, std::size_t used);
  absl::Status Closed() const;  // FailedPrecondition naming the topic

  std::shared_ptr<internal::NodeState> node_;
  discovery::EntryHandle entry_;
  std::unique_ptr<transport::Writer> writer_;
  std::string topic_;
  std::string type_name_;
  std::uint64_t type_hash_ = 0;
  Qos qos_;
  // The buffer inline loans build in; heap-held so that it stays put when
  // the publisher moves.
  struct Scratch {
    std::vector<std::uint64_t> words;
    bool busy = false;
  };
  std::unique_ptr<Scratch> scratch_;
};

class RawSubscriber {
 public:
  RawSubscriber(RawSubscriber&&) noexcept;
  RawSubscriber& operator=(RawSubscriber&&) noexcept;
  ~RawSubscriber();  // closes

  // The next sample into `sample` (reusing its storage); false when there
  // is nothing new. FailedPrecondition while max_held_samples pooled
  // samples are held (the message names the limit).
  absl::StatusOr<bool> Take(transport::Sample* sample) {
    if (reader_ == nullptr) return Closed();
    return reader_->Take(sample);
  }
  // OK as soon as a sample is there, DeadlineExceeded after `timeout`.
  absl::Status Wait(absl::Duration timeout);
  bool HasData();
  // OK once a live publisher of the topic is registered; DeadlineExceeded
  // after `timeout`. Sleeps on the registry's futex.
  absl::Status WaitForPublisher(absl::Duration timeout);

  // Counts a sample that failed validation (visible in `ringcast topic info`
  // and `doctor`) and returns the DataLoss error that reports it.
  absl::Status Invalid(const transport::SampleInfo& info, const absl::Status& why);

  std::uint64_t received() const { return reader_->received(); }
  std::uint64_t lost() const { return reader_->lost(); }
  const std::string& topic() const { return topic_; }
  const std::string& type_name() const { return type_name_; }
  const Qos& qos() const { return qos_; }
  std::uint64_t id() const { return entry_.id; }
  transport::Reader& reader() { return *reader_; }
  bool closed() const { return reader_ == nullptr; }
  void Close();

 private:
  friend class Node;
  RawSubscriber(std::shared_ptr<internal::NodeState> node, discovery::EntryHandle entry,
                std::unique_ptr<transport::Reader> reader, std::string topic,
                const TypeSupport& type, const Qos& qos);
  absl::Status Closed() const;  // FailedPrecondition naming the topic

  std::shared_ptr<internal::NodeState> node_;
  discovery::EntryHandle entry_;
  std::unique_ptr<transport::Reader> reader_;
  std::string topic_;
  std::string type_name_;
  Qos qos_;
};

namespace internal {

// A subscription whose samples an Executor hands to a callback. Owned by
// its Subscriber handle; the node and executors keep weak references.
class CallbackSubscription {
 public:
  explicit CallbackSubscription(RawSubscriber raw) : raw_(std::move(raw)) {}
  virtual ~CallbackSubscription() = default;
  // Takes up to `max` samples and hands each to the callback; returns how
  // many it handed over. Called on the executor's thread only.
  virtual int Dispatch(int max) = 0;
  RawSubscriber& raw() { return raw_; }

 protected:
  RawSubscriber raw_;
};

}  // namespace internal

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_RAW_H_
