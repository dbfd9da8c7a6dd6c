// core/ringcast/publisher.h: typed publishing. A Loan<T> is the generated
// builder of T writing in place into the bytes it will be published from;
// Publish hands it to the subscribers.
//
//   auto pub = node->CreatePublisher(demo::topics::kCameraImage);
//   auto loan = pub->Loan(6 << 20);                // Loan<demo::flat::Image>
//   loan->set_width(1920);
//   fill(*loan->alloc_data(1920 * 1080 * 3));      // zero-copy, in place
//   pub->Publish(std::move(*loan));
//   pub->Publish(proto);                           // or from the protobuf class
#ifndef RINGCAST_CORE_RINGCAST_PUBLISHER_H_
#define RINGCAST_CORE_RINGCAST_PUBLISHER_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "idl/builder.h"
#include "ringcast/raw.h"
#include "transport/status_macros.h"

namespace ringcast {

// A message of type T being built: `->` and `*` give T's builder (set_x,
// alloc_x, mutable_x, ...). Move-only; dropping it unpublished returns its
// bytes to the publisher. Must not outlive its Publisher.
template <typename T>
class Loan {
 public:
  using Builder = typename T::Builder;

  Loan(Loan&&) noexcept = default;
  Loan& operator=(Loan&&) noexcept = default;

  // For Publisher only (the key is private to it).
  class Key {
    template <typename>
    friend class Publisher;
    Key() = default;
  };
  // REQUIRES: idl::CanRoot<T>(raw.data()).
  Loan(Key, RawLoan&& raw)
      : raw_(std::move(raw)), builder_(idl::RootBuilder<T>(raw_.data())) {}
  // Every inline publish's loan, built where it will stay (no move: a move
  // right after the loan's stores costs a store-forwarding stall).
  // REQUIRES: p.CanLoanInline(bytes), bytes >= T::kHeadSize (the buffer is
  // 8-aligned and as small as a ring slot, so idl::CanRoot<T> holds).
  Loan(Key, RawPublisher& p, std::size_t bytes)
      : raw_(p.LoanInline(bytes)), builder_(idl::RootBuilder<T>(raw_.data())) {}

  Builder* operator->() { return &builder_; }
  Builder& operator*() { return builder_; }
  // Bytes used so far and the capacity of the loan.
  std::size_t size() const { return builder_.UsedSize(); }
  std::size_t capacity() const { return raw_.data().size(); }
  // True if the message is built in a pool chunk (published by reference).
  bool pooled() const { return raw_.pooled(); }

 private:
  template <typename>
  friend class Publisher;

  RawLoan raw_;
  Builder builder_;
};

template <typename T>
class Publisher {
 public:
  Publisher(Publisher&&) noexcept = default;
  Publisher& operator=(Publisher&&) noexcept = default;

  // A loan big enough for any message of a fixed-size type, else for the
  // topic's inline capacity (a message that outgrows it fails in its
  // builder: loan the size you need with Loan(bytes)).
  absl::StatusOr<ringcast::Loan<T>> Loan() {
    const std::size_t n =
        fixed_size_ ? T::kHeadSize : std::max<std::size_t>(T::kHeadSize, raw_.inline_capacity());
    return Loan(n);
  }
  // A loan of `bytes` bytes: built inline up to the inline capacity, else
  // in a pool chunk, in place. InvalidArgument beyond max_message_size.
  absl::StatusOr<ringcast::Loan<T>> Loan(std::size_t bytes) {
    bytes = std::max<std::size_t>(bytes, T::kHeadSize);
    if (raw_.CanLoanInline(bytes)) {
      return absl::StatusOr<ringcast::Loan<T>>(absl::in_place, typename ringcast::Loan<T>::Key(),
                                               raw_, bytes);
    }
    RawLoan raw;
    RINGCAST_RETURN_IF_ERROR(raw_.Loan(bytes, &raw));
    if (!idl::CanRoot<T>(raw.data())) return T::Builder::Create(raw.data()).status();  // why
    return absl::StatusOr<ringcast::Loan<T>>(absl::in_place, typename ringcast::Loan<T>::Key(),
                                             std::move(raw));
  }

  // Publishes what `loan` built.
  absl::Status Publish(ringcast::Loan<T>&& loan) {
    const std::size_t used = loan.builder_.UsedSize();
    return raw_.Publish(std::move(loan.raw_), used);
  }
  // Builds `message` into a loan of exactly its flat size and publishes it.
  absl::Status Publish(const typename T::Proto& message) {
    RINGCAST_ASSIGN_OR_RETURN(ringcast::Loan<T> loan, Loan(T::Builder::FlatSize(message)));
    RINGCAST_RETURN_IF_ERROR(loan->FromProto(message));
    return Publish(std::move(loan));
  }

  const std::string& topic() const { return raw_.topic(); }
  const Qos& qos() const { return raw_.qos(); }
  std::uint64_t id() const { return raw_.id(); }
  // What this publisher's chunk pool commits now (see RawPublisher).
  transport::PoolUse pool_use() const { return raw_.pool_use(); }
  RawPublisher& raw() { return raw_; }
  void Close() { raw_.Close(); }

 private:
  friend class Node;
  explicit Publisher(RawPublisher raw)
      : raw_(std::move(raw)), fixed_size_(TypeSupport::Of<T>().fixed_size) {}

  RawPublisher raw_;
  bool fixed_size_ = false;
};

}  // namespace ringcast

#endif  // RINGCAST_CORE_RINGCAST_PUBLISHER_H_
