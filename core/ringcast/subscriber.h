// core/ringcast/subscriber.h: typed subscribing. A Sample<T> is one
// received message: its validated view of T (through `->` and `*`) and what
// came with it. Pooled samples point straight into the publisher's chunk.
//
//   auto sub = node->CreateSubscriber(demo::topics::kCameraImage);
//   while (sub->Wait(absl::Seconds(1)).ok()) {
//     absl::StatusOr<std::optional<Sample<demo::flat::Image>>> s = sub->Take();
//     if (s.ok() && *s) use((**s)->width(), (**s)->data());
//   }
//
// Or with a callback, served by an Executor (executor.h):
//   auto sub = node->CreateSubscriber(demo::topics::kCameraImage,
//                                     [](Sample<demo::flat::Image> s) { ... });
#ifndef RINGCAST_CORE_RINGCAST_SUBSCRIBER_H_
#define RINGCAST_CORE_RINGCAST_SUBSCRIBER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "idl/validate.h"
#include "idl/view.h"
#include "ringcast/raw.h"
#include "transport/reader.h"
#include "transport/status_macros.h"

namespace ringcast {

class Executor;
template <typename T>
class Sample;
namespace internal {
// Takes the next sample of `raw` into `sample` and validates it as T.
template <typename T>
absl::StatusOr<bool> TakeSample(RawSubscriber& raw, Sample<T>* sample);
}  // namespace internal

// One received message of type T. Move-only. A pooled sample holds its
// chunk (counting against the topic's max_held_samples) until destroyed.
// It may outlive its Subscriber and its Node: its bytes stay mapped (the
// chunk is then no longer pinned against the publisher, which may reuse
// it; hold samples while their subscriber lives to keep them stable).
template <typename T>
class Sample {
 public:
  using View = typename T::View;

  Sample() = default;
  Sample(Sample&& other) noexcept : raw_(std::move(other.raw_)) { Rebind(); }
  Sample& operator=(Sample&& other) noexcept {
    raw_ = std::move(other.raw_);
    Rebind();
    return *this;
  }

  const View* operator->() const { return &view_; }
  const View& operator*() const { return view_; }

  // Per publisher, consecutive.
  std::uint64_t sequence() const { return raw_.info().sequence; }
  // CLOCK_REALTIME of the publish.
  absl::Time publish_time() const { return absl::FromUnixNanos(raw_.info().publish_time_ns); }
  std::int64_t publish_time_ns() const { return raw_.info().publish_time_ns; }
  std::uint64_t publisher_id() const { return raw_.info().publisher_id; }
  // Samples lost (overwritten before we read them) since the previous one.
  std::uint64_t lost_before() const { return raw_.info().lost_before; }
  // The flat bytes the view reads.
  absl::Span<const std::byte> bytes() const { return raw_.data(); }
  bool pooled() const { return raw_.pooled(); }

 private:
  template <typename U>
  friend absl::StatusOr<bool> internal::TakeSample(RawSubscriber& raw, Sample<U>* sample);
  // An inline sample's bytes move with it: the view follows them. The
  // buffer was validated when taken, so no check is repeated here.
  void Rebind() {
    const absl::Span<const std::byte> d = raw_.data();
    view_ = idl::ViewOfValidated<View>(d.empty() ? Empty() : d);
  }
  // What an empty sample's view reads: a zeroed head (default values).
  static absl::Span<const std::byte> Empty() {
    alignas(8) static constexpr std::byte kZeros[T::kHeadSize] = {};
    return {kZeros, T::kHeadSize};
  }

  transport::Sample raw_;
  View view_ = idl::ViewOfValidated<View>(Empty());
};

template <typename T>
class Subscriber {
 public:
  Subscriber(Subscriber&&) noexcept = default;
  Subscriber& operator=(Subscriber&&) noexcept = default;

