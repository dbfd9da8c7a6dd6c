// record/recorder.cc: subscribers found through the registry, samples to
// MCAP through WireConverter.
#include "record/recorder.h"

#include <fnmatch.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "discovery/graph.h"
#include "discovery/registry.h"
#include "record/convert.h"
#include "ringcast/node.h"
#include "ringcast/raw.h"
#include "transport/futex.h"
#include "transport/reader.h"

namespace ringcast::record {
namespace {

// Samples taken from one topic before the next topic gets its turn (and
// before a topic's thread looks at `stopping` again).
constexpr int kTakeBurst = 64;
// How long a topic's thread sleeps on its doorbell before looking again.
constexpr absl::Duration kThreadWait = absl::Milliseconds(100);

std::uint64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// The channel metadata playback needs to make the same publisher again.
std::map<std::string, std::string> ChannelMetadata(std::uint64_t type_hash,
                                                   const std::optional<discovery::QosSummary>& qos) {
  std::map<std::string, std::string> m;
  m["ringcast.type_hash"] = absl::StrFormat("%016x", type_hash);
  if (qos) {
    m["ringcast.depth"] = absl::StrCat(qos->depth);
    m["ringcast.reliability"] = qos->reliable ? "reliable" : "best_effort";
    m["ringcast.durability"] = qos->transient_local ? "transient_local" : "volatile";
    m["ringcast.max_message_size"] = absl::StrCat(qos->max_message_size);
  }
  return m;
}

}  // namespace

bool TopicMatches(const std::vector<std::string>& patterns, const std::string& topic) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    if (p == topic || fnmatch(p.c_str(), topic.c_str(), 0) == 0) return true;
  }
  return false;
}

std::string SplitPath(const std::string& path, int index) {
  std::string stem = path;
  if (absl::EndsWith(stem, ".mcap")) stem.resize(stem.size() - 5);
  return absl::StrCat(stem, "_", index, ".mcap");
}

struct Recorder::Impl {
  // One recorded topic. With threads, the topic's own thread takes and
  // converts its samples (it alone uses the subscriber, the converter and
  // the sample) and queues them; the sink thread writes them to the file
  // under Impl::mu, which guards the rest. Without, Poll's thread does all.
  struct Topic {
    std::string name;
    std::size_t stats = 0;  // index in stats.topics
    std::uint64_t type_hash = 0;
    std::optional<discovery::QosSummary> qos;
    std::unique_ptr<WireConverter> converter;
    std::optional<RawSubscriber> subscriber;
    transport::Sample sample;
    std::string wire;  // reused for every sample, without threads
    std::vector<std::string> spares;  // buffers the sink gave back; under q_mu
    std::thread thread;
    std::uint16_t channel = 0;  // in the current file; 0: not added yet
    std::uint64_t lost_in_file = 0;
    std::uint64_t bytes_in_file = 0;
  };
  // One sample taken and converted, on its way to the file.
  struct Taken {
    std::uint64_t log_time = 0;
    transport::SampleInfo info;
    bool valid = false;
    std::string wire;
  };
  struct Queued {
    Topic* topic;
    Taken taken;
  };
  // Converted bytes queued for the sink before topics' threads wait: a
  // burst of camera frames fits, a disk that cannot keep up makes rings lap.
  static constexpr std::uint64_t kMaxQueuedBytes = 512ull << 20;
  static constexpr std::size_t kSparesPerTopic = 4;
  // What a message record adds to its data: opcode, length, channel,
  // sequence, log and publish time.
  static constexpr std::uint64_t kMessageOverhead = 1 + 8 + 2 + 4 + 8 + 8;

  RecordOptions options;
  std::optional<Node> node;
  std::optional<discovery::Registry> registry;  // observed, for Discover
  std::optional<std::uint32_t> seen_generation;
  // Inserted into by Discover only, under mu; a Topic never moves.
  std::map<std::string, Topic> topics;
  std::atomic<bool> stopping{false};
  bool closed = false;

