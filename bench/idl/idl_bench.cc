// bench/idl: flat types versus protobuf serialization, same content.
//   Image/*      a 1920x1080x3 camera frame (6.2 MB)
//   Hundred/*    a message of 100 fields (ints, floats, bools, strings,
//                small repeated floats)
//   ReadField/*  reading one field of an Image view over 6.2 MB versus over
//                ~100 bytes: the same cost, since nothing is parsed
// Flat "build + read" = builder writes in place into a reused buffer, then
// View::Create (Validate, once) and reads. Protobuf = set the fields, then
// SerializeToArray + ParseFromArray into a reused message, then read.
#include <cstring>
#include <vector>

#include "benchmark/benchmark.h"
#include "bench/idl/hundred_fill.h"
#include "ringcast/msgs/image.ringcast.h"

namespace ringcast::bench {
namespace {

namespace msgs = ::ringcast::msgs;
constexpr std::uint32_t kW = 1920, kH = 1080;
constexpr std::size_t kPixels = std::size_t{kW} * kH * 3;

const std::vector<std::uint8_t>& Pixels() {
  static const std::vector<std::uint8_t> p = [] {
    std::vector<std::uint8_t> v(kPixels);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i * 31);
    return v;
  }();
  return p;
}

bool BuildImage(absl::Span<std::byte> buffer, absl::Span<const std::uint8_t> pixels,
                std::uint32_t w, std::uint32_t h, std::size_t* used) {
  absl::StatusOr<msgs::flat::ImageBuilder> b = msgs::flat::ImageBuilder::Create(buffer);
  if (!b.ok()) return false;
  msgs::flat::HeaderBuilder header = b->mutable_header();
  header.mutable_stamp().set_sec(1700000000);
  header.set_seq(7);
  if (!header.set_frame_id("camera_optical").ok()) return false;
  b->set_width(w);
  b->set_height(h);
  b->set_step(w * 3);
  if (!b->set_encoding("rgb8").ok()) return false;
  absl::StatusOr<absl::Span<std::uint8_t>> data = b->alloc_data(pixels.size());
  if (!data.ok()) return false;
  std::memcpy(data->data(), pixels.data(), pixels.size());  // the camera's fill
  *used = b->UsedSize();
  return true;
}

void Image_Flat_BuildAndRead(benchmark::State& state) {
  std::vector<std::byte> chunk(kPixels + 4096);  // a loaned pool chunk
  for (auto _ : state) {
    std::size_t used = 0;
    if (!BuildImage(absl::MakeSpan(chunk), Pixels(), kW, kH, &used)) state.SkipWithError("build");
    absl::StatusOr<msgs::flat::ImageView> v =
        msgs::flat::ImageView::Create(absl::MakeConstSpan(chunk.data(), used));
    if (!v.ok()) state.SkipWithError("view");
    benchmark::DoNotOptimize(v->width());
    benchmark::DoNotOptimize(v->data()[kPixels - 1]);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kPixels));
}
BENCHMARK(Image_Flat_BuildAndRead)->Unit(benchmark::kMicrosecond);

void Image_Protobuf_SerializeParse(benchmark::State& state) {
  msgs::Image out;
  msgs::Image in;
  std::vector<char> wire(kPixels + 4096);
  for (auto _ : state) {
    in.mutable_header()->mutable_stamp()->set_sec(1700000000);
    in.mutable_header()->set_seq(7);
    in.mutable_header()->set_frame_id("camera_optical");
    in.set_width(kW);
    in.set_height(kH);
    in.set_step(kW * 3);
    in.set_encoding("rgb8");
    in.set_data(Pixels().data(), Pixels().size());
    const int n = static_cast<int>(in.ByteSizeLong());
    if (!in.SerializeToArray(wire.data(), n)) state.SkipWithError("serialize");
    if (!out.ParseFromArray(wire.data(), n)) state.SkipWithError("parse");
    benchmark::DoNotOptimize(out.width());
    benchmark::DoNotOptimize(out.data()[kPixels - 1]);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kPixels));
}
BENCHMARK(Image_Protobuf_SerializeParse)->Unit(benchmark::kMicrosecond);

