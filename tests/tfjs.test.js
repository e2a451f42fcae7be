// glimpse-wasm/tfjs: g.stn as differentiable TensorFlow.js ops (src/js/tfjs.js), in Node on TF.js's
// CPU backend:
//   - forward values bit-identical to g.stn.affineGrid / gridSample (every padding × alignCorners);
//   - tf.grad / tf.grads through the ops bit-identical to affineGridBackward / gridSampleBackward,
//     and central differences of the composed op (theta → grid → sample) against tf.grad;
//   - tf.variableGrads and no tensor leaks; options passed through (mode only when given);
//   - argument validation (ranks, dtypes, shapes, foreign values, a closed instance);
//   - a tiny TF.js model (localisation net → affineGrid → gridSample → classifier, weights as
//     tf.variable, matMul by hand) trained with optimizer.minimize on rotated real digits.
// TF.js here: @tensorflow/tfjs-core + @tensorflow/tfjs-backend-cpu, and @tensorflow/tfjs-layers only
// because tfjs-core's Node bundle registers no gradients for its own ops (matMul, relu, ...):
// tfjs-layers' bundle registers them all (the umbrella @tensorflow/tfjs does the same).
// Run: node --test tests/tfjs.test.js
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // side effect: registers the gradients of tfjs-core's kernels
import { load, loadMnist } from '../src/js/index.js';
import { tfjsOps } from '../src/js/tfjs.js';
import { rng, ROOT } from './util.js';

tf.enableProdMode(); // no "install tfjs-node" banner
await tf.setBackend('cpu');
await tf.ready();

const g = await load();
const ops = tfjsOps(g, tf);
const PADS = ['zeros', 'border', 'reflection'];
const COMBOS = PADS.flatMap((padding) => [false, true].map((alignCorners) => ({ padding, alignCorners })));
const uniform = (r, n, lo, hi) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
const t4 = (a, s) => tf.tensor(a, s, 'float32');

/** A random rotation/scale/shift per item, N×2×3. */
function randomTheta(r, N) {
  const th = new Float32Array(N * 6);
  for (let i = 0; i < N; i++) {
    const a = (r() - 0.5) * 2, s = 0.7 + 0.6 * r();
    th.set([s * Math.cos(a), -s * Math.sin(a), (r() - 0.5) * 0.4, s * Math.sin(a), s * Math.cos(a), (r() - 0.5) * 0.4], i * 6);
  }
  return th;
}

test('forward: ops.affineGrid / ops.gridSample equal g.stn bit for bit (every padding × alignCorners)', () => {
  const r = rng(11);
  const [N, C, H, W, Ho, Wo] = [3, 2, 7, 9, 5, 6];
  const theta = randomTheta(r, N);
  const input = uniform(r, N * C * H * W, -1, 1);
  const grid = uniform(r, N * Ho * Wo * 2, -1.3, 1.3); // partly outside: padding matters
  for (const o of COMBOS) {
    tf.tidy(() => {
      const gt = ops.affineGrid(t4(theta, [N, 2, 3]), [N, C, Ho, Wo], { alignCorners: o.alignCorners });
      assert.deepEqual(gt.shape, [N, Ho, Wo, 2]);
      assert.equal(gt.dtype, 'float32');
      assert.deepEqual(gt.dataSync(), g.stn.affineGrid(theta, [N, C, Ho, Wo], { alignCorners: o.alignCorners }));
      const out = ops.gridSample(t4(input, [N, C, H, W]), t4(grid, [N, Ho, Wo, 2]), o);
      assert.deepEqual(out.shape, [N, C, Ho, Wo]);
      assert.deepEqual(out.dataSync(), g.stn.gridSample(input, [N, C, H, W], grid, [Ho, Wo], o), JSON.stringify(o));
    });
  }
  // Defaults are g.stn's (zeros, alignCorners false).
  tf.tidy(() => {
    const out = ops.gridSample(t4(input, [N, C, H, W]), t4(grid, [N, Ho, Wo, 2]));
    assert.deepEqual(out.dataSync(), g.stn.gridSample(input, [N, C, H, W], grid, [Ho, Wo]));
  });
});

