// Projective and thin-plate-spline grids (src/grid.c): PyTorch fixtures (tests/gen_fixtures_grid.py:
// both grids written in torch, float64, autograd), the C oracles (tps evaluated directly from its
// solved coefficients), SIMD vs scalar builds, the identity and interpolation properties, and
// finite differences of the backward functions (the tps grid is linear in its points, so those
// are exact up to rounding).
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadTestBuilds, fixture, rng, uniform } from './util.js';

const builds = await loadTestBuilds();
const fx = fixture('grid.json');

/** The raw C entry points through the wasm heap: f(x, ...pointers and ints). */
function call(g, name, inputs, outputs, ints) {
  const core = g._core;
  return core.scoped((s) => {
    const ptrs = inputs.map((a) => s.put(a));
    const outs = outputs.map((n) => s.zeros(n));
    core.check(core.x[name](...outs, ...ptrs, ...ints), name);
    return outs.map((p, i) => s.get(p, outputs[i]));
  });
}

const proj = (g, theta, N, H, W, align) => call(g, 'gl_projective_grid', [theta], [N * H * W * 2], [N, H, W, align])[0];
const projBack = (g, dgrid, theta, N, H, W, align) =>
  call(g, 'gl_projective_grid_backward', [dgrid, theta], [N * 9], [N, H, W, align])[0];
const tps = (g, points, N, H, W, [gy, gx], align, ref = false) =>
  call(g, ref ? 'gl_tps_grid_ref' : 'gl_tps_grid', [points], [N * H * W * 2], [N, H, W, gy, gx, align])[0];
const tpsBack = (g, dgrid, N, H, W, [gy, gx], align, ref = false) =>
  call(g, ref ? 'gl_tps_grid_backward_ref' : 'gl_tps_grid_backward', [dgrid], [N * gy * gx * 2], [N, H, W, gy, gx, align])[0];

function maxErr(a, b, scale = 1) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (scale + Math.abs(b[i])));
  return worst;
}

function controlPoints(gy, gx) {
  const p = [];
  for (let i = 0; i < gy; i++) for (let j = 0; j < gx; j++) p.push(-1 + (2 * j) / (gx - 1), -1 + (2 * i) / (gy - 1));
  return new Float32Array(p);
}

