// g.createDRAW / g.loadDRAW: the DRAW model (src/draw_model.c, src/js/draw_model.js) in both wasm builds.
//  - the whole model's loss gradient (BPTT through T steps, attention read/write, LSTMs, sampling, KL)
//    against central differences for a sample of every parameter tensor, with and without attention,
//    eps fixed through the test hook _lossGrad (gl_draw_loss_grad: same seed, same eps);
//  - save → load gives identical numbers; float16 storage is close; malformed bytes are refused;
//  - determinism (same seed, same data → the same losses and weights) and seed sensitivity;
//  - a non-finite step is refused with the weights unchanged; a high learning rate stays finite;
//  - generate / reconstruct shapes and ranges; argument validation;
//  - the shipped weights (weights/draw-mnist.bin) reach at most 95 nats on the test split;
//  - a short training run on real digits lowers the bound clearly.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { loadBuilds, rng, uniform, gradCheck, paramAccess } from './util.js';
import { loadMnist } from '../src/js/index.js';

let builds;
let mnist;

before(async () => {
  builds = await loadBuilds();
  mnist = await loadMnist();
});

const TINY = { T: 3, readN: 2, writeN: 3, hidden: 6, latent: 4, height: 6, width: 7, seed: 3 };

test('loss gradient matches central differences for every parameter tensor (both builds, ±attention)', (t) => {
  for (const [name, g] of builds) {
    for (const attention of [true, false]) {
      const m = g.createDRAW({ ...TINY, attention });
      const images = uniform(rng(5), 2 * 6 * 7, 0, 1);
      // Larger weights than the init, so the attention moves off its initial grid and the LSTMs saturate a little.
      const p = paramAccess(g, m);
      const n = p.length;
      for (let i = 0; i < n; i++) p.set(i, p.get(i) * 2);
      const loss = () => m._lossGrad(images, 11).loss;
      const grad = m._lossGrad(images, 11).grad;
      assert.equal(p.tensors.filter((x) => x.length > 0).length, attention ? 14 : 10, 'parameter tensors');
      const { entries, worst } = gradCheck(g, m, {
        loss,
        grad,
        pick: ({ offset, length }) => Array.from({ length: Math.min(5, length) }, (_, k) => offset + ((k * 7919) % length)),
        steps: [1e-2],
        error: (fd, a) => Math.abs(fd - a) / (2e-2 + 2e-2 * Math.abs(a)),
      });
      const worstAt = `tensor ${worst.tensor} (${worst.name}) [${worst.k}]: analytic ${worst.analytic}, finite difference ${worst.fd}`;
      t.diagnostic(`${name} attention=${attention}: ${entries.length} parameters, worst error ratio ${worst.error.toFixed(3)} (${worstAt})`);
      assert.ok(worst.error <= 1, `${name} attention=${attention}: gradient mismatch at ${worstAt} (ratio ${worst.error})`);
      // The whole gradient at once: the directional derivative along a random ±1 direction over every
      // parameter (a large signal, so float32 rounding of the loss matters little).
      const r = rng(17), dir = new Float32Array(n).map(() => (r() < 0.5 ? -1 : 1));
      let gv = 0;
      for (let i = 0; i < n; i++) gv += grad[i] * dir[i];
      const base = p.snapshot();
      const at = (eps) => {
        for (let i = 0; i < n; i++) p.set(i, base[i] + eps * dir[i]);
        return loss();
      };
      const hd = 1e-3, fdDir = (at(hd) - at(-hd)) / (2 * hd);
      p.restore(base);
      t.diagnostic(`${name} attention=${attention}: directional derivative ${gv.toFixed(4)} vs finite difference ${fdDir.toFixed(4)}`);
      assert.ok(Math.abs(fdDir - gv) <= 0.01 * Math.abs(gv) + 0.05, `${name} attention=${attention}: directional derivative ${gv} vs ${fdDir}`);
      m.free();
    }
  }
});

