#!/usr/bin/env bash
# Stages what a GPU-machine run needs into .device/ (ignored by git, carried
# by the device tool): the GPU build's programs and the shared libraries
# they need beyond the machine's own, and the test material they read
# (the GPU machine has no ../shared). Run after scripts/build.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
shared="${GPTQ_SHARED_DIR:-$root/../shared}"
out="$root/.device"
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/shared/fixtures/archs" "$out/shared/fixtures/gptq" "$out/shared/models" \
         "$out/shared/data/wikitext-2"
b="$root/build"
cp "$b/tests/gptq_tests" "$b/gptq" "$b/bench/bench_gpu_kernels" "$b/bench/bench_gpu_e2e" "$out/bin/"
cp -L "$b/libgptq.so.0" "$out/lib/"
# Symbol tables are dead weight on the device (it profiles by kernel name, which stays).
strip --strip-unneeded "$out/bin/"* "$out/lib/libgptq.so.0"
# OpenBLAS (the quantizer's LAPACK) and the Fortran runtime it needs.
for lib in libsentencepiece.so.0 libpcre2-8.so.0 libutf8proc.so.2 libopenblas.so.0 libgfortran.so.5 libquadmath.so.0; do cp -L "/lib/x86_64-linux-gnu/$lib" "$out/lib/"; done
# GPTQ_STAGE_ARCHS names a subset where all of them would not fit (the GPU
# tests skip, saying so, for a fixture that is not there).
archs="${GPTQ_STAGE_ARCHS:-llama llama_tied_bf16 llama_rope_scaled mistral qwen2 qwen3 gemma phi3 stablelm starcoder2 gpt2 opt gpt_neox gptj phi gpt_bigcode falcon falcon_new_arch codegen gpt_neo bloom mixtral}"
for arch in $archs; do
  cp -r "$shared/fixtures/archs/$arch" "$out/shared/fixtures/archs/"
done
cp "$shared/fixtures/archs/SUMMARY.json" "$out/shared/fixtures/archs/"
cp -r "$shared/fixtures/gptq/." "$out/shared/fixtures/gptq/"
cp -r "$shared/models/tinydoc-llama-13m" "$out/shared/models/"
cp "$shared/data/wikitext-2/test.txt" "$shared/data/wikitext-2/valid.txt" "$out/shared/data/wikitext-2/"
# Executables compress well; data hardly, but tinydoc's weights just enough
# to keep the whole under the device tool's 64 MiB (gpu_suite.sh unpacks).
xz -T0 -9e "$out/bin/"* "$out/lib/"* "$out/shared/models/tinydoc-llama-13m/model.safetensors" \
   "$out"/shared/data/wikitext-2/*.txt "$out"/shared/fixtures/*/*/*.safetensors
du -sh "$out"