void Hundred_Flat_BuildAndRead(benchmark::State& state) {
  alignas(8) static std::byte buffer[8192];
  for (auto _ : state) {
    absl::StatusOr<ringcast_bench::flat::HundredBuilder> b =
        ringcast_bench::flat::HundredBuilder::Create(buffer);
    if (!b.ok() || !FillFlat(*b)) state.SkipWithError("build");
    absl::StatusOr<ringcast_bench::flat::HundredView> v =
        ringcast_bench::flat::HundredView::Create(b->UsedBytes());
    if (!v.ok()) state.SkipWithError("view");
    benchmark::DoNotOptimize(ReadFlat(*v));
  }
}
BENCHMARK(Hundred_Flat_BuildAndRead);

void Hundred_Protobuf_SerializeParse(benchmark::State& state) {
  ringcast_bench::Hundred in, out;
  char wire[8192];
  for (auto _ : state) {
    in.Clear();
    FillProto(&in);
    const int n = static_cast<int>(in.ByteSizeLong());
    if (!in.SerializeToArray(wire, n)) state.SkipWithError("serialize");
    if (!out.ParseFromArray(wire, n)) state.SkipWithError("parse");
    benchmark::DoNotOptimize(ReadProto(out));
  }
}
BENCHMARK(Hundred_Protobuf_SerializeParse);

// One field of an existing view: `bytes` is the buffer size (6.2 MB or
// ~100 bytes); the view was validated once before the loop, as a
// subscriber's Sample is.
void ReadField_FlatView(benchmark::State& state) {
  const std::size_t pixels = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> chunk(pixels + 4096);
  std::size_t used = 0;
  const std::uint32_t w = pixels == kPixels ? kW : 4;
  const std::uint32_t h = pixels == kPixels ? kH : 1;
  if (!BuildImage(absl::MakeSpan(chunk), absl::MakeConstSpan(Pixels()).first(pixels), w, h, &used)) {
    state.SkipWithError("build");
    return;
  }
  absl::StatusOr<msgs::flat::ImageView> v =
      msgs::flat::ImageView::Create(absl::MakeConstSpan(chunk.data(), used));
  for (auto _ : state) {
    benchmark::DoNotOptimize(v->width());
    benchmark::DoNotOptimize(v->header().seq());
    benchmark::DoNotOptimize(v->data().size());
  }
  state.counters["buffer_bytes"] = static_cast<double>(used);
}
BENCHMARK(ReadField_FlatView)->Arg(kPixels)->Arg(12);

// The same, including View::Create (validation) per read: still
// independent of the size (it checks references, not bytes).
void ReadField_FlatCreateView(benchmark::State& state) {
  const std::size_t pixels = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> chunk(pixels + 4096);
  std::size_t used = 0;
  const std::uint32_t w = pixels == kPixels ? kW : 4;
  const std::uint32_t h = pixels == kPixels ? kH : 1;
  if (!BuildImage(absl::MakeSpan(chunk), absl::MakeConstSpan(Pixels()).first(pixels), w, h, &used)) {
    state.SkipWithError("build");
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<msgs::flat::ImageView> v =
        msgs::flat::ImageView::Create(absl::MakeConstSpan(chunk.data(), used));
    benchmark::DoNotOptimize(v->width());
  }
  state.counters["buffer_bytes"] = static_cast<double>(used);
}
BENCHMARK(ReadField_FlatCreateView)->Arg(kPixels)->Arg(12);

// Protobuf needs a parse before any field can be read.
void ReadField_ProtobufParse(benchmark::State& state) {
  const std::size_t pixels = static_cast<std::size_t>(state.range(0));
  msgs::Image in;
  in.set_width(pixels == kPixels ? kW : 4);
  in.mutable_header()->set_frame_id("camera_optical");
  in.set_encoding("rgb8");
  in.set_data(Pixels().data(), pixels);
  const std::string wire = in.SerializeAsString();
  msgs::Image out;
  for (auto _ : state) {
    if (!out.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) state.SkipWithError("parse");
    benchmark::DoNotOptimize(out.width());
  }
  state.counters["buffer_bytes"] = static_cast<double>(wire.size());
}
BENCHMARK(ReadField_ProtobufParse)->Arg(kPixels)->Arg(12);

}  // namespace
}  // namespace ringcast::bench

BENCHMARK_MAIN();
