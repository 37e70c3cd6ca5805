#!/usr/bin/env bash
# On the GPU machine: the PyTorch baselines, the random-weight checkpoints
# and the transformers decode baseline, then the Markdown report; results
# under $OUT (bench/gpu/README.md).
#
#   bash bench/gpu/run_device.sh [baselines] [models] [hf] [report]   (default: all four)
#
# Environment: QUICK=1 (a small baseline grid), SHAPE (llama-7b or llama3-8b),
# LAYERS (fewer layers, for a quick look), MODELS (where the checkpoints go,
# default /tmp/bench-models: they stay on that machine only while it is held),
# OURS (libgptq results JSON, space-separated, passed to the report).
# `hf` needs the fp16 checkpoint that `models` makes in the same call.
set -euo pipefail
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
OUT=${OUT:?set OUT to the results folder}
SHAPE=${SHAPE:-llama-7b}
MODELS=${MODELS:-/tmp/bench-models}
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(baselines models hf report)
layers=()
[ -n "${LAYERS:-}" ] && layers=(--layers "$LAYERS")
tokenizer=()
[ -d .data/tokenizer ] && tokenizer=(--tokenizer-from .data/tokenizer)

for stage in "${stages[@]}"; do
  case "$stage" in
    baselines)
      python3 torch_baselines.py --out "$OUT/torch_baselines.json" ${QUICK:+--quick} 2>&1 | tee "$OUT/torch_baselines.log" ;;
    models)
      mkdir -p "$MODELS"
      {
        python3 make_random_model.py "$MODELS/$SHAPE-fp16" --force --shape "$SHAPE" --format fp16 "${layers[@]}" "${tokenizer[@]}"
        python3 make_random_model.py "$MODELS/$SHAPE-gptq-w4g128" --force --shape "$SHAPE" --format gptq --bits 4 \
          --group-size 128 "${layers[@]}" "${tokenizer[@]}"
        df -h "$MODELS"
      } 2>&1 | tee "$OUT/make_random_model.log" ;;
    hf)
      python3 transformers_decode.py --model "$MODELS/$SHAPE-fp16" --name "$SHAPE" --out "$OUT/transformers_decode.json" \
        2>&1 | tee "$OUT/transformers_decode.log" ;;
    report)
      args=()
      [ -f "$OUT/torch_baselines.json" ] && args+=(--torch "$OUT/torch_baselines.json")
      [ -f "$OUT/transformers_decode.json" ] && args+=(--transformers "$OUT/transformers_decode.json")
      for f in ${OURS:-}; do args+=(--ours "$f"); done
      python3 report.py --out "$OUT/report.md" "${args[@]}" ;;
    *)
      echo "unknown stage '$stage' (baselines, models, hf, report)" >&2; exit 2 ;;
  esac
done