for (const [build, g] of builds) {
  test(`${build}: projective grid and its backward match PyTorch autograd`, (t) => {
    let worstG = 0, worstD = 0;
    for (const c of fx.projective) {
      const align = c.align ? 1 : 0;
      worstG = Math.max(worstG, maxErr(proj(g, new Float32Array(c.theta), c.N, c.H, c.W, align), c.grid));
      worstD = Math.max(worstD, maxErr(projBack(g, new Float32Array(c.dgrid), new Float32Array(c.theta), c.N, c.H, c.W, align), c.dtheta));
    }
    t.diagnostic(`${fx.projective.length} cases: grid rel. error ≤ ${worstG.toExponential(2)}, dTheta ≤ ${worstD.toExponential(2)}`);
    assert.ok(worstG < 1e-5 && worstD < 1e-5, `grid ${worstG}, dTheta ${worstD}`);
  });

  test(`${build}: thin-plate-spline grid and its backward match PyTorch (torch.linalg.solve + autograd) and the C oracle`, (t) => {
    let worstG = 0, worstD = 0, worstRef = 0;
    for (const c of fx.tps) {
      const align = c.align ? 1 : 0, pts = new Float32Array(c.points), dg = new Float32Array(c.dgrid);
      const grid = tps(g, pts, c.N, c.H, c.W, c.controlGrid, align);
      const dp = tpsBack(g, dg, c.N, c.H, c.W, c.controlGrid, align);
      worstG = Math.max(worstG, maxErr(grid, c.grid));
      worstD = Math.max(worstD, maxErr(dp, c.dpoints));
      worstRef = Math.max(worstRef, maxErr(grid, tps(g, pts, c.N, c.H, c.W, c.controlGrid, align, true)),
        maxErr(dp, tpsBack(g, dg, c.N, c.H, c.W, c.controlGrid, align, true)));
    }
    t.diagnostic(`${fx.tps.length} cases (control grids 2×3 to 8×8): grid rel. error ≤ ${worstG.toExponential(2)}, dPoints ≤ ${worstD.toExponential(2)}, vs the C oracle ≤ ${worstRef.toExponential(2)}`);
    assert.ok(worstG < 2e-5, `grid ${worstG}`);
    assert.ok(worstD < 2e-5, `dPoints ${worstD}`);
    assert.ok(worstRef < 2e-5, `oracle ${worstRef}`);
  });

  test(`${build}: tps properties: the control points give the identity, the grid passes through the points, backward = finite differences`, () => {
    for (const cg of [[4, 4], [2, 2], [3, 5], [8, 8]]) {
      const [gy, gx] = cg, K = gy * gx;
      for (const align of [0, 1]) {
        // identity: points = control points gives torch's base grid
        const H = 9, W = 11;
        const id = tps(g, controlPoints(gy, gx), 1, H, W, cg, align);
        const base = call(g, 'gl_affine_grid', [new Float32Array([1, 0, 0, 0, 1, 0])], [H * W * 2], [1, H, W, align])[0];
        assert.ok(maxErr(id, base, 1) < 2e-6, `${gy}×${gx} identity off by ${maxErr(id, base, 1)}`);
      }
      // interpolation: with align_corners and (g - 1) | (size - 1), output pixels sit on the control points
      const H = 2 * (gy - 1) + 1, W = 3 * (gx - 1) + 1;
      const pts = controlPoints(gy, gx).map((v, i) => v + 0.3 * Math.sin(7 * i + 1));
      const grid = tps(g, pts, 1, H, W, cg, 1);
      let worst = 0;
      for (let i = 0; i < gy; i++) {
        for (let j = 0; j < gx; j++) {
          const p = (2 * i * W + 3 * j) * 2, k = (i * gx + j) * 2;
          worst = Math.max(worst, Math.abs(grid[p] - pts[k]), Math.abs(grid[p + 1] - pts[k + 1]));
        }
      }
      assert.ok(worst < 1e-5, `${gy}×${gx}: the grid misses a control point's image by ${worst}`);
      // backward: the grid is linear in points, so <dgrid, grid(points + h e_k)> - <.., grid(points)> = h dpoints_k
      const dgrid = uniform(rng(K), H * W * 2);
      const dp = tpsBack(g, dgrid, 1, H, W, cg, 1);
      const dot = (a) => a.reduce((s, v, i) => s + v * dgrid[i], 0);
      const f0 = dot(grid);
      for (const k of [0, K - 1, Math.floor(K / 2) * 2 + 1]) {
        const q = pts.slice();
        q[k] += 0.25;
        const fd = (dot(tps(g, q, 1, H, W, cg, 1)) - f0) / (q[k] - pts[k]);
        assert.ok(Math.abs(fd - dp[k]) < 1e-4 * (1 + Math.abs(dp[k])), `${gy}×${gx} dpoints[${k}]: ${dp[k]} vs finite difference ${fd}`);
      }
    }
  });

  test(`${build}: projective: the identity homography is the affine identity; backward = central differences`, () => {
    const H = 6, W = 7, theta = new Float32Array([1.1, 0.1, -0.05, -0.08, 0.9, 0.1, 0.12, -0.07, 1.02]);
    const id = proj(g, new Float32Array([2, 0, 0, 0, 2, 0, 0, 0, 2]), 1, H, W, 0); // any scale of the identity
    const base = call(g, 'gl_affine_grid', [new Float32Array([1, 0, 0, 0, 1, 0])], [H * W * 2], [1, H, W, 0])[0];
    assert.ok(maxErr(id, base, 1) < 1e-6);
    const dgrid = uniform(rng(3), H * W * 2);
    const dt = projBack(g, dgrid, theta, 1, H, W, 0);
    const f = (th) => proj(g, th, 1, H, W, 0).reduce((s, v, i) => s + v * dgrid[i], 0);
    for (let k = 0; k < 9; k++) {
      const p = theta.slice(), m = theta.slice(), h = 1e-2;
      p[k] += h;
      m[k] -= h;
      const fd = (f(p) - f(m)) / (p[k] - m[k]);
      assert.ok(Math.abs(fd - dt[k]) < 2e-3 * (1 + Math.abs(dt[k])), `dtheta[${k}]: ${dt[k]} vs central difference ${fd}`);
    }
  });

  test(`${build}: bad sizes and control grids are refused with an error naming them`, () => {
    assert.throws(() => tps(g, new Float32Array(2), 1, 4, 4, [1, 1], 0), /control grid must be 2 to 8 points a side, got 1x1/);
    assert.throws(() => tps(g, new Float32Array(200), 1, 4, 4, [9, 2], 0), /control grid/);
    assert.throws(() => proj(g, new Float32Array(9), 1, 0, 4, 0), /sizes must be positive/);
  });
}

test('SIMD and scalar builds agree on the tps grid (the same sums in the same order) and within rounding on its backward', () => {
  const [[, simd], [, scalar]] = builds;
  const N = 3, H = 17, W = 13, cg = [4, 4];
  const pts = new Float32Array(N * 32);
  for (let n = 0; n < N; n++) pts.set(controlPoints(4, 4).map((v, i) => v + 0.2 * Math.cos(i + n)), n * 32);
  assert.deepEqual(tps(simd, pts, N, H, W, cg, 0), tps(scalar, pts, N, H, W, cg, 0));
  const dgrid = uniform(rng(8), N * H * W * 2);
  assert.ok(maxErr(tpsBack(simd, dgrid, N, H, W, cg, 0), tpsBack(scalar, dgrid, N, H, W, cg, 0), 1) < 1e-5);
});
