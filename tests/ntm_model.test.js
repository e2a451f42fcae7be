// The NTM model (src/ntm_model.c, src/js/ntm_model.js): whole-model gradient against finite
// differences, save/load, determinism, the copy task's shapes, validation, refusal of a
// non-finite step, and a short training run that must learn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadBuilds, rng, ROOT, ntmGradCheck } from './util.js';

const builds = await loadBuilds();
const [, gs] = builds[0];

const SMALL = { bits: 3, memory: [8, 5], controller: 12, seed: 7 };
const NAMES = ['Wx', 'Wh', 'b', 'Wp', 'bp', 'Wo', 'bo', 'r0', 'w0'];

function randomBits(seed, n) {
  const r = rng(seed);
  return new Float32Array(n).map(() => (r() < 0.5 ? 1 : 0));
}

for (const [name, g] of builds) {
  for (const variant of [
    // paramClip 1: some head parameters are clipped, so the clamp's zero gradient is checked too
    { label: 'LSTM, 1+1 heads, paramClip 1', opts: { paramClip: 1 } },
    { label: 'feed-forward, 1+1 heads', opts: { controllerType: 'feedforward' } },
    { label: 'LSTM, 2 read + 2 write heads, shift 2', opts: { heads: 2, shift: 2 } },
  ]) {
    test(`${name}: whole-model gradient matches central differences (${variant.label})`, (t) => {
      const m = g.createNTM({ ...SMALL, ...variant.opts, learningRate: 1e-2 });
      // A few steps first, so the memory, the initial state and every head matter to the loss.
      for (let i = 0; i < 30; i++) m.trainCopy({ batch: 8, minLength: 1, maxLength: 4 });
      const B = 2, L = 3;
      const seq = randomBits(11, B * L * m.bits);
      // the NTM gradient check's setup and criterion: tests/util.js ntmGradCheck
      const { entries, worst } = ntmGradCheck(g, m, () => m._lossGrad(seq, B, L));
      NAMES.forEach((name, ti) => {
        const mine = entries.filter((e) => e.tensor === ti);
        if (mine.length) t.diagnostic(`${name}: worst |fd − grad| / (1e-4 + 0.02·|fd|) = ${Math.max(...mine.map((e) => e.error)).toFixed(3)}`);
      });
      const worstAt = `${NAMES[worst.tensor]}[${worst.k}]: finite difference ${worst.fd}, gradient ${worst.analytic}`;
      assert.ok(worst.error < 1, `gradient mismatch ${worst.error.toFixed(2)}× the tolerance at ${worstAt}`);
      m.free();
    });
  }
}

test('copy(): shapes, probabilities and normalised weightings', () => {
  const m = gs.createNTM({ seed: 2 });
  const L = 7;
  const seq = randomBits(3, L * 8);
  const r = m.copy(seq, L);
  const T = 2 * L + 1;
  assert.equal(r.steps, T);
  assert.equal(r.output.length, L * 8);
  assert.equal(r.readWeights.length, T * 128);
  assert.equal(r.writeWeights.length, T * 128);
  assert.equal(r.memory.length, T * 128 * 20);
  assert.ok(r.output.every((p) => p >= 0 && p <= 1));
  for (const w of [r.readWeights, r.writeWeights]) {
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let i = 0; i < 128; i++) s += w[t * 128 + i];
      assert.ok(Math.abs(s - 1) < 1e-4, `weighting of step ${t} sums to ${s}`);
    }
  }
  assert.ok(Number.isFinite(r.loss) && r.bitErrors >= 0 && r.bitErrors <= L * 8);
  const nt = m.copy(seq, L, { traces: false });
  assert.equal(nt.readWeights, null);
  assert.deepEqual(nt.output, r.output);
  // Two read / two write heads: traces are steps×heads×R.
  const m2 = gs.createNTM({ seed: 2, heads: { read: 2, write: 2 }, memory: [16, 4] });
  const r2 = m2.copy(randomBits(4, 3 * 8), 3);
  assert.equal(r2.readWeights.length, 7 * 2 * 16);
  assert.equal(r2.writeWeights.length, 7 * 2 * 16);
  // Longer than the memory's 16 rows: it runs, and says the sequence cannot fit
  assert.equal(r.warning, '');
  const long = m2.copy(randomBits(5, 17 * 8), 17, { traces: false });
  assert.match(long.warning, /length 17 is longer than the memory's 16 rows/);
  assert.equal(m2.copy(randomBits(5, 16 * 8), 16, { traces: false }).warning, '');
  assert.match(m2.evaluateCopy({ minLength: 10, maxLength: 20, count: 2, batch: 2 }).warning, /length 20 .* 16 rows/);
  assert.equal(m2.evaluateCopy({ maxLength: 16, count: 2, batch: 2 }).warning, '');
  m.free();
  m2.free();
});