test('tf.grads through the ops equal gridSampleBackward / affineGridBackward bit for bit', () => {
  const r = rng(12);
  const [N, C, H, W, Ho, Wo] = [2, 3, 8, 6, 5, 7];
  const input = uniform(r, N * C * H * W, -1, 1);
  const grid = uniform(r, N * Ho * Wo * 2, -1.2, 1.2);
  const theta = randomTheta(r, N);
  const wOut = uniform(r, N * C * Ho * Wo, -1, 1); // d loss / d output for loss = sum(out * wOut)
  const wGrid = uniform(r, N * Ho * Wo * 2, -1, 1);
  for (const o of COMBOS) {
    tf.tidy(() => {
      const w = t4(wOut, [N, C, Ho, Wo]);
      const [dx, dg] = tf.grads((x, gr) => tf.sum(tf.mul(ops.gridSample(x, gr, o), w)))([t4(input, [N, C, H, W]), t4(grid, [N, Ho, Wo, 2])]);
      const want = g.stn.gridSampleBackward(wOut, input, [N, C, H, W], grid, [Ho, Wo], o);
      assert.deepEqual(dx.shape, [N, C, H, W]);
      assert.deepEqual(dg.shape, [N, Ho, Wo, 2]);
      assert.deepEqual(dx.dataSync(), want.dInput, `dInput ${JSON.stringify(o)}`);
      assert.deepEqual(dg.dataSync(), want.dGrid, `dGrid ${JSON.stringify(o)}`);

      const wg = t4(wGrid, [N, Ho, Wo, 2]);
      const opts = { alignCorners: o.alignCorners };
      const dth = tf.grad((th) => tf.sum(tf.mul(ops.affineGrid(th, [N, C, Ho, Wo], opts), wg)))(t4(theta, [N, 2, 3]));
      assert.deepEqual(dth.shape, [N, 2, 3]);
      assert.deepEqual(dth.dataSync(), g.stn.affineGridBackward(wGrid, [N, C, Ho, Wo], opts), `dTheta ${JSON.stringify(opts)}`);
    });
  }
});

/** Pixel coordinate → normalised coordinate (torch's convention for align_corners). */
const normalize = (u, size, align) => (align ? (2 * u) / (size - 1) - 1 : (2 * u + 1) / size - 1);

/**
 * theta for an output Ho×Wo whose pixel (i, j) samples the input near pixel (i + v0, j + u0),
 * turned by a small shear: with u0, v0 ≡ 0.25 (mod 0.5), every sample point stays ≥ 0.2 px from
 * the bilinear kinks (integer coordinates) and the reflection lines (half-integers), also after the
 * finite-difference steps, so central differences are exact up to rounding.
 */
function kinkFreeTheta(N, [H, W], [Ho, Wo], align) {
  const th = new Float32Array(N * 6);
  for (let n = 0; n < N; n++) {
    const u0 = n % 2 ? 0.25 : -1.25, v0 = n % 2 ? -0.75 : 0.75, shear = n % 2 ? -0.008 : 0.01;
    const ax = (normalize(1, W, align) - normalize(0, W, align)) / (normalize(1, Wo, align) - normalize(0, Wo, align));
    const ay = (normalize(1, H, align) - normalize(0, H, align)) / (normalize(1, Ho, align) - normalize(0, Ho, align));
    const bx = normalize(u0, W, align) - ax * normalize(0, Wo, align);
    const by = normalize(v0, H, align) - ay * normalize(0, Ho, align);
    th.set([ax, shear, bx, -shear, ay, by], n * 6);
  }
  return th;
}

