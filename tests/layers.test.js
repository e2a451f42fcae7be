// The shared layers (src/layers.c, src/gemm.c) inside both wasm builds. The native programs
// (tests/native/test_layers.c, run by tests/native.test.js) check every layer exhaustively
// (finite differences, PyTorch fixtures); this file checks that the wasm SIMD and scalar builds
// compute the same GEMM and conv2d as their plain-loop oracles, through the self-test entry
// points of tests/wasm/test_exports.c (in the test build, build/test/): gl_test_gemm (gl_sgemm vs gl_sgemm_ref: every transpose
// combination, odd sizes, tails, K blocks, each NT strategy) and gl_test_conv2d (forward and all
// three gradients vs direct loops, with and without item grouping).
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadTestBuilds } from './util.js';

const builds = await loadTestBuilds();

// [M, N, K]: tails in every dimension, the network's shapes, K over the 256 block, the pack
// strategies of NT (packed A, packed B, dot products) and 5-vs-4 row panels.
const GEMM_SHAPES = [
  [1, 1, 1], [3, 5, 7], [4, 8, 16], [17, 23, 9], [33, 65, 300], [8, 484, 49], [49, 8, 484], [250, 64, 20],
  [20, 256, 250], [64, 50, 320], [5, 1, 600], [1, 40, 3], [7, 300, 13], [300, 9, 5], [2, 3, 1000], [37, 35, 33],
  [40, 300, 600], [300, 40, 600],
];
const ALPHA_BETA = [[1, 0], [1, 1], [-0.75, 0.5]];

function withErr(core, n, fn) {
  const p = core.malloc(4 * n);
  try {
    fn(p);
    return Array.from(core.f32.subarray(p >> 2, (p >> 2) + n));
  } finally {
    core.free(p);
  }
}

for (const [name, g] of builds) {
  const core = g._core;
  test(`${name}: gl_sgemm matches gl_sgemm_ref (all transposes, odd sizes)`, (t) => {
    let worst = 0, count = 0;
    GEMM_SHAPES.forEach(([M, N, K], s) => {
      for (let ta = 0; ta < 2; ta++)
        for (let tb = 0; tb < 2; tb++) {
          const [alpha, beta] = ALPHA_BETA[(s + ta + tb) % 3];
          const [e] = withErr(core, 1, (p) => core.check(core.x.gl_test_gemm(p, ta, tb, M, N, K, alpha, beta, s + 1), 'gl_test_gemm'));
          const tol = 2e-6 * Math.sqrt(K) + 1e-6;
          assert.ok(e <= tol, `gemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} M=${M} N=${N} K=${K} alpha=${alpha} beta=${beta}: error ${e} > ${tol}`);
          worst = Math.max(worst, e);
          count++;
        }
    });
    t.diagnostic(`${count} cases, worst relative error ${worst.toExponential(2)}`);
  });

  test(`${name}: conv2d forward and backward match direct loops`, (t) => {
    // [N, C, H, W, O, K]: the STN network's four convs at a small batch (P = 484, 49, 576, 64:
    // one item at a time and grouped), a group with a remainder, a 1x1 output.
    const cases = [[3, 1, 28, 28, 8, 7], [5, 8, 11, 11, 10, 5], [2, 1, 28, 28, 10, 5], [7, 10, 12, 12, 20, 5],
      [9, 2, 9, 7, 3, 3], [2, 3, 5, 5, 4, 5]];
    for (const [N, C, H, W, O, K] of cases) {
      const e = withErr(core, 4, (p) => core.check(core.x.gl_test_conv2d(p, N, C, H, W, O, K, N + O), 'gl_test_conv2d'));
      const tol = 2e-6 * Math.sqrt(C * K * K * N * (H - K + 1) * (W - K + 1));
      ['out', 'dinp', 'dweight', 'dbias'].forEach((what, i) => {
        assert.ok(e[i] <= tol, `conv2d N=${N} C=${C} ${H}x${W} O=${O} K=${K} ${what}: error ${e[i]} > ${tol}`);
      });
      t.diagnostic(`conv2d N=${N} C=${C} ${H}x${W} O=${O} K=${K}: errors ${e.map((v) => v.toExponential(1)).join(' ')}`);
    }
  });
}
