// draw.test.js: g.draw, the DRAW attention kernels (Gregor et al. 2015, eq. 19-29).
//   - both wasm builds against PyTorch autograd fixtures (tests/gen_fixtures_draw.py);
//   - finite differences of readBackward / writeBackward w.r.t. x, xHat, w and all five params;
//   - fast SIMD kernels against the scalar _ref oracles, and the SIMD build against the scalar one;
//   - the paper's 1-based geometry (a 0-based grid shifts every filter by one pixel);
//   - argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBuilds, loadTestBuilds, fixture, rng, uniform, assertClose, compare } from './util.js';
import { makeDraw } from '../src/js/draw.js';

const builds = await loadBuilds();
const testBuilds = await loadTestBuilds(); // with the scalar _ref oracles
const fx = fixture('draw.json');
const F = (a) => Float32Array.from(a);

// Tolerances against the float64 reference: float32 exp and sums over up to 784 pixels.
const TOL = { atol: 2e-5, rtol: 2e-4 };
const TOL_GRAD = { atol: 1e-4, rtol: 5e-4 };

for (const [name, g] of builds) {
  test(`draw (${name}): PyTorch fixtures`, (t) => {
    for (const c of fx.cases) {
      const size = c.size;
      const p = F(c.params), x = F(c.x), xh = F(c.xHat), w = F(c.w);
      const fb = g.draw.filterbank(p, size);
      assertClose(t, fb.Fx, F(c.Fx), `${c.name} Fx`, TOL);
      assertClose(t, fb.Fy, F(c.Fy), `${c.name} Fy`, TOL);
      assertClose(t, fb.gamma, F(c.gamma), `${c.name} gamma`, TOL);
      assertClose(t, g.draw.read(x, xh, p, size), F(c.read), `${c.name} read`, TOL);
      const rb = g.draw.readBackward(F(c.dRead), x, xh, p, size);
      assertClose(t, rb.dX, F(c.readDX), `${c.name} read dX`, TOL);
      assertClose(t, rb.dXHat, F(c.readDXHat), `${c.name} read dXHat`, TOL);
      assertClose(t, rb.dParams, F(c.readDParams), `${c.name} read dParams`, TOL_GRAD);
      assertClose(t, g.draw.write(w, p, size), F(c.write), `${c.name} write`, TOL);
      const wb = g.draw.writeBackward(F(c.dCanvas), w, p, size);
      assertClose(t, wb.dW, F(c.writeDW), `${c.name} write dW`, TOL);
      assertClose(t, wb.dParams, F(c.writeDParams), `${c.name} write dParams`, TOL_GRAD);
    }
  });
}

function randomParams(rand, batch) {
  const p = new Float32Array(batch * 5);
  const lo = [-0.8, -0.8, -1.0, -1.5, -1.0], hi = [0.8, 0.8, 1.5, 0.3, 1.0];
  for (let i = 0; i < p.length; i++) p[i] = lo[i % 5] + (hi[i % 5] - lo[i % 5]) * rand();
  return p;
}

const dotD = (a, b) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

// Central differences of L = <weights, f(input)> against the analytic gradient, at the given indices.
function fdCheck(t, label, f, input, weights, grad, indices, stepOf, tol) {
  let worst = 0, report = '';
  for (const k of indices) {
    const save = input[k], h = stepOf(k);
    input[k] = save + h;
    const lp = dotD(weights, f());
    input[k] = save - h;
    const lm = dotD(weights, f());
    input[k] = save;
    const fd = (lp - lm) / (2 * h);
    const err = Math.abs(fd - grad[k]) / (tol.atol + tol.rtol * Math.abs(fd));
    if (err > worst) { worst = err; report = `[${k}]: analytic ${grad[k]}, central difference ${fd}`; }
  }
  t.diagnostic(`${label}: worst error ratio ${worst.toFixed(3)} ${report}`);
  assert.ok(worst <= 1, `${label}: gradient mismatch at ${report}`);
}

// g~ is in half-image units, so its step is smaller; linear inputs take a large exact step.
const paramStep = (k) => (k % 5 < 2 ? 1e-3 : 5e-3);
const TOL_FD = { atol: 5e-3, rtol: 2e-2 };

