// Shared helpers for the node:test suites.
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load } from '../src/js/index.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Both wasm builds, loaded once per test file: [['simd', g], ['scalar', g]]. */
export async function loadBuilds() {
  return [
    ['simd', await load({ simd: true })],
    ['scalar', await load({ simd: false })],
  ];
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32Array of n uniform values in [lo, hi). */
export function uniform(rand, n, lo = -1, hi = 1) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

/** Largest |a - b| / (atol + rtol * |b|) over all elements, plus where it happened. */
export function compare(a, b, { atol = 1e-5, rtol = 1e-4 } = {}) {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let worst = 0, at = -1, maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d === d)) return { ratio: Infinity, at: i, maxAbs: NaN };
    const r = d / (atol + rtol * Math.abs(b[i]));
    if (r > worst) { worst = r; at = i; }
    if (d > maxAbs) maxAbs = d;
  }
  return { ratio: worst, at, maxAbs };
}

/** Assert closeness with a message naming the tensor, the worst index and the max abs diff. */
export function assertClose(t, actual, expected, name, tol) {
  const { ratio, at, maxAbs } = compare(actual, expected, tol);
  if (!(ratio <= 1)) {
    throw new Error(`${name}: max |diff| ${maxAbs} (worst at [${at}]: got ${actual[at]}, expected ${expected[at]}; tol ${JSON.stringify(tol ?? {})})`);
  }
  t?.diagnostic?.(`${name}: max |diff| ${maxAbs.toExponential(2)}`);
}

/** Read a committed JSON fixture from tests/fixtures/. */
export function fixture(name) {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

/** Path of a native program built by ./build.sh into build/<dir>/, or null when missing. */
export function nativeProgram(name, dir = 'native') {
  const p = `${ROOT}build/${dir}/${name}`;
  return existsSync(p) ? p : null;
}

/** Run a native program; returns { status, stdout, stderr }. */
export function runNative(path, args = [], input) {
  const r = spawnSync(path, args, { input, maxBuffer: 1 << 28, encoding: input === undefined ? 'utf8' : undefined });
  return r;
}
