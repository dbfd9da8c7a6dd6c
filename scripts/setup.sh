#!/usr/bin/env bash
# Installs the Debian 12 packages ringcast builds with, if any is missing,
# then the Node.js packages of the MCAP verifier (tests/record/js), which
# only the tests use. Idempotent and quiet when everything is present (one
# dpkg-query, two stats); needs root only to install Debian packages.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  g++ clang cmake ninja-build make pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler libprotoc-dev
  libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  libclang-rt-14-dev
  libcli11-dev nlohmann-json3-dev
  liblz4-dev libzstd-dev zlib1g-dev
)

# One dpkg-query for all of them (one per package costs most of a second).
declare -A installed=()
while read -r name status; do
  [ "$status" = "install ok installed" ] && installed[$name]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)
missing=()
for p in "${packages[@]}"; do
  [ -n "${installed[$p]:-}" ] || missing+=("$p")
done

# Node.js runs the MCAP verifier of the recorder's tests. Debian's nodejs
# and npm unless both commands exist already; a nodejs from elsewhere may
# bundle npm, which Debian's npm package would conflict with.
command -v node > /dev/null 2>&1 || missing+=(nodejs)
command -v npm > /dev/null 2>&1 || missing+=(npm)

apt_install() {
  echo "setup: installing $*"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these packages are missing and installing them needs root: $*" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@"
}
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# The verifier's packages, exactly as package-lock.json says, whenever
# node_modules is missing or older than the lock file (npm writes
# node_modules/.package-lock.json last).
js="$root/tests/record/js"
if [ -f "$js/package-lock.json" ] &&
   { [ ! -f "$js/node_modules/.package-lock.json" ] ||
     [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; }; then
  echo "setup: npm ci in tests/record/js"
  if ! npm ci --ignore-scripts --no-audit --no-fund --loglevel=error --prefix "$js" > /dev/null; then
    echo "setup: npm ci in $js failed" >&2
    exit 1
  fi
fi