for (const [name, g] of builds) {
  test(`draw (${name}): finite differences`, (t) => {
    const rand = rng(7);
    for (const size of [[2, 5, 28, 28], [2, 4, 20, 28], [2, 1, 9, 7]]) {
      const [batch, N, A, B] = size;
      const p = randomParams(rand, batch);
      const x = uniform(rand, batch * B * A, 0, 1), xh = uniform(rand, batch * B * A, -1, 1);
      const w = uniform(rand, batch * N * N, -1, 1);
      const dR = uniform(rand, batch * 2 * N * N, -1, 1), dC = uniform(rand, batch * B * A, -1, 1);
      const tag = `${name} ${size.join('×')}`;
      const picks = (n) => Array.from({ length: 12 }, () => Math.floor(rand() * n));
      const all = (n) => Array.from({ length: n }, (_, i) => i);

      const rb = g.draw.readBackward(dR, x, xh, p, size);
      const read = () => g.draw.read(x, xh, p, size);
      fdCheck(t, `${tag} read dX`, read, x, dR, rb.dX, picks(x.length), () => 0.25, TOL_FD);
      fdCheck(t, `${tag} read dXHat`, read, xh, dR, rb.dXHat, picks(xh.length), () => 0.25, TOL_FD);
      fdCheck(t, `${tag} read dParams`, read, p, dR, rb.dParams, all(p.length), paramStep, TOL_FD);

      const wb = g.draw.writeBackward(dC, w, p, size);
      const write = () => g.draw.write(w, p, size);
      fdCheck(t, `${tag} write dW`, write, w, dC, wb.dW, all(w.length), () => 0.25, TOL_FD);
      fdCheck(t, `${tag} write dParams`, write, p, dC, wb.dParams, all(p.length), paramStep, TOL_FD);
      if (N === 1) {
        // delta has no effect on a single filter: its gradient is exactly 0.
        for (let n = 0; n < batch; n++) {
          assert.equal(rb.dParams[5 * n + 3], 0);
          assert.equal(wb.dParams[5 * n + 3], 0);
        }
      }
    }
  });
}

test('draw: fast kernels match the scalar _ref oracle in both builds, and the builds match each other', (t) => {
  const results = [];
  for (const [name, g] of testBuilds) {
    const ref = makeDraw(g._core, { reference: true });
    const rand = rng(11);
    const out = [];
    for (const size of [[3, 5, 28, 28], [2, 12, 28, 28], [2, 3, 28, 20], [3, 7, 13, 5], [1, 2, 1, 1], [2, 9, 31, 17]]) {
      const [batch, N, A, B] = size;
      const p = randomParams(rand, batch);
      const x = uniform(rand, batch * B * A, 0, 1), xh = uniform(rand, batch * B * A, -1, 1);
      const w = uniform(rand, batch * N * N, -1, 1);
      const dR = uniform(rand, batch * 2 * N * N, -1, 1), dC = uniform(rand, batch * B * A, -1, 1);
      const fast = {
        read: g.draw.read(x, xh, p, size), rb: g.draw.readBackward(dR, x, xh, p, size),
        write: g.draw.write(w, p, size), wb: g.draw.writeBackward(dC, w, p, size),
      };
      const slow = {
        read: ref.read(x, xh, p, size), rb: ref.readBackward(dR, x, xh, p, size),
        write: ref.write(w, p, size), wb: ref.writeBackward(dC, w, p, size),
      };
      const tol = { atol: 1e-5, rtol: 1e-4 };
      const tag = `${name} ${size.join('×')}`;
      assertClose(t, fast.read, slow.read, `${tag} read vs _ref`, tol);
      assertClose(t, fast.rb.dX, slow.rb.dX, `${tag} read dX vs _ref`, tol);
      assertClose(t, fast.rb.dXHat, slow.rb.dXHat, `${tag} read dXHat vs _ref`, tol);
      assertClose(t, fast.rb.dParams, slow.rb.dParams, `${tag} read dParams vs _ref`, tol);
      assertClose(t, fast.write, slow.write, `${tag} write vs _ref`, tol);
      assertClose(t, fast.wb.dW, slow.wb.dW, `${tag} write dW vs _ref`, tol);
      assertClose(t, fast.wb.dParams, slow.wb.dParams, `${tag} write dParams vs _ref`, tol);
      out.push(fast);
    }
    results.push([name, out]);
  }
  const [[, a], [, b]] = results;
  for (let k = 0; k < a.length; k++) {
    const tol = { atol: 1e-5, rtol: 1e-4 };
    assertClose(t, a[k].read, b[k].read, `simd vs scalar read #${k}`, tol);
    assertClose(t, a[k].rb.dParams, b[k].rb.dParams, `simd vs scalar read dParams #${k}`, tol);
    assertClose(t, a[k].write, b[k].write, `simd vs scalar write #${k}`, tol);
    assertClose(t, a[k].wb.dParams, b[k].wb.dParams, `simd vs scalar write dParams #${k}`, tol);
  }
});