test('finite differences of the composed op sum(gridSample(input, affineGrid(theta)) · w) match tf.grads', (t) => {
  const r = rng(13);
  const [N, C, H, W] = [2, 2, 7, 6];
  const [Ho, Wo] = [H + 2, W + 3]; // sample points outside the image on every side: the padding counts
  const input = uniform(r, N * C * H * W, -1, 1);
  const wOut = uniform(r, N * C * Ho * Wo, -1, 1);
  for (const o of COMBOS) {
    const theta = kinkFreeTheta(N, [H, W], [Ho, Wo], o.alignCorners);
    const grid = g.stn.affineGrid(theta, [N, C, Ho, Wo], { alignCorners: o.alignCorners });
    for (let k = 0; k < grid.length; k++) { // the premise: every point ≥ 0.2 px from a multiple of 0.5 px
      const size = k % 2 ? H : W;
      const u = o.alignCorners ? ((grid[k] + 1) / 2) * (size - 1) : ((grid[k] + 1) * size - 1) / 2;
      assert.ok(Math.abs(2 * u - Math.round(2 * u)) / 2 >= 0.2, `sample point ${u} too near a kink`);
    }
    const w = t4(wOut, [N, C, Ho, Wo]);
    const sample = (x, th) => ops.gridSample(x, ops.affineGrid(th, [N, C, Ho, Wo], { alignCorners: o.alignCorners }), o);
    const f = (x, th) => tf.sum(tf.mul(sample(x, th), w));
    // The loss from the op's float32 output, summed in float64.
    const value = (x, th) => tf.tidy(() => {
      const out = sample(t4(x, [N, C, H, W]), t4(th, [N, 2, 3])).dataSync();
      let s = 0;
      for (let i = 0; i < out.length; i++) s += out[i] * wOut[i];
      return s;
    });
    const [dx, dth] = tf.grads(f)([t4(input, [N, C, H, W]), t4(theta, [N, 2, 3])]);
    const gTheta = dth.dataSync(), gInput = dx.dataSync();
    let worst = 0;
    const check = (what, i, analytic, plus, minus, h, tol) => {
      const fd = (plus - minus) / h;
      const err = Math.abs(fd - analytic) / Math.max(1, Math.abs(analytic));
      worst = Math.max(worst, err);
      assert.ok(err < tol, `${what}[${i}] ${JSON.stringify(o)}: tf.grad ${analytic}, finite difference ${fd}`);
    };
    for (let i = 0; i < theta.length; i++) {
      const p = theta.slice(), m = theta.slice();
      p[i] += 1e-2; m[i] -= 1e-2; // moves a sample point by ≤ 0.04 px: no kink crossed
      check('dTheta', i, gTheta[i], value(input, p), value(input, m), p[i] - m[i], 1e-3); // the float32 step actually taken
    }
    for (let i = 0; i < input.length; i += 7) {
      const p = input.slice(), m = input.slice();
      p[i] += 0.05; m[i] -= 0.05;
      check('dInput', i, gInput[i], value(p, theta), value(m, theta), p[i] - m[i], 1e-3);
    }
    t.diagnostic(`${JSON.stringify(o)}: worst relative error ${worst.toExponential(2)}`);
    tf.dispose([w, dx, dth]);
  }
});

test('tf.variableGrads through the transformer; no tensors leak', () => {
  const r = rng(14);
  const [N, C, H, W] = [2, 1, 6, 6];
  const before = tf.memory().numTensors;
  const img = t4(uniform(r, N * C * H * W, 0, 1), [N, C, H, W]);
  const thetaVar = tf.tidy(() => tf.variable(t4(randomTheta(r, N), [N, 2, 3]), true, 'tfjs_test_theta'));
  const inputVar = tf.tidy(() => tf.variable(img, true, 'tfjs_test_input'));
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(ops.gridSample(inputVar, ops.affineGrid(thetaVar, [N, C, 4, 5])))));
  assert.ok(Number.isFinite(value.dataSync()[0]));
  assert.deepEqual(Object.keys(grads).sort(), ['tfjs_test_input', 'tfjs_test_theta']);
  assert.deepEqual(grads.tfjs_test_theta.shape, [N, 2, 3]);
  assert.deepEqual(grads.tfjs_test_input.shape, [N, C, H, W]);
  assert.ok(grads.tfjs_test_theta.dataSync().some((x) => x !== 0));
  tf.dispose([value, ...Object.values(grads), thetaVar, inputVar, img]);
  // Forward and gradient calls inside tidy leave nothing behind.
  tf.tidy(() => {
    const x = t4(uniform(r, 2 * 3 * 5 * 5, 0, 1), [2, 3, 5, 5]);
    const th = t4(randomTheta(r, 2), [2, 2, 3]);
    tf.grads((a, b) => tf.sum(ops.gridSample(a, ops.affineGrid(b, [2, 3, 5, 5]))))([x, th]);
  });
  assert.equal(tf.memory().numTensors, before);
});

