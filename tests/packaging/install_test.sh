#!/usr/bin/env bash
# Installs libgptq into a scratch prefix and builds the C example against the
# installed tree twice: with pkg-config alone, and with CMake's find_package.
set -euo pipefail
build_dir="$1"; source_dir="$2"; shared_dir="$3"
prefix="$build_dir/test-scratch/install-prefix"
work="$build_dir/test-scratch/install-consumers"
rm -rf "$prefix" "$work" && mkdir -p "$work"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
model="$shared_dir/models/tinydoc-llama-13m"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c99 -Wall -Werror "$source_dir/examples/c/generate.c" $(pkg-config --cflags --libs gptq) -o "$work/with_pkg_config"
test "$(pkg-config --modversion gptq)" = "$(sed -n 's/^#define GPTQ_VERSION_STRING "\(.*\)"/\1/p' "$prefix/include/gptq.h")"

cmake -S "$source_dir/tests/packaging/find_package" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DEXAMPLE_SOURCE="$source_dir/examples/c/generate.c" >/dev/null
cmake --build "$work/cmake-build" >/dev/null

# The installed library carries its SONAME; both programs run against it.
readelf -d "$prefix/lib/libgptq.so" | grep -q 'SONAME.*libgptq.so.0'
if [ -d "$model" ]; then
  LD_LIBRARY_PATH="$prefix/lib" "$work/with_pkg_config" "$model" "The history of the city" 4 | grep -q "tokens at"
  LD_LIBRARY_PATH="$prefix/lib" "$work/cmake-build/with_find_package" "$model" "The history of the city" 4 | grep -q "tokens at"
else
  echo "skipping the runs: $model is missing"
fi
echo "installed tree works with pkg-config and find_package"
