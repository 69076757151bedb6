#!/usr/bin/env bash
# Build: TS (tsup), then the generated C headers, then the C targets (cmake) when present.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsup >/dev/null
if [[ -f dist/generate.js ]]; then node dist/generate.js include; fi
if [[ -f c/CMakeLists.txt ]]; then
  cmake -S c -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j2 >/dev/null
fi
