#!/usr/bin/env bash
# Builds everything and runs every test (ctest). Test material is read from
# ../shared beside the repository (or $GPTQ_SHARED_DIR).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure -j"$(nproc)" "$@"
