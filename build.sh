#!/usr/bin/env bash
# build.sh: builds the C core in src/ three ways.
#   dist/glimpse-simd.wasm    wasm with -msimd128 (hand-written wasm_simd128.h loops, src/simd.h)
#   dist/glimpse-scalar.wasm  the same C with the scalar branch of src/simd.h
#   build/test/glimpse-test-{simd,scalar}.wasm
#                             the same C plus the test-only entry points (tests/wasm/*.c, the
#                             kernels' scalar oracles via -DGL_TESTING): what the tests and
#                             benchmarks load; never shipped
#   build/native/*            native programs from tests/native/*.c linked with the same C:
#                             C unit tests, benchmarks (the speed yardstick), fixture runners
#   build/asan/*              the native tests again under AddressSanitizer + UBSan (--asan)
#   build/tsan/test_pool      the thread pool's test under ThreadSanitizer (--asan)
# Usage: ./build.sh [--wasm-only | --native-only | --test-wasm-only] [--asan]
# The .wasm files are committed (the npm package ships them); CI rebuilds them and fails
# if they differ from what the sources produce (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")"
exec 9>.build.lock
flock 9

want_wasm=1 want_dist=1 want_native=1 want_asan=0
for a in "$@"; do
  case "$a" in
    --wasm-only) want_native=0 ;;
    --native-only) want_wasm=0 ;;
    --test-wasm-only) want_native=0 want_dist=0 ;;
    --asan) want_asan=1 ;;
    *) echo "build.sh: unknown option '$a' (expected --wasm-only, --native-only, --test-wasm-only, --asan)" >&2; exit 2 ;;
  esac
done

SRC=(src/*.c)
TEST_SRC=(tests/wasm/*.c)
CFLAGS_COMMON=(-std=c11 -O3 -DNDEBUG -Wall -Wextra -Wno-unused-parameter -Wno-unused-function)

if [ "$want_wasm" = 1 ]; then
  if ! command -v emcc >/dev/null 2>&1; then
    echo "build.sh: emcc not found. Install Debian's Emscripten with: sudo apt-get install -y emscripten" >&2
    echo "          (or skip the wasm build with --native-only; the committed dist/*.wasm stay usable)" >&2
    exit 1
  fi
  # Debian's emcc runs its JS optimiser with /usr/bin/node, which needs acorn from here.
  export NODE_PATH=/usr/share/nodejs
  mkdir -p dist
  # Standalone module, no JS glue: the binding instantiates it itself (see TOOLCHAIN notes:
  # 3.1.6's glue breaks under Node 20 ESM). No stdio in the core, so the only import is
  # env.emscripten_notify_memory_growth.
  EMFLAGS=(--no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=2GB
           -sEXPORTED_FUNCTIONS=_malloc,_free -sFILESYSTEM=0)
  mkdir -p build/test
  THREADFLAGS=(-matomics -mbulk-memory -sIMPORTED_MEMORY -Wl,--shared-memory)
  TESTFLAGS=(-DGL_TESTING -Isrc "${SRC[@]}" "${TEST_SRC[@]}")
  pids=()
  if [ "$want_dist" = 1 ]; then
    emcc "${CFLAGS_COMMON[@]}" -msimd128 "${EMFLAGS[@]}" "${SRC[@]}" -o dist/glimpse-simd.wasm & pids+=($!)
    emcc "${CFLAGS_COMMON[@]}" "${EMFLAGS[@]}" "${SRC[@]}" -o dist/glimpse-scalar.wasm & pids+=($!)
    # The threaded build: SIMD + atomics on an imported shared memory (src/pool.c, src/js/threads.js;
    # TOOLCHAIN.md: -pthread is refused with STANDALONE_WASM, this links and runs).
    emcc "${CFLAGS_COMMON[@]}" -msimd128 "${THREADFLAGS[@]}" "${EMFLAGS[@]}" "${SRC[@]}" -o dist/glimpse-simd-threads.wasm & pids+=($!)
  fi
  emcc "${CFLAGS_COMMON[@]}" -msimd128 "${EMFLAGS[@]}" "${TESTFLAGS[@]}" -o build/test/glimpse-test-simd.wasm & pids+=($!)
  emcc "${CFLAGS_COMMON[@]}" "${EMFLAGS[@]}" "${TESTFLAGS[@]}" -o build/test/glimpse-test-scalar.wasm & pids+=($!)
  emcc "${CFLAGS_COMMON[@]}" -msimd128 "${THREADFLAGS[@]}" "${EMFLAGS[@]}" "${TESTFLAGS[@]}" -o build/test/glimpse-test-simd-threads.wasm & pids+=($!)
  for p in "${pids[@]}"; do wait "$p"; done
  if [ "$want_dist" = 1 ]; then
    echo "built dist/glimpse-simd.wasm ($(stat -c %s dist/glimpse-simd.wasm) bytes), dist/glimpse-scalar.wasm ($(stat -c %s dist/glimpse-scalar.wasm) bytes), dist/glimpse-simd-threads.wasm ($(stat -c %s dist/glimpse-simd-threads.wasm) bytes)"
  fi
  echo "built build/test/glimpse-test-simd.wasm, build/test/glimpse-test-scalar.wasm (test-only entry points; not shipped)"
fi

native_build() { # outdir program-glob extra-flags...
  local out=$1 only=$2; shift 2
  mkdir -p "$out"
  local objs=()
  for s in "${SRC[@]}" "${TEST_SRC[@]}"; do
    local o="$out/$(basename "${s%.c}").o"
    "${CC:-cc}" "${CFLAGS_COMMON[@]}" "$@" -Isrc -c "$s" -o "$o"
    objs+=("$o")
  done
  for t in tests/native/$only.c; do
    [ -e "$t" ] || continue
    grep -q '^int main' "$t" || continue
    "${CC:-cc}" "${CFLAGS_COMMON[@]}" "$@" -Isrc "$t" "${objs[@]}" -o "$out/$(basename "${t%.c}")" -lm -pthread
  done
}

if [ "$want_native" = 1 ]; then
  # The yardstick: the same C with the SSE4.1 branch of simd.h, tuned for this machine.
  native_build build/native '*' -march=native
  # The scalar branch natively, for SIMD-vs-scalar agreement tests in C.
  native_build build/native-scalar '*' -march=native -DGL_FORCE_SCALAR
  echo "built build/native/ and build/native-scalar/"
fi
if [ "$want_asan" = 1 ]; then
  CC=clang native_build build/asan '*' -O1 -g -msse4.1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
  # The pool's races, under ThreadSanitizer (only the threaded test program)
  CC=clang native_build build/tsan 'test_pool' -O1 -g -msse4.1 -fsanitize=thread -fno-omit-frame-pointer
  echo "built build/asan/, build/tsan/"
fi
