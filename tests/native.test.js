// Runs every native C test program that ./build.sh built — build/native/test_*, build/native-scalar/
// test_* (the same C with the scalar branch of simd.h) and build/asan/test_* (ASan + UBSan, built by
// ./build.sh --asan) — and asserts that each exits with status 0. The programs compare the fast
// kernels with their scalar oracles, check gradients, guards and error codes (tests/native/*.c).
// A missing native build is a failure (run ./build.sh), not a skip; a missing ASan build is
// reported as a skip (run ./build.sh --asan).
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ROOT } from './util.js';

const BUILD = `${ROOT}build`;
const TIMEOUT_MS = 300_000;

function programs(dir) {
  const d = `${BUILD}/${dir}`;
  if (!existsSync(d)) return null;
  return readdirSync(d)
    .filter((f) => f.startsWith('test_') && !f.includes('.'))
    .filter((f) => (statSync(`${d}/${f}`).mode & 0o111) !== 0)
    .sort();
}

/** Test sources a program is built from (tests/native/<name>.c), to warn about stale binaries. */
function newestSource() {
  let t = 0;
  for (const sub of ['src', 'tests/native']) {
    for (const f of readdirSync(`${ROOT}${sub}`)) {
      if (/\.[ch]$/.test(f)) t = Math.max(t, statSync(`${ROOT}${sub}/${f}`).mtimeMs);
    }
  }
  return t;
}

const sourcesTime = newestSource();

function runProgram(t, path) {
  if (statSync(path).mtimeMs < sourcesTime) {
    t.diagnostic(`warning: ${path} is older than the newest C source: run ./build.sh to test the current code`);
  }
  const r = spawnSync(path, [], { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 1 << 26 });
  const tail = (s) => (s || '').trim().split('\n').slice(-15).join('\n');
  const summary = tail(r.stdout).split('\n').slice(-2).join(' | ');
  if (summary) t.diagnostic(summary);
  assert.equal(
    r.status,
    0,
    `${path} exited with ${r.status ?? r.signal ?? r.error}\n--- stdout (tail) ---\n${tail(r.stdout)}\n--- stderr (tail) ---\n${tail(r.stderr)}`,
  );
}

for (const dir of ['native', 'native-scalar']) {
  const progs = programs(dir);
  if (!progs || progs.length === 0) {
    test(`build/${dir}/test_* exist`, () => {
      assert.fail(`no native test programs in build/${dir}/: run ./build.sh (it builds the native C tests with cc)`);
    });
    continue;
  }
  for (const p of progs) test(`build/${dir}/${p} exits 0`, (t) => runProgram(t, `${BUILD}/${dir}/${p}`));
}

const asan = programs('asan');
if (!asan || asan.length === 0) {
  test('build/asan/test_* (AddressSanitizer + UBSan)', (t) => {
    t.skip('build/asan/ has no test programs: run ./build.sh --asan (needs clang and libclang-rt-14-dev)');
  });
} else {
  for (const p of asan) test(`build/asan/${p} exits 0 (ASan + UBSan)`, (t) => runProgram(t, `${BUILD}/asan/${p}`));
}

// The thread pool under ThreadSanitizer (build/tsan/test_pool, built with --asan): a reported race
// fails the program (TSAN_OPTIONS halt_on_error), as does any other failure.
const tsan = programs('tsan');
if (!tsan || tsan.length === 0) {
  test('build/tsan/test_pool (ThreadSanitizer)', (t) => {
    t.skip('build/tsan/ has no test programs: run ./build.sh --asan (needs clang and libclang-rt-14-dev)');
  });
} else {
  for (const p of tsan) {
    test(`build/tsan/${p} exits 0 with no race reported (ThreadSanitizer)`, (t) => {
      process.env.TSAN_OPTIONS = 'halt_on_error=1 exitcode=66';
      runProgram(t, `${BUILD}/tsan/${p}`);
    });
  }
}
