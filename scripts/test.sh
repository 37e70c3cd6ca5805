#!/usr/bin/env bash
# Builds everything and runs every test (ctest), then builds the GPU backend
# for AMD GPUs too (scripts/build-hip.sh: compiled and load-checked; no AMD
# GPU runs it). Test material is read from ../shared beside the repository
# (or $GPTQ_SHARED_DIR). Tests of the GPU skip, saying why, without one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
(cd "$root/build" && ctest --output-on-failure -j"$(nproc)" "$@")
"$root/scripts/build-hip.sh"