test('save → load round trip gives identical numbers; float16 is close; bad bytes are refused', () => {
  for (const [name, g] of builds) {
    const m = g.createDRAW({ T: 4, hidden: 16, latent: 5, seed: 9 });
    const images = mnist.test.images.subarray(0, 8 * 784);
    m.trainBatch(images);
    const bytes = m.save();
    const m2 = g.loadDRAW(bytes);
    assert.deepEqual(m2.config, m.config, `${name}: config`);
    assert.deepEqual(m2.save(), bytes, `${name}: re-saved bytes`);
    assert.deepEqual(m2.loss(images), m.loss(images), `${name}: loss after load`);
    assert.deepEqual(m2.generate({ count: 3, seed: 4 }), m.generate({ count: 3, seed: 4 }), `${name}: generate after load`);
    const h = m.save({ float16: true });
    assert.ok(h.length < bytes.length * 0.55, `${name}: float16 size ${h.length} vs ${bytes.length}`);
    const m3 = g.loadDRAW(h);
    const a = m.loss(images).loss, b = m3.loss(images).loss;
    assert.ok(Math.abs(a - b) < 0.01 * a, `${name}: float16 loss ${b} vs ${a}`);
    // malformed bytes: truncated, corrupted, wrong kind, wrong type
    assert.throws(() => g.loadDRAW(bytes.subarray(0, 20)), Error);
    const bad = bytes.slice();
    bad[bad.length - 10] ^= 0x40;
    assert.throws(() => g.loadDRAW(bad), /CRC|checksum/i);
    const stn = g.createSTN();
    assert.throws(() => g.loadDRAW(stn.save()), /kind|DRAW/);
    stn.free();
    assert.throws(() => g.loadDRAW([1, 2, 3]), TypeError);
    for (const x of [m, m2, m3]) x.free();
  }
});

test('same seed and data give the same numbers; another seed differs', () => {
  const [, g] = builds[0];
  const images = mnist.train.images.subarray(0, 16 * 784);
  const run = (seed, opts = {}) => {
    const m = g.createDRAW({ T: 4, hidden: 16, latent: 5, seed, ...opts });
    const losses = [];
    for (let k = 0; k < 3; k++) losses.push(m.trainBatch(images).loss);
    const bytes = m.save();
    m.free();
    return { losses, bytes };
  };
  const a = run(1), b = run(1), c = run(2);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.bytes, b.bytes);
  assert.notDeepEqual(a.losses, c.losses);
  const s1 = run(1, { binarize: 'stochastic' }), s2 = run(1, { binarize: 'stochastic' });
  assert.deepEqual(s1.losses, s2.losses, 'stochastic binarisation is seeded');
  assert.notDeepEqual(s1.losses, a.losses, 'stochastic binarisation differs from thresholding');
  // the SIMD and scalar builds agree closely (not bitwise: different summation order)
  const [, gs] = builds[1];
  const m1 = g.createDRAW({ T: 4, hidden: 16, latent: 5, seed: 1 }), m2 = gs.createDRAW({ T: 4, hidden: 16, latent: 5, seed: 1 });
  const l1 = m1.loss(images).loss, l2 = m2.loss(images).loss;
  assert.ok(Math.abs(l1 - l2) < 1e-4 * l1, `simd ${l1} vs scalar ${l2}`);
  m1.free();
  m2.free();
});

test('a non-finite step is refused with the weights unchanged; a high learning rate stays finite', () => {
  for (const [name, g] of builds) {
    const m = g.createDRAW({ T: 4, hidden: 16, latent: 5, seed: 2 });
    const images = mnist.train.images.subarray(0, 8 * 784);
    const before = m.save();
    const p = paramAccess(g, m);
    const saved = p.get(0);
    p.set(0, NaN);
    assert.throws(() => m.trainBatch(images), /not finite.*refused/);
    p.set(0, saved);
    assert.deepEqual(m.save(), before, `${name}: weights unchanged after a refused step`);
    m.free();
    // lr 0.05 and no clipping: steps are either finite or refused, never NaN weights.
    const w = g.createDRAW({ T: 8, hidden: 32, latent: 8, seed: 3, learningRate: 0.05, clipNorm: 0 });
    for (let k = 0; k < 15; k++) {
      const b = mnist.train.images.subarray(k * 16 * 784, (k + 1) * 16 * 784);
      try {
        assert.ok(Number.isFinite(w.trainBatch(b).loss));
      } catch (e) {
        assert.match(String(e.message), /refused/);
      }
    }
    const r = w.loss(mnist.test.images.subarray(0, 16 * 784));
    assert.ok(Number.isFinite(r.loss), `${name}: loss after high-lr training ${r.loss}`);
    const gen = w.generate({ count: 2 });
    assert.ok(gen.canvases.every((p) => p >= 0 && p <= 1), `${name}: canvases are probabilities`);
    w.free();
  }
});

