#!/usr/bin/env bash
# Build the Xen addon (native/build/Release/rumpxen_xen.node) and its C library
# (librxctl.so) with cmake-js against Debian's libxen-dev.  Needs: cmake, g++,
# pkg-config, libxen-dev (apt-get install -y cmake g++ pkg-config libxen-dev).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! pkg-config --exists xencontrol xenstore xenevtchn xengnttab xenforeignmemory xenlight xentoollog; then
  echo "native/build.sh: the Xen development files are missing (pkg-config cannot find xencontrol/xenlight...);" >&2
  echo "  install them with: apt-get install -y libxen-dev" >&2
  exit 1
fi
echo "native: building the Xen addon with cmake-js" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# cmake-js would download Node headers without binary.napi_versions in package.json; it is set there.
if ! (cd "$here/.." && npx --no-install cmake-js build --directory native --out native/build \
      --config Release --parallel 2) >"$log" 2>&1; then
  cat "$log" >&2
  echo "native/build.sh: cmake-js build failed (full log above)" >&2
  exit 1
fi
for f in rumpxen_xen.node librxctl.so; do
  if [[ ! -f "$here/build/Release/$f" ]]; then
    cat "$log" >&2
    echo "native/build.sh: expected $here/build/Release/$f after the build" >&2
    exit 1
  fi
done
echo "native: built $here/build/Release/rumpxen_xen.node" >&2
