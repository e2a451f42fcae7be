#!/usr/bin/env bash
# fuzz.sh: build and run the libFuzzer targets of tests/native/fuzz/ (native, clang, ASan + UBSan).
#   fuzz_weights  arbitrary bytes into gl_weights_parse and every gl_<model>_load
#   fuzz_shapes   the kernels (grid sample, affine grid, DRAW, NTM, distort) with fuzzed sizes
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target ...]
#        scripts/fuzz.sh --build-only
# Env:   FUZZ_OUT (default build/fuzz): binaries, the working corpus (grows; the committed seeds in
#        tests/native/fuzz/corpus/<target>/ are read, never written) and crash artifacts.
#        FUZZ_ARGS: extra libFuzzer flags (e.g. -jobs=2 -workers=2).
# Prints one line per target: executions, time, exit status. Exit status: non-zero if a target
# found a crash (its input is saved as $FUZZ_OUT/artifacts/<target>-crash-*) or failed to build.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=60 build_only=0 targets=()
for a in "$@"; do
  case "$a" in
    --build-only) build_only=1 ;;
    ''|*[!0-9]*) targets+=("$a") ;;
    *) secs=$a ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_weights fuzz_shapes)

CC=${FUZZ_CC:-clang}
OUT=${FUZZ_OUT:-build/fuzz}
mkdir -p "$OUT/obj" "$OUT/artifacts"
if ! echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }' |
     "$CC" -x c -fsanitize=fuzzer - -o "$OUT/.probe" 2>/dev/null; then
  echo "fuzz.sh: $CC cannot build libFuzzer targets (-fsanitize=fuzzer); install clang and libclang-rt-dev" >&2
  exit 3
fi
rm -f "$OUT/.probe"

FLAGS=(-std=c11 -O1 -g -msse4.1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
       -Wall -Wextra -Wno-unused-parameter -Wno-unused-function -Isrc)
# The library objects, in parallel, each rebuilt only when its source or a header is newer.
objs=() pids=()
newest_h=$(ls -t src/*.h | head -1)
for s in src/*.c; do
  o="$OUT/obj/$(basename "${s%.c}").o"
  objs+=("$o")
  if [ ! -e "$o" ] || [ "$s" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
    "$CC" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -c "$s" -o "$o" & pids+=($!)
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
for t in "${targets[@]}"; do
  "$CC" "${FLAGS[@]}" -fsanitize=fuzzer "tests/native/fuzz/$t.c" "${objs[@]}" -lm -o "$OUT/$t.tmp"
  mv -f "$OUT/$t.tmp" "$OUT/$t" # a running fuzzer keeps its old binary
done
[ "$build_only" = 1 ] && { echo "built ${targets[*]/#/$OUT/}"; exit 0; }

status=0
for t in "${targets[@]}"; do
  work="$OUT/corpus/$t"
  mkdir -p "$work"
  seeds="tests/native/fuzz/corpus/$t"
  log="$OUT/$t.log"
  set +e
  # -malloc_limit_mb: no input (a few KB) may make the code under test allocate 128 MiB at once (a
  # small weights file declaring a huge configuration did); -rss_limit_mb: total memory.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "$OUT/$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
      -malloc_limit_mb=128 -artifact_prefix="$OUT/artifacts/$t-" ${FUZZ_ARGS:-} "$work" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  echo "$t: ${runs:-?} executions in ${secs} s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) files, exit $rc (log $log)"
  if [ "$rc" != 0 ]; then
    status=1
    grep -m1 -A12 -E 'ERROR|runtime error|fuzz_(weights|shapes):|==[0-9]+==' "$log" >&2 || tail -20 "$log" >&2
  fi
done
exit $status
