// Threads (load({ threads })): the threaded SIMD build on a shared memory with worker_threads.
//  - results never depend on the thread count: every model's training steps (with dropout,
//    stochastic binarisation, several heads) and inference, and every parallel kernel, bit for
//    bit with 1, 2 and 3 threads (3: shards and chunks do not divide evenly);
//  - the pool's static partitioning (task t on worker t % threads), start/close cycles, a trapping
//    worker surfacing as an Error with the instance refused afterwards, and a Node process exiting
//    with or without g.close();
//  - load()'s threads option: 'auto', explicit counts, the scalar build's reason, bad values.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { load, loadMnist } from '../src/js/index.js';
import { ROOT, loadTestBuild, rng, uniform } from './util.js';

const mnist = await loadMnist();
const COUNTS = [1, 2, 3];
const bitsOf = (a) => (a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : a);

function sameBits(a, b, what) {
  const x = bitsOf(a), y = bitsOf(b);
  assert.equal(x.length, y.length, `${what}: length`);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) assert.fail(`${what}: differs at [${i}]: ${a[i]} vs ${b[i]}`);
  }
}

/** run(g) with 1, 2 and 3 threads; every result field must be bit-identical to the 1-thread one. */
async function acrossThreads(t, run) {
  const results = [];
  for (const threads of COUNTS) {
    const g = await load({ threads });
    assert.equal(g.threads, threads, `load({ threads: ${threads} }) gave ${g.threads}: ${g.threadsReason}`);
    try {
      results.push(run(g));
    } finally {
      g.close();
    }
  }
  const [ref, ...rest] = results;
  rest.forEach((r, k) => {
    for (const key of Object.keys(ref)) sameBits(r[key], ref[key], `${key}, ${COUNTS[k + 1]} threads vs 1`);
  });
  t.diagnostic(`${Object.keys(ref).join(', ')}: bit-identical with ${COUNTS.join(', ')} threads`);
}

const digits = (n, from = 0) => mnist.train.images.slice(from * 784, (from + n) * 784);
const labelsOf = (n, from = 0) => mnist.train.labels.slice(from, from + n);

test('load(): threads option, g.threads and g.threadsReason', async () => {
  const auto = await load();
  assert.equal(auto.threads, Math.min(availableParallelism(), 8), 'auto: min(cores, 8)');
  assert.equal(auto.threadsReason, '');
  auto.close();
  const one = await load({ threads: 1 });
  assert.deepEqual([one.threads, one.threadsReason, one.build], [1, '', 'simd']);
  one.close();
  const two = await load({ threads: 2 });
  assert.deepEqual([two.threads, two.threadsReason, two.build], [2, '', 'simd-threads']);
  two.close();
  const scalar = await load({ simd: false, threads: 2 });
  assert.equal(scalar.threads, 1);
  assert.match(scalar.threadsReason, /scalar build/);
  scalar.close();
  for (const bad of ['2', null, {}, true]) await assert.rejects(load({ threads: bad }), { name: 'TypeError', message: /threads/ });
  for (const bad of [0, -1, 1.5, 17, NaN]) await assert.rejects(load({ threads: bad }), { name: 'RangeError', message: /threads/ });
});

test('STN training (dropout, SGD and Adam, all transforms) and inference are bit-identical with 1, 2 and 3 threads', async (t) => {
  const x = digits(45), y = labelsOf(45), probe = digits(37, 100);
  await acrossThreads(t, (g) => {
    const out = {};
    for (const [name, opts] of [['affine', {}], ['projective', { transform: 'projective', optimizer: 'adam' }], ['tps', { transform: 'tps' }], ['none', { transform: 'none' }]]) {
      const m = g.createSTN({ seed: 4, dropout: 0.5, ...opts });
      out[`${name} losses`] = Float32Array.from({ length: 3 }, () => m.trainBatch(x, y).loss);
      out[`${name} weights`] = m.save();
      out[`${name} logits`] = m.predict(probe).logits;
      out[`${name} transform`] = m.transform(probe).output;
      m.free();
    }
    return out;
  });
});

test('DRAW training (stochastic binarisation, ± attention) and inference are bit-identical with 1, 2 and 3 threads', async (t) => {
  const x = digits(21);
  await acrossThreads(t, (g) => {
    const out = {};
    for (const attention of [true, false]) {
      const m = g.createDRAW({ T: 4, hidden: 24, latent: 6, seed: 2, attention, binarize: 'stochastic' });
      out[`${attention} losses`] = Float32Array.from({ length: 3 }, () => m.trainBatch(x).loss);
      out[`${attention} weights`] = m.save();
      out[`${attention} bound`] = Float32Array.of(m.loss(digits(35, 50), { seed: 3 }).loss);
      out[`${attention} generate`] = m.generate({ count: 19, seed: 5 }).canvases;
      out[`${attention} reconstruct`] = m.reconstruct(digits(17, 90), { seed: 6 }).canvases;
      m.free();
    }
    return out;
  });
});

