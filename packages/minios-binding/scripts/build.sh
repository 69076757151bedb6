#!/usr/bin/env bash
# Build: TS (tsup), then the guest kernel (c/).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsup >/dev/null
bash c/build.sh
