#!/usr/bin/env bash
# Runs on the GPU machine (the device tool) from the repository root, with
# .device/ carried (scripts/device/stage.sh): the GPU tests, then the
# kernel and end-to-end benchmarks beside PyTorch's baselines. Logs and
# JSON results go to $OUT; a short summary is printed last.
#   scripts/device/gpu_suite.sh [tests] [sanitizer] [kernels] [e2e] [torch] [big] [profile]
set -uo pipefail
root="$(pwd)"
d="$root/.device"
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT" /tmp/gptq/bin /tmp/gptq/lib /tmp/gptq/scratch
for f in "$d"/bin/*.xz; do xz -dc "$f" > "/tmp/gptq/bin/$(basename "${f%.xz}")"; done
for f in "$d"/lib/*.xz; do xz -dc "$f" > "/tmp/gptq/lib/$(basename "${f%.xz}")"; done
chmod +x /tmp/gptq/bin/*
ln -sf libgptq.so.0 /tmp/gptq/lib/libgptq.so
export LD_LIBRARY_PATH="/tmp/gptq/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
shared=/tmp/gptq/shared
if [ ! -d "$shared" ]; then
  cp -r "$d/shared" "$shared"
  for f in "$shared"/models/*/*.xz "$shared"/data/*/*.xz "$shared"/fixtures/*/*/*.xz; do xz -d "$f"; done
fi
export GPTQ_SHARED_DIR="$shared" GPTQ_TEST_BINARY_DIR=/tmp/gptq/scratch
cp /tmp/gptq/bin/gptq /tmp/gptq/scratch/
bin=/tmp/gptq/bin
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(tests kernels e2e torch)
summary=()
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
for step in "${steps[@]}"; do
  start=$(date +%s)
  case "$step" in
    tests)
      "$bin/gptq_tests" --gtest_filter='*Gpu*:CApiDevice*:Cli.Gpu*' > "$OUT/gpu_tests.log" 2>&1
      rc=$?
      summary+=("tests rc=$rc: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) +\]' "$OUT/gpu_tests.log" | tr '\n' ' ')")
      grep -E "^\[  FAILED  \]|Failure|error:" "$OUT/gpu_tests.log" | head -40 ;;
    sanitizer)
      for tool in memcheck racecheck; do
        timeout 150 compute-sanitizer --tool "$tool" --error-exitcode 7 "$bin/gptq_tests" \
          --gtest_filter='GpuElementwise.*:GpuGptqGemm.Several*:GpuGptqGemm.Dequant*:GpuAttention.*:Llama/GpuArch.Greedy*/0:Llama/GpuGptq.*/0:GpuTinydoc.Split*' \
          > "$OUT/sanitizer_$tool.log" 2>&1
        summary+=("compute-sanitizer $tool rc=$? $(grep -E 'ERROR SUMMARY' "$OUT/sanitizer_$tool.log" | tail -1)")
      done ;;
    kernels)
      "$bin/bench_gpu_kernels" ${GPTQ_BENCH_QUICK:+--quick} --out "$OUT/kernels.json" > "$OUT/kernels.log" 2>&1
      summary+=("kernels rc=$?")
      grep -E "^(int4_g128 |device)" "$OUT/kernels.log" | head -40 ;;
    profile)
      for m in 1 64; do
        ncu --clock-control none --kernel-name regex:stream_kernel --launch-skip 3 --launch-count 1 \
          --section SpeedOfLight --section Occupancy --section WarpStateStats --section MemoryWorkloadAnalysis \
          "$bin/bench_gpu_kernels" --shape 4096,12288 --m $m --config int4_g128 > "$OUT/ncu_m$m.log" 2>&1
        summary+=("ncu M=$m rc=$?")
        grep -E "Duration|DRAM Throughput|Memory Throughput|Compute \(SM\)|Achieved Occupancy|Registers|Stall|Warp Cycles|Issued" "$OUT/ncu_m$m.log" | head -30
      done ;;
    torch)
      PYTHONUNBUFFERED=1 python3 bench/gpu/torch_baselines.py ${GPTQ_BENCH_QUICK:+--quick} --out "$OUT/torch.json" \
        > "$OUT/torch.log" 2>&1
      summary+=("torch rc=$?")
      tail -25 "$OUT/torch.log" ;;
    e2e)
      "$bin/bench_gpu_e2e" --model "$shared/models/tinydoc-llama-13m" --label tinydoc-fp16 --prompt-tokens 1000 \
        --json "$OUT/e2e_tinydoc.json" > "$OUT/e2e.log" 2>&1
      summary+=("e2e tinydoc rc=$?")
      cat "$OUT/e2e.log" ;;
    big)
      models=/tmp/bench-models
      mkdir -p "$models"
      # GPTQ_BIG_MODELS="llama-7b:gptq ..." picks some.
      for spec in ${GPTQ_BIG_MODELS:-llama-7b:gptq llama-7b:fp16 llama3-8b:gptq}; do
        set -- ${spec/:/ }
        python3 bench/gpu/make_random_model.py "$models/$1-$2" --shape "$1" --format "$2" --bits 4 --group-size 128 \
          --tokenizer-from "$shared/models/tinydoc-llama-13m" >> "$OUT/models.log" 2>&1
        "$bin/bench_gpu_e2e" --model "$models/$1-$2" --label "$1-$2" --json "$OUT/e2e_$1_$2.json" >> "$OUT/e2e_big.log" 2>&1
        summary+=("e2e $1 $2 rc=$?")
        rm -rf "$models/$1-$2"
      done
      cat "$OUT/e2e_big.log" ;;
  esac
  summary+=("  ($step: $(( $(date +%s) - start )) s)")
done
printf '%s\n' "${summary[@]}"
