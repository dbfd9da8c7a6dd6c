// Writes valid flat buffers of the test schema into a directory, the seed
// corpus of validate_fuzz (scripts/fuzz.sh runs it first).
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "ringcast_test/all_types.ringcast.h"
#include "tests/idl/idl_test_util.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
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
