#!/usr/bin/env bash
# Runs on the GPU machine (the device tool) after scripts/device/stage.sh
# and scripts/device/gpu_suite.sh's unpacking: GPTQ on the GPU of a
# random-weight llama-7B-shaped and llama-3-8B-shaped fp16 model, 128
# WikiText-2 windows of 2048 tokens, w4 g128 with and without act-order,
# through `gptq quantize --device cuda --json` (per-stage seconds per
# module), with the device's memory sampled every second.
#   bench/gpu/quantize_device.sh [llama-7b] [llama3-8b]
set -u
OUT="${OUT:-/tmp/out}"
export LD_LIBRARY_PATH="/tmp/gptq/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
bin=/tmp/gptq/bin
shared=/tmp/gptq/shared
shapes=("$@")
[ ${#shapes[@]} -eq 0 ] && shapes=(llama-7b llama3-8b)
for shape in "${shapes[@]}"; do
  python3 bench/gpu/make_random_model.py "/tmp/$shape" --shape "$shape" --format fp16 \
    --tokenizer-from "$shared/models/tinydoc-llama-13m" > "$OUT/make-$shape.log" 2>&1 || exit 1
  for act in "" "--desc-act"; do
    tag="$shape${act:+-actorder}"
    rm -rf "/tmp/q-$shape"
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 1000 > "$OUT/$tag-gpu-mib.txt" &
    smi=$!
    "$bin/gptq" quantize --model "/tmp/$shape" --out "/tmp/q-$shape" --calib "$shared/data/wikitext-2/valid.txt" \
      --nsamples 128 --seqlen 2048 --device cuda $act --json > "$OUT/$tag.json" 2> "$OUT/$tag.err"
    echo "$tag rc=$?"
    kill $smi
    python3 - "$OUT/$tag.json" "$OUT/$tag-gpu-mib.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
mib = [int(x) for x in open(sys.argv[2]).read().split() if x.strip().isdigit()]
per = {}
for m in j["modules"]:
    per[m["layer"]] = per.get(m["layer"], 0) + sum(m["seconds"].values())
print("  quantize %.1f s, stages %s, per layer %.2f-%.2f s, peak GPU %d MiB" % (
    j["quantize_seconds"], {k: round(v, 2) for k, v in j["stage_seconds"].items()},
    min(per.values()), max(per.values()), max(mib or [0])))
PY
  done
  rm -rf "/tmp/$shape" "/tmp/q-$shape"
done