  // The queue from the topics' threads to the sink thread.
  std::mutex q_mu;
  std::condition_variable q_ready, q_space;
  std::deque<Queued> queue;
  std::uint64_t queued_bytes = 0;
  bool sink_stop = false;
  std::thread sink;

  mutable std::mutex mu;  // guards what follows
  RecordStats stats;
  absl::Status error;  // the first error of a topic's thread
  std::unique_ptr<McapWriter> writer;
  std::map<std::pair<std::string, std::uint64_t>, std::uint16_t> schemas;  // in the current file
  std::uint64_t closed_file_bytes = 0;
  // Bytes of message records given to the current file's writer: what
  // splitting goes by, since the writer's own count lags its queue.
  std::uint64_t file_records = 0;

  RecordedTopic& StatsOf(const Topic& t) { return stats.topics[t.stats]; }

  absl::Status OpenFile() {
    const std::string path = options.split_size == 0
                                 ? options.path
                                 : SplitPath(options.path, static_cast<int>(stats.files.size()));
    WriterOptions wo;
    wo.library = "ringcast record";
    wo.compression = options.compression;
    wo.chunk_size = options.chunk_size;
    absl::StatusOr<std::unique_ptr<McapWriter>> w = McapWriter::Create(path, wo);
    if (!w.ok()) return w.status();
    writer = *std::move(w);
    stats.files.push_back(path);
    schemas.clear();
    file_records = 0;
    for (auto& [name, t] : topics) {
      t.channel = 0;
      t.lost_in_file = 0;
      t.bytes_in_file = 0;
    }
    return absl::OkStatus();
  }

  // Writes the file's loss per topic, then its summary.
  absl::Status CloseFile() {
    if (writer == nullptr) return absl::OkStatus();
    // Per topic: samples lost and message bytes written, for `bag info`.
    std::map<std::string, std::string> lost, bytes;
    for (const auto& [name, t] : topics) {
      if (!t.subscriber) continue;
      lost[name] = absl::StrCat(t.lost_in_file);
      bytes[name] = absl::StrCat(t.bytes_in_file);
    }
    absl::Status s = writer->WriteMetadata("ringcast.lost", lost);
    if (s.ok()) s = writer->WriteMetadata("ringcast.bytes", bytes);
    std::map<std::string, std::string> about;
    about["node"] = options.node_name;
    about["domain"] = absl::StrCat(node->context().domain());
    about["started"] = absl::FormatTime(stats.started, absl::UTCTimeZone());
    if (s.ok()) s = writer->WriteMetadata("ringcast.recording", about);
    absl::Status closed_status = writer->Close();
    closed_file_bytes += writer->bytes_written();
    writer.reset();
    stats.file_bytes = closed_file_bytes;
    return s.ok() ? closed_status : s;
  }

  absl::StatusOr<std::uint16_t> ChannelOf(Topic& t, const std::string& name) {
    if (t.channel != 0) return t.channel;
    const auto key = std::make_pair(t.converter->type_name(), t.type_hash);
    auto it = schemas.find(key);
    if (it == schemas.end()) {
      absl::StatusOr<std::uint16_t> id =
          writer->AddSchema(key.first, "protobuf", t.converter->descriptor_set());
      if (!id.ok()) return id.status();
      it = schemas.emplace(key, *id).first;
    }
    absl::StatusOr<std::uint16_t> channel =
        writer->AddChannel(it->second, name, "protobuf", ChannelMetadata(t.type_hash, t.qos));
    if (!channel.ok()) return channel.status();
    t.channel = *channel;
    return t.channel;
  }