test('save → load round trip is bit-identical; float16 is close; malformed bytes throw', () => {
  const m = gs.createNTM({ ...SMALL, controllerType: 'feedforward', heads: { read: 1, write: 2 } });
  for (let i = 0; i < 5; i++) m.trainCopy({ batch: 4, maxLength: 5 });
  const bytes = m.save();
  const m2 = gs.loadNTM(bytes);
  assert.deepEqual(m2.config, m.config);
  assert.deepEqual(m2.save(), bytes);
  const seq = randomBits(5, 6 * 3);
  const a = m.copy(seq, 6), b = m2.copy(seq, 6);
  for (const k of ['output', 'readWeights', 'writeWeights', 'memory']) assert.deepEqual(b[k], a[k], k);
  const h = gs.loadNTM(m.save({ float16: true }));
  const c = h.copy(seq, 6);
  let d = 0;
  for (let i = 0; i < a.output.length; i++) d = Math.max(d, Math.abs(a.output[i] - c.output[i]));
  assert.ok(d < 0.02, `float16 weights change the output by ${d}`);
  const bad = bytes.slice();
  bad[bad.length - 20] ^= 0xff;
  assert.throws(() => gs.loadNTM(bad), /checksum|CRC/i);
  assert.throws(() => gs.loadNTM(bytes.slice(0, 30)), Error);
  const stnKind = bytes.slice();
  stnKind[8] = 1; // the kind word: GL_KIND_STN
  assert.throws(() => gs.loadNTM(stnKind), /kind|STN/);
  assert.throws(() => gs.loadNTM([1, 2, 3]), TypeError);
  for (const x of [m, m2, h]) x.free();
});

test('determinism: same seed, same numbers; another seed, other numbers', () => {
  const run = (seed) => {
    const m = gs.createNTM({ ...SMALL, seed });
    const out = [];
    for (let i = 0; i < 4; i++) out.push(m.trainCopy({ batch: 4, minLength: 2, maxLength: 6 }));
    out.push(m.evaluateCopy({ count: 16, seed: 3, maxLength: 6 }));
    const bytes = m.save();
    m.free();
    return { out, bytes };
  };
  const a = run(1), b = run(1), c = run(2);
  assert.deepEqual(a.out, b.out);
  assert.deepEqual(a.bytes, b.bytes);
  assert.notDeepEqual(a.bytes, c.bytes);
  // evaluateCopy draws from its own stream: it does not disturb training.
  const m = gs.createNTM({ ...SMALL, seed: 1 });
  m.evaluateCopy({ count: 8, seed: 5 });
  const first = m.trainCopy({ batch: 4, minLength: 2, maxLength: 6 });
  assert.deepEqual(first, a.out[0]);
  m.free();
});

