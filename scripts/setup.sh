#!/usr/bin/env bash
# Installs the Debian 12 packages ringcast builds with, if any is missing.
# Idempotent and quiet when everything is present; needs root only to install.
set -euo pipefail

packages=(
  g++ clang cmake ninja-build make pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler libprotoc-dev
  libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  libclang-rt-14-dev
  libcli11-dev nlohmann-json3-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
