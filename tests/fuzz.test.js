// The CI version of the native fuzzing (scripts/fuzz.sh, tests/native/fuzz/): builds the two
// libFuzzer targets (clang, ASan + UBSan) and runs each for about 10 s from the committed seed
// corpus, asserting a clean exit (no crash, leak, sanitizer report or harness check failure).
// Skipped, with a diagnostic, only when clang cannot build libFuzzer targets (-fsanitize=fuzzer).
// Longer runs: scripts/fuzz.sh 300 (seconds per target).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ROOT } from './util.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 10);
const OUT = 'build/fuzz-ci'; // apart from build/fuzz, which long runs may be using

test(`libFuzzer targets fuzz_weights and fuzz_shapes run ${SECONDS} s each without a crash`, { timeout: 900_000 }, (t) => {
  const r = spawnSync('bash', [`${ROOT}scripts/fuzz.sh`, String(SECONDS)], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, FUZZ_OUT: OUT }, maxBuffer: 1 << 26,
  });
  if (r.status === 3) {
    t.diagnostic(r.stderr.trim());
    t.skip('clang lacks -fsanitize=fuzzer (install clang and libclang-rt-14-dev)');
    return;
  }
  for (const line of r.stdout.trim().split('\n')) t.diagnostic(line);
  assert.equal(r.status, 0, `scripts/fuzz.sh exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr.split('\n').slice(-40).join('\n')}`);
  for (const target of ['fuzz_weights', 'fuzz_shapes']) {
    const m = r.stdout.match(new RegExp(`^${target}: (\\d+) executions`, 'm'));
    assert.ok(m, `no summary line for ${target}`);
    assert.ok(Number(m[1]) > 100, `${target} ran only ${m[1]} inputs`);
  }
});