test('generate and reconstruct: shapes, probabilities, attention in image units', () => {
  const [, g] = builds[0];
  const m = g.createDRAW({ T: 5, readN: 3, writeN: 4, hidden: 16, latent: 5, seed: 1 });
  const images = mnist.test.images.subarray(0, 3 * 784);
  const gen = m.generate({ count: 2, seed: 7 });
  assert.equal(gen.steps, 5);
  assert.equal(gen.canvases.length, 5 * 2 * 784);
  assert.equal(gen.write.length, 5 * 2 * 5);
  assert.deepEqual(m.generate({ count: 2, seed: 7 }), gen, 'seeded');
  assert.notDeepEqual(m.generate({ count: 2, seed: 8 }).canvases, gen.canvases);
  const rec = m.reconstruct(images);
  assert.equal(rec.canvases.length, 5 * 3 * 784);
  assert.equal(rec.read.length, 5 * 3 * 5);
  assert.equal(rec.write.length, 5 * 3 * 5);
  assert.ok(rec.canvases.every((p) => p >= 0 && p <= 1));
  for (const a of [rec.read, rec.write, gen.write]) {
    for (let k = 0; k < a.length; k += 5) {
      const [gX, gY, delta, s2, gamma] = a.subarray(k, k + 5);
      assert.ok(gX > -60 && gX < 90 && gY > -60 && gY < 90, `centre (${gX}, ${gY})`);
      assert.ok(delta > 0 && s2 > 0 && gamma > 0, `δ ${delta}, σ² ${s2}, γ ${gamma}`);
    }
  }
  // At the initial weights the first read is about centred with a grid spanning the image: gX ≈ gY ≈ 14.5.
  assert.ok(Math.abs(rec.read[0] - 14.5) < 3 && Math.abs(rec.read[1] - 14.5) < 3, `first read centre ${rec.read[0]}, ${rec.read[1]}`);
  // The last canvas of reconstruct is the decoder's output: loss.reconstruction is its BCE with the binarised image.
  let bce = 0;
  const last = rec.canvases.subarray(4 * 3 * 784, 5 * 3 * 784);
  for (let i = 0; i < last.length; i++) {
    const x = images[i] > 0.5 ? 1 : 0, p = Math.min(Math.max(last[i], 1e-7), 1 - 1e-7);
    bce -= x ? Math.log(p) : Math.log(1 - p);
  }
  const l = m.loss(images);
  assert.ok(Math.abs(bce / 3 - l.reconstruction) < 1e-3 * l.reconstruction, `BCE of the last canvas ${bce / 3} vs ${l.reconstruction}`);
  assert.ok(Math.abs(l.loss - l.reconstruction - l.kl) < 1e-3 * l.loss);
  m.free();
  const n = g.createDRAW({ T: 3, hidden: 8, latent: 3, attention: false });
  const rn = n.reconstruct(images);
  assert.equal(rn.read, null);
  assert.equal(rn.write, null);
  assert.equal(n.generate().write, null);
  assert.equal(n.generate().canvases.length, 3 * 784);
  n.free();
});

