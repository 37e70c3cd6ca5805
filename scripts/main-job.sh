#!/usr/bin/env bash
# The main job end to end: build, then inspect, generate, measure perplexity,
# quantize with GPTQ (4-bit, group 128) and measure the quantized model's
# perplexity, on the default model (or the model directory given).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${GPTQ_SHARED_DIR:-$root/../shared}"
model="${1:-$shared/models/tinydoc-llama-13m}"
text="${2:-$shared/data/wikitext-2/test.txt}"
calib="${3:-$shared/data/wikitext-2/valid.txt}"
"$root/scripts/build.sh"
gptq="$root/build/gptq"
out="$root/build/main-job"
rm -rf "$out" && mkdir -p "$out"

echo "== inspect"
"$gptq" inspect "$model"
echo
echo "== generate"
"$gptq" generate --model "$model" --prompt "The history of the city" --max-new-tokens 48
echo
echo "== perplexity, float ($text, context 512)"
"$gptq" perplexity --model "$model" --file "$text" --ctx 512 --json | tee "$out/ppl-float.json"
echo
echo "== quantize: GPTQ 4-bit, group 128, 128 windows of 512 tokens of $calib"
"$gptq" quantize --model "$model" --out "$out/gptq-w4g128" --bits 4 --group-size 128 \
  --calib "$calib" --nsamples 128 --seqlen 512 --seed 0
echo
echo "== generate, 4-bit"
"$gptq" generate --model "$out/gptq-w4g128" --prompt "The history of the city" --max-new-tokens 48
echo
echo "== perplexity, 4-bit"
"$gptq" perplexity --model "$out/gptq-w4g128" --file "$text" --ctx 512 --json | tee "$out/ppl-w4g128.json"
echo
float_ppl=$(grep '"perplexity"' "$out/ppl-float.json" | tr -dc '0-9.')
quant_ppl=$(grep '"perplexity"' "$out/ppl-w4g128.json" | tr -dc '0-9.')
echo "== summary: perplexity float $float_ppl, GPTQ 4-bit g128 $quant_ppl"
