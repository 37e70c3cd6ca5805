#!/usr/bin/env bash
# Builds libgptq with the GPU backend for AMD GPUs (HIP, Debian's hipcc) in
# build-hip/, and checks that it loads and runs on a machine without an AMD
# GPU: the CPU path works, a GPU device fails with the runtime's reason.
# No AMD GPU is available to run the kernels themselves.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
cmake -S "$root" -B "$root/build-hip" -DCMAKE_BUILD_TYPE=Release -DGPTQ_CUDA=OFF -DGPTQ_HIP=ON \
      -DGPTQ_BUILD_TESTS=OFF -DGPTQ_BUILD_BENCH=OFF -DGPTQ_BUILD_BINDINGS=OFF -DGPTQ_BUILD_EXAMPLES=OFF "$@" >/dev/null
cmake --build "$root/build-hip" -j"$(nproc)" --target gptq_cli
model="${GPTQ_SHARED_DIR:-$root/../shared}/models/tinydoc-llama-13m"
cli="$root/build-hip/gptq"
"$cli" inspect "$model" --json | grep -q 'hip=yes' || { echo "build-hip: the library does not report HIP"; exit 1; }
"$cli" generate --model "$model" --prompt "The history of" --max-new-tokens 4 >/dev/null
if "$cli" inspect "$model" --device cuda >/dev/null 2>"$root/build-hip/no-gpu.txt"; then
  echo "build-hip: --device cuda succeeded without an AMD GPU"; exit 1
fi
grep -q "hip" "$root/build-hip/no-gpu.txt" || { echo "build-hip: unclear error: $(cat "$root/build-hip/no-gpu.txt")"; exit 1; }
echo "build-hip: HIP build loads, runs on the CPU and refuses the absent GPU: $(cat "$root/build-hip/no-gpu.txt")"