test('argument validation names the argument; the instance keeps working', () => {
  const [, g] = builds[0];
  assert.throws(() => g.createDRAW({ T: 0 }), { name: 'RangeError', message: /options\.T/ });
  assert.throws(() => g.createDRAW({ hidden: 2.5 }), { name: 'RangeError', message: /options\.hidden/ });
  assert.throws(() => g.createDRAW({ attention: 'yes' }), { name: 'TypeError', message: /options\.attention/ });
  assert.throws(() => g.createDRAW({ binarize: 'maybe' }), { name: 'RangeError', message: /options\.binarize/ });
  assert.throws(() => g.createDRAW({ learningRate: -1 }), { name: 'RangeError', message: /learningRate/ });
  assert.throws(() => g.createDRAW({ readn: 2 }), { name: 'RangeError', message: /unknown option 'readn'/ });
  assert.throws(() => g.createDRAW(5), TypeError);
  const m = g.createDRAW({ T: 2, hidden: 8, latent: 3 });
  assert.throws(() => m.trainBatch(new Float32Array(783)), { name: 'RangeError', message: /trainBatch images/ });
  assert.throws(() => m.trainBatch(new Float64Array(784)), { name: 'TypeError', message: /trainBatch images/ });
  assert.throws(() => m.trainBatch(new Float32Array(784).fill(1.5)), { name: 'RangeError', message: /images\[0\].*\[0, 1\]/ });
  assert.throws(() => m.loss(new Float32Array(784).fill(NaN)), { name: 'RangeError', message: /loss images\[0\]/ });
  assert.throws(() => m.loss(new Float32Array(784), { seed: -1 }), { name: 'RangeError', message: /loss options\.seed/ });
  assert.throws(() => m.generate({ count: 0 }), { name: 'RangeError', message: /generate options\.count/ });
  assert.throws(() => m.generate({ cout: 2 }), { name: 'RangeError', message: /unknown option 'cout'/ });
  assert.throws(() => m.reconstruct(new Float32Array(0)), { name: 'RangeError', message: /reconstruct images/ });
  assert.throws(() => { m.learningRate = 0; }, RangeError);
  m.learningRate = 5e-4;
  assert.equal(m.learningRate, 5e-4); // shown as the shortest decimal of the float32 the core stores
  assert.equal(g.loadDRAW(m.save()).config.learningRate, 5e-4);
  const r = m.trainBatch(mnist.train.images.subarray(0, 784)); // still usable after the errors
  assert.ok(Number.isFinite(r.loss));
  m.free();
  m.free(); // idempotent
  assert.throws(() => m.trainBatch(new Float32Array(784)), /freed/);
  assert.throws(() => m.save(), /freed/);
});

test("the shipped weights (g.pretrained('draw-mnist')) reach at most 95 nats on the test split", async (t) => {
  if (!existsSync(new URL('../weights/draw-mnist.bin', import.meta.url))) {
    t.skip('weights/draw-mnist.bin not present (node scripts/train_draw.js writes it)');
    return;
  }
  const [, g] = builds[0];
  const m = await g.pretrained('draw-mnist');
  assert.equal(m.attention, true);
  assert.deepEqual(
    [m.config.T, m.config.readN, m.config.writeN, m.config.hidden, m.config.latent],
    [g.defaults.DRAW.T, g.defaults.DRAW.readN, g.defaults.DRAW.writeN, g.defaults.DRAW.hidden, g.defaults.DRAW.latent],
    'the shipped model has the default settings',
  );
  const r = m.loss(mnist.test.images, { seed: 12345 });
  t.diagnostic(`test bound ${r.loss.toFixed(2)} nats (reconstruction ${r.reconstruction.toFixed(2)}, KL ${r.kl.toFixed(2)})`);
  assert.ok(r.loss <= 95, `test bound ${r.loss}`);
  const gen = m.generate({ count: 4, seed: 1 });
  const last = gen.canvases.subarray((m.steps - 1) * 4 * 784);
  let ink = 0;
  for (const p of last) ink += p;
  assert.ok(ink / 4 > 40 && ink / 4 < 400, `generated digits have some ink (${(ink / 4).toFixed(0)} per image)`);
  m.free();
});

test('a short training run on real digits lowers the bound clearly', (t) => {
  const [, g] = builds[0];
  const m = g.createDRAW({ T: 6, readN: 5, hidden: 48, latent: 10, seed: 1, learningRate: 3e-3 });
  const held = mnist.test.images.subarray(0, 200 * 784);
  const start = m.loss(held).loss;
  const t0 = Date.now();
  const B = 32;
  let steps = 0;
  for (; steps < 150; steps++) {
    const k = (steps * B) % (mnist.train.count - B);
    m.trainBatch(mnist.train.images.subarray(k * 784, (k + B) * 784));
  }
  const end = m.loss(held);
  t.diagnostic(`${steps} steps of batch ${B} in ${((Date.now() - t0) / 1000).toFixed(1)} s: test bound ${start.toFixed(1)} → ${end.loss.toFixed(1)} nats (reconstruction ${end.reconstruction.toFixed(1)}, KL ${end.kl.toFixed(1)})`);
  assert.ok(end.loss < start - 200, `bound ${start} → ${end.loss}`);
  assert.ok(end.loss < 200, `bound after training ${end.loss}`);
  assert.ok(end.kl > 1, `the latent is used (KL ${end.kl})`);
  m.free();
});