test('draw: 1-based geometry (centre at (A+1)/2, filter i at gX + (i - N/2 - 0.5)·δ)', () => {
  const g = builds[0][1];
  for (const [N, A, B] of [[5, 28, 28], [3, 28, 20], [4, 20, 28], [12, 28, 28]]) {
    const size = [1, N, A, B];
    const p = F([0, 0, 0, -1.5, 0]); // centred; δ small enough that every filter is well inside
    const [gX, gY, delta, s2, gamma] = g.draw.decode(p, size);
    assert.equal(gX, (A + 1) / 2);
    assert.equal(gY, (B + 1) / 2);
    assert.ok(Math.abs(delta - ((Math.max(A, B) - 1) / Math.max(N - 1, 1)) * Math.exp(-1.5)) < 1e-5);
    assert.equal(s2, 1);
    assert.equal(gamma, 1);
    const { Fx, Fy } = g.draw.filterbank(p, size);
    for (const [Fk, L, centre] of [[Fx, A, gX], [Fy, B, gY]]) {
      // Mirror symmetry of the whole bank about the image centre: filter i and N+1-i, pixel a and L+1-a.
      for (let i = 0; i < N; i++) {
        for (let a = 0; a < L; a++) {
          const u = Fk[i * L + a], v = Fk[(N - 1 - i) * L + (L - 1 - a)];
          // Exact for the middle filter of odd N (its centre is exactly (L+1)/2); others to rounding.
          if (2 * i + 1 === N) assert.equal(u, v, `middle filter not symmetric at a=${a + 1}`);
          else assert.ok(Math.abs(u - v) <= 1e-7 + 1e-4 * Math.abs(v), `mirror i=${i + 1} a=${a + 1}: ${u} vs ${v}`);
        }
      }
      // First moment of filter i (1-based pixels) is its centre.
      for (let i = 1; i <= N; i++) {
        let m = 0;
        for (let a = 1; a <= L; a++) m += a * Fk[(i - 1) * L + a - 1];
        const mu = centre + (i - N / 2 - 0.5) * delta;
        assert.ok(Math.abs(m - mu) < 1e-4, `N=${N} L=${L} filter ${i}: first moment ${m}, expected ${mu}`);
      }
    }
    if (N % 2 === 1 && A % 2 === 0) {
      // The middle filter of odd N peaks on the two pixels either side of (A+1)/2.
      const mid = Fx.subarray(((N - 1) / 2) * A, ((N + 1) / 2) * A);
      assert.equal(mid[A / 2 - 1], mid[A / 2]);
      assert.ok(mid[A / 2 - 1] > mid[A / 2 - 2]);
    }
  }
  // read of a centred N = 1 glimpse with small σ: the mean of the 2×2 centre pixels of a 28×28 image.
  const img = new Float32Array(28 * 28);
  img[13 * 28 + 13] = 1; img[13 * 28 + 14] = 2; img[14 * 28 + 13] = 3; img[14 * 28 + 14] = 6;
  const r = g.draw.read(img, img, F([0, 0, -3, 0, 0]), [1, 1, 28, 28]);
  assert.ok(Math.abs(r[0] - 3) < 1e-6 && Math.abs(r[1] - 3) < 1e-6, `centre read ${r[0]}, expected 3`);
  // The normaliser's guard is absolute (max(Σ, 1e-8)): a filter so sharp (σ² = e^-6) that it falls
  // between pixels has Σ = 2·e^-50 < 1e-8 and reads (almost) nothing. Documented behaviour.
  const r2 = g.draw.read(img, img, F([0, 0, -6, 0, 0]), [1, 1, 28, 28]);
  assert.ok(Math.abs(r2[0]) < 1e-12, `guarded read ${r2[0]}, expected ~0`);
});

