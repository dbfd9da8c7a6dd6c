#include "ringcast/raw.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node_state.h"
#include "transport/liveness.h"
#include "transport/status_macros.h"

namespace ringcast {

RawPublisher::RawPublisher(std::shared_ptr<internal::NodeState> node,
                           discovery::EntryHandle entry, std::unique_ptr<transport::Writer> writer,
                           std::string topic, const TypeSupport& type, const Qos& qos)
    : node_(std::move(node)), entry_(entry), writer_(std::move(writer)), topic_(std::move(topic)),
      type_name_(type.type_name), type_hash_(type.type_hash), qos_(qos),
      scratch_(std::make_unique<Scratch>()) {
  // Words, so that builders get 8-aligned bytes.
  scratch_->words.resize((*qos_.inline_capacity + 7) / 8);
}

RawPublisher::RawPublisher(RawPublisher&& other) noexcept { *this = std::move(other); }

RawPublisher& RawPublisher::operator=(RawPublisher&& other) noexcept {
  if (this != &other) {
    Close();
    node_ = std::move(other.node_);
    entry_ = other.entry_;
    writer_ = std::move(other.writer_);
    topic_ = std::move(other.topic_);
    type_name_ = std::move(other.type_name_);
    type_hash_ = other.type_hash_;
    qos_ = other.qos_;
    scratch_ = std::move(other.scratch_);
  }
  return *this;
}

RawPublisher::~RawPublisher() { Close(); }

void RawPublisher::Close() {
  if (node_ == nullptr) return;
  writer_.reset();  // the ring first: the entry stays while it exists
  node_->registry.RemoveEndpoint(entry_);
  node_.reset();
}

absl::Status RawPublisher::Closed() const {
  return absl::FailedPreconditionError(absl::StrCat("publisher on ", topic_, " is closed"));
}

absl::StatusOr<RawLoan> RawPublisher::Loan(std::size_t bytes) {
  RawLoan loan;
  RINGCAST_RETURN_IF_ERROR(Loan(bytes, &loan));
  return loan;
}

absl::Status RawPublisher::LoanSlow(std::size_t bytes, RawLoan* loan) {
  loan->Reset();
  if (writer_ == nullptr) return Closed();
  if (bytes <= *qos_.inline_capacity) {
    // Loan() takes our buffer when it is free (LoanInline): this is a
    // second inline loan at once, rare; it gets a buffer of its own.
    loan->own_ = std::make_unique<std::uint64_t[]>((bytes + 7) / 8);
    loan->bytes_ = {reinterpret_cast<std::byte*>(loan->own_.get()), bytes};
    return absl::OkStatus();
  }
  if (*qos_.max_message_size == 0 || bytes > *qos_.max_message_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", bytes, "-byte message of ", type_name_, " does not fit topic ", topic_,
        ": inline capacity ", *qos_.inline_capacity, " bytes, max_message_size ",
        *qos_.max_message_size,
        " bytes; raise max_message_size in the topic's declaration, the configuration or "
        "the Qos (the topic's first endpoint fixes it)"));
  }
  RINGCAST_ASSIGN_OR_RETURN(loan->chunk_, writer_->Loan(bytes));
  loan->bytes_ = loan->chunk_.data();
  return absl::OkStatus();
}

absl::Status RawPublisher::PublishSlow(RawLoan&& loan, std::size_t used) {
  if (writer_ == nullptr) return Closed();
  if (used > loan.bytes_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("publish of ", used, " bytes from a loan of ",
                                                   loan.bytes_.size(), " on ", topic_));
  }
  if (loan.chunk_.held()) {
    RINGCAST_RETURN_IF_ERROR(loan.chunk_.Shrink(used));
    transport::ChunkLoan chunk = std::move(loan.chunk_);
    loan.Reset();
    return writer_->Publish(std::move(chunk));
  }
  const absl::Status s = writer_->Publish(loan.bytes_.first(used));
  loan.Reset();
  return s;
}

absl::Status RawPublisher::Publish(absl::Span<const std::byte> bytes) {
  if (writer_ == nullptr) return Closed();
  return writer_->Publish(bytes);
}

RawSubscriber::RawSubscriber(std::shared_ptr<internal::NodeState> node,
                             discovery::EntryHandle entry,
                             std::unique_ptr<transport::Reader> reader, std::string topic,
                             const TypeSupport& type, const Qos& qos)
    : node_(std::move(node)), entry_(entry), reader_(std::move(reader)), topic_(std::move(topic)),
      type_name_(type.type_name), qos_(qos) {}

RawSubscriber::RawSubscriber(RawSubscriber&& other) noexcept { *this = std::move(other); }

RawSubscriber& RawSubscriber::operator=(RawSubscriber&& other) noexcept {
  if (this != &other) {
    Close();
    node_ = std::move(other.node_);
    entry_ = other.entry_;
    reader_ = std::move(other.reader_);
    topic_ = std::move(other.topic_);
    type_name_ = std::move(other.type_name_);
    qos_ = other.qos_;
  }
  return *this;
}

RawSubscriber::~RawSubscriber() { Close(); }

void RawSubscriber::Close() {
  if (node_ == nullptr) return;
  reader_.reset();
  node_->registry.RemoveEndpoint(entry_);
  node_.reset();
}

absl::Status RawSubscriber::Closed() const {
  return absl::FailedPreconditionError(absl::StrCat("subscriber on ", topic_, " is closed"));
}

absl::Status RawSubscriber::Wait(absl::Duration timeout) {
  if (reader_ == nullptr) return Closed();
  return reader_->Wait(timeout);
}

bool RawSubscriber::HasData() { return reader_ != nullptr && reader_->HasData(); }

absl::Status RawSubscriber::Invalid(const transport::SampleInfo& info, const absl::Status& why) {
  if (reader_ != nullptr) reader_->CountAnomaly("a sample failed validation against its type");
  return absl::DataLossError(absl::StrCat(
      "sample ", info.sequence, " from publisher ", info.publisher_id, " on ", topic_,
      " is not a valid ", type_name_, " (", why.message(),
      "); skipped and counted, the next sample follows"));
}

absl::Status RawSubscriber::WaitForPublisher(absl::Duration timeout) {
  if (node_ == nullptr) return Closed();
  discovery::Registry& r = node_->registry;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    // Read the generation first: a publisher registered after the scan
    // below bumps it, and the wait returns at once.
    const std::uint32_t seen = r.generation();
    transport::LivenessCache live(r.options(), /*look_only=*/true);
    for (const discovery::EndpointRecord& e : r.Read(/*with_types=*/false).endpoints) {
      if (e.kind == discovery::EndpointKind::kPublisher && e.topic == topic_ &&
          live.IsAlive(e.owner.token)) {
        return absl::OkStatus();
      }
    }
    const absl::Duration left = deadline - absl::Now();
    absl::Status s = r.WaitForChange(seen, std::max(left, absl::ZeroDuration()));
    if (absl::IsDeadlineExceeded(s)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no publisher on ", topic_, " registered within ", absl::FormatDuration(timeout)));
    }
    if (!s.ok()) return s;
  }
}

}  // namespace ringcast
