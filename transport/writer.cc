#include "transport/writer.h"

#include <bit>
#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/futex.h"
#include "transport/liveness.h"
#include "transport/process.h"
#include "transport/status_macros.h"
#include "transport/words.h"

namespace ringcast::transport {

absl::StatusOr<Writer> Writer::Create(const ShmOptions& options, absl::string_view topic,
                                      const TopicConfig& config) {
  RINGCAST_ASSIGN_OR_RETURN(const std::uint64_t token, ProcessToken(options));
  RINGCAST_ASSIGN_OR_RETURN(TopicSegment segment, TopicSegment::Join(options, topic, config));
  auto t = std::make_unique<TopicSegment>(std::move(segment));
  t->ReclaimDead();
  absl::StatusOr<TopicSegment::RingClaim> claim = t->ClaimRing(token);
  if (!claim.ok()) {
    t->Leave();
    return claim.status();
  }
  return Writer(std::move(t), *claim);
}

Writer::Writer(std::unique_ptr<TopicSegment> topic, TopicSegment::RingClaim claim)
    : topic_(std::move(topic)), ring_(claim.index), publisher_id_(claim.publisher_id),
      next_seq_(claim.start_seq) {
  const TopicGeometry& g = topic_->geometry();
  mask_ = g.depth - 1;
  slot_size_ = g.slot_size;
  inline_capacity_ = g.inline_capacity;
  sleeping_words_ = (g.max_subscribers + 63) / 64;
  slots_ = topic_->slots(ring_);
  hot_ = &topic_->ring_hot(ring_);
  // Relaxed: we own the ring; the claim's acquire CAS ordered these.
  bytes_ = hot_->bytes.load(std::memory_order_relaxed);
}

Writer::Writer(Writer&& other) noexcept { *this = std::move(other); }

Writer& Writer::operator=(Writer&& other) noexcept {
  if (this != &other) {
    Close();
    topic_ = std::move(other.topic_);
    ring_ = other.ring_;
    publisher_id_ = other.publisher_id_;
    next_seq_ = other.next_seq_;
    bytes_ = other.bytes_;
    mask_ = other.mask_;
    slot_size_ = other.slot_size_;
    inline_capacity_ = other.inline_capacity_;
    sleeping_words_ = other.sleeping_words_;
    slots_ = other.slots_;
    hot_ = other.hot_;
  }
  return *this;
}

Writer::~Writer() { Close(); }

void Writer::Close() {
  if (topic_ == nullptr) return;
  topic_->ReleaseRing(ring_);
  topic_->Leave();
  topic_.reset();
}

absl::Status Writer::Publish(absl::Span<const std::byte> payload) {
  if (payload.size() > inline_capacity_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message of ", payload.size(), " bytes exceeds topic ", topic_->topic(),
        "'s inline capacity of ", inline_capacity_,
        " bytes, and the topic has no chunk pool (max_message_size 0)"));
  }
  const std::uint64_t seq = next_seq_;
  auto* slot = reinterpret_cast<internal::SlotHeader*>(slots_ + (seq & mask_) * slot_size_);
  // Odd stamp = "being written". The release fence orders it before the
  // payload stores: a reader that copied any new word sees the odd (or a
  // later) stamp when it re-checks after its acquire fence.
  slot->word.store(internal::SlotWord(2 * seq + 1, 0), std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  const std::int64_t now = WallNanos();
  slot->publish_ns.store(now, std::memory_order_relaxed);
  internal::StoreWordsRelaxed(payload.data(), payload.size(),
                              reinterpret_cast<std::atomic<std::uint64_t>*>(slot + 1));
  // Release: whoever acquire-loads the even stamp sees size, time and words.
  slot->word.store(internal::SlotWord(2 * seq + 2, static_cast<std::uint32_t>(payload.size())),
                   std::memory_order_release);
  next_seq_ = seq + 1;
  bytes_ += payload.size();
  // Release: whoever acquire-loads head > seq finds slot `seq` complete.
  hot_->head.store(seq + 1, std::memory_order_release);
  // Relaxed: statistics for observers, no ordering needed.
  hot_->bytes.store(bytes_, std::memory_order_relaxed);
  hot_->last_publish_ns.store(now, std::memory_order_relaxed);
  // Seq_cst fence: pairs with a sleeper's fence between setting its sleeping
  // bit and re-checking the ring. Either it sees our sample, or we see its
  // bit; a wake-up is never lost.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  RingSleepers();
  return absl::OkStatus();
}

void Writer::RingSleepers() {
  internal::TopicHeader& h = topic_->header();
  for (std::uint32_t w = 0; w < sleeping_words_; ++w) {
    // Relaxed load: ordered by the seq_cst fence in Publish; the common case
    // (nobody sleeps) reads one cached line and makes no system call.
    if (h.sleeping[w].load(std::memory_order_relaxed) == 0) continue;
    // Acquire: claim every sleeper of this word at once.
    std::uint64_t bits = h.sleeping[w].exchange(0, std::memory_order_acquire);
    while (bits != 0) {
      const std::uint32_t i = w * 64 + static_cast<std::uint32_t>(std::countr_zero(bits));
      bits &= bits - 1;
      internal::Doorbell& bell = topic_->doorbell(i);
      // Release: the sleeper's acquire load of the doorbell sees our sample.
      bell.word.fetch_add(1, std::memory_order_release);
      FutexWake(bell.word);
    }
  }
}

}  // namespace ringcast::transport
