// libFuzzer target: a registry segment whose bytes after the SegmentHeader
// are arbitrary (a buggy or hostile process wrote them). Opening it must
// fail cleanly or succeed; reading and a dry-run reclaim must stay within
// the mapping. Never a crash, never an out-of-bounds read.
//
// Build: RINGCAST_BUILD_FUZZ=ON with clang; run like the other targets of
// scripts/fuzz.sh (`discovery_registry_fuzz`, no seed generator needed).
#include <fcntl.h>
#include <stdlib.h>
#include <cstdlib>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "discovery/registry.h"
#include "transport/process.h"
#include "transport/segment_layout.h"

namespace {

namespace disc = ringcast::discovery;
namespace rt = ringcast::transport;

const rt::ShmOptions& Options() {
  static const rt::ShmOptions* o = [] {
    auto* opts = new rt::ShmOptions;
    char dir[] = "/tmp/ringcast-fuzz-XXXXXX";  // not /dev/shm: nothing to leak there
    opts->dir = ::mkdtemp(dir) != nullptr ? dir : "/tmp";
    opts->prefix = absl::StrCat("fuzz", ::getpid());
    std::atexit([] { ::rmdir(Options().dir.c_str()); });  // empty by then
    return opts;
  }();
  return *o;
}

}  // namespace

// Input: 4 bytes choosing small table sizes, 1 byte of flags, then the
// bytes of the tables (zero-padded to their size). Flag bit 0: the rest
// overwrites the RegistryHeader too, so its validation is fuzzed as well.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const rt::ShmOptions& o = Options();
  const std::string path = absl::StrCat(o.dir, disc::RegistrySegmentName(o));
  disc::internal::RegistryHeader rh{};
  rh.registry_version = disc::internal::kRegistryLayoutVersion;
  rh.max_nodes = 1 + data[0] % 4;
  rh.max_endpoints = 1 + data[1] % 4;
  rh.max_types = 1 + data[2] % 4;
  rh.max_descriptor_size = data[3];
  rh.nodes_offset = sizeof(rt::SegmentHeader) + sizeof rh;
  rh.endpoints_offset = rh.nodes_offset + sizeof(disc::internal::NodeEntry) * rh.max_nodes;
  rh.types_offset = rh.endpoints_offset + sizeof(disc::internal::EndpointEntry) * rh.max_endpoints;
  rh.type_stride = disc::internal::kTypeStride;
  rh.descriptors_offset =
      disc::internal::RoundUpToPage(rh.types_offset + rh.type_stride * rh.max_types);
  const std::size_t total =
      rh.descriptors_offset +
      disc::internal::DescriptorStride(rh.max_descriptor_size) * rh.max_types;
  const bool raw_header = (data[4] & 1) != 0;
  data += 5;
  size -= 5;

  rt::SegmentHeader h{};
  h.magic.store(rt::kSegmentMagic, std::memory_order_relaxed);
  h.layout_version = rt::kLayoutVersion;
  h.kind = rt::SegmentKind::kRegistry;
  h.total_size = total;
  h.header_size = sizeof rh;
  h.creator_pid = static_cast<std::uint32_t>(::getpid());
  std::vector<std::uint8_t> bytes(total, 0);
  std::memcpy(bytes.data(), &h, sizeof h);
  std::memcpy(bytes.data() + sizeof h, &rh, sizeof rh);
  const std::size_t at = raw_header ? sizeof h : rh.nodes_offset;
  std::memcpy(bytes.data() + at, data, std::min(size, total - at));
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  const bool written = ::write(fd, bytes.data(), bytes.size()) ==
                       static_cast<ssize_t>(bytes.size());
  ::close(fd);
  if (written) {
    absl::StatusOr<disc::Registry> r = disc::Registry::Observe(o);
    if (r.ok()) {
      const disc::RegistrySnapshot snap = r->Read();
      (void)r->ReclaimDead(/*dry_run=*/true);
      (void)snap;
    }
  }
  ::unlink(path.c_str());
  return 0;
}
