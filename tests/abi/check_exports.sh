#!/usr/bin/env bash
# The exported symbols of libgptq.so must be exactly the functions gptq.h
# declares, and must keep every symbol of earlier releases (listed in
# exported_symbols.txt): a symbol that disappears breaks old programs, and
# anything else that leaks out becomes an ABI burden.
set -euo pipefail
library="$1"; released="$2"; header="$3"
exported=$(nm -D --defined-only "$library" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort -u)
declared=$(tr '\n' ' ' < "$header" | grep -oE 'GPTQ_API[^;(]*\(' | grep -v '__' | grep -oE '[A-Za-z_0-9]+ *\($' |
           tr -d ' (' | sort -u)
status=0
report() {  # title, list
  if [ -n "$2" ]; then echo "$1"; echo "$2" | sed 's/^/  /'; status=1; fi
}
report "removed since the last release (breaks old programs):" "$(comm -23 <(sort -u "$released") <(echo "$exported"))"
report "exported but not declared in gptq.h (leaked):" "$(comm -13 <(echo "$declared") <(echo "$exported"))"
report "declared in gptq.h but not exported:" "$(comm -23 <(echo "$declared") <(echo "$exported"))"
report "new API functions: add them to $released:" "$(comm -13 <(sort -u "$released") <(echo "$exported"))"
[ $status -eq 0 ] && echo "$(echo "$exported" | wc -l) exported symbols, as declared and released"
exit $status
