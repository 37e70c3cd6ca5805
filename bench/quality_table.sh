#!/usr/bin/env bash
# Perplexity of tinydoc quantized every way the GPTQ paper and AutoGPTQ
# compare: calibrate on 128 random 512-token windows of WikiText-2 valid,
# evaluate WikiText-2 test and PTB test at context 512. Prints a markdown
# table with quantization time and peak memory.
#   bench/quality_table.sh [BUILD_DIR] [MODEL_DIR]
# CALIB=FILE calibrates on another file instead (a .jsonl of "input_ids"
# pins the exact samples, as bench/autogptq_reference does). Each setting's
# quantize report (with per-module losses) is kept as BUILD_DIR/quality-table/NAME.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shared="${GPTQ_SHARED_DIR:-$root/../shared}"
model="${2:-$shared/models/tinydoc-llama-13m}"
gptq="$build/gptq"
work="$build/quality-table"
mkdir -p "$work"
wiki="$shared/data/wikitext-2/test.txt"
ptb="$shared/data/ptb/test.txt"
calib="${CALIB:-$shared/data/wikitext-2/valid.txt}"

ppl() {  # model dir, text file -> perplexity
  "$gptq" perplexity --model "$1" --file "$2" --ctx 512 --json | sed -n 's/.*"perplexity": \([0-9.]*\).*/\1/p'
}

settings=(
  "rtn-w4g128|--rtn --bits 4 --group-size 128"
  "rtn-w3g128|--rtn --bits 3 --group-size 128"
  "gptq-w8g128|--bits 8 --group-size 128"
  "gptq-w4g128|--bits 4 --group-size 128"
  "gptq-w4g128-act|--bits 4 --group-size 128 --desc-act"
  "gptq-w4g128-asym|--bits 4 --group-size 128 --asym"
  "gptq-w4g128-act-static|--bits 4 --group-size 128 --desc-act --static-groups"
  "gptq-w4-perchannel|--bits 4 --group-size -1"
  "gptq-w3g128|--bits 3 --group-size 128"
  "gptq-w3g128-act|--bits 3 --group-size 128 --desc-act"
  "gptq-w2g64-act|--bits 2 --group-size 64 --desc-act"
)
if [ -n "${EXTRA_SETTINGS:-}" ]; then IFS=';' read -r -a extra <<< "$EXTRA_SETTINGS"; settings+=("${extra[@]}"); fi

echo "| setting | wikitext-2 test | PTB test | quantize s | peak RSS MiB |"
echo "|---|---|---|---|---|"
echo "| fp16 | $(ppl "$model" "$wiki") | $(ppl "$model" "$ptb") | - | - |"
for entry in "${settings[@]}"; do
  name="${entry%%|*}"; flags="${entry#*|}"
  out="$work/$name"
  rm -rf "$out"
  # shellcheck disable=SC2086
  report=$("$gptq" quantize --model "$model" --out "$out" $flags --calib "$calib" --nsamples 128 --seqlen 512 --seed 0 --json 2>/dev/null)
  echo "$report" > "$work/$name.json"
  seconds=$(echo "$report" | sed -n 's/.*"quantize_seconds": \([0-9.]*\).*/\1/p')
  rss=$(echo "$report" | sed -n 's/.*"peak_rss_mib": \([0-9.]*\).*/\1/p')
  printf '| %s | %s | %s | %.1f | %.0f |\n' "$name" "$(ppl "$out" "$wiki")" "$(ppl "$out" "$ptb")" "$seconds" "$rss"
done
