#!/usr/bin/env bash
# run.sh PREFIX: builds this consumer against the ringcast installed under
# PREFIX, runs listener and talker in a domain of their own, and fails
# unless the listener received every message. Every wait is bounded.
set -euo pipefail
prefix=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d /tmp/ringcast-consumer-XXXXXX)
trap 'rm -rf "$build"' EXIT

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build"

export RINGCAST_DOMAIN=$(( 100 + $$ % 100 ))
n=200
out="$build/listener.out"
timeout 30 "$build/listener" $n > "$out" &
listener=$!
for _ in $(seq 100); do grep -q ready "$out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$out" || { echo "consumer: the listener never subscribed" >&2; kill $listener; exit 1; }
timeout 30 "$build/talker" $n
wait $listener
cat "$out"
grep -q "received $n of $n" "$out"
echo "consumer: built against $prefix; the listener received all $n greetings"