  // Writes one converted sample of `t` (or, if it did not convert, counts
  // it invalid). Called under mu, by the sink thread (or, without
  // threads, by Poll's).
  absl::Status Write(const std::string& name, Topic& t, const Taken& taken) {
    const transport::SampleInfo& info = taken.info;
    RecordedTopic& st = StatsOf(t);
    st.lost += info.lost_before;
    stats.lost += info.lost_before;
    t.lost_in_file += info.lost_before;
    if (!taken.valid) {
      ++st.invalid;
      return absl::OkStatus();
    }
    absl::StatusOr<std::uint16_t> channel = ChannelOf(t, name);
    if (!channel.ok()) return channel.status();
    Message m;
    m.channel_id = *channel;
    m.sequence = static_cast<std::uint32_t>(info.sequence);  // MCAP's is 32 bits
    m.log_time = taken.log_time;
    m.publish_time = static_cast<std::uint64_t>(std::max<std::int64_t>(0, info.publish_time_ns));
    m.data = taken.wire;
    if (absl::Status s = writer->Write(m); !s.ok()) return s;
    const std::uint64_t size = taken.wire.size();
    ++st.messages;
    st.bytes += size;
    t.bytes_in_file += size;
    ++stats.messages;
    stats.bytes += size;
    file_records += size + kMessageOverhead;
    const std::uint64_t in_file = std::max<std::uint64_t>(writer->bytes_written(), file_records);
    stats.file_bytes = closed_file_bytes + in_file;
    if (options.split_size != 0 && in_file >= options.split_size) {
      if (absl::Status s = CloseFile(); !s.ok()) return s;
      return OpenFile();
    }
    return absl::OkStatus();
  }

  void Fail(const absl::Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = s;
  }

  // Hands `taken` to the sink thread; waits while kMaxQueuedBytes are
  // queued (the topic's ring then laps, and the loss is counted).
  void Enqueue(Topic& t, Taken taken) {
    std::unique_lock<std::mutex> lock(q_mu);
    q_space.wait(lock, [&] { return queued_bytes < kMaxQueuedBytes || sink_stop; });
    queued_bytes += taken.wire.size();
    queue.push_back({&t, std::move(taken)});
    q_ready.notify_one();
  }

  // A buffer to convert the next sample of `t` into: one the sink gave
  // back (keeping its capacity), else a new one.
  std::string SpareOf(Topic& t) {
    std::lock_guard<std::mutex> lock(q_mu);
    if (t.spares.empty()) return std::string();
    std::string w = std::move(t.spares.back());
    t.spares.pop_back();
    return w;
  }