test('draw: validation errors name the argument; instance stays usable', () => {
  const g = builds[0][1];
  const size = [2, 3, 8, 6];
  const p = new Float32Array(10), x = new Float32Array(2 * 6 * 8), w = new Float32Array(2 * 9);
  const dR = new Float32Array(2 * 2 * 9);
  assert.throws(() => g.draw.read(x, x, [0, 0, 0, 0, 0], size), (e) => e instanceof TypeError && /params/.test(e.message));
  assert.throws(() => g.draw.read(x, x, new Float32Array(9), size), (e) => e instanceof RangeError && /params/.test(e.message));
  assert.throws(() => g.draw.read(new Float64Array(96), x, p, size), (e) => e instanceof TypeError && /\bx\b/.test(e.message));
  assert.throws(() => g.draw.read(x, new Float32Array(95), p, size), (e) => e instanceof RangeError && /xHat/.test(e.message));
  assert.throws(() => g.draw.read(x, x, p, [2, 3, 8]), (e) => e instanceof RangeError && /size/.test(e.message));
  assert.throws(() => g.draw.read(x, x, p, [2, 0, 8, 6]), (e) => e instanceof RangeError && /size\[1\] \(N\)/.test(e.message));
  assert.throws(() => g.draw.read(x, x, p, [2, 3.5, 8, 6]), (e) => e instanceof RangeError && /size\[1\]/.test(e.message));
  assert.throws(() => g.draw.read(x, x, p, 'big'), (e) => e instanceof TypeError && /size/.test(e.message));
  assert.throws(() => g.draw.readBackward(new Float32Array(3), x, x, p, size), (e) => e instanceof RangeError && /dRead/.test(e.message));
  assert.throws(() => g.draw.write(new Float32Array(17), p, size), (e) => e instanceof RangeError && /\bw\b/.test(e.message));
  assert.throws(() => g.draw.writeBackward(new Float32Array(5), w, p, size), (e) => e instanceof RangeError && /dCanvas/.test(e.message));
  assert.throws(() => g.draw.filterbank(p, [2, 3, 1e5, 1e5]), (e) => e instanceof RangeError && /image/.test(e.message));
  const bad = p.slice();
  bad[7] = 70; // item 1, log σ² beyond float32's exp range
  assert.throws(() => g.draw.read(x, x, bad, size), (e) => e instanceof RangeError && /params\[7\].*log sigma\^2/.test(e.message));
  bad[7] = NaN;
  assert.throws(() => g.draw.readBackward(dR, x, x, bad, size), (e) => e instanceof RangeError && /params\[7\]/.test(e.message));
  bad[7] = 0; bad[0] = Infinity;
  assert.throws(() => g.draw.writeBackward(x, w, bad, size), (e) => e instanceof RangeError && /params\[0\]/.test(e.message));
  // Still usable and unchanged after the errors.
  const before = g.memoryBytes();
  const r = g.draw.read(x.fill(1), x, p, size);
  assert.ok(r.every((v) => Math.abs(v - 1) < 1e-5), 'read of an all-ones image with γ = 1 is 1');
  assert.equal(g.memoryBytes(), before);
});

test('draw: repeated calls do not leak wasm memory', () => {
  const g = builds[1][1];
  const size = [4, 5, 28, 28];
  const rand = rng(3);
  const p = randomParams(rand, 4), x = uniform(rand, 4 * 784), w = uniform(rand, 4 * 25);
  const dR = uniform(rand, 4 * 50);
  g.draw.readBackward(dR, x, x, p, size);
  const before = g.memoryBytes();
  for (let i = 0; i < 200; i++) {
    g.draw.readBackward(dR, x, x, p, size);
    g.draw.writeBackward(x, w, p, size);
  }
  assert.equal(g.memoryBytes(), before);
  assert.ok(compare(g.draw.write(w, p, size), g.draw.write(w, p, size)).maxAbs === 0, 'deterministic');
});