  // The next sample, or nullopt when there is nothing new. DataLoss for a
  // sample whose bytes fail validation (counted; the next Take goes on
  // with the next sample); FailedPrecondition while max_held_samples pooled
  // samples are held.
  absl::StatusOr<std::optional<Sample<T>>> Take() {
    Sample<T> s;
    RINGCAST_ASSIGN_OR_RETURN(const bool got, Take(&s));
    if (!got) return std::nullopt;
    return std::optional<Sample<T>>(std::move(s));
  }
  // The same into `sample`, reusing its storage (no allocation for inline
  // samples), for hot loops. What `sample` held is released first.
  absl::StatusOr<bool> Take(Sample<T>* sample) { return internal::TakeSample(raw(), sample); }
  // OK as soon as a sample is there; DeadlineExceeded after `timeout`.
  absl::Status Wait(absl::Duration timeout) { return raw().Wait(timeout); }
  // OK once a live publisher is registered on the topic.
  absl::Status WaitForPublisher(absl::Duration timeout) { return raw().WaitForPublisher(timeout); }

  std::uint64_t received() const { return const_raw().received(); }
  std::uint64_t lost() const { return const_raw().lost(); }
  const std::string& topic() const { return const_raw().topic(); }
  const Qos& qos() const { return const_raw().qos(); }
  std::uint64_t id() const { return const_raw().id(); }
  // True if an Executor hands this subscriber's samples to a callback (Take
  // is then the executor's, not yours).
  bool has_callback() const { return callback_ != nullptr; }
  RawSubscriber& raw() { return callback_ ? callback_->raw() : *raw_; }
  void Close() {
    if (raw_) raw_->Close();
    callback_.reset();
  }

 private:
  friend class Node;
  friend class Executor;
  explicit Subscriber(RawSubscriber raw)
      : raw_(std::make_unique<RawSubscriber>(std::move(raw))) {}
  explicit Subscriber(std::shared_ptr<internal::CallbackSubscription> callback)
      : callback_(std::move(callback)) {}
  const RawSubscriber& const_raw() const { return callback_ ? callback_->raw() : *raw_; }

  std::unique_ptr<RawSubscriber> raw_;
  std::shared_ptr<internal::CallbackSubscription> callback_;
};

namespace internal {

template <typename T>
absl::StatusOr<bool> TakeSample(RawSubscriber& raw, Sample<T>* sample) {
  RINGCAST_ASSIGN_OR_RETURN(const bool got, raw.Take(&sample->raw_));
  if (!got) return false;
  // Validated, then the view made in place (not through a StatusOr<View>,
  // whose copy right after its stores costs a store-forwarding stall).
  const absl::Span<const std::byte> data = sample->raw_.data();
  if (absl::Status s = idl::Validate(T::Table(), data); !s.ok()) {
    const transport::SampleInfo info = sample->raw_.info();
    sample->raw_ = transport::Sample();
    return raw.Invalid(info, s);
  }
  sample->view_ = idl::ViewOfValidated<typename T::View>(data);
  return true;
}

// The callback form: an executor takes samples and hands each over by
// value. A sample that fails validation is counted and skipped.
template <typename T>
class TypedCallback final : public CallbackSubscription {
 public:
  TypedCallback(RawSubscriber raw, std::function<void(Sample<T>)> fn)
      : CallbackSubscription(std::move(raw)), fn_(std::move(fn)) {}

  int Dispatch(int max) override {
    int n = 0;
    while (n < max) {
      Sample<T> s;
      absl::StatusOr<bool> got = TakeSample(raw_, &s);
      if (!got.ok()) {
        if (absl::IsDataLoss(got.status())) continue;  // counted; next one
        break;  // held limit: the callback must release samples first
      }
      if (!*got) break;
      ++n;
      fn_(std::move(s));
    }
    return n;
  }

 private:
  std::function<void(Sample<T>)> fn_;
};

}  // namespace internal

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_SUBSCRIBER_H_
