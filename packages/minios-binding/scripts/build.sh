#!/usr/bin/env bash
# Build: TS (tsup), then the guest kernel (c/) and the native addon (native/) when present.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsup >/dev/null
if [[ -x c/build.sh ]]; then c/build.sh; fi
if [[ -x native/build.sh ]]; then native/build.sh; fi