  // The sink thread: writes what the topics' threads queue, in order.
  void Sink() {
    std::deque<Queued> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(q_mu);
        q_ready.wait(lock, [&] { return !queue.empty() || sink_stop; });
        if (queue.empty()) return;  // stopping, and all written
        batch.swap(queue);
      }
      for (Queued& q : batch) {
        absl::Status s;
        {
          std::lock_guard<std::mutex> lock(mu);
          s = Write(q.topic->name, *q.topic, q.taken);
        }
        if (!s.ok()) Fail(s);
        std::lock_guard<std::mutex> lock(q_mu);
        queued_bytes -= q.taken.wire.size();
        if (q.topic->spares.size() < kSparesPerTopic) {
          q.topic->spares.push_back(std::move(q.taken.wire));
        }
        q_space.notify_all();
      }
      batch.clear();
    }
  }

  // Takes up to `max` samples of `t`, converts each, and queues it for the
  // sink thread (with threads) or writes it (without); returns how many.
  // Conversion runs on the topic's own thread, outside every lock.
  absl::StatusOr<int> Drain(Topic& t, int max) {
    int n = 0;
    while (n < max) {
      absl::StatusOr<bool> got = t.subscriber->Take(&t.sample);
      if (!got.ok()) {
        if (absl::IsDataLoss(got.status())) continue;  // counted by the subscriber
        return got.status();
      }
      if (!*got) break;
      Taken taken;
      taken.log_time = RealtimeNs();
      taken.info = t.sample.info();
      taken.wire = options.threads ? SpareOf(t) : std::move(t.wire);
      absl::Status converted = t.converter->ToWire(t.sample.data(), &taken.wire);
      t.sample = transport::Sample();  // the chunk goes back at once
      if (!converted.ok()) (void)t.subscriber->Invalid(taken.info, converted);
      taken.valid = converted.ok();
      ++n;
      if (options.threads) {
        Enqueue(t, std::move(taken));
        continue;
      }
      absl::Status s;
      {
        std::lock_guard<std::mutex> lock(mu);
        s = Write(t.name, t, taken);
      }
      t.wire = std::move(taken.wire);
      if (!s.ok()) return s;
    }
    return n;
  }

  // A topic's thread: records until stopping, then what is left.
  void Loop(Topic& t) {
    for (;;) {
      const bool last = stopping.load(std::memory_order_acquire);  // pairs with Close's store
      absl::StatusOr<int> n = Drain(t, kTakeBurst);
      if (!n.ok()) {
        Fail(n.status());
        return;
      }
      if (last && *n == 0) return;
      if (*n == 0) (void)t.subscriber->Wait(kThreadWait);
    }
  }

  // Takes and records every sample there is, topic after topic (without
  // threads); returns how many.
  absl::StatusOr<std::uint64_t> DrainAll() {
    std::uint64_t total = 0;
    for (bool more = true; more;) {
      more = false;
      for (auto& [name, t] : topics) {
        if (!t.subscriber) continue;
        absl::StatusOr<int> n = Drain(t, kTakeBurst);
        if (!n.ok()) return n.status();
        total += static_cast<std::uint64_t>(*n);
        more = more || *n == kTakeBurst;
      }
    }
    return total;
  }

  // Subscribes to topic `g` with its registered type. Under mu.
  void Subscribe(const discovery::GraphTopic& g, const discovery::Graph& graph) {
    auto [it, inserted] = topics.try_emplace(g.topic);
    Topic& t = it->second;
    if (inserted) {
      t.name = g.topic;
      t.stats = stats.topics.size();
      stats.topics.push_back({});
      stats.topics.back().topic = g.topic;
    }
    if (t.subscriber) return;
    // A topic found wanting is looked at again only when its type changes.
    if (!inserted && t.type_hash == g.type_hash && !StatsOf(t).problem.empty()) return;
    RecordedTopic& st = StatsOf(t);
    st.type_name = g.type_name;
    t.type_hash = g.type_hash;
    const discovery::GraphType* type = nullptr;
    for (const discovery::GraphType& gt : graph.types) {
      if (gt.name == g.type_name && gt.hash == g.type_hash) type = &gt;
    }
    if (type == nullptr || type->descriptor.empty()) {
      st.problem = "its type has no stored descriptor";
      return;
    }
    absl::StatusOr<std::unique_ptr<WireConverter>> c =
        WireConverter::Create(type->descriptor, g.type_name);
    if (!c.ok()) {
      st.problem = std::string(c.status().message());
      return;
    }
    if ((*c)->type_hash() != g.type_hash) {
      st.problem = absl::StrFormat("its stored descriptor gives layout hash %016x, not %016x",
                                   (*c)->type_hash(), g.type_hash);
      return;
    }
    for (const discovery::GraphEndpoint& e : g.endpoints) {
      if (e.publisher()) t.qos = e.qos;  // the newest publisher's (sorted by id)
    }
    t.converter = *std::move(c);
    Qos qos;
    qos.reliability = ReliabilityPolicy::kBestEffort;
    absl::StatusOr<RawSubscriber> sub =
        node->CreateRawSubscriber(g.topic, t.converter->support(), qos);
    if (!sub.ok()) {
      st.problem = std::string(sub.status().message());
      t.converter.reset();
      return;
    }
    t.subscriber.emplace(*std::move(sub));
    st.problem.clear();
    if (options.threads) t.thread = std::thread([this, &t] { Loop(t); });
  }
};

Recorder::Recorder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Recorder::~Recorder() { (void)Close(); }

