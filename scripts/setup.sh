#!/usr/bin/env bash
# Shared set-up for `npm start`, `npm test` and `npm run bench`: installs what is missing and
# says nothing when nothing is. Debian packages first (apt-get), then the npm workspaces.
# The Xen, dom0 kernel and dom0 tools .debs are fetched later by the testbed itself
# (`rumpxen-testbed fetch`) into $RUMPXEN_CACHE, since that step needs the built testbed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Host tools: compilers and binutils for guest images and the posix target, cmake for the C
# builds, libxen-dev for the Xen headers and the native addon, QEMU for the testbed,
# gzip/xz to unpack the Xen and kernel images, pciutils and the libvirt/libxml2 validators for
# the PCI and config tests, pkg-config for the addon's library flags, clang for the libFuzzer
# runs over the ring parsers, git for fetching NetBSD's sources where no tarball is given.
# patch applies tools/netbsd-build/patches/ to copies of NetBSD files in a build folder.
need=(gcc g++ make binutils cmake pkg-config libxen-dev qemu-system-x86 gzip xz-utils pciutils libxml2-utils libvirt-clients
      ca-certificates clang git makefs patch)
missing=()
for p in "${need[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$st" == ii* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root, or install them: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is absent or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm workspaces (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
