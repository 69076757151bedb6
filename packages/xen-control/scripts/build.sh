#!/usr/bin/env bash
# Build: TS (tsup), then the native addon and its C library (native/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsup >/dev/null
native/build.sh
