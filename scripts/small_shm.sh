#!/usr/bin/env bash
# small_shm.sh BUILD_DIR: runs the test suite of BUILD_DIR with /dev/shm
# replaced by a 64 MiB tmpfs, the size a default Docker container gets, in
# a private mount namespace (the machine's /dev/shm is untouched). Needs
# root (CAP_SYS_ADMIN); without it, says so and skips.
set -euo pipefail
build=$(realpath "$1")
size=${RINGCAST_SMALL_SHM:-64m}
if ! unshare --mount -- true 2>/dev/null; then
  echo "small_shm: skipped: cannot make a private mount namespace here (needs CAP_SYS_ADMIN)"
  exit 0
fi
exec unshare --mount -- bash -c "
  set -euo pipefail
  mount --make-rprivate /
  mount -t tmpfs -o size=$size,mode=1777 tmpfs /dev/shm
  df -h /dev/shm | tail -1
  cd '$build'
  ctest --output-on-failure -j \$(nproc) --timeout 300
  left=\$(ls /dev/shm)
  [ -z \"\$left\" ] || { echo \"small_shm: left in the $size /dev/shm: \$left\" >&2; exit 1; }"