test('SIMD and scalar builds agree', () => {
  const [[, s], [, c]] = builds;
  const ms = s.createNTM({ seed: 4 }), mc = c.createNTM({ seed: 4 });
  for (let i = 0; i < 3; i++) {
    const a = ms.trainCopy({ batch: 4, maxLength: 8 }), b = mc.trainCopy({ batch: 4, maxLength: 8 });
    assert.equal(a.length, b.length);
    assert.ok(Math.abs(a.loss - b.loss) < 1e-3 * Math.abs(b.loss), `step ${i}: loss ${a.loss} vs ${b.loss}`);
  }
  const seq = randomBits(6, 5 * 8);
  const x = ms.copy(seq, 5), y = mc.copy(seq, 5);
  let d = 0;
  for (let i = 0; i < x.output.length; i++) d = Math.max(d, Math.abs(x.output[i] - y.output[i]));
  assert.ok(d < 1e-3, `outputs differ by ${d}`);
  ms.free();
  mc.free();
});

test('validation: bad options and arguments throw TypeError/RangeError naming them; free() is final', () => {
  const g = gs;
  assert.throws(() => g.createNTM({ bits: 0 }), { name: 'RangeError', message: /bits/ });
  assert.throws(() => g.createNTM({ bits: 2.5 }), { name: 'RangeError', message: /bits/ });
  assert.throws(() => g.createNTM({ memory: 128 }), { name: 'TypeError', message: /memory/ });
  assert.throws(() => g.createNTM({ memory: [128] }), { name: 'RangeError', message: /memory/ });
  assert.throws(() => g.createNTM({ memory: [4, 20], shift: 2 }), { name: 'RangeError', message: /shift/ });
  assert.throws(() => g.createNTM({ controllerType: 'gru' }), { name: 'RangeError', message: /controllerType/ });
  assert.throws(() => g.createNTM({ heads: { read: 0 } }), { name: 'RangeError', message: /heads\.read/ });
  assert.throws(() => g.createNTM({ heads: 'two' }), { name: 'TypeError', message: /heads/ });
  assert.throws(() => g.createNTM({ learningRate: -1 }), { name: 'RangeError', message: /learningRate/ });
  assert.throws(() => g.createNTM({ seed: -1 }), { name: 'RangeError', message: /seed/ });
  assert.throws(() => g.createNTM({ learnInit: 1 }), { name: 'TypeError', message: /learnInit/ });
  assert.throws(() => g.createNTM({ colour: 1 }), { name: 'RangeError', message: /colour/ });
  assert.throws(() => g.createNTM(5), { name: 'TypeError', message: /options/ });
  const m = g.createNTM({ ...SMALL });
  assert.throws(() => m.trainCopy({ batch: 0 }), { name: 'RangeError', message: /batch/ });
  assert.throws(() => m.trainCopy({ minLength: 5, maxLength: 3 }), { name: 'RangeError', message: /maxLength/ });
  assert.throws(() => m.trainCopy({ maxLength: '20' }), { name: 'TypeError', message: /maxLength/ });
  assert.throws(() => m.trainCopy({ lengths: 3 }), { name: 'RangeError', message: /lengths/ });
  assert.throws(() => m.copy(new Float32Array(6), 3), { name: 'RangeError', message: /sequence/ });
  assert.throws(() => m.copy([0, 1, 0], 1), { name: 'TypeError', message: /sequence/ });
  assert.throws(() => m.copy(new Float32Array(3), 0), { name: 'RangeError', message: /length/ });
  assert.throws(() => m.copy(Float32Array.of(0, 2, 1), 1), { name: 'RangeError', message: /sequence\[1\]/ });
  assert.throws(() => m.copy(Float32Array.of(0, NaN, 1), 1), { name: 'RangeError', message: /sequence\[1\]/ });
  assert.throws(() => m.evaluateCopy({ count: 0 }), { name: 'RangeError', message: /count/ });
  assert.throws(() => { m.learningRate = 0; }, { name: 'RangeError', message: /learningRate/ });
  // Too long for the activation memory: a clear RangeError, and the model stays usable.
  const big = g.createNTM({ memory: [512, 64] });
  assert.throws(() => big.copy(new Float32Array(4000 * 8), 4000), { name: 'RangeError', message: /limit/ });
  assert.equal(big.copy(new Float32Array(2 * 8), 2).output.length, 16);
  big.free();
  m.free();
  m.free(); // idempotent
  assert.throws(() => m.trainCopy(), /freed/);
  assert.throws(() => m.copy(new Float32Array(3), 1), /freed/);
  assert.throws(() => m.save(), /freed/);
});

