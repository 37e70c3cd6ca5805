#!/usr/bin/env bash
# The exported symbols of libgptq.so must be exactly the C API listed in
# exported_symbols.txt: a symbol that disappears breaks old programs, and
# anything else that leaks out is a future ABI burden.
set -euo pipefail
library="$1"; expected="$2"; header="$3"
actual=$(nm -D --defined-only "$library" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort -u)
missing=$(comm -23 <(sort -u "$expected") <(echo "$actual"))
extra=$(comm -13 <(sort -u "$expected") <(echo "$actual"))
status=0
if [ -n "$missing" ]; then echo "symbols removed from the ABI:"; echo "$missing"; status=1; fi
if [ -n "$extra" ]; then echo "symbols exported but not in $expected (add new API functions there):"; echo "$extra"; status=1; fi
declared=$(tr '\n' ' ' < "$header" | grep -oE 'GPTQ_API[^;(]*\(' | grep -v '__' | grep -oE '[A-Za-z_0-9]+ *\($' | tr -d ' (' | sort -u)
undeclared=$(comm -13 <(echo "$declared") <(sort -u "$expected"))
unexported=$(comm -23 <(echo "$declared") <(sort -u "$expected"))
if [ -n "$undeclared" ]; then echo "exported but not declared in gptq.h:"; echo "$undeclared"; status=1; fi
if [ -n "$unexported" ]; then echo "declared in gptq.h but not exported:"; echo "$unexported"; status=1; fi
[ $status -eq 0 ] && echo "$(echo "$actual" | wc -l) exported symbols, all expected"
exit $status