test('options: alignCorners/padding/mode go to g.stn as given, mode only when given', () => {
  const calls = [];
  const spy = {
    stn: Object.fromEntries(['affineGrid', 'affineGridBackward', 'gridSample', 'gridSampleBackward'].map((k) => [k, (...args) => {
      const opts = args[args.length - 1];
      calls.push([k, opts === undefined ? undefined : { ...opts }]);
      if (opts && 'mode' in opts) {
        const { mode, ...rest } = opts;
        args[args.length - 1] = rest; // the real g.stn may not know modes yet
      }
      return g.stn[k](...args);
    }])),
  };
  const sops = tfjsOps(spy, tf);
  const r = rng(15);
  tf.tidy(() => {
    const x = t4(uniform(r, 16, 0, 1), [1, 1, 4, 4]);
    const gr = t4(uniform(r, 18, -1, 1), [1, 3, 3, 2]);
    const th = t4(randomTheta(r, 1), [1, 2, 3]);
    const f = (opts) => tf.grads((a, b) => tf.sum(sops.gridSample(a, b, opts)))([x, gr]);
    calls.length = 0;
    f(undefined);
    assert.deepEqual(calls, [['gridSample', {}], ['gridSampleBackward', {}]]);
    calls.length = 0;
    f({ padding: 'border', mode: 'nearest', alignCorners: undefined });
    assert.deepEqual(calls, [['gridSample', { padding: 'border', mode: 'nearest' }], ['gridSampleBackward', { padding: 'border', mode: 'nearest' }]]);
    calls.length = 0;
    tf.grad((a) => tf.sum(sops.affineGrid(a, [1, 1, 3, 3], { alignCorners: true })))(th);
    assert.deepEqual(calls, [['affineGrid', { alignCorners: true }], ['affineGridBackward', { alignCorners: true }]]);
  });
});

test('mode: whatever g.stn does with it, the op does the same (values, gradients or the same error)', (t) => {
  const r = rng(16);
  const [N, C, H, W, Ho, Wo] = [2, 2, 6, 7, 4, 5];
  const input = uniform(r, N * C * H * W, -1, 1);
  const grid = uniform(r, N * Ho * Wo * 2, -1.1, 1.1);
  const dOut = uniform(r, N * C * Ho * Wo, -1, 1);
  for (const mode of ['bilinear', 'nearest', 'bicubic']) {
    const o = { mode, padding: 'border' };
    let want;
    try {
      want = g.stn.gridSample(input, [N, C, H, W], grid, [Ho, Wo], o);
    } catch (e) {
      t.diagnostic(`g.stn refuses mode '${mode}' (${e.constructor.name}: ${e.message}); so does the op`);
      assert.throws(() => tf.tidy(() => ops.gridSample(t4(input, [N, C, H, W]), t4(grid, [N, Ho, Wo, 2]), o)), { name: e.name, message: e.message });
      continue;
    }
    t.diagnostic(`g.stn has mode '${mode}'`);
    tf.tidy(() => {
      const x = t4(input, [N, C, H, W]), gr = t4(grid, [N, Ho, Wo, 2]);
      assert.deepEqual(ops.gridSample(x, gr, o).dataSync(), want);
      const [dx, dg] = tf.grads((a, b) => tf.sum(tf.mul(ops.gridSample(a, b, o), t4(dOut, [N, C, Ho, Wo]))))([x, gr]);
      const back = g.stn.gridSampleBackward(dOut, input, [N, C, H, W], grid, [Ho, Wo], o);
      assert.deepEqual(dx.dataSync(), back.dInput);
      assert.deepEqual(dg.dataSync(), back.dGrid);
    });
  }
});

