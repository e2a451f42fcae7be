// Shared helpers for the node:test suites.
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load, _instantiate, loadThreaded } from '../src/js/index.js';
import assert from 'node:assert/strict';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Both wasm builds, loaded once per test file: [['simd', g], ['scalar', g]]. */
export async function loadBuilds() {
  return [
    ['simd', await load({ simd: true })],
    ['scalar', await load({ simd: false })],
  ];
}

/**
 * The test builds (build/test/glimpse-test-{simd,scalar}.wasm, built by ./build.sh): the same C as
 * dist/ plus the test-only entry points (the kernels' scalar oracles, gl_test_*, gl_bench_*).
 * [['simd', g], ['scalar', g]]. A missing test build is an error that says how to make it.
 */
export async function loadTestBuilds() {
  const out = [];
  for (const build of ['simd', 'scalar']) out.push([build, await loadTestBuild(build)]);
  return out;
}

const testModules = new Map();
/** One test build ('simd', 'scalar', or 'simd-threads' with `threads` threads). */
export async function loadTestBuild(build = 'simd', threads = 2) {
  const path = `${ROOT}build/test/glimpse-test-${build}.wasm`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run ./build.sh (it needs Debian's emcc: apt-get install -y emscripten)`);
  if (!testModules.has(build)) testModules.set(build, WebAssembly.compile(readFileSync(path)));
  const module = await testModules.get(build);
  if (build === 'simd-threads') return loadThreaded(threads, module);
  return _instantiate(module, { simd: build === 'simd', build });
}

/** Deterministic PRNG (mulberry32, the package's seededRandom) so failures reproduce. */
export { seededRandom as rng } from '../src/js/random.js';
// CRC-32 of the weights format's trailer (one JS copy, shared with the scripts)
export { crc32 } from '../scripts/png.js';

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

/**
 * Live access to a model's parameter arena (WasmModel._params(): valid while wasm memory does not
 * grow, which a fixed-size loss evaluation does not do): { tensors, get(i), set(i, v), snapshot(),
 * restore(copy) } with i an arena offset.
 */
export function paramAccess(g, model) {
  const core = g._core;
  const { ptr, length, tensors } = model._params();
  const base = ptr >> 2;
  return {
    tensors,
    length,
    get: (i) => core.f32[base + i],
    set: (i, val) => { core.f32[base + i] = val; },
    snapshot: () => core.f32.slice(base, base + length),
    restore: (copy) => core.f32.set(copy, base),
  };
}

/**
 * The one whole-model gradient check: central finite differences of `loss()` (the model's loss at
 * its current parameters, no update) against the analytic gradient `grad` (arena offsets), at the
 * arena offsets `pick(tensor, tensorIndex)` chooses in each non-empty tensor. Each entry keeps the
 * smallest error over `steps` (a kink inside one step spoils that estimate, a wrong derivative
 * spoils all of them); `error(fd, analytic)` is the caller's criterion (<= 1 or below its bound
 * passes). Returns the entries [{ tensor, name, k, analytic, fd, error }] and the worst one.
 */
export function gradCheck(g, model, { loss, grad, pick, steps = [1e-2], error }) {
  const p = paramAccess(g, model);
  const entries = [];
  p.tensors.forEach((tensor, ti) => {
    if (tensor.length === 0) return;
    for (const i of pick(tensor, ti)) {
      const analytic = grad[i], v0 = p.get(i);
      let best = { error: Infinity, fd: NaN };
      for (const h of steps) {
        p.set(i, v0 + h);
        const lp = loss();
        p.set(i, v0 - h);
        const lm = loss();
        p.set(i, v0);
        const fd = (lp - lm) / (2 * h);
        const e = error(fd, analytic);
        if (e < best.error) best = { error: e, fd };
      }
      entries.push({ tensor: ti, name: tensor.name, k: i - tensor.offset, analytic, fd: best.fd, error: best.error });
    }
  });
  const worst = entries.reduce((w, e) => (e.error > w.error ? e : w), { error: 0 });
  return { entries, worst, params: p };
}

/**
 * The NTM's whole-model gradient check (tests/ntm_model.test.js for the copy model, and
 * tests/ntm_tasks.test.js for every task's controller/head configuration), at `lossGrad()` =
 * { loss, grad } of a fixed batch. For an NTM (not the LSTM baseline) the heads' gates are first set
 * mostly closed (bias -2), so each weighting leans on the previous one and the initial weightings
 * w0 reach the loss with a gradient well above the finite-difference noise, and the key strengths'
 * biases to 0, so softplus' is far from 1. Criterion per entry: |fd − grad| ≤ 1e-4 + 0.02·|fd|, with
 * h = 1e-2 (float32 central differences are good to about 2e-5 here; a wrong derivative factor, e.g.
 * a missing sigmoid in softplus', the softmax Jacobian of w0 or the clamp mask, fails by 1.5× to
 * 300×, checked by mutating src/ntm_model.c). Tensors of ≤ 64 entries are checked whole, others at
 * 24 strided entries. Asserts that entries were checked and some gradients are not tiny; returns
 * gradCheck's { entries, worst, params }.
 */
export function ntmGradCheck(g, m, lossGrad) {
  const p = paramAccess(g, m);
  if (m.architecture !== 'lstm') {
    const { C } = m, S = 2 * m.config.shift + 1, Ph = C + S + 3, Hr = m.readHeads; // a read head's parameters: key, β, g, s, γ
    for (let hh = 0; hh < Hr + m.writeHeads; hh++) {
      const off = p.tensors[4].offset + (hh < Hr ? hh * Ph : Hr * Ph + (hh - Hr) * (Ph + 2 * C)); // a write head adds erase and add
      p.set(off + C + 1, -2);
      p.set(off + C, 0);
    }
  }
  const r = gradCheck(g, m, {
    loss: () => lossGrad().loss,
    grad: lossGrad().grad,
    pick: ({ offset, length }) => {
      const stride = length <= 64 ? 1 : Math.floor(length / 24), at = [];
      for (let k = 0; k < length; k += stride) at.push(offset + k);
      return at;
    },
    steps: [1e-2],
    error: (fd, a) => Math.abs(fd - a) / (1e-4 + 0.02 * Math.abs(fd)),
  });
  // a check that checked nothing, or only vanishing gradients, would pass: refuse both
  assert.ok(r.entries.length > 0, 'no entries checked');
  assert.ok(r.entries.some((e) => Math.abs(e.analytic) > 1e-3), 'some gradients are large enough to mean something');
  return r;
}