test('NTM training (LSTM with 2+2 heads, feed-forward) and evaluation are bit-identical with 1, 2 and 3 threads', async (t) => {
  await acrossThreads(t, (g) => {
    const out = {};
    for (const [name, opts] of [['lstm', { heads: 2 }], ['ff', { controllerType: 'feedforward' }]]) {
      const m = g.createNTM({ bits: 5, memory: [24, 8], controller: 32, seed: 3, ...opts });
      out[`${name} losses`] = Float32Array.from({ length: 3 }, () => m.trainCopy({ batch: 11, maxLength: 6 }).loss);
      out[`${name} weights`] = m.save();
      const e = m.evaluateCopy({ count: 41, batch: 6, maxLength: 9, seed: 4 });
      out[`${name} eval`] = Float32Array.of(e.loss, e.bitErrors);
      out[`${name} copy`] = m.copy(new Float32Array(7 * 5).map((_, i) => (i * 7) % 3 === 0), 7).memory;
      m.free();
    }
    return out;
  });
});

test('NTM tasks (repeat copy, recall with 2+1 heads, sort with a feed-forward 4+4-head controller, N-grams, the LSTM baseline): training, evaluation and runs are bit-identical with 1, 2 and 3 threads', async (t) => {
  const cases = [
    ['repeat-copy', { bits: 3 }, { maxLength: 3, maxRepeats: 3 }],
    ['recall', { bits: 3, heads: { read: 2, write: 1 } }, { maxItems: 4, itemLength: 2 }],
    ['sort', { bits: 3, controllerType: 'feedforward', heads: 4 }, { length: 6, outputLength: 4 }],
    ['ngrams', {}, { length: 40 }],
    ['copy', { bits: 4, architecture: 'lstm' }, { maxLength: 6 }],
  ];
  await acrossThreads(t, (g) => {
    const out = {};
    for (const [task, opts, topts] of cases) {
      const name = `${task}${opts.architecture ? ' lstm' : ''}`;
      const m = g.createNTM({ memory: [16, 6], controller: 24, seed: 3, task, ...opts });
      out[`${name} losses`] = Float32Array.from({ length: 3 }, () => m.trainTask({ batch: 11, ...topts }).loss);
      out[`${name} weights`] = m.save();
      const e = m.evaluateTask({ count: 23, batch: 5, seed: 4, ...topts });
      out[`${name} eval`] = Float32Array.of(e.loss, e.bitErrorsPerSequence, e.wrongSequences, e.bayesLoss ?? 0);
      const r = m.runTask({ seed: 6, ...topts });
      out[`${name} run`] = r.output;
      if (r.memory) out[`${name} memory`] = r.memory;
      m.free();
    }
    return out;
  });
});