test('argument validation: TypeError / RangeError naming the argument; the ops keep working', async () => {
  const before = tf.memory().numTensors;
  const x = t4(new Float32Array(2 * 1 * 4 * 4).fill(0.5), [2, 1, 4, 4]);
  const gr = t4(new Float32Array(2 * 3 * 3 * 2), [2, 3, 3, 2]);
  const th = t4(randomTheta(rng(17), 2), [2, 2, 3]);
  tf.tidy(() => {
  // tfjsOps(g, tf)
  assert.throws(() => tfjsOps(undefined, tf), { name: 'TypeError', message: /g must be an instance from glimpse-wasm's load\(\)/ });
  assert.throws(() => tfjsOps({ stn: {} }, tf), { name: 'TypeError', message: /g\.stn\.affineGrid is not a function/ });
  assert.throws(() => tfjsOps(g), { name: 'TypeError', message: /tf must be the @tensorflow\/tfjs/ });
  assert.throws(() => tfjsOps(g, { tensor() {} }), { name: 'TypeError', message: /tf\.customGrad is not a function/ });
  const fakeV3 = { customGrad() {}, tensor() {}, Tensor: class {}, version_core: '3.21.0' };
  assert.throws(() => tfjsOps(g, fakeV3), { name: 'RangeError', message: /version 4 is required.*3\.21\.0/ });
  // affineGrid
  const size = [2, 1, 3, 3];
  assert.throws(() => ops.affineGrid(new Float32Array(12), size), { name: 'TypeError', message: /affineGrid: theta must be a tf\.Tensor of shape \[N, 2, 3\], got a Float32Array/ });
  assert.throws(() => ops.affineGrid(tf.zeros([2, 6]), size), { name: 'RangeError', message: /theta must have rank 3 \(\[N, 2, 3\]\), got rank 2 with shape \[2, 6\]/ });
  assert.throws(() => ops.affineGrid(tf.zeros([2, 3, 2]), size), { name: 'RangeError', message: /theta must have shape \[N, 2, 3\], got \[2, 3, 2\]/ });
  assert.throws(() => ops.affineGrid(tf.zeros([2, 2, 3], 'int32'), size), { name: 'TypeError', message: /theta must have dtype float32, got int32/ });
  assert.throws(() => ops.affineGrid(th, [3, 1, 3, 3]), { name: 'RangeError', message: /size\[0\] \(N\) is 3 but theta holds 2 matrices/ });
  assert.throws(() => ops.affineGrid(th, [2, 3, 3]), { name: 'RangeError', message: /affineGrid size must have 4 entries/ });
  assert.throws(() => ops.affineGrid(th, [2, 1, 0, 3]), { name: 'RangeError', message: /size\[2\] \(H\)/ });
  assert.throws(() => ops.affineGrid(th, size, { padding: 'zeros' }), { name: 'RangeError', message: /affineGrid options has unknown option 'padding'/ });
  assert.throws(() => ops.affineGrid(th, size, { alignCorners: 'yes' }), { name: 'TypeError', message: /alignCorners must be a boolean/ });
  // gridSample
  assert.throws(() => ops.gridSample([[1]], gr), { name: 'TypeError', message: /input must be a tf\.Tensor of shape \[N, C, H, W\], got an array/ });
  assert.throws(() => ops.gridSample(tf.zeros([2, 4, 4]), gr), { name: 'RangeError', message: /input must have rank 4 \(\[N, C, H, W\]\), got rank 3/ });
  assert.throws(() => ops.gridSample(x, tf.zeros([2, 3, 3])), { name: 'RangeError', message: /grid must have rank 4 \(\[N, Ho, Wo, 2\]\)/ });
  assert.throws(() => ops.gridSample(x, tf.zeros([2, 3, 3, 3])), { name: 'RangeError', message: /grid must have shape \[N, Ho, Wo, 2\].*got \[2, 3, 3, 3\]/ });
  assert.throws(() => ops.gridSample(x, tf.zeros([1, 3, 3, 2])), { name: 'RangeError', message: /grid has 1 items.*but input has 2/ });
  assert.throws(() => ops.gridSample(tf.zeros([2, 1, 4, 4], 'int32'), gr), { name: 'TypeError', message: /input must have dtype float32, got int32/ });
  assert.throws(() => ops.gridSample(x, tf.zeros([2, 3, 3, 2], 'bool')), { name: 'TypeError', message: /grid must have dtype float32, got bool/ });
  assert.throws(() => ops.gridSample(tf.zeros([2, 1, 0, 4]), gr), { name: 'RangeError', message: /no empty dimension/ });
  assert.throws(() => ops.gridSample(x, gr, { padding: 'wrap' }), { name: 'RangeError', message: /padding must be one of/ });
  assert.throws(() => ops.gridSample(x, gr, { interpolation: 'nearest' }), { name: 'RangeError', message: /unknown option 'interpolation' \(known: alignCorners, padding, mode\)/ });
  assert.throws(() => ops.gridSample(x, gr, 'border'), { name: 'TypeError', message: /gridSample options must be an object/ });
  const gone = tf.zeros([2, 1, 4, 4]);
  gone.dispose();
  assert.throws(() => ops.gridSample(gone, gr), { name: 'TypeError', message: /input was disposed/ });
  // A tensor-like object that is no tf.Tensor of this module.
  const foreign = { shape: [2, 1, 4, 4], dtype: 'float32', dataSync: () => new Float32Array(32) };
  assert.throws(() => ops.gridSample(foreign, gr), { name: 'TypeError', message: /another copy of TensorFlow\.js/ });
  // The ops still work.
  assert.deepEqual(ops.gridSample(x, gr).shape, [2, 1, 3, 3]);
  });
  tf.dispose([x, gr, th]);
  assert.equal(tf.memory().numTensors, before);

  // A closed instance: refused by tfjsOps, and by ops made before it was closed.
  const g2 = await load({ threads: 1 });
  const ops2 = tfjsOps(g2, tf);
  const y = t4(new Float32Array(16), [1, 1, 4, 4]);
  const theta1 = t4(Float32Array.of(1, 0, 0, 0, 1, 0), [1, 2, 3]);
  const grid1 = ops2.affineGrid(theta1, [1, 1, 4, 4]);
  g2.close();
  assert.throws(() => tfjsOps(g2, tf), { name: 'TypeError', message: /tfjsOps: g can no longer be used \(.*closed/ });
  assert.throws(() => ops2.gridSample(y, grid1), { name: 'Error', message: /gridSample: .*closed/ });
  assert.throws(() => ops2.affineGrid(theta1, [1, 1, 4, 4]), { name: 'Error', message: /affineGrid: .*closed/ });
  tf.dispose([y, theta1, grid1]);
});

test('the module never imports TF.js (a peer the caller passes in); the main entry never mentions it', () => {
  const src = readFileSync(`${ROOT}src/js/tfjs.js`, 'utf8');
  const imports = [...src.matchAll(/^\s*import\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
  assert.deepEqual(imports, ['./validate.js']);
  assert.ok(!/import\s*\(/.test(src) && !/require\s*\(/.test(src), 'no dynamic import or require');
  for (const f of ['index.js', 'index.d.ts']) { // the main entry (code and types) needs no TF.js
    assert.ok(!/tfjs|tensorflow/i.test(readFileSync(`${ROOT}src/js/${f}`, 'utf8')), `src/js/${f} refers to TF.js`);
  }
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  assert.deepEqual(pkg.exports['./tfjs'], { types: './src/js/tfjs.d.ts', default: './src/js/tfjs.js' });
  assert.ok(!pkg.dependencies || !Object.keys(pkg.dependencies).some((d) => d.startsWith('@tensorflow/')), 'TF.js is no dependency');
  assert.match(pkg.peerDependencies['@tensorflow/tfjs-core'], /^\^4/);
  assert.equal(pkg.peerDependenciesMeta['@tensorflow/tfjs-core'].optional, true);
});

test('a TF.js model with a spatial transformer trains end to end on rotated digits (optimizer.minimize)', async (t) => {
  const { train, test: testSet } = await loadMnist();
  const KIND = 'R'; // rotated ±90°, 28×28
  const S = g.distortions[KIND].side, OUT = 14; // the transformer samples a 14×14 glimpse
  const NTRAIN = 3000, NTEST = 1000, B = 64, STEPS = 250;
  const before0 = tf.memory().numTensors;
  const V = (make) => tf.tidy(() => tf.variable(make()));
  const he = (shape, fanIn, seed) => V(() => tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed));
  const P = {
    // localisation net: 784 → 32 → 6, the last layer zero with the identity as bias (as in the STN paper)
    l1: he([S * S, 32], S * S, 1), lb1: V(() => tf.zeros([32])),
    l2: V(() => tf.zeros([32, 6])), lb2: V(() => tf.tensor1d([1, 0, 0, 0, 1, 0])),
    // classifier on the glimpse: 196 → 64 → 10
    c1: he([OUT * OUT, 64], OUT * OUT, 2), cb1: V(() => tf.zeros([64])),
    c2: he([64, 10], 64, 3), cb2: V(() => tf.zeros([10])),
  };
  const forward = (x) => { // x: n×1×S×S (NCHW)
    const n = x.shape[0];
    const h = tf.relu(tf.add(tf.matMul(tf.reshape(x, [n, S * S]), P.l1), P.lb1));
    const theta = tf.reshape(tf.add(tf.matMul(h, P.l2), P.lb2), [n, 2, 3]);
    const glimpse = ops.gridSample(x, ops.affineGrid(theta, [n, 1, OUT, OUT])); // n×1×14×14
    const c = tf.relu(tf.add(tf.matMul(tf.reshape(glimpse, [n, OUT * OUT]), P.c1), P.cb1));
    return tf.add(tf.matMul(c, P.c2), P.cb2);
  };
  const testX = t4(g.distort(testSet.images.subarray(0, NTEST * 784), NTEST, KIND, { seed: 99 }).images, [NTEST, 1, S, S]);
  const accuracy = () => tf.tidy(() => {
    const pred = tf.argMax(forward(testX), 1).dataSync();
    let k = 0;
    for (let i = 0; i < NTEST; i++) k += pred[i] === testSet.labels[i];
    return k / NTEST;
  });
  const before = accuracy();
  const optimizer = tf.train.adam(3e-3);
  const r = rng(21);
  const losses = [];
  let perStep = null;
  const t0 = performance.now();
  for (let step = 0; step < STEPS; step++) {
    const raw = new Float32Array(B * 784), labels = new Int32Array(B);
    for (let i = 0; i < B; i++) {
      const j = Math.floor(r() * NTRAIN);
      raw.set(train.images.subarray(j * 784, (j + 1) * 784), i * 784);
      labels[i] = train.labels[j];
    }
    const images = g.distort(raw, B, KIND, { seed: 1000 + step }).images; // a fresh rotation every batch
    const loss = optimizer.minimize(() => tf.tidy(() => tf.losses.softmaxCrossEntropy(
      tf.oneHot(tf.tensor1d(labels, 'int32'), 10), forward(t4(images, [B, 1, S, S])))), true);
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    if (step === 1) perStep = tf.memory().numTensors;
    else if (step > 1) assert.equal(tf.memory().numTensors, perStep, `tensors leak at step ${step}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = accuracy();
  const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
  const locMoved = Math.max(...P.l2.dataSync().map(Math.abs)); // zero at start: only the transformer's gradients move it
  t.diagnostic(`test accuracy on ${NTEST} rotated digits: ${(100 * before).toFixed(1)} % before, ${(100 * after).toFixed(1)} % after ` +
    `${STEPS} steps of ${B} (${seconds.toFixed(1)} s, ${(STEPS * B / seconds).toFixed(0)} images/s); ` +
    `loss ${mean(losses.slice(0, 10)).toFixed(3)} → ${mean(losses.slice(-10)).toFixed(3)}; max |localisation last-layer weight| ${locMoved.toExponential(2)}`);
  assert.ok(before < 0.25, `an untrained model is near chance, got ${before}`);
  assert.ok(after > 0.6 && after - before > 0.4, `accuracy should rise clearly: ${before} → ${after}`);
  assert.ok(mean(losses.slice(-10)) < 0.6 * mean(losses.slice(0, 10)), 'the loss falls');
  assert.ok(locMoved > 1e-3, 'gradients reach the localisation net through affineGrid and gridSample');
  tf.dispose([testX, ...Object.values(P)]);
  optimizer.dispose();
  assert.equal(tf.memory().numTensors, before0);
});