test('a non-finite loss refuses the step and leaves the weights unchanged', () => {
  const m = gs.createNTM({ ...SMALL });
  const { ptr, tensors } = m._params();
  const core = gs._core;
  const at = (ptr >> 2) + tensors[6].offset; // an output bias: every output logit becomes NaN
  core.f32[at] = NaN;
  const snapshot = core.f32.slice(ptr >> 2, (ptr >> 2) + tensors[8].offset + tensors[8].length);
  assert.throws(() => m.trainCopy({ batch: 4 }), { name: 'Error', message: /not finite.*unchanged/ });
  const after = core.f32.slice(ptr >> 2, (ptr >> 2) + snapshot.length);
  assert.ok(after.every((x, i) => Object.is(x, snapshot[i])), 'weights changed');
  assert.throws(() => gs.loadNTM(m.save()), /finite/i); // a NaN saved is refused on load
  m.free();
});

test('training learns: the copy loss falls clearly within several hundred steps', (t) => {
  const m = gs.createNTM({ bits: 4, memory: [16, 8], controller: 32, learningRate: 1e-2, seed: 1 });
  const untrained = m.evaluateCopy({ count: 256, maxLength: 5, seed: 9 });
  const losses = [];
  // 800 steps: at 400 the ratio below was 0.07-0.64 over seeds 1-8 (it depends on when the model
  // finds the copy algorithm, so on the data drawn), at 800 at most 0.39 (measured, old and new data streams).
  for (let i = 0; i < 800; i++) losses.push(m.trainCopy({ batch: 16, minLength: 1, maxLength: 5 }).loss);
  const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
  const first = mean(losses.slice(0, 50)), last = mean(losses.slice(-50));
  const trained = m.evaluateCopy({ count: 256, maxLength: 5, seed: 9 });
  t.diagnostic(`loss (bits/sequence) first 50 steps ${first.toFixed(2)}, last 50 ${last.toFixed(2)}; held-out ${untrained.loss.toFixed(2)} → ${trained.loss.toFixed(2)}, wrong bits ${untrained.bitErrors.toFixed(2)} → ${trained.bitErrors.toFixed(2)}`);
  assert.ok(last < 0.6 * first, `loss fell from ${first} to ${last} only`);
  assert.ok(trained.bitErrors < 0.5 * untrained.bitErrors, `wrong bits ${untrained.bitErrors} → ${trained.bitErrors}`);
  m.free();
});

test('the shipped copy model (weights/ntm-copy.bin): under 0.1 wrong bits per sequence on lengths 1–20', async (t) => {
  const bytes = new Uint8Array(readFileSync(`${ROOT}weights/ntm-copy.bin`));
  const m = gs.loadNTM(bytes);
  assert.deepEqual(m.memory, [128, 20]);
  assert.equal(m.bits, 8);
  let sum = 0;
  for (let L = 1; L <= 20; L++) sum += m.evaluateCopy({ minLength: L, maxLength: L, count: 20, seed: 777 + L }).bitErrors;
  const avg = sum / 20;
  const long = m.evaluateCopy({ minLength: 50, maxLength: 50, count: 8, seed: 50 }).bitErrors;
  t.diagnostic(`wrong bits per sequence: ${avg.toFixed(4)} (lengths 1-20, 20 fresh sequences each), ${long.toFixed(2)} at length 50`);
  assert.ok(avg < 0.1, `${avg} wrong bits per sequence`);
  // The trace the page animates: a length-10 sequence is copied exactly.
  const seq = randomBits(42, 10 * 8);
  const r = m.copy(seq, 10);
  assert.equal(r.bitErrors, 0);
  if (typeof gs.pretrained === 'function') {
    const p = await gs.pretrained('ntm-copy');
    assert.deepEqual(p.copy(seq, 10).output, r.output);
    p.free();
  }
  m.free();
});
