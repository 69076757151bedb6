#!/usr/bin/env bash
# Build: TS (tsup), then the generated C headers (include/), then the C targets (cmake: the
# posix librumpuser, the conformance suite and its runners). Every step runs; none is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsup >/dev/null
node dist/generate.js include
cmake -S c -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 >/dev/null