test('the parallel kernels (sampler, affine, projective and tps grids, DRAW read/write, NTM batched addressing) are bit-identical with 1, 2 and 3 threads', async (t) => {
  const r = rng(7);
  const N = 37, C = 3, H = 28, W = 28, Ho = 20, Wo = 24;
  const input = uniform(r, N * C * H * W, 0, 1), theta = uniform(r, N * 6, -1, 1);
  const dOut = uniform(r, N * C * Ho * Wo), dGridIn = uniform(r, N * Ho * Wo * 2);
  const dsize = [N, 5, 28, 28], params = uniform(r, N * 5, -1, 1), img = uniform(r, N * 784, 0, 1);
  const w = uniform(r, N * 25), dRead = uniform(r, N * 50), dCanvas = uniform(r, N * 784);
  const R = 16, Cm = 6, Hh = 2, S = 3;
  const mem = uniform(r, N * R * Cm), key = uniform(r, N * Hh * Cm), prev = uniform(r, N * Hh * R, 0, 1);
  const beta = uniform(r, N * Hh, 0, 5), gate = uniform(r, N * Hh, 0, 1), gamma = uniform(r, N * Hh, 1, 3);
  const shift = uniform(r, N * Hh * S, 0, 1), dw = uniform(r, N * Hh * R);
  await acrossThreads(t, (g) => {
    const grid = g.stn.affineGrid(theta, [N, C, Ho, Wo]);
    const out = { grid, dTheta: g.stn.affineGridBackward(dGridIn, [N, C, Ho, Wo]) };
    const hom = Float32Array.from({ length: N * 9 }, (_, i) => ((i % 9) % 4 === 0 ? 1 : 0) + 0.1 * theta[i % theta.length]); // near the identity
    out.projective = g.stn.projectiveGrid(hom, [N, C, Ho, Wo]);
    out.dHomography = g.stn.projectiveGridBackward(dGridIn, hom, [N, C, Ho, Wo]);
    const pts = Float32Array.from({ length: N * 32 }, (_, i) => theta[i % theta.length]);
    out.tps = g.stn.tpsGrid(pts, [N, C, Ho, Wo]);
    out.dPoints = g.stn.tpsGridBackward(dGridIn, pts, [N, C, Ho, Wo]);
    for (const padding of ['zeros', 'reflection']) {
      out[`sample ${padding}`] = g.stn.gridSample(input, [N, C, H, W], grid, [Ho, Wo], { padding });
      const b = g.stn.gridSampleBackward(dOut, input, [N, C, H, W], grid, [Ho, Wo], { padding });
      out[`dInput ${padding}`] = b.dInput;
      out[`dGrid ${padding}`] = b.dGrid;
    }
    out.read = g.draw.read(img, img, params, dsize);
    const rb = g.draw.readBackward(dRead, img, img, params, dsize);
    out.readDX = rb.dX;
    out.readDParams = rb.dParams;
    out.write = g.draw.write(w, params, dsize);
    out.writeDW = g.draw.writeBackward(dCanvas, w, params, dsize).dW;
    // the batched NTM addressing is a C entry point (g.ntm.address is one head): call it directly
    const core = g._core, x = core.x;
    const CF = x.gl_ntm_cache_floats(R);
    const res = core.scoped((s) => {
      const pw = s.zeros(N * Hh * R), pc = s.zeros(N * Hh * CF), pM = s.put(mem), pk = s.put(key), pb = s.put(beta);
      const pg = s.put(gate), ps = s.put(shift), pgm = s.put(gamma), pp = s.put(prev);
      core.check(x.gl_ntm_address_forward(pw, pc, pM, pk, pb, pg, ps, pgm, pp, N, Hh, R, Cm, S), 'address');
      const dM = s.zeros(N * R * Cm), dk = s.zeros(N * Hh * Cm), dprev = s.zeros(N * Hh * R), pdw = s.put(dw);
      const db = s.zeros(N * Hh), dg = s.zeros(N * Hh), ds = s.zeros(N * Hh * S), dgam = s.zeros(N * Hh);
      core.check(x.gl_ntm_address_backward(dM, dk, db, dg, ds, dgam, dprev, pdw, pc, pM, pk, pb, pg, ps, pgm, pp, N, Hh, R, Cm, S), 'address backward');
      return { w: s.get(pw, N * Hh * R), dM: s.get(dM, N * R * Cm), dk: s.get(dk, N * Hh * Cm), dprev: s.get(dprev, N * Hh * R) };
    });
    Object.assign(out, { ntmW: res.w, ntmDM: res.dM, ntmDk: res.dk, ntmDprev: res.dprev });
    return out;
  });
});

test('pool: task t runs on worker t % threads (static partitioning), start/close cycles', async () => {
  for (const threads of [2, 3]) {
    const g = await loadTestBuild('simd-threads', threads);
    const core = g._core;
    for (const ntasks of [1, 2, 5, 12]) {
      const who = core.scoped((s) => {
        const p = s.zeros(ntasks);
        core.check(core.x.gl_test_pool_record(p, ntasks), 'record');
        return core.i32.slice(p >> 2, (p >> 2) + ntasks);
      });
      assert.deepEqual(Array.from(who), Array.from({ length: ntasks }, (_, t) => (ntasks === 1 ? 0 : t % threads)), `${threads} threads, ${ntasks} tasks`);
    }
    g.close();
  }
  for (let i = 0; i < 8; i++) { // start, use and close repeatedly
    const g = await load({ threads: 2 });
    const m = g.createSTN({ seed: i });
    assert.ok(Number.isFinite(m.trainBatch(digits(8), labelsOf(8)).loss));
    g.close();
    g.close(); // idempotent
    assert.throws(() => m.predict(digits(1)), /closed/);
    assert.throws(() => g.createSTN(), /closed/);
  }
});

test('a trap in a worker thread surfaces as an Error, and the instance is refused afterwards instead of hanging', async () => {
  const g = await loadTestBuild('simd-threads', 3);
  const core = g._core;
  const m = g.createSTN({ seed: 1 });
  const t0 = performance.now();
  assert.throws(() => core.check(core.x.gl_test_pool_trap(2), 'trap'), /worker thread .* failed/);
  assert.ok(performance.now() - t0 < 5000, 'returned promptly');
  assert.throws(() => m.trainBatch(digits(8), labelsOf(8)), /failed/);
  assert.throws(() => g.stn.affineGrid(new Float32Array(6), [1, 1, 4, 4]), /failed/);
  g.close();
});

test('worker threads never keep a Node process alive: it exits with and without g.close()', () => {
  for (const close of [false, true]) {
    const code = `import { load } from ${JSON.stringify(`${ROOT}src/js/index.js`)};
      const g = await load({ threads: 2 });
      const m = g.createDRAW({ T: 3, hidden: 8, latent: 3, seed: 1 });
      m.trainBatch(new Float32Array(9 * 784).fill(0.7));
      ${close ? 'g.close();' : ''}
      console.log('done', g.threads);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `close: ${close}: status ${r.status ?? r.signal} (a hang ends with SIGTERM after 30 s)\n${r.stderr}`);
    assert.match(r.stdout, /done 2/);
  }
});
