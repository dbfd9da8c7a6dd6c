// A hostile neighbour: "no byte pattern written into a topic segment, pool or
// registry crashes a ringcast process". While publishers, sleeping
// subscribers and the `ringcast` command run in children, the test process
// maps their segments itself (MAP_SHARED, no lock: it participates in
// nothing) and writes random bytes into one region after another. Errors
// are allowed; a crash, a sanitizer report or a hang is not, and a second
// topic of the domain that nobody scribbles on keeps delivering every
// sample in order.
//
// RINGCAST_CORRUPTION_SEED=<n> replays a run (the seed is printed);
// RINGCAST_CORRUPTION_ROUNDS=<n> sets the rounds per region.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "discovery/orphans.h"
#include "discovery/registry.h"
#include "discovery/registry_layout.h"
#include "gtest/gtest.h"
#include "ringcast/node.h"
#include "tests/support/core_support.h"
#include "tests/support/test_support.h"
#include "transport/liveness.h"
#include "transport/names.h"
#include "transport/pool.h"
#include "transport/pool_chain.h"
#include "transport/pool_layout.h"
#include "transport/reader.h"
#include "transport/topic.h"
#include "transport/topic_layout.h"
#include "transport/warn.h"
#include "transport/writer.h"

#ifndef RINGCAST_CLI_PATH
#error "RINGCAST_CLI_PATH must name the built ringcast binary"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RINGCAST_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RINGCAST_TEST_ASAN 1
#endif
#endif

