#!/usr/bin/env bash
# check_install.sh PREFIX: what a user gets from `cmake --install` or the
# .deb under PREFIX is complete and holds only public headers, then a
# project outside the tree (tests/consumer) builds against it and its
# talker and listener exchange every message.
set -euo pipefail
prefix=$1
here=$(cd "$(dirname "$0")/.." && pwd)

for f in bin/ringcast bin/protoc-gen-ringcast include/ringcast/ringcast.h \
         lib/cmake/ringcast/ringcast-config.cmake lib/cmake/ringcast/ringcast-config-version.cmake \
         lib/cmake/ringcast/RingcastGenerate.cmake share/ringcast/proto/ringcast/options.proto \
         share/ringcast/proto/ringcast/msgs/string.proto include/ringcast/msgs/string.ringcast.h; do
  [ -e "$prefix/$f" ] || { echo "check_install: $prefix/$f is missing" >&2; exit 1; }
done
if find "$prefix/include" -name '*_layout.h' | grep -q . ||
   grep -rlE '#include "[a-z/]*(_layout|_internal)\.h"' "$prefix/include"; then
  echo "check_install: an installed header is or includes a *_layout.h or *_internal.h" >&2
  exit 1
fi
"$prefix/bin/ringcast" --version
"$here/tests/consumer/run.sh" "$prefix"
