#!/usr/bin/env bash
# On the GPU machine: the AutoGPTQ-method reference for the quality table,
# in fp32 (libgptq's math) and fp16 (how AutoGPTQ runs layers), side by side
# (the work is Python-bound), with the calibration windows both use.
# Needs .data/ (see README.md) and $OUT.
set -euo pipefail
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
settings="rtn-w4g128 rtn-w3g128 gptq-w8g128 gptq-w4g128 gptq-w4g128-act gptq-w4g128-asym gptq-w4g128-act-static
  gptq-w4-perchannel gptq-w3g128 gptq-w3g128-act gptq-w2g64-act"
for dtype in float32 float16; do
  # shellcheck disable=SC2086
  python3 reference_gptq.py --model .data/tinydoc --calib .data/valid.txt \
    --eval .data/wiki-test.txt .data/ptb-test.txt --settings $settings --dtype "$dtype" \
    --windows-out "$OUT/windows-$dtype.jsonl" --json-out "$OUT/reference-$dtype.json" > "$OUT/log-$dtype.txt" 2>&1 &
done
wait
grep -h '^{' "$OUT"/log-*.txt