namespace ringcast::transport {
namespace {

using ::ringcast::testing::BytesType;
using ::ringcast::testing::ContextFor;
using ::ringcast::testing::FilesWithPrefix;
using ::ringcast::testing::KillChild;
using ::ringcast::testing::kShmDir;
using ::ringcast::testing::QosOf;
using ::ringcast::testing::RunInChild;
using ::ringcast::testing::StartChild;
using ::ringcast::testing::UniqueOptions;
using ::ringcast::testing::WaitChild;

#ifdef RINGCAST_TEST_ASAN
constexpr int kDefaultRounds = 24;  // every process runs slower
#else
constexpr int kDefaultRounds = 40;
#endif

// A child that outlives these (the test died, or the child hangs) is killed
// by its alarm; an ordinary run ends long before.
constexpr absl::Duration kChildLife = absl::Seconds(200);
// How long a child may take to exit once asked, and the CLI to answer.
constexpr absl::Duration kExitBound = absl::Seconds(15);
constexpr absl::Duration kCliBound = absl::Seconds(5);

constexpr char kInlineTopic[] = "/scribble/inline";
constexpr char kPooledTopic[] = "/scribble/pooled";
constexpr char kControlTopic[] = "/control";

// What the children and the test share: an anonymous MAP_SHARED page made
// before the forks, so there is no segment of it to scribble on or clean.
struct Board {
  std::atomic<int> ready{0};
  std::atomic<int> stop_scribbled{0};  // publishers and subscribers of the scribbled topics
  std::atomic<int> stop_cli{0};
  std::atomic<int> stop_control{0};    // the control publisher
  std::atomic<std::uint64_t> published[2] = {};
  std::atomic<std::uint64_t> publish_errors[2] = {};
  std::atomic<std::uint64_t> taken[2] = {};
  std::atomic<std::uint64_t> take_errors[2] = {};
  std::atomic<std::uint64_t> lost[2] = {};
  std::atomic<std::uint64_t> warnings{0};
  std::atomic<std::uint64_t> touched{0};  // sums of bytes read, so that the reads happen
  std::atomic<std::uint64_t> control_published{0};
  std::atomic<int> control_done{0};
  std::atomic<std::uint64_t> control_received{0};
  std::atomic<int> cli_runs{0};
  std::atomic<int> cli_failures{0};
  std::atomic<std::int64_t> cli_slowest_ms{0};
  char control_failure[512] = {};
  char cli_failure[4096] = {};
};

Board* NewBoard() {
  void* p = ::mmap(nullptr, sizeof(Board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
  return p == MAP_FAILED ? nullptr : new (p) Board;
}

void CopyOut(absl::string_view text, char* to, std::size_t capacity) {
  const std::size_t n = std::min(text.size(), capacity - 1);
  std::memcpy(to, text.data(), n);
  to[n] = '\0';
}

std::uint64_t EnvNumber(const char* name, std::uint64_t otherwise) {
  const char* v = std::getenv(name);
  std::uint64_t n = 0;
  return v != nullptr && absl::SimpleAtoi(v, &n) ? n : otherwise;
}

TopicConfig InlineConfig() {
  TopicConfig c;
  c.type_name = "test.Scribble";
  c.type_hash = 0x5C81BB1E;
  c.depth = 16;
  c.max_publishers = 2;
  c.max_subscribers = 4;
  c.max_held_samples = 4;
  return c;
}

TopicConfig PooledConfig() {
  TopicConfig c = InlineConfig();
  c.type_name = "test.Blob";
  c.type_hash = 0xB10B;
  c.depth = 8;
  c.max_message_size = 64 << 10;
  return c;
}

// Scribbled topic `k` (0 inline, 1 pooled): its name, its segment's
// configuration and the descriptor its type registers.
const char* ScribbledTopic(int k) { return k == 0 ? kInlineTopic : kPooledTopic; }
TopicConfig ScribbledConfig(int k) { return k == 0 ? InlineConfig() : PooledConfig(); }
const char* ScribbledDescriptor(int k) { return k == 0 ? "inline descriptor" : "pooled descriptor"; }

// A registered node, publisher and subscriber (core's Node, as users make
// them) on scribbled topic `k`.
absl::StatusOr<ringcast::Node> MakeNode(const ShmOptions& o, const char* name) {
  absl::StatusOr<Context> ctx = ContextFor(o);
  if (!ctx.ok()) return ctx.status();
  return ringcast::Node::Create(*ctx, name);
}
absl::StatusOr<RawPublisher> ScribbledPublisher(ringcast::Node& node, int k) {
  const TopicConfig c = ScribbledConfig(k);
  return node.CreateRawPublisher(ScribbledTopic(k), BytesType(c, ScribbledDescriptor(k)),
                                 QosOf(c));
}
absl::StatusOr<RawSubscriber> ScribbledSubscriber(ringcast::Node& node, int k) {
  const TopicConfig c = ScribbledConfig(k);
  return node.CreateRawSubscriber(ScribbledTopic(k), BytesType(c, ScribbledDescriptor(k)),
                                  QosOf(c));
}

TopicConfig ControlConfig() {
  TopicConfig c;
  c.type_name = "test.Control";
  // 4 samples every 2 ms: a ring this deep holds 8 s, longer than any
  // scheduling hiccup of the control subscriber on a busy machine.
  c.depth = 1 << 14;
  c.max_publishers = 1;
  c.max_subscribers = 1;
  return c;
}

// A scribbled run warns about what it refuses; count instead of printing.
void CountWarnings(Board* b) {
  SetWarningSink([b](const std::string&) { b->warnings.fetch_add(1); });
}

// Reads every cache line of `bytes` (and its last byte), so that a pointer
// or size that runs past a mapping faults here, under the test's eyes.
std::uint64_t Touch(absl::Span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 64) sum += static_cast<std::uint8_t>(bytes[i]);
  if (!bytes.empty()) sum += static_cast<std::uint8_t>(bytes.back());
  return sum;
}

// Publishes bursts on scribbled topic `k` (0 inline, 1 pooled) until told
// to stop, ignoring errors: inline sizes, and on the pooled topic copied
// and loaned chunks up to 64 KiB.
int RunScribbledPublisher(const ShmOptions& o, Board* b, int k) {
  CountWarnings(b);
  absl::StatusOr<ringcast::Node> node = MakeNode(o, k == 0 ? "inline_pub" : "pooled_pub");
  if (!node.ok()) return 10;
  absl::StatusOr<RawPublisher> pub = ScribbledPublisher(*node, k);
  if (!pub.ok()) return 11;
  b->ready.fetch_add(1);
  std::mt19937_64 rng(k + 1);
  std::vector<std::byte> bytes(64 << 10, std::byte{0x5A});
  for (std::uint64_t n = 0; b->stop_scribbled.load() == 0;) {
    for (int burst = 0; burst < 4; ++burst, ++n) {
      std::size_t size = n % 49;
      if (k == 1 && n % 3 != 0) size = 1 + rng() % bytes.size();
      absl::Status s;
      if (k == 1 && n % 2 == 1 && size > 48) {
        absl::StatusOr<RawLoan> loan = pub->Loan(size);  // a chunk of the pool
        s = loan.status();
        if (loan.ok()) {
          std::memset(loan->data().data(), static_cast<int>(n), loan->data().size());
          s = pub->Publish(*std::move(loan), size);
        }
      } else {
        std::memcpy(bytes.data(), &n, sizeof n);
        s = pub->Publish(absl::MakeConstSpan(bytes.data(), size));
      }
      (s.ok() ? b->published[k] : b->publish_errors[k]).fetch_add(1);
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return 0;
}

// Sleeps in Reader::Wait on scribbled topic `k` and takes whatever comes,
// both copied and as Samples it holds for a while, ignoring errors.
int RunScribbledSubscriber(const ShmOptions& o, Board* b, int k) {
  CountWarnings(b);
  absl::StatusOr<ringcast::Node> node = MakeNode(o, k == 0 ? "inline_sub" : "pooled_sub");
  if (!node.ok()) return 10;
  absl::StatusOr<RawSubscriber> sub = ScribbledSubscriber(*node, k);
  if (!sub.ok()) return 11;
  b->ready.fetch_add(1);
  Reader& r = sub->reader();
  std::vector<std::byte> bytes;
  SampleInfo info;
  std::deque<Sample> held;  // what a user keeps around for a bit
  std::uint64_t sum = 0;
  while (b->stop_scribbled.load() == 0) {
    (void)r.Wait(absl::Milliseconds(20));
    for (int i = 0; i < 64; ++i) {  // bounded: a scribbled ring may look endless
      absl::StatusOr<bool> got;
      if (i % 2 == 0) {
        got = r.Take(&bytes, &info);
        if (got.ok() && *got) sum += Touch(bytes);
      } else {
        Sample s;
        got = r.Take(&s);
        if (got.ok() && *got) {
          sum += Touch(s.data());
          held.push_back(std::move(s));
          if (held.size() > 2) held.pop_front();
        }
      }
      if (!got.ok()) b->take_errors[k].fetch_add(1);
      if (!got.ok() || !*got) break;
      b->taken[k].fetch_add(1);
    }
  }
  held.clear();
  b->lost[k].store(r.lost());
  b->touched.fetch_add(sum);
  return 0;
}

// Joins the scribbled topics again and again while they are scribbled on:
// a node, a publisher that publishes inline and pooled, a subscriber that
// takes, and a transient-local reader that reads the rings back, each
// opened (header, geometry, pool, registry) through whatever is there now.
int RunJoiner(const ShmOptions& o, Board* b) {
  CountWarnings(b);
  std::vector<std::byte> bytes(48 << 10, std::byte{0x3C});
  SampleInfo info;
  std::uint64_t sum = 0;
  for (int n = 0; b->stop_scribbled.load() == 0; ++n) {
    const int k = n % 2;
    const char* topic = ScribbledTopic(k);
    absl::StatusOr<ringcast::Node> node = MakeNode(o, "joiner");
    if (node.ok()) {
      absl::StatusOr<RawPublisher> pub = ScribbledPublisher(*node, k);
      absl::StatusOr<RawSubscriber> sub = ScribbledSubscriber(*node, k);
      if (pub.ok()) {
        (void)pub->Publish(absl::MakeConstSpan(bytes.data(), 40));
        if (k == 1) (void)pub->Publish(bytes);
      }
      if (sub.ok()) {
        for (int i = 0; i < 8 && sub->reader().Take(&bytes, &info).value_or(false); ++i) {
          sum += Touch(bytes);
        }
        bytes.resize(48 << 10);
      }
    }
    ReaderOptions history;
    history.transient_local = true;
    absl::StatusOr<Reader> r = Reader::Create(o, topic, ScribbledConfig(k), history);
    if (r.ok()) {
      Sample s;
      for (int i = 0; i < 32 && r->Take(&s).value_or(false); ++i) sum += Touch(s.data());
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  b->touched.fetch_add(sum);
  return 0;
}

// The untouched topic's subscriber: every sample, in order, none lost,
// until the control publisher is done and everything it published is in.
int RunControlSubscriber(const ShmOptions& o, Board* b) {
  absl::StatusOr<Reader> r = Reader::Create(o, kControlTopic, ControlConfig());
  if (!r.ok()) return 10;
  b->ready.fetch_add(1);
  auto fail = [&](const std::string& what) {
    CopyOut(what, b->control_failure, sizeof b->control_failure);
    return 20;
  };
  std::vector<std::byte> bytes;
  SampleInfo info;
  std::uint64_t expect = 0, publisher = 0;
  absl::Time drain_deadline = absl::InfiniteFuture();
  for (;;) {
    if (b->control_done.load() != 0) {
      const std::uint64_t published = b->control_published.load();
      if (expect == published) return 0;
      if (drain_deadline == absl::InfiniteFuture()) {
        drain_deadline = absl::Now() + absl::Seconds(10);
      } else if (absl::Now() > drain_deadline) {
        return fail(absl::StrCat("received ", expect, " of ", published, " samples"));
      }
    }
    (void)r->Wait(absl::Milliseconds(20));
    for (;;) {
      absl::StatusOr<bool> got = r->Take(&bytes, &info);
      if (!got.ok()) return fail(absl::StrCat("take failed: ", got.status().ToString()));
      if (!*got) break;
      std::uint64_t words[2] = {};
      if (bytes.size() == sizeof words) std::memcpy(words, bytes.data(), sizeof words);
      if (publisher == 0) publisher = info.publisher_id;
      if (info.sequence != expect || info.lost_before != 0 || words[0] != expect ||
          words[1] != ~expect || info.publisher_id != publisher) {
        return fail(absl::StrCat("expected sample ", expect, " of publisher ", publisher,
                                 ", got sequence ", info.sequence, " of ", info.publisher_id,
                                 " (", bytes.size(), " bytes, first word ", words[0],
                                 ", lost before ", info.lost_before, ")"));
      }
      b->control_received.store(++expect);
    }
  }
}

int RunControlPublisher(const ShmOptions& o, Board* b) {
  absl::StatusOr<Writer> w = Writer::Create(o, kControlTopic, ControlConfig());
  if (!w.ok()) return 10;
  b->ready.fetch_add(1);
  std::uint64_t n = 0;
  while (b->stop_control.load() == 0) {
    for (int i = 0; i < 4; ++i, ++n) {
      const std::uint64_t words[2] = {n, ~n};
      if (!w->Publish({reinterpret_cast<const std::byte*>(words), sizeof words}).ok()) return 11;
    }
    b->control_published.store(n);
    absl::SleepFor(absl::Milliseconds(2));
  }
  b->control_published.store(n);
  b->control_done.store(1);
  return 0;
}

struct CliRun {
  int code = -1;  // exit code, 128 + signal, or -1 if it did not end in time
  absl::Duration took;
  std::string err;  // the tail of its stderr
};

// Runs the CLI with `args`, stdout to /dev/null and stderr kept.
CliRun RunCli(const std::vector<std::string>& args) {
  CliRun run;
  const int err = ::memfd_create("ringcast-cli-stderr", MFD_CLOEXEC);
  if (err < 0) return run;
  const absl::Time start = absl::Now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::unsetenv("RINGCAST_DOMAIN");
    std::vector<char*> argv;
    static char name[] = "ringcast";
    argv.push_back(name);
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(RINGCAST_CLI_PATH, argv.data());
    ::_exit(127);
  }
  run.code = WaitChild(pid, kCliBound);
  run.took = absl::Now() - start;
  const off_t size = ::lseek(err, 0, SEEK_END);
  const off_t from = std::max<off_t>(0, size - 3000);
  run.err.resize(static_cast<std::size_t>(size - from));
  const ssize_t got = ::pread(err, run.err.data(), run.err.size(), from);
  run.err.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  ::close(err);
  return run;
}

// Runs `topic info`, `topic list`, `node list` and `doctor` one after
// another until told to stop. A failure is an exit by signal, a hang, an
// exit code other than 0 or 1, or a sanitizer report on stderr.
int RunCliLoop(const ShmOptions& o, Board* b) {
  const std::vector<std::vector<std::string>> verbs = {
      {"topic", "info", kInlineTopic, "--json"},
      {"topic", "info", kPooledTopic},
      {"topic", "list", "--json"},
      {"doctor", "--json"},
      {"topic", "info", kPooledTopic, "--json"},
      {"node", "list"},
      {"doctor"},
  };
  for (std::size_t i = 0; b->stop_cli.load() == 0; ++i) {
    std::vector<std::string> args = {absl::StrCat("--prefix=", o.prefix)};
    const std::vector<std::string>& verb = verbs[i % verbs.size()];
    args.insert(args.end(), verb.begin(), verb.end());
    const CliRun run = RunCli(args);
    b->cli_runs.fetch_add(1);
    const std::int64_t ms = absl::ToInt64Milliseconds(run.took);
    if (ms > b->cli_slowest_ms.load()) b->cli_slowest_ms.store(ms);
    const bool sanitizer = absl::StrContains(run.err, "Sanitizer") ||
                           absl::StrContains(run.err, "runtime error");
    if ((run.code != 0 && run.code != 1) || sanitizer) {
      if (b->cli_failures.fetch_add(1) == 0) {
        CopyOut(absl::StrCat("`ringcast ", absl::StrJoin(args, " "), "` exited with ",
                             run.code, " after ", absl::FormatDuration(run.took), ":\n",
                             run.err),
                b->cli_failure, sizeof b->cli_failure);
      }
    }
  }
  return 0;
}

// A segment file mapped read-write by the neighbour, without a lock: it
// neither pins the segment nor waits for anyone.
class Mapping {
 public:
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  bool Map(const ShmOptions& o, const std::string& name) {
    const int fd = ::open(absl::StrCat(o.dir, name).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE,
                       MAP_SHARED, fd, 0);
      if (p != MAP_FAILED) {
        base_ = static_cast<std::byte*>(p);
        size_ = static_cast<std::size_t>(st.st_size);
      }
    }
    ::close(fd);
    return base_ != nullptr;
  }
  std::byte* base() const { return base_; }
  std::size_t size() const { return size_; }
  template <typename T>
  const T& at(std::uint64_t offset) const {
    return *reinterpret_cast<const T*>(base_ + offset);
  }

 private:
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
};

// Bytes [offset, offset + size) of a mapping; a region is one or more.
struct Span {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};
struct Region {
  std::string name;
  const Mapping* map = nullptr;
  std::vector<Span> spans;
};

bool IsActive(std::uint64_t state) {
  return internal::StateOf(state) == internal::EntryState::kActive;
}

// The first `count` entries of a table, or as many as cover its entries in
// use and a few free ones after them (where joiners claim), if fewer.
template <typename Entry>
std::vector<Span> Entries(const Mapping& m, std::uint64_t table, std::uint64_t stride,
                          std::uint64_t count, std::uint64_t bytes) {
  std::uint64_t used = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (IsActive(m.at<Entry>(table + stride * i).state.load())) used = i + 1;
  }
  std::vector<Span> spans;
  for (std::uint64_t i = 0; i < std::min(count, used + 4); ++i) {
    spans.push_back({table + stride * i, bytes});
  }
  return spans;
}

// Each span moved by `off` and cut to `size` bytes.
std::vector<Span> Part(std::vector<Span> spans, std::uint64_t off, std::uint64_t size) {
  for (Span& s : spans) s = {s.offset + off, size};
  return spans;
}

// The regions of a topic segment, its config read once from our mapping
// before any scribbling: rings and subscriber entries in use and free.
void AddTopicRegions(const std::string& label, const Mapping& m, std::vector<Region>* out) {
  const auto& h = m.at<internal::TopicHeader>(sizeof(SegmentHeader));
  const std::uint64_t header = sizeof(SegmentHeader);
  const std::uint64_t max_pub = h.max_publishers, max_held = h.max_held_samples;
  const std::vector<Span> rings = Entries<internal::RingControl>(
      m, h.rings_offset, h.ring_stride, max_pub, h.ring_stride);
  const std::vector<Span> subs = Entries<internal::SubscriberControl>(
      m, h.subscribers_offset, h.subscriber_stride, h.max_subscribers, h.subscriber_stride);
  auto add = [&](const std::string& what, std::vector<Span> spans) {
    out->push_back({absl::StrCat(label, " ", what), &m, std::move(spans)});
  };
  const std::uint64_t ring_top =
      sizeof(internal::RingControl) + sizeof(internal::RingHot) + sizeof(internal::RingWait);
  const std::uint64_t cursors = internal::kSubscriberCursorsOffset;
  add("segment header", {{0, sizeof(SegmentHeader)}});
  add("topic config", {{header, offsetof(internal::TopicHeader, ring_generation)}});
  add("generations", {{header + offsetof(internal::TopicHeader, ring_generation), 64}});
  add("sleeping masks", {{header + offsetof(internal::TopicHeader, sleeping), 64}});
  add("ring control", Part(rings, 0, sizeof(internal::RingControl)));
  add("ring hot line (head)", Part(rings, sizeof(internal::RingControl), 64));
  add("ring wait line", Part(rings, sizeof(internal::RingControl) + 64, 64));
  add("slots", Part(rings, ring_top, std::uint64_t{h.depth} * h.slot_size));
  add("subscriber control", Part(subs, 0, 64));
  add("doorbell", Part(subs, 64, 64));
  add("subscriber counters", Part(subs, internal::kSubscriberCountersOffset, 16));
  add("cursors", Part(subs, cursors, 8 * max_pub));
  add("held list", Part(subs, cursors + 8 * max_pub, 16 * max_held));
}

void AddPoolRegions(const Mapping& m, std::vector<Region>* out) {
  const auto& h = m.at<internal::PoolHeader>(sizeof(SegmentHeader));
  const std::uint64_t header = sizeof(SegmentHeader);
  const std::uint64_t free_head = header + offsetof(internal::PoolHeader, free_head);
  out->push_back({"pool segment header", &m, {{0, sizeof(SegmentHeader)}}});
  out->push_back({"pool config", &m, {{header, offsetof(internal::PoolHeader, free_head)}}});
  out->push_back({"pool free_head", &m, {{free_head, 64}}});
  const std::uint64_t controls = sizeof(internal::ChunkControl) * h.chunk_count;
  out->push_back({"chunk controls", &m, {{h.controls_offset, controls}}});
  out->push_back({"chunk payloads", &m, {{h.chunks_offset, h.chunk_stride * h.chunk_count}}});
}

void AddRegistryRegions(const Mapping& m, std::vector<Region>* out) {
  namespace d = discovery::internal;
  const auto& h = m.at<d::RegistryHeader>(sizeof(SegmentHeader));
  const std::uint64_t header = sizeof(SegmentHeader);
  const std::uint64_t generation = header + offsetof(d::RegistryHeader, generation);
  out->push_back({"registry segment header", &m, {{0, sizeof(SegmentHeader)}}});
  out->push_back({"registry config", &m, {{header, offsetof(d::RegistryHeader, generation)}}});
  out->push_back({"registry generation", &m, {{generation, 64}}});
  out->push_back({"node table", &m,
                  Entries<d::NodeEntry>(m, h.nodes_offset, sizeof(d::NodeEntry), h.max_nodes,
                                        sizeof(d::NodeEntry))});
  out->push_back({"endpoint table", &m,
                  Entries<d::EndpointEntry>(m, h.endpoints_offset, sizeof(d::EndpointEntry),
                                            h.max_endpoints, sizeof(d::EndpointEntry))});
  const std::vector<Span> types = Entries<d::TypeEntry>(m, h.types_offset, h.type_stride,
                                                        h.max_types, sizeof(d::TypeEntry));
  out->push_back({"type table", &m, types});
  // The first words of those entries' descriptor slots.
  std::vector<Span> descriptors;
  for (const Span& t : types) {
    const std::uint64_t i = (t.offset - h.types_offset) / h.type_stride;
    descriptors.push_back(
        {h.descriptors_offset + d::DescriptorStride(h.max_descriptor_size) * i, 64});
  }
  out->push_back({"descriptor slots", &m, descriptors});
}

// Values that tend to sit on a boundary: all ones, the top bit, off by one
// from what was there, and so on.
std::uint64_t Interesting(std::mt19937_64& rng, std::uint64_t current) {
  switch (rng() % 12) {
    case 0: return 0;
    case 1: return ~std::uint64_t{0};
    case 2: return 1;
    case 3: return current + 1;
    case 4: return current - 1;
    case 5: return current ^ (std::uint64_t{1} << (rng() % 64));
    case 6: return std::uint64_t{1} << 63;
    case 7: return 0xFFFFFFFFull;
    case 8: return 0xFFFFFFFF00000000ull;
    case 9: return rng() % 4096;
    case 10: return current + (rng() % 64) * 64;
    default: return rng();
  }
}

// One write of a hostile neighbour into `r`: random bytes, a word set to
// an interesting value, or a whole span (or a window of it) filled.
void Scribble(const Region& r, std::mt19937_64& rng) {
  const Span& s = r.spans[rng() % r.spans.size()];
  std::byte* at = r.map->base() + s.offset;
  const unsigned kind = rng() % 8;
  if (kind < 4 || s.size < 8) {
    const std::uint64_t off = rng() % s.size;
    const std::uint64_t len = 1 + rng() % std::min<std::uint64_t>(32, s.size - off);
    for (std::uint64_t i = 0; i < len; ++i) at[off + i] = static_cast<std::byte>(rng());
  } else if (kind < 7) {
    const std::uint64_t off = rng() % (s.size / 8) * 8;
    std::uint64_t v;
    std::memcpy(&v, at + off, 8);
    v = Interesting(rng, v);
    std::memcpy(at + off, &v, 8);
  } else {
    const std::uint64_t len = std::min<std::uint64_t>(s.size, 256);
    const std::uint64_t off = rng() % (s.size - len + 1);
    const unsigned fill = rng() % 3;
    for (std::uint64_t i = 0; i < len; ++i) {
      at[off + i] = fill == 0 ? std::byte{0} : fill == 1 ? std::byte{0xFF}
                                                         : static_cast<std::byte>(rng());
    }
  }
}

// The children of one run. Whatever happens to the test, none outlives it
// and nothing of the prefix stays in /dev/shm.
class Fleet {
 public:
  explicit Fleet(ShmOptions o) : o_(std::move(o)) {}
  ~Fleet() {
    for (Child& c : children_) {
      if (c.code == kRunning) KillChild(c.pid);
    }
    CleanUp();
  }

  void Start(const std::string& name, absl::FunctionRef<int()> body) {
    children_.push_back({name, StartChild(body, kChildLife), kRunning, ""});
  }
  // Notes children that ended (they should not have, yet) and what was
  // being scribbled then.
  void Poll(const std::string& region) {
    for (Child& c : children_) {
      if (c.code != kRunning) continue;
      int status = 0;
      if (::waitpid(c.pid, &status, WNOHANG) == c.pid) {
        c.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        c.ended_during = region;
      }
    }
  }
  // Waits for `name` to exit, at most kExitBound; returns the exit code,
  // 128 + signal, or -1 if it had to be killed.
  int Stop(const std::string& name) {
    for (Child& c : children_) {
      if (c.name != name) continue;
      if (c.code == kRunning) c.code = WaitChild(c.pid, kExitBound);
      return c.code;
    }
    return -2;
  }
  std::string EndedDuring(const std::string& name) const {
    for (const Child& c : children_) {
      if (c.name == name && !c.ended_during.empty()) {
        return absl::StrCat(" (it ended while scribbling ", c.ended_during, ")");
      }
    }
    return "";
  }
  // What a later process would do (reclaim the dead, unlink what nobody
  // uses), then by hand whatever is left: a scribbled segment may
  // legitimately stay, e.g. one whose header no longer checks out cannot
  // be opened to be unlinked. Returns what had to be removed by hand.
  std::vector<std::string> CleanUp() {
    (void)discovery::FindOrphans(o_, /*clean=*/true);
    // After the sweep: reclaiming made this process a participant, with a
    // liveness token of its own.
    ReleaseProcessTokens();
    std::vector<std::string> left = FilesWithPrefix(kShmDir, o_.prefix + ".");
    for (const std::string& f : left) ::unlink(absl::StrCat(kShmDir, "/", f).c_str());
    return left;
  }

 private:
  static constexpr int kRunning = -100;
  struct Child {
    std::string name;
    pid_t pid;
    int code = kRunning;
    std::string ended_during;
  };
  ShmOptions o_;
  std::vector<Child> children_;
};

bool Await(absl::FunctionRef<bool()> done, absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

TEST(CorruptionTest, ScribbledSegmentsCrashNobodyHangNobodyAndSpareOtherTopics) {
  const ShmOptions o = UniqueOptions();
  std::uint64_t seed = EnvNumber("RINGCAST_CORRUPTION_SEED", 0);
  if (seed == 0) seed = std::random_device{}() * 0x9E3779B97F4A7C15ull ^ ::getpid();
  const int rounds = static_cast<int>(EnvNumber("RINGCAST_CORRUPTION_ROUNDS", kDefaultRounds));
  std::printf("[ corrupt  ] seed %llu, %d rounds per region (RINGCAST_CORRUPTION_SEED=%llu "
              "replays it)\n",
              static_cast<unsigned long long>(seed), rounds,
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE(absl::StrCat("RINGCAST_CORRUPTION_SEED=", seed));
  Board* b = NewBoard();
  ASSERT_NE(b, nullptr);

  Fleet fleet(o);
  // The control subscriber first: a volatile subscriber sees only samples
  // published after it joined, and it must see every one.
  fleet.Start("control subscriber", [&] { return RunControlSubscriber(o, b); });
  ASSERT_TRUE(Await([&] { return b->ready.load() == 1; }));
  fleet.Start("control publisher", [&] { return RunControlPublisher(o, b); });
  for (int k = 0; k < 2; ++k) {
    const char* what = k == 0 ? "inline" : "pooled";
    fleet.Start(absl::StrCat(what, " publisher"), [&] { return RunScribbledPublisher(o, b, k); });
    fleet.Start(absl::StrCat(what, " subscriber"), [&] { return RunScribbledSubscriber(o, b, k); });
  }
  ASSERT_TRUE(Await([&] { return b->ready.load() == 6; })) << b->ready.load() << " of 6 ready";
  // Scribble on a system in its steady state: every pool opened, every
  // endpoint registered.
  ASSERT_TRUE(Await([&] { return b->taken[0].load() > 0 && b->taken[1].load() > 0; }));
  fleet.Start("cli", [&] { return RunCliLoop(o, b); });
  fleet.Start("joiner", [&] { return RunJoiner(o, b); });

  Mapping registry, inline_topic, pooled_topic, pool;
  ASSERT_TRUE(registry.Map(o, discovery::RegistrySegmentName(o)));
  ASSERT_TRUE(inline_topic.Map(o, *TopicSegmentName(o, kInlineTopic)));
  ASSERT_TRUE(pooled_topic.Map(o, *TopicSegmentName(o, kPooledTopic)));
  std::vector<Region> regions;
  AddTopicRegions("inline topic", inline_topic, &regions);
  AddTopicRegions("pooled topic", pooled_topic, &regions);
  {
    // The pooled publisher's pool, named by its ring.
    const auto& h = pooled_topic.at<internal::TopicHeader>(sizeof(SegmentHeader));
    std::uint64_t pool_id = 0;
    for (std::uint32_t i = 0; i < h.max_publishers && pool_id == 0; ++i) {
      pool_id = pooled_topic.at<internal::RingControl>(h.rings_offset + h.ring_stride * i)
                    .pool_id.load();
    }
    ASSERT_NE(pool_id, 0u);
    ASSERT_TRUE(pool.Map(o, PoolSegmentName(o, pool_id)));
    AddPoolRegions(pool, &regions);
  }
  AddRegistryRegions(registry, &regions);

  const absl::Time started = absl::Now();
  std::mt19937_64 rng(seed);
  auto save = [](const Region& r) {
    std::vector<std::vector<std::byte>> saved;
    for (const Span& s : r.spans) {
      saved.emplace_back(r.map->base() + s.offset, r.map->base() + s.offset + s.size);
    }
    return saved;
  };
  auto restore = [](const Region& r, const std::vector<std::vector<std::byte>>& saved) {
    for (std::size_t k = 0; k < r.spans.size(); ++k) {
      std::memcpy(r.map->base() + r.spans[k].offset, saved[k].data(), saved[k].size());
    }
  };
  auto round = [&](const Region& r) {
    for (int n = 1 + static_cast<int>(rng() % 4); n > 0; --n) Scribble(r, rng);
    absl::SleepFor(absl::Milliseconds(2 + static_cast<int>(rng() % 10)));
  };
  for (const Region& r : regions) {
    // Each region gets its bytes back after its rounds (stale ones, for
    // live fields: one more pattern), so that later regions are reached
    // through intact headers rather than refused at the door.
    const std::vector<std::vector<std::byte>> saved = save(r);
    for (int i = 0; i < rounds; ++i) round(r);
    restore(r, saved);
    fleet.Poll(r.name);
  }
  {
    // Then everything at once: damage that only hurts in combination (a
    // pool header and a ring naming the pool anew, say).
    std::vector<std::vector<std::vector<std::byte>>> saved;
    for (const Region& r : regions) saved.push_back(save(r));
    for (int i = 0; i < rounds * 4; ++i) round(regions[rng() % regions.size()]);
    for (std::size_t k = 0; k < regions.size(); ++k) restore(regions[k], saved[k]);
    fleet.Poll("all regions at once");
  }
  const absl::Duration scribbling = absl::Now() - started;

  // Everyone is asked to stop, and must within the bound, having never
  // died of a signal (a sanitizer report aborts: a signal too).
  b->stop_cli.store(1);
  EXPECT_EQ(fleet.Stop("cli"), 0) << fleet.EndedDuring("cli");
  EXPECT_EQ(b->cli_failures.load(), 0) << b->cli_failure;
  b->stop_scribbled.store(1);
  for (const char* name : {"inline publisher", "inline subscriber", "pooled publisher",
                           "pooled subscriber", "joiner"}) {
    EXPECT_EQ(fleet.Stop(name), 0) << name << fleet.EndedDuring(name);
  }
  b->stop_control.store(1);
  EXPECT_EQ(fleet.Stop("control publisher"), 0) << fleet.EndedDuring("control publisher");
  EXPECT_EQ(fleet.Stop("control subscriber"), 0)
      << fleet.EndedDuring("control subscriber") << ": " << b->control_failure;
  EXPECT_GT(b->control_received.load(), 0u);

  std::printf("[ corrupt  ] %zu regions scribbled for %s; inline %llu published (%llu "
              "refused), %llu taken (%llu errors, %llu lost); pooled %llu published (%llu "
              "refused), %llu taken (%llu errors, %llu lost); %llu warnings; control %llu in "
              "order; %d CLI runs, slowest %lld ms\n",
              regions.size(), absl::FormatDuration(scribbling).c_str(),
              static_cast<unsigned long long>(b->published[0].load()),
              static_cast<unsigned long long>(b->publish_errors[0].load()),
              static_cast<unsigned long long>(b->taken[0].load()),
              static_cast<unsigned long long>(b->take_errors[0].load()),
              static_cast<unsigned long long>(b->lost[0].load()),
              static_cast<unsigned long long>(b->published[1].load()),
              static_cast<unsigned long long>(b->publish_errors[1].load()),
              static_cast<unsigned long long>(b->taken[1].load()),
              static_cast<unsigned long long>(b->take_errors[1].load()),
              static_cast<unsigned long long>(b->lost[1].load()),
              static_cast<unsigned long long>(b->warnings.load()),
              static_cast<unsigned long long>(b->control_received.load()), b->cli_runs.load(),
              static_cast<long long>(b->cli_slowest_ms.load()));
  const std::vector<std::string> left = fleet.CleanUp();
  if (!left.empty()) {
    std::printf("[ corrupt  ] removed by hand: %s\n", absl::StrJoin(left, ", ").c_str());
  }
  std::fflush(stdout);
  ::munmap(b, sizeof(Board));
}

// A neighbour that knows the layout can do worse than random bytes. Here
// it rewrites an inline-only topic's max_message_size to 2^64 - 1, whose
// chunk stride would wrap to 0: a publisher joining afterwards must refuse
// the topic, not make a pool whose chunks lie past its end and write there.
TEST(CorruptionTest, ACraftedMaxMessageSizeNeverMakesAJoiningPublisherWritePastItsPool) {
  const ShmOptions o = UniqueOptions();
  EXPECT_EQ(RunInChild([&] {
              TopicConfig c;
              c.type_name = "test.Crafted";
              absl::StatusOr<Reader> r = Reader::Create(o, "/crafted", c);
              if (!r.ok()) return 10;
              r->topic().header().max_message_size = ~std::uint64_t{0};
              absl::StatusOr<Writer> w = Writer::Create(o, "/crafted", c);
              if (!w.ok()) return w.status().code() == absl::StatusCode::kDataLoss ? 0 : 11;
              const PoolChain* chain = w->pool();
              if (chain == nullptr) return 0;
              std::vector<std::byte> message(1 << 20);
              (void)w->Publish(message);
              // Every chunk of every segment the loan made must lie inside
              // its segment, or the publish wrote past it.
              for (std::uint32_t k = 0; k < chain->class_count(); ++k) {
                for (std::uint32_t n = 0; n < internal::kMaxClassSegments; ++n) {
                  const ChunkPool* p = chain->segment(k, n);
                  if (p == nullptr) continue;
                  const std::uint64_t end = static_cast<std::uint64_t>(
                      p->chunk(p->chunk_count() - 1) - p->segment().base());
                  if (end > p->segment().size() || p->chunk_size() > p->segment().size() - end) {
                    return 12;
                  }
                }
              }
              return 0;
            }),
            0);
}

// The same through a pool: its header rewritten (chunks of 2^64 - 1 bytes,
// stride 0) before a subscriber first opens it, and the sample's reference
// rewritten to claim 1 GiB. The subscriber must count the sample lost, not
// copy a gigabyte out of a chunk of 64 KiB.
TEST(CorruptionTest, ACraftedPoolHeaderNeverMakesASubscriberCopyPastAChunk) {
  const ShmOptions o = UniqueOptions();
  EXPECT_EQ(RunInChild([&] {
              TopicConfig c;
              c.type_name = "test.Crafted";
              c.depth = 8;
              c.max_message_size = 64 << 10;
              c.max_subscribers = 2;
              c.max_held_samples = 2;
              absl::StatusOr<Reader> r = Reader::Create(o, "/crafted", c);
              absl::StatusOr<Writer> w = Writer::Create(o, "/crafted", c);
              if (!r.ok() || !w.ok()) return 10;
              if (!w->Publish(std::vector<std::byte>(1000, std::byte{7})).ok()) return 11;
              const ChunkPool* seg = w->pool()->segment(w->pool()->ClassFor(1000), 0);
              if (seg == nullptr) return 13;
              auto& h = *reinterpret_cast<internal::PoolHeader*>(seg->segment().base() +
                                                                 sizeof(SegmentHeader));
              h.chunk_size = ~std::uint64_t{0};
              h.chunk_stride = 0;
              // Sample 0's reference: pool id, index and generation, size.
              const std::uint64_t size = std::uint64_t{1} << 30;
              std::memcpy(w->topic().slots(w->ring_index()) + internal::kSlotHeaderSize + 16,
                          &size, sizeof size);
              std::vector<std::byte> bytes;
              SampleInfo info;
              absl::StatusOr<bool> got = r->Take(&bytes, &info);
              if (!got.ok() || *got) return 12;
              return r->lost() == 1 ? 0 : 13;
            }),
            0);
}

// A lapped subscriber skips ahead to where its publisher's head says the
// ring now starts. A head scribbled far ahead for a moment must not send
// it there for good: once the head is right again, it hears the publisher.
TEST(CorruptionTest, AHeadScribbledForAMomentNeverMakesALappedSubscriberDeaf) {
  const ShmOptions o = UniqueOptions();
  TopicConfig c;
  c.type_name = "test.Crafted";
  c.depth = 8;
  absl::StatusOr<Reader> r = Reader::Create(o, "/crafted", c);
  absl::StatusOr<Writer> w = Writer::Create(o, "/crafted", c);
  ASSERT_TRUE(r.ok() && w.ok()) << r.status() << w.status();
  auto publish = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::uint64_t seq = w->next_sequence();
      ASSERT_TRUE(w->Publish({reinterpret_cast<const std::byte*>(&seq), sizeof seq}).ok());
    }
  };
  publish(20);  // laps the subscriber, still at 0
  std::atomic<std::uint64_t>& head = w->topic().ring_hot(w->ring_index()).head;
  const std::uint64_t real = head.load();
  head.store(std::uint64_t{1} << 62);
  std::vector<std::byte> bytes;
  SampleInfo info;
  absl::StatusOr<bool> got = r->Take(&bytes, &info);
  ASSERT_TRUE(got.ok()) << got.status();
  head.store(real);
  publish(1);
  // Whatever it made of the scribbled head, it now reads up to the last
  // sample, the one published after the repair.
  std::uint64_t last = *got ? info.sequence : 0;
  for (int i = 0; i < 100 && last + 1 < w->next_sequence(); ++i) {
    got = r->Take(&bytes, &info);
    ASSERT_TRUE(got.ok()) << got.status();
    if (*got) last = info.sequence;
  }
  EXPECT_EQ(last + 1, w->next_sequence()) << "lost " << r->lost();
}

}  // namespace
}  // namespace ringcast::transport
