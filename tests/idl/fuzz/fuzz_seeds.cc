// Writes the seed corpus of a fuzz target into a directory (scripts/fuzz.sh
// runs it first): valid flat buffers of the test schema for
// idl_validate_fuzz, descriptor sets for idl_descriptor_fuzz.
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "ringcast_test/all_types.ringcast.h"
#include "tests/idl/idl_test_util.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <corpus dir> <fuzz target>\n", argv[0]);
    return 2;
  }
  if (std::string(argv[2]) == "idl_descriptor_fuzz") {
    const std::string_view set = ringcast_test::flat::AllTypes::DescriptorSet();
    std::ofstream(std::string(argv[1]) + "/all_types.desc", std::ios::binary)
        .write(set.data(), static_cast<std::streamsize>(set.size()));
    return 0;
  }
  std::mt19937_64 rng(2024);
  for (int i = 0; i < 64; ++i) {
    ringcast_test::AllTypes m;
    ringcast::idl::testing::RandomFill(&m, rng, 2, 3);
    ringcast_test::Tree t;
    ringcast::idl::testing::RandomFill(&t, rng, 4, 2);
    for (const auto& bytes : {*ringcast_test::flat::AllTypes::FromProto(m),
                              *ringcast_test::flat::Tree::FromProto(t)}) {
      static int n = 0;
      std::ofstream(std::string(argv[1]) + "/seed-" + std::to_string(n++), std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
  }
  return 0;
}