absl::StatusOr<std::unique_ptr<Recorder>> Recorder::Create(const Context& context,
                                                           const RecordOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("record: the output path is empty");
  for (const std::string& p : options.topics) {
    if (p.empty() || p[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "topic pattern '", p, "' does not start with '/': topics are absolute (/imu, /camera/*)"));
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->stats.started = absl::Now();
  absl::StatusOr<Node> node = Node::Create(context, options.node_name);
  if (!node.ok()) return node.status();
  impl->node.emplace(*std::move(node));
  absl::StatusOr<discovery::Registry> registry = discovery::Registry::Observe(context.shm());
  if (!registry.ok()) return registry.status();
  impl->registry.emplace(*std::move(registry));
  if (absl::Status s = impl->OpenFile(); !s.ok()) return s;
  if (options.threads) {
    Impl* m = impl.get();
    impl->sink = std::thread([m] { m->Sink(); });
  }
  std::unique_ptr<Recorder> r(new Recorder(std::move(impl)));
  if (absl::Status s = r->Discover(); !s.ok()) return s;
  return r;
}

absl::Status Recorder::Discover() {
  Impl& m = *impl_;
  if (m.closed) return absl::FailedPreconditionError("the recorder is closed");
  const std::uint32_t generation = m.registry->generation();
  if (m.seen_generation == generation) return absl::OkStatus();
  discovery::GraphOptions go;
  go.with_snapshots = false;
  absl::StatusOr<discovery::Graph> graph = discovery::ReadGraph(*m.registry, go);
  if (!graph.ok()) return graph.status();
  m.seen_generation = generation;
  std::lock_guard<std::mutex> lock(m.mu);
  for (const discovery::GraphTopic& g : graph->topics) {
    if (g.publishers == 0 || !TopicMatches(m.options.topics, g.topic)) continue;
    m.Subscribe(g, *graph);
  }
  std::sort(m.stats.topics.begin(), m.stats.topics.end(),
            [](const RecordedTopic& a, const RecordedTopic& b) { return a.topic < b.topic; });
  for (std::size_t i = 0; i < m.stats.topics.size(); ++i) m.topics[m.stats.topics[i].topic].stats = i;
  return absl::OkStatus();
}

absl::Status Recorder::Poll(absl::Duration timeout) {
  Impl& m = *impl_;
  if (m.closed) return absl::FailedPreconditionError("the recorder is closed");
  if (m.options.threads) {
    absl::SleepFor(timeout);
    std::lock_guard<std::mutex> lock(m.mu);
    return m.error;
  }
  absl::StatusOr<std::uint64_t> got = m.DrainAll();
  if (!got.ok() || *got > 0) return got.status();
  // Sleep on every doorbell at once: arm, look again, then sleep
  // (transport::Reader::ArmDoorbell).
  std::vector<transport::FutexWaitItem> items;
  std::vector<transport::Reader*> armed;
  bool ready = false;
  for (auto& [name, t] : m.topics) {
    if (!t.subscriber) continue;
    transport::Reader& r = t.subscriber->reader();
    items.push_back({&r.doorbell(), r.ArmDoorbell()});
    armed.push_back(&r);
    ready = ready || r.HasData();
  }
  absl::Status waited = absl::OkStatus();
  if (!ready) {
    if (items.empty()) {
      absl::SleepFor(timeout);
    } else {
      waited = transport::FutexWaitAny(items, timeout);
    }
  }
  for (transport::Reader* r : armed) r->DisarmDoorbell();
  if (!waited.ok() && !absl::IsDeadlineExceeded(waited)) return waited;
  got = m.DrainAll();
  return got.status();
}

RecordStats Recorder::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

absl::Status Recorder::Close() {
  Impl& m = *impl_;
  if (m.closed) return absl::OkStatus();
  m.closed = true;
  // Release: the threads see it after their current wait, record what is
  // left, and end.
  m.stopping.store(true, std::memory_order_release);
  for (auto& [name, t] : m.topics) {
    if (t.thread.joinable()) t.thread.join();
  }
  if (m.sink.joinable()) {
    {
      std::lock_guard<std::mutex> lock(m.q_mu);
      m.sink_stop = true;
    }
    m.q_ready.notify_all();
    m.q_space.notify_all();
    m.sink.join();
  }
  absl::Status s = m.options.threads ? absl::OkStatus() : m.DrainAll().status();
  std::lock_guard<std::mutex> lock(m.mu);
  if (s.ok()) s = m.error;
  absl::Status closed = m.CloseFile();
  for (auto& [name, t] : m.topics) t.subscriber.reset();
  return s.ok() ? closed : s;
}

}  // namespace ringcast::record
