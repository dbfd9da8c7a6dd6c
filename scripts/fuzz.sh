#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) in build-fuzz and runs
# each for a bounded time (RINGCAST_FUZZ_SECONDS in total, default 60). Any
# crash, leak, sanitizer report or timeout fails the run; the input that
# caused it is left in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${RINGCAST_FUZZ_SECONDS:-60}
jobs=$(nproc)

# <target> [<seed generator>]: one line per fuzz target; the generator is
# run as `<generator> <corpus dir> <target>`.
targets=(
  "idl_validate_fuzz idl_fuzz_seeds"
  "idl_descriptor_fuzz idl_fuzz_seeds"
  "discovery_registry_fuzz"
  "mcap_reader_fuzz mcap_fuzz_seeds"
)

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DRINGCAST_SANITIZE=address -DRINGCAST_BUILD_FUZZ=ON \
  -DRINGCAST_BUILD_BENCH=OFF >/dev/null
build=()
for t in "${targets[@]}"; do build+=($t); done
cmake --build build-fuzz -j "$jobs" --target "${build[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
per=$(( total / ${#targets[@]} ))
mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  read -r target seeds <<<"$t"
  bin=$(find build-fuzz -type f -name "$target" -perm -u+x | head -1)
  corpus=build-fuzz/corpus/$target
  mkdir -p "$corpus"
  if [ -n "$seeds" ]; then
    "$(find build-fuzz -type f -name "$seeds" -perm -u+x | head -1)" "$corpus" "$target"
  fi
  echo "fuzz: $target for ${per}s ($(ls "$corpus" | wc -l) inputs in the corpus)"
  if ! "$bin" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
       -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/"$target"- \
       "$corpus" >build-fuzz/"$target".log 2>&1; then
    tail -60 build-fuzz/"$target".log >&2
    echo "fuzz: $target FAILED; reproducer in build-fuzz/artifacts/" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/"$target".log || true
done
echo "fuzz: all targets ran clean"
