#!/usr/bin/env bash
# The main job end to end: build, then inspect, generate and measure
# perplexity with the default model (or the model directory given).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${GPTQ_SHARED_DIR:-$root/../shared}"
model="${1:-$shared/models/tinydoc-llama-13m}"
text="${2:-$shared/data/wikitext-2/test.txt}"
"$root/scripts/build.sh"
gptq="$root/build/gptq"

echo "== inspect"
"$gptq" inspect "$model"
echo
echo "== generate"
"$gptq" generate --model "$model" --prompt "The history of the city" --max-new-tokens 48
echo
echo "== perplexity ($text, context 512)"
"$gptq" perplexity --model "$model" --file "$text" --ctx 512
